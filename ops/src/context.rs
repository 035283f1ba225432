//! What the rules know besides the manifests, and which pods are the
//! platform's own.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::PodSpec;

/// What the rules need besides the manifests.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The images skaffold builds: the platform's own.
    pub our_images: BTreeSet<String>,
    /// Secrets created outside the manifests (by hand, or by cert-manager).
    pub external_secrets: BTreeSet<String>,
    /// Whether the production rules apply.
    pub production: bool,
}

/// An image without its tag or digest.
pub(crate) fn repository(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.rfind(':') {
        Some(colon) if colon > image.rfind('/').unwrap_or(0) => &image[..colon],
        _ => image,
    }
}

/// A pod running one of the platform's own images: a service or the client.
pub(crate) fn is_ours(pod: &PodSpec, context: &Context) -> bool {
    pod.containers.iter().any(|c| {
        c.image
            .as_deref()
            .is_some_and(|image| context.our_images.contains(repository(image)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_repository_drops_tag_and_digest_but_keeps_a_registry_port() {
        assert_eq!(repository("ticketing/orders"), "ticketing/orders");
        assert_eq!(repository("ticketing/orders:abc123"), "ticketing/orders");
        assert_eq!(repository("mongo:7.0.14"), "mongo");
        assert_eq!(
            repository("registry:5000/ticketing/orders"),
            "registry:5000/ticketing/orders"
        );
        assert_eq!(repository("nats@sha256:abcd"), "nats");
    }
}
