//! What two or more services of the ticketing platform share: the error
//! shape, sessions, the event catalogue, the JetStream bus and listeners,
//! the transactional outbox, Mongo helpers, settings, health and telemetry.

pub mod bus;
pub mod config;
pub mod error;
pub mod events;
pub mod health;
pub mod http;
pub mod json;
pub mod listener;
pub mod money;
pub mod mongo;
pub mod outbox;
pub mod replica;
pub mod session;
pub mod telemetry;
#[cfg(feature = "test-support")]
pub mod testing;

pub use error::{ApiError, ApiResult, ErrorItem};
pub use json::AppJson;
pub use money::Price;
