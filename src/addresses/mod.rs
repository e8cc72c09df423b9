//! The standard address database (标准地名地址库): address model, import, normalisation,
//! parsing and geocoding. (Issue: standard address database and geocoding.)
//!
//! Model (GB/T 35639 / GA/T 2000.32 address elements): division chain down to the township or
//! village ([`Address::division`], a 9- or 12-digit code), road/lane (街路巷), house number
//! (门牌号: `12号`, `12-3号`, `45弄6号`, `45弄3支弄2号`), compound (小区), building (幢), and a
//! stable standard address code: the division code followed by a 12-digit serial derived from
//! the elements (so re-generating or re-importing the same address gives the same code).
//! Status `current` or `retired` (with the code of the successor), aliases.
//!
//! In memory ([`AddressBook`]): compact records, an R-tree on the points, a road-name index
//! (per road: houses sorted by lane/number for exact lookup and interpolation), a compound index
//! and an alias index; plus the [`parse::DivisionParser`] dictionary.

pub mod bench;
pub mod generate;
pub mod geocode;
pub mod import;
mod keytrie;
pub mod normalize;
pub mod parse;
pub mod roads;

use crate::divisions::{Divisions, Level};
use anyhow::{bail, Context, Result};
use parse::{parse_elements, DivisionParser};
use rstar::primitives::GeomWithData;
use rstar::RTree;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// A standard address as imported/exported (coordinates WGS84/CGCS2000).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Address {
    /// stable standard address code (division code + 12-digit serial)
    pub code: String,
    /// deepest division code of the address: 9 digits (township) or 12 (village/community)
    pub division: String,
    pub road: Option<String>,
    /// house number text: "12号", "12-3号", "45弄6号"
    pub number: Option<String>,
    pub compound: Option<String>,
    /// building text: "3幢"
    pub building: Option<String>,
    pub lon: f64,
    pub lat: f64,
    /// "current" or "retired"
    pub status: String,
    pub successor: Option<String>,
    pub aliases: Vec<String>,
    pub synthetic: bool,
}

const NONE: u32 = u32::MAX;

/// Hash map with a fast non-cryptographic hasher (keys are our own data, not attacker input
/// that could be used to flood buckets: query text is only looked up, never inserted).
pub type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

fn alias_hash(s: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::default().hash_one(s)
}

/// A bitmap over hashed character pairs (by default 2^18 bits, 32 KB: stays in cache):
/// "surely absent" in front of a lookup that would miss the cache (a hash set, a large trie).
#[derive(Clone)]
pub struct PairBits {
    bits: Vec<u64>,
    log2: u32,
}

impl Default for PairBits {
    fn default() -> Self {
        PairBits::with_log2(18)
    }
}

impl PairBits {
    /// A bitmap of 2^`log2` bits (6 ≤ `log2` ≤ 32).
    pub fn with_log2(log2: u32) -> Self {
        let log2 = log2.clamp(6, 32);
        PairBits {
            bits: vec![0; (1usize << log2) / 64],
            log2,
        }
    }

