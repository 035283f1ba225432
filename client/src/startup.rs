//! Builds the client: the API client and the pages.

use axum::middleware::{from_fn, from_fn_with_state};
use common::health::Readiness;
use common::service::{Application, Builder};
use tokio_util::sync::CancellationToken;

use crate::api::Api;
use crate::config::Settings;
use crate::routes::{self, AppState, StripeJs};
use crate::security::{self, Guard};

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
    let guard = Guard::new(
        &settings.jwt_key,
        !settings.http.dev_mode,
        &settings.stripe_js_url,
    )?;
    let pages = routes::router(state)
        .layer(from_fn(crate::api::pass_cookies_back))
        .layer(from_fn_with_state(guard, security::guard));
    let app = Builder::bind("client", &settings.http, shutdown).await?;
    Ok(app.pages(pages, Readiness::new()))
}
