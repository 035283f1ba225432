//! `wait-ready`: polls the Kubernetes API until every Deployment and
//! StatefulSet of a namespace has all its replicas updated and ready.

use std::time::Duration;

use anyhow::Context as _;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use kube::api::{Api, ListParams};

/// A workload not ready yet, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub object: String,
    pub ready: i32,
    pub wanted: i32,
}

impl std::fmt::Display for Waiting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} of {} ready",
            self.object, self.ready, self.wanted
        )
    }
}

/// Where one workload's rollout stands, whatever its kind.
struct Rollout {
    object: String,
    generation: Option<i64>,
    observed: Option<i64>,
    wanted: i32,
    ready: i32,
    updated: i32,
}

impl Rollout {
    /// Done once the controller has seen the current spec and every wanted
    /// replica is updated and ready.
    fn waiting(self) -> Option<Waiting> {
        let done = self.observed >= self.generation
            && self.ready >= self.wanted
            && self.updated >= self.wanted;
        (!done).then_some(Waiting {
            object: self.object,
            ready: self.ready,
            wanted: self.wanted,
        })
    }
}

/// The Deployments whose rollout has not finished.
pub fn deployments_waiting(deployments: &[Deployment]) -> Vec<Waiting> {
    deployments
        .iter()
        .filter_map(|d| {
            let status = d.status.clone().unwrap_or_default();
            Rollout {
                object: format!(
                    "Deployment {}",
                    d.metadata.name.as_deref().unwrap_or_default()
                ),
                generation: d.metadata.generation,
                observed: status.observed_generation,
                wanted: d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
                ready: status.ready_replicas.unwrap_or(0),
                updated: status.updated_replicas.unwrap_or(0),
            }
            .waiting()
        })
        .collect()
}

/// The StatefulSets whose rollout has not finished.
pub fn stateful_sets_waiting(sets: &[StatefulSet]) -> Vec<Waiting> {
    sets.iter()
        .filter_map(|s| {
            let status = s.status.clone().unwrap_or_default();
            Rollout {
                object: format!(
                    "StatefulSet {}",
                    s.metadata.name.as_deref().unwrap_or_default()
                ),
                generation: s.metadata.generation,
                observed: status.observed_generation,
                wanted: s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
                ready: status.ready_replicas.unwrap_or(0),
                updated: status.updated_replicas.unwrap_or(0),
            }
            .waiting()
        })
        .collect()
}

/// Waits until nothing in `namespace` is waiting, or `timeout` passes; then
/// returns what is still waiting (empty when all are ready).
pub async fn wait_ready(namespace: &str, timeout: Duration) -> anyhow::Result<Vec<Waiting>> {
    let client = kube::Client::try_default()
        .await
        .context("cannot reach the Kubernetes API (kubeconfig or in-cluster config)")?;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let sets: Api<StatefulSet> = Api::namespaced(client, namespace);
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let mut waiting =
            deployments_waiting(&deployments.list(&ListParams::default()).await?.items);
        waiting.extend(stateful_sets_waiting(
            &sets.list(&ListParams::default()).await?.items,
        ));
        if waiting.is_empty() || tokio::time::Instant::now() >= deadline {
            return Ok(waiting);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::{DeploymentSpec, DeploymentStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;

    fn deployment(
        replicas: i32,
        ready: i32,
        updated: i32,
        generation: i64,
        observed: i64,
    ) -> Deployment {
        Deployment {
            metadata: ObjectMeta {
                name: Some("orders".into()),
                generation: Some(generation),
                ..Default::default()
            },
            spec: Some(DeploymentSpec {
                replicas: Some(replicas),
                ..Default::default()
            }),
            status: Some(DeploymentStatus {
                ready_replicas: Some(ready),
                updated_replicas: Some(updated),
                observed_generation: Some(observed),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn a_deployment_with_every_replica_updated_and_ready_is_done() {
        assert!(deployments_waiting(&[deployment(2, 2, 2, 3, 3)]).is_empty());
    }

    #[test]
    fn a_deployment_short_of_ready_replicas_is_reported() {
        let waiting = deployments_waiting(&[deployment(2, 1, 2, 3, 3)]);
        assert_eq!(waiting[0].to_string(), "Deployment orders: 1 of 2 ready");
    }

    #[test]
    fn a_deployment_whose_new_spec_is_not_yet_seen_is_waiting() {
        assert_eq!(deployments_waiting(&[deployment(2, 2, 2, 4, 3)]).len(), 1);
    }

    #[test]
    fn a_deployment_still_running_old_pods_is_waiting() {
        assert_eq!(deployments_waiting(&[deployment(2, 2, 1, 3, 3)]).len(), 1);
    }
}
