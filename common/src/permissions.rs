//! Each service's rights on the NATS server, derived from the event
//! catalogue ([`crate::events::ROUTES`]) and nothing else: a service may
//! publish only the subjects it owns and its consumers' dead letters, and
//! read only what it consumes, through its own durable consumers, each
//! bound to the one subject it filters on; plus the JetStream API calls
//! those need and replies on inboxes of its own. Pure: `ops nats-config`
//! renders these into the server's configuration, for any prefix and
//! stream.

use crate::dispatch::{consumer_name, dead_letter_subject};
use crate::events::{EVENT_SERVICES, ROUTES};

/// What one service's NATS user may publish and subscribe to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permissions {
    pub user: &'static str,
    pub publish: Vec<String>,
    pub subscribe: Vec<String>,
}

/// The rights of `service` on the stream `stream` of subjects `<prefix>.>`.
pub fn of(service: &'static str, prefix: &str, stream: &str) -> Permissions {
    let api = "$JS.API";
    // The bus creates the stream or brings it up to date at start; parking
    // a message whose deliveries ran out reads it back by its sequence.
    let mut publish = vec![
        format!("{api}.INFO"),
        format!("{api}.STREAM.INFO.{stream}"),
        format!("{api}.STREAM.CREATE.{stream}"),
        format!("{api}.STREAM.UPDATE.{stream}"),
        format!("{api}.STREAM.MSG.GET.{stream}"),
    ];
    publish.extend(
        ROUTES
            .iter()
            .filter(|route| route.publisher == service)
            .map(|route| format!("{prefix}.{}", route.subject)),
    );
    let mut subscribe = vec![format!("{}.>", crate::bus::inbox_prefix(service))];
    for route in ROUTES.iter().filter(|r| r.consumers.contains(&service)) {
        let durable = consumer_name(service, route.subject);
        publish.extend([
            format!("{prefix}.{}", dead_letter_subject(&durable)),
            // The client names the filter in the subject of the request, so
            // the durable can only ever be created on its own subject.
            format!(
                "{api}.CONSUMER.CREATE.{stream}.{durable}.{prefix}.{}",
                route.subject
            ),
            format!("{api}.CONSUMER.INFO.{stream}.{durable}"),
            format!("{api}.CONSUMER.MSG.NEXT.{stream}.{durable}"),
            format!("$JS.ACK.{stream}.{durable}.>"),
        ]);
        subscribe.push(format!(
            "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{stream}.{durable}"
        ));
    }
    Permissions {
        user: service,
        publish,
        subscribe,
    }
}

