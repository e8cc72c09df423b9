//! Vector tiles over real HTTP, decoded by an independent MVT decoder (node + the npm
//! `@mapbox/vector-tile` and `pbf` packages in tiles/node_modules: `cd tiles && npm ci`).
mod common;

use serde_json::Value;
use std::process::Command;

/// Decodes a tile with tests/e2e/decode_tile.mjs (not diming's encoder).
fn decode(bytes: &[u8]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.pbf");
    std::fs::write(&p, bytes).unwrap();
    let out = Command::new("node")
        .arg(common::root().join("tests/e2e/decode_tile.mjs"))
        .arg(&p)
        .output()
        .expect("node is required for the tile tests (apt-get install nodejs; cd tiles && npm ci)");
    assert!(
        out.status.success(),
        "decoder failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn features<'a>(t: &'a Value, layer: &str) -> &'a Vec<Value> {
    t[layer]["features"]
        .as_array()
        .unwrap_or_else(|| panic!("no layer {layer} in {t}"))
}

#[test]
fn tiles_decode_with_an_independent_decoder() {
    let fixture = common::root().join("tests/fixtures/facilities_sample.csv");
    let s = common::spawn_server(&["--facilities", fixture.to_str().unwrap()]);
    let c = reqwest::blocking::Client::builder()
        .gzip(false)
        .build()
        .unwrap();
    // boundary_lines: the start-up inspection of the served county polygons replaces the
    // outlines within moments; wait for it so every fetch below sees the same layer
    let lines_url = format!("{}/tiles/boundary_lines/14/13720/6694.pbf", s.base);
    let mut served = Vec::new();
    for _ in 0..100 {
        let r = c.get(&lines_url).send().unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let t = decode(&r.bytes().unwrap());
        served = features(&t, "boundary_lines")
            .iter()
            .filter(|f| f["properties"]["source"] == "served_divisions")
            .cloned()
            .collect();
        if !served.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // 黄浦区's shared line with a neighbour, named by both codes, with both names
    let hp_line = served
        .iter()
        .find(|f| {
            let p = &f["properties"];
            p["outer"] == false
                && p["id"].as_str().unwrap_or("").contains("310101")
                && (p["a_name"] == "黄浦区" || p["b_name"] == "黄浦区")
        })
        .unwrap_or_else(|| panic!("no shared line of 黄浦区 in {served:?}"));
    let id = hp_line["properties"]["id"].as_str().unwrap();
    let (lo, hi) = id.split_once('-').unwrap();
    assert!(lo < hi && lo.len() == 6 && hi.len() == 6, "{id}");
    assert!(hp_line["properties"]["length_m"].as_f64().unwrap() > 100.0);
    assert_eq!(hp_line["properties"]["fault_count"], 0);

    // 人民广场 is in 14/13720/6694; the sample facility syn-hp-04 (121.4741, 31.2322) too
    let url = format!(
        "{}/tiles/divisions,boundary_lines,facilities,addresses/14/13720/6694.pbf",
        s.base
    );
    let r = c
        .get(&url)
        .header("Accept-Encoding", "gzip")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.mapbox-vector-tile"
    );
    assert!(r.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("must-revalidate"));
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let gz = r.bytes().unwrap();
    assert_eq!(&gz[..2], &[0x1f, 0x8b]);
    let t = decode(&gz);
    // divisions at z14: the county polygons (the deepest level with polygons), 黄浦区 among them
    let divs = features(&t, "divisions");
    assert_eq!(t["divisions"]["extent"], 4096);
    assert_eq!(t["divisions"]["version"], 2);
    let hp = divs
        .iter()
        .find(|f| f["properties"]["code"] == "310101")
        .expect("黄浦区 in the tile");
    assert_eq!(hp["properties"]["name"], "黄浦区");
    assert_eq!(hp["type"], "Polygon");
    for f in divs {
        let b = f["bbox"].as_array().unwrap();
        for v in b {
            let v = v.as_f64().unwrap();
            assert!(
                (-64.0..=4160.0).contains(&v),
                "outside buffered extent: {f}"
            );
        }
        // MVT 2.1: the first ring is an exterior ring, positive area in tile coordinates
        assert!(f["ringAreas"][0].as_f64().unwrap() > 0.0, "{f}");
        assert!(f["polygons"].as_u64().unwrap() >= 1);
    }
    let lines = features(&t, "boundary_lines");
    assert!(lines.iter().all(|f| f["type"] == "LineString"));
    assert!(lines
        .iter()
        .any(|f| f["properties"]["id"] == hp_line["properties"]["id"]
            && f["properties"]["source"] == "served_divisions"));
    let facs = features(&t, "facilities");
    let f4 = facs
        .iter()
        .find(|f| f["properties"]["id"] == "syn-hp-04")
        .expect("facility syn-hp-04 in the tile");
    assert_eq!(f4["type"], "Point");
    assert_eq!(f4["properties"]["type"], "meal_point");
    assert_eq!(f4["properties"]["synthetic"], true);
    assert_eq!(f4["properties"]["phone"], "021-0000-0004");
    for f in facs {
        let b = f["bbox"].as_array().unwrap();
        assert!(b
            .iter()
            .all(|v| (0.0..4096.0).contains(&v.as_f64().unwrap())));
    }
    // no addresses are loaded in this server: the layer is absent (empty layers are not written)
    assert!(t.get("addresses").is_none());

    // the raw (identity) tile decodes to the same thing
    let raw = c.get(&url).send().unwrap();
    assert_eq!(raw.status().as_u16(), 200);
    assert_ne!(
        raw.headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap()),
        Some("gzip")
    );
    assert_eq!(decode(&raw.bytes().unwrap()), t);

    // ETag → 304
    let r = c.get(&url).header("If-None-Match", &etag).send().unwrap();
    assert_eq!(r.status().as_u16(), 304);

    // .mvt suffix and no suffix give the same tile
    for suffix in [".mvt", ""] {
        let u = url.replace(".pbf", suffix);
        let r = c.get(&u).header("Accept-Encoding", "gzip").send().unwrap();
        assert_eq!(r.headers()["etag"].to_str().unwrap(), etag);
    }

    // a low zoom: all of Shanghai's districts, simplified (few vertices), still valid
    let r = c
        .get(format!("{}/tiles/divisions/8/214/104", s.base))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let t8 = decode(&r.bytes().unwrap());
    let d8 = features(&t8, "divisions");
    assert!(d8.iter().any(|f| f["properties"]["code"] == "310101"));
    assert!(d8.iter().any(|f| f["properties"]["code"] == "310115"));
    assert!(d8.iter().all(|f| f["ringAreas"][0].as_f64().unwrap() > 0.0));

    // empty tiles: 204
    for u in ["/tiles/divisions/3/0/0", "/tiles/coverage/3/0/0"] {
        let r = c.get(format!("{}{u}", s.base)).send().unwrap();
        assert_eq!(r.status().as_u16(), 204, "{u}");
    }
    // coverage: the service areas of the sample facilities (on the Huangpu network) and the
    // covered share per community on 100 m cells of the embedded addresses
    let r = c
        .get(format!("{}/tiles/coverage/14/13720/6694", s.base))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let tc = decode(&r.bytes().unwrap());
    let cov = features(&tc, "coverage");
    let areas: Vec<&Value> = cov
        .iter()
        .filter(|f| f["properties"]["kind"] == "service_area")
        .collect();
    assert!(!areas.is_empty(), "no service area in {tc}");
    assert!(areas
        .iter()
        .all(|f| f["type"] == "Polygon" && f["properties"]["method"] == "network"));
    let cells: Vec<&Value> = cov
        .iter()
        .filter(|f| f["properties"]["kind"] == "division_share")
        .collect();
    assert!(!cells.is_empty(), "no division cells in {tc}");
    for f in &cells {
        let p = &f["properties"];
        let share = p["covered_share"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&share), "{f}");
        // the addresses' own division: township (9 digits) or community (12)
        assert!(
            [9, 12].contains(&p["division"].as_str().unwrap().len()),
            "{f}"
        );
        assert_eq!(p["synthetic"], true);
        // the cell's own counts are consistent
        assert!(p["cell_covered"].as_u64().unwrap() <= p["cell_addresses"].as_u64().unwrap());
    }
    // roads of the base map (the loaded network, from z11): one multi-line per tile
    let r = c
        .get(format!("{}/tiles/roads/14/13720/6694", s.base))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let tr = decode(&r.bytes().unwrap());
    let roads = features(&tr, "roads");
    assert_eq!(roads.len(), 1, "{tr}");
    assert_eq!(roads[0]["type"], "LineString");
    assert_eq!(
        roads[0]["properties"]["source"],
        "shanghai_huangpu_drive.osm"
    );
    let r = c
        .get(format!("{}/tiles/roads/8/214/104", s.base))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 204, "no roads below z11");
    // errors name the field
    for (u, field) in [
        ("/tiles/divisions/23/0/0", "z"),
        ("/tiles/divisions/3/8/0", "x"),
        ("/tiles/divisions/3/0/8.pbf", "y"),
        ("/tiles/divisions/3/0/-1", "y"),
        ("/tiles/rivers/3/0/0", "layers"),
        ("/tiles/divisions/14/13720/6694?crs=gcj02", "crs"),
        ("/tiles/divisions,nope.json", "layers"),
    ] {
        let r = c.get(format!("{}{u}", s.base)).send().unwrap();
        assert_eq!(r.status().as_u16(), 400, "{u}");
        let v: Value = r.json().unwrap();
        assert_eq!(v["error"]["field"], field, "{u}: {v}");
    }

    // TileJSON 3.0
    let tj: Value = c
        .get(format!(
            "{}/tiles/divisions,facilities.json?crs=gcj02",
            s.base
        ))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(tj["tilejson"], "3.0.0");
    assert_eq!(tj["crs"], "gcj02");
    assert!(tj["tiles"][0]
        .as_str()
        .unwrap()
        .ends_with("/tiles/divisions,facilities/{z}/{x}/{y}.pbf"));
    assert_eq!(tj["vector_layers"][1]["id"], "facilities");
    let b = tj["bounds"].as_array().unwrap();
    // Zhejiang, Shanghai and Yichang
    assert!(b[0].as_f64().unwrap() < 111.5 && b[2].as_f64().unwrap() > 122.0);

    // the map page and its vendored MapLibre are served by the binary
    let page = c
        .get(format!("{}/", s.base))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains("养老地图") && page.contains("/map/vendor/maplibre-gl.js"));
    let js = c
        .get(format!("{}/map/vendor/maplibre-gl.js", s.base))
        .send()
        .unwrap();
    assert_eq!(js.status().as_u16(), 200);
    assert!(js.bytes().unwrap().len() > 500_000);
}

