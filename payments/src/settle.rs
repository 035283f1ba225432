//! What hearing that an order's intent succeeded does, whoever heard it (a
//! request, a webhook, the reconciler): the payment is recorded once, and
//! refunded if the order was cancelled meanwhile (rule 4).

use mongodb::bson::oid::ObjectId;

use crate::refunder::Refunder;
use crate::repository::{Payments, Recorded};
use crate::stripe::Intent;

pub async fn paid(
    payments: &Payments,
    refunder: &Refunder,
    order_id: ObjectId,
    intent: &Intent,
) -> mongodb::error::Result<Recorded> {
    let recorded = payments.record(order_id, &intent.id, intent.amount).await?;
    if recorded.new {
        tracing::info!(payment_id = %recorded.payment.id, stripe_id = intent.id, "order paid");
    }
    if recorded.refund_due {
        tracing::warn!(%order_id, "the order was cancelled while it was paid; refunding");
        refunder.wake();
    }
    Ok(recorded)
}
