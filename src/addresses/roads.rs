//! Road centre lines: the geometry of the roads (街路巷) of the standard address database, by
//! county and name. They answer two questions the houses alone answer badly: where two named
//! roads meet (道路交叉口: a junction with no house near it, or a road whose houses stop short
//! of it) and which road a point lies on or beside (reverse geocoding's nearest road).
//!
//! Embedded: `data/addresses/huangpu_roads.fgb`, the real OpenStreetMap ways the sample
//! houses are placed along (`diming prepare-data`). In PostGIS: the `roads` table
//! (`migrations/0006_roads.sql`, `diming import-addresses --roads`). Coordinates WGS84/CGCS2000.

use super::FastMap;
use crate::crs::LocalMetric;
use crate::store::features::Feature;
use anyhow::{anyhow, Result};
use geo_types::{Geometry, LineString, MultiLineString};
use rstar::primitives::{GeomWithData, Line};
use rstar::{RTree, RTreeObject, AABB};

/// Crossing points of two roads closer than this are one junction (the carriageways of a
/// divided road, the corners of a wide junction): their centre is the answer. (武胜路 meets
/// 延安东路 at two points 117 m apart: two junctions.)
const JUNCTION_M: f64 = 80.0;
/// Two roads that do not cross but come this close (a way drawn ending a few metres short
/// of the road it joins) meet at the midpoint of their closest points.
const NEAR_M: f64 = 25.0;

/// One road of a county: all its ways.
#[derive(Debug, Clone)]
pub struct RoadRow {
    /// the county's six-digit code
    pub county: String,
    pub name: String,
    pub lines: MultiLineString<f64>,
    pub synthetic: bool,
}

/// The nearest road to a point.
#[derive(Debug, Clone, PartialEq)]
pub struct NearRoad {
    pub county: String,
    pub name: String,
    pub distance_m: f64,
    /// the closest point of the road (WGS84)
    pub lon: f64,
    pub lat: f64,
    pub synthetic: bool,
}

type Seg = GeomWithData<Line<[f64; 2]>, u32>;
/// A point in local metres, and a segment of two.
type Xy = (f64, f64);
type XySeg = (Xy, Xy);

/// The road lines in memory: by (county, name), and every segment in an R-tree.
#[derive(Default)]
pub struct RoadLines {
    rows: Vec<RoadRow>,
    by_key: FastMap<(String, String), u32>,
    segs: RTree<Seg>,
    /// each road's ways joined end to end where they continue one another (OSM splits a
    /// road at every junction): the polylines a house number is placed along
    chains: Vec<Vec<Vec<Xy>>>,
    /// every junction of two roads of a county ([`RoadLines::crossings`] of each pair whose
    /// lines come within `NEAR_M`): (road, road, point)
    junctions: Vec<(u32, u32, Xy)>,
    junction_tree: RTree<GeomWithData<[f64; 2], u32>>,
}

/// The junction nearest a point.
#[derive(Debug, Clone, PartialEq)]
pub struct NearJunction {
    pub county: String,
    /// the two roads, in code-point order
    pub roads: [String; 2],
    pub distance_m: f64,
    pub lon: f64,
    pub lat: f64,
}

/// Where a point lies along a road ([`RoadLines::locate`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Along {
    /// the chain of the road's ways
    pub chain: u32,
    /// metres from the chain's start to the closest point
    pub m: f64,
    /// metres from the line, positive on the left of the chain's direction
    pub offset: f64,
}

/// The ways of a road joined where one ends where another starts (or ends) and no third way
/// of the road meets there; lon/lat points.
fn join_ways(lines: &MultiLineString<f64>) -> Vec<Vec<Xy>> {
    let key = |p: Xy| ((p.0 * 1e7).round() as i64, (p.1 * 1e7).round() as i64);
    let ways: Vec<Vec<Xy>> = lines
        .0
        .iter()
        .map(|l| l.0.iter().map(|c| (c.x, c.y)).collect::<Vec<Xy>>())
        .filter(|w| w.len() >= 2)
        .collect();
    let mut degree: FastMap<(i64, i64), u32> = FastMap::default();
    for w in &ways {
        *degree.entry(key(w[0])).or_default() += 1;
        *degree.entry(key(w[w.len() - 1])).or_default() += 1;
    }
    let mut used = vec![false; ways.len()];
    let mut out = Vec::new();
    for i in 0..ways.len() {
        if used[i] {
            continue;
        }
        used[i] = true;
        let mut chain = ways[i].clone();
        // forwards from the end, then backwards from the start (the chain reversed)
        for _ in 0..2 {
            loop {
                let end = key(chain[chain.len() - 1]);
                if degree.get(&end) != Some(&2) {
                    break;
                }
                let next = (0..ways.len()).find(|&j| {
                    !used[j] && (key(ways[j][0]) == end || key(ways[j][ways[j].len() - 1]) == end)
                });
                let Some(j) = next else { break };
                used[j] = true;
                let mut w = ways[j].clone();
                if key(w[0]) != end {
                    w.reverse();
                }
                chain.extend_from_slice(&w[1..]);
            }
            chain.reverse();
        }
        out.push(chain);
    }
    out
}

