"""Signs schemathesis in to the platform it fuzzes (scripts/fuzz-api.sh).

Three accounts, each signed up once: an admin for what admins do, a
seller for changes to the listing and its own tickets, a buyer for
everything else. A seller cannot buy their own
ticket, so the stateful links (list a ticket, show it, order it, pay it,
cancel it) need both. Sign-out goes without a session: it would end the
one every later request uses.
"""

import os
import uuid

import requests
import schemathesis

BASE_URL = os.environ["FUZZ_BASE_URL"]
# fuzz-api.sh starts the platform with this email among ADMIN_EMAILS.
ADMIN_EMAIL = os.environ["FUZZ_ADMIN_EMAIL"]


def sign_up(who):
    email = ADMIN_EMAIL if who == "admin" else f"fuzz-{who}-{uuid.uuid4().hex[:12]}@example.com"
    answer = requests.post(
        f"{BASE_URL}/api/users/signup",
        json={"email": email, "password": "a fuzzing password"},
        timeout=30,
    )
    answer.raise_for_status()
    return answer.cookies["session"]


# Before the run: fuzzing sign-up soon spends the address's attempts a minute.
SESSIONS = {who: sign_up(who) for who in ("seller", "buyer", "admin")}


def role(case, _context):
    operation = case.operation
    sells = operation.path.startswith("/api/tickets") and operation.method.upper() != "GET"
    if operation.path == "/api/users" or operation.path.endswith("/ban"):
        return "admin"
    return "seller" if sells or operation.path == "/api/tickets/mine" else "buyer"


@schemathesis.auth(cache_by_key=role, refresh_interval=None).skip_for(path="/api/users/signout")
class Session:
    def get(self, case, context):
        return SESSIONS[role(case, context)]

    def set(self, case, data, _context):
        case.cookies = {**(case.cookies or {}), "session": data}
