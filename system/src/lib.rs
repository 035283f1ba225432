//! The whole platform as real processes, started by `scripts/up.sh` on free
//! ports with a state folder of its own: the same binaries, servers and
//! proxy as `make up`. Whole-system tests and the browser test use it.

mod nats;
mod platform;
mod processes;

pub use platform::{Platform, Profile, SERVICES, free_port, workspace_root};
