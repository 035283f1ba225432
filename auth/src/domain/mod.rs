//! The auth service's domain: validated inputs and the password rules.

mod email;
mod password;

pub use email::Email;
pub use password::{Password, PasswordHash};
