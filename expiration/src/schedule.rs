//! The schedule in Redis: the only code of this service that touches it.
//!
//! Two sorted sets scored by milliseconds since the epoch: `due` holds each
//! order under its expiry time; `claimed` holds the orders an instance is
//! publishing, under the time its claim lapses. Claiming moves due orders
//! from one to the other in one script, so of several instances exactly one
//! gets each order; an instance that dies mid-publish leaves its claims to
//! lapse, and the next claim takes them again. Redis's append-only file
//! makes both sets survive a restart of Redis.

use std::time::Duration;

use chrono::{DateTime, Utc};
use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// Takes the lapsed claims and then the due orders, up to a limit, and
/// claims them all until the given time. Gives each order with the time it
/// became due (a lapsed claim's: when it lapsed), as id, score, id, score.
const CLAIM: &str = r"
local now, lease_until, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local claimed = {}
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)
for i = 1, #lapsed, 2 do
  redis.call('ZADD', KEYS[2], lease_until, lapsed[i])
  table.insert(claimed, lapsed[i])
  table.insert(claimed, lapsed[i + 1])
end
local room = limit - #claimed / 2
if room > 0 then
  local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, room)
  for i = 1, #due, 2 do
    redis.call('ZREM', KEYS[1], due[i])
    redis.call('ZADD', KEYS[2], lease_until, due[i])
    table.insert(claimed, due[i])
    table.insert(claimed, due[i + 1])
  end
end
return claimed
";

/// How long a command may wait for Redis's answer. A claim whose answer is
/// given up on still takes its orders, which then wait out their lease: a
/// slow Redis is better waited for than the client's default of 500 ms.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// An order claimed for publishing, and since when it has been due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub order_id: String,
    pub due: DateTime<Utc>,
}

#[derive(Clone)]
pub struct Schedule {
    redis: ConnectionManager,
    due: String,
    claimed: String,
    claim: Script,
}

impl Schedule {
    /// Connects to Redis; every key starts with `prefix`.
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new().set_response_timeout(Some(RESPONSE_TIMEOUT));
        let redis = ConnectionManager::new_with_config(client, config).await?;
        Ok(Self {
            redis,
            due: format!("{prefix}expiration:due"),
            claimed: format!("{prefix}expiration:claimed"),
            claim: Script::new(CLAIM),
        })
    }

    pub async fn ping(&self) -> anyhow::Result<()> {
        let mut redis = self.redis.clone();
        redis::cmd("PING").query_async::<()>(&mut redis).await?;
        Ok(())
    }

    /// Schedules `order_id` to expire at `at`. An order already scheduled
    /// keeps its time: a redelivered `order.created` changes nothing.
    pub async fn schedule(&self, order_id: &str, at: DateTime<Utc>) -> redis::RedisResult<()> {
        let mut redis = self.redis.clone();
        redis::cmd("ZADD")
            .arg(&self.due)
            .arg("NX")
            .arg(at.timestamp_millis())
            .arg(order_id)
            .query_async::<()>(&mut redis)
            .await
    }

    /// Claims up to `limit` orders due at `now`, until `lease_until`.
    pub async fn claim(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> redis::RedisResult<Vec<Claim>> {
        let mut redis = self.redis.clone();
        let flat: Vec<String> = self
            .claim
            .key(&self.due)
            .key(&self.claimed)
            .arg(now.timestamp_millis())
            .arg(lease_until.timestamp_millis())
            .arg(limit)
            .invoke_async(&mut redis)
            .await?;
        Ok(flat
            .chunks_exact(2)
            .map(|pair| Claim {
                order_id: pair[0].clone(),
                due: pair[1]
                    .parse::<f64>()
                    .ok()
                    .and_then(|ms| DateTime::from_timestamp_millis(ms as i64))
                    .unwrap_or(now),
            })
            .collect())
    }

    /// How many orders wait to expire, claimed ones included.
    pub async fn scheduled(&self) -> redis::RedisResult<u64> {
        let mut redis = self.redis.clone();
        let (due, claimed): (u64, u64) = redis::pipe()
            .zcard(&self.due)
            .zcard(&self.claimed)
            .query_async(&mut redis)
            .await?;
        Ok(due + claimed)
    }

    /// Forgets a claimed order: its expiry was published.
    pub async fn done(&self, order_id: &str) -> redis::RedisResult<()> {
        let mut redis = self.redis.clone();
        redis::cmd("ZREM")
            .arg(&self.claimed)
            .arg(order_id)
            .query_async::<()>(&mut redis)
            .await
    }

    /// Puts a claimed order back on the schedule, due `at`: its publish failed.
    pub async fn release(&self, order_id: &str, at: DateTime<Utc>) -> redis::RedisResult<()> {
        let mut redis = self.redis.clone();
        redis::pipe()
            .atomic()
            .zadd(&self.due, order_id, at.timestamp_millis())
            .ignore()
            .zrem(&self.claimed, order_id)
            .ignore()
            .query_async::<()>(&mut redis)
            .await
    }

    /// When the next order is due, or when the next claim lapses, if ever.
    pub async fn next_wakeup(&self) -> redis::RedisResult<Option<DateTime<Utc>>> {
        let mut redis = self.redis.clone();
        let mut earliest: Option<i64> = None;
        for key in [&self.due, &self.claimed] {
            let first: Vec<(String, f64)> = redis::cmd("ZRANGE")
                .arg(key)
                .arg(0)
                .arg(0)
                .arg("WITHSCORES")
                .query_async(&mut redis)
                .await?;
            if let Some((_, score)) = first.first() {
                let at = *score as i64;
                earliest = Some(earliest.map_or(at, |e| e.min(at)));
            }
        }
        Ok(earliest.and_then(DateTime::from_timestamp_millis))
    }

    /// When `order_id` is due, if it is scheduled and not claimed.
    pub async fn due_at(&self, order_id: &str) -> redis::RedisResult<Option<DateTime<Utc>>> {
        let mut redis = self.redis.clone();
        let score: Option<f64> = redis::cmd("ZSCORE")
            .arg(&self.due)
            .arg(order_id)
            .query_async(&mut redis)
            .await?;
        Ok(score.and_then(|s| DateTime::from_timestamp_millis(s as i64)))
    }
}
