//! Geocoding free text against the address book: normalise, parse the divisions, find the
//! road (exact, then fuzzy within one edit), the house number (exact, else interpolated along
//! the road between the nearest numbers of the same parity), the compound and building.

use super::normalize::{normalize, Correction};
use super::parse::{
    one_read_alike_apart, parse_elements, DivisionMatch, Elements, CONNECTORS, CROSSING_WORDS,
};
use super::AddressBook;
use crate::divisions::Level;
use serde::Serialize;

/// One ranked candidate (coordinates WGS84; the HTTP layer converts). (Fields in alphabetical
/// order: answers are serialised as they are, with the keys sorted as in a `serde_json` map.)
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub address: String,
    pub code: Option<String>,
    pub confidence: f64,
    pub corrections: Vec<Correction>,
    pub division: Option<DivRef>,
    pub interpolated: bool,
    pub lat: Option<f64>,
    /// province, city, county, township, village, road, house_number, building
    pub level: &'static str,
    pub lon: Option<f64>,
    #[serde(skip)]
    pub rec: Option<u32>,
    pub status: Option<String>,
    pub successor: Option<String>,
    pub synthetic: bool,
}

/// (Fields in alphabetical order, as in [`Candidate`].)
#[derive(Debug, Clone, Serialize)]
pub struct DivRef {
    pub code: Option<String>,
    pub level: Level,
    pub name: String,
}

impl DivRef {
    fn of(n: &super::parse::Node) -> DivRef {
        DivRef {
            code: n.code.clone(),
            name: n.name.clone(),
            level: n.level,
        }
    }
}

/// The answer to one query.
#[derive(Debug, Clone, Serialize)]
pub struct Geocode {
    pub query: String,
    pub normalized: String,
    pub candidates: Vec<Candidate>,
}

/// Character edit distance, bounded (returns > max early).
pub fn edit_distance(a: &[char], b: &[char], max: usize) -> usize {
    if a.len().abs_diff(b.len()) > max {
        return max + 1;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        let mut row_min = cur[0];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
            row_min = row_min.min(cur[j + 1]);
        }
        if row_min > max {
            return max + 1;
        }
        prev = cur;
    }
    prev[b.len()]
}

fn level_conf(level: &str) -> f64 {
    match level {
        "building" => 1.0,
        "house_number" => 0.95,
        "intersection" => 0.85,
        "road" => 0.7,
        "village" => 0.6,
        "township" => 0.5,
        "county" => 0.4,
        "city" => 0.3,
        _ => 0.2,
    }
}

fn corr_penalty(c: &[Correction]) -> f64 {
    c.iter()
        .map(|c| match c.kind {
            "fuzzy" => fuzzy_penalty(&c.from, &c.to),
            "conflict" => 0.2,
            // the house is on the same road in a neighbouring street of the county
            "other_township" => 0.1,
            "old_name" | "inferred" => 0.03,
            // the house is on the second of two roads written one after the other
            "road_context" => 0.05,
            "short_name" => 0.01,
            _ => 0.0,
        })
        .sum()
}

/// What a `fuzzy` correction of `from` to `to` costs: a character replaced by one read alike
/// (福洲路 for 福州路, 黄埔区 for 黄浦区: the slip of a pinyin input method) costs least; any
/// other character replaced in a name with only two characters besides its suffix (黄埔路 read
/// as 黄河路) costs most, half the name being wrong; the rest (a character replaced in a longer
/// name, one added or left out) in between. `to` may be a full name ending with the name
/// corrected (上海市黄浦区 for 黄埔区).
fn fuzzy_penalty(from: &str, to: &str) -> f64 {
    let n = from.chars().count();
    // (the end of `to` as long as `from`)
    let to = to
        .char_indices()
        .rev()
        .nth(n.saturating_sub(1))
        .map_or("", |(i, _)| &to[i..]);
    if one_read_alike_apart(from, to) {
        0.1
    } else if n <= 3
        && to.chars().count() == n
        && from.chars().zip(to.chars()).filter(|(x, z)| x != z).count() == 1
    {
        0.3
    } else {
        0.15
    }
}

struct RoadHit {
    road: u32,
    /// characters of the detail before the road name
    start: usize,
    /// characters of the detail consumed by the road name
    len: usize,
    fuzzy: Option<String>,
}

