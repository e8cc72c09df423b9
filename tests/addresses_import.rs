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
