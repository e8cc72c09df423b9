//! Point-in-polygon index for division polygons.
//!
//! A uniform top grid over the layer, each boundary cell refined 4×4 until it holds few edges
//! (a quadtree-like "edge grid"). Every cell stores which polygons contain its centre; a query
//! point `p` in a leaf is inside polygon `P` iff `P` contains the leaf centre `c` XOR the segment
//! `p→c` crosses `P`'s edges in that leaf an odd number of times. Interior cells (no edges)
//! answer with no geometry at all. Centre memberships are derived at build time by walking
//! segments from a point known to be outside everything, with the same crossing predicate, so
//! query and build agree exactly.
//!
//! Crossing predicate: orientations are compared with "zero counts as positive", the
//! half-open rule that makes a vertex lying on the query segment count consistently for both
//! of its edges. Because every exterior ring is normalised counter-clockwise and every hole
//! clockwise, a point exactly on an edge shared by two neighbours is inside both, and the
//! query then returns the one with the smaller polygon id (ids follow code order): one
//! deterministic answer.
//!
//! Distance to the boundary of a hit polygon searches rings of top cells outward in a local
//! metric frame and finishes with a geodesic distance on the WGS84 ellipsoid.

use crate::crs::{distance_m, LocalMetric};
use geo::{BoundingRect, MultiPolygon, Orient};

const TAG_SHIFT: u32 = 30;
const TAG_MASK: u32 = (1 << TAG_SHIFT) - 1;
const TAG_EMPTY: u32 = 0;
const TAG_INSIDE: u32 = 1;
const TAG_LEAF: u32 = 2;
const TAG_SPLIT: u32 = 3;
const LEAF_MAX_EDGES: usize = 12;
const MAX_DEPTH: u32 = 5;
const SPLIT: usize = 4;

#[inline]
fn tag(code: u32) -> u32 {
    code >> TAG_SHIFT
}

#[derive(Debug, Clone, Copy)]
struct LeafEntry {
    poly: u32,
    center_inside: bool,
    edges_start: u32,
    edges_end: u32,
}

#[derive(Debug, Clone)]
struct Leaf {
    cx: f64,
    cy: f64,
    entries_start: u32,
    entries_end: u32,
}

#[derive(Debug, Clone)]
struct Split {
    x0: f64,
    y0: f64,
    cw: f64,
    ch: f64,
    children: [u32; SPLIT * SPLIT],
}

/// A reverse-geocoding hit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReverseHit {
    /// polygon id (index in the order given to [`PolygonIndex::build`])
    pub poly: u32,
}

/// A point-in-polygon index over a set of (multi)polygons.
pub struct PolygonIndex {
    // vertex store: rings stored one after another, each closed (first == last)
    xs: Vec<f64>,
    ys: Vec<f64>,
    // edge i = (v[i], v[i+1]); edge_poly[i] = polygon of edge i (u32::MAX for ring ends)
    edge_poly: Vec<u32>,
    npolys: usize,
    // top grid
    x0: f64,
    y0: f64,
    cs: f64,
    nx: usize,
    ny: usize,
    cells: Vec<u32>,
    // CSR of all edges overlapping each top cell (for distance search)
    top_edge_off: Vec<u32>,
    top_edges: Vec<u32>,
    leaves: Vec<Leaf>,
    entries: Vec<LeafEntry>,
    leaf_edges: Vec<u32>,
    splits: Vec<Split>,
    multis: Vec<Vec<u32>>,
    bbox: Vec<[f64; 4]>,
}

#[inline]
fn orient(ax: f64, ay: f64, bx: f64, by: f64, qx: f64, qy: f64) -> bool {
    (bx - ax) * (qy - ay) - (by - ay) * (qx - ax) >= 0.0
}

