//! 15-minute service-circle coverage (15分钟养老服务圈): the share of addresses (and of
//! population, where a weight is given) within N minutes' walk of a facility, the uncovered
//! addresses and areas, and where to build next (greedy maximal covering).
//!
//! Works on a generic list of demand points ([`DemandSet`]): in the service they come from the
//! address book or a `--demand` CSV, in benchmarks from [`synthetic_city`].
//! With a walking network distances are network distances (point → nearest node straight,
//! then along the network); without one, the straight-line distance times [`DETOUR_FACTOR`].

pub mod bench;
pub mod layer;

use crate::crs::{distance_m, LocalMetric};
use crate::network::{Network, Snap};
use anyhow::{bail, Context, Result};
use geo::{Coord, LineString, MultiPolygon, Polygon};
use rstar::primitives::GeomWithData;
use rstar::RTree;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Straight-line fallback: walking distance ≈ 1.3 × straight distance (a common route
/// directness/"circuity" value for urban street grids; see README).
pub const DETOUR_FACTOR: f64 = 1.3;

/// How distances were measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Network,
    StraightLine,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Network => "network",
            Method::StraightLine => "straight_line",
        }
    }
}

/// Demand points, column-wise (millions of them in benchmarks).
#[derive(Default, Clone)]
pub struct DemandSet {
    /// id/label per point (may be empty: then the index is the id)
    pub ids: Vec<String>,
    pub lon: Vec<f64>,
    pub lat: Vec<f64>,
    pub weight: Vec<f32>,
    /// index into `divisions`
    pub div: Vec<u32>,
    /// division short codes (township 9 digits or community 12 digits)
    pub divisions: Vec<String>,
    pub synthetic: bool,
    /// nearest network node of each point (filled by [`DemandSet::snap`])
    pub snaps: Option<Vec<Snap>>,
}

impl DemandSet {
    pub fn len(&self) -> usize {
        self.lon.len()
    }
    pub fn is_empty(&self) -> bool {
        self.lon.is_empty()
    }
    pub fn id(&self, i: usize) -> String {
        self.ids.get(i).cloned().unwrap_or_else(|| i.to_string())
    }
    pub fn push(&mut self, id: String, lon: f64, lat: f64, weight: f32, division: &str) {
        let d = match self.divisions.iter().position(|x| x == division) {
            Some(p) => p,
            None => {
                self.divisions.push(division.to_string());
                self.divisions.len() - 1
            }
        };
        self.ids.push(id);
        self.lon.push(lon);
        self.lat.push(lat);
        self.weight.push(weight);
        self.div.push(d as u32);
    }
    /// Attaches every point to its nearest network node.
    pub fn snap(&mut self, net: &Network) {
        let s = (0..self.len())
            .map(|i| {
                net.snap(self.lon[i], self.lat[i]).unwrap_or(Snap {
                    node: 0,
                    snap_m: f64::INFINITY,
                })
            })
            .collect();
        self.snaps = Some(s);
    }

    /// Reads a demand CSV: header with `lon`, `lat`, `division` and optional `id`, `weight`,
    /// `synthetic`. Coordinates WGS84. Errors name the line and column.
    pub fn read_csv(path: &std::path::Path) -> Result<DemandSet> {
        let mut rdr =
            csv::Reader::from_path(path).with_context(|| format!("opening {}", path.display()))?;
        let h = rdr.headers()?.clone();
        let col = |n: &str| h.iter().position(|x| x.trim() == n);
        let (Some(cx), Some(cy), Some(cd)) = (col("lon"), col("lat"), col("division")) else {
            bail!("{}: header must have lon, lat, division", path.display());
        };
        let (ci, cw, cs) = (col("id"), col("weight"), col("synthetic"));
        let mut d = DemandSet::default();
        let mut syn = false;
        for (n, rec) in rdr.records().enumerate() {
            let rec = rec?;
            let line = n + 2;
            let num = |c: usize, name: &str| -> Result<f64> {
                rec.get(c)
                    .and_then(|s| s.trim().parse::<f64>().ok())
                    .filter(|v| v.is_finite())
                    .with_context(|| {
                        format!("{} line {line}: '{name}' is not a number", path.display())
                    })
            };
            let lon = num(cx, "lon")?;
            let lat = num(cy, "lat")?;
            crate::crs::check_lon_lat(lon, lat)
                .map_err(|(f, m)| anyhow::anyhow!("{} line {line}: {f}: {m}", path.display()))?;
            let w = match cw {
                Some(c) if !rec.get(c).unwrap_or("").trim().is_empty() => num(c, "weight")?,
                _ => 1.0,
            };
            if w < 0.0 {
                bail!("{} line {line}: 'weight' is negative", path.display());
            }
            let id = ci
                .and_then(|c| rec.get(c))
                .map(str::to_string)
                .unwrap_or_else(|| (line - 2).to_string());
            if cs
                .and_then(|c| rec.get(c))
                .is_some_and(|s| s.trim() == "true")
            {
                syn = true;
            }
            d.push(id, lon, lat, w as f32, rec.get(cd).unwrap_or("").trim());
        }
        d.synthetic = syn;
        Ok(d)
    }
}

