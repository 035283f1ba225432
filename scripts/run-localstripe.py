"""localstripe, the stand-in for Stripe, as `make up` and `make test` run it.

Usage: python run-localstripe.py PORT

Two changes bring it closer to the Stripe it stands in for:

- its store stays in memory: localstripe writes the whole store to one
  /tmp/localstripe.pickle after every write, a file shared by every
  instance on the machine, and a request then costs more the more it holds
  (36 ms instead of 2 past 2,000 objects);
- `POST /v1/payment_intents/{id}/confirm` takes `payment_method`, as
  Stripe's does: after a declined card, or a failed 3-D Secure check, the
  same PaymentIntent is confirmed again with another card. localstripe
  answers 500 "Not implemented" to it;
- Stripe's declined test cards (4000000000000002 and the like) are
  declined when charged, as at Stripe; localstripe declines them only when
  attached to a customer.
"""

import sys

from aiohttp import web
import localstripe.resources as resources
from localstripe.errors import UserError

resources.Store.dump_to_disk = lambda store: None

_confirm = resources.PaymentIntent._api_confirm.__func__


def confirm(cls, id, payment_method=None, **kwargs):
    if payment_method is not None:
        intent = cls._api_retrieve(id)
        if intent.status not in ('requires_payment_method', 'requires_confirmation'):
            raise UserError(400, 'This PaymentIntent cannot be confirmed now')
        resources.PaymentMethod._api_retrieve(payment_method)  # 404 if unknown
        intent.payment_method = payment_method
        intent.latest_charge = None
        intent.next_action = None
        intent._authentication_failed = False
    return _confirm(cls, id, **kwargs)


resources.PaymentIntent._api_confirm = classmethod(confirm)

_declined = resources.PaymentMethod._charging_is_declined
resources.PaymentMethod._charging_is_declined = (
    lambda method: _declined(method) or method._attaching_is_declined())
# The server binds its routes when imported: to the patched confirm, now.
resources.extra_apis[:] = [
    (method, url, resources.PaymentIntent._api_confirm
     if url == '/v1/payment_intents/{id}/confirm' else func)
    for method, url, func in resources.extra_apis
]
import localstripe.server as server  # noqa: E402

if __name__ == '__main__':
    web.run_app(server.app, host='127.0.0.1', port=int(sys.argv[1]), print=None)
