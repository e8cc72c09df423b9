//! The standard address database (标准地名地址库): address model, import, normalisation,
//! parsing and geocoding. (Issue: standard address database and geocoding.)

pub mod normalize;
pub mod parse;

use serde::{Deserialize, Serialize};

/// A standard address (GB/T 35639 address elements). Coordinates are WGS84/CGCS2000.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Address {
    /// stable standard address code
    pub code: String,
    /// full standard address text, province to room
    pub full: String,
    /// deepest division code known for the address (short code: county, township or village)
    pub division: String,
    pub road: Option<String>,
    /// house number text, e.g. "12号", "12-3号", "45弄6号"
    pub number: Option<String>,
    pub compound: Option<String>,
    pub building: Option<String>,
    pub lon: f64,
    pub lat: f64,
    /// "current" or "retired"
    pub status: String,
    pub successor: Option<String>,
    pub synthetic: bool,
}

/// The in-memory address book.
#[derive(Default)]
pub struct AddressBook {
    pub addresses: Vec<Address>,
}
