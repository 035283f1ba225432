//! The pods the manifests run, whichever kind of workload runs them.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec};

use crate::manifests::Manifests;

/// A Deployment, a StatefulSet, a Job or a CronJob, as the rules look at it.
pub struct Workload<'a> {
    pub kind: &'static str,
    pub name: String,
    pub replicas: Option<i32>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub pod: &'a PodSpec,
}

impl<'a> Workload<'a> {
    fn of(
        kind: &'static str,
        name: Option<&String>,
        replicas: Option<i32>,
        template: &'a PodTemplateSpec,
    ) -> Option<Self> {
        let metadata = template.metadata.as_ref()?;
        Some(Workload {
            kind,
            name: name.cloned().unwrap_or_default(),
            replicas,
            labels: metadata.labels.clone().unwrap_or_default(),
            annotations: metadata.annotations.clone().unwrap_or_default(),
            pod: template.spec.as_ref()?,
        })
    }
}

pub fn workloads(manifests: &Manifests) -> Vec<Workload<'_>> {
    let deployments = manifests.deployments.iter().filter_map(|d| {
        let spec = d.spec.as_ref()?;
        Workload::of(
            "Deployment",
            d.metadata.name.as_ref(),
            spec.replicas,
            &spec.template,
        )
    });
    let stateful_sets = manifests.stateful_sets.iter().filter_map(|s| {
        let spec = s.spec.as_ref()?;
        Workload::of(
            "StatefulSet",
            s.metadata.name.as_ref(),
            spec.replicas,
            &spec.template,
        )
    });
    let jobs = manifests.jobs.iter().filter_map(|j| {
        let spec = j.spec.as_ref()?;
        Workload::of("Job", j.metadata.name.as_ref(), None, &spec.template)
    });
    let cron_jobs = manifests.cron_jobs.iter().filter_map(|c| {
        let spec = c.spec.as_ref()?.job_template.spec.as_ref()?;
        Workload::of("CronJob", c.metadata.name.as_ref(), None, &spec.template)
    });
    deployments
        .chain(stateful_sets)
        .chain(jobs)
        .chain(cron_jobs)
        .collect()
}

/// A pod's containers, its init containers included.
pub fn containers(pod: &PodSpec) -> impl Iterator<Item = &Container> {
    pod.containers
        .iter()
        .chain(pod.init_containers.iter().flatten())
}
