//! Replicas spread across nodes, so that losing one node loses one replica.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::found::Found;

/// The node label replicas spread over.
pub(crate) const NODE: &str = "kubernetes.io/hostname";

/// Whether some disruption budget selects pods labelled `labels`.
pub(crate) fn budgeted(budgets: &[PodDisruptionBudget], labels: &BTreeMap<String, String>) -> bool {
    budgets.iter().any(|pdb| {
        let selector = pdb.spec.as_ref().and_then(|s| s.selector.as_ref());
        selects(selector.and_then(|s| s.match_labels.as_ref()), labels)
    })
}

/// Whether a selector's labels all name labels the pod has.
pub(crate) fn selects(
    selector: Option<&BTreeMap<String, String>>,
    labels: &BTreeMap<String, String>,
) -> bool {
    selector.is_some_and(|s| !s.is_empty() && s.iter().all(|(k, v)| labels.get(k) == Some(v)))
}

/// Whether the pod spreads over nodes, by a topology spread constraint or
/// anti-affinity on the node name, against pods with its own labels.
pub(crate) fn spreads(pod: &PodSpec, labels: &BTreeMap<String, String>) -> bool {
    let own = |selector: Option<&LabelSelector>| {
        selects(selector.and_then(|s| s.match_labels.as_ref()), labels)
    };
    let constrained = pod
        .topology_spread_constraints
        .iter()
        .flatten()
        .any(|c| c.topology_key == NODE && own(c.label_selector.as_ref()));
    let anti = pod
        .affinity
        .as_ref()
        .and_then(|a| a.pod_anti_affinity.as_ref());
    let required = anti.iter().flat_map(|a| {
        a.required_during_scheduling_ignored_during_execution
            .iter()
            .flatten()
    });
    let preferred = anti
        .iter()
        .flat_map(|a| {
            a.preferred_during_scheduling_ignored_during_execution
                .iter()
                .flatten()
        })
        .map(|w| &w.pod_affinity_term);
    let repelled = required
        .chain(preferred)
        .any(|t| t.topology_key == NODE && own(t.label_selector.as_ref()));
    constrained || repelled
}

/// A workload of more than one replica spreads them over nodes.
pub(crate) fn replicas_spread(
    replicas: Option<i32>,
    pod: &PodSpec,
    labels: &BTreeMap<String, String>,
    object: &str,
    found: &mut Found,
) {
    if replicas.unwrap_or(1) >= 2 && !spreads(pod, labels) {
        found.add(
            "spread",
            object,
            format!("its replicas do not spread over {NODE} (topologySpreadConstraints or podAntiAffinity)"),
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn labels() -> BTreeMap<String, String> {
        BTreeMap::from([("app.kubernetes.io/name".to_string(), "orders".to_string())])
    }

    fn pod(value: serde_json::Value) -> PodSpec {
        serde_json::from_value(value).unwrap()
    }

    fn violations(replicas: i32, pod: &PodSpec) -> usize {
        let mut found = Found::default();
        replicas_spread(
            Some(replicas),
            pod,
            &labels(),
            "Deployment orders",
            &mut found,
        );
        found.into_violations().len()
    }

    #[test]
    fn a_constraint_on_the_node_name_selecting_the_pods_own_labels_spreads_them() {
        // Given two replicas with a hostname spread over their own labels
        let spread = pod(json!({"containers": [], "topologySpreadConstraints": [{
            "maxSkew": 1, "topologyKey": NODE, "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "orders"}},
        }]}));
        // Then the rule is content
        assert_eq!(violations(2, &spread), 0);
    }

    #[test]
    fn anti_affinity_on_the_node_name_spreads_them_too() {
        let repelled = pod(json!({"containers": [], "affinity": {"podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": {
                "topologyKey": NODE,
                "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "orders"}},
            }}],
        }}}));
        assert_eq!(violations(3, &repelled), 0);
    }

    #[test]
    fn a_spread_over_zones_or_over_other_pods_does_not_count() {
        // Given a spread over zones, and one over another workload's pods
        let zones = pod(json!({"containers": [], "topologySpreadConstraints": [{
            "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "orders"}},
        }]}));
        let others = pod(json!({"containers": [], "topologySpreadConstraints": [{
            "maxSkew": 1, "topologyKey": NODE, "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "tickets"}},
        }]}));
        // When two replicas have them
        // Then each is named
        assert_eq!(violations(2, &zones), 1);
        assert_eq!(violations(2, &others), 1);
    }

    #[test]
    fn a_single_replica_needs_no_spread() {
        assert_eq!(violations(1, &pod(json!({"containers": []}))), 0);
    }
}
