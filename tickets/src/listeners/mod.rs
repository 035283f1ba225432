//! The events the tickets service consumes, one file per event: orders hold,
//! release and buy tickets.

mod order_cancelled;
mod order_completed;
mod order_created;

use anyhow::anyhow;
use common::bus::Bus;
use common::listener::{Failure, Handled, ListenerConfig, listen};
use mongodb::bson::oid::ObjectId;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::repository::{Applied, Tickets};

/// The name the durable consumers are bound under.
pub const SERVICE: &str = "tickets";

/// Binds every consumer and starts handling; the tasks end after `shutdown`.
pub async fn start(
    bus: &Bus,
    config: &ListenerConfig,
    tickets: &Tickets,
    shutdown: &CancellationToken,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let on_created = tickets.clone();
    let on_cancelled = tickets.clone();
    let on_completed = tickets.clone();
    Ok(vec![
        listen(bus, SERVICE, config, shutdown.clone(), move |event| {
            order_created::hold(on_created.clone(), event)
        })
        .await?,
        listen(bus, SERVICE, config, shutdown.clone(), move |event| {
            order_cancelled::release(on_cancelled.clone(), event)
        })
        .await?,
        listen(bus, SERVICE, config, shutdown.clone(), move |event| {
            order_completed::sell(on_completed.clone(), event)
        })
        .await?,
    ])
}

/// A ticket or order id from an event; a malformed one can never succeed.
fn parse_id(what: &str, raw: &str) -> Result<ObjectId, Failure> {
    common::mongo::parse_id(raw)
        .ok_or_else(|| Failure::Reject(anyhow!("{what} id {raw:?} is malformed")))
}

/// Turns what applying an event came to into the listener's verdict.
fn verdict(applied: Applied) -> Handled {
    match applied {
        Applied::Done => Ok(()),
        Applied::Duplicate => {
            tracing::info!("already applied; ignored");
            Ok(())
        }
        Applied::Early => Err(Failure::Retry(anyhow!(
            "an earlier version of the order has not arrived yet"
        ))),
        Applied::HeldByAnother => Err(Failure::Retry(anyhow!(
            "another order holds the ticket; waiting for its release"
        ))),
        Applied::UnknownTicket => Err(Failure::Reject(anyhow!("no such ticket"))),
    }
}
