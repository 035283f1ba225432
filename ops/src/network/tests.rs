//! Given policies and two ends, when a connection is tried, then it goes
//! through or not as the cluster would decide.

use super::*;

const HOME: &str = "shop";

fn policies(yaml: &str) -> Vec<NetworkPolicy> {
    serde_saphyr::from_multiple(yaml).unwrap()
}

fn home() -> Namespace {
    Namespace::new(HOME, Labels::new())
}

fn pod(labels: &[(&str, &str)]) -> Endpoint {
    Endpoint::pod(&home(), labels)
}

fn reachable(list: &[NetworkPolicy], from: &Endpoint, to: &Endpoint, port: Port) -> bool {
    let policies = Policies {
        namespace: HOME,
        list,
    };
    policies.reachable(from, to, port, IpBlocks::MayMatchPods)
}

fn selector(yaml: &str) -> LabelSelector {
    serde_saphyr::from_str(yaml).unwrap()
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const DENY_ALL: &str = "
metadata: {name: deny}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
";

/// orders may send to tickets-mongo; tickets-mongo accepts orders.
const ORDERS_TO_TICKETS_DB: &str = "
metadata: {name: out}
spec:
  podSelector: {matchLabels: {app: orders}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: tickets-mongo}}}]
    ports: [{port: 27017}]
---
metadata: {name: in}
spec:
  podSelector: {matchLabels: {app: tickets-mongo}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: orders}}}]
    ports: [{port: 27017}]
";

#[test]
fn a_selector_matches_labels_and_each_operator() {
    let pod = labels(&[("app", "orders"), ("tier", "api")]);
    let cases = [
        ("{}", true, "an empty selector selects every pod"),
        ("{matchLabels: {app: orders}}", true, "a label it has"),
        (
            "{matchLabels: {app: orders, tier: db}}",
            false,
            "every label must match",
        ),
        (
            "{matchExpressions: [{key: app, operator: In, values: [auth, orders]}]}",
            true,
            "In",
        ),
        (
            "{matchExpressions: [{key: app, operator: In, values: [auth]}]}",
            false,
            "In, another value",
        ),
        (
            "{matchExpressions: [{key: app, operator: NotIn, values: [auth]}]}",
            true,
            "NotIn",
        ),
        (
            "{matchExpressions: [{key: zone, operator: NotIn, values: [a]}]}",
            true,
            "NotIn, label absent",
        ),
        (
            "{matchExpressions: [{key: app, operator: NotIn, values: [orders]}]}",
            false,
            "NotIn, its value",
        ),
        (
            "{matchExpressions: [{key: tier, operator: Exists}]}",
            true,
            "Exists",
        ),
        (
            "{matchExpressions: [{key: zone, operator: Exists}]}",
            false,
            "Exists, absent",
        ),
        (
            "{matchExpressions: [{key: zone, operator: DoesNotExist}]}",
            true,
            "DoesNotExist",
        ),
        (
            "{matchExpressions: [{key: app, operator: DoesNotExist}]}",
            false,
            "DoesNotExist, present",
        ),
        (
            "{matchExpressions: [{key: app, operator: Like, values: [o]}]}",
            false,
            "an unknown operator",
        ),
        (
            "{matchLabels: {app: orders}, matchExpressions: [{key: tier, operator: In, values: [db]}]}",
            false,
            "labels and expressions must both match",
        ),
    ];
    for (yaml, expected, what) in cases {
        assert_eq!(selects(&selector(yaml), &pod), expected, "{what}: {yaml}");
    }
}

#[test]
fn pods_no_policy_selects_reach_each_other_on_any_port() {
    let given =
        policies("metadata: {name: other}\nspec: {podSelector: {matchLabels: {app: nats}}}");
    let (orders, db) = (pod(&[("app", "orders")]), pod(&[("app", "tickets-mongo")]));
    assert!(reachable(&given, &orders, &db, Port::tcp(27017)));
    assert!(reachable(&[], &orders, &db, Port::udp(9)));
}

#[test]
fn a_default_deny_stops_everything_both_ways() {
    let given = policies(DENY_ALL);
    let (orders, db) = (pod(&[("app", "orders")]), pod(&[("app", "tickets-mongo")]));
    assert!(!reachable(&given, &orders, &db, Port::tcp(27017)));
    assert!(!reachable(&given, &db, &orders, Port::tcp(3000)));
    assert!(!reachable(
        &given,
        &orders,
        &Endpoint::Address(Ipv4Addr::new(1, 1, 1, 1)),
        Port::tcp(443)
    ));
}

#[test]
fn a_connection_needs_egress_at_one_end_and_ingress_at_the_other() {
    let mut given = policies(DENY_ALL);
    given.extend(policies(ORDERS_TO_TICKETS_DB));
    let (orders, db) = (pod(&[("app", "orders")]), pod(&[("app", "tickets-mongo")]));
    assert!(reachable(&given, &orders, &db, Port::tcp(27017)));
    assert!(
        !reachable(&given, &orders, &db, Port::tcp(27018)),
        "another port"
    );
    assert!(
        !reachable(&given, &db, &orders, Port::tcp(27017)),
        "the other way"
    );
    let only_egress: Vec<_> = given
        .iter()
        .filter(|p| p.metadata.name.as_deref() != Some("in"))
        .cloned()
        .collect();
    assert!(
        !reachable(&only_egress, &orders, &db, Port::tcp(27017)),
        "no ingress at the database"
    );
    let only_ingress: Vec<_> = given
        .iter()
        .filter(|p| p.metadata.name.as_deref() != Some("out"))
        .cloned()
        .collect();
    assert!(
        !reachable(&only_ingress, &orders, &db, Port::tcp(27017)),
        "no egress from orders"
    );
}

