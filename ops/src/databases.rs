//! Each service's MongoDB in production: a replica set of three members
//! that a node drain never takes below a majority, spread over nodes, and
//! backed up daily by a CronJob that keeps a week of archives.

use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, PodSpec};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;

use crate::context::repository;
use crate::found::Found;
use crate::spread::{budgeted, spreads};
use crate::workloads::Workload;

/// The annotation naming the database StatefulSet a backup CronJob dumps.
pub(crate) const BACKUP_OF: &str = "ticketing/backup-of";
/// The backup container's variable saying how many archives it keeps.
pub(crate) const KEEP: &str = "KEEP";
/// Archives a daily backup keeps at least: a week of them.
pub(crate) const KEPT: u32 = 7;
/// Members of each replica set: a majority survives one lost.
pub(crate) const MEMBERS: i32 = 3;

/// A pod that runs MongoDB.
pub(crate) fn is_database(pod: &PodSpec) -> bool {
    pod.containers
        .iter()
        .any(|c| c.image.as_deref().map(repository) == Some("mongo"))
}

/// Three members, a disruption budget over them, spread over nodes.
pub(crate) fn replica_set(
    database: &Workload<'_>,
    budgets: &[PodDisruptionBudget],
    found: &mut Found,
) {
    let object = format!("StatefulSet {}", database.name);
    if database.replicas != Some(MEMBERS) {
        found.add(
            "database-replica-set",
            &object,
            format!("{} members, not {MEMBERS}", database.replicas.unwrap_or(1)),
        );
    }
    if !budgeted(budgets, &database.labels) {
        found.add(
            "database-replica-set",
            &object,
            "no PodDisruptionBudget selects its members",
        );
    }
    if !spreads(database.pod, &database.labels) {
        found.add(
            "database-replica-set",
            &object,
            "its members do not spread over nodes",
        );
    }
}