impl AddressBook {
    /// Geocodes one query. `within`: division context (`city=`), `limit`: candidates.
    pub fn geocode(&self, q: &str, within: Option<u32>, limit: usize) -> Geocode {
        let (norm, mut corr0) = normalize(q);
        let mut cands: Vec<Candidate> = Vec::new();
        if let Some(ri) = self.alias_record(norm.as_ref()) {
            cands.push(self.rec_candidate(ri, "building", false, corr0.clone(), 0.0));
        }
        let m = self.parser.parse(&norm, within);
        let mut corr = corr0.clone();
        corr.extend(m.corrections());
        // the road: after the divisions; else after fewer division tokens (a village short
        // name such as 牛庄路 for 牛庄路居委会, or 南京 read as 南京市 in 南京东路)
        let mut hits = self.find_roads(m.detail, &m.hypotheses, true);
        let mut detail = m.detail;
        let mut fallback = false;
        // each division token from the last: where it starts, the hypotheses before it, and
        // its length in characters (where it ends: the next one starts, or the detail); only
        // wanted when no road follows the divisions
        // the divisions end at a connector (云南中路与汕头路交叉口: the community 云南中路居委会
        // read from its short name, then 与): the last token may be the first of two crossing
        // roads
        let crossing = CONNECTORS.iter().any(|c| m.detail.starts_with(c))
            || hits.iter().any(|h| {
                // or a road and a crossing word (牛庄路六合路路口: 牛庄路居委会, then 六合路口)
                let after = m
                    .detail
                    .char_indices()
                    .nth(h.len)
                    .map_or("", |(i, _)| &m.detail[i..]);
                // (or a connector: 西城云南南路与西城宁海东路交叉口, where 西城 was read as
                // 西城街道's short name and the street has a 云南南路 too)
                h.start == 0
                    && (CROSSING_WORDS.iter().any(|w| after.starts_with(w))
                        || CONNECTORS.iter().any(|c| after.starts_with(c)))
            });
        // only roads one edit away (or none) after the divisions: the last tokens may begin
        // the road, named exactly (长宁区新华普安路, where 新华 was read as 新华路街道's short
        // name and 新华路街道 has a 兴安路)
        let fuzzy_only = hits.iter().all(|h| h.fuzzy.is_some());
        let tokens: Vec<(usize, Vec<u32>, usize)> = if fuzzy_only || crossing {
            let ends = m
                .steps()
                .skip(1)
                .map(|(pos, _)| pos)
                .chain(std::iter::once(norm.len() - m.detail.len()));
            let mut t: Vec<_> = m
                .steps()
                .zip(ends)
                .map(|((pos, hy), end)| {
                    let hy: Vec<u32> = if hy.is_empty() {
                        within.into_iter().collect()
                    } else {
                        hy.to_vec()
                    };
                    (pos, hy, norm.get(pos..end).map_or(0, |t| t.chars().count()))
                })
                .collect();
            t.reverse();
            t
        } else {
            Vec::new()
        };
        if (fuzzy_only || crossing) && !self.roads.is_empty() {
            // (a road one edit away only where none was found after the divisions)
            let none = hits.is_empty();
            for (pos, hy, token) in tokens.iter().take(if fuzzy_only { usize::MAX } else { 1 }) {
                // the road must start inside the token (which it then reads as a road): one
                // that starts after it leaves the token a division, which the road must be in
                // (青岛市北区重庆南路 is not Huangpu's 重庆南路)
                let rest = &norm[*pos..];
                let mut h = self.find_roads(rest, hy, none);
                // (not a road whose name, followed by 街道, is the street's full name:
                // 淮海中路街道中山东一路5号 names 淮海中路街道, not the road 淮海中路)
                h.retain(|h| {
                    h.start < *token
                        && !rest
                            .char_indices()
                            .nth(h.len)
                            .is_some_and(|(i, _)| rest[i..].starts_with("街道"))
                });
                if !h.is_empty() {
                    hits = h;
                    detail = &norm[*pos..];
                    fallback = true;
                    break;
                }
            }
        }
        // a road of the county that the street or village named does not have (豫园街道广东路:
        // 广东路 runs through other streets of 黄浦区): the county's, reported as in another
        // township
        let mut named_township = None;
        // (also where the street has only a road one edit away: 豫园街道云南南路 is the county's
        // 云南南路, not 豫园's 河南南路)
        let fuzzy_only = !fallback && hits.iter().all(|h| h.fuzzy.is_some());
        if let ([t], true) = (m.hypotheses.as_slice(), fuzzy_only) {
            if let Some(county) = self.county_below(*t) {
                let h = self.find_roads(m.detail, &[county], hits.is_empty());
                if !h.is_empty() {
                    hits = h;
                    named_township = Some(*t);
                }
            }
        }
        // a compound without a road: after the divisions; else one whose name starts a
        // division token and goes on past it (景华湾小区 is not the village 景华居委会 of
        // another district, read from its short name 景华, followed by 湾小区)
        let mut compound = None;
        if hits.is_empty() {
            compound = self
                .find_compound(m.detail, &m.hypotheses)
                .map(|c| (c, m.detail));
            if compound.is_none() {
                for (pos, hy, token) in &tokens {
                    let rest = &norm[*pos..];
                    if let Some(c) = self.find_compound(rest, hy).filter(|&c| {
                        self.compounds[self.recs[c as usize].compound as usize]
                            .chars()
                            .count()
                            > *token
                    }) {
                        compound = Some((c, rest));
                        detail = rest;
                        fallback = true;
                        break;
                    }
                }
            }
        }
        // no road nor compound of the county read, which names nothing above or below it:
        // the road in a county of the book whose name reads alike (黄埔区福州路100号 sent to
        // Shanghai: 黄埔区 is Guangzhou's, and Shanghai's 黄浦区 has the 福州路), with a
        // `fuzzy` correction; the county read stays a candidate
        let mut alike = None;
        if hits.is_empty() && compound.is_none() && m.steps().len() == 1 {
            if let Some((county, h)) = self.roads_of_county_read_alike(&m) {
                alike = Some(Correction::new(
                    "fuzzy",
                    self.parser.nodes[m.hypotheses[0] as usize].name.clone(),
                    self.parser.full_name(county),
                ));
                hits = h;
            }
        }
        // a fallback reads the tokens from `detail` on as an address element, not as the
        // divisions they were first read as: their name corrections go
        let keep_fix = |x: &Correction| {
            !fallback
                || !(x.kind == "short_name" || x.kind == "old_name")
                || norm
                    .find(&x.from)
                    .is_some_and(|p| p + x.from.len() <= norm.len() - detail.len())
        };
        let readings = [(m, true)];
        for (m, primary) in &readings {
            if !hits.is_empty() {
                for h in &hits {
                    let mut c = corr.clone();
                    c.retain(keep_fix);
                    if let Some(f) = &h.fuzzy {
                        c.push(Correction::new(
                            "fuzzy",
                            f.clone(),
                            self.roads[h.road as usize].name.clone(),
                        ));
                    }
                    c.extend(alike.clone());
                    if let Some(t) = named_township {
                        c.push(Correction::new(
                            "other_township",
                            self.parser.full_name(t),
                            self.parser.full_name(self.roads[h.road as usize].node),
                        ));
                    }
                    if m.level.is_none_or(|l| l < Level::County) {
                        c.push(Correction::new(
                            "inferred",
                            "",
                            self.parser.full_name(self.roads[h.road as usize].node),
                        ));
                    }
                    let rest: String = detail.chars().skip(h.len).collect();
                    let at_crossing = self.intersection(h.road, &rest, &c);
                    if !at_crossing.is_empty() {
                        cands.extend(at_crossing);
                        continue;
                    }
                    let e = self.house_elements(h.road, &rest);
                    if e.lane.is_none() && e.number.is_none() {
                        cands.extend(self.house_on_next_road(h.road, &rest, &c));
                    }
                    let cand = self.road_candidate(h.road, &e, c, 0.0);
                    let more = (cand.rec.is_none() && (e.lane.is_some() || e.number.is_some()))
                        .then(|| self.in_other_townships(h.road, &hits, &e, &cand.corrections));
                    cands.push(cand);
                    cands.extend(more.into_iter().flatten());
                }
                if alike.is_none() {
                    continue;
                }
            }
            let mut corr = corr.clone();
            if let Some((c, detail)) = compound {
                corr.retain(keep_fix);
                let chars: Vec<char> = detail.chars().collect();
                let rest: String = chars[self.compounds[self.recs[c as usize].compound as usize]
                    .chars()
                    .count()
                    .min(chars.len())..]
                    .iter()
                    .collect();
                let e = parse_elements(&rest, Some(""));
                let recs = &self.compound_by_name
                    [&self.compounds[self.recs[c as usize].compound as usize]];
                let pick = e
                    .building
                    .and_then(|b| b.parse::<u32>().ok())
                    .and_then(|b| {
                        recs.iter()
                            .copied()
                            .find(|&r| self.recs[r as usize].building == b)
                    });
                let pen = 0.0;
                match pick {
                    Some(r) => cands.push(self.rec_candidate(r, "building", false, corr, pen)),
                    None => {
                        cands.push(self.rec_candidate(c, "house_number", false, corr, pen + 0.1))
                    }
                }
                continue;
            }
            if *primary {
                // division level only
                for &n in m.hypotheses.iter().take(limit.max(1)) {
                    let node = &self.parser.nodes[n as usize];
                    let level = node.level.as_str();
                    // the coordinate is the centroid of the book's addresses in the division;
                    // else (no addresses there) a point inside its polygon
                    let cen = self.centroid(n);
                    let (lon, lat) = cen
                        .or_else(|| self.centre(n))
                        .map(|(x, y)| (Some(x), Some(y)))
                        .unwrap_or((None, None));
                    let ambiguous = m.hypotheses.len() > 1;
                    cands.push(Candidate {
                        address: self.parser.full_name(n),
                        code: node.code.clone(),
                        lon,
                        lat,
                        level,
                        confidence: ((level_conf(level) - corr_penalty(&corr))
                            * if ambiguous { 0.5 } else { 1.0 })
                        .clamp(0.01, 1.0),
                        corrections: corr.clone(),
                        interpolated: false,
                        synthetic: cen.is_some() && self.synthetic_count > 0,
                        division: Some(DivRef::of(node)),
                        status: None,
                        successor: None,
                        rec: None,
                    });
                }
            }
        }
        corr0.clear();
        cands.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        // one candidate per address
        let mut seen = std::collections::HashSet::new();
        cands.retain(|c| seen.insert((c.address.clone(), c.code.clone())));
        cands.truncate(limit);
        for c in &mut cands {
            // two decimals (0.92, not 0.9199999999999999: the sums of the penalties)
            c.confidence = (c.confidence * 100.0).round() / 100.0;
        }
        Geocode {
            query: q.to_string(),
            normalized: norm.into_owned(),
            candidates: cands,
        }
    }

