//! PostGIS import of standard addresses: a file with a bad row is rejected as a whole with a
//! report naming line and field; a good file imports in one transaction; re-importing it is
//! idempotent; GeoJSON in GCJ-02 is converted; a CSV in GB18030 is read with `--encoding`.
//! Needs DIMING_TEST_DATABASE_URL; each run uses its own schema.

mod common;

use sqlx::Connection;

const HEADER: &str =
    "code,division,road,number,compound,building,lon,lat,status,successor,aliases,synthetic\n";

#[test]
fn import_reject_idempotent_transaction() {
    let url = common::pg_url();
    let schema = format!("addr_test_{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        format!(
            "{HEADER},310101002,南京东路,1号,,,121.4800000,31.2350000,current,,,true\n\
             ,310101002,南京东路,3号,,,121.4801000,31.2351000,current,,,true\n\
             ,310101002,九江路,45弄6号,,,121.4810000,31.2340000,current,,,true\n"
        ),
    )
    .unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!(
            "{HEADER},310101002,南京东路,5号,,,121.48,31.235,current,,,true\n\
             ,999999999,南京东路,7号,,,121.48,31.235,current,,,true\n\
             ,310101002,南京东路,九号,,,121.48,31.235,current,,,true\n\
             ,310101002,南京东路,11号,,,121.48,north,current,,,true\n"
        ),
    )
    .unwrap();
    let args = |f: &std::path::Path| {
        vec![
            "import-addresses".to_string(),
            "--database-url".into(),
            url.clone(),
            "--schema".into(),
            schema.clone(),
            f.display().to_string(),
        ]
    };
    let run = |f: &std::path::Path| {
        let a = args(f);
        let a: Vec<&str> = a.iter().map(|s| s.as_str()).collect();
        common::run_cli(&a, &[])
    };
    let (ok, out, err) = run(&bad);
    assert!(!ok, "bad file must fail: {out}{err}");
    assert!(out.contains("line 3: division"), "{out}");
    assert!(out.contains("line 4: number"), "{out}");
    assert!(out.contains("line 5: lat"), "{out}");
    assert!(!out.contains("line 2:"), "{out}");

    let (ok, out, err) = run(&good);
    assert!(ok, "{out}{err}");
    assert!(out.contains("3 inserted, 0 updated"), "{out}");
    let (ok, out, _) = run(&good);
    assert!(ok);
    assert!(out.contains("0 inserted, 3 updated"), "{out}");

    // GeoJSON in GCJ-02: stored in WGS84/CGCS2000
    let gj = dir.path().join("a.geojson");
    let (gx, gy) = diming::crs::Crs::Gcj02.from_wgs84(121.482, 31.236);
    std::fs::write(
        &gj,
        serde_json::json!({"type": "FeatureCollection", "features": [{"type": "Feature",
            "geometry": {"type": "Point", "coordinates": [gx, gy]},
            "properties": {"division": "310101002", "road": "福州路", "number": "12-3号", "synthetic": "true"}}]})
        .to_string(),
    )
    .unwrap();
    let a = args(&gj);
    let mut a: Vec<&str> = a.iter().map(|s| s.as_str()).collect();
    a.extend(["--crs", "gcj02"]);
    let (ok, out, err) = common::run_cli(&a, &[]);
    assert!(ok, "{out}{err}");

    // a CSV in GB18030 (what Excel writes on Chinese Windows): read with --encoding; as
    // UTF-8 (the default) its row is rejected with its line, and nothing is imported
    let gb = dir.path().join("gb.csv");
    let text = format!("{HEADER},310101002,汉口路,8号,,,121.4830000,31.2360000,current,,,true\n");
    let (bytes, _, _) = encoding_rs::GB18030.encode(&text);
    std::fs::write(&gb, &bytes).unwrap();
    let (ok, out, err) = run(&gb);
    assert!(!ok, "GB18030 read as UTF-8 must fail: {out}{err}");
    assert!(
        out.contains("line 2: row") && out.contains("UTF-8"),
        "{out}"
    );
    let a = args(&gb);
    let mut a: Vec<&str> = a.iter().map(|s| s.as_str()).collect();
    a.extend(["--encoding", "gb18030"]);
    let (ok, out, err) = common::run_cli(&a, &[]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("1 inserted, 0 updated"), "{out}");

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        let n: (i64,) = sqlx::query_as(&format!("SELECT count(*) FROM {schema}.addresses"))
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(n.0, 5);
        let (number,): (String,) = sqlx::query_as(&format!(
            "SELECT number FROM {schema}.addresses WHERE road = '汉口路'"
        ))
        .fetch_one(&mut c)
        .await
        .unwrap();
        assert_eq!(number, "8号");
        let (x, y): (f64, f64) = sqlx::query_as(&format!(
            "SELECT ST_X(geom), ST_Y(geom) FROM {schema}.addresses WHERE road = '福州路'"
        ))
        .fetch_one(&mut c)
        .await
        .unwrap();
        assert!(
            (x - 121.482).abs() < 1e-5 && (y - 31.236).abs() < 1e-5,
            "{x} {y}"
        );
        sqlx::raw_sql(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&mut c)
            .await
            .unwrap();
    });
}

