//! The rules every rendered overlay must follow; each rule returns what
//! breaks it, naming the object. Production adds its own.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Container, PodSpec};

pub use crate::context::Context;
use crate::context::{is_ours, repository};
use crate::found::Found;
pub use crate::found::Violation;
use crate::manifests::Manifests;
use crate::pod_security;
use crate::workloads::{Workload, containers, workloads};

/// Every rule that applies, in a fixed order.
pub fn check(manifests: &Manifests, context: &Context) -> Vec<Violation> {
    let mut found = Found::default();
    let workloads = workloads(manifests);
    for workload in &workloads {
        let ours = is_ours(workload.pod, context);
        if ours {
            let object = format!("{} {}", workload.kind, workload.name);
            crate::observability::scraped(&workload.annotations, workload.pod, &object, &mut found);
        }
        let object = format!("{} {}", workload.kind, workload.name);
        pod_security::service_account_token(workload.pod, &object, &mut found);
        for container in containers(workload.pod) {
            let object = format!("{} {}/{}", workload.kind, workload.name, container.name);
            resources(container, &object, &mut found);
            non_root(workload.pod, container, &object, &mut found);
            pod_security::restricted(workload.pod, container, &object, &mut found);
            pod_security::secrets_in_files(container, &object, &mut found);
            read_only_root(container, &object, &mut found);
            image(container, context, &object, &mut found);
            if ours {
                probes(container, &object, &mut found);
                graceful_shutdown(workload.pod, container, &object, &mut found);
            }
        }
    }
    references(manifests, &workloads, context, &mut found);
    crate::ingress::backends(manifests, &mut found);
    crate::observability::alert_rules(manifests, &mut found);
    crate::isolation::check(manifests, &workloads, &mut found);
    pod_security::namespaces(&manifests.namespaces, &mut found);
    if context.production {
        crate::production::check(manifests, &workloads, context, &mut found);
    }
    found.into_violations()
}

fn resources(container: &Container, object: &str, found: &mut Found) {
    let resources = container.resources.as_ref();
    for (what, map) in [
        ("requests", resources.and_then(|r| r.requests.as_ref())),
        ("limits", resources.and_then(|r| r.limits.as_ref())),
    ] {
        for resource in ["cpu", "memory"] {
            if !map.is_some_and(|m| m.contains_key(resource)) {
                found.add("resources", object, format!("no {resource} {what}"));
            }
        }
    }
}

fn non_root(pod: &PodSpec, container: &Container, object: &str, found: &mut Found) {
    let pod_context = pod.security_context.as_ref();
    let context = container.security_context.as_ref();
    let non_root = context
        .and_then(|c| c.run_as_non_root)
        .or(pod_context.and_then(|p| p.run_as_non_root));
    if non_root != Some(true) {
        found.add("non-root", object, "runAsNonRoot is not true");
    }
    let user = context
        .and_then(|c| c.run_as_user)
        .or(pod_context.and_then(|p| p.run_as_user));
    if user == Some(0) {
        found.add("non-root", object, "runs as user 0");
    }
    if context.and_then(|c| c.allow_privilege_escalation) != Some(false) {
        found.add("non-root", object, "allowPrivilegeEscalation is not false");
    }
}

fn read_only_root(container: &Container, object: &str, found: &mut Found) {
    let read_only = container
        .security_context
        .as_ref()
        .and_then(|c| c.read_only_root_filesystem);
    if read_only != Some(true) {
        found.add(
            "read-only-root",
            object,
            "readOnlyRootFilesystem is not true",
        );
    }
}

fn image(container: &Container, context: &Context, object: &str, found: &mut Found) {
    let Some(image) = container.image.as_deref() else {
        found.add("images", object, "no image");
        return;
    };
    let repo = repository(image);
    if context.our_images.contains(repo) {
        return;
    }
    if repo.starts_with("ticketing/") {
        found.add(
            "images",
            object,
            format!("{image} is not an image skaffold builds"),
        );
    } else if repo == image || image.ends_with(":latest") {
        found.add(
            "images",
            object,
            format!("{image} is a third-party image without a fixed version"),
        );
    }
}

fn probes(container: &Container, object: &str, found: &mut Found) {
    let path = |probe: Option<&k8s_openapi::api::core::v1::Probe>| {
        probe
            .and_then(|p| p.http_get.as_ref())
            .and_then(|h| h.path.clone())
    };
    if path(container.readiness_probe.as_ref()).as_deref() != Some("/readyz") {
        found.add("probes", object, "no readiness probe on /readyz");
    }
    if path(container.liveness_probe.as_ref()).as_deref() != Some("/healthz") {
        found.add("probes", object, "no liveness probe on /healthz");
    }
}