    #[inline]
    fn slot_u32(&self, a: u32, b: u32) -> usize {
        let x = ((a as u64) << 21 | b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (x >> (64 - self.log2)) as usize
    }

    pub fn insert(&mut self, a: char, b: char) {
        self.insert_u32(a as u32, b as u32);
    }

    /// [`PairBits::insert`] of two numbers (code points, or anything hashed into them).
    pub fn insert_u32(&mut self, a: u32, b: u32) {
        let h = self.slot_u32(a, b);
        self.bits[h / 64] |= 1 << (h % 64);
    }

    /// Inserts the first two characters of `s` (nothing for a shorter `s`).
    pub fn insert_prefix(&mut self, s: &str) {
        let mut cs = s.chars();
        if let (Some(a), Some(b)) = (cs.next(), cs.next()) {
            self.insert(a, b);
        }
    }

    /// False: the pair was never inserted. True: it may have been.
    #[inline]
    pub fn may_contain(&self, a: char, b: char) -> bool {
        self.may_contain_u32(a as u32, b as u32)
    }

    /// [`PairBits::may_contain`] of two code points.
    #[inline]
    pub fn may_contain_u32(&self, a: u32, b: u32) -> bool {
        let h = self.slot_u32(a, b);
        self.bits[h / 64] & (1 << (h % 64)) != 0
    }
}

/// Compact in-memory record (56 bytes).
#[derive(Debug, Clone)]
struct Rec {
    node: u32,
    road: u32,
    lane: u32,
    number: u32,
    sub: u32,
    compound: u32,
    building: u32,
    successor: u32,
    lon: f64,
    lat: f64,
    /// the 12-digit serial of the code (below 2^40), and the flags `RETIRED` and `SYNTHETIC`
    serial_flags: u64,
}

const RETIRED: u64 = 1 << 62;
const SYNTHETIC: u64 = 1 << 61;

impl Rec {
    fn serial(&self) -> u64 {
        self.serial_flags & !(RETIRED | SYNTHETIC)
    }
    fn retired(&self) -> bool {
        self.serial_flags & RETIRED != 0
    }
    fn synthetic(&self) -> bool {
        self.serial_flags & SYNTHETIC != 0
    }
}

/// The hash of a record's code by what it is made of: the division node and the serial.
fn code_hash(node: u32, serial: u64) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::default().hash_one((node, serial))
}

/// A road: its name, the division it lies in and its houses sorted by (lane, number, sub, building).
#[derive(Debug, Clone)]
pub struct Road {
    pub name: String,
    pub node: u32,
    /// ((lane, number, sub, building), record)
    houses: Vec<((u32, u32, u32, u32), u32)>,
}

/// How deep a structured parse reads: the whole address (the divisions down to the village,
/// and the elements below them), or the divisions down to the county only (what `cpca`
/// reads: province, city, county and the rest of the text; no township, village nor
/// elements), for systems that need only those codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Depth {
    County,
    #[default]
    Village,
}

impl Depth {
    pub fn parse(s: &str) -> Result<Depth, String> {
        match s.trim() {
            "county" => Ok(Depth::County),
            "village" => Ok(Depth::Village),
            other => Err(format!("'{other}' is not a depth: county or village")),
        }
    }
}

/// The in-memory address book (with the parser's division dictionary).
#[derive(Default)]
pub struct AddressBook {
    pub parser: DivisionParser,
    /// the dictionary of the provinces, cities and counties only: the parse to county depth
    /// (`/v1/parse?depth=county`, what `cpca` reads), for systems that need only those codes
    pub county_parser: DivisionParser,
    recs: Vec<Rec>,
    pub roads: Vec<Road>,
    road_by_name: FastMap<String, Vec<u32>>,
    /// distinct road names, and the single-character deletions of each → name ids (a
    /// symmetric-delete index: the names within one edit of a word without scanning them all)
    road_names: Vec<String>,
    road_deletes: FastMap<String, Vec<u32>>,
    max_road_chars: usize,
    compounds: Vec<String>,
    compound_by_name: FastMap<String, Vec<u32>>,
    max_compound_chars: usize,
    /// records by their code, keyed by its division node and serial (the code's text is not
    /// kept: it is the division's code and the serial); a later record with the same code
    /// takes it over
    by_code: hashbrown::HashTable<u32>,
    /// division code → node, for the divisions that hold addresses (to read a code)
    code_divisions: FastMap<String, u32>,
    /// normalised alias → its entry in `alias_list` (the last record given it): the text is
    /// kept once, in `alias_text`
    aliases: hashbrown::HashTable<u32>,
    /// each alias as (record, byte range of its normalised text in `alias_text`), in record
    /// order (records are only appended): a record's aliases for the lookup by code
    alias_list: Vec<(u32, u32, u32)>,
    alias_text: String,
    rtree: RTree<GeomWithData<[f64; 2], u32>>,
    /// division node → (sum lon, sum lat, count) of its addresses (and its descendants')
    centroids: FastMap<u32, (f64, f64, u32)>,
    /// division node → a point inside its polygon (`data/divisions/centres.csv`: provinces,
    /// cities, counties), for divisions without addresses
    centres: FastMap<u32, (f64, f64)>,
    /// road centre lines by county and name (crossings, the nearest road); empty when none
    /// were loaded
    pub lines: roads::RoadLines,
    /// where the addresses came from
    pub origin: String,
    pub synthetic_count: usize,
}

