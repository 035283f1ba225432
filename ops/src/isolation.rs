//! The NetworkPolicy rules, decided from the reachability the policies give
//! (`network`): every pod is under a policy, both directions are denied by
//! default, each database is reached by its own clients only, and the paths
//! the design has stay open.
//!
//! A database is a workload named `<svc>-mongo`. Its own clients are the
//! pods whose `app.kubernetes.io/name` is `<svc>` (the service that owns
//! it), `<svc>-mongo-backup` or `<svc>-mongo-init` (its backup and init
//! jobs). Nothing else, inside the namespace or out, may reach it.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use crate::found::{Found, Violation};
use crate::manifests::Manifests;
use crate::network::{self, Endpoint, IpBlocks, Namespace, Policies, Port};
use crate::workloads::{Workload, containers, workloads};

/// The label that names what a pod is part of.
pub const NAME: &str = "app.kubernetes.io/name";
/// The suffixes of a database's own jobs, after `<svc>-mongo`.
pub const OWN_JOBS: [&str; 2] = ["-backup", "-init"];
/// The port the services reach their databases on.
const MONGO_PORT: i32 = 27017;
/// A public address standing for Stripe's API.
const STRIPE: Ipv4Addr = Ipv4Addr::new(54, 187, 174, 169);

/// The network rules alone, for one rendered overlay.
pub fn violations(manifests: &Manifests) -> Vec<Violation> {
    let mut found = Found::default();
    check(manifests, &workloads(manifests), &mut found);
    found.into_violations()
}

pub(crate) fn check(manifests: &Manifests, workloads: &[Workload<'_>], found: &mut Found) {
    let ours = our_namespace(manifests);
    let policies = Policies {
        namespace: &ours.name,
        list: &manifests.network_policies,
    };
    let pods: Vec<(String, Endpoint)> = workloads
        .iter()
        .map(|w| (format!("{} {}", w.kind, w.name), endpoint(w, &ours)))
        .collect();
    coverage(&policies, workloads, found);
    default_deny(&policies, found);
    databases(&policies, workloads, &pods, &ours, found);
    paths(&policies, manifests, workloads, &pods, found);
}

/// The namespace the overlay deploys to: the one it creates, else the one
/// its policies name, else the default.
fn our_namespace(manifests: &Manifests) -> Namespace {
    if let Some(namespace) = manifests.namespaces.first() {
        let name = namespace.metadata.name.clone().unwrap_or_default();
        return Namespace::new(&name, namespace.metadata.labels.clone().unwrap_or_default());
    }
    let named = manifests
        .network_policies
        .iter()
        .find_map(|p| p.metadata.namespace.clone());
    Namespace::new(named.as_deref().unwrap_or("default"), BTreeMap::new())
}

fn endpoint(workload: &Workload<'_>, namespace: &Namespace) -> Endpoint {
    let ports = containers(workload.pod)
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| Some((p.name.clone()?, p.container_port)))
        .collect();
    Endpoint::Pod {
        namespace: namespace.clone(),
        labels: workload.labels.clone(),
        ports,
    }
}

/// What a workload's pods are, by their name label (or the workload's name).
fn identity(workload: &Workload<'_>) -> String {
    workload
        .labels
        .get(NAME)
        .cloned()
        .unwrap_or_else(|| workload.name.clone())
}

/// Every pod is selected by some policy: a pod no policy selects accepts
/// and opens any connection.
fn coverage(policies: &Policies<'_>, workloads: &[Workload<'_>], found: &mut Found) {
    for workload in workloads {
        if policies.selecting(&workload.labels).next().is_none() {
            found.add(
                "network-coverage",
                &format!("{} {}", workload.kind, workload.name),
                "no NetworkPolicy selects its pods: any connection to or from them is allowed",
            );
        }
    }
}

