//! The foundation over real HTTP: reverse geocoding, divisions, transform, errors.
mod common;

use serde_json::Value;

#[test]
fn reverse_divisions_transform_and_errors() {
    let s = common::spawn_server(&[]);
    let c = reqwest::blocking::Client::new();
    let get = |path: &str| -> (u16, Value) {
        let r = c.get(format!("{}{}", s.base, path)).send().unwrap();
        let st = r.status().as_u16();
        (st, r.json().unwrap_or(Value::Null))
    };
    // 西湖 (West Lake) in WGS84 → 西湖区 330106
    let (st, v) = get("/v1/reverse?lon=120.13&lat=30.26");
    assert_eq!(st, 200);
    assert_eq!(v["division"]["code"], "330106");
    assert_eq!(v["chain"][0]["code"], "330000");
    assert_eq!(v["chain"][1]["code"], "330100");
    assert!(v["boundary_distance_m"].as_f64().unwrap() > 100.0);
    // 人民广场 in GCJ-02 → 黄浦区
    let (_, v) = get("/v1/reverse?lon=121.4753&lat=31.2317&crs=gcj02");
    assert_eq!(v["division"]["code"], "310101");
    assert_eq!(v["crs"], "gcj02");
    // the city of a municipality is the municipality (as /v1/parse says); the chain keeps the
    // code lists' placeholder
    assert_eq!(v["city"]["code"], "310000", "{v}");
    assert_eq!(v["city"]["name"], "上海市", "{v}");
    assert_eq!(v["chain"][1]["code"], "310100", "{v}");
    // 宜昌 夷陵区 in BD-09 → 420506
    let (_, v) = get("/v1/reverse?lon=111.335&lat=30.776&crs=bd09");
    assert_eq!(v["county"]["code"], "420506", "{v}");
    // the sea east of Shanghai
    let (st, v) = get("/v1/reverse?lon=123.5&lat=31.0");
    assert_eq!(st, 200);
    assert_eq!(v["found"], false);

    // errors name the field
    for (q, field, code) in [
        ("/v1/reverse?lon=abc&lat=30", "lon", 400),
        ("/v1/reverse?lon=120", "lat", 400),
        ("/v1/reverse?lon=120&lat=95", "lat", 400),
        ("/v1/reverse?lon=120&lat=30&crs=utm", "crs", 400),
        ("/v1/divisions/12x", "code", 400),
        ("/v1/divisions/990000", "code", 404),
        ("/v1/transform?from=wgs84&to=nope&lon=1&lat=2", "to", 400),
    ] {
        let (st, v) = get(q);
        assert_eq!(st, code, "{q}: {v}");
        assert_eq!(v["error"]["field"], field, "{q}: {v}");
    }

    // divisions: any code form, retired code → successor
    let (_, v) = get("/v1/divisions/330106000000");
    assert_eq!(v["name"], "西湖区");
    assert_eq!(v["gb_code"], "330106");
    let area = v["area_km2"].as_f64().unwrap();
    assert!((250.0..450.0).contains(&area), "西湖区 area {area} km²");
    let (_, v) = get("/v1/divisions/330104");
    assert_eq!(v["status"], "retired");
    assert_eq!(v["retired_on"], "2021-04-09");
    assert_eq!(v["successor"]["code"], "330102");
    let (_, v) = get("/v1/divisions/330185");
    assert_eq!(v["successor"]["name"], "临安区");
    // Shanghai's merged districts: 卢湾区 into 黄浦区 (2011), 闸北区 into 静安区 (2015); the old
    // full name without the code lists' 市辖区 level
    let (_, v) = get("/v1/divisions/310103");
    assert_eq!(v["status"], "retired");
    assert_eq!(v["retired_on"], "2011-06-08");
    assert_eq!(v["successor"]["code"], "310101");
    assert_eq!(v["old_full_name"], "上海市卢湾区");
    let (_, v) = get("/v1/divisions/310108");
    assert_eq!(v["successor"]["code"], "310106");
    let r = c
        .get(format!("{}/v1/divisions", s.base))
        .query(&[("name", "下城区")])
        .send()
        .unwrap();
    let v: Value = r.json().unwrap();
    assert_eq!(v["retired"][0]["successor"]["code"], "330105", "{v}");
    let (_, v) = get("/v1/divisions/330106/children");
    assert!(v["count"].as_u64().unwrap() >= 10);

    // transform: the shared README's test vector
    let (_, v) = get("/v1/transform?from=gcj02&to=wgs84&lon=121.470387&lat=31.191271");
    assert!((v["lon"].as_f64().unwrap() - 121.4658424).abs() < 1e-7);
    assert!((v["lat"].as_f64().unwrap() - 31.1932104).abs() < 1e-7);
    let (_, v) = get("/v1/transform?from=wgs84&to=EPSG:4549&lon=120&lat=30");
    assert!((v["output"][0].as_f64().unwrap() - 500000.0).abs() < 0.01);

    // batch: order kept, ids echoed, bad point named, oversized rejected
    let r = c
        .post(format!("{}/v1/reverse/batch", s.base))
        .json(&serde_json::json!({"crs": "gcj02", "points": [[121.4753, 31.2317], {"id": "x", "lon": 120.135, "lat": 30.255}]}))
        .send()
        .unwrap();
    let v: Value = r.json().unwrap();
    assert_eq!(v["results"][0]["division"]["code"], "310101");
    assert_eq!(v["results"][1]["id"], "x");
    let r = c
        .post(format!("{}/v1/reverse/batch", s.base))
        .json(&serde_json::json!({"points": [[120.1, 30.2], [120.1, -91]]}))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(
        r.json::<Value>().unwrap()["error"]["field"],
        "points[1].lat"
    );
    let r = c
        .post(format!("{}/v1/reverse/batch", s.base))
        .header("content-type", "application/json")
        .body("{\"points\": [[1,2],")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let many: Vec<[f64; 2]> = vec![[120.1, 30.2]; 100_001];
    let r = c
        .post(format!("{}/v1/reverse/batch", s.base))
        .json(&serde_json::json!({"points": many}))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);

    // a served path with the wrong method: 405 with Allow and a JSON error; unknown: 404
    for (method, path, allow) in [
        (reqwest::Method::DELETE, "/v1/geocode", "GET"),
        (reqwest::Method::GET, "/v1/geocode/batch", "POST"),
        (reqwest::Method::PUT, "/v1/divisions/330106", "GET"),
        (reqwest::Method::POST, "/tiles/divisions/1/1/1", "GET"),
    ] {
        let r = c
            .request(method.clone(), format!("{}{path}", s.base))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 405, "{method} {path}");
        assert_eq!(r.headers()["allow"], allow, "{method} {path}");
        let v: Value = r.json().unwrap();
        assert_eq!(v["error"]["field"], "method", "{v}");
    }
    let r = c.get(format!("{}/v1/nothing", s.base)).send().unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(r.json::<Value>().unwrap()["error"]["field"], "path");

    // OpenAPI, metrics, health
    let (_, v) = get("/v1/openapi.json");
    assert!(v["paths"]["/v1/reverse"].is_object());
    let m = c
        .get(format!("{}/metrics", s.base))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        m.contains(
            "diming_http_requests_total{method=\"GET\",route=\"/v1/reverse\",status=\"200\"}"
        ),
        "{m}"
    );
    assert!(s.stderr_lines.iter().any(|l| l.contains("start-up took")));
}

#[test]
fn every_subcommand_parses_its_help() {
    // clap checks argument uniqueness only when a command is built: a duplicate flag between
    // two benchmarks' options must fail here, not in a user's hands
    for sub in [
        &["bench", "--help"][..],
        &["serve", "--help"],
        &["inspect", "--help"],
        &["coverage", "--help"],
    ] {
        let (ok, out, err) = common::run_cli(sub, &[]);
        assert!(ok, "{sub:?}: {err}");
        assert!(out.contains("Usage"), "{sub:?}: {out}");
    }
}
