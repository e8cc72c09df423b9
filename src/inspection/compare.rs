//! Round-to-round comparison: what moved on each line between the last round's polygons and
//! this round's.

use super::topology::area_m2;
use super::topology::{clip_mp, qkey, union_rect, FxMap};
use super::{lines_of, Division, Line, Params};
use crate::crs::LocalMetric;
use geo::{BooleanOps, Coord, HausdorffDistance, LineString, MapCoords, MultiLineString, Rect};
use serde::Serialize;
use std::collections::HashSet;

#[derive(Debug, Clone, Serialize)]
pub struct LineChange {
    /// Hausdorff distance between the two rounds' line (m); None if the line exists in one only
    pub hausdorff_m: Option<f64>,
    pub changed: bool,
    /// added, removed, moved, unchanged
    pub status: String,
    /// area that went from b to a (m²)
    pub gained_by_a_m2: f64,
    /// area that went from a to b (m²)
    pub gained_by_b_m2: f64,
    pub changed_segments: usize,
}

/// A run of this round's line not in the last round (`new`) or of the last round's not in
/// this round (`old`).
#[derive(Debug, Clone, Serialize)]
pub struct ChangedSegment {
    pub line_id: String,
    pub round: String,
    pub length_m: f64,
    #[serde(skip)]
    pub geometry: LineString<f64>,
}

fn seg_set(g: &MultiLineString<f64>) -> HashSet<(u64, u64)> {
    g.0.iter()
        .flat_map(|l| l.0.windows(2))
        .map(|w| {
            let (a, b) = (qkey(w[0]), qkey(w[1]));
            if a < b {
                (a, b)
            } else {
                (b, a)
            }
        })
        .collect()
}

fn runs_not_in(g: &MultiLineString<f64>, other: &HashSet<(u64, u64)>) -> Vec<LineString<f64>> {
    let mut out = Vec::new();
    for l in &g.0 {
        let mut cur: Vec<Coord<f64>> = Vec::new();
        for w in l.0.windows(2) {
            let (a, b) = (qkey(w[0]), qkey(w[1]));
            let k = if a < b { (a, b) } else { (b, a) };
            if other.contains(&k) {
                if cur.len() > 1 {
                    out.push(LineString(std::mem::take(&mut cur)));
                }
                cur.clear();
            } else {
                if cur.is_empty() {
                    cur.push(w[0]);
                }
                cur.push(w[1]);
            }
        }
        if cur.len() > 1 {
            out.push(LineString(cur));
        }
    }
    out
}

fn bbox_of(ls: &[LineString<f64>]) -> Option<Rect<f64>> {
    use geo::BoundingRect;
    ls.iter()
        .filter_map(|l| l.bounding_rect())
        .reduce(|a, b| union_rect(&a, &b))
}

