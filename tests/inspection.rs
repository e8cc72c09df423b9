//! Boundary-line joint inspection (界线联检) on the real county polygons of Zhejiang, with
//! injected gaps, overlaps, moved markers and a moved vertex run; the CLI files; HTTP jobs.
mod common;

use diming::crs::{area_m2, Crs};
use diming::inspection::{self as ins, Division, Input, Params};
use geo::{Contains, Coord, LineString, MultiPolygon, Point, Polygon};
use serde_json::{json, Value};
use std::path::Path;

fn zhejiang() -> Vec<Division> {
    let all = ins::load_divisions(
        &common::shared().join("boundaries/county_zj_sh_yc_wgs84.geojson"),
        "adcode",
        Crs::Wgs84,
    )
    .unwrap();
    all.into_iter()
        .filter(|d| d.code.starts_with("33"))
        .collect()
}

fn run(
    divs: Vec<Division>,
    previous: Option<Vec<Division>>,
    markers: Option<Vec<ins::markers::Marker>>,
) -> ins::Report {
    ins::inspect(
        &Input {
            name: "test".into(),
            divisions: divs,
            previous: previous.map(|p| ("previous".to_string(), p)),
            markers,
            crs: Crs::Wgs84,
            code_field: "adcode".into(),
            params: Params::default(),
        },
        &|_, _| {},
    )
    .unwrap()
}

/// (line id, a code, b code, v0, v1)
type SharedEdge = (String, String, String, Coord<f64>, Coord<f64>);

/// The longest single edge of a shared line.
fn longest_shared_edges(divs: &[Division], n: usize) -> Vec<SharedEdge> {
    let (lines, _) = ins::lines_of(divs);
    let mut edges = Vec::new();
    for l in lines.iter().filter(|l| !l.is_outer()) {
        for ls in &l.geometry.0 {
            for w in ls.0.windows(2) {
                let len = diming::crs::distance_m((w[0].x, w[0].y), (w[1].x, w[1].y));
                edges.push((
                    len,
                    l.id.clone(),
                    l.a.clone(),
                    l.b.clone().unwrap(),
                    w[0],
                    w[1],
                ));
            }
        }
    }
    edges.sort_by(|a, b| b.0.total_cmp(&a.0));
    // one edge per line
    let mut out: Vec<SharedEdge> = Vec::new();
    for e in edges {
        if out
            .iter()
            .all(|o| o.0 != e.1 && o.1 != e.2 && o.2 != e.3 && o.1 != e.3 && o.2 != e.2)
        {
            out.push((e.1, e.2, e.3, e.4, e.5));
        }
        if out.len() == n {
            break;
        }
    }
    out
}

/// Inserts `p` between the consecutive vertices v0, v1 of the division's rings.
fn insert_vertex(d: &mut Division, v0: Coord<f64>, v1: Coord<f64>, p: Coord<f64>) {
    for poly in d.poly.0.iter_mut() {
        let mut ext = poly.exterior().0.clone();
        if let Some(k) = ext
            .windows(2)
            .position(|w| (w[0] == v0 && w[1] == v1) || (w[0] == v1 && w[1] == v0))
        {
            ext.insert(k + 1, p);
            *poly = Polygon::new(LineString(ext), poly.interiors().to_vec());
            return;
        }
    }
    panic!("edge not found in {}", d.code);
}

/// The apex of an isosceles triangle on edge v0-v1, `h` metres to the side inside (or outside) `d`.
fn apex(d: &Division, v0: Coord<f64>, v1: Coord<f64>, h: f64, inside: bool) -> Coord<f64> {
    let m = diming::crs::LocalMetric::new(v0.x, v0.y);
    let (x0, y0) = m.fwd(v0.x, v0.y);
    let (x1, y1) = m.fwd(v1.x, v1.y);
    let (mx, my) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let l = ((x1 - x0).powi(2) + (y1 - y0).powi(2)).sqrt();
    let (nx, ny) = (-(y1 - y0) / l, (x1 - x0) / l);
    for s in [1.0, -1.0] {
        let (lon, lat) = m.inv(mx + s * nx * h, my + s * ny * h);
        if d.poly.contains(&Point::new(lon, lat)) == inside {
            return Coord { x: lon, y: lat };
        }
    }
    panic!("no side");
}

