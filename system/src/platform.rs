//! `scripts/up.sh` on free ports, with its state in a folder of its own,
//! stopped (everything it started) on drop. Any one process of it can be
//! killed and started again as `up.sh` started it, for the fault tests.

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

/// A port free now, chosen below the range the kernel gives outgoing
/// connections (32768 and up on Linux): a port the kernel picked could be
/// taken by one of the platform's own client sockets before the server it
/// was meant for binds it.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, RandomState};
    let random = RandomState::new();
    (0u32..)
        .map(|attempt| 10_000 + (random.hash_one(attempt) % 22_000) as u16)
        .find(|port| std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok())
        .expect("a free port")
}

/// How long `make up` may take. Its services are built before the tests
/// run, and each server and service it waits for has a limit of its own.
const UP_DEADLINE: Duration = Duration::from_secs(300);

/// How many times [`Platform::launch`] starts `make up` before it gives up.
const STARTS: u32 = 3;

/// Where [`Platform::launch`] notes each start of `make up` that failed.
pub const FAILURES_LOG: &str = "target/make-up-failures.log";

/// Appends `report` to [`FAILURES_LOG`], headed by the test's name.
fn record_failure(attempt: u32, report: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    let entry = format!("=== {test}: make up failed at start {attempt} of {STARTS}\n{report}\n");
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(workspace_root().join(FAILURES_LOG))
        .and_then(|mut log| std::io::Write::write_all(&mut log, entry.as_bytes()));
    if let Err(err) = appended {
        eprintln!("cannot write {FAILURES_LOG}: {err}\n{entry}");
    }
}

/// `scripts/up.sh`, run by bash without the variables cargo gives a test
/// of its package. Passed on to the cargo that up.sh runs, CARGO_MANIFEST_DIR
/// changes what ring's build script depends on, and the workspace was built
/// again: minutes, in which every other platform's start waited for the
/// build lock.
fn up_command() -> Command {
    let mut command = Command::new("bash");
    command.arg(workspace_root().join("scripts/up.sh"));
    for (name, _) in std::env::vars() {
        if is_package_variable(&name) {
            command.env_remove(name);
        }
    }
    command
}

/// Whether `name` is one of the variables cargo sets for a package's test.
fn is_package_variable(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_BIN_EXE_")
        || matches!(
            name,
            "CARGO_MANIFEST_DIR"
                | "CARGO_MANIFEST_PATH"
                | "CARGO_CRATE_NAME"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_TARGET_TMPDIR"
        )
}

pub struct Platform {
    /// Where the proxy serves the pages and the APIs.
    pub url: String,
    ports: BTreeMap<&'static str, u16>,
    up: Child,
    pub(crate) state: PathBuf,
    /// Processes started again by `restart`; up.sh stops them with the rest.
    pub(crate) restarted: Vec<Child>,
    /// Started with `NATS_CLUSTER=3`: three NATS servers, not one.
    cluster: bool,
}

/// Which build of the services runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Debug,
    Release,
}

