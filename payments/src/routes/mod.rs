//! The payments service's route, and the payment as the API shows it.

mod create;
mod webhook;

use axum::Router;
use axum::extract::FromRef;
use common::session::Sessions;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;

use crate::domain::IntentStatus;
use crate::refunder::Refunder;
use crate::repository::{OrderRecord, PaymentRecord, Payments};
use crate::stripe::Intent;
use crate::stripe::Stripe;

/// What every handler of this service can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub payments: Payments,
    pub stripe: Stripe,
    pub refunder: Refunder,
    pub sessions: Sessions,
    /// What Stripe signs its webhooks with.
    pub webhook_secret: common::config::Secret,
}

/// Every route, each registered with its part of the OpenAPI document.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(create::router())
        .merge(webhook::router())
}

pub fn router(state: AppState) -> Router {
    routes().split_for_parts().0.with_state(state)
}

/// This service's part of the OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// A payment as the API shows it: made (`succeeded`), or waiting for the
/// buyer's 3-D Secure check (`requires_action`, with the secret Stripe.js
/// needs) or for Stripe (`processing`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Payment)]
struct PaymentView {
    /// The payment's id, once it succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    order_id: String,
    /// The Stripe PaymentIntent.
    stripe_id: String,
    #[schema(pattern = "^(succeeded|requires_action|processing)$")]
    status: String,
    /// For Stripe.js `confirmCardPayment`, when 3-D Secure is needed.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
}

impl PaymentView {
    fn paid(payment: PaymentRecord) -> Self {
        Self {
            id: Some(payment.id.to_hex()),
            order_id: payment.order_id.to_hex(),
            stripe_id: payment.stripe_id,
            status: "succeeded".into(),
            client_secret: None,
        }
    }

    fn pending(order: &OrderRecord, intent: &Intent) -> Self {
        let needs_action = intent.status == IntentStatus::RequiresAction;
        Self {
            id: None,
            order_id: order.id.to_hex(),
            stripe_id: intent.id.clone(),
            status: if needs_action {
                "requires_action"
            } else {
                "processing"
            }
            .into(),
            client_secret: intent.client_secret.clone().filter(|_| needs_action),
        }
    }
}
