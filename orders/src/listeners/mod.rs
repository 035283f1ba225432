//! The events the orders service consumes, one file per event: the tickets
//! it replicates, expiry and payment.

mod expiration_complete;
mod payment_created;
mod payment_refunded;
mod ticket_created;
mod ticket_updated;

use anyhow::anyhow;
use common::bus::Bus;
use common::listener::{Failure, Handled, ListenerConfig, listen};
use common::replica::Step;
use mongodb::bson::oid::ObjectId;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::repository::Orders;

/// The name the durable consumers are bound under.
pub const SERVICE: &str = "orders";

/// Binds every consumer and starts handling; the tasks end after `shutdown`.
pub async fn start(
    bus: &Bus,
    config: &ListenerConfig,
    orders: &Orders,
    shutdown: &CancellationToken,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let (created, updated, expired, paid, refunded) = (
        orders.clone(),
        orders.clone(),
        orders.clone(),
        orders.clone(),
        orders.clone(),
    );
    Ok(vec![
        listen(bus, SERVICE, config, shutdown.clone(), move |event| {
            ticket_created::replicate(created.clone(), event)
        })
        .await?,
        listen(bus, SERVICE, config, shutdown.clone(), move |event| {
            ticket_updated::replicate(updated.clone(), event)
        })
        .await?,
        listen(bus, SERVICE, config, shutdown.clone(), move |event| {
            expiration_complete::expire(expired.clone(), event)
        })
        .await?,
        listen(bus, SERVICE, config, shutdown.clone(), move |event| {
            payment_created::complete(paid.clone(), event)
        })
        .await?,
        listen(bus, SERVICE, config, shutdown.clone(), move |event| {
            payment_refunded::note(refunded.clone(), event)
        })
        .await?,
    ])
}

/// A record id from an event; one that cannot be ours can never succeed.
fn record_id(raw: &str) -> Result<ObjectId, Failure> {
    common::mongo::parse_id(raw).ok_or_else(|| Failure::Reject(anyhow!("id {raw:?} is malformed")))
}

/// The listener's verdict on applying one version of a replicated record.
fn verdict(step: Step) -> Handled {
    match step {
        Step::Apply => Ok(()),
        Step::Duplicate => {
            tracing::info!("version already applied; ignored");
            Ok(())
        }
        Step::Early => Err(Failure::Retry(anyhow!(
            "an earlier version has not arrived yet"
        ))),
    }
}
