//! The network rules on the real overlays (rendered by kubectl kustomize):
//! given an overlay, when one of its policies or workloads is changed the
//! wrong way, then the rule that guards it says so.

use std::path::PathBuf;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use ops::isolation;
use ops::manifests::Manifests;
use ops::rules::Violation;

fn rendered(overlay: &str) -> Manifests {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Manifests::render(&root.join("../infra/k8s").join(overlay)).unwrap()
}

fn policy<'a>(m: &'a mut Manifests, name: &str) -> &'a mut NetworkPolicy {
    m.network_policies
        .iter_mut()
        .find(|p| p.metadata.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no policy {name}"))
}

/// Puts `yaml` (a policy spec) in place of the named policy's spec.
fn respec(m: &mut Manifests, name: &str, yaml: &str) {
    policy(m, name).spec = Some(serde_saphyr::from_str(yaml).unwrap());
}

fn remove(m: &mut Manifests, name: &str) {
    policy(m, name);
    m.network_policies
        .retain(|p| p.metadata.name.as_deref() != Some(name));
}

/// A copy of orders' Deployment whose pods are labelled `label`.
fn add_deployment(m: &mut Manifests, name: &str, label: &str) {
    let mut copy: Deployment = m
        .deployments
        .iter()
        .find(|d| d.metadata.name.as_deref() == Some("orders"))
        .unwrap()
        .clone();
    copy.metadata.name = Some(name.into());
    let template = copy
        .spec
        .as_mut()
        .unwrap()
        .template
        .metadata
        .as_mut()
        .unwrap();
    let labels = template.labels.as_mut().unwrap();
    labels.insert(isolation::NAME.into(), label.into());
    m.deployments.push(copy);
}

fn broken(violations: &[Violation], rule: &str, object: &str, says: &str) -> bool {
    violations
        .iter()
        .any(|v| v.rule == rule && v.object == object && v.message.contains(says))
}

#[test]
fn every_overlay_passes_the_network_rules() {
    for overlay in ["base", "dev", "prod"] {
        let violations = isolation::violations(&rendered(overlay));
        assert!(violations.is_empty(), "{overlay}: {violations:#?}");
    }
}

type Breakage = fn(&mut Manifests);

#[test]
fn every_network_rule_rejects_a_policy_that_breaks_it() {
    let cases: [(&str, &str, &str, &str, &str, Breakage); 13] = [
        (
            "orders let into tickets' database at both ends",
            "dev",
            "database-isolation",
            "StatefulSet tickets-mongo",
            "Deployment orders can reach it on port 27017",
            |m| {
                let values = "[tickets, orders]";
                respec(m, "tickets-mongo", &format!(
                    "{{podSelector: {{matchLabels: {{app.kubernetes.io/name: tickets-mongo}}}},
                      ingress: [{{from: [{{podSelector: {{matchExpressions: [{{key: app.kubernetes.io/name, operator: In, values: {values}}}]}}}}]}}]}}"
                ));
                respec(m, "to-tickets-mongo", &format!(
                    "{{podSelector: {{matchExpressions: [{{key: app.kubernetes.io/name, operator: In, values: {values}}}]}},
                      policyTypes: [Egress],
                      egress: [{{to: [{{podSelector: {{matchLabels: {{app.kubernetes.io/name: tickets-mongo}}}}}}]}}]}}"
                ));
            },
        ),
        (
            "a database open to every namespace",
            "prod",
            "database-isolation",
            "StatefulSet orders-mongo",
            "a pod of another namespace can reach it",
            |m| {
                respec(
                    m,
                    "orders-mongo",
                    "{podSelector: {matchLabels: {app.kubernetes.io/name: orders-mongo}}, ingress: [{from: [{namespaceSelector: {}}]}]}",
                )
            },
        ),
        (
            "a database open to any address",
            "dev",
            "database-isolation",
            "StatefulSet auth-mongo",
            "an address outside the cluster can reach it",
            |m| {
                respec(
                    m,
                    "auth-mongo",
                    "{podSelector: {matchLabels: {app.kubernetes.io/name: auth-mongo}}, ingress: [{from: [{ipBlock: {cidr: 0.0.0.0/0}}]}]}",
                )
            },
        ),
        (
            "the replica-set members let in from every database",
            "prod",
            "database-isolation",
            "StatefulSet payments-mongo",
            "StatefulSet auth-mongo can reach it",
            |m| {
                let mongos = "{matchExpressions: [{key: app.kubernetes.io/name, operator: In, values: [auth-mongo, tickets-mongo, orders-mongo, payments-mongo]}]}";
                let spec = format!(
                    "{{podSelector: {mongos}, policyTypes: [Ingress, Egress],
                      ingress: [{{from: [{{podSelector: {mongos}}}]}}], egress: [{{to: [{{podSelector: {mongos}}}]}}]}}"
                );
                respec(m, "payments-mongo-members", &spec);
            },
        ),
        (
            "no policy at all around a database, with no default deny",
            "dev",
            "database-isolation",
            "StatefulSet orders-mongo",
            "the ingress controller can reach it",
            |m| {
                remove(m, "default-deny");
                remove(m, "orders-mongo");
            },
        ),
        (
            "a service cut off from its own database",
            "prod",
            "database-isolation",
            "StatefulSet orders-mongo",
            "Deployment orders cannot reach it",
            |m| remove(m, "to-orders-mongo"),
        ),
        (
            "a backup job labelled otherwise than the policies expect",
            "prod",
            "database-isolation",
            "StatefulSet orders-mongo",
            "Deployment orders-mongo-backup cannot reach it on port 27017",
            |m| add_deployment(m, "orders-mongo-backup", "orders-backup"),
        ),
        (
            "a pod no policy selects",
            "dev",
            "network-coverage",
            "Deployment reports",
            "no NetworkPolicy selects its pods",
            |m| {
                remove(m, "default-deny");
                remove(m, "dns");
                add_deployment(m, "reports", "reports");
            },
        ),
        (
            "egress not denied by default",
            "prod",
            "default-deny",
            "namespace ticketing",
            "denies all egress",
            |m| {
                respec(
                    m,
                    "default-deny",
                    "{podSelector: {}, policyTypes: [Ingress]}",
                )
            },
        ),
        (
            "a default deny that lets something through",
            "dev",
            "default-deny",
            "namespace ticketing-dev",
            "denies all ingress",
            |m| {
                respec(
                    m,
                    "default-deny",
                    "{podSelector: {}, policyTypes: [Ingress, Egress], ingress: [{from: [{podSelector: {}}]}]}",
                )
            },
        ),
        (
            "no DNS",
            "dev",
            "network-paths",
            "Deployment expiration",
            "cannot reach the cluster DNS on port 53",
            |m| remove(m, "dns"),
        ),
        (
            "payments kept from Stripe",
            "prod",
            "network-paths",
            "Deployment payments",
            "cannot reach Stripe on port 443",
            |m| remove(m, "payments-to-stripe"),
        ),
        (
            "the NATS servers kept apart",
            "prod",
            "network-paths",
            "StatefulSet nats",
            "the other NATS servers cannot reach it on port 6222",
            |m| remove(m, "nats-cluster"),
        ),
    ];
    for (what, overlay, rule, object, says, breakage) in cases {
        let mut manifests = rendered(overlay);
        breakage(&mut manifests);
        let violations = isolation::violations(&manifests);
        assert!(
            broken(&violations, rule, object, says),
            "{rule} should reject {what} in {overlay} at {object} ({says}), got {violations:#?}"
        );
    }
}

