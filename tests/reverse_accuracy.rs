//! Thousands of seeded random points over Zhejiang, Shanghai and Yichang, in WGS84 and in
//! GCJ-02, reverse-geocoded by the real server, must get the same county as an independent
//! point-in-polygon check (geo's `Contains`) on the shipped polygons — for GCJ-02 against the
//! original GCJ-02 polygons of the shared data, so the CRS conversion is checked too.
mod common;

use geo::{BoundingRect, Contains, Distance, Euclidean, MultiPolygon, Point};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

struct Layer {
    codes: Vec<String>,
    polys: Vec<MultiPolygon<f64>>,
    bboxes: Vec<geo::Rect<f64>>,
}

fn load(path: &std::path::Path) -> Layer {
    let feats = diming::store::features::read_features(path).unwrap();
    let mut l = Layer {
        codes: vec![],
        polys: vec![],
        bboxes: vec![],
    };
    for f in feats {
        l.codes.push(f.prop("adcode").unwrap());
        let mp = diming::store::features::to_multipolygon(f.geometry).unwrap();
        l.bboxes.push(mp.bounding_rect().unwrap());
        l.polys.push(mp);
    }
    l
}

impl Layer {
    /// counties containing the point, and whether it lies within `eps` degrees of a boundary
    fn check(&self, x: f64, y: f64, eps: f64) -> (Vec<String>, bool) {
        let p = Point::new(x, y);
        let mut hits = vec![];
        let mut near = false;
        for i in 0..self.polys.len() {
            let b = self.bboxes[i];
            if x < b.min().x - eps
                || x > b.max().x + eps
                || y < b.min().y - eps
                || y > b.max().y + eps
            {
                continue;
            }
            if self.polys[i].contains(&p) {
                hits.push(self.codes[i].clone());
            }
            for poly in &self.polys[i].0 {
                for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                    if Euclidean.distance(&p, ring) < eps {
                        near = true;
                    }
                }
            }
        }
        (hits, near)
    }
}

fn region_points(rng: &mut impl Rng, n: usize, bbox: [f64; 4]) -> Vec<[f64; 2]> {
    (0..n)
        .map(|_| {
            [
                rng.gen_range(bbox[0]..bbox[2]),
                rng.gen_range(bbox[1]..bbox[3]),
            ]
        })
        .collect()
}

#[test]
fn random_points_match_independent_point_in_polygon() {
    let wgs = load(&common::root().join("data/boundaries/county.fgb"));
    let gcj = load(&common::shared().join("boundaries/county_zj_sh_yc_gcj02.geojson"));
    assert_eq!(wgs.codes.len(), 119);
    let s = common::spawn_server(&[]);
    let client = reqwest::blocking::Client::new();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    // Zhejiang, Shanghai, Yichang (with margins, so some points fall outside every county)
    let regions = [
        ("zhejiang", [118.0, 27.0, 123.2, 31.2]),
        ("shanghai", [120.85, 30.65, 122.2, 31.9]),
        ("yichang", [110.2, 29.9, 112.1, 31.6]),
    ];
    let mut checked = 0;
    let mut inside = 0;
    let mut skipped_near_edge = 0;
    for (name, bbox) in regions {
        for (crs, layer) in [("wgs84", &wgs), ("gcj02", &gcj)] {
            let pts = region_points(&mut rng, 2000, bbox);
            let r = client
                .post(format!("{}/v1/reverse/batch", s.base))
                .json(&json!({"crs": crs, "points": pts}))
                .send()
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
            let v: Value = r.json().unwrap();
            let results = v["results"].as_array().unwrap();
            assert_eq!(results.len(), pts.len());
            for (p, res) in pts.iter().zip(results) {
                // 1e-6° ≈ 0.1 m: closer than that, converting the point instead of the polygon may
                // legitimately flip the answer
                let (want, near) = layer.check(p[0], p[1], 1e-6);
                if near {
                    skipped_near_edge += 1;
                    continue;
                }
                checked += 1;
                let got = res["division"]["code"].as_str().map(String::from);
                match want.as_slice() {
                    [] => assert_eq!(
                        got, None,
                        "{name} {crs} {p:?}: expected outside, got {got:?}"
                    ),
                    [one] => {
                        inside += 1;
                        assert_eq!(got.as_deref(), Some(one.as_str()), "{name} {crs} {p:?}")
                    }
                    many => panic!("{name} {crs} {p:?}: reference polygons overlap: {many:?}"),
                }
            }
        }
    }
    assert!(
        checked >= 11_900,
        "checked {checked}, skipped {skipped_near_edge}"
    );
    assert!(inside > 6_000, "only {inside} points fell inside a county");
    eprintln!("checked {checked} points ({inside} inside a county), skipped {skipped_near_edge} within 0.1 m of an edge");
}

