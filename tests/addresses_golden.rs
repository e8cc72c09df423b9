//! The 33 golden cases of jionlp's location parser (`../shared/data/addresses/jionlp_location_cases.json`)
//! run through diming's parser on the embedded division data. Every case is checked the same
//! way: province, city and county names as expected; town and village as expected where the
//! case ran with `town_village=true` (jionlp returns no town/village keys otherwise).
//! jionlp names a functional zone without its city prefix (经济技术开发区 for
//! 秦皇岛市经济技术开发区); that form is accepted.

mod common;

use diming::addresses::{normalize::normalize, parse::DivisionParser};

#[test]
fn jionlp_golden_cases() {
    let src = diming::store::load_embedded(&common::root().join("data")).unwrap();
    let d = diming::divisions::Divisions::build(src).unwrap();
    let p = DivisionParser::build(&d);
    let cases: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::shared().join("addresses/jionlp_location_cases.json"))
            .unwrap(),
    )
    .unwrap();
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 33);
    let mut failures = Vec::new();
    for c in cases {
        let input = c["input"].as_str().unwrap();
        let (norm, _) = normalize(input);
        let m = p.parse(&norm, None);
        let exp = &c["expected"];
        let name =
            |o: &Option<diming::addresses::parse::Part>| o.as_ref().map(|p| p.name.to_string());
        let city = name(&m.city());
        let mut levels = vec![
            ("province", name(&m.province())),
            ("city", city.clone()),
            ("county", name(&m.county())),
        ];
        if c["town_village"].as_bool().unwrap() {
            levels.push(("town", name(&m.town())));
            levels.push(("village", name(&m.village())));
        }
        for (k, got) in levels {
            let want = exp[k].as_str().map(String::from);
            let ok = got == want
                || (k == "county"
                    && got.as_ref().zip(want.as_ref()).is_some_and(|(g, w)| {
                        city.as_ref().is_some_and(|c| {
                            g == &format!("{c}{w}")
                                || g == &format!("{}{w}", c.trim_end_matches('市'))
                        })
                    }));
            if !ok {
                failures.push(format!(
                    "{input}: {k} = {got:?}, expected {want:?} (normalized {norm}, detail {}, {:?})",
                    m.detail, m.corrections()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
