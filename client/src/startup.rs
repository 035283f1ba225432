//! Builds the client: the API client and the pages.

use common::health::Readiness;
use common::http::Server;
use tokio_util::sync::CancellationToken;

use crate::api::Api;
use crate::config::Settings;
use crate::routes::{self, AppState, StripeJs};

/// The client, bound to its port, not yet serving.
pub type Application = Server;

pub async fn build(
    settings: &Settings,
    shutdown: CancellationToken,
) -> anyhow::Result<Application> {
    let state = AppState {
        api: Api::new(&settings.api_base_url)?,
        stripe: StripeJs {
            publishable_key: settings.stripe_publishable_key.clone(),
            url: settings.stripe_js_url.clone(),
        },
    };
    // Ready as soon as it serves: the APIs it calls have their own probes,
    // and a page whose API is down says so.
    let router = common::http::with_layers(routes::router(state), Readiness::new());
    Server::bind(&settings.host, settings.port, router, shutdown, Vec::new()).await
}
