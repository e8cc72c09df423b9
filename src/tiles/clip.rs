//! Projection of lon/lat geometry into one tile: clipping to the buffered tile, per-zoom
//! simplification (Douglas-Peucker in tile units), rounding and ring orientation per MVT 2.1
//! (exterior rings have positive area in tile coordinates, y down; holes negative).

use super::math::{TileId, BUFFER, EXTENT};
use geo::{Coord, LineString, MultiPolygon, Simplify};

type Pt = (f64, f64);

fn lo() -> f64 {
    -BUFFER
}
fn hi() -> f64 {
    EXTENT as f64 + BUFFER
}

/// Sutherland-Hodgman clipping of a closed ring (open form) against the buffered tile.
fn clip_ring(ring: &[Pt]) -> Vec<Pt> {
    let mut pts: Vec<Pt> = ring.to_vec();
    // edges: x >= lo, x <= hi, y >= lo, y <= hi
    for edge in 0..4 {
        if pts.is_empty() {
            break;
        }
        let inside = |p: &Pt| match edge {
            0 => p.0 >= lo(),
            1 => p.0 <= hi(),
            2 => p.1 >= lo(),
            _ => p.1 <= hi(),
        };
        let cross = |a: &Pt, b: &Pt| -> Pt {
            let (bound, on_x) = match edge {
                0 => (lo(), true),
                1 => (hi(), true),
                2 => (lo(), false),
                _ => (hi(), false),
            };
            if on_x {
                let t = (bound - a.0) / (b.0 - a.0);
                (bound, a.1 + t * (b.1 - a.1))
            } else {
                let t = (bound - a.1) / (b.1 - a.1);
                (a.0 + t * (b.0 - a.0), bound)
            }
        };
        let mut out = Vec::with_capacity(pts.len() + 4);
        for i in 0..pts.len() {
            let cur = pts[i];
            let prev = pts[(i + pts.len() - 1) % pts.len()];
            match (inside(&prev), inside(&cur)) {
                (true, true) => out.push(cur),
                (true, false) => out.push(cross(&prev, &cur)),
                (false, true) => {
                    out.push(cross(&prev, &cur));
                    out.push(cur);
                }
                (false, false) => {}
            }
        }
        pts = out;
    }
    pts
}

/// Liang-Barsky clipping of a polyline; returns the inside pieces.
fn clip_line(line: &[Pt]) -> Vec<Vec<Pt>> {
    let mut parts: Vec<Vec<Pt>> = Vec::new();
    let mut cur: Vec<Pt> = Vec::new();
    for w in line.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        let mut ok = true;
        for (p, q) in [
            (-dx, a.0 - lo()),
            (dx, hi() - a.0),
            (-dy, a.1 - lo()),
            (dy, hi() - a.1),
        ] {
            if p == 0.0 {
                if q < 0.0 {
                    ok = false;
                    break;
                }
            } else {
                let r = q / p;
                if p < 0.0 {
                    t0 = t0.max(r);
                } else {
                    t1 = t1.min(r);
                }
            }
        }
        if !ok || t0 > t1 {
            if cur.len() >= 2 {
                parts.push(std::mem::take(&mut cur));
            }
            cur.clear();
            continue;
        }
        let p0 = (a.0 + t0 * dx, a.1 + t0 * dy);
        let p1 = (a.0 + t1 * dx, a.1 + t1 * dy);
        if cur.is_empty() || t0 > 0.0 {
            if cur.len() >= 2 {
                parts.push(std::mem::take(&mut cur));
            }
            cur.clear();
            cur.push(p0);
        }
        cur.push(p1);
        if t1 < 1.0 {
            parts.push(std::mem::take(&mut cur));
        }
    }
    if cur.len() >= 2 {
        parts.push(cur);
    }
    parts
}

fn simplify(pts: &[Pt], tol: f64, closed: bool) -> Vec<Pt> {
    if tol <= 0.0 || pts.len() < 4 {
        return pts.to_vec();
    }
    let mut cs: Vec<Coord<f64>> = pts.iter().map(|&(x, y)| Coord { x, y }).collect();
    if closed {
        cs.push(cs[0]);
    }
    let s = LineString(cs).simplify(tol);
    let mut out: Vec<Pt> = s.0.into_iter().map(|c| (c.x, c.y)).collect();
    if closed {
        out.pop();
    }
    out
}

