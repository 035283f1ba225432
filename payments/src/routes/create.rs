//! `POST /api/payments`: the buyer pays an order with a card. The order's
//! one PaymentIntent is created once and confirmed with each card tried, so
//! no sequence of timeouts, retries, dropped connections, declines or
//! concurrent requests can charge it twice. Concurrent requests wait for
//! the one that holds the order's lock; a paid order answers with its
//! payment. The charge runs in a task of its own, to its end, even when the
//! buyer's connection drops.

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use common::session::AuthUser;
use common::{ApiError, ApiResult, AppJson, ErrorBody, ErrorItem};
use mongodb::bson::oid::ObjectId;
use serde::Deserialize;
use tracing::Instrument as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AppState, PaymentView};
use crate::domain::{PaymentToken, Verdict};
use crate::repository::{Attempt, OrderRecord};
use crate::stripe::{CallError, Intent};

/// How long one request may hold an order's lock: longer than its calls to Stripe.
const LEASE: chrono::Duration = chrono::Duration::seconds(60);
/// How long a request waits for a concurrent one paying the same order:
/// within the request's own deadline.
const WAIT: Duration = Duration::from_secs(10);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"orderId": "6650f1c2a3b4c5d6e7f80913", "token": "pm_card_visa"}))]
struct NewPayment {
    /// The order to pay.
    order_id: String,
    /// A Stripe PaymentMethod id (`pm_...`) from Stripe.js.
    token: String,
}

type Answer = (StatusCode, AppJson<PaymentView>);

/// Pay one's order with a card; never charged twice.
#[utoipa::path(post, path = "/api/payments", tag = "payments", operation_id = "createPayment",
    request_body = NewPayment,
    responses(
        (status = 200, description = "Already paid: its payment", body = PaymentView),
        (status = 201, description = "Paid", body = PaymentView),
        (status = 202, description = "The card needs 3-D Secure: complete it with `clientSecret`; the result arrives by webhook", body = PaymentView),
        (status = 400, description = "The order is cancelled or expired, a payment is in progress, or an invalid field", body = ErrorBody),
        (status = 402, description = "The card was declined (Stripe's words, field `token`)", body = ErrorBody),
        (status = 403, description = "Someone else's order, or the account is suspended", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
    ),
    security(("session" = [])))]
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
            return Ok((StatusCode::OK, AppJson(PaymentView::paid(payment))));
        }
        if let Some(attempt) = state.payments.lock(order_id, Utc::now() + LEASE).await? {
            // Its own task, so a dropped connection cannot stop it half
            // way; in the request's span, so payment.created continues
            // the buyer's trace.
            let charge = charge(state.clone(), attempt, token);
            let charging = tokio::spawn(charge.instrument(tracing::Span::current()));
            return charging.await.map_err(|err| {
                ApiError::Internal(anyhow::Error::new(err).context("the charge task failed"))
            })?;
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

/// Charges the order while holding its lock, and gives the lock back.
async fn charge(state: AppState, attempt: Attempt, token: PaymentToken) -> ApiResult<Answer> {
    let answer = charge_locked(&state, &attempt, &token).await;
    if let Err(err) = state.payments.unlock(attempt.order_id).await {
        tracing::warn!(error = %err, "cannot give the order's lock back; it lapses");
    }
    answer
}

async fn charge_locked(
    state: &AppState,
    attempt: &Attempt,
    token: &PaymentToken,
) -> ApiResult<Answer> {
    let payments = &state.payments;
    // Read again under the lock: the order may have been paid or ended meanwhile.
    if let Some(payment) = payments.payment_for(attempt.order_id).await? {
        return Ok((StatusCode::OK, AppJson(PaymentView::paid(payment))));
    }
    let order = payments
        .order(attempt.order_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    payable(&order)?;
    let intent_id = match &attempt.intent_id {
        Some(id) => id.clone(),
        None => {
            let intent = state
                .stripe
                .create_intent(&order.id.to_hex(), order.price)
                .await
                .map_err(unavailable)?;
            // Stored before it is ever confirmed: every later attempt uses it.
            payments.note_intent(order.id, &intent).await?;
            intent.id
        }
    };
    let intent = match state.stripe.confirm(&intent_id, token).await {
        Ok(intent) => intent,
        Err(CallError::Declined(message)) => {
            // The intent stays, payable with another card until the order expires.
            tracing::info!(%message, "card declined");
            return Err(ApiError::declined("token", message));
        }
        Err(CallError::UnknownCard) => {
            return Err(ApiError::invalid("token", "The card was not recognised"));
        }
        Err(CallError::Unknown(err)) => {
            // It may have gone through: what Stripe holds says, never a new try.
            tracing::warn!(
                error = format!("{err:#}"),
                "the confirmation's outcome is unknown; reading the intent back"
            );
            // Stripe does not answer: the buyer may try again; the intent
            // is read back then, or by the reconciler.
            state.stripe.intent(&intent_id).await.map_err(|err| {
                tracing::error!(error = format!("{err:#}"), "cannot read the intent back");
                ApiError::Unavailable
            })?
        }
    };
    payments.note_intent(order.id, &intent).await?;
    answer(state, &order, intent).await
}

/// What the buyer is told, now that Stripe has said where the intent is.
async fn answer(state: &AppState, order: &OrderRecord, intent: Intent) -> ApiResult<Answer> {
    match crate::domain::verdict(&intent.status, intent.last_error.as_deref()) {
        Verdict::Paid => {
            let recorded =
                crate::settle::paid(&state.payments, &state.refunder, order.id, &intent).await?;
            let status = if recorded.new {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok((status, AppJson(PaymentView::paid(recorded.payment))))
        }
        Verdict::Authenticate => Ok((
            StatusCode::ACCEPTED,
            AppJson(PaymentView::pending(order, &intent)),
        )),
        Verdict::Pending => Ok((
            StatusCode::ACCEPTED,
            AppJson(PaymentView::pending(order, &intent)),
        )),
        Verdict::Declined(message) => Err(ApiError::declined("token", message)),
        Verdict::CalledOff => Err(ApiError::bad_request("Cannot pay for a cancelled order")),
    }
}

/// Stripe could not be reached, or did not say: a 503, the cause logged.
fn unavailable(err: CallError) -> ApiError {
    tracing::error!(error = format!("{err:#}"), "Stripe is unavailable");
    ApiError::Unavailable
}

/// Whether the order can still be paid.
fn payable(order: &OrderRecord) -> ApiResult<()> {
    let expires_at = chrono::DateTime::from_timestamp_millis(order.expires_at.timestamp_millis())
        .unwrap_or_default();
    crate::domain::payable(order.status, expires_at, Utc::now())
        .map_err(|refusal| ApiError::bad_request(refusal.to_string()))
}
