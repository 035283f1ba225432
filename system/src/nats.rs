//! Signing in to a platform's NATS, which asks every client to: `make up`
//! generates a password per user for each run (`scripts/lib.sh`
//! `write_nats_accounts`). The tests and the bench sign in as `ops`, which
//! may do anything; a test may sign in as a service to see what the server
//! refuses it.

use crate::Platform;

impl Platform {
    /// The NATS user `user`'s password (a service's name, or `ops`), which
    /// `make up` generated for this run.
    pub fn nats_password(&self, user: &str) -> String {
        std::fs::read_to_string(self.state.join("nats-users").join(user))
            .unwrap_or_else(|err| panic!("make up wrote no NATS password for {user}: {err}"))
    }

    /// How to sign in to NATS as `user`.
    pub fn nats_options(&self, user: &str) -> async_nats::ConnectOptions {
        async_nats::ConnectOptions::new().user_and_password(user.into(), self.nats_password(user))
    }

    /// A connection to NATS as `ops`, which may do anything: for looking
    /// at the stream and for publishing what no service would.
    pub async fn nats(&self) -> Result<async_nats::Client, async_nats::ConnectError> {
        self.nats_options("ops")
            .connect(common::bus::server_addrs(&self.nats_url()))
            .await
    }

    /// `NATS_URL`, `NATS_USER` and `NATS_PASSWORD` for a tool (`ops`) to
    /// reach NATS as `ops`.
    pub fn nats_env(&self) -> [(&'static str, String); 3] {
        [
            ("NATS_URL", self.nats_url()),
            ("NATS_USER", "ops".into()),
            ("NATS_PASSWORD", self.nats_password("ops")),
        ]
    }
}