    /// The house asked for on road `road` (not found there) on the parts of the same road in
    /// the county's other townships and villages that the query did not name (`hits`: the
    /// parts it did): a road runs through several streets (街道), and its numbers go on
    /// across them (外滩街道广东路12号 is 南京东路街道's 广东路12号), so the exact house is a
    /// better answer than a point interpolated in the street named; the street given and the
    /// house's are reported (`other_township`).
    fn in_other_townships(
        &self,
        road: u32,
        hits: &[RoadHit],
        e: &Elements,
        corr: &[Correction],
    ) -> Vec<Candidate> {
        let r = &self.roads[road as usize];
        self.other_parts(road)
            .filter(|&o| !hits.iter().any(|h| h.road == o))
            .filter(|&o| self.has_house(o, e))
            .filter_map(|o| {
                let mut c = corr.to_vec();
                c.push(Correction::new(
                    "other_township",
                    self.parser.full_name(r.node),
                    self.parser.full_name(self.roads[o as usize].node),
                ));
                let cand = self.road_candidate(o, e, c, 0.0);
                cand.rec.is_some().then_some(cand)
            })
            .collect()
    }

    /// The other parts of road `road`'s name in its county (the same road in the other streets
    /// it runs through); none where it lies in no county below it (a road known only by its
    /// line).
    fn other_parts(&self, road: u32) -> impl Iterator<Item = u32> + '_ {
        let r = &self.roads[road as usize];
        let county = self.county_below(r.node);
        county
            .and_then(|_| self.road_by_name.get(&r.name))
            .into_iter()
            .flatten()
            .copied()
            .filter(move |&o| o != road && self.county_below(self.roads[o as usize].node) == county)
    }

    /// `rest` (the text after road `road`) names a crossing road (与河南中路交叉口,
    /// 河南中路口): the points where the two meet, as AMap's 道路交叉路口 level. From the
    /// road centre lines of the county where the book has both ([`super::roads`]: every
    /// junction of the two, the one with most crossing points first); else from the book's
    /// houses (the midpoint of the closest frontage houses of the two roads in the county,
    /// when they are less than `MEET_M` apart).
    fn intersection(&self, road: u32, rest: &str, corr: &[Correction]) -> Vec<Candidate> {
        let Some((county, other)) = self.crossing_road(road, rest) else {
            return Vec::new();
        };
        let r = &self.roads[road as usize];
        let code = self.parser.nodes[county as usize]
            .code
            .as_deref()
            .unwrap_or_default();
        if self.lines.has(code, &r.name) && self.lines.has(code, &other) {
            return self
                .lines
                .crossings(code, &r.name, &other)
                .into_iter()
                .map(|(lon, lat)| {
                    // the township: that of the nearest address of the county, if near
                    let near = self
                        .nearest(lon, lat, 300.0)
                        .map(|(ri, _)| ri)
                        .filter(|&ri| self.parser.is_within(self.node_of(ri), county));
                    let node = near.map_or(county, |ri| self.node_of(ri));
                    let synthetic = near.is_some_and(|ri| self.recs[ri as usize].synthetic());
                    self.crossing_candidate(node, &r.name, &other, (lon, lat), synthetic, corr)
                })
                .collect();
        }
        self.crossing_from_houses(road, county, &other, corr)
            .into_iter()
            .collect()
    }

    /// The road that `rest` names as crossing road `road` (with a connector or a crossing
    /// word), and the county of `road`.
    fn crossing_road(&self, road: u32, rest: &str) -> Option<(u32, String)> {
        let r = &self.roads[road as usize];
        let joined = CONNECTORS.iter().find_map(|c| rest.strip_prefix(c));
        let second = joined.unwrap_or(rest);
        let county = self.county_below(r.node).unwrap_or(r.node);
        let hit = self
            .find_roads(second, &[county], false)
            .into_iter()
            .filter(|x| x.start == 0 && x.fuzzy.is_none())
            .max_by_key(|x| x.len)?;
        let other = self.roads[hit.road as usize].name.clone();
        let after: String = second.chars().skip(hit.len).collect();
        let suffix = CROSSING_WORDS.iter().any(|s| after.starts_with(s));
        // a connector or a crossing word says it (广东路河南中路 alone may be a typo or two
        // roads written one after the other)
        if other == r.name || !(suffix || joined.is_some() && after.is_empty()) {
            return None;
        }
        Some((county, other))
    }

    /// [`intersection`](Self::intersection) from the houses of the two roads.
    fn crossing_from_houses(
        &self,
        road: u32,
        county: u32,
        other: &str,
        corr: &[Correction],
    ) -> Option<Candidate> {
        const MEET_M: f64 = 80.0;
        let r = &self.roads[road as usize];
        // the frontage houses (numbers and lane heads, no buildings or houses down a lane) of
        // each road's parts in the county
        let frontage = |name: &str| -> Vec<(f64, f64, u32)> {
            self.road_by_name
                .get(name)
                .into_iter()
                .flatten()
                .map(|&id| &self.roads[id as usize])
                .filter(|p| self.parser.is_within(p.node, county))
                .flat_map(|p| p.houses.iter())
                .filter(|((lane, number, _, building), _)| {
                    *building == 0 && (*lane == 0 || *number == 0)
                })
                .map(|&(_, ri)| {
                    let x = &self.recs[ri as usize];
                    (x.lon, x.lat, ri)
                })
                .collect()
        };
        let (a, b) = (frontage(&r.name), frontage(other));
        let lm = crate::crs::LocalMetric::new(a.first()?.0, a.first()?.1);
        let xy = |p: &(f64, f64, u32)| lm.fwd(p.0, p.1);
        let bs: Vec<(f64, f64)> = b.iter().map(xy).collect();
        let (d2, ia, ib) = a
            .iter()
            .map(xy)
            .enumerate()
            .flat_map(|(i, p)| {
                bs.iter()
                    .enumerate()
                    .map(move |(j, q)| ((p.0 - q.0).powi(2) + (p.1 - q.1).powi(2), i, j))
            })
            .min_by(|x, y| x.0.total_cmp(&y.0))?;
        if d2.sqrt() > MEET_M {
            return None;
        }
        let (pa, pb) = (&a[ia], &b[ib]);
        let node = self.recs[pa.2 as usize].node;
        let mid = ((pa.0 + pb.0) / 2.0, (pa.1 + pb.1) / 2.0);
        let synthetic = self.recs[pa.2 as usize].synthetic();
        Some(self.crossing_candidate(node, &r.name, other, mid, synthetic, corr))
    }

    fn crossing_candidate(
        &self,
        node: u32,
        a: &str,
        b: &str,
        (lon, lat): (f64, f64),
        synthetic: bool,
        corr: &[Correction],
    ) -> Candidate {
        let nd = &self.parser.nodes[node as usize];
        Candidate {
            address: format!("{}{}与{}交叉口", self.parser.full_name(node), a, b),
            code: None,
            lon: Some(lon),
            lat: Some(lat),
            level: "intersection",
            confidence: (level_conf("intersection") - corr_penalty(corr)).clamp(0.01, 1.0),
            corrections: corr.to_vec(),
            interpolated: false,
            synthetic,
            division: Some(DivRef::of(nd)),
            status: None,
            successor: None,
            rec: None,
        }
    }

    /// The elements of `rest`, the text after road `road`; a building numbered right after
    /// the road (云南南路11号楼) is the house of that number where the road has one (people
    /// write 11号楼 for the building at 11号), else the building it reads as.
    fn house_elements<'a>(&self, road: u32, rest: &'a str) -> Elements<'a> {
        let e = parse_elements(rest, Some(""));
        if e.lane.is_some() || e.number.is_some() {
            return e;
        }
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let Some(n) = rest[..digits]
            .parse::<u32>()
            .ok()
            .filter(|_| rest[digits..].starts_with("号楼"))
        else {
            return e;
        };
        let house = Elements {
            number: Some(n),
            building: None,
            ..e.clone()
        };
        if self.has_house(road, &house) {
            house
        } else {
            e
        }
    }

    /// `rest` (the text after road `road`, with no house number) begins with another road of
    /// the county and a house number (福州路河南中路100号: two roads written one after the
    /// other, the number is the second one's): the house on the second road, found or
    /// interpolated, with a `road_context` correction naming the first. Empty when the second
    /// road has no such number either.
    fn house_on_next_road(&self, road: u32, rest: &str, corr: &[Correction]) -> Vec<Candidate> {
        let r = &self.roads[road as usize];
        let county = self.county_below(r.node).unwrap_or(r.node);
        let mut out = Vec::new();
        for h in self
            .find_roads(rest, &[county], false)
            .into_iter()
            .filter(|x| x.start == 0 && self.roads[x.road as usize].name != r.name)
        {
            let after: String = rest.chars().skip(h.len).collect();
            let e = self.house_elements(h.road, &after);
            if e.lane.is_none() && e.number.is_none() {
                continue;
            }
            let mut c = corr.to_vec();
            // (a division inferred from the road is the second road's)
            for x in c.iter_mut().filter(|x| x.kind == "inferred") {
                x.to = self.parser.full_name(self.roads[h.road as usize].node);
            }
            c.push(Correction::new("road_context", r.name.clone(), ""));
            let cand = self.road_candidate(h.road, &e, c, 0.0);
            if cand.level != "road" {
                out.push(cand);
            }
        }
        out
    }

    /// Does road `road` have the house (or lane) numbered as in `e`?
    fn has_house(&self, road: u32, e: &Elements) -> bool {
        let (lane, number) = (e.lane.unwrap_or(0), e.number.unwrap_or(0));
        let sub = e.sub.unwrap_or(0);
        self.roads[road as usize]
            .houses
            .iter()
            .any(|h| h.0 .0 == lane && h.0 .1 == number && h.0 .2 == sub)
    }

    /// The roads named at the start of `m`'s detail in the one county of the book whose name
    /// is one character from the name of every county `m` reads (and nothing else), the two
    /// characters read alike; None where no such county or several have such a road.
    fn roads_of_county_read_alike(&self, m: &DivisionMatch) -> Option<(u32, Vec<RoadHit>)> {
        let nodes = &self.parser.nodes;
        let names: Vec<&str> = m
            .hypotheses
            .iter()
            .map(|&n| &nodes[n as usize])
            .filter(|n| n.level == Level::County)
            .map(|n| n.name.as_str())
            .collect();
        if names.is_empty() || names.len() != m.hypotheses.len() {
            return None;
        }
        let mut found = None;
        for &c in self.centroids.keys() {
            let cn = &nodes[c as usize];
            if cn.level != Level::County
                || m.hypotheses.contains(&c)
                || !names.iter().all(|n| one_read_alike_apart(n, &cn.name))
            {
                continue;
            }
            let h = self.find_roads(m.detail, &[c], false);
            if h.iter().any(|h| h.start == 0) {
                if found.is_some() {
                    return None;
                }
                found = Some((c, h));
            }
        }
        found
    }

    /// The county that division `n` lies in, when `n` is below county level.
    fn county_below(&self, n: u32) -> Option<u32> {
        let nodes = &self.parser.nodes;
        (nodes[n as usize].level > Level::County)
            .then(|| {
                self.parser
                    .chain(n)
                    .into_iter()
                    .find(|&c| nodes[c as usize].level == Level::County)
            })
            .flatten()
    }

    fn consistent(&self, node: u32, hyps: &[u32]) -> bool {
        hyps.is_empty()
            || hyps
                .iter()
                .any(|&h| self.parser.is_within(node, h) || self.parser.is_within(h, node))
    }

    /// Roads named at the start of `detail` (longest name first), consistent with the division
    /// hypotheses; if none and `fuzzy`, a road within one edit of the road-like word of the
    /// detail.
    fn find_roads(&self, detail: &str, hyps: &[u32], fuzzy: bool) -> Vec<RoadHit> {
        let bounds: Vec<usize> = detail
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(detail.len()))
            .collect();
        let n = bounds.len() - 1;
        let mut out = Vec::new();
        // skip a township name left in the detail (上海市南京东路街道南京东路…) is handled by the
        // parser; here the road must start the detail, possibly after up to 6 unknown chars
        for start in 0..n.min(7) {
            for len in (2..=self.max_road_chars.min(n - start)).rev() {
                let key = &detail[bounds[start]..bounds[start + len]];
                if let Some(ids) = self.road_by_name.get(key) {
                    for &id in ids {
                        if self.consistent(self.roads[id as usize].node, hyps) {
                            out.push(RoadHit {
                                road: id,
                                start,
                                len: start + len,
                                fuzzy: None,
                            });
                        }
                    }
                    if !out.is_empty() {
                        if start > 0 && fuzzy {
                            // unknown characters were skipped before an exact name: a name
                            // within one edit that spans them too explains the whole text
                            // better (东东福建中路 is a typo of 东兴福建中路, not 福建中路
                            // after two stray characters)
                            let fz = self.fuzzy_roads(detail, hyps);
                            let end = start + len;
                            let spanning: Vec<RoadHit> =
                                fz.into_iter().filter(|h| h.len == end).collect();
                            if !spanning.is_empty() {
                                return spanning;
                            }
                        }
                        return out;
                    }
                }
            }
        }
        if fuzzy {
            out = self.fuzzy_roads(detail, hyps);
        }
        out
    }

    /// Roads within one edit of the road-like word at the start of `detail`.
    fn fuzzy_roads(&self, detail: &str, hyps: &[u32]) -> Vec<RoadHit> {
        let mut out = Vec::new();
        let Some(word) = super::parse::road_word(detail) else {
            return out;
        };
        let w: Vec<char> = word.chars().collect();
        if w.len() < 3 {
            return out;
        }
        for name in self.roads_within_one_edit(word) {
            let ids = &self.road_by_name[name];
            {
                for &id in ids {
                    if self.consistent(self.roads[id as usize].node, hyps) {
                        out.push(RoadHit {
                            road: id,
                            start: 0,
                            len: w.len(),
                            fuzzy: Some(word.to_string()),
                        });
                    }
                }
            }
        }
        // a substitution (same length) is likelier than an insertion or a deletion, and a
        // character read alike likelier than any other (黄埔路: a 黄浦路 before a 黄河路)
        let keep_first = |out: &mut Vec<RoadHit>, f: &dyn Fn(&str) -> bool| {
            if out.iter().any(|h| f(&self.roads[h.road as usize].name)) {
                out.retain(|h| f(&self.roads[h.road as usize].name));
            }
        };
        keep_first(&mut out, &|n| n.chars().count() == w.len());
        keep_first(&mut out, &|n| one_read_alike_apart(word, n));
        out.sort_by_key(|h| h.road);
        out
    }

    fn find_compound(&self, detail: &str, hyps: &[u32]) -> Option<u32> {
        let bounds: Vec<usize> = detail
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(detail.len()))
            .collect();
        let n = bounds.len() - 1;
        for len in (2..=self.max_compound_chars.min(n)).rev() {
            if let Some(rs) = self.compound_by_name.get(&detail[..bounds[len]]) {
                if let Some(&r) = rs
                    .iter()
                    .find(|&&r| self.consistent(self.recs[r as usize].node, hyps))
                {
                    return Some(r);
                }
            }
        }
        None
    }

    /// A road the book knows only by its centre line (no house): the middle of the line, at
    /// road level, in its county.
    fn line_road_candidate(&self, r: &super::Road, corr: Vec<Correction>, pen: f64) -> Candidate {
        let nd = &self.parser.nodes[r.node as usize];
        let p = nd
            .code
            .as_deref()
            .and_then(|code| self.lines.midpoint(code, &r.name));
        Candidate {
            address: format!("{}{}", self.parser.full_name(r.node), r.name),
            code: None,
            lon: p.map(|p| p.0),
            lat: p.map(|p| p.1),
            level: "road",
            confidence: (level_conf("road") - corr_penalty(&corr) - pen).clamp(0.01, 1.0),
            corrections: corr,
            interpolated: false,
            synthetic: false,
            division: Some(DivRef::of(nd)),
            status: None,
            successor: None,
            rec: None,
        }
    }

    fn rec_candidate(
        &self,
        ri: u32,
        level: &'static str,
        interpolated: bool,
        corr: Vec<Correction>,
        penalty: f64,
    ) -> Candidate {
        let a = self.address(ri);
        let node = &self.parser.nodes[self.recs[ri as usize].node as usize];
        let mut conf = level_conf(level) - corr_penalty(&corr) - penalty;
        if a.status == "retired" {
            conf -= 0.05;
        }
        Candidate {
            address: self.full_text(ri),
            code: Some(a.code),
            lon: Some(a.lon),
            lat: Some(a.lat),
            level,
            confidence: conf.clamp(0.01, 1.0),
            corrections: corr,
            interpolated,
            synthetic: a.synthetic,
            division: Some(DivRef::of(node)),
            status: Some(a.status),
            successor: a.successor,
            rec: Some(ri),
        }
    }

    fn road_candidate(
        &self,
        road: u32,
        e: &Elements,
        corr: Vec<Correction>,
        pen: f64,
    ) -> Candidate {
        let r = &self.roads[road as usize];
        if r.houses.is_empty() {
            return self.line_road_candidate(r, corr, pen);
        }
        let want_lane = e.lane.unwrap_or(0);
        let want_num = e.number.unwrap_or(0);
        let want_sub = e.sub.unwrap_or(0);
        let want_b = e.building.and_then(|b| b.parse::<u32>().ok()).unwrap_or(0);
        let has_number = e.lane.is_some() || e.number.is_some();
        let find = |k: (u32, u32, u32, u32)| {
            r.houses
                .binary_search_by(|h| h.0.cmp(&k))
                .ok()
                .map(|i| r.houses[i].1)
        };
        if has_number {
            if want_b != 0 {
                if let Some(ri) = find((want_lane, want_num, want_sub, want_b)) {
                    let pen = pen + self.other_compound(ri, e);
                    return self.rec_candidate(ri, "building", false, corr, pen);
                }
            }
            if let Some(ri) = find((want_lane, want_num, want_sub, 0)) {
                let pen = pen + self.other_compound(ri, e);
                return self.rec_candidate(ri, "house_number", false, corr, pen);
            }
            // a building of that number (the number itself is a compound)
            if let Some(&(_, ri)) = r
                .houses
                .iter()
                .find(|h| h.0 .0 == want_lane && h.0 .1 == want_num && h.0 .2 == want_sub)
            {
                let pen = pen + 0.02 + self.other_compound(ri, e);
                return self.rec_candidate(ri, "house_number", false, corr, pen);
            }
            // interpolate along the road on the same side (parity) by the street number,
            // unless the house is on the road's part in another street of the county (then
            // that house is the answer: `in_other_townships`)
            let key = if want_lane != 0 { want_lane } else { want_num };
            let elsewhere = self.other_parts(road).any(|o| self.has_house(o, e));
            let at_number = (!elsewhere).then(|| self.interpolate(road, key)).flatten();
            if let Some(((lon, lat), at)) = at_number {
                // (the street of the numbers it lies between: a road's numbers go on across
                // the streets it runs through)
                let mut corr = corr;
                if at != r.node {
                    corr.push(Correction::new(
                        "other_township",
                        self.parser.full_name(r.node),
                        self.parser.full_name(at),
                    ));
                }
                let node = &self.parser.nodes[at as usize];
                let mut address = self.parser.full_name(at);
                address.push_str(&r.name);
                address.push_str(&super::format_number(want_lane, want_num, want_sub));
                return Candidate {
                    address,
                    code: None,
                    lon: Some(lon),
                    lat: Some(lat),
                    level: "house_number",
                    confidence: (0.8 - corr_penalty(&corr) - pen).clamp(0.01, 1.0),
                    corrections: corr,
                    interpolated: true,
                    synthetic: self.recs[r.houses[0].1 as usize].synthetic(),
                    division: Some(DivRef::of(node)),
                    status: None,
                    successor: None,
                    rec: None,
                };
            }
        }
        // road level: the middle house of the road
        let mid = r.houses[r.houses.len() / 2].1;
        let mut c = self.rec_candidate(mid, "road", false, corr, pen);
        let mut address = self.parser.full_name(r.node);
        address.push_str(&r.name);
        c.address = address;
        c.code = None;
        c.status = None;
        c.successor = None;
        c.rec = None;
        c
    }

    /// 0.02 when the text names a compound that is not the record's (neither name holds the
    /// other): the same road and number in two counties of one name (普陀区 of 上海 and of
    /// 舟山) are told apart by the compound the text names.
    fn other_compound(&self, ri: u32, e: &Elements) -> f64 {
        let Some(named) = e.compound else {
            return 0.0;
        };
        let c = self.recs[ri as usize].compound;
        let same = c != super::NONE && {
            let own = self.compounds[c as usize].as_str();
            own.contains(named) || named.contains(own)
        };
        if same {
            0.0
        } else {
            0.02
        }
    }

    /// Position of street number `key` on road `r` between the nearest numbers of the same
    /// parity (the street-level number: 弄 number for lanes, else the house number) of the
    /// road's parts in its county (its numbers go on across the streets it runs through), and
    /// the division of the nearer of the two; None far outside the numbers known.
    fn interpolate(&self, road: u32, key: u32) -> Option<((f64, f64), u32)> {
        let r = &self.roads[road as usize];
        let mut pts: Vec<(u32, u32)> = std::iter::once(road)
            .chain(self.other_parts(road))
            .flat_map(|p| self.roads[p as usize].houses.iter())
            .filter(|h| h.0 .3 == 0 && h.0 .2 == 0)
            .map(|h| (if h.0 .0 != 0 { h.0 .0 } else { h.0 .1 }, h.1))
            .filter(|(k, ri)| *k % 2 == key % 2 && *k != 0 && !self.recs[*ri as usize].retired())
            .collect();
        if pts.is_empty() {
            return None;
        }
        pts.sort_unstable();
        pts.dedup_by_key(|p| p.0);
        let i = pts.partition_point(|p| p.0 < key);
        let at = |j: usize| {
            let rr = &self.recs[pts[j].1 as usize];
            (rr.lon, rr.lat)
        };
        let node = |j: usize| self.recs[pts[j].1 as usize].node;
        // before the first or past the last number known on that side: the end of the road,
        // up to `BEYOND` numbers away; further, the number is not on the part of the road the
        // book knows (9999号 of a road numbered to 60) and the answer stays at the road
        const BEYOND: u32 = 10;
        if i == 0 {
            return (pts[0].0 - key <= BEYOND).then(|| (at(0), node(0)));
        }
        if i >= pts.len() {
            let j = pts.len() - 1;
            return (key - pts[j].0 <= BEYOND).then(|| (at(j), node(j)));
        }
        let (k0, k1) = (pts[i - 1].0 as f64, pts[i].0 as f64);
        let t = (key as f64 - k0) / (k1 - k0);
        let (a, b) = (at(i - 1), at(i));
        let p = self
            .along_line(r, a, b, t)
            .unwrap_or((a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t));
        Some((p, node(if t <= 0.5 { i - 1 } else { i })))
    }

    /// The point a fraction `t` of the way from house `a` to house `b` of road `r` along the
    /// road's centre line (a measure and a side offset between theirs), where the book has
    /// the road's line and both houses lie within `NEAR_M` of the same chain of it: on a bend,
    /// the straight line between the houses cuts the corner.
    fn along_line(
        &self,
        r: &super::Road,
        a: (f64, f64),
        b: (f64, f64),
        t: f64,
    ) -> Option<(f64, f64)> {
        const NEAR_M: f64 = 40.0;
        if self.lines.is_empty() {
            return None;
        }
        let county = self.county_below(r.node)?;
        let code = self.parser.nodes[county as usize].code.as_deref()?;
        let (la, da) = self.lines.locate(code, &r.name, a)?;
        let (lb, db) = self.lines.locate(code, &r.name, b)?;
        // (and not where the chain between them is much longer than the straight line: the
        // two carriageways of a divided road joined at its end into one chain out and back,
        // the houses on either)
        let straight = crate::crs::distance_m(a, b);
        if la.chain != lb.chain
            || da > NEAR_M
            || db > NEAR_M
            || (lb.m - la.m).abs() > 2.0 * straight + 20.0
        {
            return None;
        }
        let at = super::roads::Along {
            chain: la.chain,
            m: la.m + (lb.m - la.m) * t,
            offset: la.offset + (lb.offset - la.offset) * t,
        };
        self.lines.point_at(code, &r.name, at)
    }
}