fn graceful_shutdown(pod: &PodSpec, container: &Container, object: &str, found: &mut Found) {
    let grace = pod.termination_grace_period_seconds.unwrap_or(30);
    let pause = container
        .lifecycle
        .as_ref()
        .and_then(|l| l.pre_stop.as_ref())
        .and_then(|h| h.sleep.as_ref())
        .map(|s| s.seconds);
    match pause {
        None => found.add(
            "graceful-shutdown",
            object,
            "no preStop pause: requests may still be routed to a stopping pod",
        ),
        Some(seconds) if seconds + 10 > grace => found.add(
            "graceful-shutdown",
            object,
            format!("a {seconds} s preStop pause leaves under 10 s of the {grace} s grace period to finish"),
        ),
        Some(_) => {}
    }
}

fn references(
    manifests: &Manifests,
    workloads: &[Workload<'_>],
    context: &Context,
    found: &mut Found,
) {
    let secrets: BTreeMap<String, BTreeSet<String>> = manifests
        .secrets
        .iter()
        .map(|s| {
            let keys = s
                .data
                .iter()
                .flatten()
                .map(|(k, _)| k.clone())
                .chain(s.string_data.iter().flatten().map(|(k, _)| k.clone()))
                .collect();
            (s.metadata.name.clone().unwrap_or_default(), keys)
        })
        .collect();
    let config_maps: BTreeMap<String, BTreeSet<String>> = manifests
        .config_maps
        .iter()
        .map(|c| {
            let keys = c
                .data
                .iter()
                .flatten()
                .map(|(k, _)| k.clone())
                .chain(c.binary_data.iter().flatten().map(|(k, _)| k.clone()))
                .collect();
            (c.metadata.name.clone().unwrap_or_default(), keys)
        })
        .collect();
    let secret = |name: &str, key: Option<&str>, object: &str, found: &mut Found| match (
        secrets.get(name),
        key,
    ) {
        (Some(keys), Some(key)) if !keys.contains(key) => found.add(
            "references",
            object,
            format!("secret {name} has no key {key}"),
        ),
        (Some(_), _) => {}
        (None, _) if context.external_secrets.contains(name) => {}
        (None, _) => found.add(
            "references",
            object,
            format!("secret {name} is not defined"),
        ),
    };
    let config_map = |name: &str, key: Option<&str>, object: &str, found: &mut Found| match (
        config_maps.get(name),
        key,
    ) {
        (Some(keys), Some(key)) if !keys.contains(key) => found.add(
            "references",
            object,
            format!("config map {name} has no key {key}"),
        ),
        (Some(_), _) => {}
        (None, _) => found.add(
            "references",
            object,
            format!("config map {name} is not defined"),
        ),
    };
    for workload in workloads {
        for container in containers(workload.pod) {
            let object = format!("{} {}/{}", workload.kind, workload.name, container.name);
            for var in container.env.iter().flatten() {
                let Some(from) = var.value_from.as_ref() else {
                    continue;
                };
                if let Some(r) = &from.secret_key_ref {
                    secret(&r.name, Some(&r.key), &object, found);
                }
                if let Some(r) = &from.config_map_key_ref {
                    config_map(&r.name, Some(&r.key), &object, found);
                }
            }
            for source in container.env_from.iter().flatten() {
                if let Some(r) = &source.secret_ref {
                    secret(&r.name, None, &object, found);
                }
                if let Some(r) = &source.config_map_ref {
                    config_map(&r.name, None, &object, found);
                }
            }
        }
        let object = format!("{} {}", workload.kind, workload.name);
        for volume in workload.pod.volumes.iter().flatten() {
            let mounted = volume.secret.as_ref();
            if let Some(name) = mounted.and_then(|s| s.secret_name.as_deref()) {
                secret(name, None, &object, found);
                for item in mounted.and_then(|s| s.items.as_ref()).into_iter().flatten() {
                    secret(name, Some(&item.key), &object, found);
                }
            }
            if let Some(c) = &volume.config_map {
                config_map(&c.name, None, &object, found);
            }
        }
    }
    for ingress in &manifests.ingresses {
        let object = format!(
            "Ingress {}",
            ingress.metadata.name.as_deref().unwrap_or_default()
        );
        let tls = ingress.spec.iter().flat_map(|s| s.tls.iter().flatten());
        for name in tls.filter_map(|t| t.secret_name.as_deref()) {
            secret(name, None, &object, found);
        }
    }
}