/// Splits "45弄6号" / "12-3号" / "12号" into (lane, number, sub).
pub fn parse_number(s: &str) -> Option<(u32, u32, u32)> {
    let e = parse_elements(s, Some(""));
    if !e.rest.is_empty() && e.number.is_none() && e.lane.is_none() {
        return None;
    }
    match (e.lane, e.number) {
        (Some(l), Some(n)) => Some((l, n, e.sub.unwrap_or(0))),
        (Some(l), None) => Some((l, 0, e.sub.unwrap_or(0))),
        (None, Some(n)) => Some((0, n, e.sub.unwrap_or(0))),
        _ => None,
    }
}

/// Formats (lane, number, sub) as house-number text.
pub fn format_number(lane: u32, number: u32, sub: u32) -> String {
    match (lane, number, sub) {
        (0, n, 0) => format!("{n}号"),
        (0, n, s) => format!("{n}-{s}号"),
        (l, 0, 0) => format!("{l}弄"),
        (l, 0, s) => format!("{l}弄{s}支弄"),
        (l, n, 0) => format!("{l}弄{n}号"),
        (l, n, s) => format!("{l}弄{s}支弄{n}号"),
    }
}

/// The 12-digit serial of an address code, derived from its elements.
pub fn serial_of(division: &str, road: &str, number: &str, compound: &str, building: &str) -> u64 {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in [division, road, number, compound, building] {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    let d = h.finalize();
    u64::from_be_bytes(d[..8].try_into().unwrap_or([0; 8])) % 1_000_000_000_000
}

/// The direction and ordinal characters of Chinese road and place names (南京**东**路,
/// 中山东**一**路, 上地**七**街).
fn is_direction_or_ordinal(c: char) -> bool {
    matches!(
        c,
        '东' | '西'
            | '南'
            | '北'
            | '中'
            | '一'
            | '二'
            | '三'
            | '四'
            | '五'
            | '六'
            | '七'
            | '八'
            | '九'
            | '十'
    )
}

/// Characters that tell one road from another of the same base name rather than make a typo:
/// directions, ordinals and digits (南京东路 and 南京西路, 中山东一路 and 中山东二路, 中山路
/// and 中山北路 are different roads, kilometres apart).
fn tells_roads_apart(c: char) -> bool {
    is_direction_or_ordinal(c) || c.is_ascii_digit()
}

/// Does the one edit from `w` to the road name `n` (within one edit of it) swap, add or drop a
/// character that [`tells_roads_apart`]? Then `n` is another road, not what `w` misspells.
fn names_another_road(w: &[char], n: &str) -> bool {
    let n: Vec<char> = n.chars().collect();
    let p = w.iter().zip(&n).take_while(|(a, b)| a == b).count();
    match w.len().cmp(&n.len()) {
        std::cmp::Ordering::Equal => {
            p < w.len() && tells_roads_apart(w[p]) && tells_roads_apart(n[p])
        }
        // the extra character of the longer one (in a run of equal ones, any of them)
        std::cmp::Ordering::Less => tells_roads_apart(n[p]),
        std::cmp::Ordering::Greater => tells_roads_apart(w[p]),
    }
}

impl AddressBook {
    /// A book with no addresses (parsing and division-level geocoding only).
    pub fn empty(d: &Divisions) -> AddressBook {
        AddressBook {
            parser: DivisionParser::build(d),
            county_parser: DivisionParser::build_to(d, crate::divisions::Level::County),
            origin: "none".into(),
            ..Default::default()
        }
    }

    /// The dictionary of a parse to `depth`.
    pub fn parser_for(&self, depth: Depth) -> &DivisionParser {
        match depth {
            Depth::County => &self.county_parser,
            Depth::Village => &self.parser,
        }
    }

    /// Builds the book; rows that do not fit (unknown division, bad number) are returned as
    /// errors `(row index, field, reason)` and left out.
    pub fn build(
        d: &Divisions,
        addrs: Vec<Address>,
        origin: &str,
    ) -> (AddressBook, Vec<(usize, &'static str, String)>) {
        let mut b = AddressBook::empty(d);
        b.origin = origin.to_string();
        let errs = b.extend(d, addrs);
        (b, errs)
    }

    fn extend(&mut self, d: &Divisions, addrs: Vec<Address>) -> Vec<(usize, &'static str, String)> {
        let mut errs = Vec::new();
        let mut road_key: FastMap<(u32, String), u32> = FastMap::default();
        let mut compound_key: FastMap<String, u32> = FastMap::default();
        let mut successors: Vec<(u32, String)> = Vec::new();
        for (i, a) in addrs.into_iter().enumerate() {
            let rec = match validate(d, &a) {
                Ok(x) => x,
                Err((f, m)) => {
                    errs.push((i, f, m));
                    continue;
                }
            };
            let (node, (lane, number, sub), building, serial) = rec;
            let ri = self.recs.len() as u32;
            let road = match &a.road {
                Some(r) => {
                    let next = self.roads.len() as u32;
                    let id = *road_key.entry((node, r.clone())).or_insert(next);
                    if id == next {
                        self.roads.push(Road {
                            name: r.clone(),
                            node,
                            houses: Vec::new(),
                        });
                        self.road_by_name.entry(r.clone()).or_default().push(id);
                        self.max_road_chars = self.max_road_chars.max(r.chars().count());
                    }
                    self.roads[id as usize]
                        .houses
                        .push(((lane, number, sub, building), ri));
                    id
                }
                None => NONE,
            };
            let compound = match &a.compound {
                Some(c) => {
                    let next = self.compounds.len() as u32;
                    let id = *compound_key.entry(c.clone()).or_insert(next);
                    if id == next {
                        self.compounds.push(c.clone());
                        self.max_compound_chars = self.max_compound_chars.max(c.chars().count());
                    }
                    self.compound_by_name.entry(c.clone()).or_default().push(ri);
                    id
                }
                None => NONE,
            };
            for al in &a.aliases {
                let (n, _) = normalize::normalize(al);
                if let Err(m) = self.add_alias(&n, ri) {
                    errs.push((i, "aliases", m));
                }
            }
            let retired = a.status == "retired";
            if let Some(s) = &a.successor {
                successors.push((ri, s.clone()));
            }
            if a.synthetic {
                self.synthetic_count += 1;
            }
            // (the code is the division's code as `code_of` writes it, and the serial)
            if let Some(c) = &self.parser.nodes[node as usize].code {
                if !self.code_divisions.contains_key(c) {
                    self.code_divisions.insert(c.clone(), node);
                }
            }
            if !retired {
                let mut cur = Some(node);
                while let Some(c) = cur {
                    let e = self.centroids.entry(c).or_insert((0.0, 0.0, 0));
                    e.0 += a.lon;
                    e.1 += a.lat;
                    e.2 += 1;
                    cur = self.parser.nodes[c as usize].parent;
                }
            }
            self.recs.push(Rec {
                node,
                road,
                lane,
                number,
                sub,
                compound,
                building,
                successor: NONE,
                lon: a.lon,
                lat: a.lat,
                serial_flags: serial
                    | if retired { RETIRED } else { 0 }
                    | if a.synthetic { SYNTHETIC } else { 0 },
            });
            self.index_code(ri);
        }
        for (ri, s) in successors {
            if let Some(si) = self.find_code(&s) {
                self.recs[ri as usize].successor = si;
            }
        }
        for r in &mut self.roads {
            r.houses.sort_unstable();
            r.houses.shrink_to_fit();
        }
        self.recs.shrink_to_fit();
        let pts: Vec<_> = self
            .recs
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.retired())
            .map(|(i, r)| GeomWithData::new([r.lon, r.lat], i as u32))
            .collect();
        self.rtree = RTree::bulk_load(pts);
        self.index_road_deletes();
        errs
    }

    fn index_road_deletes(&mut self) {
        let mut names: Vec<String> = self.road_by_name.keys().cloned().collect();
        names.sort_unstable();
        self.road_deletes.clear();
        for (id, name) in names.iter().enumerate() {
            let chars: Vec<char> = name.chars().collect();
            for i in 0..chars.len() {
                let del: String = chars[..i].iter().chain(&chars[i + 1..]).collect();
                let v = self.road_deletes.entry(del).or_default();
                if v.last() != Some(&(id as u32)) {
                    v.push(id as u32);
                }
            }
        }
        self.road_names = names;
    }

    /// Distinct road names within one edit (substitution, insertion, deletion) of `word`,
    /// sorted; found through the deletion index. An edit of a direction or an ordinal
    /// (南京东路 → 南京西路) is not a typo: such a name is left out.
    pub fn roads_within_one_edit(&self, word: &str) -> Vec<&str> {
        let w: Vec<char> = word.chars().collect();
        let mut out: Vec<&str> = Vec::new();
        if let Some((k, _)) = self.road_by_name.get_key_value(word) {
            out.push(k);
        }
        // names one character longer
        if let Some(ids) = self.road_deletes.get(word) {
            out.extend(ids.iter().map(|&i| self.road_names[i as usize].as_str()));
        }
        for i in 0..w.len() {
            let del: String = w[..i].iter().chain(&w[i + 1..]).collect();
            // names one character shorter
            if let Some((k, _)) = self.road_by_name.get_key_value(&del) {
                out.push(k);
            }
            // same length, one substitution (shares this deletion)
            if let Some(ids) = self.road_deletes.get(&del) {
                for &id in ids {
                    let n = &self.road_names[id as usize];
                    let nc: Vec<char> = n.chars().collect();
                    if nc.len() == w.len() && geocode::edit_distance(&w, &nc, 1) <= 1 {
                        out.push(n);
                    }
                }
            }
        }
        out.retain(|n| !names_another_road(&w, n));
        out.sort_unstable();
        out.dedup();
        out
    }

    pub fn len(&self) -> usize {
        self.recs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    /// Approximate heap bytes of the address indexes (records, roads, R-tree, hash maps).
    pub fn memory_bytes(&self) -> usize {
        let recs = self.recs.capacity() * std::mem::size_of::<Rec>();
        let roads: usize = self
            .roads
            .iter()
            .map(|r| std::mem::size_of::<Road>() + r.name.len() + r.houses.capacity() * 20)
            .sum();
        let rtree = self.rtree.size() * 48;
        let codes = self.by_code.capacity() * 5 + self.code_divisions.len() * 64;
        let names = self.road_by_name.len() * 64
            + self
                .road_deletes
                .iter()
                .map(|(k, v)| k.len() + 24 + v.capacity() * 4 + 24 + 16)
                .sum::<usize>()
            + self.compounds.iter().map(|c| c.len() + 24).sum::<usize>()
            + self
                .compound_by_name
                .values()
                .map(|v| v.len() * 4 + 64)
                .sum::<usize>()
            + self.aliases.capacity() * 5
            + self.alias_list.capacity() * 12
            + self.alias_text.capacity();
        recs + roads + rtree + codes + names + self.lines.memory_bytes()
    }

    /// The standard address of a record.
    /// Record ids of the addresses inside a lon/lat box (WGS84), via the R-tree.
    pub fn in_bbox(&self, bbox: [f64; 4]) -> Vec<u32> {
        let env = rstar::AABB::from_corners([bbox[0], bbox[1]], [bbox[2], bbox[3]]);
        let mut v: Vec<u32> = self
            .rtree
            .locate_in_envelope(&env)
            .map(|g| g.data)
            .collect();
        v.sort_unstable();
        v
    }

    /// The standard address of a record (its aliases are left out: [`Self::aliases_of`]).
    pub fn address(&self, ri: u32) -> Address {
        let r = &self.recs[ri as usize];
        let div = self.parser.nodes[r.node as usize]
            .code
            .clone()
            .unwrap_or_default();
        let number = (r.lane != 0 || r.number != 0).then(|| format_number(r.lane, r.number, r.sub));
        Address {
            code: format!("{div}{:012}", r.serial()),
            division: div,
            road: (r.road != NONE).then(|| self.roads[r.road as usize].name.clone()),
            number,
            compound: (r.compound != NONE).then(|| self.compounds[r.compound as usize].clone()),
            building: (r.building != 0).then(|| format!("{}幢", r.building)),
            lon: r.lon,
            lat: r.lat,
            status: if r.retired() { "retired" } else { "current" }.into(),
            successor: (r.successor != NONE).then(|| self.code_of(r.successor)),
            // (left empty here, on the geocoder's path: `aliases_of`)
            aliases: Vec::new(),
            synthetic: r.synthetic(),
        }
    }

    /// Division node (parser index) of a record.
    pub fn node_of(&self, ri: u32) -> u32 {
        self.recs[ri as usize].node
    }

    pub fn code_of(&self, ri: u32) -> String {
        let r = &self.recs[ri as usize];
        let div = self.parser.nodes[r.node as usize]
            .code
            .as_deref()
            .unwrap_or("");
        format!("{div}{:012}", r.serial())
    }

    /// Full standard address text: divisions, road, number, compound, building.
    pub fn full_text(&self, ri: u32) -> String {
        let a = self.address(ri);
        let r = &self.recs[ri as usize];
        let mut s = self.parser.full_name(r.node);
        for p in [a.road, a.number, a.compound, a.building]
            .into_iter()
            .flatten()
        {
            s.push_str(&p);
        }
        s
    }

    /// Record index of a code.
    pub fn find_code(&self, code: &str) -> Option<u32> {
        let (div, serial) = code.split_at_checked(code.len().checked_sub(12)?)?;
        if !serial.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let serial: u64 = serial.parse().ok()?;
        let node = *self.code_divisions.get(div)?;
        let recs = &self.recs;
        self.by_code
            .find(code_hash(node, serial), |&i| {
                let r = &recs[i as usize];
                r.node == node && r.serial() == serial
            })
            .copied()
    }

    /// Makes record `ri` the one of its code.
    fn index_code(&mut self, ri: u32) {
        let recs = &self.recs;
        let (node, serial) = (recs[ri as usize].node, recs[ri as usize].serial());
        let same = |&i: &u32| {
            let r = &recs[i as usize];
            r.node == node && r.serial() == serial
        };
        match self.by_code.find_mut(code_hash(node, serial), same) {
            Some(slot) => *slot = ri,
            None => {
                self.by_code
                    .insert_unique(code_hash(node, serial), ri, |&i| {
                        let r = &recs[i as usize];
                        code_hash(r.node, r.serial())
                    });
            }
        }
    }

    /// Records `norm` (a normalised alias) for the record `ri`; a later record given the same
    /// alias takes it over.
    fn add_alias(&mut self, norm: &str, ri: u32) -> Result<(), String> {
        let start = self.alias_text.len();
        let (Ok(s), Ok(e), Ok(at)) = (
            u32::try_from(start),
            u32::try_from(start + norm.len()),
            u32::try_from(self.alias_list.len()),
        ) else {
            return Err("alias not indexed: more than 4 GiB of alias text".into());
        };
        self.alias_text.push_str(norm);
        self.alias_list.push((ri, s, e));
        let (list, text) = (&self.alias_list, &self.alias_text);
        let of = |i: u32| {
            let (_, s, e) = list[i as usize];
            &text[s as usize..e as usize]
        };
        let h = alias_hash(norm);
        match self.aliases.find_mut(h, |&i| of(i) == norm) {
            Some(slot) => *slot = at,
            None => {
                self.aliases.insert_unique(h, at, |&i| alias_hash(of(i)));
            }
        }
        Ok(())
    }

    /// The record of a normalised alias.
    pub fn alias_record(&self, norm: &str) -> Option<u32> {
        let i = *self
            .aliases
            .find(alias_hash(norm), |&i| self.alias_at(i) == norm)?;
        Some(self.alias_list[i as usize].0)
    }

    fn alias_at(&self, i: u32) -> &str {
        let (_, s, e) = self.alias_list[i as usize];
        &self.alias_text[s as usize..e as usize]
    }

    /// The aliases of a record (normalised, as the book looks them up).
    pub fn aliases_of(&self, ri: u32) -> impl Iterator<Item = &str> {
        let from = self.alias_list.partition_point(|a| a.0 < ri);
        (from..self.alias_list.len())
            .take_while(move |&i| self.alias_list[i].0 == ri)
            .map(|i| self.alias_at(i as u32))
    }

    /// Record index of a retired record's successor.
    pub fn successor_of(&self, ri: u32) -> Option<u32> {
        let s = self.recs[ri as usize].successor;
        (s != NONE).then_some(s)
    }

    /// Nearest current address within `radius_m` of a WGS84 point: (record, metres).
    pub fn nearest(&self, lon: f64, lat: f64, radius_m: f64) -> Option<(u32, f64)> {
        let mut it = self.rtree.nearest_neighbor_iter(&[lon, lat]);
        // the degree metric is anisotropic: look at a few neighbours and take the geodesic nearest
        let mut best: Option<(u32, f64)> = None;
        for g in it.by_ref().take(8) {
            let p = g.geom();
            let dm = crate::crs::distance_m((lon, lat), (p[0], p[1]));
            if best.is_none_or(|b| dm < b.1) {
                best = Some((g.data, dm));
            }
        }
        best.filter(|b| b.1 <= radius_m)
    }

    /// Loads addresses from a CSV written by the generator (or an import file) and builds the book.
    pub fn load_csv(d: &Divisions, path: &Path) -> Result<AddressBook> {
        let (addrs, rejects) = import::read_csv(path, crate::crs::Crs::Wgs84, encoding_rs::UTF_8)?;
        if let Some(r) = rejects.first() {
            bail!(
                "{}: {} rejected rows, first: {r}",
                path.display(),
                rejects.len()
            );
        }
        let (b, errs) = AddressBook::build(d, addrs, &path.display().to_string());
        if let Some((i, f, m)) = errs.first() {
            bail!("{}: row {}: {f}: {m}", path.display(), i + 2);
        }
        Ok(b)
    }

    /// Loads `data/addresses/*.csv` (except the supplement) if present; otherwise an empty book.
    /// With the division centres of `data/divisions/centres.csv`.
    pub fn load_embedded(d: &Divisions, data: &Path) -> Result<AddressBook> {
        let f = data.join("addresses").join("huangpu_addresses.csv");
        let mut b = if f.exists() {
            AddressBook::load_csv(d, &f).with_context(|| format!("loading {}", f.display()))?
        } else {
            AddressBook::empty(d)
        };
        b.load_centres(data)?;
        b.load_road_lines(data)?;
        Ok(b)
    }

    /// Reads `addresses/huangpu_roads.fgb` of the data directory when present (road centre
    /// lines with `name` and `county`; written by `diming prepare-data`).
    pub fn load_road_lines(&mut self, data: &Path) -> Result<()> {
        let f = data.join("addresses").join("huangpu_roads.fgb");
        if !f.exists() {
            return Ok(());
        }
        let feats = crate::store::features::read_features(&f)?;
        let rows = roads::rows_from_features(feats, &f.display().to_string(), "county", false)?;
        self.set_lines(roads::RoadLines::build(rows));
        Ok(())
    }

    /// Takes the road lines; a road of the lines with no house in the book (no part of that
    /// name in its county) becomes a road of the county with no houses, found by name: a
    /// standard address database holds every road, with house numbers or not.
    pub fn set_lines(&mut self, lines: roads::RoadLines) {
        let counties: FastMap<&str, u32> = self
            .parser
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.level == crate::divisions::Level::County)
            .filter_map(|(i, n)| Some((n.code.as_deref()?, i as u32)))
            .collect();
        let mut added = Vec::new();
        for (code, name) in lines.roads() {
            let Some(&county) = counties.get(code) else {
                continue;
            };
            let known = self.road_by_name.get(name).is_some_and(|ids| {
                ids.iter()
                    .any(|&id| self.parser.is_within(self.roads[id as usize].node, county))
            });
            if !known {
                added.push((county, name.to_string()));
            }
        }
        for (county, name) in added {
            let id = self.roads.len() as u32;
            self.max_road_chars = self.max_road_chars.max(name.chars().count());
            self.road_by_name.entry(name.clone()).or_default().push(id);
            self.roads.push(Road {
                name,
                node: county,
                houses: Vec::new(),
            });
        }
        self.index_road_deletes();
        self.lines = lines;
    }

    /// Reads `divisions/centres.csv` of the data directory when present (`code,lon,lat`,
    /// WGS84; written by `diming prepare-data`): the point a division-level answer gives for a
    /// division without addresses. Codes not in the division tree are skipped.
    pub fn load_centres(&mut self, data: &Path) -> Result<()> {
        let f = data.join("divisions").join("centres.csv");
        if !f.exists() {
            return Ok(());
        }
        let by_code: FastMap<&str, u32> = self
            .parser
            .nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| Some((n.code.as_deref()?, i as u32)))
            .collect();
        let mut centres = FastMap::default();
        let mut rdr = csv::Reader::from_path(&f).with_context(|| format!("{}", f.display()))?;
        for (i, rec) in rdr.records().enumerate() {
            let rec = rec.with_context(|| format!("{}: line {}", f.display(), i + 2))?;
            let coord = |k: usize| -> Result<f64> {
                rec.get(k)
                    .and_then(|v| v.parse::<f64>().ok())
                    .filter(|v| v.is_finite())
                    .with_context(|| format!("{}: line {}: bad coordinate", f.display(), i + 2))
            };
            if let Some(&n) = rec.get(0).and_then(|c| by_code.get(c)) {
                centres.insert(n, (coord(1)?, coord(2)?));
            }
        }
        self.centres = centres;
        Ok(())
    }

    /// Division-node centroid of the book's addresses under `node`.
    fn centroid(&self, node: u32) -> Option<(f64, f64)> {
        self.centroids
            .get(&node)
            .map(|(x, y, n)| (x / *n as f64, y / *n as f64))
    }

    /// A point inside the polygon of division `node`, where the centres are loaded.
    fn centre(&self, node: u32) -> Option<(f64, f64)> {
        self.centres.get(&node).copied()
    }
}