#[cfg(test)]
mod tests {
    use super::fuzzy_penalty;
    use crate::addresses::AddressBook;

    /// A crossing is placed from the road lines where the book has them, and from the two
    /// roads' closest frontage houses where it has none (a book imported without lines):
    /// both land at the junction of 河南中路 and 福州路.
    #[test]
    fn a_crossing_from_the_lines_and_without_them_from_the_houses() {
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
        let d = crate::divisions::Divisions::build(crate::store::load_embedded(&data).unwrap())
            .unwrap();
        let mut b = AddressBook::load_embedded(&d, &data).unwrap();
        assert!(b.lines.len() >= 136, "{} road lines", b.lines.len());
        // (the 263 pairs of roads whose lines share a point, one junction each at least, and
        // pairs meeting twice or ending short of each other: 288)
        assert!(
            (263..=300).contains(&b.lines.junction_count()),
            "{} junctions",
            b.lines.junction_count()
        );
        let at = |b: &AddressBook| {
            let g = b.geocode("黄浦区河南中路与福州路交叉口", None, 5);
            let c = &g.candidates[0];
            assert_eq!(c.level, "intersection", "{:?}", c);
            assert!(
                c.address.ends_with("河南中路与福州路交叉口"),
                "{}",
                c.address
            );
            (c.lon.unwrap(), c.lat.unwrap())
        };
        let from_lines = at(&b);
        // the OSM node the two ways share
        let node = (121.48125, 31.23668);
        let d_lines = crate::crs::distance_m(from_lines, node);
        b.lines = Default::default();
        let from_houses = at(&b);
        let d_houses = crate::crs::distance_m(from_houses, node);
        assert!(d_lines < 15.0, "lines: {from_lines:?} {d_lines:.0} m");
        assert!(d_houses < 50.0, "houses: {from_houses:?} {d_houses:.0} m");
    }

