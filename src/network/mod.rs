//! Walking network: OpenStreetMap import (.osm.pbf and .osm XML), a CSR graph with edge
//! lengths in metres, a compact binary file, Dijkstra (single and multi-source) and isochrone
//! polygons that follow the network.
//!
//! # Compact file format (`*.bin`, little-endian)
//! ```text
//! magic    8 bytes  b"DMNET001"
//! n        u64      nodes
//! m        u64      directed arcs (every walkable segment is stored in both directions)
//! meta_len u64      bytes of the UTF-8 JSON metadata that follows
//! meta     meta_len {"source": …, "note": …, "ways": …}
//! lon      f64 × n
//! lat      f64 × n
//! offsets  u32 × (n+1)   arcs of node i are offsets[i]..offsets[i+1]
//! targets  u32 × m
//! length_m f32 × m       geodesic length of the arc in metres
//! ```
//! The file is read in one go (about 30 MB/s of nodes per second is not the bottleneck: a
//! 1,000,000-arc network loads in well under a second).

pub mod layer;
pub mod osm;
pub mod pg;

use crate::crs::{distance_m, LocalMetric};
use anyhow::{bail, Context, Result};
use geo::{Coord, LineString, MultiLineString, MultiPolygon};
use rstar::primitives::GeomWithData;
use rstar::RTree;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;

/// Default walking speed of older people: 1.0 m/s = 3.6 km/h (see README: the comfortable
/// gait speed of people aged 70–79 is about 1.0–1.1 m/s, Bohannon 1997, Age and Ageing 26:15–19).
pub const DEFAULT_SPEED_KMH: f64 = 3.6;

const MAGIC: &[u8; 8] = b"DMNET001";

/// A walking network in compressed-sparse-row form, with a spatial index for snapping.
pub struct Network {
    pub lon: Vec<f64>,
    pub lat: Vec<f64>,
    pub offsets: Vec<u32>,
    pub targets: Vec<u32>,
    pub length_m: Vec<f32>,
    /// JSON metadata (source file, note such as "drive network used as a stand-in")
    pub meta: serde_json::Value,
    /// local metric projection centred on the network
    pub metric: LocalMetric,
    /// projected node coordinates (metres)
    pub xy: Vec<[f64; 2]>,
    tree: RTree<GeomWithData<[f64; 2], u32>>,
}

/// A point attached to the network: its nearest node and the straight distance to it.
#[derive(Debug, Clone, Copy)]
pub struct Snap {
    pub node: u32,
    pub snap_m: f64,
}

impl Network {
    /// Builds from an undirected edge list (node indices, length in metres).
    pub fn from_edges(
        lon: Vec<f64>,
        lat: Vec<f64>,
        edges: &[(u32, u32, f32)],
        meta: serde_json::Value,
    ) -> Network {
        let n = lon.len();
        let mut deg = vec![0u32; n + 1];
        for &(a, b, _) in edges {
            deg[a as usize] += 1;
            deg[b as usize] += 1;
        }
        let mut offsets = vec![0u32; n + 1];
        for i in 0..n {
            offsets[i + 1] = offsets[i] + deg[i];
        }
        let m = offsets[n] as usize;
        let mut fill = offsets.clone();
        let mut targets = vec![0u32; m];
        let mut length_m = vec![0f32; m];
        for &(a, b, l) in edges {
            for (x, y) in [(a, b), (b, a)] {
                let k = fill[x as usize] as usize;
                targets[k] = y;
                length_m[k] = l;
                fill[x as usize] += 1;
            }
        }
        Self::from_csr(lon, lat, offsets, targets, length_m, meta)
    }

    fn from_csr(
        lon: Vec<f64>,
        lat: Vec<f64>,
        offsets: Vec<u32>,
        targets: Vec<u32>,
        length_m: Vec<f32>,
        meta: serde_json::Value,
    ) -> Network {
        let n = lon.len().max(1);
        let (mut lo0, mut la0) = (0.0, 0.0);
        for i in 0..lon.len() {
            lo0 += lon[i];
            la0 += lat[i];
        }
        let metric = LocalMetric::new(lo0 / n as f64, la0 / n as f64);
        let xy: Vec<[f64; 2]> = lon
            .iter()
            .zip(&lat)
            .map(|(&a, &b)| {
                let (x, y) = metric.fwd(a, b);
                [x, y]
            })
            .collect();
        // only nodes with at least one arc can be snapped to
        let pts = (0..lon.len())
            .filter(|&i| offsets[i + 1] > offsets[i])
            .map(|i| GeomWithData::new(xy[i], i as u32))
            .collect();
        let tree = RTree::bulk_load(pts);
        Network {
            lon,
            lat,
            offsets,
            targets,
            length_m,
            meta,
            metric,
            xy,
            tree,
        }
    }