/// A coverage question.
#[derive(Debug, Clone)]
pub struct Query {
    pub minutes: f64,
    pub speed_kmh: f64,
}

impl Query {
    pub fn limit_m(&self) -> f64 {
        self.minutes * self.speed_kmh * 1000.0 / 60.0
    }
}

/// The network nodes nearest to `points` (lon/lat), with the straight distance to each.
pub fn snapped_sources(net: &Network, points: &[(f64, f64)]) -> Vec<(u32, f64)> {
    points
        .iter()
        .filter_map(|&(x, y)| net.snap(x, y).map(|s| (s.node, s.snap_m)))
        .collect()
}

/// Walking distance of each snapped point given node distances `nd` (INFINITY beyond the limit).
pub fn distances_from_nodes(nd: &[f32], snaps: &[Snap], limit_m: f64) -> Vec<f32> {
    let lim = limit_m as f32;
    snaps
        .iter()
        .map(|s| {
            let d = nd[s.node as usize] + s.snap_m as f32;
            if d <= lim {
                d
            } else {
                f32::INFINITY
            }
        })
        .collect()
}

/// Walking distance (metres) from each demand point to its nearest facility, `INFINITY` when
/// beyond `limit_m`. Returns the method used.
pub fn demand_distances(
    net: Option<&Network>,
    demand: &DemandSet,
    facilities: &[(f64, f64)],
    limit_m: f64,
) -> (Vec<f32>, Method) {
    let n = demand.len();
    match (net, demand.snaps.as_ref()) {
        (Some(net), Some(snaps)) => {
            let nd = net.dijkstra(&snapped_sources(net, facilities), limit_m);
            (distances_from_nodes(&nd, snaps, limit_m), Method::Network)
        }
        _ => {
            let mut out = vec![f32::INFINITY; n];
            if facilities.is_empty() || n == 0 {
                return (out, Method::StraightLine);
            }
            let metric = LocalMetric::new(facilities[0].0, facilities[0].1);
            let tree = RTree::bulk_load(
                facilities
                    .iter()
                    .map(|&(x, y)| {
                        let (a, b) = metric.fwd(x, y);
                        GeomWithData::new([a, b], (x, y))
                    })
                    .collect(),
            );
            #[allow(clippy::needless_range_loop)]
            for i in 0..n {
                let (x, y) = metric.fwd(demand.lon[i], demand.lat[i]);
                if let Some(f) = tree.nearest_neighbor(&[x, y]) {
                    let d = distance_m((demand.lon[i], demand.lat[i]), f.data) * DETOUR_FACTOR;
                    if d <= limit_m {
                        out[i] = d as f32;
                    }
                }
            }
            (out, Method::StraightLine)
        }
    }
}

/// Buffer around reachable network pieces for service-area polygons (metres).
pub const BUFFER_M: f64 = 12.0;

/// The area reachable from a set of sources within `limit_m`.
pub struct ServiceArea {
    pub method: Method,
    pub polygon: MultiPolygon<f64>,
    /// the reachable network pieces (network method only)
    pub segments: Vec<[(f64, f64); 2]>,
    /// distance of every network node from the nearest source (network method only)
    pub node_dist: Option<Vec<f32>>,
}

