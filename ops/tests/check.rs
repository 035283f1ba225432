//! `check` against the real manifests (rendered by kubectl kustomize), and
//! every rule fed a manifest that breaks it (the hardening rules in
//! `check/hardening.rs`).

#[path = "check/hardening.rs"]
mod hardening;

use std::path::PathBuf;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Container, PodSpec};
use ops::manifests::{self, Manifests};
use ops::rules::{self, Context};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn skaffold() -> String {
    std::fs::read_to_string(root().join("skaffold.yaml")).unwrap()
}

fn rendered(overlay: &str) -> (Manifests, Context) {
    let dir = root().join("infra/k8s").join(overlay);
    let context = Context {
        our_images: manifests::skaffold_images(&skaffold()).unwrap(),
        external_secrets: manifests::external_secrets(&dir).unwrap(),
        production: overlay == "prod",
    };
    (Manifests::render(&dir).unwrap(), context)
}

fn deployment<'a>(m: &'a mut Manifests, name: &str) -> &'a mut Deployment {
    m.deployments
        .iter_mut()
        .find(|d| d.metadata.name.as_deref() == Some(name))
        .unwrap()
}

fn pod<'a>(m: &'a mut Manifests, deployment_name: &str) -> &'a mut PodSpec {
    let d = deployment(m, deployment_name);
    d.spec.as_mut().unwrap().template.spec.as_mut().unwrap()
}

fn stateful_pod<'a>(m: &'a mut Manifests, name: &str) -> &'a mut PodSpec {
    let s = m
        .stateful_sets
        .iter_mut()
        .find(|s| s.metadata.name.as_deref() == Some(name))
        .unwrap();
    s.spec.as_mut().unwrap().template.spec.as_mut().unwrap()
}

fn container<'a>(m: &'a mut Manifests, deployment_name: &str) -> &'a mut Container {
    let d = deployment(m, deployment_name);
    &mut d
        .spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .containers[0]
}

fn stateful_container<'a>(m: &'a mut Manifests, name: &str) -> &'a mut Container {
    let s = m
        .stateful_sets
        .iter_mut()
        .find(|s| s.metadata.name.as_deref() == Some(name))
        .unwrap();
    &mut s
        .spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .containers[0]
}

#[test]
fn our_manifests_pass_every_rule_in_every_overlay() {
    for (overlay, production) in ops::OVERLAYS {
        let violations =
            ops::check_overlay(&root().join("infra/k8s"), overlay, production, &skaffold())
                .unwrap();
        assert!(violations.is_empty(), "{overlay}: {violations:#?}");
    }
}

type Breakage = fn(&mut Manifests);