/// Does segment p→c cross edge a→b (half-open rule, see module doc)?
#[inline]
#[allow(clippy::too_many_arguments)]
fn crosses(px: f64, py: f64, cx: f64, cy: f64, ax: f64, ay: f64, bx: f64, by: f64) -> bool {
    if orient(ax, ay, bx, by, px, py) == orient(ax, ay, bx, by, cx, cy) {
        return false;
    }
    orient(px, py, cx, cy, ax, ay) != orient(px, py, cx, cy, bx, by)
}

struct Builder<'a> {
    idx: &'a mut PolygonIndex,
}

impl PolygonIndex {
    /// Builds the index. Polygon ids are positions in `polys`; give them in code order so that
    /// the tie-break on shared edges is stable.
    pub fn build(polys: &[&MultiPolygon<f64>]) -> PolygonIndex {
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        let mut edge_poly = Vec::new();
        let mut bbox = Vec::with_capacity(polys.len());
        for (pid, mp) in polys.iter().enumerate() {
            let oriented = (*mp).orient(geo::orient::Direction::Default);
            let r = mp.bounding_rect();
            bbox.push(match r {
                Some(r) => [r.min().x, r.min().y, r.max().x, r.max().y],
                None => [f64::NAN; 4],
            });
            for poly in oriented.0.iter() {
                for ring in std::iter::once(poly.exterior()).chain(poly.interiors().iter()) {
                    let pts = &ring.0;
                    if pts.len() < 4 {
                        continue;
                    }
                    for (k, p) in pts.iter().enumerate() {
                        xs.push(p.x);
                        ys.push(p.y);
                        edge_poly.push(if k + 1 < pts.len() {
                            pid as u32
                        } else {
                            u32::MAX
                        });
                    }
                    if pts.first() != pts.last() {
                        // close the ring
                        let last = edge_poly.len() - 1;
                        edge_poly[last] = pid as u32;
                        xs.push(pts[0].x);
                        ys.push(pts[0].y);
                        edge_poly.push(u32::MAX);
                    }
                }
            }
        }
        let nedges = edge_poly.iter().filter(|&&p| p != u32::MAX).count();
        let (mut minx, mut miny, mut maxx, mut maxy) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for i in 0..xs.len() {
            minx = minx.min(xs[i]);
            maxx = maxx.max(xs[i]);
            miny = miny.min(ys[i]);
            maxy = maxy.max(ys[i]);
        }
        if xs.is_empty() {
            (minx, miny, maxx, maxy) = (0.0, 0.0, 1.0, 1.0);
        }
        let w = (maxx - minx).max(1e-6);
        let h = (maxy - miny).max(1e-6);
        // about one top cell per 2 edges, at most 4M cells
        let target = (nedges / 2).clamp(64, 4_000_000) as f64;
        let mut cs = (w * h / target).sqrt();
        // margin of one cell so that the first cell of each row is outside everything; an odd
        // offset keeps cell centres off round coordinates
        let x0 = minx - cs * 1.000_123_457;
        let y0 = miny - cs * 1.000_234_567;
        let nx = ((maxx - x0) / cs).floor() as usize + 2;
        let ny = ((maxy - y0) / cs).floor() as usize + 2;
        cs = cs.max(1e-9);
        let mut idx = PolygonIndex {
            xs,
            ys,
            edge_poly,
            npolys: polys.len(),
            x0,
            y0,
            cs,
            nx,
            ny,
            cells: vec![0; nx * ny],
            top_edge_off: Vec::new(),
            top_edges: Vec::new(),
            leaves: Vec::new(),
            entries: Vec::new(),
            leaf_edges: Vec::new(),
            splits: Vec::new(),
            multis: Vec::new(),
            bbox,
        };
        Builder { idx: &mut idx }.run();
        idx
    }

    pub fn len(&self) -> usize {
        self.npolys
    }
    pub fn is_empty(&self) -> bool {
        self.npolys == 0
    }
    pub fn vertex_count(&self) -> usize {
        self.xs.len()
    }