    /// Interpolation on a sparse book: the sample thinned to every `K`th house number on
    /// each side of each road (every row of the other numbers dropped, lanes kept), then each
    /// dropped number asked for: the interpolated point against the house's true one, along
    /// the road's centre line and, with the lines taken away, on the straight line between
    /// the two numbers known.
    #[test]
    fn interpolation_along_the_road_line_on_a_sparse_book() {
        const K: u32 = 5;
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
        let d = crate::divisions::Divisions::build(crate::store::load_embedded(&data).unwrap())
            .unwrap();
        let (rows, _) = crate::addresses::import::read_csv(
            &data.join("addresses/huangpu_addresses.csv"),
            crate::crs::Crs::Wgs84,
            encoding_rs::UTF_8,
        )
        .unwrap();
        // the frontage number of a row: (road, number) for 12号 alone
        let frontage = |a: &crate::addresses::Address| -> Option<(String, u32)> {
            let n = a.number.as_deref()?;
            let (lane, num, sub) = crate::addresses::parse_number(n)?;
            let road = a.road.clone()?;
            (lane == 0 && sub == 0 && a.status == "current").then_some((road, num))
        };
        let kept = |n: u32| ((n - 1) / 2).is_multiple_of(K);
        let mut asked = Vec::new();
        let mut book_rows = Vec::new();
        for a in rows {
            match frontage(&a) {
                Some((road, n)) if !kept(n) => {
                    if a.building.is_none() && a.compound.is_none() {
                        asked.push((road, n, (a.lon, a.lat)));
                    }
                }
                _ => book_rows.push(a),
            }
        }
        let (mut b, errs) = AddressBook::build(&d, book_rows, "thinned");
        assert!(errs.is_empty());
        b.load_road_lines(&data).unwrap();
        let errors = |b: &AddressBook| -> Vec<f64> {
            let mut e: Vec<f64> = asked
                .iter()
                .filter_map(|(road, n, truth)| {
                    let g = b.geocode(&format!("黄浦区{road}{n}号"), None, 1);
                    let c = g.candidates.first()?;
                    c.interpolated
                        .then(|| crate::crs::distance_m((c.lon.unwrap(), c.lat.unwrap()), *truth))
                })
                .collect();
            e.sort_by(f64::total_cmp);
            e
        };
        let q = |e: &[f64], p: f64| e[((e.len() - 1) as f64 * p) as usize];
        let on_line = errors(&b);
        b.lines = Default::default();
        let chord = errors(&b);
        eprintln!(
            "{} asked; along the line: {} interpolated, median {:.1} m, p90 {:.1} m, max {:.1} m; \
             straight: {} interpolated, median {:.1} m, p90 {:.1} m, max {:.1} m",
            asked.len(),
            on_line.len(),
            q(&on_line, 0.5),
            q(&on_line, 0.9),
            q(&on_line, 1.0),
            chord.len(),
            q(&chord, 0.5),
            q(&chord, 0.9),
            q(&chord, 1.0)
        );
        // 1,529 of 1,575 interpolated (the others: past a road's known numbers, or a road
        // the thinned book lost); along the line median 2.0 m, p90 30.1 m; straight 2.9 m,
        // 30.1 m. Before the numbers of a road's other streets were used, the straight line
        // gave median 4.2 m and p90 73.6 m (a number past the part of the road in one street
        // was put at that part's end).
        assert!(on_line.len() * 10 >= asked.len() * 9, "{}", on_line.len());
        assert!(q(&on_line, 0.5) < q(&chord, 0.5) && q(&on_line, 0.5) < 2.5);
        assert!(q(&on_line, 0.9) <= q(&chord, 0.9) && q(&on_line, 0.9) < 40.0);
    }