/// Every event service's rights, in the catalogue's order of services.
pub fn every_service(prefix: &str, stream: &str) -> Vec<Permissions> {
    EVENT_SERVICES
        .iter()
        .map(|service| of(service, prefix, stream))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn may_publish(p: &Permissions, subject: &str) -> bool {
        p.publish.iter().any(|allowed| matches(allowed, subject))
    }

    fn may_subscribe(p: &Permissions, subject: &str) -> bool {
        p.subscribe.iter().any(|allowed| matches(allowed, subject))
    }

    /// NATS subject matching: `*` one token, `>` the rest.
    fn matches(pattern: &str, subject: &str) -> bool {
        let (mut p, mut s) = (pattern.split('.'), subject.split('.'));
        loop {
            match (p.next(), s.next()) {
                (Some(">"), Some(_)) => return true,
                (Some("*"), Some(_)) => {}
                (Some(a), Some(b)) if a == b => {}
                (None, None) => return true,
                _ => return false,
            }
        }
    }

    #[test]
    fn a_service_publishes_its_own_events_and_no_one_elses() {
        // Given the catalogue, when orders' rights are derived
        let orders = of("orders", "p1", "S1");
        // then it publishes what it owns
        for subject in ["order.created", "order.cancelled", "order.completed"] {
            assert!(may_publish(&orders, &format!("p1.{subject}")), "{subject}");
        }
        // and nothing another service owns, nor anything under another prefix
        for subject in ["ticket.created", "payment.created", "user.banned"] {
            assert!(!may_publish(&orders, &format!("p1.{subject}")), "{subject}");
        }
        assert!(!may_publish(&orders, "ticketing.order.created"));
    }

    #[test]
    fn every_subject_has_exactly_one_publisher_at_the_broker() {
        let all = every_service("ticketing", "TICKETING");
        for route in ROUTES {
            let subject = format!("ticketing.{}", route.subject);
            let publishers: Vec<_> = all
                .iter()
                .filter(|p| may_publish(p, &subject))
                .map(|p| p.user)
                .collect();
            assert_eq!(publishers, [route.publisher], "{subject}");
        }
    }

    #[test]
    fn a_consumer_parks_only_its_own_dead_letters() {
        let tickets = of("tickets", "p", "S");
        assert!(may_publish(&tickets, "p.deadletter.tickets-order-created"));
        assert!(may_publish(&tickets, "p.deadletter.tickets-user-banned"));
        assert!(!may_publish(&tickets, "p.deadletter.orders-ticket-created"));
    }

    #[test]
    fn a_durable_can_be_created_only_on_the_subject_it_consumes() {
        let payments = of("payments", "p", "S");
        let create = "$JS.API.CONSUMER.CREATE.S.payments-order-created";
        assert!(may_publish(&payments, &format!("{create}.p.order.created")));
        // Not with another filter, nor without one (the body's would rule).
        assert!(!may_publish(
            &payments,
            &format!("{create}.p.ticket.created")
        ));
        assert!(!may_publish(&payments, create));
        // Nor a durable of another service's, nor of something it does not consume.
        let theirs = "$JS.API.CONSUMER.CREATE.S.orders-ticket-created.p.ticket.created";
        assert!(!may_publish(&payments, theirs));
        let unconsumed = "$JS.API.CONSUMER.CREATE.S.payments-ticket-created.p.ticket.created";
        assert!(!may_publish(&payments, unconsumed));
    }

    #[test]
    fn a_service_pulls_acks_and_hears_advisories_of_its_own_durables_only() {
        let expiration = of("expiration", "p", "S");
        let mine = "expiration-order-created";
        assert!(may_publish(
            &expiration,
            &format!("$JS.API.CONSUMER.MSG.NEXT.S.{mine}")
        ));
        assert!(may_publish(
            &expiration,
            &format!("$JS.ACK.S.{mine}.1.2.3.4.5")
        ));
        let advisory = format!("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.S.{mine}");
        assert!(may_subscribe(&expiration, &advisory));
        let theirs = "tickets-order-created";
        assert!(!may_publish(
            &expiration,
            &format!("$JS.API.CONSUMER.MSG.NEXT.S.{theirs}")
        ));
        assert!(!may_publish(
            &expiration,
            &format!("$JS.ACK.S.{theirs}.1.2.3.4.5")
        ));
        // Expiration hears no bans: it has no sessions.
        assert!(!may_publish(
            &expiration,
            "$JS.API.CONSUMER.INFO.S.expiration-user-banned"
        ));
    }

    #[test]
    fn replies_come_only_to_the_service_s_own_inboxes() {
        let auth = of("auth", "p", "S");
        assert!(may_subscribe(&auth, "_INBOX.auth.abc.1"));
        assert!(!may_subscribe(&auth, "_INBOX.orders.abc.1"));
        assert!(!may_subscribe(&auth, "_INBOX.>"));
        assert!(!may_subscribe(&auth, "p.user.banned"));
    }

    #[test]
    fn the_stream_is_managed_only_by_name_and_nothing_is_deleted() {
        let orders = of("orders", "p", "S");
        assert!(may_publish(&orders, "$JS.API.STREAM.UPDATE.S"));
        assert!(!may_publish(&orders, "$JS.API.STREAM.UPDATE.OTHER"));
        assert!(!may_publish(&orders, "$JS.API.STREAM.DELETE.S"));
        assert!(!may_publish(&orders, "$JS.API.STREAM.PURGE.S"));
        assert!(!may_publish(
            &orders,
            "$JS.API.CONSUMER.DELETE.S.orders-ticket-created"
        ));
    }
}
