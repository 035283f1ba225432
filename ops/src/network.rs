//! Who can reach whom under a namespace's NetworkPolicies, decided the way
//! the cluster enforces them: a connection from A to B on a port goes
//! through when A may send it (no policy selects A for egress, or one of
//! those that do allows it) and B may receive it (likewise, for ingress).
//! Pure: the policies and the two ends in, the answer out.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

mod addresses;
#[cfg(test)]
mod tests;

use addresses::{block_holds, block_may_hold_pods};

pub type Labels = BTreeMap<String, String>;

/// The label every namespace carries with its own name.
pub const NAMESPACE_NAME: &str = "kubernetes.io/metadata.name";

/// A namespace as a `namespaceSelector` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    pub name: String,
    pub labels: Labels,
}

impl Namespace {
    /// A namespace with its labels, and the one naming it that every
    /// namespace has.
    pub fn new(name: &str, labels: Labels) -> Self {
        let mut labels = labels;
        labels.insert(NAMESPACE_NAME.to_string(), name.to_string());
        Namespace {
            name: name.to_string(),
            labels,
        }
    }
}

/// One end of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A pod: its namespace, its labels and its containers' named ports.
    Pod {
        namespace: Namespace,
        labels: Labels,
        ports: BTreeMap<String, i32>,
    },
    /// An address outside the cluster's pods (Stripe, say).
    Address(Ipv4Addr),
}

impl Endpoint {
    pub fn pod(namespace: &Namespace, labels: &[(&str, &str)]) -> Self {
        Endpoint::Pod {
            namespace: namespace.clone(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ports: BTreeMap::new(),
        }
    }
}

/// A destination port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port {
    pub number: i32,
    pub protocol: &'static str,
}

impl Port {
    pub const fn tcp(number: i32) -> Self {
        Port {
            number,
            protocol: "TCP",
        }
    }

    pub const fn udp(number: i32) -> Self {
        Port {
            number,
            protocol: "UDP",
        }
    }
}

/// Whether an `ipBlock` counts as matching pods. Which address a pod's
/// traffic carries when a policy sees it is up to the network plugin, so
/// proving a path is closed assumes it may match, and proving a path is
/// open assumes it does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpBlocks {
    MayMatchPods,
    NeverMatchPods,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    fn name(self) -> &'static str {
        match self {
            Direction::Ingress => "Ingress",
            Direction::Egress => "Egress",
        }
    }
}

/// The NetworkPolicies of one namespace.
#[derive(Debug, Clone, Copy)]
pub struct Policies<'a> {
    pub namespace: &'a str,
    pub list: &'a [NetworkPolicy],
}

impl Policies<'_> {
    /// Whether `from` can open a connection to `to` on `port`.
    pub fn reachable(
        &self,
        from: &Endpoint,
        to: &Endpoint,
        port: Port,
        ip_blocks: IpBlocks,
    ) -> bool {
        self.admits(Direction::Egress, from, to, port, ip_blocks)
            && self.admits(Direction::Ingress, to, from, port, ip_blocks)
    }

    /// The policies that select a pod of this namespace, for either direction.
    pub fn selecting<'p>(&'p self, labels: &'p Labels) -> impl Iterator<Item = &'p NetworkPolicy> {
        self.list
            .iter()
            .filter(move |p| pod_selector(p).is_none_or(|s| selects(s, labels)))
    }

    /// Whether `subject` lets a connection with `peer` through in its
    /// `direction`: every pod is open until a policy selects it for it.
    fn admits(
        &self,
        direction: Direction,
        subject: &Endpoint,
        peer: &Endpoint,
        port: Port,
        ip_blocks: IpBlocks,
    ) -> bool {
        let Endpoint::Pod {
            namespace, labels, ..
        } = subject
        else {
            return true;
        };
        if namespace.name != self.namespace {
            return true;
        }
        let destination = match direction {
            Direction::Ingress => subject,
            Direction::Egress => peer,
        };
        let named_ports = match destination {
            Endpoint::Pod { ports, .. } => ports.clone(),
            Endpoint::Address(_) => BTreeMap::new(),
        };
        let mut governing = self
            .selecting(labels)
            .filter(|p| governs(p, direction))
            .peekable();
        if governing.peek().is_none() {
            return true;
        }
        governing.any(|policy| {
            rules(policy, direction).into_iter().any(|(peers, ports)| {
                let peer_allowed =
                    peers.is_empty() || peers.iter().any(|p| self.peer_matches(p, peer, ip_blocks));
                let port_allowed =
                    ports.is_empty() || ports.iter().any(|p| port_matches(p, port, &named_ports));
                peer_allowed && port_allowed
            })
        })
    }

    fn peer_matches(
        &self,
        peer: &NetworkPolicyPeer,
        endpoint: &Endpoint,
        ip_blocks: IpBlocks,
    ) -> bool {
        match endpoint {
            Endpoint::Address(address) => peer
                .ip_block
                .as_ref()
                .is_some_and(|block| block_holds(block, *address)),
            Endpoint::Pod {
                namespace, labels, ..
            } => {
                if let Some(block) = &peer.ip_block {
                    return ip_blocks == IpBlocks::MayMatchPods && block_may_hold_pods(block);
                }
                let in_namespace = match &peer.namespace_selector {
                    Some(selector) => selects(selector, &namespace.labels),
                    None => namespace.name == self.namespace,
                };
                in_namespace
                    && peer
                        .pod_selector
                        .as_ref()
                        .is_none_or(|s| selects(s, labels))
            }
        }
    }
}