    /// A current synthetic house number `n` of `road` in `division`, at `(lon, lat)`.
    fn synthetic_house(
        division: &str,
        road: &str,
        n: u32,
        compound: Option<&str>,
        (lon, lat): (f64, f64),
    ) -> crate::addresses::Address {
        crate::addresses::Address {
            code: String::new(),
            division: division.into(),
            road: Some(road.into()),
            number: Some(format!("{n}号")),
            compound: compound.map(String::from),
            building: None,
            lon,
            lat,
            status: "current".into(),
            successor: None,
            aliases: Vec::new(),
            synthetic: true,
        }
    }

    /// A road named after its street (外滩甲路 in 外滩街道, which also has a 甲路): where the
    /// text goes on with a connector, the street's short name is read as the start of the
    /// road, and the crossing is placed (before, 甲路 of the street answered at road level).
    #[test]
    fn a_crossing_of_roads_named_after_their_street() {
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
        let d = crate::divisions::Divisions::build(crate::store::load_embedded(&data).unwrap())
            .unwrap();
        let house = |road: &str, n: u32, lon: f64, lat: f64| {
            synthetic_house("310101013", road, n, None, (lon, lat))
        };
        let mut rows = Vec::new();
        for k in 0..10u32 {
            let t = k as f64 * 0.0005;
            // 外滩甲路 west to east and 外滩乙路 south to north, meeting at (121.4875, 31.2375)
            rows.push(house("外滩甲路", 2 * k + 1, 121.485 + t, 31.2376));
            rows.push(house("外滩甲路", 2 * k + 2, 121.485 + t, 31.2374));
            rows.push(house("外滩乙路", 2 * k + 1, 121.4874, 31.235 + t));
            rows.push(house("外滩乙路", 2 * k + 2, 121.4876, 31.235 + t));
            rows.push(house("甲路", k + 1, 121.49 + t, 31.24));
        }
        let (b, errs) = AddressBook::build(&d, rows, "test");
        assert!(errs.is_empty(), "{errs:?}");
        let g = b.geocode("黄浦区外滩甲路与外滩乙路交叉口", None, 3);
        let c = &g.candidates[0];
        assert_eq!(c.level, "intersection", "{c:?}");
        let (lon, lat) = (c.lon.unwrap(), c.lat.unwrap());
        assert!(
            (lon - 121.4875).abs() < 3e-4 && (lat - 31.2375).abs() < 3e-4,
            "{lon} {lat}"
        );
    }

