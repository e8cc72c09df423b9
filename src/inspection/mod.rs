//! Boundary-line joint inspection (界线联检): shared lines between neighbouring divisions,
//! topology faults (gaps, overlaps, slivers, invalid polygons), boundary markers (界桩) checked
//! against the lines, and round-to-round comparison; reports as JSON, GeoJSON, CSV and HTML.
//!
//! Input coordinates may be in any [`Crs`]; everything is computed in WGS84/CGCS2000 and written
//! back in the input's system. Areas and lengths are geodesic (WGS84 ellipsoid), in m² and m.

pub mod bench;
pub mod compare;
pub mod layer;
pub mod markers;
pub mod output;
pub mod store;
pub mod topology;

use crate::crs::Crs;
use crate::store::features::{read_features, to_multipolygon, Feature};
use anyhow::{anyhow, bail, Result};
use geo::{BoundingRect, Geometry, LineString, MapCoords, MultiLineString, MultiPolygon, Rect};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;

/// Tolerances. Every default is stated in the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// gap/overlap polygons smaller than this are numerical noise and not reported (m²)
    pub min_area_m2: f64,
    /// gaps/overlaps narrower than this (2·area/perimeter) are reported as slivers (m)
    pub sliver_width_m: f64,
    /// unmatched edges of different divisions closer than this are examined for gaps/overlaps (m)
    pub search_m: f64,
    /// a marker farther than this from its line is out of tolerance (m)
    pub marker_tolerance_m: f64,
    /// a line whose Hausdorff distance between rounds exceeds this has moved (m)
    pub change_tolerance_m: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            min_area_m2: 1.0,
            sliver_width_m: 1.0,
            search_m: 100.0,
            marker_tolerance_m: 5.0,
            change_tolerance_m: 0.5,
        }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        for (k, v, lo, hi) in [
            ("min_area_m2", self.min_area_m2, 0.0, 1e12),
            ("sliver_width_m", self.sliver_width_m, 0.0, 1e5),
            ("search_m", self.search_m, 0.0, 1e5),
            ("marker_tolerance_m", self.marker_tolerance_m, 0.0, 1e5),
            ("change_tolerance_m", self.change_tolerance_m, 0.0, 1e5),
        ] {
            if !v.is_finite() || v < lo || v > hi {
                return Err((k, format!("{v} is outside {lo}..{hi}")));
            }
        }
        Ok(())
    }
}

/// One division's polygon (WGS84).
#[derive(Debug, Clone)]
pub struct Division {
    pub code: String,
    pub name: String,
    pub poly: MultiPolygon<f64>,
}

impl Division {
    pub fn rings(&self) -> impl Iterator<Item = &LineString<f64>> {
        self.poly
            .0
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
    }
    pub fn vertices(&self) -> usize {
        self.rings().map(|r| r.0.len()).sum()
    }
}

/// Turns features into divisions; errors name the source, the feature and the reason.
pub fn divisions_from_features(
    feats: Vec<Feature>,
    source: &str,
    code_field: &str,
    crs: Crs,
) -> Result<Vec<Division>> {
    let mut out = Vec::with_capacity(feats.len());
    let mut seen = std::collections::HashSet::new();
    for (n, f) in feats.into_iter().enumerate() {
        let code = f.prop(code_field).ok_or_else(|| {
            anyhow!("{source} feature {n}: no '{code_field}' property (the division code)")
        })?;
        if !seen.insert(code.clone()) {
            bail!("{source} feature {n}: division code {code} appears twice");
        }
        let name = f.prop("name").unwrap_or_default();
        let mp = to_multipolygon(f.geometry)
            .map_err(|e| anyhow!("{source} feature {n} ({code}): {e}"))?;
        for c in mp.0.iter().flat_map(|p| {
            std::iter::once(p.exterior())
                .chain(p.interiors())
                .flat_map(|r| r.0.iter())
        }) {
            crate::crs::check_lon_lat(c.x, c.y).map_err(|(_, m)| {
                anyhow!("{source} feature {n} ({code}): coordinate out of range: {m}")
            })?;
        }
        if mp.0.is_empty() {
            bail!("{source} feature {n} ({code}): empty geometry");
        }
        let poly = if matches!(crs, Crs::Wgs84 | Crs::Cgcs2000) {
            mp
        } else {
            mp.map_coords(|c| {
                let (x, y) = crs.to_wgs84(c.x, c.y);
                geo::Coord { x, y }
            })
        };
        out.push(Division { code, name, poly });
    }
    if out.is_empty() {
        bail!("{source}: no features");
    }
    Ok(out)
}