const PORTS: [&str; 14] = [
    "HTTP",
    "PROMETHEUS",
    "NATS",
    // The second and third servers when `NATS_CLUSTER=3`.
    "NATS_2",
    "NATS_3",
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

/// The services `make up` runs: our own processes, each with a `/readyz`.
pub const SERVICES: [&str; 6] = [
    "auth",
    "tickets",
    "orders",
    "expiration",
    "payments",
    "client",
];

impl Platform {
    /// Starts everything from debug builds; orders hold their ticket for `window`.
    pub async fn start(window: Duration) -> Self {
        Self::launch(window, Profile::Debug).await
    }

    /// Starts everything from the given build; orders hold their ticket for `window`.
    ///
    /// `make up` is started again, on other ports, when it fails or does not
    /// come up, up to [`STARTS`] times in all. A port picked free can be
    /// taken by a parallel test before `make up` binds it; any other failure
    /// is written to [`FAILURES_LOG`], which `make test` prints at its end,
    /// so that a start that failed once is seen even when the test passed.
    pub async fn launch(window: Duration, profile: Profile) -> Self {
        Self::launch_with(window, profile, &[]).await
    }

    /// As [`Platform::launch`], with settings such as `EXPIRY_SWEEP_SECONDS`
    /// in the environment `make up` passes on to the services.
    pub async fn launch_with(
        window: Duration,
        profile: Profile,
        settings: &[(&str, &str)],
    ) -> Self {
        let mut reports = Vec::new();
        for attempt in 1..=STARTS {
            let mut platform = Self::spawn(window, profile, settings);
            match platform.wait_until_up().await {
                Ok(()) => return platform,
                Err(report) if report.contains("already in use") => reports.push(report),
                Err(report) => {
                    record_failure(attempt, &report);
                    reports.push(report);
                }
            }
        }
        panic!("make up failed {STARTS} times:\n{}", reports.join("\n"));
    }

    /// Runs `make up` on ports free a moment ago, all different.
    fn spawn(window: Duration, profile: Profile, settings: &[(&str, &str)]) -> Self {
        let state = std::env::temp_dir().join(format!("ticketing-e2e-{}", free_port()));
        std::fs::create_dir_all(&state).unwrap();
        let log = std::fs::File::create(state.join("up.log")).unwrap();
        let mut command = up_command();
        command
            .env("STATE_DIR", &state)
            .env("EXPIRATION_WINDOW_SECONDS", window.as_secs().to_string())
            .env(
                "PROFILE",
                match profile {
                    Profile::Debug => "debug",
                    Profile::Release => "release",
                },
            )
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let mut ports = BTreeMap::new();
        for name in PORTS {
            let port = std::iter::repeat_with(free_port)
                .find(|port| !ports.values().any(|taken| taken == port))
                .expect("a free port");
            ports.insert(name, port);
        }
        for (name, port) in &ports {
            command.env(format!("{name}_PORT"), port.to_string());
        }
        command.envs(settings.iter().copied());
        let up = command.spawn().expect("bash runs scripts/up.sh");
        Self {
            url: format!("http://localhost:{}", ports["HTTP"]),
            ports,
            up,
            state,
            restarted: Vec::new(),
            cluster: settings.contains(&("NATS_CLUSTER", "3")),
        }
    }

    /// The MongoDB-protocol server every service's database lives on (each
    /// service's database is named after it).
    pub fn mongo_uri(&self) -> String {
        format!(
            "mongodb://127.0.0.1:{}/?directConnection=true&retryWrites=false",
            self.ports["MONGO"]
        )
    }

    /// The NATS server, or the cluster's servers separated by commas; the
    /// services' subjects start with `ticketing.`. It asks every client to
    /// sign in: see [`crate::nats`].
    pub fn nats_url(&self) -> String {
        let servers: &[&str] = if self.cluster {
            &["NATS", "NATS_2", "NATS_3"]
        } else {
            &["NATS"]
        };
        let urls: Vec<_> = servers
            .iter()
            .map(|name| format!("nats://127.0.0.1:{}", self.ports[name]))
            .collect();
        urls.join(",")
    }

    /// The key `make up` generated to sign sessions with.
    pub fn jwt_key(&self) -> String {
        std::fs::read_to_string(self.state.join("jwt_key"))
            .expect("make up wrote its signing key")
            .trim()
            .to_string()
    }

    /// What `process` (a service, `nginx`, ...) has logged so far.
    pub fn log_of(&self, process: &str) -> String {
        std::fs::read_to_string(self.state.join("logs").join(format!("{process}.log")))
            .unwrap_or_default()
    }

    /// The port one process listens on: a service's name, or `nats-server`
    /// (and `nats-server-2`, `nats-server-3` in a cluster), `redis-server`, `secantusdb`, `localstripe`, `nginx`, `prometheus`.
    pub fn port(&self, process: &str) -> u16 {
        let key = match process {
            "nats-server" => "NATS",
            "nats-server-2" => "NATS_2",
            "nats-server-3" => "NATS_3",
            "redis-server" => "REDIS",
            "secantusdb" => "MONGO",
            "localstripe" => "STRIPE",
            "nginx" => "HTTP",
            "prometheus" => "PROMETHEUS",
            service => &service.to_uppercase(),
        };
        self.ports[key]
    }

    /// Waits for the line `make up` prints when everything answers; what
    /// went wrong if it exited instead, or took longer than [`UP_DEADLINE`].
    async fn wait_until_up(&mut self) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + UP_DEADLINE;
        loop {
            if self.up_log().contains("The platform is up") {
                return Ok(());
            }
            if let Ok(Some(status)) = self.up.try_wait() {
                return Err(format!("make up exited with {status}:\n{}", self.report()));
            }
            if tokio::time::Instant::now() > deadline {
                return Err(format!(
                    "make up did not come up within {} s; what it runs now:\n{}{}",
                    UP_DEADLINE.as_secs(),
                    self.children(),
                    self.report()
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// What `make up` printed, read as text whatever bytes it holds.
    fn up_log(&self) -> String {
        let bytes = std::fs::read(self.state.join("up.log")).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The processes `make up` has started and not yet reaped.
    fn children(&self) -> String {
        Command::new("ps")
            .args(["-o", "pid,etime,args", "--ppid", &self.up.id().to_string()])
            .output()
            .map(|ps| String::from_utf8_lossy(&ps.stdout).into_owned())
            .unwrap_or_else(|err| format!("(ps: {err})\n"))
    }

    /// For a failure's message: what `make up` printed and the last lines of
    /// every process's log.
    fn report(&self) -> String {
        let mut report = format!("--- up.log\n{}", self.up_log());
        let mut logs: Vec<_> = std::fs::read_dir(self.state.join("logs"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .collect();
        logs.sort();
        for log in logs {
            let bytes = std::fs::read(&log).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<_> = text.lines().collect();
            report += &format!("--- the last lines of {}\n", log.display());
            for line in &lines[lines.len().saturating_sub(15)..] {
                report += line;
                report += "\n";
            }
        }
        report
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        // up.sh stops everything it started when it is terminated. One that
        // has exited is not signalled: its process id may be another's now.
        if let Ok(None) = self.up.try_wait() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(self.up.id().to_string())
                .status();
            let _ = self.up.wait();
        }
        for child in &mut self.restarted {
            let _ = child.wait();
        }
        if std::thread::panicking() {
            self.keep_logs();
        }
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

impl Platform {
    /// Keeps every process's log of a failed test under `target/platform-logs/`.
    fn keep_logs(&self) {
        let test = std::thread::current()
            .name()
            .unwrap_or("a-test")
            .replace("::", "-");
        let kept = workspace_root()
            .join("target/platform-logs")
            .join(format!("{test}-{}", self.ports["HTTP"]));
        if std::fs::create_dir_all(kept.parent().expect("a parent")).is_ok()
            && std::fs::rename(self.state.join("logs"), &kept).is_ok()
        {
            eprintln!("the platform's logs are kept in {}", kept.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn up_sh_runs_without_the_variables_of_the_test_s_package() {
        assert!(
            std::env::var_os("CARGO_MANIFEST_DIR").is_some(),
            "cargo gives a test its package's variables"
        );
        let command = up_command();
        let removed: Vec<_> = command
            .get_envs()
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect();
        for name in ["CARGO_MANIFEST_DIR", "CARGO_PKG_NAME", "CARGO_PKG_VERSION"] {
            assert!(
                removed.iter().any(|removed| removed == name),
                "{name} is passed on"
            );
        }
    }
}
