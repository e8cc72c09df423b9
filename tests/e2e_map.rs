//! End-to-end test of the map page in headless Chromium: `tests/e2e/map.mjs` (playwright-core
//! from tiles/node_modules driving Debian's /usr/bin/chromium) loads `/`, searches
//! "上海市黄浦区", waits for the 15-minute list, clicks a facility on the map and checks its
//! card. Screenshots: target/e2e/map.png and target/e2e/map-phone.png.
//! Needs: `apt-get install -y nodejs chromium fonts-noto-cjk` and `cd tiles && npm ci`.
mod common;

use std::process::Command;

#[test]
fn map_page_search_click_and_card() {
    let fixture = common::root().join("tests/fixtures/facilities_sample.csv");
    let s = common::spawn_server(&["--facilities", fixture.to_str().unwrap()]);
    let shot = common::root().join("target/e2e/map.png");
    let _ = std::fs::remove_file(&shot);
    let out = Command::new("node")
        .arg(common::root().join("tests/e2e/map.mjs"))
        .arg(&s.base)
        .arg(&shot)
        .output()
        .expect("node is required for the e2e test (apt-get install nodejs)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}\n{stderr}");
    assert!(out.status.success(), "e2e failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("E2E OK"));
    assert!(stdout.contains("card:"));
    let meta = std::fs::metadata(&shot).expect("screenshot written");
    assert!(meta.len() > 10_000);
}
