"""Signs schemathesis in to the platform it fuzzes (scripts/fuzz-api.sh).

Three accounts, each signed up once: an admin for what admins do, a
seller for changes to the listing and its own tickets, a buyer for
everything else. A seller cannot buy their own
ticket, so the stateful links (list a ticket, show it, order it, pay it,
cancel it) need both. Sign-out goes without a session: it would end the
one every later request uses.
"""

import os
import time
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


def wait_until_known(path, body, who):
    """Until the service behind `path` knows what `body` names: it answers
    404 until the event has reached its replica, then refuses `who`
    without changing anything."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        answer = requests.post(
            f"{BASE_URL}{path}", json=body, cookies={"session": SESSIONS[who]}, timeout=30
        )
        if answer.status_code != 404:
            return
        time.sleep(0.01)


@schemathesis.hook
def after_call(_context, case, response):
    """A ticket just listed reaches orders' replica, and an order just
    placed reaches payments', a few milliseconds later, through their
    events: until then ordering or paying them is a 404. So that the
    stateful links go on to order and pay, wait (with a deadline) until
    they are known, asking as the one who is refused without anything
    held or charged: the seller, for their own ticket and for the buyer's
    order."""
    operation = case.operation
    if operation.method.upper() != "POST" or response.status_code != 201:
        return
    if operation.path == "/api/tickets":
        wait_until_known("/api/orders", {"ticketId": response.json()["id"]}, "seller")
    elif operation.path == "/api/orders":
        body = {"orderId": response.json()["id"], "token": "pm_card_visa"}
        wait_until_known("/api/payments", body, "seller")
