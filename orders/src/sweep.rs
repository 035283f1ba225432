//! The expiry sweep: a backstop that needs no Redis. Every period it
//! expires the orders still `created` whose time is up, whatever became of
//! their `expiration.complete` (lost by a Redis crash, say). Replicas may
//! sweep at once: expiring an expired order changes nothing.

use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use crate::domain::Command;
use crate::repository::{Orders, Transitioned};

/// Orders one pass expires at most before it looks again.
const BATCH: i64 = 100;

/// Sweeps every `period` until `shutdown`.
pub async fn run(orders: Orders, period: Duration, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let full = match sweep(&orders).await {
            Ok(expired) => expired as i64 == BATCH,
            Err(err) => {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "the expiry sweep failed; will retry"
                );
                false
            }
        };
        if full {
            continue;
        }
        tokio::select! {
            _ = shutdown.cancelled() => {}
            _ = tokio::time::sleep(period) => {}
        }
    }
}

/// One pass: how many overdue orders it found.
async fn sweep(orders: &Orders) -> anyhow::Result<usize> {
    let overdue = orders.overdue(Utc::now(), BATCH).await?;
    for &id in &overdue {
        if let Ok(Transitioned::Changed(_)) = orders.transition(id, None, Command::Expire).await? {
            tracing::warn!(order_id = %id, "order expired by the sweep: its expiry was never announced");
        }
    }
    Ok(overdue.len())
}
