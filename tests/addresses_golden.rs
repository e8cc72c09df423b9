//! The 33 golden cases of jionlp's location parser (`../shared/data/addresses/jionlp_location_cases.json`)
//! run through diming's parser on the embedded division data. Every case is checked the same
//! way: province, city and county names as expected; town and village as expected where the
//! case ran with `town_village=true` (jionlp returns no town/village keys otherwise).
//! jionlp names a functional zone without its city prefix (经济技术开发区 for
//! 秦皇岛市经济技术开发区); that form is accepted.

mod common;

use diming::addresses::{
    normalize::normalize,
    parse::{DivisionMatch, DivisionParser, Part},
};
use diming::divisions::{Divisions, Level};

/// The embedded divisions and their parser.
fn parser() -> (Divisions, DivisionParser) {
    let src = diming::store::load_embedded(&common::root().join("data")).unwrap();
    let d = Divisions::build(src).unwrap();
    let p = DivisionParser::build(&d);
    (d, p)
}

/// Parses each (text, expected code) of a sweep: how many there were, and each whose `level`
/// of the parse has another code, as (text, code found, code expected).
fn sweep_wrong(
    p: &DivisionParser,
    cases: impl Iterator<Item = (String, String)>,
    level: impl for<'a> Fn(&DivisionMatch<'a>) -> Option<Part<'a>>,
) -> (usize, Vec<(String, Option<String>, String)>) {
    let (mut n, mut wrong) = (0, Vec::new());
    for (text, want) in cases {
        let (norm, _) = normalize(&text);
        let m = p.parse(&norm, None);
        let got = level(&m).and_then(|x| x.code.map(String::from));
        n += 1;
        if got.as_deref() != Some(want.as_str()) {
            wrong.push((text, got, want));
        }
    }
    (n, wrong)
}

