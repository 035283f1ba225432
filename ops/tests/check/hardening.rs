//! The hardening rules (Pod Security, secrets as files, spread, databases
//! as backed-up replica sets), each fed a real overlay that breaks it.

use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, SecretKeySelector};

use super::*;

fn backup<'a>(m: &'a mut Manifests, name: &str) -> &'a mut CronJob {
    m.cron_jobs
        .iter_mut()
        .find(|c| c.metadata.name.as_deref() == Some(name))
        .unwrap()
}

fn backup_pod<'a>(m: &'a mut Manifests, name: &str) -> &'a mut PodSpec {
    let spec = backup(m, name).spec.as_mut().unwrap();
    let job = spec.job_template.spec.as_mut().unwrap();
    job.template.spec.as_mut().unwrap()
}

#[test]
fn every_hardening_rule_rejects_a_manifest_that_breaks_it() {
    let cases: [(&str, &str, &str, Breakage); 13] = [
        (
            "service-account-token",
            "dev",
            "a token left to the default",
            |m| stateful_pod(m, "nats").automount_service_account_token = None,
        ),
        ("service-account-token", "prod", "a job with a token", |m| {
            let job = m.jobs.iter_mut().next().unwrap();
            let pod = job.spec.as_mut().unwrap().template.spec.as_mut().unwrap();
            pod.automount_service_account_token = Some(true);
        }),
        ("secret-env", "dev", "a secret in the environment", |m| {
            container(m, "auth").env.as_mut().unwrap().push(EnvVar {
                name: "JWT_KEY".into(),
                value_from: Some(EnvVarSource {
                    secret_key_ref: Some(SecretKeySelector {
                        name: "jwt".into(),
                        key: "JWT_KEY".into(),
                        optional: None,
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            })
        }),
        ("restricted", "dev", "capabilities kept", |m| {
            let context = stateful_container(m, "redis").security_context.as_mut();
            context.unwrap().capabilities = None;
        }),
        (
            "restricted",
            "prod",
            "no seccomp profile on a backup",
            |m| {
                let context = backup_pod(m, "auth-mongo-backup").security_context.as_mut();
                context.unwrap().seccomp_profile = None;
            },
        ),
        (
            "pod-security-labels",
            "dev",
            "a namespace that only warns",
            |m| {
                let labels = m.namespaces[0].metadata.labels.as_mut().unwrap();
                labels.remove("pod-security.kubernetes.io/enforce");
            },
        ),
        ("spread", "prod", "services crowded on one node", |m| {
            pod(m, "orders").topology_spread_constraints = None
        }),
        ("spread", "prod", "NATS servers crowded on one node", |m| {
            stateful_pod(m, "nats").topology_spread_constraints = None
        }),
        (
            "database-replica-set",
            "prod",
            "a database of one member",
            |m| {
                let s = m
                    .stateful_sets
                    .iter_mut()
                    .find(|s| s.metadata.name.as_deref() == Some("tickets-mongo"))
                    .unwrap();
                s.spec.as_mut().unwrap().replicas = Some(1);
            },
        ),
        (
            "database-replica-set",
            "prod",
            "a database without a budget",
            |m| {
                m.disruption_budgets
                    .retain(|p| p.metadata.name.as_deref() != Some("orders-mongo"))
            },
        ),
        ("backups", "prod", "a database nobody backs up", |m| {
            m.cron_jobs
                .retain(|c| c.metadata.name.as_deref() != Some("payments-mongo-backup"))
        }),
        ("backups", "prod", "a backup keeping three archives", |m| {
            let dump = &mut backup_pod(m, "orders-mongo-backup").containers[0];
            let env = dump.env.as_mut().unwrap();
            env.iter_mut().find(|v| v.name == "KEEP").unwrap().value = Some("3".into());
        }),
        ("backups", "prod", "two dumps at once", |m| {
            let spec = backup(m, "auth-mongo-backup").spec.as_mut().unwrap();
            spec.concurrency_policy = Some("Allow".into());
        }),
    ];
    assert_rejected(&cases);
}
