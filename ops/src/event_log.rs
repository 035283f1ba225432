//! The running platform's event log, as an operator works with it: the
//! dead letters, listed and redelivered. Nothing here creates a stream or
//! a consumer that the services would use: a platform that cannot be
//! reached is refused, never half-created.

use std::time::Duration;

use anyhow::{Context as _, bail};
use async_nats::jetstream::{self, consumer, stream::Stream};
use common::dispatch::{DEAD_REASON_HEADER, DEAD_SEQUENCE_HEADER, DEAD_SUBJECT_HEADER};
use futures::StreamExt;
use serde::Serialize;

/// How long to wait for the server before saying it cannot be reached.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a read of the log may wait for its next message.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Characters of a payload a listing shows.
const SUMMARY: usize = 60;

/// Where the platform's log is: `NATS_URL`, `NATS_PREFIX`, `NATS_STREAM`
/// (and `NATS_USER`, `NATS_PASSWORD` or `NATS_PASSWORD_FILE`), as the
/// services read them.
#[derive(Debug, Clone)]
pub struct Platform {
    pub nats_url: String,
    pub user: Option<(String, String)>,
    pub prefix: String,
    pub stream: String,
}

impl Platform {
    pub fn from_env() -> anyhow::Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Ok(Self {
            nats_url: var("NATS_URL")
                .context("NATS_URL is not set: where is the platform's NATS?")?,
            user: var("NATS_USER").zip(
                common::config::optional_secret("NATS_PASSWORD")?.map(|p| p.expose().to_string()),
            ),
            prefix: var("NATS_PREFIX").unwrap_or_else(|| "ticketing".into()),
            stream: var("NATS_STREAM").unwrap_or_else(|| common::config::DEFAULT_STREAM.into()),
        })
    }

    /// The platform's stream, or why it cannot be reached.
    pub async fn log(&self) -> anyhow::Result<Log> {
        let mut options = async_nats::ConnectOptions::new()
            .connection_timeout(CONNECT_TIMEOUT)
            .max_reconnects(1);
        if let Some((user, password)) = &self.user {
            options = options.user_and_password(user.clone(), password.clone());
        }
        let url = &self.nats_url;
        let client = match tokio::time::timeout(
            CONNECT_TIMEOUT,
            options.connect(common::bus::server_addrs(url)),
        )
        .await
        {
            Ok(Ok(client)) => client,
            // The platform's NATS asks every client to sign in.
            Ok(Err(err)) if err.kind() == async_nats::ConnectErrorKind::AuthorizationViolation => {
                let why = match &self.user {
                    Some((user, _)) => format!("it refused the password of {user}"),
                    None => "it lets in no one without NATS_USER and NATS_PASSWORD".to_string(),
                };
                bail!(
                    "cannot reach NATS at {url}: {why} (under make up: NATS_USER=ops and \
                     NATS_PASSWORD=$(cat .local/nats-users/ops))"
                )
            }
            _ => bail!("cannot reach NATS at {url}: is the platform running?"),
        };
        let jetstream = jetstream::new(client);
        let stream = jetstream.get_stream(&self.stream).await.map_err(|err| {
            anyhow::anyhow!(
                "NATS at {} has no stream {} ({err}): is this the platform's server?",
                self.nats_url,
                self.stream
            )
        })?;
        Ok(Log {
            jetstream,
            stream,
            prefix: self.prefix.clone(),
        })
    }
}

/// The platform's stream, reached.
pub struct Log {
    pub jetstream: jetstream::Context,
    pub stream: Stream,
    pub prefix: String,
}

/// One parked message.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeadLetter {
    /// The dead letter's own sequence in the stream: what `redeliver` takes.
    pub seq: u64,
    pub consumer: String,
    /// The subject it was published on, without the prefix.
    pub subject: String,
    pub original_seq: u64,
    pub reason: String,
    pub parked_at: String,
    pub payload: String,
}

impl Log {
    /// Every dead letter, or `consumer`'s only, oldest first.
    pub async fn dead_letters(&self, consumer: Option<&str>) -> anyhow::Result<Vec<DeadLetter>> {
        let filter = format!("{}.deadletter.{}", self.prefix, consumer.unwrap_or(">"));
        self.read(&filter, 1)
            .await?
            .into_iter()
            .map(|message| self.dead_letter(message))
            .collect()
    }

