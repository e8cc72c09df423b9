//! Every non-empty row of `cpca_addr.csv` (about 17,000 real company addresses) goes through
//! `POST /v1/geocode/batch?parse_only=true` as CSV without an error line, and where the county
//! is determinable the county code is right for ≥ 99.5 % of rows, in the whole parse and in
//! the parse to county depth (`depth=county`).
//!
//! Ground truth (honest about its limits): the county is "determinable" when exactly one
//! county-level division whose full name (≥ 3 characters, e.g. 海淀区) occurs anywhere in the
//! text remains after narrowing to the provinces/cities whose full names also occur
//! ([`diming::addresses::bench::CountyTruth`]). This is a plain substring rule, independent of
//! the parser's prefix/hierarchy logic, but it uses the same division lists; rows naming no
//! county (广州国际采购中心1401) or several are not counted.

mod common;

use diming::addresses::bench::{cpca_rows, CountyTruth};

#[test]
fn cpca_rows_batch_parse() {
    let rows = cpca_rows(&common::shared()).unwrap();
    assert!(rows.len() > 16_000);
    let srv = common::spawn_server(&[]);
    let d = diming::divisions::Divisions::build(
        diming::store::load_embedded(&common::root().join("data")).unwrap(),
    )
    .unwrap();
    let p = diming::addresses::parse::DivisionParser::build(&d);
    let truth = CountyTruth::new(&p);
    // the whole parse, and the parse to county depth (cpca's output: no township, village
    // nor elements, the rest of the text as `detail`)
    for depth in ["", "&depth=county"] {
        let lines = batch_parse(&srv.base, &rows, depth);
        let (mut det, mut right) = (0, 0);
        let mut wrong = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(lines[i]["row"], i);
            if !depth.is_empty() {
                for k in ["town", "village", "elements"] {
                    assert!(lines[i][k].is_null(), "{r}: {k} at county depth");
                }
            }
            let Some(t) = truth.truth(&p, r) else {
                continue;
            };
            det += 1;
            let got = lines[i]["county"]["code"].as_str();
            if got == Some(t.as_str()) {
                right += 1;
            } else if wrong.len() < 30 {
                wrong.push(format!(
                    "{r}: got {got:?} {:?}, want {t}",
                    lines[i]["county"]["name"]
                ));
            }
        }
        let rate = right as f64 / det as f64;
        eprintln!(
            "{depth}: county code right for {right}/{det} determinable rows = {:.3} %",
            rate * 100.0
        );
        assert!(det > 10_000, "only {det} determinable rows");
        assert!(
            rate >= 0.995,
            "{depth}: rate {:.3} %:\n{}",
            rate * 100.0,
            wrong.join("\n")
        );
    }
}

/// The rows through `POST /v1/geocode/batch?parse_only=true{extra}` as CSV, one answer each
/// and no error line.
fn batch_parse(base: &str, rows: &[String], extra: &str) -> Vec<serde_json::Value> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["id", "q"]).unwrap();
    for (i, r) in rows.iter().enumerate() {
        w.write_record([i.to_string().as_str(), r]).unwrap();
    }
    let body = w.into_inner().unwrap();
    let resp = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(600))
        .build()
        .unwrap()
        .post(format!("{base}/v1/geocode/batch?parse_only=true{extra}"))
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), rows.len());
    let errors: Vec<_> = lines.iter().filter(|l| l.get("error").is_some()).collect();
    assert!(
        errors.is_empty(),
        "{} error rows, first {:?}",
        errors.len(),
        errors.first()
    );
    lines
}

/// The Traditional-character gate of the normaliser is exact in the negative: every real row
/// it lets past converts to itself under zhconv (after the full-width step, as the normaliser
/// calls it), and so does every address built around a key of zhconv's zh-CN tables.
#[test]
fn traditional_gate_never_skips_a_conversion() {
    use diming::addresses::normalize::{may_be_traditional, to_half_width};
    let unchanged = |t: &str| {
        let h = to_half_width(t);
        zhconv::zhconv(&h, zhconv::Variant::ZhCN) == h
    };
    let rows = cpca_rows(&common::shared()).unwrap();
    let mut passed = 0;
    for r in &rows {
        if !may_be_traditional(r) {
            passed += 1;
            assert!(unchanged(r), "{r}");
        }
    }
    // it spares the automaton most real addresses
    assert!(passed * 10 > rows.len() * 9, "{passed} of {}", rows.len());
    let (mut keys, mut tripped) = (0, 0);
    for table in zhconv::get_builtin_tables(zhconv::Variant::ZhCN) {
        for (from, to) in zhconv::tables::expand_table(*table) {
            if from != to {
                keys += 1;
                let text = format!("上海市黄浦区{from}路12号");
                if !may_be_traditional(&text) {
                    assert!(unchanged(&text), "{from} → {to}");
                } else {
                    tripped += 1;
                }
            }
        }
    }
    assert!(
        keys > 5_000 && tripped * 100 > keys * 99,
        "{tripped} of {keys}"
    );
    // Traditional text trips it; plain Simplified text does not
    assert!(may_be_traditional("青浦區盈浦街道"));
    assert!(!may_be_traditional("上海市黄浦区南京东路123号"));
}
