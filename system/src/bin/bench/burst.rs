//! A burst at auth: 500 sign-ups and sign-ins at once, each from an address
//! of its own, straight to the auth service of a release platform. Counts
//! the answers and reads auth's whole resident memory (VmRSS) during the
//! burst and a minute after it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::ensure;
use futures::future::join_all;
use serde_json::json;
use system::{Platform, Profile};

use crate::load::resident_kb;

/// Requests at once, and the accounts the sign-ins are for.
pub const BURST: usize = 500;
const ACCOUNTS: usize = 10;
/// The targets: resident memory during the burst, and a minute after.
pub const PEAK_LIMIT_KB: u64 = 200 * 1024;
pub const AFTER_LIMIT_KB: u64 = 30 * 1024;
const AFTER: Duration = Duration::from_secs(60);

pub struct Burst {
    pub served: usize,
    pub refused: usize,
    pub busy: usize,
    pub failed: usize,
    pub took: Duration,
    pub idle_kb: u64,
    pub peak_kb: u64,
    pub after_kb: u64,
}

pub async fn measure() -> anyhow::Result<Burst> {
    eprintln!("burst: {BURST} sign-ups and sign-ins at once");
    let platform = Platform::launch(Duration::from_secs(900), Profile::Release).await;
    let pid = platform.pid("auth");
    let address = format!("http://127.0.0.1:{}", platform.port("auth"));
    let http = reqwest::Client::new();
    let call = |path: &'static str, email: String, from: usize| {
        let request = http
            .post(format!("{address}/api/users/{path}"))
            .header(
                "x-forwarded-for",
                format!("198.51.{}.{}", from / 200, from % 200),
            )
            .json(&json!({ "email": email, "password": "password123" }));
        async move { request.send().await.map(|r| r.status().as_u16()) }
    };
    for n in 0..ACCOUNTS {
        let status = call("signup", format!("member{n}@example.com"), BURST + n).await?;
        ensure!(status == 201, "signing up a member answered {status}");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_kb = resident_kb(pid);

    let peak = Arc::new(AtomicU64::new(0));
    let watch = tokio::spawn({
        let peak = peak.clone();
        async move {
            loop {
                peak.fetch_max(resident_kb(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    });
    let started = Instant::now();
    // Half sign up (most of them for one email), half sign in.
    let answers = join_all((0..BURST).map(|i| match i % 2 {
        0 if i % 10 == 0 => call("signup", format!("new{i}@example.com"), i),
        0 => call("signup", "crowd@example.com".to_string(), i),
        _ => call("signin", format!("member{}@example.com", i % ACCOUNTS), i),
    }))
    .await;
    let took = started.elapsed();
    watch.abort();
    // The crowd leaves: its connections close.
    drop(http);
    tokio::time::sleep(AFTER).await;

    let count = |wanted: &[u16]| {
        answers
            .iter()
            .filter(|a| a.as_ref().is_ok_and(|s| wanted.contains(s)))
            .count()
    };
    let (served, refused, busy) = (count(&[200, 201]), count(&[400]), count(&[503]));
    Ok(Burst {
        served,
        refused,
        busy,
        failed: BURST - served - refused - busy,
        took,
        idle_kb,
        peak_kb: peak.load(Ordering::Relaxed),
        after_kb: resident_kb(pid),
    })
}

/// The table's row.
pub fn row(b: &Burst) -> String {
    let met = b.failed == 0 && b.peak_kb < PEAK_LIMIT_KB && b.after_kb < AFTER_LIMIT_KB;
    format!(
        "| {BURST} sign-ups and sign-ins at once, each from its own address: answers in {:.1} s ({} served, {} email in use, {} busy 503, {} other); auth's resident memory idle, peak, a minute after | {:.1} MB, **{:.1} MB**, **{:.1} MB** | no other answer, < 200 MB, < 30 MB | {} |\n",
        b.took.as_secs_f64(),
        b.served,
        b.refused,
        b.busy,
        b.failed,
        b.idle_kb as f64 / 1024.0,
        b.peak_kb as f64 / 1024.0,
        b.after_kb as f64 / 1024.0,
        if met { "met" } else { "**missed**" }
    )
}
