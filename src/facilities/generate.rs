//! Seeded generator of sample facilities for the embedded default (黄浦区 310101), placed on
//! nodes of the real roads of an OSM extract. Every row is marked synthetic and its name ends
//! with "(合成)"; phone numbers use the fictitious prefix 021-0000. The street (街道) names are
//! the real 10 streets of 黄浦区 from the NBS code list; which street a centre is named after is
//! random, not its real location. Run: `diming facilities generate`.

use super::{Facility, FacilityType};
use anyhow::Result;
use rand::{seq::SliceRandom, Rng, SeedableRng};
use std::path::Path;

/// Generates `n` facilities (at least one 综合为老服务中心 per street).
pub fn huangpu(osm: &Path, streets: &[String], n: usize, seed: u64) -> Result<Vec<Facility>> {
    let o = crate::network::osm::read_ways(osm)?;
    // named ways with their coordinates
    let named: Vec<(String, Vec<(f64, f64)>)> = o
        .ways
        .iter()
        .zip(&o.names)
        .filter_map(|(w, nm)| {
            let nm = nm.clone()?;
            let pts: Vec<(f64, f64)> = w.iter().filter_map(|r| o.nodes.get(r).copied()).collect();
            (!pts.is_empty()).then_some((nm, pts))
        })
        .collect();
    anyhow::ensure!(
        !named.is_empty(),
        "{}: no named walkable ways",
        osm.display()
    );
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    let operators = [
        "黄浦区民政局 (合成)",
        "上海某某养老服务有限公司 (合成)",
        "某某社会工作服务社 (合成)",
        "街道社区服务中心 (合成)",
    ];
    for i in 0..n {
        let kind = if i < streets.len() {
            FacilityType::ServiceCenter
        } else {
            *[
                FacilityType::Institution,
                FacilityType::DayCare,
                FacilityType::DayCare,
                FacilityType::MealPoint,
                FacilityType::MealPoint,
                FacilityType::MealPoint,
                FacilityType::ActivityRoom,
                FacilityType::ActivityRoom,
                FacilityType::HomeCareStation,
                FacilityType::HomeCareStation,
            ]
            .choose(&mut rng)
            .unwrap()
        };
        let (road, pts) = named.choose(&mut rng).unwrap();
        let &(lon, lat) = pts.choose(&mut rng).unwrap();
        let no = rng.gen_range(1..400);
        let street = streets
            .get(i % streets.len().max(1))
            .cloned()
            .unwrap_or_default();
        let name = match kind {
            FacilityType::ServiceCenter => format!("{street}综合为老服务中心 (合成)"),
            FacilityType::Institution => format!("黄浦区{road}养老院 (合成)"),
            FacilityType::DayCare => format!("{road}日间照料中心 (合成)"),
            FacilityType::MealPoint => format!("{road}{no}号社区长者食堂 (合成)"),
            FacilityType::ActivityRoom => format!("{road}老年活动室 (合成)"),
            FacilityType::HomeCareStation => format!("{road}居家养老服务站 (合成)"),
        };
        let (beds, nursing, pmin, pmax, level, hours) = match kind {
            FacilityType::Institution => {
                let b = rng.gen_range(40..300u32);
                let p = rng.gen_range(40..90) as f64 * 100.0;
                (
                    Some(b),
                    Some(b * rng.gen_range(4..9) / 10),
                    Some(p),
                    Some(p + rng.gen_range(10..60) as f64 * 100.0),
                    Some(format!("{}星", rng.gen_range(1..=5))),
                    "全天 24 小时",
                )
            }
            FacilityType::ServiceCenter => {
                let b = rng.gen_range(10..40u32);
                (
                    Some(b),
                    Some(b / 2),
                    Some(3000.0),
                    Some(6500.0),
                    Some("示范".into()),
                    "08:00-20:00",
                )
            }
            FacilityType::DayCare => (None, None, Some(600.0), Some(1500.0), None, "08:00-17:00"),
            FacilityType::MealPoint => (
                None,
                None,
                Some(12.0),
                Some(20.0),
                None,
                "10:30-13:00, 16:30-18:00",
            ),
            _ => (None, None, None, None, None, "08:30-17:00"),
        };
        out.push(Facility {
            id: format!("syn-hp-{:03}", i + 1),
            name,
            kind,
            lon,
            lat,
            address: Some(format!("上海市黄浦区{road}{no}号 (合成)")),
            address_code: None,
            division: Some("310101".into()),
            level,
            beds,
            nursing_beds: nursing,
            price_min: pmin,
            price_max: pmax,
            phone: Some(format!("021-0000{:04}", rng.gen_range(0..10000))),
            hours: Some(hours.into()),
            operator: Some(operators.choose(&mut rng).unwrap().to_string()),
            photo_url: None,
            status: "open".into(),
            synthetic: true,
        });
    }
    Ok(out)
}
