//! Supervision of a service's background work (listeners, the outbox
//! relay, workers): each runs as a named task, and one that ends before
//! shutdown (returned, or panicked) is logged with its name and marks the
//! service as no longer live, so `/healthz` fails and the process's own
//! supervisor (Kubernetes, `make up`) restarts it.

use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// What has stopped that should not have. Cheap to clone.
#[derive(Clone, Default)]
pub struct Liveness(Arc<Mutex<Vec<String>>>);

impl Liveness {
    /// The tasks that stopped, each with how: empty while the service is live.
    pub fn stopped(&self) -> Vec<String> {
        self.0.lock().expect("liveness").clone()
    }

    fn note(&self, what: String) {
        self.0.lock().expect("liveness").push(what);
    }
}

/// Runs named tasks until shutdown and notices the ones that stop early.
pub struct Supervisor {
    shutdown: CancellationToken,
    liveness: Liveness,
    watchers: Vec<JoinHandle<()>>,
}

impl Supervisor {
    pub fn new(shutdown: CancellationToken) -> Self {
        Self {
            shutdown,
            liveness: Liveness::default(),
            watchers: Vec::new(),
        }
    }

    /// Cancelled when the service stops: every task must end soon after.
    pub fn shutdown(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    pub fn liveness(&self) -> Liveness {
        self.liveness.clone()
    }

    /// Runs `task` as `name` (e.g. "listener orders-ticket-created").
    pub fn spawn(
        &mut self,
        name: impl Into<String>,
        task: impl Future<Output = ()> + Send + 'static,
    ) {
        let name = name.into();
        let (shutdown, liveness) = (self.shutdown.clone(), self.liveness.clone());
        let task = tokio::spawn(task);
        self.watchers.push(tokio::spawn(async move {
            let how = match task.await {
                Ok(()) if shutdown.is_cancelled() => return,
                Ok(()) => "stopped".to_string(),
                Err(err) if err.is_panic() => {
                    let panic = err.into_panic();
                    let message = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    tracing::error!(task = name, panic = message, "a background task panicked");
                    "panicked".to_string()
                }
                Err(_) => "was cancelled".to_string(),
            };
            tracing::error!(
                task = name,
                how,
                "a background task ended before shutdown; the service is not live"
            );
            liveness.note(format!("{name} {how}"));
        }));
    }

    /// Waits until every task has ended (after shutdown).
    pub async fn join(self) {
        for watcher in self.watchers {
            let _ = watcher.await;
        }
    }
}
