//! The auth service's domain: validated inputs, the password rules, and
//! the attempt limits.

mod email;
pub mod limits;
mod password;

pub use email::Email;
pub use password::{Busy, Hasher, Password, PasswordHash};
