//! What the Pod Security `restricted` level and the platform's hardening
//! ask of every pod: no service account token (no pod of ours calls the
//! Kubernetes API), no secret in the environment (secrets are files), a
//! seccomp profile and no capabilities; and namespaces that enforce it.

use k8s_openapi::api::core::v1::{Container, Namespace, PodSpec};

use crate::found::Found;

/// The labels that make a namespace enforce, audit and warn at a level.
pub(crate) const LEVEL_LABELS: [&str; 3] = [
    "pod-security.kubernetes.io/enforce",
    "pod-security.kubernetes.io/audit",
    "pod-security.kubernetes.io/warn",
];

/// The pod does not get a token for the Kubernetes API mounted.
pub(crate) fn service_account_token(pod: &PodSpec, object: &str, found: &mut Found) {
    if pod.automount_service_account_token != Some(false) {
        found.add(
            "service-account-token",
            object,
            "automountServiceAccountToken is not false: the pod gets an API token it never uses",
        );
    }
}

/// No variable of the container comes from a secret: secrets are mounted
/// as files and named by `NAME_FILE`.
pub(crate) fn secrets_in_files(container: &Container, object: &str, found: &mut Found) {
    for var in container.env.iter().flatten() {
        let from_secret = var
            .value_from
            .as_ref()
            .is_some_and(|f| f.secret_key_ref.is_some());
        if from_secret {
            found.add(
                "secret-env",
                object,
                format!(
                    "{} comes from a secret: mount it and set {}_FILE",
                    var.name, var.name
                ),
            );
        }
    }
    for source in container.env_from.iter().flatten() {
        if let Some(secret) = &source.secret_ref {
            found.add(
                "secret-env",
                object,
                format!("the environment comes from secret {}", secret.name),
            );
        }
    }
}

/// What `restricted` asks beyond running as non-root without privilege
/// escalation (the `non-root` rule): a seccomp profile, every capability
/// dropped and none added but binding low ports.
pub(crate) fn restricted(pod: &PodSpec, container: &Container, object: &str, found: &mut Found) {
    let profile =
        |p: Option<&k8s_openapi::api::core::v1::SeccompProfile>| p.map(|p| p.type_.clone());
    let seccomp = profile(
        container
            .security_context
            .as_ref()
            .and_then(|c| c.seccomp_profile.as_ref()),
    )
    .or(profile(
        pod.security_context
            .as_ref()
            .and_then(|c| c.seccomp_profile.as_ref()),
    ));
    if !matches!(seccomp.as_deref(), Some("RuntimeDefault" | "Localhost")) {
        found.add(
            "restricted",
            object,
            "no seccomp profile RuntimeDefault (or Localhost)",
        );
    }
    let capabilities = container
        .security_context
        .as_ref()
        .and_then(|c| c.capabilities.as_ref());
    let dropped = capabilities
        .and_then(|c| c.drop.as_ref())
        .is_some_and(|d| d.iter().any(|c| c == "ALL"));
    if !dropped {
        found.add("restricted", object, "capabilities do not drop ALL");
    }
    for added in capabilities
        .and_then(|c| c.add.as_ref())
        .into_iter()
        .flatten()
    {
        if added != "NET_BIND_SERVICE" {
            found.add("restricted", object, format!("adds the capability {added}"));
        }
    }
}

/// Every namespace enforces, audits and warns at the `restricted` level.
pub(crate) fn namespaces(namespaces: &[Namespace], found: &mut Found) {
    for namespace in namespaces {
        let object = format!(
            "Namespace {}",
            namespace.metadata.name.as_deref().unwrap_or_default()
        );
        let labels = namespace.metadata.labels.clone().unwrap_or_default();
        for label in LEVEL_LABELS {
            if labels.get(label).map(String::as_str) != Some("restricted") {
                found.add(
                    "pod-security-labels",
                    &object,
                    format!("{label} is not restricted"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::found::Violation;

    fn found(check: impl FnOnce(&mut Found)) -> Vec<Violation> {
        let mut found = Found::default();
        check(&mut found);
        found.into_violations()
    }

    fn pod(value: serde_json::Value) -> PodSpec {
        serde_json::from_value(value).unwrap()
    }

    fn container(value: serde_json::Value) -> Container {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_pod_without_a_token_passes_and_one_left_to_the_default_does_not() {
        // Given a pod that opts out of the token and one that says nothing
        let opted_out = pod(json!({"containers": [], "automountServiceAccountToken": false}));
        let default = pod(json!({"containers": []}));
        // When the rule looks at them
        // Then only the second is named
        assert!(found(|f| service_account_token(&opted_out, "Job a", f)).is_empty());
        let violations = found(|f| service_account_token(&default, "Job b", f));
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].rule, "service-account-token");
        assert_eq!(violations[0].object, "Job b");
    }

    #[test]
    fn a_variable_from_a_secret_is_named_and_a_file_setting_is_not() {
        // Given a container with JWT_KEY from a secret, JWT_KEY_FILE
        // pointing at a mount, and a whole secret as its environment
        let c = container(json!({
            "name": "auth",
            "env": [
                {"name": "JWT_KEY", "valueFrom": {"secretKeyRef": {"name": "jwt", "key": "JWT_KEY"}}},
                {"name": "JWT_KEY_FILE", "value": "/run/secrets/jwt/JWT_KEY"},
            ],
            "envFrom": [{"secretRef": {"name": "stripe"}}],
        }));
        // When the rule looks at it
        let violations = found(|f| secrets_in_files(&c, "Deployment auth/auth", f));
        // Then the secret variable and the secret environment are named
        let messages: Vec<_> = violations.iter().map(|v| v.message.as_str()).collect();
        assert_eq!(violations.len(), 2, "{messages:?}");
        assert!(messages[0].contains("JWT_KEY comes from a secret"));
        assert!(messages[1].contains("secret stripe"));
    }

    #[test]
    fn restricted_takes_the_pods_seccomp_profile_and_wants_every_capability_dropped() {
        // Given a pod with RuntimeDefault and a container that drops ALL
        let p = pod(
            json!({"containers": [], "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}}),
        );
        let good =
            container(json!({"name": "a", "securityContext": {"capabilities": {"drop": ["ALL"]}}}));
        // Then it passes
        assert!(found(|f| restricted(&p, &good, "x", f)).is_empty());
        // Given a container that keeps its capabilities, adds one, in a
        // pod without a profile
        let bare = pod(json!({"containers": []}));
        let bad = container(
            json!({"name": "b", "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}}),
        );
        // When the rule looks at it
        let violations = found(|f| restricted(&bare, &bad, "y", f));
        // Then each of the three is named
        let messages: Vec<_> = violations.iter().map(|v| v.message.clone()).collect();
        assert_eq!(violations.len(), 3, "{messages:?}");
        assert!(violations.iter().all(|v| v.rule == "restricted"));
    }

    #[test]
    fn a_namespace_needs_all_three_restricted_labels() {
        // Given a namespace that enforces restricted but only warns at baseline
        let namespace: Namespace = serde_json::from_value(json!({
            "metadata": {"name": "ticketing", "labels": {
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/warn": "baseline",
            }},
        }))
        .unwrap();
        // When the rule looks at it
        let violations = found(|f| namespaces(&[namespace], f));
        // Then audit and warn are named
        let messages: Vec<_> = violations.iter().map(|v| v.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "pod-security.kubernetes.io/audit is not restricted",
                "pod-security.kubernetes.io/warn is not restricted"
            ]
        );
        assert_eq!(violations[0].object, "Namespace ticketing");
    }
}