    /// Approximate heap memory of the index in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.xs.capacity() * 8
            + self.ys.capacity() * 8
            + self.edge_poly.capacity() * 4
            + self.cells.capacity() * 4
            + self.top_edge_off.capacity() * 4
            + self.top_edges.capacity() * 4
            + self.leaves.capacity() * std::mem::size_of::<Leaf>()
            + self.entries.capacity() * std::mem::size_of::<LeafEntry>()
            + self.leaf_edges.capacity() * 4
            + self.splits.capacity() * std::mem::size_of::<Split>()
            + self
                .multis
                .iter()
                .map(|m| m.capacity() * 4 + 24)
                .sum::<usize>()
            + self.bbox.capacity() * 32
    }

    fn cell_hit(&self, i: usize, j: usize, ax: f64, ay: f64, bx: f64, by: f64) -> bool {
        let x0 = self.x0 + i as f64 * self.cs;
        let y0 = self.y0 + j as f64 * self.cs;
        seg_box(ax, ay, bx, by, x0, y0, x0 + self.cs, y0 + self.cs)
    }

    #[inline]
    fn edge(&self, e: u32) -> (f64, f64, f64, f64) {
        let e = e as usize;
        (self.xs[e], self.ys[e], self.xs[e + 1], self.ys[e + 1])
    }

    /// The polygon containing the point, the lowest id if several do (shared edges, overlaps).
    #[inline]
    pub fn locate(&self, x: f64, y: f64) -> Option<u32> {
        let mut out = None;
        self.locate_each(x, y, |p| {
            if out.is_none_or(|o| p < o) {
                out = Some(p);
            }
        });
        out
    }

    /// All polygons containing the point (more than one only for overlapping data or points
    /// exactly on a shared edge).
    pub fn locate_all(&self, x: f64, y: f64) -> Vec<u32> {
        let mut v = Vec::new();
        self.locate_each(x, y, |p| v.push(p));
        v.sort_unstable();
        v.dedup();
        v
    }

    #[inline]
    fn locate_each(&self, x: f64, y: f64, mut f: impl FnMut(u32)) {
        if !(x.is_finite() && y.is_finite()) {
            return;
        }
        let fx = (x - self.x0) / self.cs;
        let fy = (y - self.y0) / self.cs;
        if fx < 0.0 || fy < 0.0 || fx >= self.nx as f64 || fy >= self.ny as f64 {
            return;
        }
        let mut code = self.cells[fy as usize * self.nx + fx as usize];
        loop {
            match tag(code) {
                TAG_EMPTY => return,
                TAG_INSIDE => {
                    f(code & TAG_MASK);
                    return;
                }
                TAG_LEAF => {
                    let leaf = &self.leaves[(code & TAG_MASK) as usize];
                    for en in &self.entries[leaf.entries_start as usize..leaf.entries_end as usize]
                    {
                        let mut inside = en.center_inside;
                        for &e in &self.leaf_edges[en.edges_start as usize..en.edges_end as usize] {
                            let (ax, ay, bx, by) = self.edge(e);
                            if crosses(x, y, leaf.cx, leaf.cy, ax, ay, bx, by) {
                                inside = !inside;
                            }
                        }
                        if inside {
                            f(en.poly);
                        }
                    }
                    return;
                }
                _ => {
                    let s = &self.splits[(code & TAG_MASK) as usize];
                    let i = (((x - s.x0) / s.cw) as usize).min(SPLIT - 1);
                    let j = (((y - s.y0) / s.ch) as usize).min(SPLIT - 1);
                    code = s.children[j * SPLIT + i];
                }
            }
        }
    }

    /// Distance in metres from a point to the nearest boundary (any ring) of polygon `poly`,
    /// with the nearest boundary point (lon, lat).
    pub fn boundary_distance(&self, poly: u32, x: f64, y: f64) -> Option<(f64, (f64, f64))> {
        let lm = LocalMetric::new(x, y);
        let cell_m = (self.cs * lm.kx).min(self.cs * lm.ky);
        let ci = ((x - self.x0) / self.cs).floor() as i64;
        let cj = ((y - self.y0) / self.cs).floor() as i64;
        let mut best = f64::MAX;
        let mut best_pt = (x, y);
        let maxk = self.nx.max(self.ny) as i64;
        let mut k = 0i64;
        // restrict the search to the polygon's bounding box (in cells)
        let bb = self.bbox.get(poly as usize)?;
        let (bi0, bj0) = (
            ((bb[0] - self.x0) / self.cs).floor() as i64,
            ((bb[1] - self.y0) / self.cs).floor() as i64,
        );
        let (bi1, bj1) = (
            ((bb[2] - self.x0) / self.cs).floor() as i64,
            ((bb[3] - self.y0) / self.cs).floor() as i64,
        );
        while k <= maxk {
            let mut visit = |i: i64, j: i64| {
                if i < bi0
                    || j < bj0
                    || i > bi1
                    || j > bj1
                    || i < 0
                    || j < 0
                    || i >= self.nx as i64
                    || j >= self.ny as i64
                {
                    return;
                }
                let c = j as usize * self.nx + i as usize;
                for &e in &self.top_edges
                    [self.top_edge_off[c] as usize..self.top_edge_off[c + 1] as usize]
                {
                    if self.edge_poly[e as usize] != poly {
                        continue;
                    }
                    let (ax, ay, bx, by) = self.edge(e);
                    let (ax, ay) = lm.fwd(ax, ay);
                    let (bx, by) = lm.fwd(bx, by);
                    let (dx, dy) = (bx - ax, by - ay);
                    let l2 = dx * dx + dy * dy;
                    let t = if l2 > 0.0 {
                        ((-ax) * dx + (-ay) * dy) / l2
                    } else {
                        0.0
                    }
                    .clamp(0.0, 1.0);
                    let (qx, qy) = (ax + t * dx, ay + t * dy);
                    let d = qx * qx + qy * qy;
                    if d < best {
                        best = d;
                        best_pt = lm.inv(qx, qy);
                    }
                }
            };
            if k == 0 {
                visit(ci, cj);
            } else {
                for i in (ci - k)..=(ci + k) {
                    visit(i, cj - k);
                    visit(i, cj + k);
                }
                for j in (cj - k + 1)..=(cj + k - 1) {
                    visit(ci - k, j);
                    visit(ci + k, j);
                }
            }
            if best < f64::MAX && best.sqrt() <= k as f64 * cell_m {
                break;
            }
            // past the polygon's bbox in every direction: nothing more to find
            if ci - k < bi0 && cj - k < bj0 && ci + k > bi1 && cj + k > bj1 {
                break;
            }
            k += 1;
        }
        if best == f64::MAX {
            return None;
        }
        Some((distance_m((x, y), best_pt), best_pt))
    }
}