    /// 普陀区 is a district of 上海 and of 舟山: the same road and number in both is told
    /// apart by the compound the text names (and without one, the answer is either).
    #[test]
    fn the_compound_named_picks_between_two_counties_of_one_name() {
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
        let d = crate::divisions::Divisions::build(crate::store::load_embedded(&data).unwrap())
            .unwrap();
        let town = |county: &str| {
            let c = d.tree.find(county).unwrap();
            d.tree.get(d.tree.get(c).children[0]).short.clone()
        };
        let house = |county: &str, compound: &str, lon: f64| {
            synthetic_house(&town(county), "测绘路", 5, Some(compound), (lon, 30.0))
        };
        let rows = vec![
            house("310107", "甲园小区", 121.4),
            house("330903", "乙园小区", 122.3),
        ];
        let (b, errs) = AddressBook::build(&d, rows, "test");
        assert!(errs.is_empty(), "{errs:?}");
        for (q, lon, county) in [
            ("普陀区测绘路5号乙园小区", 122.3, "330903"),
            ("普陀区测绘路5号甲园小区", 121.4, "310107"),
            ("普陀测绘路5号乙园小区", 122.3, "330903"),
        ] {
            let g = b.geocode(q, None, 2);
            let c = &g.candidates[0];
            assert_eq!(c.lon, Some(lon), "{q}: {c:?}");
            assert!(c.code.as_deref().unwrap().starts_with(county), "{q}: {c:?}");
            assert!(g.candidates[1].confidence < c.confidence, "{q}: {g:?}");
        }
    }

    #[test]
    fn a_fuzzy_correction_costs_by_what_changed() {
        // a character read alike, in a road or a county (the full name ends with it)
        assert_eq!(fuzzy_penalty("福洲路", "福州路"), 0.1);
        assert_eq!(fuzzy_penalty("黄埔区", "上海市黄浦区"), 0.1);
        // another character, half of a short name
        assert_eq!(fuzzy_penalty("黄埔路", "黄河路"), 0.3);
        // another character of a longer name; one added or left out
        assert_eq!(fuzzy_penalty("中山西一路", "中山东一路"), 0.15);
        assert_eq!(fuzzy_penalty("去福州路", "福州路"), 0.15);
        assert_eq!(fuzzy_penalty("福州", "福州路"), 0.15);
    }
}
