//! The events the payments service consumes: the orders it replicates.

mod order_cancelled;
mod order_completed;
mod order_created;

use anyhow::anyhow;
use common::bus::Bus;
use common::listener::{Failure, Handled, ListenerConfig, listen};
use common::replica::Step;
use mongodb::bson::oid::ObjectId;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::refunder::Refunder;
use crate::repository::Payments;

/// The name the durable consumers are bound under.
pub const SERVICE: &str = "payments";

pub async fn start(
    bus: &Bus,
    config: &ListenerConfig,
    payments: &Payments,
    refunder: &Refunder,
    shutdown: &CancellationToken,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let (created, cancelled, completed) = (payments.clone(), payments.clone(), payments.clone());
    let refunder = refunder.clone();
    Ok(vec![
        listen(bus, SERVICE, config, shutdown.clone(), move |event| {
            order_created::replicate(created.clone(), event)
        })
        .await?,
        listen(bus, SERVICE, config, shutdown.clone(), move |event| {
            order_cancelled::replicate(cancelled.clone(), refunder.clone(), event)
        })
        .await?,
        listen(bus, SERVICE, config, shutdown.clone(), move |event| {
            order_completed::replicate(completed.clone(), event)
        })
        .await?,
    ])
}

fn order_id(raw: &str) -> Result<ObjectId, Failure> {
    common::mongo::parse_id(raw)
        .ok_or_else(|| Failure::Reject(anyhow!("order id {raw:?} is malformed")))
}

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
