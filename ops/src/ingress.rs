//! Every backend an Ingress names is a service of the manifests, on a port
//! that service has.

use crate::found::Found;
use crate::manifests::Manifests;

pub fn backends(manifests: &Manifests, found: &mut Found) {
    for ingress in &manifests.ingresses {
        let object = format!(
            "Ingress {}",
            ingress.metadata.name.as_deref().unwrap_or_default()
        );
        let Some(spec) = &ingress.spec else { continue };
        let paths = spec
            .rules
            .iter()
            .flatten()
            .filter_map(|r| r.http.as_ref())
            .flat_map(|h| h.paths.iter());
        let backends = paths
            .map(|p| &p.backend)
            .chain(spec.default_backend.as_ref());
        for backend in backends {
            let Some(target) = &backend.service else {
                found.add(
                    "ingress-backends",
                    &object,
                    "a backend that is not a service",
                );
                continue;
            };
            let Some(service) = manifests
                .services
                .iter()
                .find(|s| s.metadata.name.as_deref() == Some(target.name.as_str()))
            else {
                found.add(
                    "ingress-backends",
                    &object,
                    format!("no service {}", target.name),
                );
                continue;
            };
            let ports = service.spec.iter().flat_map(|s| s.ports.iter().flatten());
            let wanted = target.port.as_ref();
            let matches = ports.clone().any(|p| match wanted {
                Some(w) if w.number.is_some() => w.number == Some(p.port),
                Some(w) => w.name.is_some() && w.name == p.name,
                None => false,
            });
            if !matches {
                found.add(
                    "ingress-backends",
                    &object,
                    format!("service {} has no such port", target.name),
                );
            }
        }
    }
}