#[test]
fn a_database_admits_its_own_backup_and_init_jobs_and_no_other_database_s() {
    // The prod overlay has each database's backup CronJob and init Job.
    let mut manifests = rendered("prod");
    // Given that tickets' backup job is let in at orders-mongo too,
    let spec = "{podSelector: {matchLabels: {app.kubernetes.io/name: orders-mongo}},
      ingress: [{from: [{podSelector: {matchExpressions: [{key: app.kubernetes.io/name, operator: In,
        values: [orders, orders-mongo-backup, orders-mongo-init, tickets-mongo-backup]}]}}]}]}";
    respec(&mut manifests, "orders-mongo", spec);
    // when its egress lets it out to any database,
    respec(
        &mut manifests,
        "to-tickets-mongo",
        "{podSelector: {matchExpressions: [{key: app.kubernetes.io/name, operator: In, values: [tickets, tickets-mongo-backup, tickets-mongo-init]}]},
          policyTypes: [Egress], egress: [{ports: [{port: 27017}]}]}",
    );
    let violations = isolation::violations(&manifests);
    // then it is the only one held to be a stranger there.
    let at_orders: Vec<_> = violations
        .iter()
        .filter(|v| v.object == "StatefulSet orders-mongo")
        .collect();
    assert!(
        broken(
            &violations,
            "database-isolation",
            "StatefulSet orders-mongo",
            "CronJob tickets-mongo-backup can reach it"
        ),
        "{violations:#?}"
    );
    assert_eq!(at_orders.len(), 1, "{at_orders:#?}");
}

/// A namespace of two workloads, written out.
fn two_workloads(policies: &str) -> Manifests {
    let workload = |kind: &str, name: &str| {
        format!(
            "apiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: {name}}}
spec:
  selector: {{matchLabels: {{app.kubernetes.io/name: {name}}}}}
  template:
    metadata: {{labels: {{app.kubernetes.io/name: {name}}}}}
    spec: {{containers: [{{name: {name}, image: x:1, ports: [{{containerPort: 27017}}]}}]}}
"
        )
    };
    let yaml = format!(
        "{}---\n{}---\n{policies}",
        workload("Deployment", "orders"),
        workload("StatefulSet", "orders-mongo")
    );
    Manifests::parse(&yaml).unwrap()
}

#[test]
fn a_namespace_without_policies_is_open_and_says_so() {
    let violations = isolation::violations(&two_workloads(""));
    for (rule, object) in [
        ("network-coverage", "Deployment orders"),
        ("network-coverage", "StatefulSet orders-mongo"),
        ("default-deny", "namespace default"),
    ] {
        assert!(
            broken(&violations, rule, object, ""),
            "{rule} {object}: {violations:#?}"
        );
    }
    assert!(
        broken(
            &violations,
            "database-isolation",
            "StatefulSet orders-mongo",
            "a pod of another namespace can reach it"
        ),
        "{violations:#?}"
    );
}

#[test]
fn a_namespace_denied_by_default_with_its_one_path_open_passes() {
    let policies = "
kind: NetworkPolicy
metadata: {name: deny}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
kind: NetworkPolicy
metadata: {name: dns}
spec:
  podSelector: {}
  egress: [{to: [{namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}], ports: [{port: 53, protocol: UDP}]}]
---
kind: NetworkPolicy
metadata: {name: orders-mongo}
spec:
  podSelector: {matchLabels: {app.kubernetes.io/name: orders-mongo}}
  ingress: [{from: [{podSelector: {matchLabels: {app.kubernetes.io/name: orders}}}]}]
---
kind: NetworkPolicy
metadata: {name: orders}
spec:
  podSelector: {matchLabels: {app.kubernetes.io/name: orders}}
  egress: [{to: [{podSelector: {matchLabels: {app.kubernetes.io/name: orders-mongo}}}], ports: [{port: 27017}]}]
";
    let violations = isolation::violations(&two_workloads(policies));
    assert!(violations.is_empty(), "{violations:#?}");
}