/// Reads a polygon file (GeoJSON[.gz] or FlatGeobuf) into divisions.
pub fn load_divisions(path: &Path, code_field: &str, crs: Crs) -> Result<Vec<Division>> {
    let feats = read_features(path)?;
    divisions_from_features(feats, &path.display().to_string(), code_field, crs)
}

/// A fault found by the inspection. Coordinates are WGS84 inside the library.
#[derive(Debug, Clone, Serialize)]
pub struct Fault {
    /// gap, overlap, sliver_gap, sliver_overlap, invalid, orientation, duplicate_vertex
    pub kind: String,
    pub line_id: String,
    pub divisions: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area_m2: Option<f64>,
    /// perimeter of a gap/overlap polygon
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length_m: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width_m: Option<f64>,
    /// [lon, lat] of a point inside the fault
    pub location: [f64; 2],
    pub message: String,
    #[serde(skip)]
    pub geometry: Geometry<f64>,
}

/// A boundary line: the shared edge of two neighbours, or a division's edge on the outside of
/// the set (`b` is None).
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub id: String,
    pub a: String,
    pub a_name: String,
    pub b: Option<String>,
    pub b_name: Option<String>,
    pub parts: usize,
    pub length_m: f64,
    pub faults: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markers: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<compare::LineChange>,
    #[serde(skip)]
    pub geometry: MultiLineString<f64>,
}

impl Line {
    pub fn is_outer(&self) -> bool {
        self.b.is_none()
    }
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Summary {
    pub divisions: usize,
    pub vertices: usize,
    pub neighbour_pairs: usize,
    pub outer_lines: usize,
    pub shared_length_km: f64,
    pub faults: usize,
    pub faults_by_kind: std::collections::BTreeMap<String, usize>,
    pub gap_area_m2: f64,
    pub overlap_area_m2: f64,
    pub faulty_lines: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markers: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markers_out_of_tolerance: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markers_on_wrong_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines_without_marker: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed_lines: Option<usize>,
    pub seconds: f64,
}

/// The full inspection result.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub title: String,
    pub input: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    pub crs: Crs,
    pub code_field: String,
    pub params: Params,
    pub generated_at: String,
    pub summary: Summary,
    pub lines: Vec<Line>,
    pub faults: Vec<Fault>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markers: Option<Vec<markers::MarkerResult>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines_without_marker: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed_segments: Option<Vec<compare::ChangedSegment>>,
    pub timings_s: Vec<(String, f64)>,
}

/// Everything an inspection needs.
pub struct Input {
    pub name: String,
    pub divisions: Vec<Division>,
    pub previous: Option<(String, Vec<Division>)>,
    pub markers: Option<Vec<markers::Marker>>,
    pub crs: Crs,
    pub code_field: String,
    pub params: Params,
}

/// Progress callback: (stage, fraction done 0..1).
pub type Progress<'a> = &'a (dyn Fn(&str, f64) + Sync);

pub fn line_id(a: &str, b: Option<&str>) -> String {
    match b {
        Some(b) if a <= b => format!("{a}-{b}"),
        Some(b) => format!("{b}-{a}"),
        None => format!("{a}-outer"),
    }
}

/// Lines of a set of divisions (used for both rounds).
pub fn lines_of(divs: &[Division]) -> (Vec<Line>, topology::Topology) {
    let mut topo = topology::build_lines(divs);
    let raw = std::mem::take(&mut topo.lines);
    let lines = raw
        .into_iter()
        .map(|r| {
            let (da, db) = (
                &divs[r.a as usize],
                (r.b != topology::OUTER).then(|| &divs[r.b as usize]),
            );
            // order a/b by code so the id reads low-high
            let (x, y) = match db {
                Some(db) if db.code < da.code => (db, Some(da)),
                _ => (da, db),
            };
            Line {
                id: line_id(&x.code, y.map(|d| d.code.as_str())),
                a: x.code.clone(),
                a_name: x.name.clone(),
                b: y.map(|d| d.code.clone()),
                b_name: y.map(|d| d.name.clone()),
                parts: r.parts.len(),
                length_m: topology::mls_length_m(&r.parts),
                faults: 0,
                markers: None,
                change: None,
                geometry: MultiLineString(r.parts),
            }
        })
        .collect();
    (lines, topo)
}