/// Web Mercator tile of a WGS84 point.
fn tile_of(lon: f64, lat: f64, z: u32) -> (u32, u32) {
    let n = (1u64 << z) as f64;
    let x = ((lon + 180.0) / 360.0 * n).floor() as u32;
    let r = lat.to_radians();
    let y =
        ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor() as u32;
    (x, y)
}

#[test]
fn facility_added_through_the_api_is_in_the_next_tile() {
    // no facility at start: the coverage layer has no service area and every share is 0
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("none.csv");
    std::fs::write(
        &empty,
        "id,name,type,lon,lat,address,address_code,division,level,beds,nursing_beds,price_min,price_max,phone,hours,operator,photo_url,status,synthetic\n",
    )
    .unwrap();
    let s = common::spawn_server_env(
        &["--facilities", empty.to_str().unwrap()],
        &[("DIMING_API_TOKEN", "tile-test-token")],
    );
    let c = reqwest::blocking::Client::new();
    let (lon, lat) = (121.4861, 31.2239);
    let (x, y) = tile_of(lon, lat, 16);
    let url = format!("{}/tiles/facilities/16/{x}/{y}.pbf", s.base);
    let names = |r: reqwest::blocking::Response| -> Vec<String> {
        match r.status().as_u16() {
            204 => vec![],
            200 => features(&decode(&r.bytes().unwrap()), "facilities")
                .iter()
                .map(|f| f["properties"]["name"].as_str().unwrap_or("").to_string())
                .collect(),
            other => panic!("tile answered {other}"),
        }
    };
    let before = names(c.get(&url).send().unwrap());
    let cov_url = format!("{}/tiles/coverage/16/{x}/{y}.pbf", s.base);
    let cov_etag = |r: reqwest::blocking::Response| -> String {
        r.headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let cov_before = cov_etag(c.get(&cov_url).send().unwrap());
    let body = serde_json::json!({"id": "tile-test-1", "name": "瓦片测试日间照料中心(合成)", "type": "day_care",
        "lon": lon, "lat": lat, "status": "open", "synthetic": true});
    // without the token: 401, and the tile does not change
    let r = c
        .post(format!("{}/v1/facilities", s.base))
        .json(&body)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(names(c.get(&url).send().unwrap()), before);
    let r = c
        .post(format!("{}/v1/facilities", s.base))
        .bearer_auth("tile-test-token")
        .json(&body)
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().unwrap());
    let after = names(c.get(&url).send().unwrap());
    assert!(
        after.iter().any(|n| n == "瓦片测试日间照料中心(合成)"),
        "{after:?}"
    );
    assert_eq!(after.len(), before.len() + 1);
    // the coverage layer was rebuilt with the new facility's service area, and the cells
    // around it are now (partly) covered
    let r = c.get(&cov_url).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_ne!(cov_etag(r), cov_before);
    let r = c.get(&cov_url).send().unwrap();
    let t = decode(&r.bytes().unwrap());
    let cov = features(&t, "coverage");
    assert!(cov
        .iter()
        .any(|f| f["properties"]["kind"] == "service_area"));
    assert!(cov
        .iter()
        .any(|f| f["properties"]["kind"] == "division_share"
            && f["properties"]["covered_share"].as_f64().unwrap() > 0.0));
}
