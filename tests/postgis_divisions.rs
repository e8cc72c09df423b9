//! PostGIS store: `diming import` of the embedded data into a real PostGIS, `serve
//! --database-url`, reverse geocoding compared with `ST_Covers`, and all-or-nothing imports.
//!
//! Needs `DIMING_TEST_DATABASE_URL` (see tests/common). Each test works in its own schema,
//! selected with `?options=-csearch_path%3D<schema>%2Cpublic` (created by the first connect,
//! dropped at the end), so the tests run in parallel against one database.
mod common;

use diming::store::postgis;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A unique schema for one test and the URL that selects it.
struct Schema {
    name: String,
    url: String,
}

impl Schema {
    fn new(tag: &str) -> Schema {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("t_{tag}_{}_{nanos}", std::process::id());
        let base = common::pg_url();
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-csearch_path%3D{name}%2Cpublic");
        Schema { name, url }
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let name = self.name.clone();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let _ = rt.block_on(async move {
            let pool = sqlx::PgPool::connect(&common::pg_url()).await?;
            sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                .execute(&pool)
                .await
        });
    }
}

fn import(url: &str, args: &[&str]) -> (bool, String, String) {
    let mut a = vec!["import", "--database-url", url];
    a.extend_from_slice(args);
    common::run_cli(&a, &[])
}

fn import_sample(url: &str) {
    let (ok, out, err) = import(url, &["--kind", "divisions", "data/divisions"]);
    assert!(ok, "import divisions failed: {out}\n{err}");
    assert!(out.contains("areas.csv: 2978 rows"), "{out}");
    let (ok, out, err) = import(
        url,
        &[
            "--kind",
            "boundaries",
            "--crs",
            "cgcs2000",
            "data/boundaries/county.fgb",
        ],
    );
    assert!(ok, "import boundaries failed: {out}\n{err}");
    assert!(out.contains("119 polygons"), "{out}");
}

/// A fingerprint of everything the import writes.
fn fingerprint(url: &str) -> (i64, i64, i64, String) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let pool = postgis::connect(url).await.unwrap();
        let row: (i64, i64, i64, String) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM divisions), \
                    (SELECT count(*) FROM divisions WHERE geom IS NOT NULL), \
                    (SELECT count(*) FROM division_changes), \
                    (SELECT coalesce(md5(string_agg(code || name || coalesce(md5(ST_AsBinary(geom)), ''), ',' ORDER BY code)), '') FROM divisions)",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        row
    })
}