#[test]
fn boundary_distance_is_metric_and_consistent() {
    // in-process: the distance to the boundary of the hit polygon must equal the minimum
    // geodesic distance to its rings computed independently (densely sampled points only)
    let src = diming::store::load_embedded(&common::root().join("data")).unwrap();
    let d = diming::divisions::Divisions::build(src).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let mut n = 0;
    while n < 200 {
        let (x, y) = (rng.gen_range(120.0..122.0), rng.gen_range(30.0..31.5));
        let Some(r) = d.reverse(x, y, true) else {
            continue;
        };
        let g = &d.geoms[&r.div];
        // brute force, independent of the index's local frame: sample every boundary segment
        // every ≤ 10 m and take the smallest geodesic distance (segments pre-filtered with a
        // cheap equirectangular bound)
        let k = (y.to_radians()).cos();
        let approx =
            |a: geo::Coord<f64>| (((a.x - x) * k).powi(2) + (a.y - y).powi(2)).sqrt() * 111_195.0;
        let seg_lb = |s: &geo::Line<f64>| {
            // lower bound of the equirectangular distance to a segment (in metres, ±1%)
            let (ax, ay, bx, by) = (
                (s.start.x - x) * k,
                s.start.y - y,
                (s.end.x - x) * k,
                s.end.y - y,
            );
            let (dx, dy) = (bx - ax, by - ay);
            let l2 = dx * dx + dy * dy;
            let t = if l2 > 0.0 {
                (-(ax * dx + ay * dy) / l2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            ((ax + t * dx).powi(2) + (ay + t * dy).powi(2)).sqrt() * 111_195.0
        };
        let mut segs: Vec<geo::Line<f64>> = vec![];
        for poly in &g.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                segs.extend(ring.lines());
            }
        }
        let cheap_best = segs
            .iter()
            .map(|s| approx(s.start))
            .fold(f64::MAX, f64::min);
        let lbs: Vec<f64> = segs.iter().map(seg_lb).collect();
        let lb_min = lbs.iter().cloned().fold(f64::MAX, f64::min);
        let mut best = f64::MAX;
        for (s, lb) in segs.iter().zip(&lbs) {
            if *lb > lb_min * 1.02 + 50.0 || *lb > cheap_best {
                continue;
            }
            let len = diming::crs::distance_m((s.start.x, s.start.y), (s.end.x, s.end.y));
            let n = (len / 10.0).ceil().max(1.0) as usize;
            for i in 0..=n {
                let t = i as f64 / n as f64;
                let q = (
                    s.start.x + t * (s.end.x - s.start.x),
                    s.start.y + t * (s.end.y - s.start.y),
                );
                best = best.min(diming::crs::distance_m((x, y), q));
            }
        }
        let got = r.boundary_distance_m.unwrap();
        // planar closest point in degrees vs metric closest point differ slightly
        assert!(
            (got - best).abs() <= 0.01 * best + 1.0,
            "{x},{y}: {got} vs {best}"
        );
        n += 1;
    }
}

#[test]
fn points_on_shared_edges_get_one_deterministic_answer() {
    // find real vertices and edge midpoints shared by two neighbouring counties
    let src = diming::store::load_embedded(&common::root().join("data")).unwrap();
    let d = diming::divisions::Divisions::build(src).unwrap();
    let layer = &d.layers[0];
    let mut seen: std::collections::HashMap<(i64, i64, i64, i64), u32> = Default::default();
    let mut shared = vec![];
    for (pid, &div) in layer.div_of_poly.iter().enumerate() {
        for poly in &d.geoms[&div].0 {
            for seg in poly.exterior().lines() {
                let q = |v: f64| (v * 1e7).round() as i64;
                let (a, b) = (
                    (q(seg.start.x), q(seg.start.y)),
                    (q(seg.end.x), q(seg.end.y)),
                );
                let key = if a < b {
                    (a.0, a.1, b.0, b.1)
                } else {
                    (b.0, b.1, a.0, a.1)
                };
                if let Some(&other) = seen.get(&key) {
                    if other != pid as u32 && shared.len() < 500 {
                        shared.push((other, pid as u32, seg));
                    }
                } else {
                    seen.insert(key, pid as u32);
                }
            }
        }
    }
    assert!(
        shared.len() >= 500,
        "found only {} shared edges",
        shared.len()
    );
    let mut on_both = 0;
    for (p1, p2, seg) in shared {
        let lo = p1.min(p2);
        for (x, y) in [
            (seg.start.x, seg.start.y),
            (
                (seg.start.x + seg.end.x) / 2.0,
                (seg.start.y + seg.end.y) / 2.0,
            ),
        ] {
            let all = layer.index.locate_all(x, y);
            assert!(
                all.contains(&p1) || all.contains(&p2),
                "{x},{y}: {all:?} not in ({p1},{p2})"
            );
            let a = layer.index.locate(x, y).unwrap();
            assert_eq!(a, *all.iter().min().unwrap());
            assert_eq!(layer.index.locate(x, y), Some(a), "deterministic");
            if (x, y) == (seg.start.x, seg.start.y) && all.contains(&p1) && all.contains(&p2) {
                // exactly on the shared boundary: in both; the lowest id of all answers
                assert!(a <= lo);
                on_both += 1;
            }
        }
    }
    // shared vertices lie in both neighbours under the half-open rule (CCW rings)
    assert!(
        on_both > 400,
        "only {on_both} of 500 shared vertices were in both neighbours"
    );
}