#[test]
fn every_rule_rejects_a_manifest_that_breaks_it() {
    let cases: [(&str, &str, &str, Breakage); 23] = [
        (
            "scraped",
            "dev",
            "a service Prometheus is not told to scrape",
            |m| {
                let template = &mut deployment(m, "orders").spec.as_mut().unwrap().template;
                template.metadata.as_mut().unwrap().annotations = None;
            },
        ),
        (
            "scraped",
            "prod",
            "a scrape port the pod does not serve",
            |m| {
                let template = &mut deployment(m, "client").spec.as_mut().unwrap().template;
                let annotations = template
                    .metadata
                    .as_mut()
                    .unwrap()
                    .annotations
                    .as_mut()
                    .unwrap();
                annotations.insert("prometheus.io/port".into(), "9999".into());
            },
        ),
        ("alerts", "prod", "an alert rule left out", |m| {
            let rules = m
                .config_maps
                .iter_mut()
                .find(|c| {
                    c.metadata
                        .name
                        .as_deref()
                        .unwrap()
                        .starts_with("prometheus-rules")
                })
                .unwrap();
            let text = rules.data.as_mut().unwrap().get_mut("alerts.yml").unwrap();
            *text = text.replace("alert: InboxBacklog", "record: inbox_backlog");
        }),
        ("probes", "dev", "no readiness probe", |m| {
            container(m, "orders").readiness_probe = None
        }),
        ("probes", "dev", "liveness on the wrong path", |m| {
            let probe = container(m, "client").liveness_probe.as_mut().unwrap();
            probe.http_get.as_mut().unwrap().path = Some("/".into());
        }),
        ("resources", "dev", "no limits", |m| {
            stateful_container(m, "nats")
                .resources
                .as_mut()
                .unwrap()
                .limits = None
        }),
        ("non-root", "dev", "root allowed", |m| {
            let s = m
                .stateful_sets
                .iter_mut()
                .find(|s| s.metadata.name.as_deref() == Some("redis"))
                .unwrap();
            let pod = s.spec.as_mut().unwrap().template.spec.as_mut().unwrap();
            pod.security_context.as_mut().unwrap().run_as_non_root = Some(false);
        }),
        ("non-root", "dev", "privilege escalation", |m| {
            container(m, "auth")
                .security_context
                .as_mut()
                .unwrap()
                .allow_privilege_escalation = Some(true)
        }),
        ("read-only-root", "dev", "a writable root", |m| {
            stateful_container(m, "tickets-mongo")
                .security_context
                .as_mut()
                .unwrap()
                .read_only_root_filesystem = None
        }),
        ("graceful-shutdown", "dev", "no preStop pause", |m| {
            container(m, "payments").lifecycle = None
        }),
        (
            "references",
            "dev",
            "a secret key that does not exist",
            |m| {
                let volumes = pod(m, "auth").volumes.as_mut().unwrap();
                let jwt = volumes.iter_mut().find(|v| v.name == "jwt").unwrap();
                jwt.secret.as_mut().unwrap().items.as_mut().unwrap()[0].key = "JWT_KEYS".into();
            },
        ),
        (
            "references",
            "dev",
            "a config map that does not exist",
            |m| {
                let env = container(m, "orders").env.as_mut().unwrap();
                let var = env.iter_mut().find(|e| e.name == "NATS_URL").unwrap();
                var.value_from
                    .as_mut()
                    .unwrap()
                    .config_map_key_ref
                    .as_mut()
                    .unwrap()
                    .name = "missing-config".into();
            },
        ),
        (
            "references",
            "prod",
            "a secret neither defined nor external",
            |m| {
                let volumes = pod(m, "payments").volumes.as_mut().unwrap();
                let stripe = volumes.iter_mut().find(|v| v.name == "stripe").unwrap();
                stripe.secret.as_mut().unwrap().secret_name = Some("stripe-keys".into());
            },
        ),
        (
            "ingress-backends",
            "dev",
            "a service that does not exist",
            |m| {
                let rule = &mut m.ingresses[0]
                    .spec
                    .as_mut()
                    .unwrap()
                    .rules
                    .as_mut()
                    .unwrap()[0];
                rule.http.as_mut().unwrap().paths[1]
                    .backend
                    .service
                    .as_mut()
                    .unwrap()
                    .name = "ticket".into();
            },
        ),
        (
            "ingress-backends",
            "dev",
            "a port the service does not have",
            |m| {
                let rule = &mut m.ingresses[0]
                    .spec
                    .as_mut()
                    .unwrap()
                    .rules
                    .as_mut()
                    .unwrap()[0];
                let port = rule.http.as_mut().unwrap().paths[0]
                    .backend
                    .service
                    .as_mut()
                    .unwrap()
                    .port
                    .as_mut()
                    .unwrap();
                port.name = Some("web".into());
            },
        ),
        ("images", "dev", "an image skaffold does not build", |m| {
            container(m, "orders").image = Some("ticketing/order".into())
        }),
        (
            "images",
            "dev",
            "a third-party image without a version",
            |m| stateful_container(m, "redis").image = Some("redis:latest".into()),
        ),
        ("replicas", "prod", "one replica", |m| {
            deployment(m, "orders").spec.as_mut().unwrap().replicas = Some(1)
        }),
        ("disruption-budgets", "prod", "no budget", |m| {
            m.disruption_budgets
                .retain(|p| p.metadata.name.as_deref() != Some("client"))
        }),
        ("autoscalers", "prod", "no autoscaler", |m| {
            m.autoscalers
                .retain(|h| h.metadata.name.as_deref() != Some("expiration"))
        }),
        ("nats-cluster", "prod", "one NATS server", |m| {
            let s = m
                .stateful_sets
                .iter_mut()
                .find(|s| s.metadata.name.as_deref() == Some("nats"))
                .unwrap();
            s.spec.as_mut().unwrap().replicas = Some(1);
        }),
        ("nats-cluster", "prod", "the stream kept once", |m| {
            for config in &mut m.config_maps {
                if let Some(value) = config
                    .data
                    .as_mut()
                    .and_then(|d| d.get_mut("NATS_STREAM_REPLICAS"))
                {
                    *value = "1".into();
                }
            }
        }),
        ("tls", "prod", "no TLS", |m| {
            m.ingresses[0].spec.as_mut().unwrap().tls = None
        }),
    ];
    assert_rejected(&cases);
}

/// Each rule passes the overlay as it is, and names the breakage.
fn assert_rejected(cases: &[(&str, &str, &str, Breakage)]) {
    for (rule, overlay, what, breakage) in cases {
        let (mut manifests, context) = rendered(overlay);
        assert!(
            rules::check(&manifests, &context).is_empty(),
            "{overlay} passes before breaking it"
        );
        breakage(&mut manifests);
        let violations = rules::check(&manifests, &context);
        assert!(
            violations.iter().any(|v| v.rule == *rule),
            "{rule} should reject {what} in {overlay}, got {violations:#?}"
        );
    }
}

#[test]
fn a_kind_the_rules_do_not_know_is_refused() {
    let yaml = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: nightly\n";
    let err = Manifests::parse(yaml).unwrap_err();
    assert!(err.to_string().contains("DaemonSet"), "{err}");
}