/// Compares the lines of `prev` with `lines` (computed from `cur`), filling `line.change`.
/// Lines only in the last round are appended as `removed`.
pub fn compare(
    prev: &[Division],
    cur: &[Division],
    lines: &mut Vec<Line>,
    p: &Params,
) -> Vec<ChangedSegment> {
    let (old_lines, _) = lines_of(prev);
    let old: FxMap<&str, &Line> = old_lines.iter().map(|l| (l.id.as_str(), l)).collect();
    let prev_by: FxMap<&str, &Division> = prev.iter().map(|d| (d.code.as_str(), d)).collect();
    let cur_by: FxMap<&str, &Division> = cur.iter().map(|d| (d.code.as_str(), d)).collect();
    let mut segs_out = Vec::new();
    let present: HashSet<String> = lines.iter().map(|l| l.id.clone()).collect();
    for l in lines.iter_mut() {
        let Some(o) = old.get(l.id.as_str()) else {
            l.change = Some(LineChange {
                hausdorff_m: None,
                changed: true,
                status: "added".into(),
                gained_by_a_m2: 0.0,
                gained_by_b_m2: 0.0,
                changed_segments: l.geometry.0.len(),
            });
            for g in &l.geometry.0 {
                segs_out.push(ChangedSegment {
                    line_id: l.id.clone(),
                    round: "new".into(),
                    length_m: crate::crs::length_m(g),
                    geometry: g.clone(),
                });
            }
            continue;
        };
        let (sn, so) = (seg_set(&l.geometry), seg_set(&o.geometry));
        if sn == so {
            l.change = Some(LineChange {
                hausdorff_m: Some(0.0),
                changed: false,
                status: "unchanged".into(),
                gained_by_a_m2: 0.0,
                gained_by_b_m2: 0.0,
                changed_segments: 0,
            });
            continue;
        }
        let c0 = l.geometry.0[0].0[0];
        let m = LocalMetric::new(c0.x, c0.y);
        let proj = |g: &MultiLineString<f64>| {
            g.map_coords(|c| {
                let (x, y) = m.fwd(c.x, c.y);
                Coord { x, y }
            })
        };
        let h = proj(&l.geometry)
            .hausdorff_distance(&proj(&o.geometry))
            .max(proj(&o.geometry).hausdorff_distance(&proj(&l.geometry)));
        let new_runs = runs_not_in(&l.geometry, &so);
        let old_runs = runs_not_in(&o.geometry, &sn);
        let changed = h > p.change_tolerance_m;
        let (mut ga, mut gb) = (0.0, 0.0);
        if let (Some(b), true) = (l.b.as_deref(), changed) {
            let all: Vec<LineString<f64>> = new_runs.iter().chain(&old_runs).cloned().collect();
            if let Some(bb) = bbox_of(&all) {
                let (dx, dy) = (bb.width() * 0.1 + 1e-5, bb.height() * 0.1 + 1e-5);
                let r = Rect::new(
                    Coord {
                        x: bb.min().x - dx,
                        y: bb.min().y - dy,
                    },
                    Coord {
                        x: bb.max().x + dx,
                        y: bb.max().y + dy,
                    },
                );
                if let (Some(an), Some(ao), Some(bn), Some(bo)) = (
                    cur_by.get(l.a.as_str()),
                    prev_by.get(l.a.as_str()),
                    cur_by.get(b),
                    prev_by.get(b),
                ) {
                    let (an, ao) = (clip_mp(&an.poly, &r), clip_mp(&ao.poly, &r));
                    let (bn, bo) = (clip_mp(&bn.poly, &r), clip_mp(&bo.poly, &r));
                    ga = area_m2(&an.intersection(&bo));
                    gb = area_m2(&bn.intersection(&ao));
                }
            }
        }
        if changed {
            for (round, runs) in [("new", &new_runs), ("old", &old_runs)] {
                for g in runs {
                    segs_out.push(ChangedSegment {
                        line_id: l.id.clone(),
                        round: round.into(),
                        length_m: crate::crs::length_m(g),
                        geometry: g.clone(),
                    });
                }
            }
        }
        l.change = Some(LineChange {
            hausdorff_m: Some(h),
            changed,
            status: if changed { "moved" } else { "unchanged" }.into(),
            gained_by_a_m2: ga,
            gained_by_b_m2: gb,
            changed_segments: if changed {
                new_runs.len() + old_runs.len()
            } else {
                0
            },
        });
    }
    for o in &old_lines {
        if !present.contains(&o.id) {
            let mut l = o.clone();
            l.faults = 0;
            l.change = Some(LineChange {
                hausdorff_m: None,
                changed: true,
                status: "removed".into(),
                gained_by_a_m2: 0.0,
                gained_by_b_m2: 0.0,
                changed_segments: o.geometry.0.len(),
            });
            for g in &o.geometry.0 {
                segs_out.push(ChangedSegment {
                    line_id: o.id.clone(),
                    round: "old".into(),
                    length_m: crate::crs::length_m(g),
                    geometry: g.clone(),
                });
            }
            lines.push(l);
        }
    }
    segs_out
}
