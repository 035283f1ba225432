//! The loop that publishes due expiries: claim what is due, publish each
//! `expiration.complete`, forget it once the server has stored it, and put
//! it back on the schedule if the publish failed. It sleeps until the next
//! due time, at most [`POLL`], and wakes early when an order is scheduled
//! that falls due before then.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::bus::Bus;
use common::events::ExpirationComplete;
use futures::future::join_all;
use tokio::sync::Notify;
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
    next_look: NextLook,
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
            next_look: NextLook::new(),
        }
    }

    /// Tells the loop that an order due `at` was scheduled. It is woken only
    /// if it would not look at the schedule again by then: with orders held
    /// for minutes, that is hardly ever, and placing an order costs Redis
    /// one command instead of a whole pass.
    pub fn scheduled(&self, at: DateTime<Utc>) {
        if self.next_look.misses(at) {
            self.wake.notify_one();
        }
    }

    /// Keeps `expirations_scheduled` up to date until `shutdown`.
    pub async fn gauge(self, shutdown: CancellationToken) {
        common::metrics::sample_every("expirations", shutdown, || async {
            common::metrics::set("expirations_scheduled", self.schedule.scheduled().await?);
            Ok(())
        })
        .await;
    }

    /// Runs the loop until `shutdown`. Run it under supervision.
    pub async fn run(self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            let wait = match self.publish_due().await {
                Ok(pass) if pass.failed > 0 => BACKOFF,
                Ok(pass) if pass.claimed == BATCH => continue,
                Ok(_) => {
                    // Orders scheduled from here on may come after the read
                    // that sets the sleep: each wakes the loop once more.
                    self.next_look.awake();
                    self.until_next().await
                }
                Err(err) => {
                    tracing::warn!(error = %err, "cannot claim due orders; will retry");
                    BACKOFF
                }
            };
            self.next_look.asleep_until(Utc::now(), wait);
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
        for claim in &claimed {
            let late = (now - claim.due).to_std().unwrap_or(Duration::ZERO);
            metrics::histogram!("expiration_lateness_seconds").record(late.as_secs_f64());
        }
        let published = join_all(claimed.iter().map(|claim| self.expire(&claim.order_id))).await;
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

/// When the loop reads the schedule next, in milliseconds since the epoch.
/// While it reads when to wake that is "any moment", so every order
/// scheduled meanwhile wakes it: the read may have come before the order
/// was written. An order scheduled while the loop claims is written before
/// that read, so the read sees it. A woken [`Notify`] keeps its permit until
/// the loop waits, so no wake-up is lost in between.
#[derive(Clone)]
struct NextLook(Arc<AtomicI64>);

impl NextLook {
    fn new() -> Self {
        Self(Arc::new(AtomicI64::new(i64::MAX)))
    }

    fn awake(&self) {
        self.0.store(i64::MAX, Ordering::SeqCst);
    }

    fn asleep_until(&self, now: DateTime<Utc>, wait: Duration) {
        let wait = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
        self.0.store(
            now.timestamp_millis().saturating_add(wait),
            Ordering::SeqCst,
        );
    }

    /// True if an order due `at` falls due before the loop looks again.
    fn misses(&self, at: DateTime<Utc>) -> bool {
        at.timestamp_millis() < self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn while_the_loop_is_awake_every_order_wakes_it() {
        let next_look = NextLook::new();
        next_look.asleep_until(Utc::now(), POLL);
        next_look.awake();

        assert!(next_look.misses(Utc::now() + chrono::Duration::days(1)));
    }

    #[test]
    fn an_order_due_before_the_loop_looks_again_wakes_it() {
        let (next_look, now) = (NextLook::new(), Utc::now());
        next_look.asleep_until(now, POLL);

        assert!(next_look.misses(now + chrono::Duration::milliseconds(100)));
        assert!(next_look.misses(now - chrono::Duration::hours(1)));
    }

    #[test]
    fn an_order_due_after_the_loop_looks_again_leaves_it_asleep() {
        let (next_look, now) = (NextLook::new(), Utc::now());
        next_look.asleep_until(now, POLL);

        assert!(!next_look.misses(now + chrono::Duration::milliseconds(500)));
        assert!(!next_look.misses(now + chrono::Duration::minutes(15)));
    }
}
