//! What lets the cluster's Prometheus watch the platform: every pod of ours
//! annotated for scraping on its own port, and the alert rules shipped.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::PodSpec;

use crate::found::Found;
use crate::manifests::Manifests;

/// The ConfigMap the alert rules ship in (kustomize adds a hash to it).
const RULES_CONFIG_MAP: &str = "prometheus-rules";
/// The alerts the design asks for.
const ALERTS: [&str; 6] = [
    "ServiceDown",
    "DeadLetterParked",
    "ConsumerBehind",
    "OutboxBacklog",
    "InboxBacklog",
    "ServerErrors",
];

/// A pod of ours says where Prometheus scrapes it: `/metrics` on a port
/// its containers serve.
pub(crate) fn scraped(
    annotations: &BTreeMap<String, String>,
    pod: &PodSpec,
    object: &str,
    found: &mut Found,
) {
    let annotation = |key: &str| annotations.get(&format!("prometheus.io/{key}"));
    if annotation("scrape").map(String::as_str) != Some("true") {
        found.add(
            "scraped",
            object,
            "the pod is not annotated prometheus.io/scrape: \"true\"",
        );
        return;
    }
    if annotation("path").map(String::as_str) != Some("/metrics") {
        found.add("scraped", object, "prometheus.io/path is not /metrics");
    }
    let served = pod
        .containers
        .iter()
        .flat_map(|c| c.ports.iter().flatten())
        .any(|p| annotation("port") == Some(&p.container_port.to_string()));
    if !served {
        found.add(
            "scraped",
            object,
            "prometheus.io/port names no port of the pod's containers",
        );
    }
}

#[derive(serde::Deserialize)]
struct RuleFile {
    groups: Vec<Group>,
}

#[derive(serde::Deserialize)]
struct Group {
    rules: Vec<Rule>,
}

#[derive(serde::Deserialize)]
struct Rule {
    alert: Option<String>,
}

/// The alert rules ship in their ConfigMap and hold every alert of the design.
pub(crate) fn alert_rules(manifests: &Manifests, found: &mut Found) {
    let shipped = manifests.config_maps.iter().find(|c| {
        c.metadata
            .name
            .as_deref()
            .is_some_and(|name| name.starts_with(RULES_CONFIG_MAP))
    });
    let Some(files) = shipped.and_then(|c| c.data.as_ref()) else {
        found.add(
            "alerts",
            RULES_CONFIG_MAP,
            "no ConfigMap ships the alert rules",
        );
        return;
    };
    let mut alerts = Vec::new();
    for (file, text) in files {
        match serde_saphyr::from_str::<RuleFile>(text) {
            Ok(rules) => alerts.extend(
                rules
                    .groups
                    .into_iter()
                    .flat_map(|g| g.rules)
                    .filter_map(|r| r.alert),
            ),
            Err(err) => found.add("alerts", file, format!("not a rule file: {err}")),
        }
    }
    for alert in ALERTS {
        if !alerts.iter().any(|a| a == alert) {
            found.add(
                "alerts",
                RULES_CONFIG_MAP,
                format!("the alert {alert} is missing"),
            );
        }
    }
}