/// A row from a feature with a `name` and a county code in `code_field` (six digits, or a
/// longer statistical code whose first six are the county's), line geometry already in
/// WGS84; or the field at fault and why.
pub fn row_from_feature(
    f: Feature,
    code_field: &str,
    synthetic: bool,
) -> std::result::Result<RoadRow, (String, String)> {
    let name = f
        .prop("name")
        .ok_or_else(|| ("name".to_string(), "missing or empty".to_string()))?;
    let raw = f
        .prop(code_field)
        .ok_or_else(|| (code_field.to_string(), "missing or empty".to_string()))?;
    if !(raw.len() == 6 || raw.len() == 9 || raw.len() == 12)
        || !raw.bytes().all(|b| b.is_ascii_digit())
    {
        return Err((
            code_field.to_string(),
            format!("'{raw}' is not a county code (6 digits, or 9/12 starting with the county's)"),
        ));
    }
    let syn = synthetic || f.prop("synthetic").is_some_and(|s| s == "true" || s == "1");
    let lines = match f.geometry {
        Geometry::LineString(l) => MultiLineString(vec![l]),
        Geometry::MultiLineString(m) => m,
        other => {
            return Err((
                "geometry".to_string(),
                format!(
                    "expected a LineString or MultiLineString, got {}",
                    crate::store::features::geom_type(&other)
                ),
            ))
        }
    };
    let ok = |l: &LineString<f64>| {
        l.0.len() >= 2
            && l.0.iter().all(|c| {
                c.x.is_finite() && c.y.is_finite() && c.x.abs() <= 180.0 && c.y.abs() <= 90.0
            })
    };
    if lines.0.is_empty() || !lines.0.iter().all(ok) {
        return Err((
            "geometry".to_string(),
            "every line needs two or more points with lon/lat in range".to_string(),
        ));
    }
    Ok(RoadRow {
        county: raw[..6].to_string(),
        name,
        lines,
        synthetic: syn,
    })
}

/// [`row_from_feature`] of every feature; the first bad one is an error naming the feature
/// and the field.
pub fn rows_from_features(
    feats: Vec<Feature>,
    origin: &str,
    code_field: &str,
    synthetic: bool,
) -> Result<Vec<RoadRow>> {
    feats
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            row_from_feature(f, code_field, synthetic)
                .map_err(|(field, why)| anyhow!("{origin} feature {i}: {field}: {why}"))
        })
        .collect()
}

/// The lines as `SRID=4490;MULTILINESTRING(...)` for PostGIS.
pub fn to_ewkt(lines: &MultiLineString<f64>) -> String {
    let parts: Vec<String> = lines
        .0
        .iter()
        .map(|l| {
            let pts: Vec<String> = l.0.iter().map(|c| format!("{} {}", c.x, c.y)).collect();
            format!("({})", pts.join(","))
        })
        .collect();
    format!("SRID=4490;MULTILINESTRING({})", parts.join(","))
}

/// The road lines of a county from an OpenStreetMap extract: the named ways that carry house
/// numbers ([`super::generate::read_osm_roads`], the roads the sample houses are placed
/// along), each way kept whole when a point of it lies inside the county's polygon.
pub fn county_lines_from_osm(
    d: &crate::divisions::Divisions,
    osm: &std::path::Path,
    county: &str,
) -> Result<Vec<RoadRow>> {
    let inside = |&(lon, lat): &(f64, f64)| {
        d.reverse(lon, lat, false)
            .is_some_and(|r| r.division.code == county)
    };
    Ok(super::generate::read_osm_roads(osm)?
        .into_iter()
        .filter_map(|r| {
            let lines: Vec<LineString<f64>> = r
                .ways
                .into_iter()
                .filter(|w| w.iter().any(inside))
                .map(LineString::from)
                .collect();
            (!lines.is_empty()).then(|| RoadRow {
                county: county.to_string(),
                name: r.name,
                lines: MultiLineString(lines),
                synthetic: false,
            })
        })
        .collect())
}