/// Service area of `sources` (lon/lat): with a network, the reachable segments buffered by
/// [`BUFFER_M`] and unioned (follows the network); without one, circles of radius
/// `limit_m / DETOUR_FACTOR`, unioned.
pub fn service_area(net: Option<&Network>, sources: &[(f64, f64)], limit_m: f64) -> ServiceArea {
    match net {
        Some(n) => {
            let dist = n.dijkstra(&snapped_sources(n, sources), limit_m);
            let segments = n.reachable_segments(&dist, limit_m);
            ServiceArea {
                method: Method::Network,
                polygon: n.area_polygon(&segments, BUFFER_M),
                segments,
                node_dist: Some(dist),
            }
        }
        None => {
            let r = limit_m / DETOUR_FACTOR;
            let polys: Vec<Polygon<f64>> = sources
                .iter()
                .map(|&(x, y)| {
                    let m = LocalMetric::new(x, y);
                    let ring: Vec<Coord<f64>> = (0..=64)
                        .map(|i| {
                            let a = i as f64 / 64.0 * std::f64::consts::TAU;
                            let (lon, lat) = m.inv(r * a.cos(), r * a.sin());
                            Coord { x: lon, y: lat }
                        })
                        .collect();
                    Polygon::new(LineString::from(ring), vec![])
                })
                .collect();
            ServiceArea {
                method: Method::StraightLine,
                polygon: if polys.is_empty() {
                    MultiPolygon(vec![])
                } else {
                    geo::unary_union(&polys)
                },
                segments: Vec::new(),
                node_dist: None,
            }
        }
    }
}

/// One row of the coverage table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Row {
    pub division: String,
    pub addresses: usize,
    pub covered: usize,
    pub rate: f64,
    pub weight: f64,
    pub weight_covered: f64,
    pub weight_rate: f64,
}

impl Row {
    fn new(division: &str) -> Row {
        Row {
            division: division.to_string(),
            addresses: 0,
            covered: 0,
            rate: 0.0,
            weight: 0.0,
            weight_covered: 0.0,
            weight_rate: 0.0,
        }
    }
    fn add(&mut self, w: f64, cov: bool) {
        self.addresses += 1;
        self.weight += w;
        if cov {
            self.covered += 1;
            self.weight_covered += w;
        }
    }
    fn finish(&mut self) {
        self.rate = if self.addresses > 0 {
            self.covered as f64 / self.addresses as f64
        } else {
            0.0
        };
        self.weight_rate = if self.weight > 0.0 {
            self.weight_covered / self.weight
        } else {
            0.0
        };
    }
}

/// Coverage of a division.
#[derive(Debug, Clone)]
pub struct Report {
    pub method: Method,
    pub limit_m: f64,
    pub total: Row,
    /// one row per child (township → community; county → township; …)
    pub rows: Vec<Row>,
    /// indices of the demand points of the division
    pub members: Vec<usize>,
    /// walking distance per member (INFINITY = uncovered)
    pub dist: Vec<f32>,
}

impl Report {
    pub fn uncovered(&self) -> impl Iterator<Item = usize> + '_ {
        self.members
            .iter()
            .zip(&self.dist)
            .filter(|(_, d)| !d.is_finite())
            .map(|(&i, _)| i)
    }
}

/// Length of the next division level below a short code (2→4→6→9→12).
pub fn child_len(code_len: usize) -> usize {
    match code_len {
        0 => 2,
        2 => 4,
        4 => 6,
        6 => 9,
        _ => 12,
    }
}

