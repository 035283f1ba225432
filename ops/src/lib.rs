//! Operations tooling, and the one place the Kubernetes API is used:
//! `check` holds the rendered manifests to the platform's rules;
//! `wait-ready` waits until a namespace's workloads are ready;
//! `dead-letters`, `redeliver` and `rebuild` work with a running
//! platform's log; `nats-config` and `nats-users` write the NATS
//! server's accounts.

mod context;
mod databases;
pub mod event_log;
mod found;
mod ingress;
pub mod isolation;
pub mod manifests;
pub mod nats;
pub mod network;
mod observability;
pub mod openapi;
mod pod_security;
mod production;
pub mod ready;
pub mod rebuild;
pub mod rules;
mod spread;
mod workloads;

use std::path::Path;

use manifests::Manifests;
use rules::{Context, Violation};

/// The overlays `check` renders, and whether the production rules apply.
pub const OVERLAYS: [(&str, bool); 3] = [("base", false), ("dev", false), ("prod", true)];

/// Renders one overlay of `k8s_root` and checks it, with the images that
/// `skaffold_yaml` builds.
pub fn check_overlay(
    k8s_root: &Path,
    overlay: &str,
    production: bool,
    skaffold_yaml: &str,
) -> anyhow::Result<Vec<Violation>> {
    let dir = k8s_root.join(overlay);
    let manifests = Manifests::render(&dir)?;
    let context = Context {
        our_images: manifests::skaffold_images(skaffold_yaml)?,
        external_secrets: manifests::external_secrets(&dir)?,
        production,
    };
    Ok(rules::check(&manifests, &context))
}