    pub fn node_count(&self) -> usize {
        self.lon.len()
    }
    /// Directed arcs (twice the number of walkable segments).
    pub fn arc_count(&self) -> usize {
        self.targets.len()
    }
    /// Approximate heap bytes.
    pub fn heap_bytes(&self) -> usize {
        self.lon.len() * (8 + 8 + 16 + 4 + 40) + self.targets.len() * 8
    }

    /// Nearest node with at least one arc (None on an empty network).
    pub fn snap(&self, lon: f64, lat: f64) -> Option<Snap> {
        let (x, y) = self.metric.fwd(lon, lat);
        let nn = self.tree.nearest_neighbor(&[x, y])?;
        let node = nn.data;
        Some(Snap {
            node,
            snap_m: distance_m(
                (lon, lat),
                (self.lon[node as usize], self.lat[node as usize]),
            ),
        })
    }

    /// Multi-source Dijkstra bounded by `limit_m`: distance of every node (f32::INFINITY when
    /// not reached within the limit). Each source starts at its own initial distance.
    pub fn dijkstra(&self, sources: &[(u32, f64)], limit_m: f64) -> Vec<f32> {
        let mut dist = vec![f32::INFINITY; self.node_count()];
        self.dijkstra_into(sources, limit_m, &mut dist, &mut Vec::new());
        dist
    }

    /// Like [`Network::dijkstra`] but reuses buffers and records every settled node in
    /// `touched` (so that the caller can reset only those).
    pub fn dijkstra_into(
        &self,
        sources: &[(u32, f64)],
        limit_m: f64,
        dist: &mut [f32],
        touched: &mut Vec<u32>,
    ) {
        let limit = limit_m as f32;
        let mut heap: BinaryHeap<Reverse<(u32, u32)>> = BinaryHeap::new();
        for &(s, d0) in sources {
            let d0 = d0 as f32;
            if d0 <= limit && d0 < dist[s as usize] {
                if dist[s as usize].is_infinite() {
                    touched.push(s);
                }
                dist[s as usize] = d0;
                heap.push(Reverse((d0.to_bits(), s)));
            }
        }
        // non-negative f32 bit patterns order like the floats
        while let Some(Reverse((db, u))) = heap.pop() {
            let du = f32::from_bits(db);
            if du > dist[u as usize] {
                continue;
            }
            let (a, b) = (
                self.offsets[u as usize] as usize,
                self.offsets[u as usize + 1] as usize,
            );
            for k in a..b {
                let v = self.targets[k] as usize;
                let nd = du + self.length_m[k];
                if nd <= limit && nd < dist[v] {
                    if dist[v].is_infinite() {
                        touched.push(v as u32);
                    }
                    dist[v] = nd;
                    heap.push(Reverse((nd.to_bits(), v as u32)));
                }
            }
        }
    }

    /// The reachable network pieces (segments in lon/lat), including partial arcs cut at the
    /// limit, given node distances from [`Network::dijkstra`].
    pub fn reachable_segments(&self, dist: &[f32], limit_m: f64) -> Vec<[(f64, f64); 2]> {
        let mut out = Vec::new();
        let limit = limit_m as f32;
        for u in 0..self.node_count() {
            let du = dist[u];
            if !du.is_finite() {
                continue;
            }
            for k in self.offsets[u] as usize..self.offsets[u + 1] as usize {
                let v = self.targets[k] as usize;
                let len = self.length_m[k];
                let dv = dist[v];
                let a = (self.lon[u], self.lat[u]);
                let b = (self.lon[v], self.lat[v]);
                if dv.is_finite() && du + len <= limit + 0.01 {
                    // whole arc; emit once per undirected pair
                    if u < v || dv + len > limit + 0.01 {
                        out.push([a, b]);
                    }
                } else if len > 0.0 {
                    let f = ((limit - du) / len).clamp(0.0, 1.0) as f64;
                    if f > 0.0 {
                        out.push([a, (a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f)]);
                    }
                }
            }
        }
        out
    }