/// Coverage of the points whose division code starts with `division` (empty = all).
pub fn coverage(
    net: Option<&Network>,
    demand: &DemandSet,
    facilities: &[(f64, f64)],
    division: &str,
    q: &Query,
) -> Report {
    let limit = q.limit_m();
    let (all, method) = demand_distances(net, demand, facilities, limit);
    let cl = child_len(division.len());
    let matches: Vec<bool> = demand
        .divisions
        .iter()
        .map(|d| d.starts_with(division))
        .collect();
    let mut total = Row::new(division);
    // per demand division first (no string work per point), then rolled up into child rows
    let mut per_div: Vec<Row> = demand.divisions.iter().map(|d| Row::new(d)).collect();
    let mut members = Vec::new();
    let mut dist = Vec::new();
    #[allow(clippy::needless_range_loop)]
    for i in 0..demand.len() {
        let di = demand.div[i] as usize;
        if !matches[di] {
            continue;
        }
        let cov = all[i].is_finite();
        let w = demand.weight[i] as f64;
        total.add(w, cov);
        per_div[di].add(w, cov);
        members.push(i);
        dist.push(all[i]);
    }
    total.finish();
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for r in per_div.iter().filter(|r| r.addresses > 0) {
        let key = &r.division[..cl.min(r.division.len())];
        let row = rows.entry(key.to_string()).or_insert_with(|| Row::new(key));
        row.addresses += r.addresses;
        row.covered += r.covered;
        row.weight += r.weight;
        row.weight_covered += r.weight_covered;
    }
    let mut rows: Vec<Row> = rows.into_values().collect();
    rows.iter_mut().for_each(Row::finish);
    Report {
        method,
        limit_m: limit,
        total,
        rows,
        members,
        dist,
    }
}

/// An uncovered area: connected cells holding uncovered addresses.
#[derive(Debug, Clone)]
pub struct Area {
    pub polygon: MultiPolygon<f64>,
    pub addresses: usize,
    pub weight: f64,
    pub area_m2: f64,
    pub sample_ids: Vec<String>,
}

/// Groups uncovered points into `cell_m` grid cells, joins touching cells (8-neighbourhood)
/// and returns the `top` groups with most addresses as polygons (union of their cells).
pub fn uncovered_areas(demand: &DemandSet, idx: &[usize], cell_m: f64, top: usize) -> Vec<Area> {
    if idx.is_empty() {
        return vec![];
    }
    let metric = LocalMetric::new(demand.lon[idx[0]], demand.lat[idx[0]]);
    let mut cells: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    for &i in idx {
        let (x, y) = metric.fwd(demand.lon[i], demand.lat[i]);
        cells
            .entry(((x / cell_m).floor() as i64, (y / cell_m).floor() as i64))
            .or_default()
            .push(i);
    }
    let mut seen: HashMap<(i64, i64), bool> = HashMap::new();
    let mut keys: Vec<_> = cells.keys().copied().collect();
    keys.sort();
    type Group = (Vec<(i64, i64)>, usize, f64);
    let mut groups: Vec<Group> = Vec::new();
    for k in keys {
        if seen.contains_key(&k) {
            continue;
        }
        seen.insert(k, true);
        let mut stack = vec![k];
        let mut comp = vec![];
        while let Some(c) = stack.pop() {
            comp.push(c);
            for dx in -1..=1 {
                for dy in -1..=1 {
                    let nb = (c.0 + dx, c.1 + dy);
                    if cells.contains_key(&nb) && !seen.contains_key(&nb) {
                        seen.insert(nb, true);
                        stack.push(nb);
                    }
                }
            }
        }
        let cnt: usize = comp.iter().map(|c| cells[c].len()).sum();
        let w: f64 = comp
            .iter()
            .flat_map(|c| cells[c].iter())
            .map(|&i| demand.weight[i] as f64)
            .sum();
        groups.push((comp, cnt, w));
    }
    groups.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.total_cmp(&a.2)));
    groups.truncate(top);
    groups
        .into_iter()
        .map(|(comp, cnt, w)| {
            let squares: Vec<Polygon<f64>> = comp
                .iter()
                .map(|&(cx, cy)| {
                    let (x0, y0) = (cx as f64 * cell_m, cy as f64 * cell_m);
                    let ring: Vec<Coord<f64>> = [
                        (x0, y0),
                        (x0 + cell_m, y0),
                        (x0 + cell_m, y0 + cell_m),
                        (x0, y0 + cell_m),
                        (x0, y0),
                    ]
                    .iter()
                    .map(|&(x, y)| {
                        let (lon, lat) = metric.inv(x, y);
                        Coord { x: lon, y: lat }
                    })
                    .collect();
                    Polygon::new(LineString::from(ring), vec![])
                })
                .collect();
            let polygon = geo::unary_union(&squares);
            let area_m2 = crate::crs::area_m2(&polygon);
            let mut sample_ids: Vec<String> = comp
                .iter()
                .flat_map(|c| cells[c].iter())
                .take(20)
                .map(|&i| demand.id(i))
                .collect();
            sample_ids.sort();
            Area {
                polygon,
                addresses: cnt,
                weight: w,
                area_m2,
                sample_ids,
            }
        })
        .collect()
}