fn pod_selector(policy: &NetworkPolicy) -> Option<&LabelSelector> {
    policy.spec.as_ref().and_then(|s| s.pod_selector.as_ref())
}

/// Whether a policy restricts this direction: as `policyTypes` says, or
/// when it is left out, ingress always and egress if it has egress rules.
fn governs(policy: &NetworkPolicy, direction: Direction) -> bool {
    let Some(spec) = &policy.spec else {
        return direction == Direction::Ingress;
    };
    match &spec.policy_types {
        Some(types) => types.iter().any(|t| t == direction.name()),
        None => match direction {
            Direction::Ingress => true,
            Direction::Egress => spec.egress.as_ref().is_some_and(|e| !e.is_empty()),
        },
    }
}

/// A policy's rules for one direction, each as its peers and its ports
/// (an empty list allows all of them).
fn rules(
    policy: &NetworkPolicy,
    direction: Direction,
) -> Vec<(&[NetworkPolicyPeer], &[NetworkPolicyPort])> {
    let Some(spec) = &policy.spec else {
        return Vec::new();
    };
    match direction {
        Direction::Ingress => spec
            .ingress
            .iter()
            .flatten()
            .map(|r| {
                (
                    r.from.as_deref().unwrap_or_default(),
                    r.ports.as_deref().unwrap_or_default(),
                )
            })
            .collect(),
        Direction::Egress => spec
            .egress
            .iter()
            .flatten()
            .map(|r| {
                (
                    r.to.as_deref().unwrap_or_default(),
                    r.ports.as_deref().unwrap_or_default(),
                )
            })
            .collect(),
    }
}

/// Whether the direction of this policy has no rules at all: it lets
/// nothing through.
pub fn denies_all(policy: &NetworkPolicy, ingress: bool) -> bool {
    let direction = if ingress {
        Direction::Ingress
    } else {
        Direction::Egress
    };
    governs(policy, direction) && rules(policy, direction).is_empty()
}

/// Whether a label selector selects these labels. An empty selector
/// selects everything; an operator the API does not know selects nothing.
pub fn selects(selector: &LabelSelector, labels: &Labels) -> bool {
    let matched = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(key, value)| labels.get(key) == Some(value));
    matched
        && selector
            .match_expressions
            .iter()
            .flatten()
            .all(|requirement| {
                let values = requirement.values.as_deref().unwrap_or_default();
                let value = labels.get(&requirement.key);
                match requirement.operator.as_str() {
                    "In" => value.is_some_and(|v| values.contains(v)),
                    "NotIn" => value.is_none_or(|v| !values.contains(v)),
                    "Exists" => value.is_some(),
                    "DoesNotExist" => value.is_none(),
                    _ => false,
                }
            })
}

/// Whether a selector selects everything.
pub fn selects_all(selector: Option<&LabelSelector>) -> bool {
    selector.is_none_or(|s| {
        s.match_labels.as_ref().is_none_or(|l| l.is_empty())
            && s.match_expressions.as_ref().is_none_or(|e| e.is_empty())
    })
}

fn port_matches(rule: &NetworkPolicyPort, port: Port, named_ports: &BTreeMap<String, i32>) -> bool {
    if rule.protocol.as_deref().unwrap_or("TCP") != port.protocol {
        return false;
    }
    match &rule.port {
        None => true,
        Some(IntOrString::Int(first)) => {
            (*first..=rule.end_port.unwrap_or(*first)).contains(&port.number)
        }
        Some(IntOrString::String(name)) => named_ports.get(name) == Some(&port.number),
    }
}
