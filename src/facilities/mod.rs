//! Eldercare facilities (养老机构, 综合为老服务中心, 日间照料中心, 助餐点/老年食堂, 老年活动室,
//! 居家养老服务站): the registry that coverage, tiles and the map read.

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

/// A facility. Coordinates are WGS84/CGCS2000.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Facility {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FacilityType,
    pub lon: f64,
    pub lat: f64,
    pub address: Option<String>,
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
}