/// A proposed site.
#[derive(Debug, Clone, Serialize)]
pub struct Pick {
    pub rank: usize,
    pub lon: f64,
    pub lat: f64,
    pub label: String,
    /// addresses newly covered by this site (given the sites before it)
    pub gain: usize,
    pub gain_weight: f64,
    /// coverage rate of the division after adding this site and those before it
    pub rate_after: f64,
    pub weight_rate_after: f64,
}

/// Candidate sites: given points, or else the uncovered addresses themselves (one per
/// `cell_m` cell, at most `max` of them, taken in order).
pub fn candidates_from_uncovered(
    demand: &DemandSet,
    report: &Report,
    cell_m: f64,
    max: usize,
) -> Vec<(f64, f64, String)> {
    let mut cells = std::collections::HashSet::new();
    let mut out = vec![];
    let Some(&first) = report.members.first() else {
        return out;
    };
    let metric = LocalMetric::new(demand.lon[first], demand.lat[first]);
    for i in report.uncovered() {
        let (x, y) = metric.fwd(demand.lon[i], demand.lat[i]);
        if cells.insert(((x / cell_m).floor() as i64, (y / cell_m).floor() as i64)) {
            out.push((
                demand.lon[i],
                demand.lat[i],
                format!("address {}", demand.id(i)),
            ));
            if out.len() >= max {
                break;
            }
        }
    }
    out
}

/// Greedy maximal covering: picks `k` of the candidates, each time the one that covers the most
/// uncovered weight (ties: more addresses, then earlier candidate). Gains are exact for the
/// chosen method (network or straight line).
pub fn suggest(
    net: Option<&Network>,
    demand: &DemandSet,
    report: &Report,
    candidates: &[(f64, f64, String)],
    k: usize,
) -> Vec<Pick> {
    let limit = report.limit_m;
    // uncovered members only
    let unc: Vec<usize> = report.uncovered().collect();
    // which uncovered points each candidate covers
    let sets: Vec<Vec<u32>> = match (net, demand.snaps.as_ref(), report.method) {
        (Some(net), Some(snaps), Method::Network) => {
            // node → uncovered points on it
            let mut by_node: HashMap<u32, Vec<u32>> = HashMap::new();
            for (j, &i) in unc.iter().enumerate() {
                by_node.entry(snaps[i].node).or_default().push(j as u32);
            }
            let mut dist = vec![f32::INFINITY; net.node_count()];
            let mut touched = Vec::new();
            candidates
                .iter()
                .map(|&(x, y, _)| {
                    let mut set = vec![];
                    if let Some(s) = net.snap(x, y) {
                        net.dijkstra_into(&[(s.node, s.snap_m)], limit, &mut dist, &mut touched);
                        for &t in &touched {
                            if let Some(v) = by_node.get(&t) {
                                for &j in v {
                                    let i = unc[j as usize];
                                    if dist[t as usize] as f64 + snaps[i].snap_m <= limit {
                                        set.push(j);
                                    }
                                }
                            }
                        }
                        for &t in &touched {
                            dist[t as usize] = f32::INFINITY;
                        }
                        touched.clear();
                    }
                    set
                })
                .collect()
        }
        _ => candidates
            .iter()
            .map(|&(x, y, _)| {
                unc.iter()
                    .enumerate()
                    .filter(|(_, &i)| {
                        distance_m((x, y), (demand.lon[i], demand.lat[i])) * DETOUR_FACTOR <= limit
                    })
                    .map(|(j, _)| j as u32)
                    .collect()
            })
            .collect(),
    };
    let mut taken = vec![false; unc.len()];
    let mut used = vec![false; candidates.len()];
    let mut covered = report.total.covered;
    let mut wcov = report.total.weight_covered;
    let mut out = vec![];
    for rank in 1..=k {
        let mut best: Option<(usize, f64, usize)> = None;
        for (c, set) in sets.iter().enumerate() {
            if used[c] {
                continue;
            }
            let mut g = 0usize;
            let mut gw = 0.0;
            for &j in set {
                if !taken[j as usize] {
                    g += 1;
                    gw += demand.weight[unc[j as usize]] as f64;
                }
            }
            let better = match best {
                None => true,
                Some((_, bw, bg)) => gw > bw + 1e-9 || ((gw - bw).abs() <= 1e-9 && g > bg),
            };
            if better {
                best = Some((c, gw, g));
            }
        }
        let Some((c, gw, g)) = best else { break };
        if g == 0 {
            break;
        }
        used[c] = true;
        for &j in &sets[c] {
            taken[j as usize] = true;
        }
        covered += g;
        wcov += gw;
        let t = &report.total;
        out.push(Pick {
            rank,
            lon: candidates[c].0,
            lat: candidates[c].1,
            label: candidates[c].2.clone(),
            gain: g,
            gain_weight: gw,
            rate_after: covered as f64 / t.addresses.max(1) as f64,
            weight_rate_after: if t.weight > 0.0 { wcov / t.weight } else { 0.0 },
        });
    }
    out
}