impl Builder<'_> {
    fn run(&mut self) {
        let idx = &mut *self.idx;
        let (nx, ny) = (idx.nx, idx.ny);
        // 1. edges → top cells (bbox overlap), as CSR
        let mut counts = vec![0u32; nx * ny + 1];
        let ncoords = idx.xs.len();
        let cell_range = |idx: &PolygonIndex, e: usize| {
            let (ax, ay, bx, by) = (idx.xs[e], idx.ys[e], idx.xs[e + 1], idx.ys[e + 1]);
            let i0 = ((ax.min(bx) - idx.x0) / idx.cs).floor().max(0.0) as usize;
            let i1 = (((ax.max(bx) - idx.x0) / idx.cs).floor() as usize).min(idx.nx - 1);
            let j0 = ((ay.min(by) - idx.y0) / idx.cs).floor().max(0.0) as usize;
            let j1 = (((ay.max(by) - idx.y0) / idx.cs).floor() as usize).min(idx.ny - 1);
            (i0, i1, j0, j1)
        };
        for e in 0..ncoords.saturating_sub(1) {
            if idx.edge_poly[e] == u32::MAX {
                continue;
            }
            let (i0, i1, j0, j1) = cell_range(idx, e);
            let (ax, ay, bx, by) = idx.edge(e as u32);
            for j in j0..=j1 {
                for i in i0..=i1 {
                    if (i0 == i1 && j0 == j1) || idx.cell_hit(i, j, ax, ay, bx, by) {
                        counts[j * nx + i + 1] += 1;
                    }
                }
            }
        }
        for c in 1..counts.len() {
            counts[c] += counts[c - 1];
        }
        let mut fill = counts.clone();
        let mut top_edges = vec![0u32; *counts.last().unwrap() as usize];
        for e in 0..ncoords.saturating_sub(1) {
            if idx.edge_poly[e] == u32::MAX {
                continue;
            }
            let (i0, i1, j0, j1) = cell_range(idx, e);
            let (ax, ay, bx, by) = idx.edge(e as u32);
            for j in j0..=j1 {
                for i in i0..=i1 {
                    if (i0 == i1 && j0 == j1) || idx.cell_hit(i, j, ax, ay, bx, by) {
                        let c = j * nx + i;
                        top_edges[fill[c] as usize] = e as u32;
                        fill[c] += 1;
                    }
                }
            }
        }
        idx.top_edge_off = counts;
        idx.top_edges = top_edges;

        // 2. walk each row from the outside-everything first cell, toggling memberships
        let mut scratch = Vec::new();
        for j in 0..ny {
            let cy = idx.y0 + (j as f64 + 0.5) * idx.cs;
            let mut member: Vec<u32> = Vec::new();
            for i in 0..nx {
                let c = j * nx + i;
                let cx = idx.x0 + (i as f64 + 0.5) * idx.cs;
                if i > 0 {
                    // previous centre → border → this centre
                    let mx = idx.x0 + i as f64 * idx.cs;
                    let pc = c - 1;
                    let pcx = cx - idx.cs;
                    for k in idx.top_edge_off[pc]..idx.top_edge_off[pc + 1] {
                        let e = idx.top_edges[k as usize];
                        let (ax, ay, bx, by) = idx.edge(e);
                        if crosses(pcx, cy, mx, cy, ax, ay, bx, by) {
                            toggle(&mut member, idx.edge_poly[e as usize]);
                        }
                    }
                    for k in idx.top_edge_off[c]..idx.top_edge_off[c + 1] {
                        let e = idx.top_edges[k as usize];
                        let (ax, ay, bx, by) = idx.edge(e);
                        if crosses(mx, cy, cx, cy, ax, ay, bx, by) {
                            toggle(&mut member, idx.edge_poly[e as usize]);
                        }
                    }
                }
                let (s, t) = (
                    idx.top_edge_off[c] as usize,
                    idx.top_edge_off[c + 1] as usize,
                );
                scratch.clear();
                scratch.extend_from_slice(&idx.top_edges[s..t]);
                let x0 = idx.x0 + i as f64 * idx.cs;
                let y0 = idx.y0 + j as f64 * idx.cs;
                idx.cells[c] =
                    build_node(idx, x0, y0, idx.cs, idx.cs, cx, cy, &member, &scratch, 0);
            }
        }
    }
}