fn round_dedup(pts: &[Pt], closed: bool) -> Vec<(i32, i32)> {
    let mut out: Vec<(i32, i32)> = Vec::with_capacity(pts.len());
    for &(x, y) in pts {
        let p = (x.round() as i32, y.round() as i32);
        if out.last() != Some(&p) {
            out.push(p);
        }
    }
    if closed {
        while out.len() > 1 && out.first() == out.last() {
            out.pop();
        }
    }
    out
}

/// Twice the signed area of an open ring in tile coordinates (positive: MVT exterior).
pub fn signed_area2(r: &[(i32, i32)]) -> i64 {
    let mut s = 0i64;
    for i in 0..r.len() {
        let (x1, y1) = r[i];
        let (x2, y2) = r[(i + 1) % r.len()];
        s += x1 as i64 * y2 as i64 - x2 as i64 * y1 as i64;
    }
    s
}

fn project_ring(t: &TileId, ls: &LineString<f64>) -> Vec<Pt> {
    let mut v: Vec<Pt> = ls.0.iter().map(|c| t.project(c.x, c.y)).collect();
    if v.len() > 1 && v.first() == v.last() {
        v.pop();
    }
    v
}

/// Polygons → oriented, clipped, simplified rings (exterior, then its holes).
pub fn polygons(t: &TileId, mp: &MultiPolygon<f64>, tol: f64) -> Vec<Vec<(i32, i32)>> {
    let mut out = Vec::new();
    for poly in &mp.0 {
        let ring = |ls: &LineString<f64>| -> Option<Vec<(i32, i32)>> {
            let clipped = clip_ring(&project_ring(t, ls));
            let r = round_dedup(&simplify(&clipped, tol, true), true);
            (r.len() >= 3 && signed_area2(&r) != 0).then_some(r)
        };
        let Some(mut ext) = ring(poly.exterior()) else {
            continue;
        };
        if signed_area2(&ext) < 0 {
            ext.reverse();
        }
        out.push(ext);
        for h in poly.interiors() {
            if let Some(mut h) = ring(h) {
                if signed_area2(&h) > 0 {
                    h.reverse();
                }
                out.push(h);
            }
        }
    }
    out
}

/// Lines (e.g. polygon outlines) → clipped, simplified polylines.
pub fn lines(t: &TileId, ls: &[&LineString<f64>], tol: f64) -> Vec<Vec<(i32, i32)>> {
    let mut out = Vec::new();
    for l in ls {
        let pts: Vec<Pt> = l.0.iter().map(|c| t.project(c.x, c.y)).collect();
        for part in clip_line(&pts) {
            let r = round_dedup(&simplify(&part, tol, false), false);
            if r.len() >= 2 {
                out.push(r);
            }
        }
    }
    out
}

/// A point in the tile (not the buffer: a point belongs to exactly one tile).
pub fn point(t: &TileId, lon: f64, lat: f64) -> Option<(i32, i32)> {
    let (x, y) = t.project(lon, lat);
    let e = EXTENT as f64;
    ((0.0..e).contains(&x) && (0.0..e).contains(&y)).then(|| (x.floor() as i32, y.floor() as i32))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn clipping_keeps_inside_and_orients() {
        // a square ring bigger than the tile, counter-clockwise in tile coords
        let sq = vec![
            (-1000.0, -1000.0),
            (-1000.0, 5000.0),
            (5000.0, 5000.0),
            (5000.0, -1000.0),
        ];
        let c = round_dedup(&clip_ring(&sq), true);
        assert_eq!(c.len(), 4);
        assert!(c
            .iter()
            .all(|&(x, y)| (-64..=4160).contains(&x) && (-64..=4160).contains(&y)));
        let parts = clip_line(&[
            (-100.0, 10.0),
            (100.0, 10.0),
            (5000.0, 10.0),
            (5000.0, 20.0),
        ]);
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0][0], (-64.0, 10.0));
        assert_eq!(parts[0].last().unwrap(), &(4160.0, 10.0));
    }
}
