//! The manifests kustomize renders, loaded into the typed k8s-openapi
//! structs, and what skaffold builds.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, bail};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use serde::Deserialize;
use serde_json::Value;

/// Every object of one rendered overlay, by kind.
#[derive(Debug, Clone, Default)]
pub struct Manifests {
    pub deployments: Vec<Deployment>,
    pub stateful_sets: Vec<StatefulSet>,
    pub services: Vec<Service>,
    pub ingresses: Vec<Ingress>,
    pub config_maps: Vec<ConfigMap>,
    pub secrets: Vec<Secret>,
    pub disruption_budgets: Vec<PodDisruptionBudget>,
    pub autoscalers: Vec<HorizontalPodAutoscaler>,
    pub namespaces: Vec<Namespace>,
    pub network_policies: Vec<NetworkPolicy>,
    pub jobs: Vec<Job>,
    pub cron_jobs: Vec<CronJob>,
    pub volume_claims: Vec<PersistentVolumeClaim>,
}

impl Manifests {
    /// Reads a multi-document YAML stream. A kind the checks do not know is
    /// an error, so that nothing escapes them unnoticed.
    pub fn parse(yaml: &str) -> anyhow::Result<Self> {
        let documents: Vec<Value> =
            serde_saphyr::from_multiple(yaml).context("the manifests are not valid YAML")?;
        let mut manifests = Self::default();
        for document in documents.into_iter().filter(|d| !d.is_null()) {
            let kind = document["kind"].as_str().unwrap_or_default().to_string();
            let name = document["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let typed = |what| format!("{kind} {name} does not match the {what} schema");
            match kind.as_str() {
                "Deployment" => manifests
                    .deployments
                    .push(serde_json::from_value(document).with_context(|| typed("Deployment"))?),
                "StatefulSet" => manifests
                    .stateful_sets
                    .push(serde_json::from_value(document).with_context(|| typed("StatefulSet"))?),
                "Service" => manifests
                    .services
                    .push(serde_json::from_value(document).with_context(|| typed("Service"))?),
                "Ingress" => manifests
                    .ingresses
                    .push(serde_json::from_value(document).with_context(|| typed("Ingress"))?),
                "ConfigMap" => manifests
                    .config_maps
                    .push(serde_json::from_value(document).with_context(|| typed("ConfigMap"))?),
                "Secret" => manifests.secrets.push(
                    serde_json::from_value(unwrapped_data(document))
                        .with_context(|| typed("Secret"))?,
                ),
                "PodDisruptionBudget" => manifests.disruption_budgets.push(
                    serde_json::from_value(document)
                        .with_context(|| typed("PodDisruptionBudget"))?,
                ),
                "HorizontalPodAutoscaler" => manifests.autoscalers.push(
                    serde_json::from_value(document)
                        .with_context(|| typed("HorizontalPodAutoscaler"))?,
                ),
                "Namespace" => manifests
                    .namespaces
                    .push(serde_json::from_value(document).with_context(|| typed("Namespace"))?),
                "NetworkPolicy" => manifests.network_policies.push(
                    serde_json::from_value(document).with_context(|| typed("NetworkPolicy"))?,
                ),
                "Job" => manifests
                    .jobs
                    .push(serde_json::from_value(document).with_context(|| typed("Job"))?),
                "CronJob" => manifests
                    .cron_jobs
                    .push(serde_json::from_value(document).with_context(|| typed("CronJob"))?),
                "PersistentVolumeClaim" => manifests.volume_claims.push(
                    serde_json::from_value(document)
                        .with_context(|| typed("PersistentVolumeClaim"))?,
                ),
                other => bail!("{other} {name}: a kind the checks do not know"),
            }
        }
        Ok(manifests)
    }

    /// Renders an overlay with `kubectl kustomize` and loads it.
    pub fn render(overlay: &Path) -> anyhow::Result<Self> {
        let output = Command::new("kubectl")
            .arg("kustomize")
            .arg(overlay)
            .output()
            .context(
                "cannot run kubectl (1.32 or later, with kustomize) to render the manifests",
            )?;
        if !output.status.success() {
            bail!(
                "kubectl kustomize {} failed: {}",
                overlay.display(),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Self::parse(&String::from_utf8(output.stdout)?)
    }
}

/// A Secret's data as the API server reads it: kustomize wraps a long
/// base64 value (a generated file) over several lines, and the server's
/// decoder skips the line breaks.
fn unwrapped_data(mut secret: Value) -> Value {
    if let Some(data) = secret.get_mut("data").and_then(Value::as_object_mut) {
        for value in data.values_mut() {
            if let Some(text) = value.as_str() {
                *value = Value::String(text.split_whitespace().collect());
            }
        }
    }
    secret
}

/// The images skaffold builds, as its `build.artifacts` name them.
pub fn skaffold_images(skaffold_yaml: &str) -> anyhow::Result<BTreeSet<String>> {
    #[derive(Deserialize)]
    struct Skaffold {
        build: Build,
    }
    #[derive(Deserialize)]
    struct Build {
        artifacts: Vec<Artifact>,
    }
    #[derive(Deserialize)]
    struct Artifact {
        image: String,
    }
    let skaffold: Skaffold =
        serde_saphyr::from_str(skaffold_yaml).context("skaffold.yaml is not valid")?;
    Ok(skaffold
        .build
        .artifacts
        .into_iter()
        .map(|a| a.image)
        .collect())
}

/// The names listed one per line in an overlay's `external-secrets.txt`
/// (`#` starts a comment); none if there is no such file.
pub fn external_secrets(overlay: &Path) -> anyhow::Result<BTreeSet<String>> {
    let path = overlay.join("external-secrets.txt");
    if !path.exists() {
        return Ok(BTreeSet::new());
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_whose_data_kustomize_wrapped_over_lines_is_read() {
        let yaml = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  f: |\n    aGVs\n    bG8=\n";
        let manifests = Manifests::parse(yaml).unwrap();
        let data = manifests.secrets[0].data.as_ref().unwrap();
        assert_eq!(data["f"].0, b"hello");
    }
}