fn tri_area(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> f64 {
    area_m2(&MultiPolygon(vec![Polygon::new(
        LineString(vec![a, b, c, a]),
        vec![],
    )]))
}

#[test]
fn zhejiang_every_neighbour_pair_and_no_fault() {
    let r = run(zhejiang(), None, None);
    let s = &r.summary;
    assert_eq!(s.divisions, 90);
    // the real AMap polygons share exact vertices; 216 pairs share at least one edge
    assert_eq!(s.neighbour_pairs, 216, "pairs");
    assert!((210..=225).contains(&s.neighbour_pairs));
    assert_eq!(s.outer_lines, 42);
    assert_eq!(
        s.faults,
        0,
        "{:?}",
        r.faults.iter().map(|f| &f.message).collect::<Vec<_>>()
    );
    // 西湖区–上城区 is a neighbour pair with a line of several km
    let l = r
        .lines
        .iter()
        .find(|l| l.id == "330102-330106")
        .expect("330102-330106");
    assert_eq!(l.a_name, "上城区");
    assert!(
        l.length_m > 5_000.0 && l.length_m < 30_000.0,
        "{}",
        l.length_m
    );
    // shared lines sum the same from both sides: every shared edge is counted once
    assert!(
        s.shared_length_km > 5_000.0 && s.shared_length_km < 12_000.0,
        "{}",
        s.shared_length_km
    );
}

#[test]
fn injected_gap_and_overlap_found_with_pair_and_area() {
    let mut divs = zhejiang();
    let edges = longest_shared_edges(&divs, 2);
    let idx = |divs: &[Division], c: &str| divs.iter().position(|d| d.code == c).unwrap();
    // gap: cut a triangle out of side a along edge 0
    let (gap_line, ga, _gb, g0, g1) = edges[0].clone();
    let ia = idx(&divs, &ga);
    let len = diming::crs::distance_m((g0.x, g0.y), (g1.x, g1.y));
    let p = apex(&divs[ia], g0, g1, len * 0.05, true);
    insert_vertex(&mut divs[ia], g0, g1, p);
    let gap_area = tri_area(g0, p, g1);
    // overlap: push side a of edge 1 into its neighbour
    let (ov_line, oa, _ob, o0, o1) = edges[1].clone();
    let io = idx(&divs, &oa);
    let len = diming::crs::distance_m((o0.x, o0.y), (o1.x, o1.y));
    let q = apex(&divs[io], o0, o1, len * 0.05, false);
    insert_vertex(&mut divs[io], o0, o1, q);
    let ov_area = tri_area(o0, q, o1);
    assert!(
        gap_area > 1000.0 && ov_area > 1000.0,
        "{gap_area} {ov_area}"
    );

    let r = run(divs, None, None);
    let gaps: Vec<_> = r.faults.iter().filter(|f| f.kind == "gap").collect();
    let ovs: Vec<_> = r.faults.iter().filter(|f| f.kind == "overlap").collect();
    assert_eq!(
        gaps.len(),
        1,
        "{:?}",
        r.faults.iter().map(|f| &f.message).collect::<Vec<_>>()
    );
    assert_eq!(
        ovs.len(),
        1,
        "{:?}",
        r.faults.iter().map(|f| &f.message).collect::<Vec<_>>()
    );
    assert_eq!(gaps[0].line_id, gap_line);
    assert_eq!(ovs[0].line_id, ov_line);
    let ga = gaps[0].area_m2.unwrap();
    let oa = ovs[0].area_m2.unwrap();
    assert!(
        (ga - gap_area).abs() / gap_area < 0.01,
        "gap {ga} vs injected {gap_area}"
    );
    assert!(
        (oa - ov_area).abs() / ov_area < 0.01,
        "overlap {oa} vs injected {ov_area}"
    );
    assert_eq!(r.faults.len(), 2, "only the injected faults");
    let l = r.lines.iter().find(|l| l.id == gap_line).unwrap();
    assert_eq!(l.faults, 1);
}

#[test]
fn markers_on_off_and_on_the_wrong_line() {
    let divs = zhejiang();
    let edges = longest_shared_edges(&divs, 2);
    let (l0, _, _, a0, a1) = edges[0].clone();
    let (l1, _, _, b0, b1) = edges[1].clone();
    let mid = |a: Coord<f64>, b: Coord<f64>| ((a.x + b.x) / 2.0, (a.y + b.y) / 2.0);
    let (mx, my) = mid(a0, a1);
    // 1: on its line (given in GCJ-02), 2: 50 m off its line, 3: sits on line l1 but declared l0
    let (gx, gy) = Crs::Gcj02.from_wgs84(mx, my);
    let m = diming::crs::LocalMetric::new(mx, my);
    let (x, y) = m.fwd(mx, my);
    let (ox, oy) = m.inv(x + 50.0 * (a1.y - a0.y).signum(), y);
    let off = diming::inspection::topology::seg_point_m(&m, a0, a1, Coord { x: ox, y: oy });
    let (wx, wy) = mid(b0, b1);
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("markers.csv");
    std::fs::write(
        &csv,
        format!(
            "number,type,line_id,lon,lat,crs\nJ1,双立,{l0},{gx},{gy},gcj02\nJ2,单立,{l0},{ox},{oy},wgs84\nJ3,单立,{l0},{wx},{wy},wgs84\n"
        ),
    )
    .unwrap();
    let ms = ins::markers::read_markers(&csv, Crs::Wgs84).unwrap();
    let r = run(divs, None, Some(ms));
    let res = r.markers.as_ref().unwrap();
    assert_eq!(res[0].status, "ok", "{:?}", res[0]);
    assert!(res[0].distance_m.unwrap() < 0.05, "{:?}", res[0]);
    assert_eq!(res[1].status, "out_of_tolerance");
    assert!(
        (res[1].distance_m.unwrap() - off).abs() < 0.5 && off > 20.0,
        "{:?} {off}",
        res[1]
    );
    assert_eq!(res[2].status, "wrong_line");
    assert_eq!(res[2].nearest_line.as_deref(), Some(l1.as_str()));
    let s = &r.summary;
    assert_eq!(s.markers_out_of_tolerance, Some(1));
    assert_eq!(s.markers_on_wrong_line, Some(1));
    assert_eq!(s.lines_without_marker, Some(215));
    // bad marker file: the error names file and row
    std::fs::write(&csv, "number,type,line_id,lon,lat\nJ1,x,a-b,abc,30\n").unwrap();
    let e = ins::markers::read_markers(&csv, Crs::Wgs84)
        .unwrap_err()
        .to_string();
    assert!(e.contains("markers.csv row 2") && e.contains("lon"), "{e}");
}

/// Moves interior vertices 1..=3 of the longest part of `line_id` by (dx, dy) degrees in both sides.
fn move_run(divs: &mut [Division], line_id: &str, dx: f64) {
    let (lines, _) = ins::lines_of(divs);
    let l = lines.iter().find(|l| l.id == line_id).unwrap();
    let part = l.geometry.0.iter().max_by_key(|p| p.0.len()).unwrap();
    assert!(part.0.len() >= 6);
    let moved: Vec<Coord<f64>> = part.0[1..4].to_vec();
    let mut n = 0;
    for d in divs
        .iter_mut()
        .filter(|d| d.code == l.a || Some(&d.code) == l.b.as_ref())
    {
        for poly in d.poly.0.iter_mut() {
            let mut ext = poly.exterior().0.clone();
            for c in ext.iter_mut() {
                if moved.contains(c) {
                    c.x += dx;
                    n += 1;
                }
            }
            *poly = Polygon::new(LineString(ext), poly.interiors().to_vec());
        }
    }
    assert_eq!(n, 6, "three vertices moved on both sides");
}

#[test]
fn comparison_reports_exactly_the_moved_line() {
    let old = zhejiang();
    let mut new = old.clone();
    move_run(&mut new, "330102-330106", 0.0002);
    let r = run(new, Some(old), None);
    let changed: Vec<_> = r
        .lines
        .iter()
        .filter(|l| l.change.as_ref().unwrap().changed)
        .collect();
    assert_eq!(
        changed.len(),
        1,
        "{:?}",
        changed.iter().map(|l| &l.id).collect::<Vec<_>>()
    );
    assert_eq!(changed[0].id, "330102-330106");
    let c = changed[0].change.as_ref().unwrap();
    assert!(
        c.hausdorff_m.unwrap() > 1.0 && c.hausdorff_m.unwrap() < 25.0,
        "{c:?}"
    );
    assert!(c.gained_by_a_m2 + c.gained_by_b_m2 > 100.0, "{c:?}");
    assert_eq!(r.summary.changed_lines, Some(1));
    let segs = r.changed_segments.as_ref().unwrap();
    assert!(segs.iter().all(|s| s.line_id == "330102-330106"));
    assert!(segs.iter().any(|s| s.round == "new") && segs.iter().any(|s| s.round == "old"));
}

fn write_fc(path: &Path, divs: &[Division]) {
    let feats: Vec<Value> = divs
        .iter()
        .map(|d| {
            json!({"type": "Feature", "properties": {"adcode": d.code, "name": d.name},
               "geometry": geojson::Geometry::from(&geo::Geometry::MultiPolygon(d.poly.clone()))})
        })
        .collect();
    std::fs::write(
        path,
        json!({"type": "FeatureCollection", "features": feats}).to_string(),
    )
    .unwrap();
}

#[test]
fn cli_writes_the_report_files_and_names_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let old = zhejiang();
    let mut new = old.clone();
    move_run(&mut new, "330102-330106", 0.0002);
    let (pi, pp) = (
        dir.path().join("new.geojson"),
        dir.path().join("old.geojson"),
    );
    write_fc(&pi, &new);
    write_fc(&pp, &old);
    let out = dir.path().join("out");
    let (ok, stdout, stderr) = common::run_cli(
        &[
            "inspect",
            "--input",
            pi.to_str().unwrap(),
            "--previous",
            pp.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert!(ok, "{stderr}");
    assert!(stdout.contains("216 neighbour pairs"), "{stdout}");
    assert!(stderr.contains("gaps and overlaps"), "progress: {stderr}");
    for f in [
        "report.json",
        "faults.geojson",
        "report.csv",
        "report.html",
        "lines.geojson",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    let rep: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(rep["summary"]["neighbour_pairs"], 216);
    assert_eq!(rep["summary"]["changed_lines"], 1);
    assert_eq!(rep["params"]["sliver_width_m"], 1.0);
    let csv = std::fs::read_to_string(out.join("report.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 216 + 42);
    assert!(csv
        .lines()
        .any(|l| l.starts_with("330102-330106,") && l.contains(",moved,")));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("330102-330106"));
    // self-contained: no external scripts, styles or images
    assert!(!html.contains(" src=") && !html.contains("<link") && !html.contains("href="));
    let fg: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("faults.geojson")).unwrap())
            .unwrap();
    assert!(fg["features"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["properties"]["feature"] == "changed_segment"));

    // bad input: feature 1 is a LineString
    let bad = dir.path().join("bad.geojson");
    std::fs::write(&bad, r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"adcode":"330102"},"geometry":{"type":"Polygon","coordinates":[[[120,30],[120.1,30],[120.1,30.1],[120,30]]]}},
        {"type":"Feature","properties":{"adcode":"330106"},"geometry":{"type":"LineString","coordinates":[[120,30],[121,31]]}}]}"#).unwrap();
    let (ok, _, stderr) = common::run_cli(
        &[
            "inspect",
            "--input",
            bad.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert!(!ok);
    assert!(
        stderr.contains("bad.geojson feature 1") && stderr.contains("LineString"),
        "{stderr}"
    );
    let (ok, _, stderr) = common::run_cli(
        &[
            "inspect",
            "--input",
            bad.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--code-field",
            "gb",
        ],
        &[],
    );
    assert!(!ok);
    assert!(
        stderr.contains("bad.geojson feature 0") && stderr.contains("'gb'"),
        "{stderr}"
    );
}

#[test]
fn http_inspection_job() {
    let hz: Vec<Division> = zhejiang()
        .into_iter()
        .filter(|d| d.code.starts_with("3301"))
        .collect();
    let want = run(hz.clone(), None, None).summary.neighbour_pairs;
    assert!(want > 20, "{want}");
    let mut moved = hz.clone();
    move_run(&mut moved, "330102-330106", 0.0002);
    let fc = |divs: &[Division]| {
        let feats: Vec<Value> = divs
            .iter()
            .map(|d| {
                json!({"type": "Feature", "properties": {"adcode": d.code, "name": d.name},
            "geometry": geojson::Geometry::from(&geo::Geometry::MultiPolygon(d.poly.clone()))})
            })
            .collect();
        json!({"type": "FeatureCollection", "features": feats})
    };
    let s = common::spawn_server(&[]);
    let c = reqwest::blocking::Client::new();
    let r = c
        .post(format!("{}/v1/inspections", s.base))
        .json(&json!({"polygons": fc(&moved), "previous": fc(&hz), "tolerances": {"marker_tolerance_m": 10.0},
                      "markers": [{"number": "J1", "line_id": "330102-330106", "lon": 0.0, "lat": 0.0}]}))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let v: Value = r.json().unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["crs"], "wgs84");
    let mut st = Value::Null;
    for _ in 0..600 {
        st = c
            .get(format!("{}/v1/inspections/{id}", s.base))
            .send()
            .unwrap()
            .json()
            .unwrap();
        if st["status"] != "running" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(st["status"], "done", "{st}");
    assert_eq!(st["summary"]["neighbour_pairs"], want);
    assert_eq!(st["summary"]["changed_lines"], 1);
    assert_eq!(st["summary"]["markers_out_of_tolerance"], 1);
    assert!(st["storage"].as_str().unwrap().starts_with("memory"));
    for (f, ct) in [
        ("report.json", "json"),
        ("faults.geojson", "geo+json"),
        ("report.csv", "csv"),
        ("report.html", "html"),
    ] {
        let r = c
            .get(format!("{}/v1/inspections/{id}/{f}", s.base))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{f}");
        assert!(r.headers()["content-type"].to_str().unwrap().contains(ct));
    }
    // errors name the field
    for (body, field) in [
        (json!({}), "polygons"),
        (
            json!({"polygons": {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [1, 2]}}]}}),
            "polygons",
        ),
        (json!({"polygons": fc(&hz), "crs": "utm"}), "crs"),
        (
            json!({"polygons": fc(&hz), "tolerances": {"search_m": -1}}),
            "tolerances.search_m",
        ),
        (json!({"polygons": fc(&hz), "bogus": 1}), "bogus"),
    ] {
        let r = c
            .post(format!("{}/v1/inspections", s.base))
            .json(&body)
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 400);
        let v: Value = r.json().unwrap();
        assert_eq!(v["error"]["field"], field, "{v}");
    }
    let r = c
        .get(format!("{}/v1/inspections/not-a-uuid", s.base))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = c
        .get(format!(
            "{}/v1/inspections/{}",
            s.base,
            uuid::Uuid::new_v4()
        ))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}

