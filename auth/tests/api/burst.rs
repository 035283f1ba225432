//! A burst of sign-ups and sign-ins against the real binary: hashing is
//! bounded, so the burst is answered (a 503 with `Retry-After` past the
//! queue, never a 500) and the memory it took is given back.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::process::started;

const BURST: usize = 500;
/// Accounts the burst's sign-ins are for.
const ACCOUNTS: usize = 10;
const PASSWORD: &str = "password123";
const MB: u64 = 1024 * 1024;

/// The memory process `pid` holds resident beyond its mapped files, in
/// bytes: the heap and the stacks. The debug binary's own code is 30 MB of
/// mapped file; the benchmark measures the release binary's whole VmRSS.
fn resident(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the process runs");
    status
        .lines()
        .find_map(|line| line.strip_prefix("RssAnon:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("RssAnon in /proc/PID/status")
        * 1024
}

#[tokio::test]
async fn five_hundred_sign_ups_and_sign_ins_at_once_get_no_500_and_the_memory_comes_back() {
    let (child, mut lines, _logs, address) = started().await;
    let pid = child.id().unwrap();
    // Its logs are read, or a full pipe would stall it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let http = reqwest::Client::new();
    let call = async |path: &str, email: String, from: usize| {
        http.post(format!("http://{address}/api/users/{path}"))
            // Each from an address of its own, as a crowd would be.
            .header(
                "x-forwarded-for",
                format!("198.51.{}.{}", from / 200, from % 200),
            )
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .unwrap()
    };
    for n in 0..ACCOUNTS {
        let made = call("signup", format!("member{n}@example.com"), BURST + n).await;
        assert_eq!(made.status(), StatusCode::CREATED);
    }

    // Half sign up (most of them for one email), half sign in.
    let peak = Arc::new(AtomicU64::new(0));
    let watch = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(resident(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let answers = join_all((0..BURST).map(|i| {
        let (path, email) = match i % 2 {
            0 if i % 10 == 0 => ("signup", format!("new{i}@example.com")),
            0 => ("signup", "crowd@example.com".to_string()),
            _ => ("signin", format!("member{}@example.com", i % ACCOUNTS)),
        };
        async move {
            let answer = call(path, email, i).await;
            let status = answer.status();
            let retry_after = answer.headers().get("retry-after").is_some();
            let body: Value = answer.json().await.unwrap_or(Value::Null);
            (status, retry_after, body)
        }
    }))
    .await;
    watch.abort();
    let during = peak.load(Ordering::Relaxed);
    // The crowd leaves: its connections close.
    drop(http);

    let count = |wanted: StatusCode| answers.iter().filter(|(s, ..)| *s == wanted).count();
    let served = count(StatusCode::OK) + count(StatusCode::CREATED);
    let busy = count(StatusCode::SERVICE_UNAVAILABLE);
    let taken = count(StatusCode::BAD_REQUEST);
    println!(
        "{served} served, {taken} email taken, {busy} busy; peak {} MB",
        during / MB
    );
    for (status, retry_after, body) in &answers {
        assert!(
            [
                StatusCode::OK,
                StatusCode::CREATED,
                StatusCode::BAD_REQUEST,
                StatusCode::SERVICE_UNAVAILABLE
            ]
            .contains(status),
            "{status}: {body}"
        );
        if *status == StatusCode::SERVICE_UNAVAILABLE {
            assert!(retry_after, "a 503 without Retry-After");
            assert!(body["errors"][0]["message"].is_string(), "{body}");
        }
    }
    assert!(served > 0, "the burst was refused whole");
    assert!(
        during < 200 * MB,
        "auth held {} MB during the burst",
        during / MB
    );

    // A minute after, the memory the hashes took is given back.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let now = resident(pid);
        if now < 30 * MB {
            println!("{} MB after the burst", now / MB);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "auth still holds {} MB a minute after the burst",
            now / MB
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
