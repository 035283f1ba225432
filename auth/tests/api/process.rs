//! The service as the real binary that `make up` and Kubernetes run.

use std::process::Stdio;

use common::testing::{DEADLINE, JWT_KEY, servers, unique};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

fn auth() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_auth"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .kill_on_drop(true);
    command
}

#[tokio::test]
async fn a_missing_setting_stops_the_service_with_its_name() {
    let output = auth().env("JWT_KEY", JWT_KEY).output().await.unwrap();

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("missing required setting MONGO_URI"),
        "{stderr}"
    );
}

/// The binary, started on its own database and subjects, and where it
/// listens once it says so; the log lines read so far come with it.
pub(crate) async fn started() -> (Child, Lines<BufReader<ChildStdout>>, Vec<String>, String) {
    let mut child = auth()
        .envs([
            ("HOST", "127.0.0.1"),
            ("PORT", "0"),
            ("MONGO_URI", &servers().mongo_uri),
            ("JWT_KEY", JWT_KEY),
            ("NATS_URL", &servers().nats_url),
        ])
        .env("NATS_PREFIX", unique("t"))
        .env("NATS_STREAM", unique("T").to_uppercase())
        .env("MONGO_DB", unique("test_auth"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut logs = Vec::new();

    // Outside dev mode the logs are JSON, one object a line.
    let address = tokio::time::timeout(DEADLINE, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let entry: serde_json::Value = serde_json::from_str(&line).expect("a JSON log line");
            logs.push(line);
            if entry["message"] == "auth listening" {
                return entry["address"].as_str().unwrap().to_string();
            }
        }
        panic!("the service ended before it listened")
    })
    .await
    .expect("the service says where it listens");
    (child, lines, logs, address)
}

#[tokio::test]
async fn sigterm_stops_the_service_and_secrets_stay_out_of_its_json_logs() {
    let mongo_uri = servers().mongo_uri;
    let (mut child, mut lines, mut logs, address) = started().await;
    let ready = reqwest::get(format!("http://{address}/readyz"))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);

    let pid = child.id().unwrap().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .unwrap()
            .success()
    );
    let status = tokio::time::timeout(DEADLINE, child.wait())
        .await
        .expect("stops on SIGTERM")
        .unwrap();

    assert!(status.success(), "exit status {status}");
    while let Some(line) = lines.next_line().await.unwrap() {
        logs.push(line);
    }
    let logs = logs.join("\n");
    assert!(logs.contains("shutdown requested"), "{logs}");
    assert!(
        !logs.contains(JWT_KEY) && !logs.contains(&mongo_uri),
        "a secret reached the logs"
    );
}
