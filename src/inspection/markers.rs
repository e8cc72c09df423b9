//! Boundary markers (界桩): import from CSV or GeoJSON, check each against its line.

use super::{Line, Params};
use crate::crs::{Crs, LocalMetric};
use crate::inspection::topology::{deg_for_m, seg_point_m};
use anyhow::{anyhow, bail, Context, Result};
use geo::Coord;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};
use serde::Serialize;
use std::path::Path;

/// A marker as imported, position converted to WGS84.
#[derive(Debug, Clone, Serialize)]
pub struct Marker {
    pub number: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub line_id: String,
    pub lon: f64,
    pub lat: f64,
    /// the system the position was given in
    pub crs: Crs,
}

#[derive(Debug, Clone, Serialize)]
pub struct MarkerResult {
    pub number: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub line_id: String,
    /// WGS84 position
    pub lon: f64,
    pub lat: f64,
    /// distance to the declared line (None: no such line)
    pub distance_m: Option<f64>,
    pub nearest_line: Option<String>,
    pub nearest_distance_m: Option<f64>,
    /// ok, out_of_tolerance, wrong_line, unknown_line
    pub status: String,
}

fn get<'a>(rec: &'a csv::StringRecord, h: &csv::StringRecord, names: &[&str]) -> Option<&'a str> {
    h.iter()
        .position(|x| names.iter().any(|n| x.trim().eq_ignore_ascii_case(n)))
        .and_then(|i| rec.get(i))
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Reads markers from CSV (`number,type,line_id,lon,lat[,crs]`; Chinese headers 编号, 类型,
/// 界线 also accepted) or GeoJSON points (properties `number`, `type`, `line_id`, `crs`).
/// `default_crs` applies where a marker names none.
pub fn read_markers(path: &Path, default_crs: Crs) -> Result<Vec<Marker>> {
    let name = path.to_string_lossy().to_lowercase();
    let src = path.display().to_string();
    if name.ends_with(".csv") {
        let mut rdr = csv::Reader::from_path(path).with_context(|| format!("cannot open {src}"))?;
        let h = rdr
            .headers()
            .with_context(|| format!("{src}: no header"))?
            .clone();
        let mut out = Vec::new();
        for (n, rec) in rdr.records().enumerate() {
            let row = n + 2;
            let rec = rec.map_err(|e| anyhow!("{src} row {row}: {e}"))?;
            let num = |v: Option<&str>, f: &str| -> Result<f64> {
                let v = v.ok_or_else(|| anyhow!("{src} row {row}: missing '{f}'"))?;
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| anyhow!("{src} row {row}: '{f}' = '{v}' is not a number"))
            };
            let lon = num(get(&rec, &h, &["lon", "x", "经度"]), "lon")?;
            let lat = num(get(&rec, &h, &["lat", "y", "纬度"]), "lat")?;
            let crs = match get(&rec, &h, &["crs"]) {
                Some(c) => Crs::parse(c).map_err(|e| anyhow!("{src} row {row}: crs: {e}"))?,
                None => default_crs,
            };
            out.push(
                make(
                    get(&rec, &h, &["number", "编号"]).unwrap_or(&format!("#{row}")),
                    get(&rec, &h, &["type", "类型"]).unwrap_or(""),
                    get(&rec, &h, &["line_id", "line", "界线"])
                        .ok_or_else(|| anyhow!("{src} row {row}: missing 'line_id'"))?,
                    lon,
                    lat,
                    crs,
                )
                .map_err(|e| anyhow!("{src} row {row}: {e}"))?,
            );
        }
        Ok(out)
    } else {
        let feats = crate::store::features::read_features(path)?;
        let mut out = Vec::new();
        for (n, f) in feats.into_iter().enumerate() {
            let geo::Geometry::Point(p) = f.geometry else {
                bail!("{src} feature {n}: a marker must be a Point");
            };
            let crs = match f.prop("crs") {
                Some(c) => Crs::parse(&c).map_err(|e| anyhow!("{src} feature {n}: crs: {e}"))?,
                None => default_crs,
            };
            let line = f
                .prop("line_id")
                .ok_or_else(|| anyhow!("{src} feature {n}: missing property 'line_id'"))?;
            out.push(
                make(
                    &f.prop("number").unwrap_or_else(|| format!("#{n}")),
                    &f.prop("type").unwrap_or_default(),
                    &line,
                    p.x(),
                    p.y(),
                    crs,
                )
                .map_err(|e| anyhow!("{src} feature {n}: {e}"))?,
            );
        }
        Ok(out)
    }
}