fn listed(wrong: &[(String, Option<String>, String)]) -> String {
    wrong
        .iter()
        .map(|(text, got, want)| format!("{text}: {got:?}, expected {want}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Each text of `wrong` still read the right county (a village or community of the county
/// named alike the township took the reading), and at most one in `per` of the `n` asked
/// is wrong.
fn wrong_only_within_the_county(wrong: &[(String, Option<String>, String)], n: usize, per: usize) {
    for (text, got, want) in wrong {
        assert_eq!(
            got.as_deref().map(|g| &g[..6]),
            Some(&want[..6]),
            "{text}: {got:?}, expected {want}"
        );
    }
    assert!(
        wrong.len() * per <= n,
        "{} of {n} wrong:\n{}",
        wrong.len(),
        listed(wrong)
    );
}

/// The readings of a character, tones aside (the `pinyin` crate, as the parser uses).
fn reads(c: char) -> Vec<&'static str> {
    use pinyin::ToPinyinMulti;
    c.to_pinyin_multi()
        .map(|m| m.into_iter().map(|x| x.plain()).collect())
        .unwrap_or_default()
}

/// Two names of the same length and suffix, one character apart, the two read alike.
fn read_alike(a: &[char], b: &[char]) -> bool {
    a.len() == b.len()
        && a.last() == b.last()
        && a.iter().zip(b).filter(|(x, z)| x != z).count() == 1
        && a.iter()
            .zip(b)
            .all(|(x, z)| x == z || reads(*x).iter().any(|r| reads(*z).contains(r)))
}

/// [`sweep_wrong`], asserting that there are more than `min` cases and none wrong.
fn sweep(
    p: &DivisionParser,
    cases: impl Iterator<Item = (String, String)>,
    min: usize,
    level: impl for<'a> Fn(&DivisionMatch<'a>) -> Option<Part<'a>>,
) {
    let (n, wrong) = sweep_wrong(p, cases, level);
    assert!(n > min, "{n}");
    assert!(
        wrong.is_empty(),
        "{} of {n} wrong:\n{}",
        wrong.len(),
        listed(&wrong)
    );
}

#[test]
fn jionlp_golden_cases() {
    let (_, p) = parser();
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

/// Readings of real `cpca_addr.csv` rows that were wrong: the county code now expected, and
/// the cases the fixes must leave alone.
#[test]
fn fixed_readings_of_real_rows() {
    let (_, p) = parser();
    let parse = |q: &str| {
        let (norm, _) = normalize(q);
        let m = p.parse(&norm, None);
        let code = |x: Option<Part>| x.and_then(|x| x.code.map(String::from));
        (
            code(m.province()),
            code(m.city()),
            code(m.county()),
            m.county().map(|x| x.name.to_string()),
            m.hypotheses.len(),
        )
    };
    // Shanghai's merged districts answer their successors: 卢湾区 and 南市区 → 黄浦区 (南市区
    // was a village 南市居委会 of 浦东 followed by 区), 闸北区 → 静安区, 南汇区 → 浦东新区
    for (q, want) in [
        ("卢湾区重庆南路31号", "310101"),
        ("上海市南市区中华路", "310101"),
        ("上海市闸北区天目西路", "310106"),
        ("南汇区惠南镇", "310115"),
        ("上海卢湾淡水路", "310101"),
        // 萝岗区 went into Guangzhou's 黄埔区 in 2014; 浦东新区 is often written 浦东区
        ("广州市萝岗区九佛西路1389号", "440112"),
        ("上海市浦东区峨山路91弄", "310115"),
        // district merges of 2012–2016 that real rows still name: Wuxi's 崇安区, 南长区 and
        // 北塘区 (→ 梁溪区), Ningbo's 江东区 (→ 鄞州区), Nanjing's 白下区 and 下关区, Qingdao's
        // 四方区 and 胶南市, Huai'an's 清浦区; a current 清河区 of another city stays itself
        ("无锡市崇安区上马墩路200号金科观天下22单元4楼", "320213"),
        ("无锡市北塘区春申路58号宏宇大厦6楼A座", "320213"),
        ("宁波市江东区兴宁路42弄1号金汇大厦12楼", "330212"),
        ("江东区中山东路1083号世纪东方商业广场", "330212"),
        ("南京市白下区中山南路1号南京中心22楼A01", "320104"),
        ("南京市下关区热河路", "320106"),
        ("青岛市四方区重庆南路161号", "370203"),
        ("山东省青岛市胶南市滨海大道1377号", "370211"),
        ("江苏省淮安市清浦区淮海南路156号", "320812"),
        // renames: Shenyang's 东陵区 → 浑南区 (2014, same code), Huai'an's 楚州区 → 淮安区
        // (2012, same code), Chengdu's 郫县 → 郫都区 (2016)
        ("沈阳市东陵区创新路155-2号2层", "210112"),
        ("淮安市楚州区施河镇德福路北首", "320803"),
        ("四川省成都市郫县红光镇现代工业港港东二路550号", "510117"),
        ("郫县现代工业港港通北四路277号", "510117"),
        ("铁岭市清河区", "211204"),
        ("南京市建邺区江东中路", "320105"),
        // development zones of the code lists as they are written (开发区, 经开区, 经济开发区
        // for 经济技术开发区; 园区 for 苏州工业园区), and districts as the new areas they were
        ("烟台开发区甬江三支路", "370676"),
        ("郑州市经开区经南三路168号院5号楼1楼", "410171"),
        ("徐州经济开发区振兴大道79号", "320371"),
        ("苏州园区林泉街399号", "320576"),
        ("深圳市龙华新区大浪街道华宁路颐丰华大厦13楼", "440309"),
        ("南昌市红谷滩新区红谷中大道1326号", "360113"),
        // a high-tech zone of the code lists as it is written, 高新区
        ("济南高新区万科金域中心A栋1705", "370176"),
        ("郑州市高新区科学大道169号", "410172"),
        // two characters ending in 市 or 省 after a province or city: a character of the
        // name typed twice, or the end of a city's name that lost its start
        ("广州州市海珠区逸景西路珠江国际纺织城", "440105"),
        ("浙江江省杭州市西湖区文三路", "330106"),
        ("广东省圳市福田区福华三路", "440304"),
    ] {
        assert_eq!(parse(q).2.as_deref(), Some(want), "{q}");
    }
    // a street or town named after the county it was in, since moved to another county of the
    // city: the county it lies in now, the town read (cpca rows; 余杭区 was split in 2021, 郑陆镇
    // went to 天宁区 in 2015, 横街镇 and 古林镇 to 海曙区 in 2016); a zone named alike in many
    // counties (经济开发区) and a town inside a name (梅陇镇广场) move nothing
    let town = |q: &str| {
        let (norm, _) = normalize(q);
        let m = p.parse(&norm, None);
        (
            m.county().and_then(|x| x.code.map(String::from)),
            m.town().map(|x| x.name.to_string()),
            m.corrections().iter().map(|c| c.kind).collect::<Vec<_>>(),
        )
    };
    for (q, county, t) in [
        ("杭州余杭区南苑街道迎宾路555-3号", "330113", "南苑街道"),
        ("浙江省杭州市余杭区塘栖镇建华工业园", "330113", "塘栖镇"),
        ("江苏省常州市武进区郑陆镇三河口", "320402", "郑陆镇"),
        ("宁波市鄞州区横街镇梅梁桥村何家53号", "330203", "横街镇"),
    ] {
        let (c, tn, kinds) = town(q);
        assert_eq!(
            (c.as_deref(), tn.as_deref()),
            (Some(county), Some(t)),
            "{q}"
        );
        assert!(kinds.contains(&"conflict"), "{q}: {kinds:?}");
    }
    // a new area that is a street of its district keeps the street (铜山新区: 新区街道 of 铜山区,
    // not 铜山区 as the new area it was)
    assert_eq!(
        town("徐州市铜山新区北京路18号").1.as_deref(),
        Some("新区街道")
    );
    for (q, county) in [
        ("苏州市吴江区吴江经济开发区潘龙路389号", "320509"),
        ("上海市静安区南京西路1038号梅陇镇广场3002-3005", "310106"),
        ("杭州市余杭区五常街道", "330110"),
    ] {
        assert_eq!(town(q).0.as_deref(), Some(county), "{q}");
    }
    // 青岛市 + 市南区 (overlapping 市), not Hong Kong's 南区 as a conflicting county
    assert_eq!(
        parse("青岛市南区东海西路43号凯旋大厦东塔15-16楼")
            .2
            .as_deref(),
        Some("370202")
    );
    assert_eq!(
        parse("青岛市北区重庆南路251号").2.as_deref(),
        Some("370203")
    );
    // a three-character name shared with the supplement at the same level: the code lists'
    // division first, the other kept as an alternative; Taiwan's when the text says so
    let lj = parse("连江县可门工业园区松岐大道1号");
    assert_eq!((lj.2.as_deref(), lj.4), (Some("350122"), 2));
    assert_eq!(parse("台湾省连江县南竿乡").0.as_deref(), Some("710000"));
    // a bare two-character name shared with Hong Kong stays ambiguous; Hong Kong's when named
    let dq = parse("东区中环广场3座1201");
    assert_eq!((dq.2, dq.3.as_deref()), (None, Some("东区")));
    assert_eq!(parse("香港南区香港仔大道").0.as_deref(), Some("810000"));
    // 宁夏自治区 (the ethnic name left out), 广西自治区
    assert_eq!(
        parse("宁夏自治区石嘴山市平罗县沙湖旅游区沙湖大道99号")
            .2
            .as_deref(),
        Some("640221")
    );
    assert_eq!(parse("广西自治区南宁市青秀区").2.as_deref(), Some("450103"));
    // the code lists' placeholder 市辖区 left in front of an address
    assert_eq!(
        parse("市辖区东莞市樟木头镇柏地社区旗峰路8号").1.as_deref(),
        Some("441900")
    );
    // Taiwan's 谿 for 溪, which zh-CN conversion keeps (蘭谿市 → 兰谿市, not 兰溪市)
    assert_eq!(
        parse("浙江省蘭谿市諸葛鎮西城江西中路3號").2.as_deref(),
        Some("330781")
    );
    assert_eq!(parse("慈谿市北三環西路").2.as_deref(), Some("330282"));
    // retired districts and county-level cities that the shared change history lacks
    // (data/divisions/code_changes.csv): real rows that named them stopped at the province
    for (q, want) in [
        ("北京市崇文区两广大街东段36号", "110101"),
        ("北京市宣武区宣武门外大街28号富卓大厦A座6层605室", "110102"),
        ("天津市塘沽区", "120116"),
        ("天津市大港区新天地大厦302室", "120116"),
        ("江苏省苏州市金阊区总官堂路288号", "320508"),
        ("吴江市开平路789号金城大厦912", "320509"),
        ("浙江省绍兴县柯桥镇", "330603"),
        ("上虞市百官街道", "330604"),
        ("萧山市城厢镇", "330109"),
    ] {
        assert_eq!(parse(q).2.as_deref(), Some(want), "{q}");
    }
    // a city gate named like a division (宣武门 after the old 宣武区, 复兴门 and 复兴区 of
    // Handan, 安定门 and 安定区 of Dingxi, 朝阳门 and 朝阳市) is a place of the road, not that
    // division: the road keeps its whole name
    let detail = |q: &str| {
        let (norm, _) = normalize(q);
        p.parse(&norm, None).detail.to_string()
    };
    assert_eq!(
        parse("北京市西城区宣武门外大街20号").2.as_deref(),
        Some("110102")
    );
    assert_eq!(detail("北京市西城区宣武门外大街20号"), "宣武门外大街20号");
    assert_eq!(detail("北京市西城区德胜门外大街85号"), "德胜门外大街85号");
    for q in ["复兴门内大街158号", "安定门外大街1号", "朝阳门北大街20号"] {
        assert_eq!(parse(q).0, None, "{q}");
        assert_eq!(detail(q), q);
    }
    // two characters ending in 市 with no city or county of the province after them are
    // not dropped (城市花园 is a compound)
    assert_eq!(parse("广东省城市花园小区3栋").2, None);
    assert_eq!(detail("广东省城市花园小区3栋"), "城市花园小区3栋");
    // words of a company register's labels before the address (real rows), or between a
    // division and the next one, are noise when a division's full name follows them that
    // starts the reading, goes deeper or says it again
    let with_kinds = |q: &str| {
        let (norm, _) = normalize(q);
        let m = p.parse(&norm, None);
        (
            m.county().and_then(|x| x.code.map(String::from)),
            m.corrections()
                .iter()
                .map(|c| (c.kind, c.from.clone()))
                .collect::<Vec<_>>(),
        )
    };
    for (q, want, noise) in [
        ("总公司位于石家庄市长安区西兆通镇", "130102", "总公司位于"),
        ("湖北总部  武汉市武昌区徐东友谊大道532号", "420106", "总部"),
        (
            "广州办事处位于广州市白云区永平友谊路",
            "440111",
            "办事处位于",
        ),
    ] {
        let (c, kinds) = with_kinds(q);
        assert_eq!(c.as_deref(), Some(want), "{q}");
        assert!(
            kinds.contains(&("noise", noise.to_string())),
            "{q}: {kinds:?}"
        );
    }
    // not before a road, and not where nothing of a division follows
    assert_eq!(parse("公司位于文三路90号").0, None);
    assert_eq!(parse("湖北总部大楼").2, None);
    assert_eq!(detail("湖北总部大楼"), "总部大楼");
    // a division's short name and a character an input method gives for its suffix (real
    // rows): the division, with a fuzzy correction, and the road without the slip; not a road
    // that starts with a character read alike (曲阜路)
    let road = |q: &str| {
        let (norm, _) = normalize(q);
        let m = p.parse(&norm, None);
        diming::addresses::parse::parse_elements(m.road_detail(), None)
            .road
            .map(String::from)
    };
    for (q, want, r, slip) in [
        ("上海市静安去铜仁路299号", "310106", "铜仁路", "静安去"),
        (
            "南京市玄武去钟灵街50号汇通达大厦",
            "320102",
            "钟灵街",
            "玄武去",
        ),
        ("上海市黄浦去福州路100号", "310101", "福州路", "黄浦去"),
    ] {
        let (c, kinds) = with_kinds(q);
        assert_eq!(c.as_deref(), Some(want), "{q}");
        assert!(
            kinds.contains(&("fuzzy", slip.to_string())),
            "{q}: {kinds:?}"
        );
        assert_eq!(road(q).as_deref(), Some(r), "{q}");
    }
    assert_eq!(road("上海市黄浦区曲阜路").as_deref(), Some("曲阜路"));
    assert_eq!(road("上海市黄浦曲阜路").as_deref(), Some("曲阜路"));
    // the full name of a division above the one read, said again with the address that
    // follows it, is skipped; followed by something else it stays in the detail (a company's
    // name: 江苏省无线电科学研究所)
    assert_eq!(
        parse("广东省深圳广东省深圳市宝安区松岗街道罗田广田路")
            .2
            .as_deref(),
        Some("440306")
    );
    assert_eq!(detail("深圳市福田区深圳市福田区金田路"), "金田路");
    assert_eq!(
        detail("滨湖区江苏省无线电科学研究所有限公司"),
        "江苏省无线电科学研究所有限公司"
    );
    // the conflict rule still takes a three-character county (jionlp's 柳州地区忻城县)
    assert_eq!(parse("柳州地区忻城县").2.as_deref(), Some("451321"));
    // a county of another province read alike a county of the province named (黄埔区 is
    // Guangzhou's, 黄浦区 Shanghai's: the real row 上海市黄埔区南京东路300号 went to
    // Guangzhou): the one of the province named, both ways round
    for (q, want) in [
        ("上海市黄埔区南京东路300号名人商业大厦10楼", "310101"),
        ("上海黄埔区福州路100号", "310101"),
        ("广州市黄浦区科学城", "440112"),
    ] {
        assert_eq!(parse(q).2.as_deref(), Some(want), "{q}");
    }
    // not a name that differs by more than a slip of the pen: 朝阳区 after 杭州 stays 朝阳区
    // (Beijing's or Changchun's, by the conflict rule), not 富阳区 (one character away, read
    // otherwise); 西城区 stays Beijing's, not 西湖区
    assert_eq!(parse("浙江省杭州市朝阳区").3.as_deref(), Some("朝阳区"));
    assert_eq!(parse("杭州市西城区").2.as_deref(), Some("110102"));
}

/// Every county of the code lists, written after its city's full name and after its city's
/// short name (镇江新区 after 镇江, 西岗区 after 大连), reads as that county: no town or village
/// whose name starts the text (镇江镇, 大连西居委会) takes its place.
#[test]
fn every_county_after_its_city() {
    let (d, p) = parser();
    let cases = d
        .tree
        .divs
        .iter()
        .filter(|c| c.level == Level::County && !c.statistical_only)
        .filter_map(|c| {
            let city = &d.tree.divs[c.parent? as usize];
            (!city.statistical_only).then_some((c, city))
        })
        .flat_map(|(c, city)| {
            let mut fronts = vec![city.name.clone()];
            fronts.extend(diming::addresses::parse::short_names(
                &city.name,
                Level::City,
            ));
            fronts
                .into_iter()
                .map(move |f| (format!("{f}{}人民路1号", c.name), c.code()))
        });
    sweep(&p, cases, 5_000, |m| m.county());
}

/// Every township of the code lists after its city and county reads as that township, also
/// where the normaliser changes characters of the official name (乾丰镇 → 干丰镇 by zhconv,
/// 七百弄乡 → 700弄乡 by the numeral step): the dictionary holds the normalised forms too.
#[test]
fn every_township_after_its_county() {
    let (d, p) = parser();
    let div = |i: Option<u32>| i.map(|i| &d.tree.divs[i as usize]);
    let cases = d
        .tree
        .divs
        .iter()
        .filter(|t| t.level == Level::Township)
        .filter_map(|t| {
            let county = div(t.parent)?;
            // statistical zones (often with bracketed remarks, which the normaliser drops)
            if t.statistical_only || county.statistical_only || t.name.contains('（') {
                return None;
            }
            let city = div(county.parent).filter(|c| !c.statistical_only);
            let front = city.map_or("", |c| c.name.as_str());
            Some((
                format!("{front}{}{}人民路1号", county.name, t.name),
                t.code(),
            ))
        });
    sweep(&p, cases, 35_000, |m| m.town());
}

/// Every village or community of the shipped code lists (Shanghai and Zhejiang) after its
/// county and township reads as that village, also the official names with punctuation
/// (田林一、二村居委会, whose 、 the normaliser drops).
#[test]
fn every_village_after_its_township() {
    let (d, p) = parser();
    let div = |i: Option<u32>| i.map(|i| &d.tree.divs[i as usize]);
    let cases = d
        .tree
        .divs
        .iter()
        .filter(|v| v.level == Level::Village)
        .filter_map(|v| {
            let town = div(v.parent)?;
            let county = div(town.parent)?;
            // bracketed remarks are dropped by the normaliser (上(田本)村: a character written out)
            if [v, town, county]
                .iter()
                .any(|x| x.statistical_only || x.name.contains(['(', '（']))
            {
                return None;
            }
            Some((
                format!("{}{}{}1号", county.name, town.name, v.name),
                v.code(),
            ))
        });
    sweep(&p, cases, 30_000, |m| m.village());
}

/// Every township of the code lists by its short name right after its county (西湖区蒋村,
/// 黄浦区外滩: 街道, 镇 or 乡 left out) reads as that township, where the short name is its
/// own: not shared by two townships of the county (东城街道 and 东城乡), nor the short name
/// of one of the county's villages or a road's name (南京东路街道), nor followed by what
/// would make it another name.
/// For each township whose name without its suffix (`base`) is its own in its county, of two
/// characters or more and not a road's: `make(front, base, suffix)` (front: its city's and
/// county's names) and its code.
fn townships_by_base(
    d: &Divisions,
    make: impl Fn(String, &str, &str) -> Option<String>,
) -> Vec<(String, String)> {
    let div = |i: Option<u32>| i.map(|i| &d.tree.divs[i as usize]);
    let split = |n: &str| {
        ["街道", "镇", "乡"]
            .into_iter()
            .find_map(|s| n.strip_suffix(s).map(|b| (b.to_string(), s)))
    };
    let mut per_county: std::collections::HashMap<(u32, String), usize> = Default::default();
    for t in d.tree.divs.iter().filter(|t| t.level == Level::Township) {
        if let (Some(c), Some((b, _))) = (t.parent, split(&t.name)) {
            *per_county.entry((c, b)).or_default() += 1;
        }
    }
    d.tree
        .divs
        .iter()
        .filter(|t| t.level == Level::Township)
        .filter_map(|t| {
            let county = div(t.parent)?;
            if t.statistical_only
                || county.statistical_only
                || t.name.contains('（')
                || county.level != Level::County
            {
                return None;
            }
            let (b, suffix) = split(&t.name)?;
            if b.chars().count() < 2
                || b.ends_with(['路', '街', '巷', '弄', '里', '道'])
                || per_county[&(t.parent?, b.clone())] > 1
            {
                return None;
            }
            let city = div(county.parent).filter(|c| !c.statistical_only);
            let front = format!("{}{}", city.map_or("", |c| c.name.as_str()), county.name);
            Some((make(front, &b, suffix)?, t.code()))
        })
        .collect()
}

#[test]
fn every_township_by_its_short_name_after_its_county() {
    let (d, p) = parser();
    let cases = townships_by_base(&d, |front, b, _| Some(format!("{front}{b}人民路1号")));
    let (n, wrong) = sweep_wrong(&p, cases.into_iter(), |m| m.town());
    // the few others read a community of the same county named like the township (打浦桥,
    // 仙霞新村 in Shanghai): still that county, never another one
    for (text, got, want) in &wrong {
        assert_eq!(
            got.as_deref().map(|g| &g[..6]),
            Some(&want[..6]),
            "{text}: {got:?}, expected {want}"
        );
    }
    assert!(n > 30_000, "{n}");
    assert!(
        wrong.len() <= 5,
        "{} of {n} wrong:\n{}",
        wrong.len(),
        listed(&wrong)
    );
}

/// Every township after its county under the suffix it had before it became a street or a
/// town (撤镇设街道, 撤乡设镇: 松陵镇 for 松陵街道, 某某乡 for 某某镇), as old addresses and
/// company registrations keep it: that township, with an `old_name` correction. Before, the
/// text stopped at the county.
#[test]
fn every_township_under_its_former_suffix_after_its_county() {
    let (d, p) = parser();
    let cases = townships_by_base(&d, |front, b, suffix| {
        let old = match suffix {
            "街道" => "镇",
            "镇" => "乡",
            _ => return None,
        };
        Some(format!("{front}{b}{old}人民路1号"))
    });
    let (n, wrong) = sweep_wrong(&p, cases.iter().cloned(), |m| m.town());
    assert!(n > 25_000, "{n}");
    // the others read a village or community of the county named alike (its short name
    // followed by 镇 or 乡): the county is still right
    wrong_only_within_the_county(&wrong, n, 1000);
    // the correction says so
    let (text, _) = &cases[0];
    let (norm, _) = normalize(text);
    let kinds: Vec<&str> = p
        .parse(&norm, None)
        .corrections()
        .iter()
        .map(|c| c.kind)
        .collect();
    assert!(kinds.contains(&"old_name"), "{text}: {kinds:?}");
}

/// Every street (街道) written with 街 alone after its county, before a road (番禺区大石街
/// 大涌路228号, as Guangzhou and Wuhan write them: 44 real cpca rows): that street; with its
/// number right after it (望京街10号) the same words are a road, and no street is read.
#[test]
fn every_street_written_with_jie_before_a_road() {
    let (d, p) = parser();
    let streets = |make: fn(&str, &str) -> String| {
        townships_by_base(&d, move |front, b, suffix| {
            (suffix == "街道").then(|| make(&front, b))
        })
    };
    let cases = streets(|front, b| format!("{front}{b}街人民路1号"));
    let (n, wrong) = sweep_wrong(&p, cases.into_iter(), |m| m.town());
    assert!(n > 7_000, "{n}");
    eprintln!(
        "streets written with 街 before a road: {} of {n} read",
        n - wrong.len()
    );
    // the others read a village or community of the county named alike: the county is
    // still right
    wrong_only_within_the_county(&wrong, n, 100);
    let cases = streets(|front, b| format!("{front}{b}街10号"));
    let (n, wrong) = sweep_wrong(&p, cases.into_iter(), |m| m.town());
    let read = n - wrong.len();
    eprintln!("X街10号: {read} of {n} read a street");
    assert!(read * 100 <= n, "{read} of {n} read a street in X街10号");
}

/// Real rows of `cpca_addr.csv` with a township's short name: it settles an ambiguous county
/// (朝阳区 of Beijing, not of Changchun, in 朝阳区望京SOHO), and a road named after the
/// place stays a road (中关村北大街, 东直门外小街, 马场道).
#[test]
fn township_short_names_in_real_rows() {
    let (_, p) = parser();
    let read = |q: &str| {
        let (norm, _) = normalize(q);
        let m = p.parse(&norm, None);
        let code = |x: Option<Part>| x.and_then(|x| x.code.map(String::from));
        (code(m.county()), code(m.town()), m.detail.to_string())
    };
    assert_eq!(
        read("朝阳区望京SOHO塔2A座17层1705室"),
        (
            Some("110105".into()),
            Some("110105026".into()),
            "SOHO塔2A座17层1705室".into()
        )
    );
    assert_eq!(read("江北五里店").0.as_deref(), Some("500105"));
    assert_eq!(
        read("上海市嘉定区南翔银翔路819号").1.as_deref(),
        Some("310114102")
    );
    for q in [
        "北京市海淀区中关村北大街甲28号海淀文化艺术大厦A座九层",
        "北京市东城区东直门外小街甲2号正东国际大厦B座1层",
        "天津市河西区马场道平安大厦",
    ] {
        let (county, town, _) = read(q);
        assert!(
            county.is_some() && town.is_none(),
            "{q}: {county:?} {town:?}"
        );
    }
}

/// Every county written with one character replaced by one read alike so that the name is a
/// county of another province (黄浦区 → 黄埔区, Guangzhou's), after its city's full name, reads
/// as that county, with a `fuzzy` correction: not as the other province's county.
#[test]
fn every_county_read_alike_as_another_provinces_after_its_city() {
    let (d, p) = parser();
    let divs = &d.tree.divs;
    let province = |mut i: usize| {
        while let Some(up) = divs[i].parent {
            i = up as usize;
        }
        i
    };
    let counties: Vec<usize> = (0..divs.len())
        .filter(|&i| divs[i].level == Level::County && !divs[i].statistical_only)
        .collect();
    let alike = |a: &str, b: &str| {
        read_alike(
            &a.chars().collect::<Vec<_>>(),
            &b.chars().collect::<Vec<_>>(),
        )
    };
    let mut cases = Vec::new();
    for &c in &counties {
        let Some(city) = divs[c].parent.map(|x| x as usize) else {
            continue;
        };
        if divs[city].level != Level::City || divs[city].statistical_only {
            continue;
        }
        for &o in &counties {
            let other = &divs[o].name;
            if province(o) == province(c)
                || other.chars().count() < 3
                || !alike(&divs[c].name, other)
            {
                continue;
            }
            // the name must not be a county of this province too, and only `c` of the city
            // may be read alike
            let here = |n: &str| {
                counties
                    .iter()
                    .any(|&x| province(x) == province(c) && divs[x].name == n)
            };
            let under_city = counties
                .iter()
                .filter(|&&x| divs[x].parent == Some(city as u32) && alike(&divs[x].name, other))
                .count();
            if here(other) || under_city != 1 {
                continue;
            }
            cases.push((
                format!("{}{other}人民路1号", divs[city].name),
                divs[c].code(),
            ));
        }
    }
    cases.sort();
    cases.dedup();
    sweep(&p, cases.into_iter(), 250, |m| m.county());
}

/// The characters of the common CJK block by reading, and the names of the code lists: to
/// write a division name with one character replaced by another read alike.
struct Slips<'a> {
    by_reading: std::collections::HashMap<&'static str, Vec<char>>,
    names: std::collections::HashSet<&'a str>,
}

impl<'a> Slips<'a> {
    fn new(d: &'a Divisions) -> Self {
        let mut by_reading: std::collections::HashMap<&str, Vec<char>> = Default::default();
        for c in '\u{4E00}'..='\u{9FA5}' {
            for r in reads(c) {
                by_reading.entry(r).or_default().push(c);
            }
        }
        let names = d.tree.divs.iter().map(|x| x.name.as_str()).collect();
        Slips { by_reading, names }
    }

    /// `chars` with character `k` replaced by the first other character of the same reading
    /// in code point order that leaves a name the normaliser keeps (not 乾, which zhconv makes
    /// 干), that is no division and in which nothing is read on its own but the slip as a
    /// whole (黄石亢区 holds the city's short name 黄石, 科尔沁乍翼中旗 the county 科尔沁区).
    fn at(&self, p: &DivisionParser, chars: &[char], k: usize) -> Option<Vec<char>> {
        reads(chars[k])
            .iter()
            .flat_map(|r| self.by_reading.get(r).into_iter().flatten())
            .copied()
            .filter(|&z| z != chars[k])
            .map(|z| {
                let mut t = chars.to_vec();
                t[k] = z;
                t
            })
            .find(|t| {
                let s: String = t.iter().collect();
                normalize(&s).0 == s && !self.names.contains(s.as_str()) && {
                    // (or read only as a whole, as a county misspelt: 静按区 alone)
                    let m = p.parse(&s, None);
                    m.hypotheses.is_empty()
                        || m.corrections()
                            .iter()
                            .all(|f| f.kind == "fuzzy" && f.from == s)
                }
            })
    }
}

/// Every city, with one character of its full name (杭洲市) or of its short name (杭洲) replaced
/// by another read alike, right before one of its counties (杭洲市西湖区: the county alone may be
/// another city's, 西湖区 of Nanchang), reads as that city and county with a `fuzzy`
/// correction. Before, nothing at all was read of 杭洲市西湖区文三路100号.
#[test]
fn every_city_misspelt_alike_before_one_of_its_counties() {
    let (d, p) = parser();
    let divs = &d.tree.divs;
    let slip = Slips::new(&d);
    let mut cases = Vec::new();
    for (ci, c) in divs.iter().enumerate() {
        if c.level != Level::City || c.statistical_only || !c.name.ends_with('市') {
            continue;
        }
        // its first county with a name of three characters or more
        let Some(county) = divs.iter().find(|x| {
            x.parent == Some(ci as u32)
                && x.level == Level::County
                && !x.statistical_only
                && x.name.chars().count() >= 3
        }) else {
            continue;
        };
        let full: Vec<char> = c.name.chars().collect();
        for name in [&full[..], &full[..full.len() - 1]] {
            if name.len() < 2 {
                continue;
            }
            for k in 0..name.len() - usize::from(name.len() == full.len()) {
                let Some(t) = slip.at(&p, name, k) else {
                    continue;
                };
                let typo: String = t.iter().collect();
                cases.push((format!("{typo}{}人民路1号", county.name), county.code()));
            }
        }
    }
    sweep(&p, cases.iter().cloned(), 800, |m| m.county());
    // the correction names the city
    let (text, _) = &cases[0];
    let (norm, _) = normalize(text);
    let fixes = p.parse(&norm, None).corrections();
    assert!(
        fixes
            .iter()
            .any(|f| f.kind == "fuzzy" && f.to.ends_with('市')),
        "{text}: {fixes:?}"
    );
}

/// Every county of three or four characters, misspelt alike as in the sweep above but with
/// nothing before it (静按区人民路1号: no province, no city), reads as that county with a
/// `fuzzy` correction; where counties of other provinces are one character from the same slip
/// (西胡区: 西湖区 of Hangzhou and of Nanchang), the parse names no county and lists them all.
/// Before, nothing at all was read of 静按区南京西路100号. (A slip ending in another county's
/// full name, 傆宝山区, is the stray-character rule's, and left out.)
#[test]
fn every_county_misspelt_alike_with_nothing_before_it() {
    let (d, p) = parser();
    let divs = &d.tree.divs;
    let slip = Slips::new(&d);
    let counties: Vec<(usize, Vec<char>)> = divs
        .iter()
        .enumerate()
        .filter(|(_, c)| c.level == Level::County && !c.statistical_only)
        .map(|(i, c)| (i, c.name.chars().collect()))
        .collect();
    let (mut one, mut several, mut wrong) = (0, 0, Vec::new());
    for (ci, chars) in &counties {
        let c = &divs[*ci];
        if !(3..=4).contains(&chars.len())
            || !matches!(chars.last(), Some('区' | '县' | '市' | '旗'))
        {
            continue;
        }
        for k in 0..chars.len() - 1 {
            let Some(t) = slip.at(&p, chars, k) else {
                continue;
            };
            // (a slip ending in another county's full name is read as that county after one or
            // two stray characters, 傆宝山区 as 宝山区: left out)
            if (1..=2).any(|j| {
                counties
                    .iter()
                    .any(|(_, x)| x.len() + j == t.len() && t[j..] == x[..])
            }) {
                continue;
            }
            let alike: Vec<String> = counties
                .iter()
                .filter(|(_, x)| read_alike(x, &t))
                .map(|(i, _)| divs[*i].code())
                .collect();
            let typo: String = t.iter().collect();
            let text = format!("{typo}人民路1号");
            let (norm, _) = normalize(&text);
            let m = p.parse(&norm, None);
            let codes: Vec<&str> = m
                .hypotheses
                .iter()
                .filter_map(|&n| p.nodes[n as usize].code.as_deref())
                .collect();
            let county = m.county().and_then(|x| x.code);
            let ok = if alike.len() == 1 {
                one += 1;
                county == Some(c.code().as_str())
                    && m.corrections()
                        .iter()
                        .any(|f| f.kind == "fuzzy" && f.from == typo)
            } else {
                several += 1;
                county.is_none() && alike.iter().all(|a| codes.contains(&a.as_str()))
            };
            if !ok {
                wrong.push(format!("{text}: {county:?} {codes:?}, expected {alike:?}"));
            }
        }
    }
    assert!(one > 3000 && several > 50, "{one} {several}");
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Every county, written after its city with one character (not the suffix) replaced by
/// another read alike so that the name is no division at all (上海市静按区, 杭州市西胡区: the
/// slips of a pinyin input method), reads as that county with a `fuzzy` correction. The
/// replacement is the first other character of the same reading in code point order that
/// names nothing; names that two counties of the city are alike are left out.
#[test]
fn every_county_misspelt_alike_after_its_city() {
    let (d, p) = parser();
    let divs = &d.tree.divs;
    let slip = Slips::new(&d);
    let mut cases = Vec::new();
    for (ci, c) in divs.iter().enumerate() {
        if c.level != Level::County || c.statistical_only {
            continue;
        }
        let Some(city) = c.parent.map(|x| &divs[x as usize]) else {
            continue;
        };
        if city.level != Level::City || city.statistical_only {
            continue;
        }
        let chars: Vec<char> = c.name.chars().collect();
        if chars.len() < 3 || !matches!(chars.last(), Some('区' | '县' | '市' | '旗')) {
            continue;
        }
        for k in 0..chars.len() - 1 {
            let Some(t) = slip.at(&p, &chars, k) else {
                continue;
            };
            let siblings = divs
                .iter()
                .enumerate()
                .filter(|(i, x)| {
                    *i != ci
                        && x.level == Level::County
                        && x.parent == c.parent
                        && read_alike(&x.name.chars().collect::<Vec<_>>(), &t)
                })
                .count();
            if siblings == 0 {
                let typo: String = t.iter().collect();
                cases.push((format!("{}{typo}人民路1号", city.name), c.code()));
            }
        }
    }
    sweep(&p, cases.into_iter(), 5000, |m| m.county());
}
