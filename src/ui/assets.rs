//! The stylesheet, compiled into the binary so that nothing is loaded from elsewhere. Its URL
//! carries the crate version, so a browser may keep it for a day and still sees a new one after
//! an upgrade.

/// The stylesheet.
pub const CSS: &str = include_str!("style.css");

/// Where the pages link it from.
pub const CSS_URL: &str = concat!("/ui/assets/style.css?v=", env!("CARGO_PKG_VERSION"));

/// `Cache-Control` of the assets.
pub const CACHE_CONTROL: &str = "public, max-age=86400";