    /// Polygon around the reachable segments: every point within `buffer_m` of one of them
    /// (round caps and joins). Follows the network, not a circle.
    pub fn area_polygon(&self, segs: &[[(f64, f64); 2]], buffer_m: f64) -> MultiPolygon<f64> {
        if segs.is_empty() {
            return MultiPolygon(vec![]);
        }
        // the segments in metres, buffered with round caps and joins (geo's stroke outline,
        // one overlay pass): every point within `buffer_m` of a reachable segment
        use geo::Buffer;
        let lines = MultiLineString(
            segs.iter()
                .map(|s| {
                    let (x0, y0) = self.metric.fwd(s[0].0, s[0].1);
                    let (x1, y1) = self.metric.fwd(s[1].0, s[1].1);
                    LineString::from(vec![(x0, y0), (x1, y1)])
                })
                .collect(),
        );
        let u = lines.buffer(buffer_m);
        // back to lon/lat
        use geo::MapCoords;
        u.map_coords(|c| {
            let (lon, lat) = self.metric.inv(c.x, c.y);
            Coord { x: lon, y: lat }
        })
    }

    /// Segments as a MultiLineString.
    pub fn segments_mls(segs: &[[(f64, f64); 2]]) -> MultiLineString<f64> {
        MultiLineString(
            segs.iter()
                .map(|s| LineString::from(vec![s[0], s[1]]))
                .collect(),
        )
    }

    /// Writes the compact file.
    pub fn write(&self, path: &Path) -> Result<()> {
        use std::io::Write;
        if let Some(p) = path.parent() {
            if !p.as_os_str().is_empty() {
                std::fs::create_dir_all(p)?;
            }
        }
        let meta = serde_json::to_vec(&self.meta)?;
        let mut w = std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        );
        w.write_all(MAGIC)?;
        w.write_all(&(self.lon.len() as u64).to_le_bytes())?;
        w.write_all(&(self.targets.len() as u64).to_le_bytes())?;
        w.write_all(&(meta.len() as u64).to_le_bytes())?;
        w.write_all(&meta)?;
        for v in &self.lon {
            w.write_all(&v.to_le_bytes())?;
        }
        for v in &self.lat {
            w.write_all(&v.to_le_bytes())?;
        }
        for v in &self.offsets {
            w.write_all(&v.to_le_bytes())?;
        }
        for v in &self.targets {
            w.write_all(&v.to_le_bytes())?;
        }
        for v in &self.length_m {
            w.write_all(&v.to_le_bytes())?;
        }
        w.flush()?;
        Ok(())
    }

    /// Reads the compact file (in one go) and checks its consistency.
    pub fn read(path: &Path) -> Result<Network> {
        let buf = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        Self::from_bytes(&buf)
            .with_context(|| format!("{} is not a diming network file", path.display()))
    }

    pub fn from_bytes(buf: &[u8]) -> Result<Network> {
        if buf.len() < 32 || &buf[..8] != MAGIC {
            bail!("bad magic (expected DMNET001)");
        }
        let u64at = |o: usize| u64::from_le_bytes(buf[o..o + 8].try_into().unwrap()) as usize;
        let (n, m, ml) = (u64at(8), u64at(16), u64at(24));
        let need = 32usize
            .checked_add(ml)
            .and_then(|x| x.checked_add(n.checked_mul(16)?))
            .and_then(|x| x.checked_add((n + 1).checked_mul(4)?))
            .and_then(|x| x.checked_add(m.checked_mul(8)?));
        if need != Some(buf.len()) {
            bail!(
                "file size {} does not match header (n={n}, m={m})",
                buf.len()
            );
        }
        let meta: serde_json::Value = serde_json::from_slice(&buf[32..32 + ml])?;
        let mut o = 32 + ml;
        let f64s = |k: usize, o: &mut usize| -> Vec<f64> {
            let v = buf[*o..*o + 8 * k]
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                .collect();
            *o += 8 * k;
            v
        };
        let lon = f64s(n, &mut o);
        let lat = f64s(n, &mut o);
        let u32s = |k: usize, o: &mut usize| -> Vec<u32> {
            let v = buf[*o..*o + 4 * k]
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
                .collect();
            *o += 4 * k;
            v
        };
        let offsets = u32s(n + 1, &mut o);
        let targets = u32s(m, &mut o);
        let length_m: Vec<f32> = buf[o..o + 4 * m]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        if offsets[0] != 0 || offsets[n] as usize != m || offsets.windows(2).any(|w| w[0] > w[1]) {
            bail!("offsets are not monotone");
        }
        if targets.iter().any(|&t| t as usize >= n) {
            bail!("arc target out of range");
        }
        if length_m.iter().any(|l| !l.is_finite() || *l < 0.0) {
            bail!("negative or non-finite arc length");
        }
        Ok(Self::from_csr(lon, lat, offsets, targets, length_m, meta))
    }
}

