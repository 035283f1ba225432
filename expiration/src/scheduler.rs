//! The loop that publishes due expiries: claim what is due, publish each
//! `expiration.complete`, forget it once the server has stored it, and put
//! it back on the schedule if the publish failed. It sleeps until the next
//! due time, at most [`POLL`], and wakes early when an order is scheduled.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use common::bus::Bus;
use common::events::ExpirationComplete;
use futures::future::join_all;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::schedule::Schedule;

/// Orders one pass claims at most.
const BATCH: usize = 200;
/// The longest sleep: orders another instance scheduled are seen this soon.
const POLL: Duration = Duration::from_millis(500);
/// The pause after Redis or the bus failed.
const BACKOFF: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct Scheduler {
    schedule: Schedule,
    bus: Bus,
    lease: chrono::Duration,
    wake: Arc<Notify>,
}

/// What one pass did.
struct Pass {
    claimed: usize,
    failed: usize,
}

impl Scheduler {
    pub fn new(schedule: Schedule, bus: Bus, lease: Duration) -> Self {
        Self {
            schedule,
            bus,
            lease: chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30)),
            wake: Arc::new(Notify::new()),
        }
    }

    /// Tells the loop that an order was scheduled: it may be due sooner
    /// than anything the loop is waiting for.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs the loop until `shutdown`.
    pub fn start(&self, shutdown: CancellationToken) -> JoinHandle<()> {
        let scheduler = self.clone();
        tokio::spawn(async move { scheduler.run(shutdown).await })
    }

    async fn run(self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            let wait = match self.publish_due().await {
                Ok(pass) if pass.failed > 0 => BACKOFF,
                Ok(pass) if pass.claimed == BATCH => continue,
                Ok(_) => self.until_next().await,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot claim due orders; will retry");
                    BACKOFF
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn publish_due(&self) -> redis::RedisResult<Pass> {
        let now = Utc::now();
        let claimed = self.schedule.claim(now, now + self.lease, BATCH).await?;
        let published = join_all(claimed.iter().map(|order_id| self.expire(order_id))).await;
        Ok(Pass {
            claimed: claimed.len(),
            failed: published.iter().filter(|ok| !**ok).count(),
        })
    }

    /// Publishes one order's expiry; false if it stays scheduled.
    #[tracing::instrument(skip(self))]
    async fn expire(&self, order_id: &str) -> bool {
        let event = ExpirationComplete {
            order_id: order_id.to_string(),
        };
        match self.bus.publish(&event).await {
            Ok(_) => {
                tracing::info!("order expired");
                if let Err(err) = self.schedule.done(order_id).await {
                    // The claim lapses, the order is published again, and
                    // the server drops the repeat by its message id.
                    tracing::warn!(error = %err, "cannot forget a published expiry");
                }
                true
            }
            Err(err) => {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "cannot publish expiry; rescheduled"
                );
                if let Err(err) = self.schedule.release(order_id, Utc::now()).await {
                    tracing::warn!(error = %err, "cannot reschedule; the claim will lapse");
                }
                false
            }
        }
    }

    /// How long to sleep: until the next due time or lapsing claim, at most [`POLL`].
    async fn until_next(&self) -> Duration {
        match self.schedule.next_wakeup().await {
            Ok(Some(at)) => (at - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(POLL),
            Ok(None) => POLL,
            Err(err) => {
                tracing::warn!(error = %err, "cannot read the schedule");
                BACKOFF
            }
        }
    }
}