/// Some policy selects every pod and lets nothing in, and some lets
/// nothing out, so that only what a policy names goes through.
fn default_deny(policies: &Policies<'_>, found: &mut Found) {
    for (ingress, direction) in [(true, "ingress"), (false, "egress")] {
        let denied = policies.list.iter().any(|p| {
            network::selects_all(p.spec.as_ref().and_then(|s| s.pod_selector.as_ref()))
                && network::denies_all(p, ingress)
        });
        if !denied {
            found.add(
                "default-deny",
                &format!("namespace {}", policies.namespace),
                format!("no NetworkPolicy denies all {direction} to every pod by default"),
            );
        }
    }
}

fn ingress_controller() -> Endpoint {
    let namespace = Namespace::new("ingress-nginx", BTreeMap::new());
    let labels = [
        (NAME, "ingress-nginx"),
        ("app.kubernetes.io/component", "controller"),
    ];
    Endpoint::pod(&namespace, &labels)
}

fn prometheus() -> Endpoint {
    Endpoint::pod(
        &Namespace::new("monitoring", BTreeMap::new()),
        &[(NAME, "prometheus")],
    )
}

/// Pods outside the workloads that must not reach a database either.
fn strangers(ours: &Namespace) -> Vec<(&'static str, Endpoint)> {
    let elsewhere = Namespace::new("elsewhere", BTreeMap::new());
    vec![
        ("the ingress controller", ingress_controller()),
        ("Prometheus", prometheus()),
        ("a pod of another namespace", Endpoint::pod(&elsewhere, &[])),
        (
            "a pod of this namespace no workload runs",
            Endpoint::pod(ours, &[]),
        ),
        (
            "an address outside the cluster",
            Endpoint::Address(Ipv4Addr::new(203, 0, 113, 7)),
        ),
    ]
}

