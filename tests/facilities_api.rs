//! Facility registry and coverage over real HTTP: CRUD with and without the token, a facility
//! added through the API changes coverage and the next suggestion at once, CSV import errors,
//! and PostGIS persistence across a restart.
mod common;

use serde_json::{json, Value};

const TOKEN: &str = "test-token-123";

/// Demand CSV: every 4th node of the embedded Huangpu network, two synthetic communities.
fn demand_csv(dir: &std::path::Path) -> std::path::PathBuf {
    let net =
        diming::network::Network::read(&common::root().join("data/network/huangpu.bin")).unwrap();
    let mut s = String::from("id,lon,lat,weight,division,synthetic\n");
    for i in (0..net.node_count()).step_by(4) {
        let div = if net.lon[i] < 121.4737 {
            "310101002001"
        } else {
            "310101002002"
        };
        s += &format!(
            "d{i},{},{},{},{div},true\n",
            net.lon[i],
            net.lat[i],
            1 + i % 3
        );
    }
    let p = dir.join("demand.csv");
    std::fs::write(&p, s).unwrap();
    p
}

struct C {
    base: String,
    c: reqwest::blocking::Client,
}
impl C {
    fn get(&self, p: &str) -> (u16, Value) {
        let r = self.c.get(format!("{}{}", self.base, p)).send().unwrap();
        (r.status().as_u16(), r.json().unwrap_or(Value::Null))
    }
    fn send(
        &self,
        m: reqwest::Method,
        p: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> (u16, Value) {
        let mut r = self.c.request(m, format!("{}{}", self.base, p));
        if let Some(b) = body {
            r = r.json(b);
        }
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.send().unwrap();
        (r.status().as_u16(), r.json().unwrap_or(Value::Null))
    }
}

#[test]
fn crud_token_coverage_and_suggest_change_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let demand = demand_csv(dir.path());
    let s = common::spawn_server_env(
        &["--demand", demand.to_str().unwrap()],
        &[("DIMING_API_TOKEN", TOKEN)],
    );
    let c = C {
        base: s.base.clone(),
        c: reqwest::blocking::Client::new(),
    };
    // sample facilities, all synthetic
    let (st, v) = c.get("/v1/facilities");
    assert_eq!(st, 200);
    assert_eq!(v["count"], 90);
    let f0 = &v["facilities"][0];
    assert_eq!(f0["synthetic"], true);
    assert!(f0["name"].as_str().unwrap().contains("(合成)"));
    assert!(f0["type_zh"].is_string());
    let (_, v) = c.get("/v1/facilities?type=day_care&bbox=121.40,31.20,121.50,31.25&crs=gcj02");
    assert_eq!(v["crs"], "gcj02");
    assert!(v["facilities"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["type"] == "day_care"));
    // nearby: network walking times, sorted
    let (st, v) = c.get("/v1/facilities/nearby?lon=121.4737&lat=31.2304&minutes=15");
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["method"], "network");
    let times: Vec<f64> = v["facilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["walk_minutes"].as_f64().unwrap())
        .collect();
    assert!(
        !times.is_empty()
            && times.windows(2).all(|w| w[0] <= w[1])
            && times.iter().all(|&t| t <= 15.0)
    );
    // isochrone follows the network
    let (st, v) = c.get("/v1/isochrone?lon=121.4737&lat=31.2304&minutes=10&crs=wgs84");
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["features"][0]["properties"]["method"], "network");
    assert_eq!(v["features"][0]["geometry"]["type"], "MultiPolygon");
    assert_eq!(v["features"][1]["geometry"]["type"], "MultiLineString");
    // errors name the field
    for (q, field) in [
        ("/v1/isochrone?lon=121.47&lat=31.23&minutes=0", "minutes"),
        ("/v1/coverage?division=31x", "division"),
        ("/v1/coverage?division=310101002&types=hospital", "types"),
        ("/v1/coverage?division=330106", "division"),
    ] {
        let (st, v) = c.get(q);
        assert!((400..500).contains(&st), "{q}: {st} {v}");
        assert_eq!(v["error"]["field"], field, "{q}: {v}");
    }

    // coverage by day-care centres before
    let cov = |c: &C| c.get("/v1/coverage?division=310101002&types=day_care&minutes=5");
    let (st, before) = cov(&c);
    assert_eq!(st, 200, "{before}");
    assert_eq!(before["method"], "network");
    assert_eq!(before["synthetic_demand"], true);
    assert_eq!(before["rows"].as_array().unwrap().len(), 2);
    let rate0 = before["total"]["rate"].as_f64().unwrap();
    assert!(rate0 < 1.0);
    let sug = json!({"division": "310101002", "types": ["day_care"], "k": 2, "minutes": 5});
    let (st, s1) = c.send(
        reqwest::Method::POST,
        "/v1/coverage/suggest",
        Some(&sug),
        None,
    );
    assert_eq!(st, 200, "{s1}");
    let site = s1["sites"][0].clone();
    assert!(site["gain"].as_u64().unwrap() > 0);

    // writes need the token
    let newf = json!({"id": "t-dc-1", "name": "测试日间照料中心", "type": "日间照料中心", "lon": site["lon"], "lat": site["lat"], "beds": 10, "nursing_beds": 2});
    let (st, v) = c.send(reqwest::Method::POST, "/v1/facilities", Some(&newf), None);
    assert_eq!(st, 401, "{v}");
    let (st, _) = c.send(
        reqwest::Method::POST,
        "/v1/facilities",
        Some(&newf),
        Some("wrong"),
    );
    assert_eq!(st, 401);
    let (st, v) = c.send(
        reqwest::Method::POST,
        "/v1/facilities",
        Some(&json!({"name": "x", "type": "day_care", "lon": 121.47, "lat": 95.0})),
        Some(TOKEN),
    );
    assert_eq!(
        (st, v["error"]["field"].as_str()),
        (400, Some("lat")),
        "{v}"
    );
    let (st, v) = c.send(
        reqwest::Method::POST,
        "/v1/facilities",
        Some(&newf),
        Some(TOKEN),
    );
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["type"], "day_care");

    // coverage and suggestion change at once: the new site adds exactly the suggested gain
    let (_, after) = cov(&c);
    let rate1 = after["total"]["rate"].as_f64().unwrap();
    assert!(
        (rate1 - site["rate_after"].as_f64().unwrap()).abs() < 1e-9,
        "{rate1} vs {site}"
    );
    assert_eq!(
        after["total"]["covered"].as_u64().unwrap(),
        before["total"]["covered"].as_u64().unwrap() + site["gain"].as_u64().unwrap()
    );
    let (_, s2) = c.send(
        reqwest::Method::POST,
        "/v1/coverage/suggest",
        Some(&sug),
        None,
    );
    assert_eq!(
        s2["sites"][0]["gain"], s1["sites"][1]["gain"],
        "the old second site is now the best"
    );
    assert_ne!(s2["sites"][0]["lon"], site["lon"]);

    // update and retire
    let mut upd = newf.clone();
    upd["name"] = json!("改名的日间照料中心");
    let (st, v) = c.send(
        reqwest::Method::PUT,
        "/v1/facilities/t-dc-1",
        Some(&upd),
        Some(TOKEN),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        c.get("/v1/facilities/t-dc-1").1["name"],
        "改名的日间照料中心"
    );
    let (st, _) = c.send(reqwest::Method::DELETE, "/v1/facilities/t-dc-1", None, None);
    assert_eq!(st, 401);
    let (st, _) = c.send(
        reqwest::Method::DELETE,
        "/v1/facilities/t-dc-1",
        None,
        Some(TOKEN),
    );
    assert_eq!(st, 200);
    assert_eq!(c.get("/v1/facilities/t-dc-1").1["status"], "retired");
    assert_eq!(cov(&c).1["total"]["covered"], before["total"]["covered"]);
    assert_eq!(c.get("/v1/facilities/nope").0, 404);

    // CSV import: all-or-nothing, errors name line and column
    let bad = "id,name,type,lon,lat\nc1,甲,day_care,121.47,31.23\nc2,乙,hospital,121.47,31.23\n";
    let r =
        c.c.post(format!("{}/v1/facilities/import", s.base))
            .bearer_auth(TOKEN)
            .body(bad)
            .send()
            .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = r.json().unwrap();
    assert_eq!(v["error"]["field"], "type");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("line 3"),
        "{v}"
    );
    assert_eq!(c.get("/v1/facilities/c1").0, 404, "nothing imported");
    let good = "id,name,type,lon,lat\nc1,甲,day_care,121.47,31.23\nc2,乙,老年食堂,121.48,31.23\n";
    let r =
        c.c.post(format!("{}/v1/facilities/import", s.base))
            .body(good)
            .send()
            .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r =
        c.c.post(format!("{}/v1/facilities/import", s.base))
            .bearer_auth(TOKEN)
            .body(good)
            .send()
            .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(c.get("/v1/facilities/c2").1["type"], "meal_point");
}