/// Checks an address against the division tree: (node, (lane, number, sub), building, serial).
#[allow(clippy::type_complexity)]
fn validate(
    d: &Divisions,
    a: &Address,
) -> Result<(u32, (u32, u32, u32), u32, u64), (&'static str, String)> {
    let div = a.division.trim();
    if !(div.len() == 9 || div.len() == 12) || !div.bytes().all(|b| b.is_ascii_digit()) {
        return Err((
            "division",
            format!("'{div}' is not a 9-digit township or 12-digit village code"),
        ));
    }
    let node = d
        .tree
        .find(div)
        .ok_or_else(|| ("division", format!("no division with code {div}")))?;
    let lvl = d.tree.get(node).level;
    if lvl != Level::Township && lvl != Level::Village {
        return Err(("division", format!("{div} is not a township or village")));
    }
    crate::crs::check_lon_lat(a.lon, a.lat)?;
    let num = match &a.number {
        Some(n) if !n.is_empty() => {
            parse_number(n).ok_or_else(|| ("number", format!("cannot read house number '{n}'")))?
        }
        _ => (0, 0, 0),
    };
    if a.road.as_deref().is_none_or(str::is_empty)
        && a.compound.as_deref().is_none_or(str::is_empty)
    {
        return Err(("road", "an address needs a road or a compound".into()));
    }
    let building = match &a.building {
        Some(b) if !b.is_empty() => {
            let t = b
                .trim_end_matches(['幢', '栋', '座'])
                .trim_end_matches("号楼");
            t.parse::<u32>().map_err(|_| {
                (
                    "building",
                    format!("cannot read building '{b}' (expected like 3幢)"),
                )
            })?
        }
        _ => 0,
    };
    if !matches!(a.status.as_str(), "current" | "retired") {
        return Err((
            "status",
            format!("'{}' must be current or retired", a.status),
        ));
    }
    let numtxt = a.number.clone().unwrap_or_default();
    let serial = serial_of(
        div,
        a.road.as_deref().unwrap_or(""),
        &numtxt,
        a.compound.as_deref().unwrap_or(""),
        a.building.as_deref().unwrap_or(""),
    );
    let want = format!("{div}{serial:012}");
    if !a.code.is_empty() && a.code != want {
        return Err((
            "code",
            format!(
                "'{}' is not the standard code of this address ({want})",
                a.code
            ),
        ));
    }
    Ok((node, num, building, serial))
}