#[test]
fn import_serve_and_answer_like_the_embedded_data() {
    let s = Schema::new("serve");
    import_sample(&s.url);
    let before = fingerprint(&s.url);
    assert_eq!(before.1, 119);
    assert!(before.0 > 70_000, "{before:?}");
    // re-import is idempotent
    import_sample(&s.url);
    assert_eq!(fingerprint(&s.url), before);

    // one standard address imported into the same schema: the server reads it from PostGIS
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("a.csv");
    std::fs::write(
        &csv,
        "code,division,road,number,compound,building,lon,lat,status,successor,aliases,synthetic\n\
         ,310101002,试验路,8号,,,121.4812345,31.2345678,current,,,true\n",
    )
    .unwrap();
    let (ok, out, err) = common::run_cli(
        &[
            "import-addresses",
            "--database-url",
            &s.url,
            "--schema",
            &s.name,
            csv.to_str().unwrap(),
        ],
        &[],
    );
    assert!(ok, "{out}{err}");

    // the walking network, stored in PostGIS with its own note, comes back as the same graph
    let osm = common::shared().join("osm/shanghai_huangpu_drive.osm");
    let bin = dir.path().join("net.bin");
    let note = "PostGIS test network (drive network of Huangpu)";
    let (ok, out, err) = common::run_cli(
        &[
            "import-network",
            "--input",
            osm.to_str().unwrap(),
            "--out",
            bin.to_str().unwrap(),
            "--note",
            note,
            "--database-url",
            &s.url,
            "--name",
            "huangpu_test",
        ],
        &[],
    );
    assert!(ok, "{out}{err}");
    let file = diming::network::Network::read(&bin).unwrap();
    let db = diming::network::pg::load(&s.url, "huangpu_test")
        .unwrap()
        .expect("network stored under its name");
    assert_eq!(db.node_count(), file.node_count());
    assert_eq!(
        (db.lon.clone(), db.lat.clone()),
        (file.lon.clone(), file.lat.clone())
    );
    let arcs = |n: &diming::network::Network| {
        let mut v: Vec<(u32, u32, u32)> = (0..n.node_count())
            .flat_map(|u| {
                (n.offsets[u]..n.offsets[u + 1]).map(move |k| {
                    (
                        u as u32,
                        n.targets[k as usize],
                        n.length_m[k as usize].to_bits(),
                    )
                })
            })
            .collect();
        v.sort_unstable();
        v
    };
    assert_eq!(arcs(&db), arcs(&file));
    assert!(file.arc_count() > 4000, "{}", file.arc_count());
    assert_eq!(db.meta["note"], note);
    assert!(diming::network::pg::load(&s.url, "no_such_network")
        .unwrap()
        .is_none());

    let srv = common::spawn_server(&["--database-url", &s.url, "--network-name", "huangpu_test"]);
    let line = format!(
        "network PostGIS 'huangpu_test': {} nodes, {} arcs",
        file.node_count(),
        file.arc_count()
    );
    assert!(
        srv.stderr_lines.iter().any(|l| l.contains(&line)),
        "{line}: {:?}",
        srv.stderr_lines
    );
    assert!(
        srv.stderr_lines.iter().any(|l| l.contains("from PostGIS")),
        "{:?}",
        srv.stderr_lines
    );
    assert!(
        srv.stderr_lines
            .iter()
            .any(|l| l.contains("addresses: 1 of 1 from PostGIS")),
        "{:?}",
        srv.stderr_lines
    );
    let c = reqwest::blocking::Client::new();
    let get = |path: &str| -> Value {
        c.get(format!("{}{}", srv.base, path))
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    // 西湖 → 西湖区, chain 浙江省 › 杭州市
    let v = get("/v1/reverse?lon=120.13&lat=30.26");
    assert_eq!(v["division"]["code"], "330106", "{v}");
    assert_eq!(v["division"]["name"], "西湖区");
    assert_eq!(v["chain"][0]["code"], "330000");
    assert_eq!(v["chain"][1]["name"], "杭州市");
    assert!(v["boundary_distance_m"].as_f64().unwrap() > 100.0);
    // 人民广场 in GCJ-02 → 黄浦区
    let v = get("/v1/reverse?lon=121.4753&lat=31.2317&crs=gcj02");
    assert_eq!(v["division"]["code"], "310101", "{v}");
    assert_eq!(v["crs"], "gcj02");
    // 宜昌 夷陵区 in BD-09
    let v = get("/v1/reverse?lon=111.335&lat=30.776&crs=bd09");
    assert_eq!(v["county"]["code"], "420506", "{v}");
    // the address from PostGIS geocodes to its stored point (not the embedded sample)
    let v = get("/v1/geocode?q=%E4%B8%8A%E6%B5%B7%E5%B8%82%E9%BB%84%E6%B5%A6%E5%8C%BA%E8%AF%95%E9%AA%8C%E8%B7%AF8%E5%8F%B7");
    assert_eq!(v["candidates"][0]["level"], "house_number", "{v}");
    assert!(
        (v["candidates"][0]["lon"].as_f64().unwrap() - 121.4812345).abs() < 1e-6,
        "{v}"
    );
    assert!(
        (v["candidates"][0]["lat"].as_f64().unwrap() - 31.2345678).abs() < 1e-6,
        "{v}"
    );
    // the sea east of Shanghai
    let v = get("/v1/reverse?lon=123.5&lat=31.0");
    assert_eq!(v["found"], false);
    // the change log came from PostGIS too: 江干区 → 上城区
    let v = get("/v1/divisions/330104");
    assert_eq!(v["status"], "retired", "{v}");
    assert_eq!(v["successor"]["code"], "330102");
    let v = get("/v1/divisions/330106");
    let area = v["area_km2"].as_f64().unwrap();
    assert!((250.0..450.0).contains(&area), "西湖区 area {area} km²");
    // an isochrone walks the PostGIS network (its note), with the same reach as the same
    // graph loaded from the embedded file
    let iso = "/v1/isochrone?lon=121.4753&lat=31.2317&minutes=10";
    let v = get(iso);
    assert_eq!(
        v["features"][0]["properties"]["network"]["note"], note,
        "{v}"
    );
    let embedded = common::spawn_server(&[]);
    let w: Value = c
        .get(format!("{}{}", embedded.base, iso))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_ne!(w["features"][0]["properties"]["network"]["note"], note);
    for f in 0..2 {
        for k in ["kind", "area_m2", "segments", "limit_m"] {
            assert_eq!(
                v["features"][f]["properties"][k], w["features"][f]["properties"][k],
                "feature {f} {k}"
            );
        }
    }
    assert!(
        v["features"][1]["properties"]["segments"].as_u64().unwrap() > 50,
        "{v}"
    );

    // a boundary inspection started over HTTP is stored in PostGIS: a restarted server (empty
    // job memory) still answers for it. Two squares sharing one edge: one neighbour pair.
    let square = |code: &str, x0: f64| {
        json!({"type": "Feature", "properties": {"adcode": code, "name": code},
               "geometry": {"type": "Polygon", "coordinates": [[[x0, 30.0], [x0 + 0.01, 30.0],
                 [x0 + 0.01, 30.01], [x0, 30.01], [x0, 30.0]]]}})
    };
    let body = json!({"polygons": {"type": "FeatureCollection",
        "features": [square("900001", 120.0), square("900002", 120.01)]}});
    let r = c
        .post(format!("{}/v1/inspections", srv.base))
        .json(&body)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let id = r.json::<Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut st = Value::Null;
    for _ in 0..600 {
        st = get(&format!("/v1/inspections/{id}"));
        if st["status"] != "running" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(st["status"], "done", "{st}");
    assert_eq!(st["storage"], "postgis", "{st}");
    assert_eq!(st["summary"]["neighbour_pairs"], 1, "{st}");
    drop(srv);
    let again = common::spawn_server(&["--database-url", &s.url, "--network-name", "huangpu_test"]);
    let v: Value = c
        .get(format!("{}/v1/inspections/{id}", again.base))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["storage"], "postgis", "{v}");
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(v["summary"], st["summary"], "{v}");
}

#[test]
fn reverse_equals_st_covers_on_10000_points() {
    let s = Schema::new("covers");
    import_sample(&s.url);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let pool = postgis::connect(&s.url).await.unwrap();
        let src = postgis::load_from_pool(&pool).await.unwrap();
        assert_eq!(src.polygons.len(), 119);
        // the bbox of the 119 counties
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        let mut vertices = Vec::new();
        let mut boxes = Vec::new();
        for (_, mp, _) in &src.polygons {
            boxes.push(geo::BoundingRect::bounding_rect(mp).unwrap());
            for p in &mp.0 {
                for c in &p.exterior().0 {
                    x0 = x0.min(c.x);
                    y0 = y0.min(c.y);
                    x1 = x1.max(c.x);
                    y1 = y1.max(c.y);
                    vertices.push((c.x, c.y));
                }
            }
        }
        let d = diming::divisions::Divisions::build(src).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20261124);
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        // 6,000 over the bbox of the whole sample, 6,000 in the bbox of a random county
        for _ in 0..6_000 {
            xs.push(rng.gen_range(x0..x1));
            ys.push(rng.gen_range(y0..y1));
        }
        for _ in 0..6_000 {
            let b = boxes[rng.gen_range(0..boxes.len())];
            xs.push(rng.gen_range(b.min().x..b.max().x));
            ys.push(rng.gen_range(b.min().y..b.max().y));
        }
        // plus 1,000 polygon vertices: exactly on boundaries, most of them shared by two counties
        let nrand = xs.len();
        for _ in 0..1_000 {
            let (x, y) = vertices[rng.gen_range(0..vertices.len())];
            xs.push(x);
            ys.push(y);
        }
        let want = postgis::covers_all(&pool, &xs, &ys).await.unwrap();
        let mut found = 0;
        let mut two = 0;
        let mut outer_none = 0;
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for i in 0..xs.len() {
            let got = d.reverse(xs[i], ys[i], false).map(|r| r.division.code);
            let w = &want[i];
            if i < nrand {
                // strictly random points: the same answer (the lowest code on a shared edge)
                assert_eq!(got.as_ref(), w.first(), "point {i} ({}, {})", xs[i], ys[i]);
            } else {
                // points exactly on a boundary vertex: where ST_Covers puts the point in two or
                // more counties (a shared edge), ours must be one of them; on the outer boundary
                // of the layer (coast, edge of the sample region) the half-open rule of the
                // index may answer "outside" where ST_Covers (closed) says covered
                match (&got, w.len()) {
                    (Some(g), _) => assert!(
                        w.contains(g),
                        "vertex {} {}: {g} not in {w:?}",
                        xs[i],
                        ys[i]
                    ),
                    (None, n) if n >= 2 => panic!(
                        "vertex ({}, {}) on a shared edge found nowhere, PostGIS says {w:?}",
                        xs[i], ys[i]
                    ),
                    (None, 1) => outer_none += 1,
                    (None, _) => {}
                }
            }
            if got.is_some() {
                found += 1;
            }
            if w.len() > 1 {
                two += 1;
            }
            if let Some(g) = w.first() {
                *counts.entry(g.as_str()).or_default() += 1;
            }
        }
        eprintln!(
            "{} points: {found} inside a county, {two} on a shared edge, {} counties hit, \
             {outer_none} outer-boundary vertices answered as outside",
            xs.len(),
            counts.len()
        );
        assert!(found > 6_000, "{found}");
        assert!(two > 100, "{two}");
        assert!(counts.len() > 100, "{}", counts.len());
    });
}

