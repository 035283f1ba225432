//! The auth service's API, exercised over HTTP against a real database.

mod accounts;
mod burst;
mod current_user;
mod helpers;
mod process;
mod signin;
mod signout;
mod signup;
