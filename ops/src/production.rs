//! The rules only production follows: enough replicas, disruption budgets
//! and autoscalers for the services, every replicated workload spread over
//! nodes, databases as backed-up replica sets, a NATS cluster, TLS on the
//! ingress.

use crate::context::{Context, is_ours};
use crate::databases;
use crate::found::Found;
use crate::manifests::Manifests;
use crate::workloads::Workload;

pub(crate) fn check(
    manifests: &Manifests,
    workloads: &[Workload<'_>],
    context: &Context,
    found: &mut Found,
) {
    for workload in workloads {
        let object = format!("{} {}", workload.kind, workload.name);
        crate::spread::replicas_spread(
            workload.replicas,
            workload.pod,
            &workload.labels,
            &object,
            found,
        );
    }
    let databases = workloads
        .iter()
        .filter(|w| w.kind == "StatefulSet" && databases::is_database(w.pod));
    for database in databases {
        databases::replica_set(database, &manifests.disruption_budgets, found);
        databases::backed_up(
            &database.name,
            &manifests.cron_jobs,
            &manifests.volume_claims,
            found,
        );
    }
    for workload in workloads
        .iter()
        .filter(|w| w.kind == "Deployment" && is_ours(w.pod, context))
    {
        let object = format!("Deployment {}", workload.name);
        if workload.replicas.unwrap_or(1) < 2 {
            found.add("replicas", &object, "fewer than two replicas");
        }
        if !crate::spread::budgeted(&manifests.disruption_budgets, &workload.labels) {
            found.add(
                "disruption-budgets",
                &object,
                "no PodDisruptionBudget selects its pods",
            );
        }
        let scaled = manifests.autoscalers.iter().any(|hpa| {
            hpa.spec.as_ref().is_some_and(|s| {
                s.scale_target_ref.kind == "Deployment"
                    && s.scale_target_ref.name == workload.name
                    && s.min_replicas.unwrap_or(1) >= 2
            })
        });
        if !scaled {
            found.add(
                "autoscalers",
                &object,
                "no HorizontalPodAutoscaler keeps two replicas or more",
            );
        }
    }
    let nats = workloads
        .iter()
        .find(|w| w.kind == "StatefulSet" && w.name == "nats");
    if nats.and_then(|n| n.replicas).unwrap_or(1) < 3 {
        found.add(
            "nats-cluster",
            "StatefulSet nats",
            "fewer than three NATS servers",
        );
    }
    let stream_replicas = manifests
        .config_maps
        .iter()
        .find_map(|c| c.data.as_ref()?.get("NATS_STREAM_REPLICAS").cloned());
    if stream_replicas.as_deref() != Some("3") {
        found.add(
            "nats-cluster",
            "ConfigMap ticketing-config",
            "the stream is not kept three times (NATS_STREAM_REPLICAS)",
        );
    }
    for ingress in &manifests.ingresses {
        let object = format!(
            "Ingress {}",
            ingress.metadata.name.as_deref().unwrap_or_default()
        );
        let has_tls = ingress
            .spec
            .as_ref()
            .and_then(|s| s.tls.as_ref())
            .is_some_and(|t| !t.is_empty());
        let annotations = ingress.metadata.annotations.clone().unwrap_or_default();
        let issued = ["cert-manager.io/cluster-issuer", "cert-manager.io/issuer"]
            .iter()
            .any(|a| annotations.contains_key(*a));
        if !has_tls || !issued {
            found.add("tls", &object, "no TLS section with a cert-manager issuer");
        }
    }
}
