//! Eldercare facilities (养老机构, 综合为老服务中心, 日间照料中心, 助餐点/老年食堂, 老年活动室,
//! 居家养老服务站): the registry that coverage, tiles and the map read.
//!
//! The registry is in memory (loaded from `data/facilities/*.csv` or PostGIS) and every change
//! bumps a version number that caches (tiles, coverage) compare against.

use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Facility types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FacilityType {
    /// 养老机构
    Institution,
    /// 综合为老服务中心
    ServiceCenter,
    /// 日间照料中心
    DayCare,
    /// 助餐点/老年食堂
    MealPoint,
    /// 老年活动室
    ActivityRoom,
    /// 居家养老服务站
    HomeCareStation,
}

impl FacilityType {
    pub const ALL: [FacilityType; 6] = [
        FacilityType::Institution,
        FacilityType::ServiceCenter,
        FacilityType::DayCare,
        FacilityType::MealPoint,
        FacilityType::ActivityRoom,
        FacilityType::HomeCareStation,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            FacilityType::Institution => "institution",
            FacilityType::ServiceCenter => "service_center",
            FacilityType::DayCare => "day_care",
            FacilityType::MealPoint => "meal_point",
            FacilityType::ActivityRoom => "activity_room",
            FacilityType::HomeCareStation => "home_care_station",
        }
    }
    /// Chinese name, as on the map legend.
    pub fn zh(self) -> &'static str {
        match self {
            FacilityType::Institution => "养老机构",
            FacilityType::ServiceCenter => "综合为老服务中心",
            FacilityType::DayCare => "日间照料中心",
            FacilityType::MealPoint => "助餐点/老年食堂",
            FacilityType::ActivityRoom => "老年活动室",
            FacilityType::HomeCareStation => "居家养老服务站",
        }
    }
    /// Parses the English id or the Chinese name (助餐点, 老年食堂 both → meal_point).
    pub fn parse(s: &str) -> Option<FacilityType> {
        let s = s.trim();
        FacilityType::ALL
            .into_iter()
            .find(|t| t.as_str() == s || t.zh() == s || t.zh().split('/').any(|part| part == s))
    }
}

/// A facility. Coordinates are WGS84/CGCS2000.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Facility {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FacilityType,
    pub lon: f64,
    pub lat: f64,
    /// standard address text
    pub address: Option<String>,
    /// standard address code (links to the address database)
    pub address_code: Option<String>,
    /// deepest division code (township or community) of the site
    pub division: Option<String>,
    /// level / star rating, e.g. "五星", "3"
    pub level: Option<String>,
    pub beds: Option<u32>,
    pub nursing_beds: Option<u32>,
    /// yuan per month
    pub price_min: Option<f64>,
    pub price_max: Option<f64>,
    pub phone: Option<String>,
    pub hours: Option<String>,
    pub operator: Option<String>,
    pub photo_url: Option<String>,
    /// "open", "planned", "closed", "retired"
    pub status: String,
    pub synthetic: bool,
}

/// The registry: changes bump `version`, which caches (tiles, coverage) watch.
#[derive(Default)]
pub struct FacilityRegistry {
    pub items: RwLock<BTreeMap<String, Facility>>,
    version: AtomicU64,
}

impl FacilityRegistry {
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::SeqCst)
    }
    pub fn bump(&self) -> u64 {
        self.version.fetch_add(1, Ordering::SeqCst) + 1
    }
    /// Inserts or replaces a facility and bumps the version.
    pub fn upsert(&self, f: Facility) -> u64 {
        self.items.write().insert(f.id.clone(), f);
        self.bump()
    }
    /// Snapshot of all facilities that are not retired.
    pub fn active(&self) -> Vec<Facility> {
        self.items
            .read()
            .values()
            .filter(|f| f.status != "retired")
            .cloned()
            .collect()
    }
}

/// Reads a facility CSV file (format of [`csvio::parse`], coordinates in WGS84). All-or-nothing:
/// the first bad row is an error naming its line and field.
pub fn load_csv(path: &std::path::Path) -> anyhow::Result<Vec<Facility>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    csvio::parse(&text, crate::crs::Crs::Wgs84).map_err(|(line, field, msg)| {
        anyhow::anyhow!("{}: line {line}, field {field}: {msg}", path.display())
    })
}
pub mod csvio;
pub mod db;
pub mod generate;

impl FacilityRegistry {
    /// Replaces every facility at once (e.g. after loading) and bumps the version.
    pub fn replace_all(&self, list: Vec<Facility>) -> u64 {
        let mut m = self.items.write();
        m.clear();
        for f in list {
            m.insert(f.id.clone(), f);
        }
        drop(m);
        self.bump()
    }
    pub fn get(&self, id: &str) -> Option<Facility> {
        self.items.read().get(id).cloned()
    }
    /// Open facilities of the given types (all types when `types` is empty).
    pub fn open_of(&self, types: &[FacilityType]) -> Vec<Facility> {
        self.items
            .read()
            .values()
            .filter(|f| f.status == "open" && (types.is_empty() || types.contains(&f.kind)))
            .cloned()
            .collect()
    }
}

/// Allowed status values.
pub const STATUSES: [&str; 4] = ["open", "planned", "closed", "retired"];

impl Facility {
    /// Checks the card; the error is (field, message).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.id.trim().is_empty() || self.id.len() > 64 {
            return Err(("id", "id must be 1–64 characters".into()));
        }
        if self.name.trim().is_empty() {
            return Err(("name", "name is empty".into()));
        }
        crate::crs::check_lon_lat(self.lon, self.lat)
            .map_err(|(f, m)| (if f == "lon" { "lon" } else { "lat" }, m))?;
        if !STATUSES.contains(&self.status.as_str()) {
            return Err((
                "status",
                format!(
                    "'{}' is not one of open, planned, closed, retired",
                    self.status
                ),
            ));
        }
        for (f, v) in [("price_min", self.price_min), ("price_max", self.price_max)] {
            if v.is_some_and(|v| !v.is_finite() || v < 0.0) {
                return Err((f, "price must be a non-negative number".into()));
            }
        }
        if let (Some(a), Some(b)) = (self.price_min, self.price_max) {
            if a > b {
                return Err(("price_max", "price_max is below price_min".into()));
            }
        }
        if let (Some(b), Some(n)) = (self.beds, self.nursing_beds) {
            if n > b {
                return Err(("nursing_beds", "nursing_beds exceeds beds".into()));
            }
        }
        Ok(())
    }
}

/// The PostGIS store behind the registry, when the service was started with one.
pub static STORE: std::sync::OnceLock<db::FacilityDb> = std::sync::OnceLock::new();

#[cfg(test)]
mod load_tests {
    #[test]
    fn load_csv_reads_the_fixture_and_names_bad_rows() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let list = super::load_csv(&root.join("tests/fixtures/facilities_sample.csv")).unwrap();
        assert_eq!(list.len(), 12);
        assert!(list.iter().all(|f| f.synthetic));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.csv");
        std::fs::write(&p, "id,name,type,lon,lat\nx1,某中心,day_care,121.47,95\n").unwrap();
        let e = super::load_csv(&p).unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
    }
}