/// Does the closed segment a→b touch the closed box [x0,x1]×[y0,y1]? (Liang–Barsky clip,
/// with a relative epsilon so that touching counts: extra edges are harmless, missing ones
/// are not.)
#[allow(clippy::too_many_arguments)]
fn seg_box(ax: f64, ay: f64, bx: f64, by: f64, x0: f64, y0: f64, x1: f64, y1: f64) -> bool {
    let eps = (x1 - x0).abs().max((y1 - y0).abs()) * 1e-9;
    let (x0, y0, x1, y1) = (x0 - eps, y0 - eps, x1 + eps, y1 + eps);
    if ax.max(bx) < x0 || ax.min(bx) > x1 || ay.max(by) < y0 || ay.min(by) > y1 {
        return false;
    }
    let (dx, dy) = (bx - ax, by - ay);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [(-dx, ax - x0), (dx, x1 - ax), (-dy, ay - y0), (dy, y1 - ay)] {
        if p == 0.0 {
            if q < 0.0 {
                return false;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
            if t0 > t1 {
                return false;
            }
        }
    }
    true
}

fn toggle(set: &mut Vec<u32>, p: u32) {
    match set.binary_search(&p) {
        Ok(k) => {
            set.remove(k);
        }
        Err(k) => set.insert(k, p),
    }
}

fn membership_code(idx: &mut PolygonIndex, cx: f64, cy: f64, member: &[u32]) -> u32 {
    match member.len() {
        0 => TAG_EMPTY << TAG_SHIFT,
        1 => (TAG_INSIDE << TAG_SHIFT) | member[0],
        _ => {
            // overlapping polygons: a leaf without edges
            let es = idx.entries.len() as u32;
            for &p in member {
                idx.entries.push(LeafEntry {
                    poly: p,
                    center_inside: true,
                    edges_start: 0,
                    edges_end: 0,
                });
            }
            let li = idx.leaves.len() as u32;
            idx.leaves.push(Leaf {
                cx,
                cy,
                entries_start: es,
                entries_end: idx.entries.len() as u32,
            });
            idx.multis.push(member.to_vec());
            (TAG_LEAF << TAG_SHIFT) | li
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn build_node(
    idx: &mut PolygonIndex,
    x0: f64,
    y0: f64,
    w: f64,
    h: f64,
    cx: f64,
    cy: f64,
    member: &[u32],
    edges: &[u32],
    depth: u32,
) -> u32 {
    if edges.is_empty() {
        return membership_code(idx, cx, cy, member);
    }
    if edges.len() <= LEAF_MAX_EDGES || depth >= MAX_DEPTH {
        // leaf: one entry per polygon that has edges here or contains the centre
        let mut polys: Vec<u32> = edges.iter().map(|&e| idx.edge_poly[e as usize]).collect();
        polys.extend_from_slice(member);
        polys.sort_unstable();
        polys.dedup();
        let es = idx.entries.len() as u32;
        for p in polys {
            let s = idx.leaf_edges.len() as u32;
            for &e in edges {
                if idx.edge_poly[e as usize] == p {
                    idx.leaf_edges.push(e);
                }
            }
            idx.entries.push(LeafEntry {
                poly: p,
                center_inside: member.binary_search(&p).is_ok(),
                edges_start: s,
                edges_end: idx.leaf_edges.len() as u32,
            });
        }
        let li = idx.leaves.len() as u32;
        idx.leaves.push(Leaf {
            cx,
            cy,
            entries_start: es,
            entries_end: idx.entries.len() as u32,
        });
        return (TAG_LEAF << TAG_SHIFT) | li;
    }
    let (cw, ch) = (w / SPLIT as f64, h / SPLIT as f64);
    let si = idx.splits.len();
    idx.splits.push(Split {
        x0,
        y0,
        cw,
        ch,
        children: [0; SPLIT * SPLIT],
    });
    let mut sub = Vec::with_capacity(edges.len());
    for j in 0..SPLIT {
        for i in 0..SPLIT {
            let (sx0, sy0) = (x0 + i as f64 * cw, y0 + j as f64 * ch);
            let (scx, scy) = (sx0 + cw * 0.5, sy0 + ch * 0.5);
            let mut m = member.to_vec();
            for &e in edges {
                let (ax, ay, bx, by) = idx.edge(e);
                if crosses(cx, cy, scx, scy, ax, ay, bx, by) {
                    toggle(&mut m, idx.edge_poly[e as usize]);
                }
            }
            sub.clear();
            let (sx1, sy1) = (sx0 + cw, sy0 + ch);
            for &e in edges {
                let (ax, ay, bx, by) = idx.edge(e);
                if seg_box(ax, ay, bx, by, sx0, sy0, sx1, sy1) {
                    sub.push(e);
                }
            }
            let subv = std::mem::take(&mut sub);
            let code = build_node(idx, sx0, sy0, cw, ch, scx, scy, &m, &subv, depth + 1);
            sub = subv;
            idx.splits[si].children[j * SPLIT + i] = code;
        }
    }
    (TAG_SPLIT << TAG_SHIFT) | si as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Contains;
    use rand::{Rng, SeedableRng};

    fn square(x0: f64, y0: f64, s: f64) -> MultiPolygon<f64> {
        geo::MultiPolygon(vec![geo::Polygon::new(
            geo::LineString::from(vec![
                (x0, y0),
                (x0 + s, y0),
                (x0 + s, y0 + s),
                (x0, y0 + s),
                (x0, y0),
            ]),
            vec![],
        )])
    }

    #[test]
    fn two_squares_shared_edge_deterministic() {
        let a = square(0.0, 0.0, 1.0);
        let b = square(1.0, 0.0, 1.0);
        let idx = PolygonIndex::build(&[&a, &b]);
        assert_eq!(idx.locate(0.5, 0.5), Some(0));
        assert_eq!(idx.locate(1.5, 0.5), Some(1));
        assert_eq!(idx.locate(2.5, 0.5), None);
        // exactly on the shared edge: in both, lowest id answers, every time
        assert_eq!(idx.locate_all(1.0, 0.5), vec![0, 1]);
        assert_eq!(idx.locate(1.0, 0.5), Some(0));
        let (d, _) = idx.boundary_distance(0, 0.5, 0.5).unwrap();
        // 0.5° of latitude at the equator ≈ 55.3 km
        assert!((d - 55_287.0).abs() < 200.0, "{d}");
    }

    #[test]
    fn random_polygons_agree_with_geo_contains() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        // star-shaped polygons with holes, overlapping each other
        let mut polys = Vec::new();
        for k in 0..20 {
            let (cx, cy) = (rng.gen_range(0.0..10.0), rng.gen_range(0.0..10.0));
            let n = rng.gen_range(5..200);
            let mut ring: Vec<(f64, f64)> = (0..n)
                .map(|i| {
                    let a = i as f64 / n as f64 * std::f64::consts::TAU;
                    let r = rng.gen_range(0.5..3.0);
                    (cx + r * a.cos(), cy + r * a.sin())
                })
                .collect();
            ring.push(ring[0]);
            let hole = if k % 3 == 0 {
                vec![geo::LineString::from(vec![
                    (cx - 0.2, cy - 0.2),
                    (cx + 0.2, cy - 0.2),
                    (cx + 0.2, cy + 0.2),
                    (cx - 0.2, cy + 0.2),
                    (cx - 0.2, cy - 0.2),
                ])]
            } else {
                vec![]
            };
            polys.push(geo::MultiPolygon(vec![geo::Polygon::new(
                geo::LineString::from(ring),
                hole,
            )]));
        }
        let refs: Vec<&MultiPolygon<f64>> = polys.iter().collect();
        let idx = PolygonIndex::build(&refs);
        for _ in 0..20_000 {
            let (x, y) = (rng.gen_range(-3.0..13.0), rng.gen_range(-3.0..13.0));
            let want: Vec<u32> = (0..polys.len() as u32)
                .filter(|&i| polys[i as usize].contains(&geo::Point::new(x, y)))
                .collect();
            assert_eq!(idx.locate_all(x, y), want, "at {x},{y}");
        }
    }
}