/// Road centre lines into PostGIS (`import-addresses --roads`): a file with bad features is
/// rejected as a whole, each named with its feature number and field; the shipped lines of
/// 黄浦区 import in one transaction (139 roads) and again idempotently; a road in GCJ-02 is
/// stored in WGS84; read back, the lines place the crossing of 河南中路 and 福州路 where the
/// embedded ones do.
#[test]
fn road_lines_import_reject_idempotent_and_read_back() {
    let url = common::pg_url();
    let schema = format!("roads_test_{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let run = |f: &std::path::Path, extra: &[&str]| {
        let f = f.display().to_string();
        let mut a = vec![
            "import-addresses",
            "--roads",
            "--database-url",
            &url,
            "--schema",
            &schema,
            &f,
        ];
        a.extend_from_slice(extra);
        common::run_cli(&a, &[])
    };
    let line = serde_json::json!({"type": "LineString", "coordinates": [[121.48, 31.23], [121.49, 31.23]]});
    let feature = |props: serde_json::Value, g: &serde_json::Value| serde_json::json!({"type": "Feature", "geometry": g, "properties": props});
    let bad = dir.path().join("bad.geojson");
    std::fs::write(
        &bad,
        serde_json::json!({"type": "FeatureCollection", "features": [
            feature(serde_json::json!({"name": "好路", "county": "310101"}), &line),
            feature(serde_json::json!({"name": "无县路", "county": "310199"}), &line),
            feature(serde_json::json!({"county": "310101"}), &line),
            feature(serde_json::json!({"name": "点路", "county": "310101"}),
                &serde_json::json!({"type": "Point", "coordinates": [121.48, 31.23]})),
        ]})
        .to_string(),
    )
    .unwrap();
    let (ok, out, err) = run(&bad, &[]);
    assert!(!ok, "bad file must fail: {out}{err}");
    assert!(
        out.contains("line 2: county: 310199 is not a county"),
        "{out}"
    );
    assert!(out.contains("line 3: name: missing"), "{out}");
    assert!(
        out.contains("line 4: geometry: expected a LineString"),
        "{out}"
    );
    assert!(!out.contains("line 1:"), "{out}");

    let shipped =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/addresses/huangpu_roads.fgb");
    let (ok, out, err) = run(&shipped, &[]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("139 inserted, 0 updated"), "{out}");
    let (ok, out, _) = run(&shipped, &[]);
    assert!(ok);
    assert!(out.contains("0 inserted, 139 updated"), "{out}");

    // GCJ-02: stored in WGS84
    let (g0, g1) = diming::crs::Crs::Gcj02.from_wgs84(121.50, 31.20);
    let (g2, g3) = diming::crs::Crs::Gcj02.from_wgs84(121.51, 31.20);
    let gj = dir.path().join("gcj.geojson");
    std::fs::write(
        &gj,
        serde_json::json!({"type": "FeatureCollection", "features": [feature(
            serde_json::json!({"name": "测试路", "county": "310101"}),
            &serde_json::json!({"type": "LineString", "coordinates": [[g0, g1], [g2, g3]]}))]})
        .to_string(),
    )
    .unwrap();
    let (ok, out, err) = run(&gj, &["--crs", "gcj02"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("1 inserted"), "{out}");

    let rt = tokio::runtime::Runtime::new().unwrap();
    let rows = rt
        .block_on(diming::addresses::import::load_roads_postgis(
            &url,
            Some(&schema),
        ))
        .unwrap()
        .unwrap();
    assert_eq!(rows.len(), 140);
    let test_road = rows.iter().find(|r| r.name == "测试路").unwrap();
    let p = test_road.lines.0[0].0[0];
    assert!(
        (p.x - 121.50).abs() < 1e-5 && (p.y - 31.20).abs() < 1e-5,
        "{p:?}"
    );
    let from_pg = diming::addresses::roads::RoadLines::build(rows);
    let feats = diming::store::features::read_features(&shipped).unwrap();
    let embedded = diming::addresses::roads::RoadLines::build(
        diming::addresses::roads::rows_from_features(feats, "fgb", "county", false).unwrap(),
    );
    let a = from_pg.crossings("310101", "河南中路", "福州路");
    let b = embedded.crossings("310101", "河南中路", "福州路");
    assert_eq!(a.len(), 1);
    assert!(diming::crs::distance_m(a[0], b[0]) < 0.01, "{a:?} {b:?}");
    assert!(diming::crs::distance_m(a[0], (121.48125, 31.23668)) < 15.0);
    rt.block_on(async {
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::raw_sql(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&mut c)
            .await
            .unwrap();
    });
}
