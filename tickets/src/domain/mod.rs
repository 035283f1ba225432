//! The tickets service's validated types.

mod title;

pub use common::Price;
pub use title::Title;
