//! The pages' stylesheet and scripts, served as files: the
//! Content-Security-Policy allows no inline style or script. Each URL
//! carries a digest of its file, so browsers may keep it for a year and
//! still never run an old one.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    kind: &'static str,
    body: &'static str,
}

const ASSETS: [Asset; 3] = [
    Asset {
        name: "style.css",
        kind: "text/css; charset=utf-8",
        body: include_str!("assets/style.css"),
    },
    Asset {
        name: "order.js",
        kind: "text/javascript; charset=utf-8",
        body: include_str!("assets/order.js"),
    },
    Asset {
        name: "authenticate.js",
        kind: "text/javascript; charset=utf-8",
        body: include_str!("assets/authenticate.js"),
    },
];

/// Each asset's URL, with the digest of what it serves.
static URLS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| {
            let digest = Sha256::digest(asset.body.as_bytes());
            let version: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
            format!("/assets/{}?v={version}", asset.name)
        })
        .collect()
});

/// Where a page links one of the assets from.
///
/// # Panics
/// On a name that is none of the assets: a mistake in a page's code.
pub fn url(name: &str) -> &'static str {
    let index = ASSETS
        .iter()
        .position(|asset| asset.name == name)
        .unwrap_or_else(|| panic!("no asset named {name}"));
    &URLS[index]
}

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/assets/{name}", get(serve))
}

async fn serve(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|asset| asset.name == name) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.kind),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            asset.body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_url_with_its_digest() {
        let style = url("style.css");
        assert!(style.starts_with("/assets/style.css?v="), "{style}");
        assert_eq!(style.len(), "/assets/style.css?v=".len() + 12);
        assert_ne!(url("order.js"), url("authenticate.js"));
    }
}