/// Builds one marker, checking range and converting to WGS84.
pub fn make(number: &str, kind: &str, line_id: &str, x: f64, y: f64, crs: Crs) -> Result<Marker> {
    crate::crs::check_lon_lat(x, y).map_err(|(f, m)| anyhow!("{f}: {m}"))?;
    let (lon, lat) = crs.to_wgs84(x, y);
    Ok(Marker {
        number: number.to_string(),
        kind: kind.to_string(),
        line_id: line_id.to_string(),
        lon,
        lat,
        crs,
    })
}

fn dist_to_line(m: &LocalMetric, line: &Line, p: Coord<f64>) -> f64 {
    line.geometry
        .0
        .iter()
        .flat_map(|ls| ls.0.windows(2))
        .map(|w| seg_point_m(m, w[0], w[1], p))
        .fold(f64::INFINITY, f64::min)
}

/// Checks every marker; returns the results and the number of markers per line (in line order).
pub fn check(ms: &[Marker], lines: &[Line], p: &Params) -> (Vec<MarkerResult>, Vec<usize>) {
    let idx: std::collections::HashMap<&str, usize> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| (l.id.as_str(), i))
        .collect();
    let tree: RTree<GeomWithData<Rectangle<[f64; 2]>, u32>> = RTree::bulk_load(
        lines
            .iter()
            .enumerate()
            .flat_map(|(i, l)| {
                l.geometry.0.iter().flat_map(move |ls| {
                    ls.0.windows(2).map(move |w| {
                        GeomWithData::new(
                            Rectangle::from_corners(
                                [w[0].x.min(w[1].x), w[0].y.min(w[1].y)],
                                [w[0].x.max(w[1].x), w[0].y.max(w[1].y)],
                            ),
                            i as u32,
                        )
                    })
                })
            })
            .collect(),
    );
    let mut counts = vec![0usize; lines.len()];
    let mut out = Vec::with_capacity(ms.len());
    for mk in ms {
        let pt = Coord {
            x: mk.lon,
            y: mk.lat,
        };
        let m = LocalMetric::new(mk.lon, mk.lat);
        // nearest line: search growing windows (to 20 km)
        let mut nearest: Option<(usize, f64)> = None;
        for r in [200.0, 2000.0, 20000.0] {
            let (dx, dy) = deg_for_m(r, mk.lat);
            let env = AABB::from_corners([mk.lon - dx, mk.lat - dy], [mk.lon + dx, mk.lat + dy]);
            let mut cands: Vec<u32> = tree
                .locate_in_envelope_intersecting(&env)
                .map(|g| g.data)
                .collect();
            cands.sort_unstable();
            cands.dedup();
            for c in cands {
                let d = dist_to_line(&m, &lines[c as usize], pt);
                if nearest.is_none_or(|(_, nd)| d < nd) {
                    nearest = Some((c as usize, d));
                }
            }
            if nearest.is_some_and(|(_, d)| d <= r) {
                break;
            }
        }
        let declared = idx.get(mk.line_id.as_str()).copied();
        let dist = declared.map(|i| dist_to_line(&m, &lines[i], pt));
        if let Some(i) = declared {
            counts[i] += 1;
        }
        let status = match (declared, dist, nearest) {
            (None, _, _) => "unknown_line",
            (Some(_), Some(d), _) if d <= p.marker_tolerance_m => "ok",
            (Some(i), _, Some((j, nd))) if j != i && nd <= p.marker_tolerance_m => "wrong_line",
            _ => "out_of_tolerance",
        };
        out.push(MarkerResult {
            number: mk.number.clone(),
            kind: mk.kind.clone(),
            line_id: mk.line_id.clone(),
            lon: mk.lon,
            lat: mk.lat,
            distance_m: dist,
            nearest_line: nearest.map(|(j, _)| lines[j].id.clone()),
            nearest_distance_m: nearest.map(|(_, d)| d),
            status: status.to_string(),
        });
    }
    (out, counts)
}
