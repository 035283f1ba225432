//! The payments service's route, and the payment as the API shows it.

mod create;

use axum::Router;
use axum::extract::FromRef;
use common::session::Sessions;
use serde::Serialize;

use crate::refunder::Refunder;
use crate::repository::{PaymentRecord, Payments};
use crate::stripe::Stripe;

/// What every handler of this service can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub payments: Payments,
    pub stripe: Stripe,
    pub refunder: Refunder,
    pub sessions: Sessions,
}

pub fn router(state: AppState) -> Router {
    Router::new().merge(create::router()).with_state(state)
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PaymentView {
    id: String,
    order_id: String,
    stripe_id: String,
}

impl From<PaymentRecord> for PaymentView {
    fn from(payment: PaymentRecord) -> Self {
        Self {
            id: payment.id.to_hex(),
            order_id: payment.order_id.to_hex(),
            stripe_id: payment.stripe_id,
        }
    }
}