#[test]
fn a_pod_selector_alone_means_this_namespace_and_a_namespace_selector_others() {
    let given = policies(
        "
metadata: {name: db}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: api}}}]
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
      podSelector: {matchLabels: {app: prometheus}}
",
    );
    let db = pod(&[("app", "db")]);
    let monitoring = Namespace::new("monitoring", Labels::new());
    let elsewhere = Namespace::new("elsewhere", Labels::new());
    let cases = [
        (pod(&[("app", "api")]), true, "api here"),
        (
            Endpoint::pod(&elsewhere, &[("app", "api")]),
            false,
            "api in another namespace",
        ),
        (
            Endpoint::pod(&monitoring, &[("app", "prometheus")]),
            true,
            "prometheus in monitoring",
        ),
        (
            Endpoint::pod(&monitoring, &[("app", "grafana")]),
            false,
            "another pod of monitoring",
        ),
        (pod(&[("app", "prometheus")]), false, "prometheus here"),
    ];
    for (from, expected, what) in cases {
        assert_eq!(
            reachable(&given, &from, &db, Port::tcp(1)),
            expected,
            "{what}"
        );
    }
    let everywhere = policies(
        "metadata: {name: open}\nspec:\n  podSelector: {}\n  ingress: [{from: [{namespaceSelector: {}}]}]",
    );
    let stranger = Endpoint::pod(&elsewhere, &[]);
    assert!(
        reachable(&everywhere, &stranger, &db, Port::tcp(1)),
        "an empty namespace selector is every namespace"
    );
}

#[test]
fn ports_match_by_protocol_range_and_name() {
    let given = policies(
        "
metadata: {name: ports}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - ports: [{port: 53, protocol: UDP}, {port: 8000, endPort: 8010}, {port: mongo}]
",
    );
    let mut db = pod(&[("app", "db")]);
    if let Endpoint::Pod { ports, .. } = &mut db {
        ports.insert("mongo".into(), 27017);
    }
    let client = pod(&[("app", "api")]);
    let cases = [
        (Port::udp(53), true, "UDP as named"),
        (Port::tcp(53), false, "TCP where UDP is named"),
        (Port::tcp(8005), true, "inside the range"),
        (Port::tcp(8011), false, "past its end"),
        (Port::tcp(27017), true, "the named port of the pod"),
        (Port::tcp(27018), false, "not the named port"),
    ];
    for (port, expected, what) in cases {
        assert_eq!(reachable(&given, &client, &db, port), expected, "{what}");
    }
}

#[test]
fn an_ip_block_holds_addresses_less_its_exceptions_and_may_hold_pods() {
    let given = policies(
        "
metadata: {name: out}
spec:
  podSelector: {matchLabels: {app: payments}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10]}}]
    ports: [{port: 443}]
---
metadata: {name: wide}
spec:
  podSelector: {matchLabels: {app: orders}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]
",
    );
    let (payments, orders) = (pod(&[("app", "payments")]), pod(&[("app", "orders")]));
    let stripe = Endpoint::Address(Ipv4Addr::new(54, 187, 174, 169));
    let inside = Endpoint::Address(Ipv4Addr::new(10, 1, 2, 3));
    let db = pod(&[("app", "db")]);
    assert!(reachable(&given, &payments, &stripe, Port::tcp(443)));
    assert!(
        !reachable(&given, &payments, &inside, Port::tcp(443)),
        "an excepted address"
    );
    assert!(
        !reachable(&given, &payments, &db, Port::tcp(443)),
        "every pod range is excepted"
    );
    assert!(
        reachable(&given, &orders, &db, Port::tcp(27017)),
        "pods may sit in 172.16.0.0/12"
    );
    let policies = Policies {
        namespace: HOME,
        list: &given,
    };
    assert!(
        !policies.reachable(&orders, &db, Port::tcp(27017), IpBlocks::NeverMatchPods),
        "a path proved open never relies on an ipBlock matching a pod"
    );
}

#[test]
fn without_policy_types_egress_is_restricted_only_by_a_policy_with_egress_rules() {
    let given = policies("metadata: {name: in}\nspec:\n  podSelector: {}\n  ingress: []");
    let (orders, outside) = (
        pod(&[("app", "orders")]),
        Endpoint::Address(Ipv4Addr::new(1, 1, 1, 1)),
    );
    assert!(
        reachable(&given, &orders, &outside, Port::tcp(443)),
        "egress left open"
    );
    assert!(
        !reachable(&given, &orders, &pod(&[("app", "x")]), Port::tcp(80)),
        "ingress denied"
    );
    assert!(denies_all(&given[0], true) && !denies_all(&given[0], false));
}