/// Each database is reached by its own clients only, on any port it
/// serves, and its service does reach it.
fn databases(
    policies: &Policies<'_>,
    workloads: &[Workload<'_>],
    pods: &[(String, Endpoint)],
    ours: &Namespace,
    found: &mut Found,
) {
    for (db, db_pod) in workloads.iter().zip(pods) {
        let Some(service) = db.name.strip_suffix("-mongo") else {
            continue;
        };
        let object = format!("{} {}", db.kind, db.name);
        let mut ports: Vec<i32> = containers(db.pod)
            .flat_map(|c| c.ports.iter().flatten())
            .map(|p| p.container_port)
            .collect();
        if ports.is_empty() {
            ports.push(MONGO_PORT);
        }
        let own: Vec<String> = std::iter::once(service.to_string())
            .chain(OWN_JOBS.iter().map(|job| format!("{}{job}", db.name)))
            .collect();
        let others = workloads
            .iter()
            .zip(pods)
            .filter(|(w, _)| w.name != db.name && !own.contains(&identity(w)))
            .map(|(_, (name, pod))| (name.clone(), pod.clone()));
        let strangers = strangers(ours).into_iter().map(|(n, p)| (n.to_string(), p));
        for (name, pod) in others.chain(strangers) {
            for port in &ports {
                if policies.reachable(&pod, &db_pod.1, Port::tcp(*port), IpBlocks::MayMatchPods) {
                    found.add(
                        "database-isolation",
                        &object,
                        format!(
                            "{name} can reach it on port {port}: only {} may",
                            own.join(", ")
                        ),
                    );
                }
            }
        }
        // Its service, and its jobs by name or by label: a job whose label
        // the policies do not expect is cut off, and is caught here.
        let clients = workloads.iter().zip(pods).filter(|(w, _)| {
            (w.kind == "Deployment" && identity(w) == service)
                || own[1..].contains(&identity(w))
                || own[1..].contains(&w.name)
        });
        for (_, (name, client_pod)) in clients {
            let port = Port::tcp(MONGO_PORT);
            if !policies.reachable(client_pod, &db_pod.1, port, IpBlocks::NeverMatchPods) {
                let message = format!("{name} cannot reach it on port {MONGO_PORT}");
                found.add("database-isolation", &object, message);
            }
        }
    }
}

/// A connection the design needs, and what to say if it is closed.
struct Need {
    from: Endpoint,
    to: Endpoint,
    port: Port,
    message: String,
}

/// The paths the design has, each of which must stay open.
fn paths(
    policies: &Policies<'_>,
    manifests: &Manifests,
    workloads: &[Workload<'_>],
    pods: &[(String, Endpoint)],
    found: &mut Found,
) {
    let backends: Vec<String> = manifests
        .ingresses
        .iter()
        .filter_map(|i| i.spec.as_ref())
        .flat_map(|s| s.rules.iter().flatten())
        .filter_map(|r| r.http.as_ref())
        .flat_map(|h| h.paths.iter())
        .filter_map(|p| Some(p.backend.service.as_ref()?.name.clone()))
        .collect();
    for (workload, (object, pod)) in workloads.iter().zip(pods) {
        for need in needs(workload, pod, workloads, pods, &backends) {
            if !policies.reachable(&need.from, &need.to, need.port, IpBlocks::NeverMatchPods) {
                found.add("network-paths", object, need.message);
            }
        }
    }
}

/// What a workload's pods must reach, and be reached by: read from the
/// settings its containers get, the Ingress, its scrape annotations and
/// whether it runs as a cluster.
fn needs(
    workload: &Workload<'_>,
    pod: &Endpoint,
    workloads: &[Workload<'_>],
    pods: &[(String, Endpoint)],
    backends: &[String],
) -> Vec<Need> {
    let out = |what: &str, to: Endpoint, port: Port| Need {
        from: pod.clone(),
        to,
        port,
        message: format!("cannot reach {what} on port {}", port.number),
    };
    let into = |what: &str, from: Endpoint, port: Port| Need {
        from,
        to: pod.clone(),
        port,
        message: format!("{what} cannot reach it on port {}", port.number),
    };
    let pod_of = |name: &str| {
        let found = workloads.iter().zip(pods).find(|(w, _)| w.name == name);
        found.map(|(_, (_, p))| p.clone())
    };
    let env = |var: &str| {
        containers(workload.pod)
            .flat_map(|c| c.env.iter().flatten())
            .any(|e| e.name == var)
    };
    let kube_system = Namespace::new("kube-system", BTreeMap::new());
    let dns = Endpoint::pod(&kube_system, &[("k8s-app", "kube-dns")]);
    let mut needs = vec![out("the cluster DNS", dns, Port::udp(53))];
    if let (true, Some(nats)) = (env("NATS_URL"), pod_of("nats")) {
        needs.push(out("nats", nats, Port::tcp(4222)));
    }
    if let (true, Some(redis)) = (env("REDIS_URL"), pod_of("redis")) {
        needs.push(out("redis", redis, Port::tcp(6379)));
    }
    if env("STRIPE_API_BASE") {
        needs.push(out("Stripe", Endpoint::Address(STRIPE), Port::tcp(443)));
    }
    if env("API_BASE_URL") {
        needs.push(out(
            "the ingress controller",
            ingress_controller(),
            Port::tcp(80),
        ));
    }
    let http = containers(workload.pod)
        .flat_map(|c| c.ports.iter().flatten())
        .find(|p| p.name.as_deref() == Some("http"));
    if let (true, Some(http)) = (backends.contains(&workload.name), http) {
        let port = Port::tcp(http.container_port);
        needs.push(into("the ingress controller", ingress_controller(), port));
    }
    let annotation = |key: &str| workload.annotations.get(&format!("prometheus.io/{key}"));
    let scrape_port = annotation("port").and_then(|p| p.parse().ok());
    if let (Some("true"), Some(port)) = (annotation("scrape").map(String::as_str), scrape_port) {
        needs.push(into("Prometheus", prometheus(), Port::tcp(port)));
    }
    let clustered = workload.replicas.unwrap_or(1) > 1;
    if clustered && workload.name == "nats" {
        needs.push(into("the other NATS servers", pod.clone(), Port::tcp(6222)));
    }
    if clustered && workload.name.ends_with("-mongo") {
        let port = Port::tcp(MONGO_PORT);
        needs.push(into("the other replica-set members", pod.clone(), port));
    }
    needs
}
