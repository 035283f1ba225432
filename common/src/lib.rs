//! What two or more services of the ticketing platform share: the error
//! shape, sessions, the event catalogue, the JetStream bus, the consumers
//! with their inbox and dead letters, the transactional outbox, replicas,
//! Mongo helpers, settings, the service builder, health and telemetry.

pub mod bus;
pub mod config;
pub mod consumers;
pub mod dispatch;
pub mod error;
pub mod events;
pub mod handling;
pub mod health;
pub mod http;
pub mod inbox;
pub mod json;
pub mod listener;
pub mod metrics;
pub mod money;
pub mod mongo;
pub mod openapi;
pub mod outbox;
pub mod paging;
pub mod permissions;
pub mod rebuild;
pub mod relay;
pub mod replica;
pub mod revocations;
pub mod secret;
pub mod service;
pub mod session;
pub mod supervisor;
pub mod telemetry;
#[cfg(feature = "test-support")]
pub mod testing;

pub use error::{ApiError, ApiResult, ErrorBody, ErrorItem};
pub use json::AppJson;
pub use money::Price;
