//! Passwords: the length rule, and argon2id hashing, which is slow on
//! purpose and so runs off the async runtime, on as many threads as there
//! are cores, with a bounded queue: past it the service is busy (a 503),
//! rather than holding hundreds of hashes' memory at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use password_hash::rand_core::OsRng;

/// A password a user chose: 8 to 128 characters.
#[derive(Clone)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([redacted])")
    }
}

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let chars = raw.chars().count();
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars) {
            return Err("Password must be between 8 and 128 characters");
        }
        Ok(Self(raw.to_string()))
    }

    /// Hashes on a blocking thread, when `hasher` has room.
    pub async fn hash(self, hasher: &Hasher) -> Result<anyhow::Result<PasswordHash>, Busy> {
        hasher
            .run(move || {
                let salt = SaltString::generate(&mut OsRng);
                let hash = Argon2::default()
                    .hash_password(self.0.as_bytes(), &salt)
                    .map_err(|err| anyhow::anyhow!("cannot hash password: {err}"))?;
                Ok(PasswordHash(hash.to_string()))
            })
            .await
    }
}

/// An argon2id hash in PHC string form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` is the password; runs on a blocking thread, when
    /// `hasher` has room. Takes as long for a wrong password as for the right one.
    pub async fn verify(
        &self,
        candidate: String,
        hasher: &Hasher,
    ) -> Result<anyhow::Result<bool>, Busy> {
        let phc = self.0.clone();
        hasher
            .run(move || {
                let parsed = argon2::PasswordHash::new(&phc)
                    .map_err(|err| anyhow::anyhow!("stored hash is malformed: {err}"))?;
                Ok(Argon2::default()
                    .verify_password(candidate.as_bytes(), &parsed)
                    .is_ok())
            })
            .await
    }
}

/// Too many hashes running and waiting: try again shortly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

type Job = Box<dyn FnOnce() + Send>;

/// Runs password hashes on threads of its own, `running` of them, with at
/// most `waiting` more queued. The same few threads do every hash, so the
/// allocator's per-thread heaps are few too: on tokio's blocking pool a
/// burst spread hashes over dozens of threads, each keeping a 19 MiB block.
#[derive(Clone)]
pub struct Hasher {
    jobs: std::sync::mpsc::Sender<Job>,
    /// Hashes running or queued.
    in_flight: Arc<AtomicUsize>,
    capacity: usize,
}

impl Hasher {
    pub fn new(running: usize, waiting: usize) -> Self {
        let running = running.max(1);
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..running {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("hasher-{n}"))
                .spawn(move || {
                    // Ends when every clone of the hasher has gone.
                    loop {
                        let next = queue
                            .lock()
                            .map_err(drop)
                            .and_then(|q| q.recv().map_err(drop));
                        let Ok(job) = next else { break };
                        job();
                    }
                })
                .expect("cannot start a hashing thread");
        }
        Self {
            jobs,
            in_flight: Arc::default(),
            capacity: running + waiting,
        }
    }

    /// One hash a core, and a queue of sixteen a core.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::new(cores, 16 * cores)
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> Result<anyhow::Result<T>, Busy> {
        if self.in_flight.fetch_add(1, Ordering::SeqCst) >= self.capacity {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            return Err(Busy);
        }
        // Counted out when the job ends, or is dropped unrun.
        let leave = Leave(self.in_flight.clone());
        let (done, outcome) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _leave = leave;
            let _ = done.send(job());
        });
        if self.jobs.send(job).is_err() {
            return Err(Busy);
        }
        Ok(outcome
            .await
            .unwrap_or_else(|_| Err(anyhow::anyhow!("a hashing thread ended mid-hash"))))
    }
}

/// Counts a hash out when it ends, however it ends.
struct Leave(Arc<AtomicUsize>);

impl Drop for Leave {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_limits_count_characters() {
        assert!(Password::parse(&"a".repeat(7)).is_err());
        assert!(Password::parse(&"a".repeat(8)).is_ok());
        assert!(Password::parse(&"a".repeat(128)).is_ok());
        assert!(Password::parse(&"a".repeat(129)).is_err());
        // Eight characters, sixteen bytes.
        assert!(Password::parse("éééééééé").is_ok());
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hasher = Hasher::new(1, 1);
        let hash = Password::parse("correct horse")
            .unwrap()
            .hash(&hasher)
            .await
            .unwrap()
            .unwrap();
        assert!(hash.as_str().starts_with("$argon2id$"));
        assert!(
            hash.verify("correct horse".into(), &hasher)
                .await
                .unwrap()
                .unwrap()
        );
        assert!(
            !hash
                .verify("battery staple".into(), &hasher)
                .await
                .unwrap()
                .unwrap()
        );
    }

    #[tokio::test]
    async fn past_the_running_and_the_queued_hashes_the_hasher_is_busy() {
        let hasher = Hasher::new(1, 2);
        let hashes = (0..8).map(|_| Password::parse("correct horse").unwrap().hash(&hasher));
        let outcomes = futures::future::join_all(hashes).await;
        let busy = outcomes.iter().filter(|outcome| outcome.is_err()).count();
        assert_eq!(busy, 5, "one running, two queued, the rest refused");
    }

    #[test]
    fn debug_output_hides_the_password() {
        assert!(!format!("{:?}", Password::parse("supersecret").unwrap()).contains("supersecret"));
    }
}
