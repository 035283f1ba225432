//! The platform's processes, one at a time: found, signalled, killed with
//! SIGKILL as a crash would, and started again as `up.sh` started them.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::platform::{Platform, SERVICES};

impl Platform {
    /// The process id of the running `process` (named as `port` names it).
    pub fn pid(&self, process: &str) -> u32 {
        let pids = std::fs::read_to_string(self.state.join("pids")).expect("up.sh lists its pids");
        pids.lines()
            .rev()
            .filter_map(|line| line.split_once(' '))
            .filter(|(_, name)| *name == process)
            .find_map(|(pid, _)| pid.parse().ok())
            .unwrap_or_else(|| panic!("up.sh did not start {process}"))
    }

    /// Kills `process` with SIGKILL, as a crash or an OOM kill would, and
    /// waits until it is gone. A service is marked stopped first, so that
    /// `make up` leaves it down until [`Platform::restart`]; see
    /// [`Platform::crash`] for one that `make up` brings back.
    pub async fn kill(&mut self, process: &str) {
        if SERVICES.contains(&process) {
            std::fs::write(self.stopped_marker(process), b"").expect("the run folder is writable");
        }
        self.crash(process).await;
    }

    /// Where `make up` is told that `service` is stopped on purpose.
    fn stopped_marker(&self, service: &str) -> PathBuf {
        self.state.join("run").join(format!("{service}.stopped"))
    }

    /// Sends `signal` (e.g. `STOP`, `CONT`) to `process`.
    pub fn signal(&self, process: &str, signal: &str) {
        let pid = self.pid(process);
        let sent = Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -{signal} {process}");
    }

    /// Kills `process` with SIGKILL, unannounced, and waits until it is gone.
    pub async fn crash(&mut self, process: &str) {
        let pid = self.pid(process);
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
        for child in &mut self.restarted {
            if child.id() == pid {
                let _ = child.wait();
            }
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        // up.sh reaps its own children; until then /proc lists them as zombies.
        let alive = || {
            std::fs::read_to_string(format!("/proc/{pid}/status"))
                .is_ok_and(|status| !status.contains("State:\tZ"))
        };
        while alive() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{process} outlived SIGKILL"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Starts `process` again exactly as up.sh started it, and waits until it
    /// answers: a service until its `/readyz` does, a server until its port does.
    pub async fn restart(&mut self, process: &str) {
        let _ = std::fs::remove_file(self.stopped_marker(process));
        let script = self.state.join("run").join(process);
        let child = Command::new("bash")
            .arg(&script)
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot run {}: {err}", script.display()));
        let mut pids = std::fs::OpenOptions::new()
            .append(true)
            .open(self.state.join("pids"))
            .expect("up.sh lists its pids");
        std::io::Write::write_all(&mut pids, format!("{} {process}\n", child.id()).as_bytes())
            .unwrap();
        self.restarted.push(child);
        let port = self.port(process);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        while !self.answers(process, port).await {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{process} did not come back on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `make up` has started `service` again after a crash, and
    /// it answers: a process other than `crashed`.
    pub async fn restarted_by_make_up(&self, service: &str, crashed: u32) {
        let port = self.port(service);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        while self.pid(service) == crashed || !self.answers(service, port).await {
            assert!(
                tokio::time::Instant::now() < deadline,
                "make up did not start {service} again"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn answers(&self, process: &str, port: u16) -> bool {
        let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
            return false;
        };
        if !SERVICES.contains(&process) {
            return true; // a server: accepting connections is answering
        }
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let request = "GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        if stream.write_all(request.as_bytes()).await.is_err() {
            return false;
        }
        let mut reply = Vec::new();
        let _ = stream.read_to_end(&mut reply).await;
        reply.starts_with(b"HTTP/1.1 200")
    }
}
