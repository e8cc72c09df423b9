//! The served division layer: tree + change log + polygons + one point-in-polygon index per
//! level that has polygons. Reverse geocoding lives here.

use super::{index::PolygonIndex, short_code, ChangeLog, DivisionTree, Level};
use crate::store::DivisionSource;
use geo::MultiPolygon;
use serde::Serialize;
use std::collections::HashMap;

/// One level's polygons and their index.
pub struct LevelLayer {
    pub level: Level,
    pub index: PolygonIndex,
    /// polygon id → division index in the tree
    pub div_of_poly: Vec<u32>,
}

/// Divisions as served: immutable once built (a reload builds a new one and swaps it in).
pub struct Divisions {
    pub tree: DivisionTree,
    pub changes: ChangeLog,
    /// division index → polygon (CGCS2000/WGS84 lon/lat)
    pub geoms: HashMap<u32, MultiPolygon<f64>>,
    /// division index → synthetic polygon flag
    pub synthetic_geom: HashMap<u32, bool>,
    /// deepest level first
    pub layers: Vec<LevelLayer>,
    pub origin: String,
}

/// A division in an answer.
#[derive(Debug, Clone, Serialize)]
pub struct DivisionRef {
    pub code: String,
    pub name: String,
    pub level: Level,
}

/// A reverse-geocoding answer (coordinates in WGS84; the HTTP layer converts).
#[derive(Debug, Clone, Serialize)]
pub struct Reverse {
    /// deepest division with a polygon containing the point
    pub division: DivisionRef,
    /// province → … → `division`
    pub chain: Vec<DivisionRef>,
    /// metres to the nearest boundary of `division`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boundary_distance_m: Option<f64>,
    /// the division's polygon is generated, not official
    pub synthetic: bool,
    #[serde(skip)]
    pub div: u32,
}

impl Divisions {
    /// Builds the indexes from a source (embedded files or PostGIS).
    pub fn build(src: DivisionSource) -> anyhow::Result<Divisions> {
        let DivisionSource {
            mut tree,
            changes,
            polygons,
            origin,
        } = src;
        let mut geoms = HashMap::new();
        let mut synthetic_geom = HashMap::new();
        for (short, mp, synthetic) in polygons {
            let idx = match tree.find(&short) {
                Some(i) => i,
                // a polygon whose code is not in the lists (AMap keeps a few old codes):
                // keep it, named by its code
                None => tree.insert(
                    &short,
                    &format!("({})", super::display_code(&short)),
                    false,
                    false,
                )?,
            };
            synthetic_geom.insert(idx, synthetic);
            geoms
                .entry(idx)
                .and_modify(|g: &mut MultiPolygon<f64>| g.0.extend(mp.0.iter().cloned()))
                .or_insert(mp);
        }
        let mut by_level: HashMap<Level, Vec<u32>> = HashMap::new();
        for &d in geoms.keys() {
            by_level.entry(tree.get(d).level).or_default().push(d);
        }
        let mut layers = Vec::new();
        for level in Level::ALL.into_iter().rev() {
            let Some(mut divs) = by_level.remove(&level) else {
                continue;
            };
            divs.sort_by(|a, b| tree.get(*a).short.cmp(&tree.get(*b).short));
            let refs: Vec<&MultiPolygon<f64>> = divs.iter().map(|d| &geoms[d]).collect();
            let index = PolygonIndex::build(&refs);
            layers.push(LevelLayer {
                level,
                index,
                div_of_poly: divs,
            });
        }
        Ok(Divisions {
            tree,
            changes,
            geoms,
            synthetic_geom,
            layers,
            origin,
        })
    }

    pub fn div_ref(&self, idx: u32) -> DivisionRef {
        let d = self.tree.get(idx);
        DivisionRef {
            code: d.code(),
            name: d.name.clone(),
            level: d.level,
        }
    }

    /// Finds a division by any form of its code.
    pub fn find_code(&self, code: &str) -> Result<Option<u32>, String> {
        let s = short_code(code)?;
        Ok(self.tree.find(&s))
    }

    /// The deepest division whose polygon contains the WGS84 point, with its chain.
    pub fn reverse(&self, lon: f64, lat: f64, with_distance: bool) -> Option<Reverse> {
        for layer in &self.layers {
            if let Some(p) = layer.index.locate(lon, lat) {
                let div = layer.div_of_poly[p as usize];
                let boundary_distance_m = if with_distance {
                    layer
                        .index
                        .boundary_distance(p, lon, lat)
                        .map(|(d, _)| (d * 100.0).round() / 100.0)
                } else {
                    None
                };
                return Some(Reverse {
                    division: self.div_ref(div),
                    chain: self
                        .tree
                        .chain(div)
                        .into_iter()
                        .map(|i| self.div_ref(i))
                        .collect(),
                    boundary_distance_m,
                    synthetic: self.synthetic_geom.get(&div).copied().unwrap_or(false),
                    div,
                });
            }
        }
        None
    }

    /// Number of polygons and vertices over all levels, and index memory in bytes.
    pub fn stats(&self) -> (usize, usize, usize) {
        let polys = self.layers.iter().map(|l| l.index.len()).sum();
        let verts = self.layers.iter().map(|l| l.index.vertex_count()).sum();
        let mem = self.layers.iter().map(|l| l.index.memory_bytes()).sum();
        (polys, verts, mem)
    }
}