/// Writes rows as a FlatGeobuf file of layer `roads` (CGCS2000 / EPSG:4490), the file
/// `import-addresses --roads` and the embedded default read.
pub fn write_fgb(path: &std::path::Path, rows: &[RoadRow]) -> Result<()> {
    crate::store::features::write_fgb(
        path,
        "roads",
        &["county", "name", "synthetic"],
        &to_features(rows),
        4490,
    )
}

/// Rows as features (`county`, `name` and `synthetic` properties), for a FlatGeobuf file.
fn to_features(rows: &[RoadRow]) -> Vec<Feature> {
    rows.iter()
        .map(|r| Feature {
            props: [
                ("county".to_string(), r.county.clone()),
                ("name".to_string(), r.name.clone()),
                ("synthetic".to_string(), r.synthetic.to_string()),
            ]
            .into_iter()
            .collect(),
            geometry: Geometry::MultiLineString(r.lines.clone()),
        })
        .collect()
}

fn cross(a: Xy, b: Xy) -> f64 {
    a.0 * b.1 - a.1 * b.0
}

fn sub(a: Xy, b: Xy) -> Xy {
    (a.0 - b.0, a.1 - b.1)
}

/// Where segments p–p2 and q–q2 meet (ends included), in planar metres.
fn meet(p: Xy, p2: Xy, q: Xy, q2: Xy) -> Option<Xy> {
    const EPS: f64 = 1e-9;
    let (r, s) = (sub(p2, p), sub(q2, q));
    let den = cross(r, s);
    if den.abs() < EPS {
        // parallel: they meet only at a shared end (a way continuing another)
        return [p, p2]
            .into_iter()
            .find(|&a| [q, q2].iter().any(|&b| (a.0 - b.0).hypot(a.1 - b.1) < 0.01));
    }
    let qp = sub(q, p);
    let (t, u) = (cross(qp, s) / den, cross(qp, r) / den);
    ((-EPS..=1.0 + EPS).contains(&t) && (-EPS..=1.0 + EPS).contains(&u))
        .then_some((p.0 + t * r.0, p.1 + t * r.1))
}