/// A seeded synthetic city for benchmarks: `n` demand points scattered around the nodes of
/// `net` (within 60 m), weights 1–3 people, grouped into `streets × streets` street divisions
/// (synthetic 9-digit codes 999001xxx) by position.
pub fn synthetic_city(net: &Network, n: usize, streets: usize, seed: u64) -> DemandSet {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for p in &net.xy {
        x0 = x0.min(p[0]);
        y0 = y0.min(p[1]);
        x1 = x1.max(p[0]);
        y1 = y1.max(p[1]);
    }
    let mut d = DemandSet {
        synthetic: true,
        ..Default::default()
    };
    for s in 0..streets * streets {
        d.divisions.push(format!("999001{:03}", s));
    }
    d.lon.reserve(n);
    d.lat.reserve(n);
    d.weight.reserve(n);
    d.div.reserve(n);
    let nn = net.node_count();
    for _ in 0..n {
        let v = rng.gen_range(0..nn);
        let x = net.xy[v][0] + rng.gen_range(-60.0..60.0);
        let y = net.xy[v][1] + rng.gen_range(-60.0..60.0);
        let (lon, lat) = net.metric.inv(x, y);
        let sx = (((x - x0) / (x1 - x0 + 1.0)) * streets as f64) as usize;
        let sy = (((y - y0) / (y1 - y0 + 1.0)) * streets as f64) as usize;
        d.lon.push(lon);
        d.lat.push(lat);
        d.weight.push(rng.gen_range(1..=3) as f32);
        d.div
            .push((sy.min(streets - 1) * streets + sx.min(streets - 1)) as u32);
    }
    d
}

/// What the service holds for coverage: the walking network and the demand points loaded at
/// start (`--network`, `--demand`).
#[derive(Default)]
pub struct CoverageState {
    pub network: parking_lot::RwLock<Option<std::sync::Arc<Network>>>,
    pub demand: parking_lot::RwLock<std::sync::Arc<DemandSet>>,
}

impl CoverageState {
    pub fn network(&self) -> Option<std::sync::Arc<Network>> {
        self.network.read().clone()
    }
}

/// Demand points from the address book (current addresses, weight 1), snapped when a network
/// is given.
pub fn demand_from_addresses(
    book: &crate::addresses::AddressBook,
    net: Option<&Network>,
) -> DemandSet {
    let mut d = DemandSet::default();
    for ri in 0..book.len() as u32 {
        let a = book.address(ri);
        if a.status == "retired" {
            continue;
        }
        d.push(a.code.clone(), a.lon, a.lat, 1.0, &a.division);
        d.synthetic |= a.synthetic;
    }
    if let Some(n) = net {
        d.snap(n);
    }
    d
}
