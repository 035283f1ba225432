//! Tests only: see `tests/flows/`, where tickets, orders, expiration and
//! payments run together in-process against the real servers and the real
//! bus, and every flow is observed through their HTTP APIs.