    /// Every message under `filter` from sequence `from` on, in stream
    /// order, read by an ephemeral ordered consumer the server forgets.
    pub async fn read(&self, filter: &str, from: u64) -> anyhow::Result<Vec<jetstream::Message>> {
        let mut reader = self
            .stream
            .create_consumer(consumer::pull::OrderedConfig {
                filter_subject: filter.to_string(),
                deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                    start_sequence: from.max(1),
                },
                ..Default::default()
            })
            .await?;
        let total = reader.info().await?.num_pending as usize;
        let mut found = Vec::with_capacity(total);
        if total == 0 {
            return Ok(found);
        }
        let mut messages = reader.messages().await?;
        while found.len() < total {
            let next = tokio::time::timeout(READ_TIMEOUT, messages.next())
                .await
                .with_context(|| {
                    format!("the log stopped answering after {} messages", found.len())
                })?;
            let Some(message) = next else { break };
            let message = message?;
            let pending = message.info().map(|info| info.pending).unwrap_or(0);
            found.push(message);
            if pending == 0 {
                break;
            }
        }
        Ok(found)
    }

    fn dead_letter(&self, message: jetstream::Message) -> anyhow::Result<DeadLetter> {
        let info = message.info().map_err(|err| anyhow::anyhow!("{err}"))?;
        let header = |name: &str| {
            message
                .headers
                .as_ref()
                .and_then(|h| h.get(name))
                .map(|v| v.as_str().to_string())
                .unwrap_or_default()
        };
        let consumer = message
            .subject
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .to_string();
        let subject = header(DEAD_SUBJECT_HEADER);
        let own = format!("{}.", self.prefix);
        Ok(DeadLetter {
            seq: info.stream_sequence,
            consumer,
            subject: subject.strip_prefix(&own).unwrap_or(&subject).to_string(),
            original_seq: header(DEAD_SEQUENCE_HEADER).parse().unwrap_or(0),
            reason: header(DEAD_REASON_HEADER),
            parked_at: chrono::DateTime::from_timestamp_nanos(
                i64::try_from(info.published.unix_timestamp_nanos()).unwrap_or(0),
            )
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            payload: summary(&message.payload),
        })
    }

    /// Publishes dead letter `seq` again on its original subject and then
    /// removes it; gives the subject. A repeat within the server's duplicate
    /// window is dropped by its message id, so running this twice is safe.
    pub async fn redeliver(&self, seq: u64) -> anyhow::Result<String> {
        let message = self
            .stream
            .get_raw_message(seq)
            .await
            .with_context(|| format!("the log holds no message {seq}"))?;
        let dead = format!("{}.deadletter.", self.prefix);
        if !message.subject.starts_with(&dead) {
            bail!("message {seq} is on {}, not a dead letter", message.subject);
        }
        let original = message
            .headers
            .get(DEAD_SUBJECT_HEADER)
            .map(|v| v.as_str().to_string())
            .with_context(|| format!("dead letter {seq} does not say where it came from"))?;
        let published = jetstream::message::PublishMessage::build()
            .payload(message.payload.clone())
            .message_id(format!("redelivered:{seq}"));
        self.jetstream
            .send_publish(original.clone(), published)
            .await?
            .await
            .with_context(|| format!("the server did not store the redelivery of {seq}"))?;
        self.stream
            .delete_message(seq)
            .await
            .with_context(|| format!("redelivered {seq}, but cannot remove its dead letter"))?;
        Ok(original)
    }
}

/// The first characters of a payload, on one line.
fn summary(payload: &[u8]) -> String {
    let text = String::from_utf8_lossy(payload).replace(['\r', '\n'], " ");
    match text.char_indices().nth(SUMMARY) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// The dead letters as a table for a terminal.
pub fn table(letters: &[DeadLetter]) -> String {
    let rows: Vec<[String; 6]> = letters
        .iter()
        .map(|l| {
            [
                l.seq.to_string(),
                l.consumer.clone(),
                l.subject.clone(),
                l.parked_at.clone(),
                l.reason.clone(),
                l.payload.clone(),
            ]
        })
        .collect();
    let head = [
        "SEQ",
        "CONSUMER",
        "SUBJECT",
        "PARKED AT",
        "REASON",
        "PAYLOAD",
    ]
    .map(String::from);
    let mut widths = head.clone().map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    std::iter::once(&head)
        .chain(&rows)
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(cell, width)| format!("{cell:width$}"))
                .collect();
            cells.join("  ").trim_end().to_string() + "\n"
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_payload_is_cut_to_one_short_line() {
        let long = format!("{{\"a\":\n\"{}\"}}", "x".repeat(100));
        let shown = summary(long.as_bytes());
        assert_eq!(shown.chars().count(), SUMMARY + 1);
        assert!(!shown.contains('\n'));
        assert_eq!(summary(b"{}"), "{}");
    }

    #[test]
    fn the_table_lines_up_its_columns() {
        let letter = DeadLetter {
            seq: 12,
            consumer: "tickets-order-created".into(),
            subject: "order.created".into(),
            original_seq: 11,
            reason: "rejected: no such ticket".into(),
            parked_at: "2026-12-02T10:00:00Z".into(),
            payload: "{}".into(),
        };
        let table = table(&[letter]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0].find("CONSUMER"),
            lines[1].find("tickets-order-created")
        );
        assert_eq!(lines[0].find("REASON"), lines[1].find("rejected"));
    }
}