#[test]
fn cli_stores_the_inspection_in_postgis() {
    let url = common::pg_url();
    let dir = tempfile::tempdir().unwrap();
    let hz: Vec<Division> = zhejiang()
        .into_iter()
        .filter(|d| d.code.starts_with("3301"))
        .collect();
    let want = run(hz.clone(), None, None);
    let input = dir.path().join("hz.geojson");
    write_fc(&input, &hz);
    let schema = format!("insp_test_{}", std::process::id());
    let (ok, _, stderr) = common::run_cli(
        &[
            "inspect",
            "--input",
            input.to_str().unwrap(),
            "--out",
            dir.path().join("o").to_str().unwrap(),
            "--database-url",
            &url,
        ],
        &[("DIMING_DB_SCHEMA", &schema)],
    );
    assert!(ok, "{stderr}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (lines, pairs): (i64, i64) = rt.block_on(async {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let r = sqlx::query_as(&format!(
            "SELECT count(*), count(b) FROM {schema}.inspection_lines WHERE ST_GeometryType(geom) = 'ST_MultiLineString'"
        ))
        .fetch_one(&pool)
        .await
        .unwrap();
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(&pool).await.unwrap();
        r
    });
    assert_eq!(pairs as usize, want.summary.neighbour_pairs);
    assert_eq!(lines as usize, want.lines.len());
}
