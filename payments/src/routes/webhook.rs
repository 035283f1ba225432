//! `POST /api/payments/webhook`: Stripe tells us what became of an intent.
//! The signature is checked before anything is read; each Stripe event is
//! handled once, however often it is delivered. A succeeded intent records
//! the order's payment (refunded if the order was cancelled meanwhile); a
//! failed one leaves the order payable until it expires.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use common::{ApiError, ApiResult, ErrorBody};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::domain::IntentStatus;
use crate::stripe::Intent;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive))
}

#[derive(Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: serde_json::Value,
}

/// Stripe's events about intents, signed with the webhook secret.
#[utoipa::path(post, path = "/api/payments/webhook", tag = "payments", operation_id = "stripeWebhook",
    params(("Stripe-Signature" = String, Header, description = "`t=<unix time>,v1=<HMAC-SHA256 of t.body>`, at most 5 minutes old")),
    request_body(content = Object, description = "A Stripe event"),
    responses(
        (status = 200, description = "Handled, or handled before"),
        (status = 400, description = "A missing, wrong or stale signature, or an event that does not decode", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    let secret = state.webhook_secret.expose();
    if let Err(refused) =
        crate::domain::signature::verify(signature, &body, secret, Utc::now().timestamp())
    {
        tracing::warn!(%refused, "a webhook delivery refused");
        return Err(ApiError::invalid(
            "Stripe-Signature",
            "The Stripe signature is missing, wrong or too old",
        ));
    }
    let event: Event = serde_json::from_slice(&body)
        .map_err(|_| ApiError::bad_request("The body is not a Stripe event"))?;
    tracing::Span::current().record("event", event.id.as_str());
    if state.payments.stripe_event_seen(&event.id).await? {
        tracing::info!(event = event.id, "a Stripe event delivered again; ignored");
        return Ok(StatusCode::OK);
    }
    match event.kind.as_str() {
        "payment_intent.succeeded" | "payment_intent.payment_failed" => {
            match Intent::from_json(&event.data.object) {
                Some(intent) => heard(&state, intent).await?,
                None => tracing::warn!(event = event.id, "a PaymentIntent event without an intent"),
            }
        }
        other => tracing::debug!(kind = other, "a Stripe event we do not act on"),
    }
    state
        .payments
        .stripe_event_handled(&event.id, &event.kind)
        .await?;
    Ok(StatusCode::OK)
}

/// Acts on what Stripe says of an intent, if it is one of our orders'.
async fn heard(state: &AppState, intent: Intent) -> ApiResult<()> {
    let Some(order_id) = intent.order_id.as_deref().and_then(common::mongo::parse_id) else {
        return Ok(());
    };
    let Some(record) = state.payments.intent_of(order_id).await? else {
        // Not an order of ours (a Stripe account can serve several platforms).
        return Ok(());
    };
    if record.intent_id.as_deref() != Some(intent.id.as_str()) {
        tracing::warn!(
            stripe_id = intent.id,
            "an event for an intent that is not the order's"
        );
        return Ok(());
    }
    state.payments.note_intent(order_id, &intent).await?;
    if intent.status == IntentStatus::Succeeded {
        crate::settle::paid(&state.payments, &state.refunder, order_id, &intent).await?;
    } else {
        tracing::info!(status = intent.status.as_str(), error = ?intent.last_error, "a payment attempt failed");
    }
    Ok(())
}
