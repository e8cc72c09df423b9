//! Reading and writing the data the service holds: the embedded `data/` directory (CSV and
//! FlatGeobuf) and PostGIS (see [`postgis`]). Both paths produce the same [`DivisionSource`],
//! which [`crate::divisions::Divisions::build`] turns into in-memory indexes.

pub mod features;
pub mod postgis;

use crate::divisions::{short_code, ChangeLog, DivisionTree};
use anyhow::{Context, Result};
use geo::MultiPolygon;
use std::path::Path;

/// What the division layer is built from, whichever store it came from.
pub struct DivisionSource {
    pub tree: DivisionTree,
    pub changes: ChangeLog,
    /// (short code, polygon, synthetic)
    pub polygons: Vec<(String, MultiPolygon<f64>, bool)>,
    /// human-readable description of where the data came from
    pub origin: String,
}

/// Loads the embedded data directory: `divisions/*.csv`, `divisions/changes.txt`,
/// `divisions/code_changes.csv` and every `boundaries/*.fgb` (or `.geojson`) whose features carry
/// a division code in `adcode` or `code`.
pub fn load_embedded(dir: &Path) -> Result<DivisionSource> {
    let ddir = dir.join("divisions");
    let tree = DivisionTree::load_dir(&ddir, None)
        .with_context(|| format!("loading division lists from {}", ddir.display()))?;
    let changes = ChangeLog::load_dir(&ddir)?;
    let mut polygons = Vec::new();
    let bdir = dir.join("boundaries");
    if bdir.exists() {
        let mut files: Vec<_> = std::fs::read_dir(&bdir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let s = p.to_string_lossy();
                s.ends_with(".fgb") || s.ends_with(".geojson") || s.ends_with(".geojson.gz")
            })
            .collect();
        files.sort();
        for f in files {
            let feats = features::read_features(&f)?;
            for (n, feat) in feats.into_iter().enumerate() {
                let code = feat
                    .prop("adcode")
                    .or_else(|| feat.prop("code"))
                    .with_context(|| {
                        format!(
                            "{} feature {n}: no 'adcode' or 'code' property",
                            f.display()
                        )
                    })?;
                let short = short_code(&code)
                    .map_err(|e| anyhow::anyhow!("{} feature {n}: {e}", f.display()))?;
                let synthetic = feat
                    .prop("synthetic")
                    .is_some_and(|s| s == "true" || s == "1");
                let mp = features::to_multipolygon(feat.geometry).with_context(|| {
                    format!("{} feature {n} ({code}): not a polygon", f.display())
                })?;
                polygons.push((short, mp, synthetic));
            }
        }
    }
    Ok(DivisionSource {
        tree,
        changes,
        polygons,
        origin: format!("embedded data {}", dir.display()),
    })
}
