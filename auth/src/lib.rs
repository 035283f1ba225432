//! The auth service: sign up, sign in, sign out, and who is signed in.
//! Sessions are JWTs in a cookie that every other service checks locally.

pub mod config;
pub mod domain;
pub mod repository;
pub mod routes;
pub mod startup;
