//! The web client in a real headless Chromium (Debian's, through
//! chromedriver) against the whole platform, started as `make up` starts
//! it. A screenshot of every page, at 1280 and at 390 pixels wide, goes to
//! `screenshots/` at the top of the repository (ignored by git).

mod accounts;
mod browser;
mod catalogue;
mod journeys;
