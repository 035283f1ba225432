//! `scripts/up.sh` on free ports, with its state in a folder of its own,
//! stopped (everything it started) on drop.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("this crate is in the workspace")
        .to_path_buf()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

pub struct Platform {
    /// Where the proxy serves the pages and the APIs.
    pub url: String,
    ports: BTreeMap<&'static str, u16>,
    up: Child,
    state: PathBuf,
}

const PORTS: [&str; 11] = [
    "HTTP",
    "NATS",
    "REDIS",
    "MONGO",
    "STRIPE",
    "CLIENT",
    "AUTH",
    "TICKETS",
    "ORDERS",
    "PAYMENTS",
    "EXPIRATION",
];

impl Platform {
    /// Starts everything; orders hold their ticket for `window`.
    pub async fn start(window: Duration) -> Self {
        let state = std::env::temp_dir().join(format!("ticketing-e2e-{}", free_port()));
        std::fs::create_dir_all(&state).unwrap();
        let log = std::fs::File::create(state.join("up.log")).unwrap();
        let mut command = Command::new("bash");
        command
            .arg(workspace_root().join("scripts/up.sh"))
            .env("STATE_DIR", &state)
            .env("EXPIRATION_WINDOW_SECONDS", window.as_secs().to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let ports: BTreeMap<_, _> = PORTS.iter().map(|name| (*name, free_port())).collect();
        for (name, port) in &ports {
            command.env(format!("{name}_PORT"), port.to_string());
        }
        let up = command.spawn().expect("bash runs scripts/up.sh");
        let mut platform = Self {
            url: format!("http://localhost:{}", ports["HTTP"]),
            ports,
            up,
            state,
        };
        platform.wait_until_up().await;
        platform
    }

    /// The MongoDB-protocol server every service's database lives on (each
    /// service's database is named after it).
    pub fn mongo_uri(&self) -> String {
        format!(
            "mongodb://127.0.0.1:{}/?directConnection=true&retryWrites=false",
            self.ports["MONGO"]
        )
    }

    /// The key `make up` generated to sign sessions with.
    pub fn jwt_key(&self) -> String {
        std::fs::read_to_string(self.state.join("jwt_key"))
            .expect("make up wrote its signing key")
            .trim()
            .to_string()
    }

    /// Waits for the line `make up` prints when everything answers.
    async fn wait_until_up(&mut self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
        loop {
            let log = std::fs::read_to_string(self.state.join("up.log")).unwrap_or_default();
            if log.contains("The platform is up") {
                return;
            }
            if let Ok(Some(status)) = self.up.try_wait() {
                panic!("make up exited with {status}:\n{log}");
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "make up did not come up:\n{log}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        // up.sh stops everything it started when it is terminated.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.up.id().to_string())
            .status();
        let _ = self.up.wait();
        let _ = std::fs::remove_dir_all(&self.state);
    }
}
