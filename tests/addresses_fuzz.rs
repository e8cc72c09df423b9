//! Seeded random texts built from the pieces dirty addresses are made of (division names and
//! short names, road and element suffixes, digits of every width, Chinese numerals, Traditional
//! characters, brackets, pinyin, punctuation, phone numbers, noise words, characters of one, two
//! and four bytes) through the whole address path: normalise, divisions, elements (as `/v1/parse`
//! reads them and as the geocoder does), corrections, and the geocoder on the embedded book.
//! Nothing may panic, and what is answered must hold together: every element is a piece of the
//! text it was read from, a number prefix comes with its number, a candidate's confidence is in
//! [0, 1] and its coordinates are in China.

mod common;

use diming::addresses::{
    normalize::normalize,
    parse::{parse_elements, DivisionParser},
    AddressBook,
};
use diming::divisions::Divisions;
use rand::{seq::SliceRandom, Rng, SeedableRng};

const PIECES: &[&str] = &[
    "路",
    "街",
    "巷",
    "大道",
    "大街",
    "胡同",
    "道",
    "段",
    "中段",
    "四段",
    "西二段",
    "中",
    "东",
    "号",
    "弄",
    "支弄",
    "幢",
    "栋",
    "座",
    "单元",
    "室",
    "楼",
    "层",
    "号楼",
    "甲",
    "乙",
    "-",
    "#",
    "、",
    "，",
    " ",
    "  ",
    "(",
    ")",
    "（",
    "）",
    "(qū)",
    "【",
    "】",
    ":",
    "：",
    "/",
    ";",
    ".",
    "·",
    "1",
    "12",
    "12-3",
    "0",
    "999999999999",
    "１２",
    "Ａ",
    "B",
    "十二",
    "二十",
    "一百零八",
    "〇",
    "區",
    "縣",
    "號",
    "樓",
    "臺灣",
    "附近",
    "对面",
    "旁边",
    "电话",
    "电话13800138000",
    "tel",
    "0571-87654321",
    "工业区",
    "新区",
    "园区",
    "开发区",
    "高新区",
    "总公司位于",
    "注册地址",
    "去",
    "是",
    "现",
    "市",
    "省",
    "区",
    "县",
    "镇",
    "乡",
    "街道",
    "村",
    "社区",
    "居委会",
    "小区",
    "花园",
    "大厦",
    "广场",
    "中心",
    "😀",
    "é",
    "ß",
    "\u{3000}",
    "\t",
    "中华人民共和国",
    "中国",
    "地址",
    "市辖区",
    "与",
    "和",
    "口",
    "交叉口",
];

#[test]
fn random_dirty_texts_never_panic_and_answers_hold_together() {
    let root = common::root();
    let src = diming::store::load_embedded(&root.join("data")).unwrap();
    let d = Divisions::build(src).unwrap();
    let p = DivisionParser::build(&d);
    let book = AddressBook::load_embedded(&d, &root.join("data")).unwrap();
    // names of every level, full and short (the parser's own nodes), and the book's roads
    let names: Vec<String> = p
        .nodes
        .iter()
        .step_by(7)
        .flat_map(|n| {
            let name = n.name.clone();
            let short: String = name.chars().take(2).collect();
            [name, short]
        })
        .collect();
    let mut roads: Vec<String> = (0..book.len() as u32)
        .filter_map(|ri| book.address(ri).road)
        .collect();
    roads.sort();
    roads.dedup();
    assert!(
        names.len() > 10_000 && roads.len() > 50,
        "{} {}",
        names.len(),
        roads.len()
    );
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20261207);
    let cities: Vec<u32> = (0..p.nodes.len() as u32)
        .filter(|&i| {
            p.nodes[i as usize]
                .code
                .as_deref()
                .is_some_and(|c| c.ends_with("0000") || c.ends_with("00"))
        })
        .take(500)
        .collect();
    for case in 0..20_000 {
        let mut t = String::new();
        for _ in 0..rng.gen_range(0..12) {
            match rng.gen_range(0..10) {
                0..=3 => t.push_str(names.choose(&mut rng).unwrap()),
                4 => t.push_str(roads.choose(&mut rng).unwrap()),
                5 => t.push(char::from_u32(rng.gen_range(0x4E00..0x9FA6)).unwrap()),
                // any character at all (controls, combining marks, full-width forms, astral)
                6 => t.extend(char::from_u32(rng.gen_range(0..0x30000))),
                _ => t.push_str(PIECES.choose(&mut rng).unwrap()),
            }
        }
        if case % 50 == 0 {
            // a cut anywhere on a character boundary
            let cuts: Vec<usize> = t.char_indices().map(|(i, _)| i).collect();
            if let Some(&c) = cuts.choose(&mut rng) {
                t.truncate(c);
            }
        }
        let (norm, _) = normalize(&t);
        let within = (case % 3 == 0).then(|| *cities.choose(&mut rng).unwrap());
        let m = p.parse(&norm, within);
        let _ = m.corrections();
        let detail = m.road_detail();
        assert!(norm.contains(detail), "{t}: detail {detail} not in {norm}");
        for known in [None, Some("")] {
            let e = parse_elements(detail, known);
            for piece in [
                e.road,
                e.cross_road,
                e.zone,
                e.compound,
                e.building,
                e.floor,
                e.unit,
                e.room,
            ]
            .into_iter()
            .flatten()
            .chain([e.rest])
            {
                assert!(
                    detail.contains(piece),
                    "{t}: element {piece} not in {detail}"
                );
            }
            assert!(
                e.number_prefix.is_none() || e.number.is_some(),
                "{t}: {e:?}"
            );
            if known.is_some() {
                assert_eq!(
                    (e.number_prefix, e.cross_road),
                    (None, None),
                    "{t}: the geocoder's elements have none"
                );
            }
        }
        let g = book.geocode(&t, within, 3);
        for c in &g.candidates {
            assert!((0.0..=1.0).contains(&c.confidence), "{t}: {}", c.confidence);
            if let (Some(lon), Some(lat)) = (c.lon, c.lat) {
                assert!(
                    (73.0..136.0).contains(&lon) && (3.0..54.0).contains(&lat),
                    "{t}: {lon} {lat}"
                );
            }
        }
    }
}