/// The closest point of segment a–b to p, and its distance.
fn foot(p: Xy, a: Xy, b: Xy) -> (Xy, f64) {
    let ab = sub(b, a);
    let len2 = ab.0 * ab.0 + ab.1 * ab.1;
    let t = if len2 > 0.0 {
        (((p.0 - a.0) * ab.0 + (p.1 - a.1) * ab.1) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let f = (a.0 + t * ab.0, a.1 + t * ab.1);
    (f, (p.0 - f.0).hypot(p.1 - f.1))
}

/// One row a county and name, in the order first seen: a later row of the same county and
/// name adds its lines to the road.
pub fn merge_rows(rows: Vec<RoadRow>) -> Vec<RoadRow> {
    let mut out: Vec<RoadRow> = Vec::with_capacity(rows.len());
    let mut at: FastMap<(String, String), usize> = FastMap::default();
    for r in rows {
        match at.get(&(r.county.clone(), r.name.clone())) {
            Some(&i) => out[i].lines.0.extend(r.lines.0),
            None => {
                at.insert((r.county.clone(), r.name.clone()), out.len());
                out.push(r);
            }
        }
    }
    out
}

impl RoadLines {
    /// Builds the index ([`merge_rows`] first).
    pub fn build(rows: Vec<RoadRow>) -> RoadLines {
        let mut out = RoadLines {
            rows: merge_rows(rows),
            ..Default::default()
        };
        out.by_key = out
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| ((r.county.clone(), r.name.clone()), i as u32))
            .collect();
        let segs: Vec<Seg> = out
            .rows
            .iter()
            .enumerate()
            .flat_map(|(i, r)| {
                r.lines.0.iter().flat_map(move |l| {
                    l.0.windows(2).map(move |w| {
                        GeomWithData::new(Line::new([w[0].x, w[0].y], [w[1].x, w[1].y]), i as u32)
                    })
                })
            })
            .collect();
        out.segs = RTree::bulk_load(segs);
        out.chains = out.rows.iter().map(|r| join_ways(&r.lines)).collect();
        out.find_junctions();
        out
    }

    /// Every pair of roads of a county whose segments come within about `NEAR_M` of each
    /// other (R-tree boxes grown by 0.0003°), and the junctions of each pair.
    fn find_junctions(&mut self) {
        const GROW: f64 = 0.0003;
        let mut pairs = std::collections::BTreeSet::new();
        for s in self.segs.iter() {
            let e = s.envelope();
            let (lo, hi) = (e.lower(), e.upper());
            let env =
                AABB::from_corners([lo[0] - GROW, lo[1] - GROW], [hi[0] + GROW, hi[1] + GROW]);
            for o in self.segs.locate_in_envelope_intersecting(&env) {
                if o.data > s.data
                    && self.rows[o.data as usize].county == self.rows[s.data as usize].county
                {
                    pairs.insert((s.data, o.data));
                }
            }
        }
        let mut junctions = Vec::new();
        for (i, j) in pairs {
            let (a, b) = (&self.rows[i as usize], &self.rows[j as usize]);
            for p in self.crossings(&a.county, &a.name, &b.name) {
                junctions.push((i, j, p));
            }
        }
        self.junction_tree = RTree::bulk_load(
            junctions
                .iter()
                .enumerate()
                .map(|(k, j)| GeomWithData::new([j.2 .0, j.2 .1], k as u32))
                .collect(),
        );
        self.junctions = junctions;
    }

    /// Junctions found between the roads.
    pub fn junction_count(&self) -> usize {
        self.junctions.len()
    }

    /// The two roads of each junction (county, name, name).
    pub fn junction_roads(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.junctions.iter().map(|&(i, j, _)| {
            let (a, b) = (&self.rows[i as usize], &self.rows[j as usize]);
            (a.county.as_str(), a.name.as_str(), b.name.as_str())
        })
    }

    /// Every road: (county, name).
    pub fn roads(&self) -> impl Iterator<Item = (&str, &str)> {
        self.rows
            .iter()
            .map(|r| (r.county.as_str(), r.name.as_str()))
    }

    /// The middle of a road: halfway along its longest chain (WGS84).
    pub fn midpoint(&self, county: &str, name: &str) -> Option<Xy> {
        let i = self.index(county, name)?;
        let lm = self.frame(i)?;
        let length = |c: &Vec<Xy>| -> f64 {
            c.windows(2)
                .map(|w| {
                    let (a, b) = (lm.fwd(w[0].0, w[0].1), lm.fwd(w[1].0, w[1].1));
                    (b.0 - a.0).hypot(b.1 - a.1)
                })
                .sum()
        };
        let (chain, len) = self.chains[i]
            .iter()
            .enumerate()
            .map(|(k, c)| (k, length(c)))
            .max_by(|x, y| x.1.total_cmp(&y.1))?;
        self.point_at(
            county,
            name,
            Along {
                chain: chain as u32,
                m: len / 2.0,
                offset: 0.0,
            },
        )
    }

    /// The lon/lat box of every line: [west, south, east, north].
    pub fn bbox(&self) -> Option<[f64; 4]> {
        (self.segs.size() > 0).then(|| {
            let e = self.segs.root().envelope();
            [e.lower()[0], e.lower()[1], e.upper()[0], e.upper()[1]]
        })
    }

    /// The junction of two roads nearest a WGS84 point within `radius_m`.
    pub fn nearest_junction(&self, lon: f64, lat: f64, radius_m: f64) -> Option<NearJunction> {
        let lm = LocalMetric::new(lon, lat);
        let (dx, dy) = (radius_m / lm.kx, radius_m / lm.ky);
        let env = AABB::from_corners([lon - dx, lat - dy], [lon + dx, lat + dy]);
        let (k, d) = self
            .junction_tree
            .locate_in_envelope(&env)
            .map(|g| {
                (
                    g.data,
                    crate::crs::distance_m((lon, lat), (g.geom()[0], g.geom()[1])),
                )
            })
            .min_by(|x, y| x.1.total_cmp(&y.1))?;
        if d > radius_m {
            return None;
        }
        let (i, j, p) = self.junctions[k as usize];
        let (a, b) = (&self.rows[i as usize], &self.rows[j as usize]);
        let mut roads = [a.name.clone(), b.name.clone()];
        roads.sort();
        Some(NearJunction {
            county: a.county.clone(),
            roads,
            distance_m: d,
            lon: p.0,
            lat: p.1,
        })
    }

    /// The metric frame of road `i` (at its first point): measures along it are in this frame.
    fn frame(&self, i: usize) -> Option<LocalMetric> {
        let p = self.chains[i].first()?.first()?;
        Some(LocalMetric::new(p.0, p.1))
    }

    /// Where a WGS84 point lies along road `name` of `county`: the closest point of the
    /// road's chains, its measure and the point's side offset, and the distance (m).
    pub fn locate(&self, county: &str, name: &str, (lon, lat): Xy) -> Option<(Along, f64)> {
        let i = self.index(county, name)?;
        let lm = self.frame(i)?;
        let p = lm.fwd(lon, lat);
        let mut best: Option<(Along, f64)> = None;
        for (c, chain) in self.chains[i].iter().enumerate() {
            let mut m0 = 0.0;
            for w in chain.windows(2) {
                let (a, b) = (lm.fwd(w[0].0, w[0].1), lm.fwd(w[1].0, w[1].1));
                let len = (b.0 - a.0).hypot(b.1 - a.1);
                let (f, d) = foot(p, a, b);
                if best.is_none_or(|x| d < x.1) {
                    let side = cross(sub(b, a), sub(p, a));
                    best = Some((
                        Along {
                            chain: c as u32,
                            m: m0 + (f.0 - a.0).hypot(f.1 - a.1),
                            offset: d.copysign(side),
                        },
                        d,
                    ));
                }
                m0 += len;
            }
        }
        best
    }

    /// The WGS84 point `at.m` metres along chain `at.chain` of road `name` of `county`,
    /// `at.offset` metres to its left (clamped to the chain's ends).
    pub fn point_at(&self, county: &str, name: &str, at: Along) -> Option<Xy> {
        let i = self.index(county, name)?;
        let lm = self.frame(i)?;
        let chain = self.chains[i].get(at.chain as usize)?;
        let mut left = at.m.max(0.0);
        let mut last = None;
        for w in chain.windows(2) {
            let (a, b) = (lm.fwd(w[0].0, w[0].1), lm.fwd(w[1].0, w[1].1));
            let len = (b.0 - a.0).hypot(b.1 - a.1);
            if len <= 0.0 {
                continue;
            }
            let dir = ((b.0 - a.0) / len, (b.1 - a.1) / len);
            last = Some((b, dir));
            if left <= len {
                let q = (a.0 + dir.0 * left, a.1 + dir.1 * left);
                return Some(lm.inv(q.0 - dir.1 * at.offset, q.1 + dir.0 * at.offset));
            }
            left -= len;
        }
        let (q, dir) = last?;
        Some(lm.inv(q.0 - dir.1 * at.offset, q.1 + dir.0 * at.offset))
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Segments indexed.
    pub fn segment_count(&self) -> usize {
        self.segs.size()
    }

    /// The index of road `name` of `county`.
    fn index(&self, county: &str, name: &str) -> Option<usize> {
        let i = *self.by_key.get(&(county.to_string(), name.to_string()))?;
        Some(i as usize)
    }

    fn road(&self, county: &str, name: &str) -> Option<&RoadRow> {
        Some(&self.rows[self.index(county, name)?])
    }

    /// Does the county have a line for this road?
    pub fn has(&self, county: &str, name: &str) -> bool {
        self.road(county, name).is_some()
    }

    /// Where roads `a` and `b` of `county` meet (WGS84), one point a junction, the junction
    /// with the most crossing points first; empty when either has no line or they do not meet.
    pub fn crossings(&self, county: &str, a: &str, b: &str) -> Vec<(f64, f64)> {
        let (Some(ra), Some(rb)) = (self.road(county, a), self.road(county, b)) else {
            return Vec::new();
        };
        let Some(p0) = ra.lines.0.first().and_then(|l| l.0.first()) else {
            return Vec::new();
        };
        let lm = LocalMetric::new(p0.x, p0.y);
        let segs = |r: &RoadRow| -> Vec<XySeg> {
            r.lines
                .0
                .iter()
                .flat_map(|l| l.0.windows(2))
                .map(|w| (lm.fwd(w[0].x, w[0].y), lm.fwd(w[1].x, w[1].y)))
                .collect()
        };
        let (sa, sb) = (segs(ra), segs(rb));
        let bbox = |s: &XySeg, pad: f64| {
            (
                s.0 .0.min(s.1 .0) - pad,
                s.0 .1.min(s.1 .1) - pad,
                s.0 .0.max(s.1 .0) + pad,
                s.0 .1.max(s.1 .1) + pad,
            )
        };
        let overlap = |x: (f64, f64, f64, f64), y: (f64, f64, f64, f64)| {
            x.0 <= y.2 && y.0 <= x.2 && x.1 <= y.3 && y.1 <= x.3
        };
        let mut pts = Vec::new();
        for p in &sa {
            let bp = bbox(p, 0.01);
            for q in sb.iter().filter(|q| overlap(bp, bbox(q, 0.01))) {
                if let Some(x) = meet(p.0, p.1, q.0, q.1) {
                    pts.push(x);
                }
            }
        }
        if pts.is_empty() {
            // no crossing: the closest approach of an end of one to the other, when near
            let near = |ends: &[XySeg], other: &[XySeg]| {
                ends.iter()
                    .flat_map(|s| [s.0, s.1])
                    .flat_map(|e| other.iter().map(move |o| (e, foot(e, o.0, o.1))))
                    .min_by(|x, y| x.1 .1.total_cmp(&y.1 .1))
            };
            let best = [near(&sa, &sb), near(&sb, &sa)]
                .into_iter()
                .flatten()
                .min_by(|x, y| x.1 .1.total_cmp(&y.1 .1));
            if let Some((e, (f, _))) = best.filter(|b| b.1 .1 <= NEAR_M) {
                pts.push(((e.0 + f.0) / 2.0, (e.1 + f.1) / 2.0));
            }
        }
        // junctions: points within JUNCTION_M of a junction's first point join it
        // (first point, sum of the points, count)
        let mut junctions: Vec<(Xy, Xy, usize)> = Vec::new();
        for p in pts {
            match junctions
                .iter_mut()
                .find(|j| (j.0 .0 - p.0).hypot(j.0 .1 - p.1) <= JUNCTION_M)
            {
                Some(j) => {
                    j.1 = (j.1 .0 + p.0, j.1 .1 + p.1);
                    j.2 += 1;
                }
                None => junctions.push((p, p, 1)),
            }
        }
        junctions.sort_by(|x, y| y.2.cmp(&x.2).then(x.0 .0.total_cmp(&y.0 .0)));
        junctions
            .into_iter()
            .map(|(_, s, n)| lm.inv(s.0 / n as f64, s.1 / n as f64))
            .collect()
    }

    /// The road nearest a WGS84 point within `radius_m`, with its closest point.
    pub fn nearest(&self, lon: f64, lat: f64, radius_m: f64) -> Option<NearRoad> {
        let lm = LocalMetric::new(lon, lat);
        let (dx, dy) = (radius_m / lm.kx, radius_m / lm.ky);
        let env = AABB::from_corners([lon - dx, lat - dy], [lon + dx, lat + dy]);
        let (seg, f, d) = self
            .segs
            .locate_in_envelope_intersecting(&env)
            .map(|s| {
                let (a, b) = (s.geom().from, s.geom().to);
                let (f, d) = foot((0.0, 0.0), lm.fwd(a[0], a[1]), lm.fwd(b[0], b[1]));
                (s.data, f, d)
            })
            .min_by(|x, y| x.2.total_cmp(&y.2))?;
        if d > radius_m {
            return None;
        }
        let r = &self.rows[seg as usize];
        let (lon, lat) = lm.inv(f.0, f.1);
        Some(NearRoad {
            county: r.county.clone(),
            name: r.name.clone(),
            distance_m: d,
            lon,
            lat,
            synthetic: r.synthetic,
        })
    }

    /// Heap bytes of the lines and the index (approximate).
    pub fn memory_bytes(&self) -> usize {
        let pts: usize = self
            .rows
            .iter()
            .map(|r| r.lines.0.iter().map(|l| l.0.len()).sum::<usize>())
            .sum();
        pts * 16 + self.segs.size() * (std::mem::size_of::<Seg>() + 16) + self.rows.len() * 96
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::line_string;

    fn row(name: &str, l: LineString<f64>) -> RoadRow {
        RoadRow {
            county: "310101".into(),
            name: name.into(),
            lines: MultiLineString(vec![l]),
            synthetic: false,
        }
    }

    /// A road east–west along lat 31.23, one north–south along lon 121.48, one parallel to the
    /// first 0.001° (≈ 111 m) north, and one ending 11 m short of the first.
    fn four_roads() -> RoadLines {
        RoadLines::build(vec![
            row(
                "东西路",
                line_string![(x: 121.47, y: 31.23), (x: 121.49, y: 31.23)],
            ),
            row(
                "南北路",
                line_string![(x: 121.48, y: 31.22), (x: 121.48, y: 31.24)],
            ),
            row(
                "平行路",
                line_string![(x: 121.47, y: 31.231), (x: 121.49, y: 31.231)],
            ),
            row(
                "短路",
                line_string![(x: 121.485, y: 31.2201), (x: 121.485, y: 31.2299)],
            ),
        ])
    }

    #[test]
    fn two_roads_cross_where_their_lines_do() {
        // a road east–west along lat 31.23, one north–south along lon 121.48, one parallel
        // to the first 0.001° (≈ 111 m) north, and one ending 11 m short of the first
        let lines = four_roads();
        let c = lines.crossings("310101", "东西路", "南北路");
        assert_eq!(c.len(), 1);
        assert!((c[0].0 - 121.48).abs() < 1e-9 && (c[0].1 - 31.23).abs() < 1e-9);
        assert!(lines.crossings("310101", "东西路", "平行路").is_empty());
        // the near miss: the midpoint of the gap
        let c = lines.crossings("310101", "短路", "东西路");
        assert_eq!(c.len(), 1);
        assert!((c[0].0 - 121.485).abs() < 1e-7 && (c[0].1 - 31.22995).abs() < 1e-6);
        // another county, an unknown road
        assert!(lines.crossings("310104", "东西路", "南北路").is_empty());
        assert!(lines.crossings("310101", "东西路", "无名路").is_empty());
    }

    #[test]
    fn a_divided_road_meets_a_road_at_one_junction() {
        // two carriageways 30 m apart (two ways of one name) crossing a road: one junction,
        // between them
        let lines = RoadLines::build(vec![
            row(
                "大道",
                line_string![(x: 121.47, y: 31.23), (x: 121.49, y: 31.23)],
            ),
            row(
                "大道",
                line_string![(x: 121.49, y: 31.23027), (x: 121.47, y: 31.23027)],
            ),
            row(
                "南北路",
                line_string![(x: 121.48, y: 31.22), (x: 121.48, y: 31.24)],
            ),
        ]);
        let c = lines.crossings("310101", "南北路", "大道");
        assert_eq!(c.len(), 1);
        assert!((c[0].1 - 31.230135).abs() < 1e-6, "{c:?}");
    }

    #[test]
    fn the_junctions_of_the_roads_and_the_nearest_one() {
        let lines = four_roads();
        // 东西路 × 南北路, 平行路 × 南北路, 短路 near 东西路 (11 m short); 短路 meets nothing else
        assert_eq!(lines.junction_count(), 3);
        let j = lines.nearest_junction(121.4802, 31.2301, 100.0).unwrap();
        assert_eq!(j.roads, ["东西路".to_string(), "南北路".to_string()]);
        assert!((j.distance_m - 22.1).abs() < 1.0, "{j:?}");
        let j = lines.nearest_junction(121.4851, 31.2298, 100.0).unwrap();
        assert_eq!(j.roads, ["东西路".to_string(), "短路".to_string()]);
        assert!(lines.nearest_junction(121.475, 31.225, 100.0).is_none());
    }

    #[test]
    fn the_nearest_road_and_its_closest_point() {
        let lines = four_roads();
        // 0.0002° north of 东西路 (≈ 22 m), 0.0008° south of 平行路 (≈ 89 m), 0.002° east
        // of 南北路 (≈ 190 m)
        let n = lines.nearest(121.482, 31.2302, 100.0).unwrap();
        assert_eq!(n.name, "东西路");
        assert!((n.distance_m - 22.2).abs() < 0.3, "{n:?}");
        assert!((n.lon - 121.482).abs() < 1e-9 && (n.lat - 31.23).abs() < 1e-9);
        assert!(lines.nearest(121.482, 31.2302, 20.0).is_none());
    }

    #[test]
    fn ways_are_joined_and_points_located_along_them() {
        // an L-shaped road drawn as three ways, one of them backwards, and a fourth way
        // apart: two chains; a point 10 m left of the L's corner leg
        let lines = RoadLines::build(vec![RoadRow {
            county: "310101".into(),
            name: "曲路".into(),
            lines: MultiLineString(vec![
                line_string![(x: 121.470, y: 31.230), (x: 121.471, y: 31.230)],
                line_string![(x: 121.472, y: 31.231), (x: 121.472, y: 31.230), (x: 121.471, y: 31.230)],
                line_string![(x: 121.472, y: 31.231), (x: 121.472, y: 31.232)],
                line_string![(x: 121.480, y: 31.230), (x: 121.481, y: 31.230)],
            ]),
            synthetic: false,
        }]);
        assert_eq!(lines.chains[0].len(), 2);
        assert_eq!(lines.chains[0][0].len(), 5);
        let lm = LocalMetric::new(121.470, 31.230);
        let leg = lm.fwd(121.471, 31.230).0; // ≈ 95 m a leg of 0.001°
                                             // on the second leg (north), 10 m east of it: right of the chain's direction
        let p = lm.inv(
            lm.fwd(121.472, 31.2305).0 + 10.0,
            lm.fwd(121.472, 31.2305).1,
        );
        let (at, d) = lines.locate("310101", "曲路", p).unwrap();
        assert!((d - 10.0).abs() < 1e-6, "{d}");
        let north = lm.fwd(121.472, 31.2305).1;
        let m = 2.0 * leg + north;
        // the chain may run either way: the measure from one end or the other
        let total = 2.0 * leg + lm.fwd(121.472, 31.232).1;
        assert!(
            (at.m - m).abs() < 0.01 || (at.m - (total - m)).abs() < 0.01,
            "{at:?} {m}"
        );
        let back = lines.point_at("310101", "曲路", at).unwrap();
        assert!(crate::crs::distance_m(back, p) < 0.01, "{back:?} {p:?}");
        // halfway between a point on the first leg and one on the last, along the road: the
        // corner, not the straight line between them
        let (a, _) = lines.locate("310101", "曲路", (121.4705, 31.2301)).unwrap();
        let (b, _) = lines.locate("310101", "曲路", (121.4721, 31.2315)).unwrap();
        assert_eq!(a.chain, b.chain);
        let mid = Along {
            chain: a.chain,
            m: (a.m + b.m) / 2.0,
            offset: 0.0,
        };
        let corner = lines.point_at("310101", "曲路", mid).unwrap();
        // (190 m east, then north: the midpoint of 47 and 356 m is 12 m north of the corner;
        // the chord's midpoint, 121.4713 31.2308, is 100 m away)
        assert!(
            crate::crs::distance_m(corner, (121.472, 31.2301)) < 2.0,
            "{corner:?}"
        );
        assert!(crate::crs::distance_m((121.4713, 31.2308), (121.472, 31.2301)) > 95.0);
    }

    #[test]
    fn bad_features_are_refused_with_the_field() {
        let f = |props: &[(&str, &str)], g: Geometry<f64>| Feature {
            props: props
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            geometry: g,
        };
        let l = Geometry::LineString(line_string![(x: 121.47, y: 31.23), (x: 121.49, y: 31.23)]);
        let err = |feats| rows_from_features(feats, "x.geojson", "county", false).unwrap_err();
        assert!(err(vec![f(&[("county", "310101")], l.clone())])
            .to_string()
            .contains("name: missing"));
        assert!(err(vec![f(&[("name", "路"), ("county", "31")], l.clone())])
            .to_string()
            .contains("county: '31' is not a county code"));
        let p = Geometry::Point(geo_types::point!(x: 121.0, y: 31.0));
        assert!(err(vec![f(&[("name", "路"), ("county", "310101")], p)])
            .to_string()
            .contains("expected a LineString"));
        let ok = rows_from_features(
            vec![f(&[("name", "路"), ("county", "310101001")], l)],
            "x",
            "county",
            false,
        )
        .unwrap();
        assert_eq!(ok[0].county, "310101");
    }
}