#[test]
fn empty_address_book_says_so() {
    // the embedded default has synthetic Huangpu addresses: coverage is computed from them
    let s = common::spawn_server(&[]);
    let r = reqwest::blocking::get(format!("{}/v1/coverage?division=310101002", s.base)).unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().unwrap();
    assert!(v.to_string().contains("synthetic"), "{v}");
    drop(s);
    // a data directory without addresses: coverage says why it cannot answer
    let dir = tempfile::tempdir().unwrap();
    for sub in ["divisions", "boundaries"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        for e in std::fs::read_dir(common::root().join("data").join(sub)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dir.path().join(sub).join(e.file_name())).unwrap();
        }
    }
    let s = common::spawn_server(&["--data", dir.path().to_str().unwrap()]);
    let r = reqwest::blocking::get(format!("{}/v1/coverage?division=310101002", s.base)).unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let v: Value = r.json().unwrap();
    assert_eq!(v["error"]["field"], "division");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("address book is empty"),
        "{v}"
    );
    // writes refused without a configured token
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/v1/facilities", s.base))
        .json(&json!({"name": "x", "type": "day_care", "lon": 121.47, "lat": 31.23}))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

#[test]
fn postgis_persistence_across_restart() {
    let url = common::pg_url();
    let schema = format!(
        "fac_test_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros()
            % 1_000_000
    );
    let args = [
        "--facilities-database-url",
        url.as_str(),
        "--facilities-schema",
        schema.as_str(),
    ];
    let c = reqwest::blocking::Client::new();
    {
        let s = common::spawn_server_env(&args, &[("DIMING_API_TOKEN", TOKEN)]);
        let f = json!({"id": "pg-1", "name": "持久化测试养老院", "type": "institution", "lon": 121.4737, "lat": 31.2304, "beds": 120, "nursing_beds": 60, "price_min": 4000, "price_max": 8000});
        let r = c
            .post(format!("{}/v1/facilities", s.base))
            .bearer_auth(TOKEN)
            .json(&f)
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
    }
    let s = common::spawn_server_env(&args, &[]);
    let v: Value = c
        .get(format!("{}/v1/facilities/pg-1", s.base))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["name"], "持久化测试养老院");
    assert_eq!(v["beds"], 120);
    assert_eq!(v["synthetic"], false);
    // the CLI import is one transaction too: a bad file leaves the table unchanged
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "id,name,type,lon,lat\nx1,甲,day_care,121.47,31.23\nx2,乙,day_care,121.47,abc\n",
    )
    .unwrap();
    let (ok, _, err) = common::run_cli(
        &[
            "facilities",
            "import",
            bad.to_str().unwrap(),
            "--database-url",
            &url,
            "--schema",
            &schema,
        ],
        &[],
    );
    assert!(!ok);
    assert!(err.contains("line 3"), "{err}");
    let good = dir.path().join("good.csv");
    std::fs::write(&good, "id,name,type,lon,lat\nx1,甲,day_care,121.47,31.23\n").unwrap();
    let (ok, out, err) = common::run_cli(
        &[
            "facilities",
            "import",
            good.to_str().unwrap(),
            "--database-url",
            &url,
            "--schema",
            &schema,
        ],
        &[],
    );
    assert!(ok, "{err}");
    assert!(out.contains("now 2 rows"), "{out}");
}