#[test]
fn bad_rows_reject_the_whole_import() {
    let s = Schema::new("bad");
    import_sample(&s.url);
    let before = fingerprint(&s.url);
    let dir = tempfile::tempdir().unwrap();

    // a GeoJSON copy of county.fgb with a broken code in feature 50
    let feats =
        diming::store::features::read_features(&common::root().join("data/boundaries/county.fgb"))
            .unwrap();
    type Edit<'a> = &'a dyn Fn(usize, &mut serde_json::Map<String, Value>, &mut Value);
    let write = |name: &str, f: Edit| {
        let mut out = Vec::new();
        for (i, ft) in feats.iter().enumerate() {
            let mut props: serde_json::Map<String, Value> = ft
                .props
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            let mut g = serde_json::to_value(geojson::Geometry::from(&ft.geometry)).unwrap();
            f(i, &mut props, &mut g);
            out.push(serde_json::json!({"type": "Feature", "properties": props, "geometry": g}));
        }
        let p = dir.path().join(name);
        std::fs::write(
            &p,
            serde_json::to_string(
                &serde_json::json!({"type": "FeatureCollection", "features": out}),
            )
            .unwrap(),
        )
        .unwrap();
        p.to_string_lossy().into_owned()
    };
    // the first 50 features are fine and would change the table (shifted by 0.01°)
    let shift = |g: &mut Value| {
        let mut gg: geo::Geometry<f64> = serde_json::from_value::<geojson::Geometry>(g.clone())
            .unwrap()
            .try_into()
            .unwrap();
        use geo::Translate;
        gg.translate_mut(0.01, 0.0);
        *g = serde_json::to_value(geojson::Geometry::from(&gg)).unwrap();
    };
    let cases: Vec<(String, &str)> = vec![
        (
            write("broken_code.geojson", &|i, p, g| {
                shift(g);
                if i == 50 {
                    p.insert("adcode".into(), Value::String("33O106".into()));
                }
            }),
            "feature 50",
        ),
        (
            write("unknown_code.geojson", &|i, p, g| {
                shift(g);
                if i == 70 {
                    p.insert("adcode".into(), Value::String("339999".into()));
                }
            }),
            "feature 70 (339999): unknown division code",
        ),
        (
            write("point.geojson", &|i, _, g| {
                shift(g);
                if i == 80 {
                    *g = serde_json::json!({"type": "Point", "coordinates": [120.0, 30.0]});
                }
            }),
            "feature 80",
        ),
        (
            write("bad_coord.geojson", &|i, _, g| {
                shift(g);
                if i == 90 {
                    g["coordinates"][0][0][0][1] = serde_json::json!(95.0);
                }
            }),
            "feature 90",
        ),
    ];
    for (path, want) in &cases {
        let (ok, out, err) = import(&s.url, &["--kind", "boundaries", path]);
        assert!(!ok, "{path}: import should fail: {out}");
        let file = std::path::Path::new(path)
            .file_name()
            .unwrap()
            .to_string_lossy();
        assert!(err.contains(&*file), "{err}");
        assert!(err.contains(want), "expected '{want}' in: {err}");
        assert_eq!(fingerprint(&s.url), before, "{path} changed the table");
    }
    // a bad row in the middle of a code list (after good files in the same import)
    let ddir = dir.path().join("lists");
    std::fs::create_dir(&ddir).unwrap();
    for f in ["provinces.csv", "cities.csv", "areas.csv", "streets.csv"] {
        let mut text =
            std::fs::read_to_string(common::root().join("data/divisions").join(f)).unwrap();
        if f == "streets.csv" {
            let mut lines: Vec<String> = text.lines().map(String::from).collect();
            lines[1000] = lines[1000].replacen(',', "x,", 1);
            text = lines.join("\n");
        } else {
            // renamed divisions that would show if anything were written
            text = text.replace("西湖区", "西湖区（改）");
        }
        std::fs::write(ddir.join(f), text).unwrap();
    }
    let (ok, out, err) = import(&s.url, &["--kind", "divisions", ddir.to_str().unwrap()]);
    assert!(!ok, "{out}");
    assert!(err.contains("streets.csv row 1001"), "{err}");
    assert!(err.contains("is not a 9-digit township code"), "{err}");
    assert_eq!(fingerprint(&s.url), before);
    // unknown kind and missing files: errors, non-zero exit
    let (ok, _, err) = import(&s.url, &["--kind", "roads", "data/divisions"]);
    assert!(!ok && err.contains("unknown import kind"), "{err}");
    let (ok, _, err) = import(&s.url, &["--kind", "divisions", "/nonexistent/dir"]);
    assert!(!ok && err.contains("/nonexistent/dir"), "{err}");
}
