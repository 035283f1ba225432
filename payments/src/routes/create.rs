//! `POST /api/payments`: the buyer pays an order. At most one charge per
//! order: concurrent requests wait for the one that holds the order's lock,
//! and a paid order answers with its existing payment.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use chrono::Utc;
use common::events::OrderStatus;
use common::session::AuthUser;
use common::{ApiError, ApiResult, AppJson, ErrorItem};
use mongodb::bson::oid::ObjectId;
use serde::Deserialize;

use super::{AppState, PaymentView};
use crate::domain::PaymentToken;
use crate::repository::{Attempt, OrderRecord};
use crate::stripe::ChargeError;

/// How long one request may hold an order's lock: longer than a Stripe call.
const LEASE: chrono::Duration = chrono::Duration::seconds(60);
/// How long a request waits for a concurrent one paying the same order.
const WAIT: Duration = Duration::from_secs(30);

pub fn router() -> Router<AppState> {
    Router::new().route("/api/payments", post(create))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewPayment {
    order_id: String,
    token: String,
}

type Answer = (StatusCode, AppJson<PaymentView>);

#[tracing::instrument(skip_all, fields(user_id = %user.id, order_id = %body.order_id))]
async fn create(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    AppJson(body): AppJson<NewPayment>,
) -> ApiResult<Answer> {
    let (order_id, token) = parse(&body)?;
    let order = state
        .payments
        .order(order_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if order.user_id != user.id {
        return Err(ApiError::Forbidden);
    }
    let started = Instant::now();
    loop {
        if let Some(payment) = state.payments.payment_for(order_id).await? {
            return Ok((StatusCode::OK, AppJson(payment.into())));
        }
        if let Some(attempt) = state.payments.lock(order_id, Utc::now() + LEASE).await? {
            return charge(&state, &attempt, &token).await;
        }
        if started.elapsed() > WAIT {
            return Err(ApiError::bad_request(
                "A payment for this order is in progress",
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn parse(body: &NewPayment) -> ApiResult<(ObjectId, PaymentToken)> {
    let order_id = common::mongo::parse_id(&body.order_id);
    let token = PaymentToken::parse(&body.token);
    match (order_id, token) {
        (Some(order_id), Ok(token)) => Ok((order_id, token)),
        (order_id, token) => {
            let mut errors = Vec::new();
            if order_id.is_none() {
                errors.push(ErrorItem::field("orderId", "orderId must be a valid id"));
            }
            if let Err(message) = token {
                errors.push(ErrorItem::field("token", message));
            }
            Err(ApiError::BadRequest(errors))
        }
    }
}

/// Charges the order while holding its lock, and records the payment.
async fn charge(state: &AppState, attempt: &Attempt, token: &PaymentToken) -> ApiResult<Answer> {
    let payments = &state.payments;
    // Read again under the lock: the order may have been paid or ended meanwhile.
    if let Some(payment) = payments.payment_for(attempt.order_id).await? {
        payments.unlock(attempt, false).await?;
        return Ok((StatusCode::OK, AppJson(payment.into())));
    }
    let order = payments
        .order(attempt.order_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if let Err(refusal) = payable(&order) {
        payments.unlock(attempt, false).await?;
        return Err(refusal);
    }
    let order_id = order.id.to_hex();
    match state
        .stripe
        .charge(order.price, token, &order_id, &attempt.idempotency_key())
        .await
    {
        Ok(stripe_id) => {
            let recorded = payments.record(attempt, &stripe_id, order.price).await?;
            if recorded.refund_due {
                tracing::warn!("the order was cancelled while it was paid; refunding");
                state.refunder.wake();
            }
            tracing::info!(payment_id = %recorded.payment.id, %stripe_id, "order paid");
            Ok((StatusCode::CREATED, AppJson(recorded.payment.into())))
        }
        Err(ChargeError::Refused(message)) => {
            payments.unlock(attempt, true).await?;
            tracing::info!(%message, "card refused");
            Err(ApiError::invalid("token", message))
        }
        Err(ChargeError::Incomplete(status)) => {
            payments.unlock(attempt, true).await?;
            tracing::info!(%status, "payment incomplete");
            Err(ApiError::invalid(
                "token",
                "The payment could not be completed",
            ))
        }
        Err(ChargeError::Unavailable(err)) => {
            payments.unlock(attempt, false).await?;
            Err(ApiError::Internal(err))
        }
    }
}

/// Whether the order can still be paid.
fn payable(order: &OrderRecord) -> ApiResult<()> {
    match order.status {
        OrderStatus::Cancelled => Err(ApiError::bad_request("Cannot pay for a cancelled order")),
        OrderStatus::Complete => Err(ApiError::bad_request("The order is already paid")),
        OrderStatus::Created
            if order.expires_at.timestamp_millis() <= Utc::now().timestamp_millis() =>
        {
            Err(ApiError::bad_request("The order has expired"))
        }
        OrderStatus::Created => Ok(()),
    }
}
