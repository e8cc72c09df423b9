//! diming (地名): place names, administrative divisions, boundary inspection and eldercare
//! coverage for civil-affairs bureaus.
//!
//! The library is split by domain; `http` is a thin layer on top.
pub mod addresses;
pub mod bench;
pub mod coverage;
pub mod crs;
pub mod divisions;
pub mod facilities;
pub mod http;
pub mod inspection;
pub mod network;
pub mod store;
pub mod tiles;