/// A seeded synthetic city network for benchmarks: a jittered grid of `side × side` nodes
/// `spacing_m` apart, with a few links removed (blocks) and diagonals (alleys) added.
pub fn synthetic_grid(side: usize, spacing_m: f64, seed: u64) -> Network {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let metric = LocalMetric::new(121.47, 31.23);
    let half = side as f64 * spacing_m / 2.0;
    let mut lon = Vec::with_capacity(side * side);
    let mut lat = Vec::with_capacity(side * side);
    for i in 0..side {
        for j in 0..side {
            let x = j as f64 * spacing_m - half + rng.gen_range(-0.2..0.2) * spacing_m;
            let y = i as f64 * spacing_m - half + rng.gen_range(-0.2..0.2) * spacing_m;
            let (a, b) = metric.inv(x, y);
            lon.push(a);
            lat.push(b);
        }
    }
    let mut edges = Vec::with_capacity(side * side * 2);
    let id = |i: usize, j: usize| (i * side + j) as u32;
    for i in 0..side {
        for j in 0..side {
            let mut add = |a: u32, b: u32| {
                let l = distance_m(
                    (lon[a as usize], lat[a as usize]),
                    (lon[b as usize], lat[b as usize]),
                ) as f32;
                edges.push((a, b, l));
            };
            if j + 1 < side && rng.gen_bool(0.93) {
                add(id(i, j), id(i, j + 1));
            }
            if i + 1 < side && rng.gen_bool(0.93) {
                add(id(i, j), id(i + 1, j));
            }
            if i + 1 < side && j + 1 < side && rng.gen_bool(0.1) {
                add(id(i, j), id(i + 1, j + 1));
            }
        }
    }
    Network::from_edges(
        lon,
        lat,
        &edges,
        serde_json::json!({"source": "synthetic grid", "seed": seed, "synthetic": true}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, Contains, MapCoords, Point};

    /// The area polygon of an L-shaped path (two 200 m legs at a right angle) buffered by
    /// 12 m: every point within 12 m of the path, nothing farther.
    #[test]
    fn area_polygon_is_the_round_buffer_of_the_segments() {
        let m = crate::crs::LocalMetric::new(121.47, 31.23);
        let pts = [(-200.0, 0.0), (0.0, 0.0), (0.0, 200.0)];
        let (lon, lat): (Vec<f64>, Vec<f64>) = pts.iter().map(|&(x, y)| m.inv(x, y)).unzip();
        let net = Network::from_edges(
            lon.clone(),
            lat.clone(),
            &[(0, 1, 200.0), (1, 2, 200.0)],
            serde_json::json!({}),
        );
        let segs = [
            [(lon[0], lat[0]), (lon[1], lat[1])],
            [(lon[1], lat[1]), (lon[2], lat[2])],
        ];
        let r = 12.0;
        let poly = net.area_polygon(&segs, r);
        // in the network's own metres (centred elsewhere than `m`: shift to the corner)
        let (cx, cy) = net.metric.fwd(lon[1], lat[1]);
        let local = poly.map_coords(|c| {
            let (x, y) = net.metric.fwd(c.x, c.y);
            Coord {
                x: x - cx,
                y: y - cy,
            }
        });
        // union of two capsules minus their overlap at the corner (r² + 3πr²/4)
        let pi = std::f64::consts::PI;
        let want = 4.0 * r * 200.0 + 1.25 * pi * r * r - r * r;
        let got = local.unsigned_area();
        assert!((got - want).abs() / want < 0.005, "{got} vs {want}");
        for (x, y, inside) in [
            (-100.0, 11.0, true),
            (-100.0, 13.0, false),
            (11.0, 100.0, true),
            (-11.0, 150.0, true),
            // beyond the end of a leg: a round cap, not a square one
            (-208.0, 8.0, true),
            (-210.0, 10.0, false),
            // outside the corner: within 12 m of the corner point only on the round join
            (8.0, -8.0, true),
            (10.0, -10.0, false),
        ] {
            assert_eq!(
                local.contains(&Point::new(x, y)),
                inside,
                "({x}, {y}) inside: {inside}"
            );
        }
    }
}