/// Runs the whole inspection.
pub fn inspect(input: &Input, progress: Progress) -> Result<Report> {
    let t0 = Instant::now();
    let mut timings = Vec::new();
    let divs = &input.divisions;
    let p = &input.params;
    progress("lines", 0.0);
    let (mut lines, topo) = lines_of(divs);
    timings.push(("lines".to_string(), t0.elapsed().as_secs_f64()));
    progress("lines", 1.0);

    let t1 = Instant::now();
    let bboxes: Vec<Rect<f64>> = divs
        .iter()
        .map(|d| d.poly.bounding_rect().expect("non-empty"))
        .collect();
    let boxes = topology::candidate_boxes(&topo, p);
    let mut faults = Vec::new();
    let nb = boxes.len().max(1);
    for (k, b) in boxes.iter().enumerate() {
        for (kind, ds, poly, area) in topology::local_faults(divs, &bboxes, b, p) {
            faults.push(topology::to_fault(divs, &kind, &ds, poly, area, p));
        }
        if k % 64 == 0 {
            progress("gaps and overlaps", k as f64 / nb as f64);
        }
    }
    progress("gaps and overlaps", 1.0);
    timings.push(("gaps_overlaps".to_string(), t1.elapsed().as_secs_f64()));

    let t2 = Instant::now();
    progress("validity", 0.0);
    faults.extend(topology::validity_faults(divs, &topo.duplicates));
    timings.push(("validity".to_string(), t2.elapsed().as_secs_f64()));
    progress("validity", 1.0);

    // count faults per line
    {
        let idx: std::collections::HashMap<&str, usize> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| (l.id.as_str(), i))
            .collect();
        let mut counts = vec![0usize; lines.len()];
        for f in &faults {
            if let Some(&i) = idx.get(f.line_id.as_str()) {
                counts[i] += 1;
            }
        }
        for (l, c) in lines.iter_mut().zip(counts) {
            l.faults = c;
        }
    }

    let mut report_markers = None;
    let mut without = None;
    if let Some(ms) = &input.markers {
        let t3 = Instant::now();
        progress("markers", 0.0);
        let (res, counts) = markers::check(ms, &lines, p);
        let mut w = Vec::new();
        for (l, c) in lines.iter_mut().zip(counts) {
            l.markers = Some(c);
            if c == 0 && !l.is_outer() {
                w.push(l.id.clone());
            }
        }
        report_markers = Some(res);
        without = Some(w);
        timings.push(("markers".to_string(), t3.elapsed().as_secs_f64()));
        progress("markers", 1.0);
    }

    let mut changed_segments = None;
    if let Some((_, prev)) = &input.previous {
        let t4 = Instant::now();
        progress("comparison", 0.0);
        changed_segments = Some(compare::compare(prev, divs, &mut lines, p));
        timings.push(("comparison".to_string(), t4.elapsed().as_secs_f64()));
        progress("comparison", 1.0);
    }

    let mut s = Summary {
        divisions: divs.len(),
        vertices: divs.iter().map(|d| d.vertices()).sum(),
        neighbour_pairs: lines.iter().filter(|l| !l.is_outer()).count(),
        outer_lines: lines.iter().filter(|l| l.is_outer()).count(),
        shared_length_km: lines
            .iter()
            .filter(|l| !l.is_outer())
            .map(|l| l.length_m)
            .sum::<f64>()
            / 1000.0,
        faults: faults.len(),
        faulty_lines: lines.iter().filter(|l| l.faults > 0).count(),
        ..Default::default()
    };
    for f in &faults {
        *s.faults_by_kind.entry(f.kind.clone()).or_default() += 1;
        match f.kind.as_str() {
            "gap" | "sliver_gap" => s.gap_area_m2 += f.area_m2.unwrap_or(0.0),
            "overlap" | "sliver_overlap" => s.overlap_area_m2 += f.area_m2.unwrap_or(0.0),
            _ => {}
        }
    }
    if let Some(ms) = &report_markers {
        s.markers = Some(ms.len());
        s.markers_out_of_tolerance =
            Some(ms.iter().filter(|m| m.status == "out_of_tolerance").count());
        s.markers_on_wrong_line = Some(ms.iter().filter(|m| m.status == "wrong_line").count());
        s.lines_without_marker = without.as_ref().map(|w| w.len());
    }
    if changed_segments.is_some() {
        s.changed_lines = Some(
            lines
                .iter()
                .filter(|l| l.change.as_ref().is_some_and(|c| c.changed))
                .count(),
        );
    }
    s.seconds = t0.elapsed().as_secs_f64();
    Ok(Report {
        title: "界线联检报告 Boundary-line joint inspection report".into(),
        input: input.name.clone(),
        previous: input.previous.as_ref().map(|p| p.0.clone()),
        crs: input.crs,
        code_field: input.code_field.clone(),
        params: p.clone(),
        generated_at: chrono::Utc::now().to_rfc3339(),
        summary: s,
        lines,
        faults,
        markers: report_markers,
        lines_without_marker: without,
        changed_segments,
        timings_s: timings,
    })
}
