//! The five-level administrative division tree (省/市/县/乡镇/村), its codes, its change history
//! and its boundary polygons.
//!
//! Codes: the national statistical division code (统计用区划代码) is 12 digits; its first 6 digits
//! are the GB/T 2260 code of the county. Inside diming each division is keyed by its *short*
//! code, the significant prefix of its level (2, 4, 6, 9 or 12 digits), as in the NBS lists.
//! Answers give `code` as the conventional code of the level (6 digits padded for province,
//! city and county — e.g. `330106` — 9 for townships, 12 for villages), plus `stat_code` (12
//! digits) and `gb_code` (the 6-digit GB/T 2260 prefix).

pub mod changes;
pub mod index;
pub mod layer;
pub mod tree;

pub use changes::{Change, ChangeLog};
pub use index::{PolygonIndex, ReverseHit};
pub use layer::{DivisionRef, Divisions, Reverse};
pub use tree::{Division, DivisionTree};

use serde::{Deserialize, Serialize};

/// Level of a division in the five-level tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Province = 1,
    City = 2,
    County = 3,
    Township = 4,
    Village = 5,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::Province,
        Level::City,
        Level::County,
        Level::Township,
        Level::Village,
    ];
    /// Number of significant digits of a short code at this level.
    pub fn short_len(self) -> usize {
        match self {
            Level::Province => 2,
            Level::City => 4,
            Level::County => 6,
            Level::Township => 9,
            Level::Village => 12,
        }
    }
    pub fn from_short_len(n: usize) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.short_len() == n)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::City => "city",
            Level::County => "county",
            Level::Township => "township",
            Level::Village => "village",
        }
    }
    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }
    /// The Chinese name of the level.
    pub fn zh(self) -> &'static str {
        match self {
            Level::Province => "省级",
            Level::City => "地级",
            Level::County => "县级",
            Level::Township => "乡级",
            Level::Village => "村级",
        }
    }
    pub fn parent(self) -> Option<Level> {
        match self {
            Level::Province => None,
            Level::City => Some(Level::Province),
            Level::County => Some(Level::City),
            Level::Township => Some(Level::County),
            Level::Village => Some(Level::Township),
        }
    }
}

/// Normalises any way of writing a division code to its short code: `33`, `330000`,
/// `330000000000` → `33`; `330106` or `330106000000` → `330106`; `330106001` → `330106001`.
/// Errors name what is wrong with the input.
pub fn short_code(code: &str) -> Result<String, String> {
    let c = code.trim();
    if c.is_empty() {
        return Err("division code is empty".into());
    }
    if !c.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("division code '{c}' must contain digits only"));
    }
    let level_len = match c.len() {
        2 | 4 | 6 | 9 | 12 => c.len(),
        n => {
            return Err(format!(
                "division code '{c}' has {n} digits: expected 2, 4, 6, 9 or 12"
            ))
        }
    };
    // strip zero-padding level by level
    let mut s = &c[..level_len];
    loop {
        let shorter = match s.len() {
            12 if s.ends_with("000") => &s[..9],
            9 if s.ends_with("000") => &s[..6],
            6 if s.ends_with("00") => &s[..4],
            4 if s.ends_with("00") => &s[..2],
            _ => break,
        };
        s = shorter;
    }
    if s.len() == 2 && s == "00" {
        return Err(format!("division code '{c}' is all zeros"));
    }
    Ok(s.to_string())
}

/// The conventional display code of a short code: 6 digits for province/city/county
/// (`33` → `330000`), the short code itself below county.
pub fn display_code(short: &str) -> String {
    if short.len() < 6 {
        format!("{short:0<6}")
    } else {
        short.to_string()
    }
}

/// The 12-digit statistical code of a short code.
pub fn stat_code(short: &str) -> String {
    format!("{short:0<12}")
}

/// Level of a short code.
pub fn level_of(short: &str) -> Option<Level> {
    Level::from_short_len(short.len())
}

/// Short code of the parent (by code structure; the tree may override for odd cases).
pub fn parent_short(short: &str) -> Option<&str> {
    match short.len() {
        4 => Some(&short[..2]),
        6 => Some(&short[..4]),
        9 => Some(&short[..6]),
        12 => Some(&short[..9]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn short_codes() {
        assert_eq!(short_code("330000").unwrap(), "33");
        assert_eq!(short_code("330100").unwrap(), "3301");
        assert_eq!(short_code("330106").unwrap(), "330106");
        assert_eq!(short_code("330106000000").unwrap(), "330106");
        assert_eq!(short_code("330106001").unwrap(), "330106001");
        assert_eq!(short_code("330106001001").unwrap(), "330106001001");
        assert!(short_code("3301x6").is_err());
        assert!(short_code("12345").is_err());
        assert!(short_code("000000").is_err());
        assert_eq!(display_code("33"), "330000");
        assert_eq!(stat_code("3301"), "330100000000");
    }
}