/// A CronJob annotated as the database's backup runs one at a time, keeps
/// a week of archives, and writes them to a claim of the manifests.
pub(crate) fn backed_up(
    database: &str,
    cron_jobs: &[CronJob],
    claims: &[PersistentVolumeClaim],
    found: &mut Found,
) {
    let object = format!("StatefulSet {database}");
    let backup = cron_jobs.iter().find(|c| {
        let annotations = c.metadata.annotations.as_ref();
        annotations
            .and_then(|a| a.get(BACKUP_OF))
            .map(String::as_str)
            == Some(database)
    });
    let Some(backup) = backup else {
        found.add(
            "backups",
            &object,
            format!("no CronJob annotated {BACKUP_OF}: {database} backs it up"),
        );
        return;
    };
    let object = format!(
        "CronJob {}",
        backup.metadata.name.as_deref().unwrap_or_default()
    );
    let spec = backup.spec.as_ref();
    if spec.and_then(|s| s.concurrency_policy.as_deref()) != Some("Forbid") {
        found.add(
            "backups",
            &object,
            "concurrencyPolicy is not Forbid: two dumps could run at once",
        );
    }
    let pod = spec
        .and_then(|s| s.job_template.spec.as_ref())
        .and_then(|j| j.template.spec.as_ref());
    let kept = pod
        .iter()
        .flat_map(|p| p.containers.iter())
        .flat_map(|c| c.env.iter().flatten())
        .find(|v| v.name == KEEP)
        .and_then(|v| v.value.as_deref()?.parse::<u32>().ok());
    if kept.is_none_or(|k| k < KEPT) {
        found.add(
            "backups",
            &object,
            format!("does not keep {KEPT} archives at least ({KEEP})"),
        );
    }
    let claimed = pod
        .iter()
        .flat_map(|p| p.volumes.iter().flatten())
        .filter_map(|v| v.persistent_volume_claim.as_ref())
        .any(|c| {
            claims
                .iter()
                .any(|pvc| pvc.metadata.name.as_deref() == Some(c.claim_name.as_str()))
        });
    if !claimed {
        found.add(
            "backups",
            &object,
            "writes its archives to no PersistentVolumeClaim of the manifests",
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::found::Violation;

    fn member_pod(spread: bool) -> PodSpec {
        let mut pod = json!({"containers": [{"name": "mongo", "image": "mongo:7.0.14"}]});
        if spread {
            pod["topologySpreadConstraints"] = json!([{
                "maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "orders-mongo"}},
            }]);
        }
        serde_json::from_value(pod).unwrap()
    }

    fn database(pod: &PodSpec, replicas: i32) -> Workload<'_> {
        Workload {
            kind: "StatefulSet",
            name: "orders-mongo".into(),
            replicas: Some(replicas),
            labels: [(
                "app.kubernetes.io/name".to_string(),
                "orders-mongo".to_string(),
            )]
            .into(),
            annotations: Default::default(),
            pod,
        }
    }

    fn budget(name: &str) -> PodDisruptionBudget {
        serde_json::from_value(json!({"metadata": {"name": name}, "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
        }}))
        .unwrap()
    }

    fn found(check: impl FnOnce(&mut Found)) -> Vec<Violation> {
        let mut found = Found::default();
        check(&mut found);
        found.into_violations()
    }

    #[test]
    fn a_mongo_image_makes_a_database() {
        assert!(is_database(&member_pod(false)));
        let nats: PodSpec =
            serde_json::from_value(json!({"containers": [{"name": "nats", "image": "nats:2.10"}]}))
                .unwrap();
        assert!(!is_database(&nats));
    }

    #[test]
    fn three_members_budgeted_and_spread_pass() {
        // Given three spread members and a budget over them
        let pod = member_pod(true);
        // When the rule looks at them
        let violations = found(|f| replica_set(&database(&pod, 3), &[budget("orders-mongo")], f));
        // Then nothing is wrong
        assert!(violations.is_empty(), "{violations:?}");
    }

    #[test]
    fn one_member_without_a_budget_or_a_spread_is_named_three_times() {
        // Given the base's single member, the budget another database's
        let pod = member_pod(false);
        // When the rule looks at it
        let violations = found(|f| replica_set(&database(&pod, 1), &[budget("auth-mongo")], f));
        // Then the count, the budget and the spread are each named
        let messages: Vec<_> = violations.iter().map(|v| v.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "1 members, not 3",
                "no PodDisruptionBudget selects its members",
                "its members do not spread over nodes"
            ]
        );
    }

    fn cron_job(annotation: &str, policy: &str, keep: &str, claim: &str) -> CronJob {
        serde_json::from_value(json!({
            "metadata": {"name": "orders-mongo-backup", "annotations": {BACKUP_OF: annotation}},
            "spec": {"schedule": "0 3 * * *", "concurrencyPolicy": policy, "jobTemplate": {"spec": {"template": {"spec": {
                "containers": [{"name": "dump", "image": "mongo:7.0.14", "env": [{"name": KEEP, "value": keep}]}],
                "volumes": [{"name": "backups", "persistentVolumeClaim": {"claimName": claim}}],
            }}}}},
        }))
        .unwrap()
    }

    fn claims() -> Vec<PersistentVolumeClaim> {
        let claim: Value = json!({"metadata": {"name": "orders-mongo-backup"}});
        vec![serde_json::from_value(claim).unwrap()]
    }

    #[test]
    fn a_forbidding_backup_keeping_seven_on_a_claim_passes() {
        let jobs = [cron_job(
            "orders-mongo",
            "Forbid",
            "7",
            "orders-mongo-backup",
        )];
        let violations = found(|f| backed_up("orders-mongo", &jobs, &claims(), f));
        assert!(violations.is_empty(), "{violations:?}");
    }

    #[test]
    fn a_database_nobody_backs_up_is_named() {
        // Given only another database's backup
        let jobs = [cron_job("auth-mongo", "Forbid", "7", "orders-mongo-backup")];
        // When the rule looks for orders-mongo's
        let violations = found(|f| backed_up("orders-mongo", &jobs, &claims(), f));
        // Then the database is named
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].object, "StatefulSet orders-mongo");
    }

    #[test]
    fn a_backup_that_overlaps_keeps_too_few_or_writes_nowhere_is_named_for_each() {
        // Given a backup allowed to overlap, keeping 3, on a claim that does not exist
        let jobs = [cron_job("orders-mongo", "Allow", "3", "elsewhere")];
        // When the rule looks at it
        let violations = found(|f| backed_up("orders-mongo", &jobs, &claims(), f));
        // Then the three are named on the CronJob
        assert_eq!(violations.len(), 3, "{violations:?}");
        assert!(
            violations
                .iter()
                .all(|v| v.object == "CronJob orders-mongo-backup")
        );
    }
}
