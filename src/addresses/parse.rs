//! Parsing of Chinese address text: the division prefix (province … village) by a dictionary of
//! full names, short names (suffixes stripped), aliases and old names (with their successors),
//! resolved with the hierarchy; then the address elements below the divisions (road, lane,
//! house number, compound, building, unit, room).
//!
//! The dictionary is built once from the division tree and change log (plus a small supplement
//! for Taiwan, Hong Kong and Macau, which the NBS lists lack). Lookup is a longest-prefix match
//! at the current position (one common-prefix walk of a double-array trie, behind a bitmap of
//! the keys' first two characters), extended as a small beam
//! of hypotheses that must stay consistent with the tree: a deeper match must lie under the
//! division matched before it. Ambiguity (西湖区 in 杭州 and 南昌) is kept until later context
//! decides; a level is reported only where all best hypotheses agree.

use super::normalize::Correction;
use crate::divisions::{tree::is_placeholder_name, Divisions, Level};
use serde::Serialize;
use smallvec::SmallVec;
use std::collections::HashMap;

const SUPPLEMENT: &str = include_str!("../../data/addresses/supplement_hk_mo_tw.csv");

/// The 56 ethnic groups (without 族), to shorten autonomous-area names (红河哈尼族彝族自治州 → 红河).
const ETHNIC: &[&str] = &[
    "蒙古",
    "回",
    "藏",
    "维吾尔",
    "苗",
    "彝",
    "壮",
    "布依",
    "朝鲜",
    "满",
    "侗",
    "瑶",
    "白",
    "土家",
    "哈尼",
    "哈萨克",
    "傣",
    "黎",
    "傈僳",
    "佤",
    "畲",
    "高山",
    "拉祜",
    "水",
    "东乡",
    "纳西",
    "景颇",
    "柯尔克孜",
    "土",
    "达斡尔",
    "仫佬",
    "羌",
    "布朗",
    "撒拉",
    "毛南",
    "仡佬",
    "锡伯",
    "阿昌",
    "普米",
    "塔吉克",
    "怒",
    "乌孜别克",
    "俄罗斯",
    "鄂温克",
    "德昂",
    "保安",
    "裕固",
    "京",
    "塔塔尔",
    "独龙",
    "鄂伦春",
    "赫哲",
    "门巴",
    "珞巴",
    "基诺",
    "汉",
];

/// Municipalities: their city level is the province itself.
const MUNICIPALITIES: &[&str] = &["11", "12", "31", "50"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Full,
    Short,
    Alias,
    Old,
}

impl Kind {
    fn weight(self) -> u32 {
        match self {
            Kind::Full => 6,
            Kind::Short | Kind::Alias => 4,
            Kind::Old => 3,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    node: u32,
    kind: Kind,
    level: Level,
    /// the last entry of its key
    last: bool,
}

/// A division known to the parser (the tree's divisions keep their tree index).
#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    /// display code (6 digits for province/city/county, 9/12 below); None for the supplement
    pub code: Option<String>,
    pub level: Level,
    pub parent: Option<u32>,
}

/// The division dictionary.
///
/// Keys (full names, short names, aliases, old names) live in a character-wise trie laid out
/// hot first ([`super::keytrie`]): one common-prefix walk at a text position yields every key
/// starting there, without hashing or allocating. A key's value in the trie is its only entry packed
/// into the value (most keys: no second lookup), or the index of its first entry in
/// `entries`.
#[derive(Default)]
pub struct DivisionParser {
    pub nodes: Vec<Node>,
    /// key → entries while building; emptied by `finish`
    building: HashMap<String, Vec<Entry>, foldhash::fast::FixedState>,
    trie: super::keytrie::KeyTrie,
    /// the first two characters of every key: most text positions start no key, and this
    /// answers them without walking the trie (whose nodes are mostly out of cache)
    first_pairs: super::PairBits,
    /// the first two characters of the full names of counties (a few thousand, so a small
    /// bitmap): the fallbacks that look for a county name at a shifted position ask this first
    county_pairs: super::PairBits,
    /// a key's value in the trie is where its entries start (up to the one marked `last`)
    entries: Vec<Entry>,
    /// parent, level and flags of each node, compact for the parse (the nodes themselves are
    /// large and mostly out of cache): one read for all of them
    info: Vec<NodeInfo>,
    /// number of keys
    n_keys: usize,
    /// nodes from here on come from the Taiwan, Hong Kong and Macao supplement
    n_tree: u32,
    /// the deepest level with keys (`build_to`); a parse stops when every reading has
    /// reached it, below the village (nothing can be read deeper)
    deepest: Option<Level>,
    /// townships' short names (外滩 of 外滩街道) by their county and first two characters:
    /// read only right after the county, by the fallbacks, so the main loop never sees them
    town_shorts: TownShorts,
    /// the first two characters of those short names, then the county with them
    /// (`town_pair`), asked before the map: most positions a fallback looks at start none
    town_firsts: super::PairBits,
    town_pairs: super::PairBits,
    /// the counties of the code lists (names of three characters or more) by province and
    /// `shape`: their first and their second character, each with the name's length and last
    /// character. A name one character away from a county's, the last one kept, keeps one of
    /// the two: where a county named after a province or city lies in another province, or is
    /// no division at all, a county of the province a character away may be the one meant
    /// (上海黄埔区 for 上海黄浦区, 上海市静按区 for 静安区)
    counties_by_shape: HashMap<(u32, u32, u32), SmallVec<[u32; 2]>, foldhash::fast::FixedState>,
    /// the same keys, for the fallbacks to rule most text out with a probe or two
    county_shapes: super::PairBits,
    /// the first characters of those names and their second characters (bit 21 set), each
    /// with its province: asked first (a name one character away keeps one of them in place)
    county_chars: super::PairBits,
    /// the longest of those names in each province, in characters (the reach of the search)
    county_max_chars: HashMap<u32, usize, foldhash::fast::FixedState>,
    /// a county's name as the normaliser leaves it, where that differs (乾安县 → 干安县)
    county_normalized: HashMap<u32, Box<str>, foldhash::fast::FixedState>,
    /// the first characters (with 0) and the second characters (with 1) of the cities' full
    /// and short names: a name one character away from one keeps one of the two in place
    city_chars: super::PairBits,
}

/// The key of [`DivisionParser::counties_by_shape`]: a character of a name and where it is
/// (`at`: 0 or 1), the name's length in characters and its last character.
fn shape(c: char, at: usize, len: usize, last: char) -> (u32, u32) {
    (
        c as u32 | (len.min(31) as u32) << 21 | (at as u32) << 26,
        last as u32,
    )
}

/// A province and a shape as one key of the [`DivisionParser::county_shapes`] bitmap.
fn shape_bits(province: u32, (x, y): (u32, u32)) -> (u32, u32) {
    (x ^ province.wrapping_mul(0x9E37_79B9), y)
}

/// The scope of the county slips' tables that holds every county of the country (the other
/// scopes are provinces, by node): for a name with nothing read before it (静按区南京西路).
const NATION: u32 = u32::MAX - 1;

/// Townships' short names by (county, first character, second character): each name and its
/// township.
type TownShorts =
    HashMap<(u32, u32, u32), SmallVec<[(Box<str>, u32); 1]>, foldhash::fast::FixedState>;

/// A key's value in the trie with this bit set holds its only entry (no second lookup):
/// node in bits 0–23, kind in 24–25, level in 26–28.
const INLINE: u32 = 1 << 30;
/// Without `INLINE`, a value is where the key's entries start (bits 0–23) and how many there
/// are (bits 24–29; `MANY_SCAN`: as many as it takes to reach the one marked `last`).
const MANY_SHIFT: u32 = 24;
const MANY_SCAN: u32 = 63;

impl Entry {
    fn inline(&self) -> Option<u32> {
        let kind = match self.kind {
            Kind::Full => 0,
            Kind::Short => 1,
            Kind::Alias => 2,
            Kind::Old => 3,
        };
        (self.node < 1 << 24).then_some(INLINE | self.node | kind << 24 | (self.level as u32) << 26)
    }

    fn from_inline(v: u32) -> Entry {
        let kind = match (v >> 24) & 3 {
            0 => Kind::Full,
            1 => Kind::Short,
            2 => Kind::Alias,
            _ => Kind::Old,
        };
        let level = Level::ALL[((v >> 26) & 7) as usize - 1];
        Entry {
            node: v & ((1 << 24) - 1),
            kind,
            level,
            last: true,
        }
    }
}

/// The entries of one key: its only entry (unpacked from the trie value) or a run of the
/// entry table.
enum Entries<'a> {
    One(Entry),
    Many(&'a [Entry]),
}

impl Entries<'_> {
    fn as_slice(&self) -> &[Entry] {
        match self {
            Entries::One(e) => std::slice::from_ref(e),
            Entries::Many(es) => es,
        }
    }
}

const NO_PARENT: u32 = u32::MAX;

/// What the parse reads of a node.
#[derive(Debug, Clone, Copy)]
struct NodeInfo {
    /// `NO_PARENT` for none
    parent: u32,
    level: Level,
    /// a placeholder (市辖区, 县 …) that the answer skips
    placeholder: bool,
    /// a municipality (北京, 天津, 上海, 重庆): its city level is itself
    municipal: bool,
}

/// A division in a parse result (borrowed from the parser). (Fields in alphabetical order:
/// answers are serialised as they are, with the keys sorted as in a `serde_json` map.)
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Part<'a> {
    pub code: Option<&'a str>,
    pub name: &'a str,
    #[serde(skip)]
    pub node: Option<u32>,
}

/// What the division parser changed, kept compact while hypotheses multiply (byte offsets into
/// the parsed text); turned into [`Correction`]s only for the answer.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Fix {
    kind: FixKind,
    start: u32,
    end: u32,
    node: u32,
}

impl Fix {
    fn new(kind: FixKind, start: usize, end: usize, node: u32) -> Fix {
        Fix {
            kind,
            start: start as u32,
            end: end as u32,
            node,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum FixKind {
    OldName,
    ShortName,
    Conflict,
    Noise,
    /// a county name one character away from a county of the province named before it
    Fuzzy,
}

type Fixes = SmallVec<[Fix; 2]>;

/// No node (a hypothesis without a division yet, a level without an answer).
const NO_NODE: u32 = u32::MAX;
/// In [`DivisionMatch`]'s levels: the best readings agree on the name only (no code, no node).
const NAME_ONLY: u32 = 1 << 31;

/// The division part of a parse. Borrows the parser and the parsed text.
#[derive(Clone)]
pub struct DivisionMatch<'a> {
    /// text after the divisions
    pub detail: &'a str,
    /// best hypotheses (deepest node), best first; several when ambiguous
    pub hypotheses: SmallVec<[u32; 4]>,
    /// the deepest level reached unambiguously
    pub level: Option<Level>,
    /// the node of each level (province … village), `NAME_ONLY`-flagged or `NO_NODE`
    levels: [u32; 5],
    /// each accepted division token: byte offset where it starts, and the end of its run of
    /// `step_nodes` (the hypotheses before it)
    steps: SmallVec<[(u32, u32); 4]>,
    step_nodes: SmallVec<[u32; 8]>,
    fixes: Fixes,
    text: &'a str,
    parser: &'a DivisionParser,
}

impl<'a> DivisionMatch<'a> {
    /// The division named at `level`, where all best readings agree (on the division, or on
    /// its name only: then without code and node).
    pub fn part(&self, level: Level) -> Option<Part<'a>> {
        let v = self.levels[level as usize - 1];
        if v == NO_NODE {
            return None;
        }
        let node = &self.parser.nodes[(v & !NAME_ONLY) as usize];
        let same = v & NAME_ONLY == 0;
        Some(Part {
            name: node.name.as_str(),
            code: node.code.as_deref().filter(|_| same),
            node: same.then_some(v),
        })
    }

    pub fn province(&self) -> Option<Part<'a>> {
        self.part(Level::Province)
    }

    pub fn city(&self) -> Option<Part<'a>> {
        self.part(Level::City)
    }

    pub fn county(&self) -> Option<Part<'a>> {
        self.part(Level::County)
    }

    pub fn town(&self) -> Option<Part<'a>> {
        self.part(Level::Township)
    }

    pub fn village(&self) -> Option<Part<'a>> {
        self.part(Level::Village)
    }

    /// The text the address elements are read from: the detail, or from the last division
    /// token on when that token is itself a road name with a house number after it, or the
    /// short name a zone is named after (see `zone_with_division`). A community is often
    /// named after its road (中山东一路居委会): in 中山东一路12号 the division reading keeps
    /// the community, and the road stays the road of the elements.
    #[inline]
    pub fn road_detail(&self) -> &'a str {
        if self.detail.starts_with(['东', '西', '南', '北']) {
            if let Some(road) = self.road_after_county() {
                return road;
            }
        }
        // (a house number right after the divisions, the rarest condition, asked first)
        if !self
            .detail
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_digit)
        {
            // (a zone's first character, by the low six bits of its last byte, asked first)
            return match self.detail.as_bytes().get(2) {
                Some(&z) if ZONE_FIRSTS >> (z & 63) & 1 != 0 => {
                    self.zone_with_division().unwrap_or(self.detail)
                }
                _ => self.detail,
            };
        }
        let Some(&(at, _)) = self.steps.last() else {
            return self.detail;
        };
        let (at, end) = (at as usize, self.text.len() - self.detail.len());
        let village = self
            .hypotheses
            .first()
            .is_some_and(|&n| self.parser.info[n as usize].level == Level::Village);
        if village && road_end(&self.text[at..]) == Some(end - at) {
            &self.text[at..]
        } else {
            self.detail
        }
    }

    /// The text from the last division's name on, where that name was a county's short name
    /// and the detail goes on as a road named after it (广州市天河南二路: 天河区, road
    /// 天河南二路). `None` otherwise.
    #[cold]
    #[inline(never)]
    fn road_after_county(&self) -> Option<&'a str> {
        let &(at, _) = self.steps.last()?;
        let (at, end) = (at as usize, self.text.len() - self.detail.len());
        let node = *self.hypotheses.first()?;
        let token = &self.text[at..end];
        (self.parser.info[node as usize].level == Level::County
            && token != self.parser.nodes[node as usize].name
            && road_goes_on(token, self.detail))
        .then(|| &self.text[at..])
    }

    /// The text from the last division's name on, where that name was its short name and the
    /// detail starts with an ending that names no zone alone (上海金山工业区: 金山 read as
    /// 金山区, then 工业区; the zone is 金山工业区). `None` otherwise.
    #[cold]
    #[inline(never)]
    fn zone_with_division(&self) -> Option<&'a str> {
        // (区 second or third: each of those endings has it there)
        let b = self.detail.as_bytes();
        let qu = |i: usize| b.get(i..i + 3) == Some("区".as_bytes());
        if !(qu(3) || qu(6)) {
            return None;
        }
        if !starts_zone_part(self.detail) {
            return None;
        }
        let &(at, _) = self.steps.last()?;
        let (at, end) = (at as usize, self.text.len() - self.detail.len());
        let name = &self.parser.nodes[*self.hypotheses.first()? as usize].name;
        let token = &self.text[at..end];
        (name.len() > token.len() && name.starts_with(token)).then(|| &self.text[at..])
    }

    /// Each accepted division token: (byte offset where it starts, the hypotheses before it).
    pub fn steps(&self) -> impl DoubleEndedIterator<Item = (usize, &[u32])> + ExactSizeIterator {
        self.steps.iter().enumerate().map(|(i, &(at, end))| {
            let start = if i == 0 { 0 } else { self.steps[i - 1].1 };
            (at as usize, &self.step_nodes[start as usize..end as usize])
        })
    }

    /// What the division parse corrected (old names, short names, conflicts, stray characters).
    pub fn corrections(&self) -> Vec<Correction> {
        self.fixes
            .iter()
            .map(|f| {
                let from = &self.text[f.start as usize..f.end as usize];
                match f.kind {
                    FixKind::OldName => {
                        Correction::new("old_name", from, self.parser.full_name(f.node))
                    }
                    FixKind::ShortName => Correction::new(
                        "short_name",
                        from,
                        self.parser.nodes[f.node as usize].name.as_str(),
                    ),
                    FixKind::Conflict => {
                        Correction::new("conflict", from, self.parser.full_name(f.node))
                    }
                    FixKind::Noise => Correction::new("noise", from, ""),
                    FixKind::Fuzzy => Correction::new("fuzzy", from, self.parser.full_name(f.node)),
                }
            })
            .collect()
    }
}

/// A reading of the text so far: its deepest division (`NO_NODE`: none yet), its score, and
/// its corrections as the last cell of a list in [`ParseScratch::fixes`] (0: none).
#[derive(Clone, Copy)]
struct Hyp {
    node: u32,
    score: u32,
    fix: u32,
}

/// The working sets of a parse, reused from one parse to the next (a parse allocates nothing
/// once they have grown to fit). A caller that parses many texts in a row (a batch) keeps one
/// and passes it to [`DivisionParser::parse_with`], as `regex-automata` callers keep a
/// `Cache`; [`DivisionParser::parse`] uses one kept per thread, moved out and back on every
/// call (about 170 instructions a parse, 4 % of a whole parse of a row).
#[derive(Default)]
pub struct ParseScratch {
    hyps: Vec<Hyp>,
    next: Vec<Hyp>,
    /// the corrections of all hypotheses as linked lists sharing their tails: a fix and the
    /// (1-based) cell before it; a hypothesis that extends another copies one index, not a list
    fixes: Vec<(Fix, u32)>,
    /// keys at the current position, and at a shifted one (the fallbacks)
    hits: Vec<Hit>,
    alt: Vec<Hit>,
}

thread_local! {
    static SCRATCH: std::cell::Cell<ParseScratch> = std::cell::Cell::new(ParseScratch::default());
}

/// `f` after the list ending in `prev`; the new list's last cell.
fn push_fix(cells: &mut Vec<(Fix, u32)>, prev: u32, f: Fix) -> u32 {
    cells.push((f, prev));
    cells.len() as u32
}

/// The list ending in `last`, oldest first.
fn fix_list(cells: &[(Fix, u32)], mut last: u32) -> Fixes {
    let mut v = Fixes::new();
    if last == 0 {
        // (most readings: spares the reverse of an empty list)
        return v;
    }
    while last != 0 {
        let (f, prev) = cells[last as usize - 1];
        v.push(f);
        last = prev;
    }
    v.reverse();
    v
}

/// What the fallbacks make of a text position where no key extends a reading.
enum Fallback {
    /// nothing: the divisions end here
    Stop,
    /// go on from this byte, as if the text before it were not there
    Skip(usize),
    /// the same, the text from `from` to `to` a correction of each reading (noise skipped, a
    /// suffix typed as a character read alike)
    Fixed {
        kind: FixKind,
        from: usize,
        to: usize,
    },
    /// readings were added to `next` for the token at byte `at`, of `bytes` bytes
    Take { at: usize, bytes: usize },
}

/// A dictionary key found at a text position: its trie value, its length in characters and
/// in bytes.
#[derive(Clone, Copy)]
struct Hit {
    key: u32,
    chars: u32,
    bytes: u32,
}

/// Do two characters share a reading, tones aside (埔 pǔ/bù and 浦 pǔ)? The commonest slip in a
/// division name is a character of the same sound.
pub(super) fn homophones(x: char, z: char) -> bool {
    use pinyin::ToPinyinMulti;
    let (Some(px), Some(pz)) = (x.to_pinyin_multi(), z.to_pinyin_multi()) else {
        return false;
    };
    px.into_iter()
        .any(|a| pz.into_iter().any(|b| a.plain() == b.plain()))
}

/// Are `a` and `b` of the same length, apart in one character only, the two read alike
/// (黄埔区 and 黄浦区, 杭洲 and 杭州)?
pub(super) fn one_read_alike_apart(a: &str, b: &str) -> bool {
    let mut diff = a.chars().zip(b.chars()).filter(|(x, z)| x != z);
    a.chars().count() == b.chars().count()
        && matches!((diff.next(), diff.next()), (Some((x, z)), None) if homophones(x, z))
}

/// The suffixes of a street (街道), a town (镇) and a township (乡), the townships that change
/// their suffix or their county (not the zones named alike in many counties, 经济开发区).
pub(crate) const TOWNSHIP_SUFFIXES: [&str; 3] = ["街道", "镇", "乡"];

/// A city's full name and its short names (杭州市, 杭州) as the normaliser leaves them.
fn city_names(name: &str) -> impl Iterator<Item = String> {
    std::iter::once(name.to_string())
        .chain(short_names(name, Level::City))
        .map(|n| super::normalize::normalize_name(&n).unwrap_or(n))
}

/// Byte length of the UTF-8 character whose lead byte is `b`.
#[inline]
fn utf8_len(b: u8) -> usize {
    match b {
        0..=0x7F => 1,
        0x80..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

/// The character of the three-byte UTF-8 sequence `x y z` (all of CJK).
#[inline(always)]
pub(super) fn decode3(x: u8, y: u8, z: u8) -> u32 {
    // the marker bits of a valid sequence (1110xxxx 10yyyyyy 10zzzzzz) are a constant: taken
    // off as one sum instead of masking each byte
    const MARKS: u32 = 0xE0 << 12 | 0x80 << 6 | 0x80;
    (((x as u32) << 12) + ((y as u32) << 6) + z as u32).wrapping_sub(MARKS) & 0xFFFF
}

/// The character at the start of `b` (valid UTF-8) and its length in bytes.
#[inline(always)]
pub(super) fn decode(b: &[u8]) -> Option<(u32, usize)> {
    match *b {
        [x @ 0xE0..=0xEF, y, z, ..] => Some((decode3(x, y, z), 3)),
        [x, ..] if x < 0x80 => Some((x as u32, 1)),
        [x, y, ..] if x < 0xE0 => Some((((x as u32 & 0x1F) << 6) | (y as u32 & 0x3F), 2)),
        [x, y, z, w, ..] => Some((
            ((x as u32 & 0x07) << 18)
                | ((y as u32 & 0x3F) << 12)
                | ((z as u32 & 0x3F) << 6)
                | (w as u32 & 0x3F),
            4,
        )),
        _ => None,
    }
}

/// The first two characters of `b`, and the byte length of both.
#[inline(always)]
fn first_two(b: &[u8]) -> Option<((u32, u32), usize)> {
    if let [x @ 0xE0..=0xEF, y, z, u @ 0xE0..=0xEF, v, w, ..] = *b {
        // two three-byte characters (all of CJK): one length check
        return Some(((decode3(x, y, z), decode3(u, v, w)), 6));
    }
    let (a, n) = decode(b)?;
    let (c, m) = decode(&b[n..])?;
    Some(((a, c), n + m))
}

/// The start of the character after the one at byte `i` of `b` (valid UTF-8, `i` < len).
#[inline]
fn next_char(b: &[u8], i: usize) -> usize {
    (i + utf8_len(b[i])).min(b.len())
}

/// The start of the character before byte `i` (> 0).
#[inline]
pub(super) fn prev_char(b: &[u8], i: usize) -> usize {
    let mut j = i - 1;
    while j > 0 && b[j] & 0xC0 == 0x80 {
        j -= 1;
    }
    j
}

fn strip_ethnic(base: &str) -> String {
    // cut at the first ethnic name that starts after at least two characters
    let chars: Vec<(usize, char)> = base.char_indices().collect();
    for (ci, (bi, _)) in chars.iter().enumerate() {
        if ci < 2 {
            continue;
        }
        let rest = &base[*bi..];
        if ETHNIC.iter().any(|e| rest.starts_with(e)) {
            return base[..*bi].to_string();
        }
    }
    base.to_string()
}

/// Short forms of a division name (浙江省 → 浙江, 红河哈尼族彝族自治州 → 红河, 西湖区 → 西湖).
pub fn short_names(name: &str, level: Level) -> Vec<String> {
    let mut out = Vec::new();
    let suffixes: &[&str] = match level {
        Level::Province => &["特别行政区", "自治区", "省", "市"],
        Level::City => &["自治州", "地区", "市", "盟"],
        Level::County => &["自治县", "自治旗", "林区", "特区", "区", "县", "市", "旗"],
        Level::Township | Level::Village => &[],
    };
    for s in suffixes {
        if let Some(base) = name.strip_suffix(s) {
            let base = if s.starts_with("自治") {
                strip_ethnic(base)
            } else {
                base.to_string()
            };
            if base.chars().count() >= 2 && base != name {
                out.push(base);
            }
            break;
        }
    }
    out
}

/// The bitmap pair for a county and two characters (the county folded into the first).
fn town_pair(county: u32, a: u32, c: u32) -> (u32, u32) {
    (a ^ county.wrapping_mul(0x9E37_79B1), c)
}

/// A township's short name (外滩街道 → 外滩, 蒋村街道 → 蒋村, 万金镇 → 万金): of two
/// characters or more, and not a road's name (南京东路街道, 淮海中路街道 are named after
/// their roads, and the road is what a text with that name means).
fn town_short_name(name: &str) -> Option<&str> {
    let base = ["街道", "镇", "乡"]
        .iter()
        .find_map(|s| name.strip_suffix(s))?;
    (base.chars().nth(1).is_some() && !base.ends_with(['路', '街', '巷', '弄', '里', '道']))
        .then_some(base)
}

/// Does `rest`, right after a place name, go on as a road named after the place: a direction
/// or 内/外, 大/小, an ordinal, then a road word (中关村北大街, 东直门外小街, 朝阳门内大街,
/// 上地七街, 上地十街)?
fn names_road_after_place(rest: &str) -> bool {
    let mut cs = rest.chars();
    let mut took = 0;
    loop {
        match cs.next() {
            Some(c)
                if took < 3
                    && (super::is_direction_or_ordinal(c)
                        || matches!(c, '内' | '外' | '前' | '后' | '大' | '小')) =>
            {
                took += 1
            }
            Some('路' | '街' | '巷' | '道' | '弄') => return took > 0,
            Some('胡') => return took > 0 && cs.next() == Some('同'),
            _ => return false,
        }
    }
}

/// Does the text right after a short name read as a road (西藏中路, 南京东路, 四川北路, and
/// one character before a road suffix and a house number: 余杭塘路2628号, 金沙江路3028号)?
/// Characters an input method gives for a division's suffix, read alike (qu, xian, shi), and
/// that suffix; not those that start road names (曲 of 曲阜路, 线, 市 of 石).
const SUFFIX_SLIPS: &[(char, char)] = &[
    ('去', '区'),
    ('驱', '区'),
    ('趋', '区'),
    ('现', '县'),
    ('限', '县'),
    ('是', '市'),
    ('事', '市'),
];

/// The low six bits of each slip of [`SUFFIX_SLIPS`], as bits of a mask.
const SLIP_FIRSTS: u64 = low_bits_mask(SUFFIX_SLIPS);

/// The low six bits of the character of each entry of `table`, as bits of a mask: a test of
/// one shift and one AND that lets through every one of those characters (and some others;
/// of a three-byte character, the bits are those of its last byte).
const fn low_bits_mask<T>(table: &[(char, T)]) -> u64 {
    let mut mask = 0u64;
    let mut i = 0;
    while i < table.len() {
        mask |= 1 << (table[i].0 as u32 & 63);
        i += 1;
    }
    mask
}

/// Words that label an address in company registers and listings rather than belong to it,
/// by their first character, longest first where one starts another.
const LABEL_WORDS: &[(char, &[&str])] = &[
    ('注', &["注册地址", "注册地"]),
    ('办', &["办公地址", "办事处"]),
    ('经', &["经营地址"]),
    ('营', &["营业地址", "营业部"]),
    ('通', &["通讯地址"]),
    ('联', &["联系地址"]),
    ('总', &["总公司", "总部"]),
    ('分', &["分公司"]),
    ('子', &["子公司"]),
    ('坐', &["坐落于"]),
    ('地', &["地处", "地址"]),
    ('位', &["位于"]),
    ('设', &["设在"]),
    ('住', &["住所"]),
    ('公', &["公司"]),
];

/// The low six bits of the first character of each of [`LABEL_WORDS`], as bits of a mask.
const LABEL_FIRSTS: u64 = low_bits_mask(LABEL_WORDS);

/// Where a run of one or more [`LABEL_WORDS`] (spaces between them aside) that starts at byte
/// `pos` of `b` ends, when one does and text follows it.
fn label_words_end(b: &[u8], pos: usize) -> Option<usize> {
    // (asked at the end of nearly every parse: the first character's low six bits first; of
    // a three-byte character, they are those of its last byte)
    if LABEL_FIRSTS >> (b.get(pos + 2)? & 63) & 1 == 0 {
        return None;
    }
    let mut at = pos;
    loop {
        while b.get(at) == Some(&b' ') {
            at += 1;
        }
        let rest = &b[at..];
        let Some(&[x, y, z]) = rest.get(..3) else {
            break;
        };
        let c = char::from_u32(decode3(x, y, z));
        let word = LABEL_WORDS
            .iter()
            .find(|(f, _)| Some(*f) == c)
            .and_then(|(_, ws)| ws.iter().find(|w| rest.starts_with(w.as_bytes())));
        match word {
            Some(w) => at += w.len(),
            None => break,
        }
    }
    (at > pos && at < b.len() && b[pos] != b' ').then_some(at)
}

/// Does `rest` start with an ending that names no zone alone, so that what comes before it
/// is the first part of the zone's name (金山 + 工业区)?
fn starts_zone_part(rest: &str) -> bool {
    ZONE_SUFFIXES
        .iter()
        .any(|z| !ZONE_ALONE.contains(z) && rest.starts_with(z))
}

/// Does `rest`, right after a township's short name and 街, show that 街 stands for 街道: the
/// end of the text, a road (not one named on from the street: 街东路), or a zone?
fn street_written_with_jie(rest: &str) -> bool {
    rest.is_empty()
        || !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || "道口坊区心巷".contains(c))
            && !looks_like_road(rest)
            && !names_road_after_place(rest)
            && (road_end_upto(rest, 10 * 3).is_some()
                || road_before_place(rest).is_some()
                || zone_at(rest).is_some_and(|(a, _)| a == 0))
}

/// A division name with its bracketed parts left out, as the normaliser leaves the text
/// (it drops brackets and what they hold): 中国（上海）自由贸易试验区（保税片区） →
/// 中国自由贸易试验区, （工业园区）城南街道 → 城南街道. `None` when the name has no bracket
/// or fewer than two characters would be left.
fn without_brackets(name: &str) -> Option<String> {
    if !name.contains(['(', '（']) {
        return None;
    }
    let mut out = String::new();
    let mut depth = 0u32;
    for c in name.chars() {
        match c {
            '(' | '（' => depth += 1,
            ')' | '）' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    (out.chars().count() >= 2).then_some(out)
}

/// How the text after a division key goes on as a road ([`road_after`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum RoadAfter {
    No,
    /// a road word at the start ([`looks_like_road`])
    Word,
    /// after a name without its suffix, a direction first and then a road named after the
    /// place (中山 + 东一路, 海淀 + 西大街, 天河 + 南二路)
    NamedAfterPlace,
}

/// How `rest`, after the division key `key`, goes on as a road (not 港闸区 + 北大街: a name with
/// its suffix; nor 常州 + 五一路, 武汉 + 中北路: an ordinal or 中 first names a road of its own).
fn road_after(key: &str, rest: &str) -> RoadAfter {
    if looks_like_road(rest) {
        RoadAfter::Word
    } else if rest.starts_with(['东', '西', '南', '北'])
        && !key.ends_with([
            '区', '县', '市', '镇', '乡', '街', '村', '旗', '道', '州', '盟',
        ])
        && names_road_after_place(rest)
    {
        RoadAfter::NamedAfterPlace
    } else {
        RoadAfter::No
    }
}

/// Does `rest`, after the division key `key`, go on as a road ([`road_after`])?
fn road_goes_on(key: &str, rest: &str) -> bool {
    road_after(key, rest) != RoadAfter::No
}

fn looks_like_road(rest: &str) -> bool {
    // a road word at the start: 路 街 巷 弄 里, 大道 大路 大街, 东路 … 中街, 一路 二路 三路, 公路, or
    // a place word (广场, 大厦, 大楼, 花园, 小区, 中心, 商城, 大学), or a city gate (宣武门,
    // 崇文门: named after the old districts 宣武区 and 崇文区, not them)
    let mut cs = rest.chars();
    let word = matches!(
        (cs.next(), cs.next()),
        (Some('路' | '街' | '巷' | '弄' | '里' | '门'), _)
            | (Some('大'), Some('道' | '路' | '街' | '厦' | '楼' | '学'))
            | (Some('东' | '西' | '南' | '北'), Some('路' | '街'))
            | (Some('中'), Some('路' | '街' | '心'))
            | (Some('一' | '二' | '三' | '公'), Some('路'))
            | (Some('广'), Some('场'))
            | (Some('花'), Some('园'))
            | (Some('小'), Some('区'))
            | (Some('商'), Some('城'))
    );
    word
        // or one character and a road suffix, then the house number (余杭塘路2628号: 塘路)
        || road_end_upto(rest, 6).is_some_and(|e| e < rest.len())
}

impl DivisionParser {
    /// Builds the dictionary from the served divisions.
    pub fn build(d: &Divisions) -> DivisionParser {
        DivisionParser::build_to(d, Level::Village)
    }

    /// Builds a dictionary of the divisions down to `deepest` only (`Level::County`: the
    /// province, city and county, what `cpca` reads; the townships and villages have no key).
    /// Every division stays a node, with the tree's index, so that `within` and the answers'
    /// nodes mean the same as in the whole dictionary.
    pub fn build_to(d: &Divisions, deepest: Level) -> DivisionParser {
        let mut p = DivisionParser {
            deepest: (deepest < Level::Village).then_some(deepest),
            ..Default::default()
        };
        for div in &d.tree.divs {
            p.nodes.push(Node {
                name: div.name.clone(),
                code: Some(div.code()),
                level: div.level,
                parent: div.parent,
            });
        }
        // supplement (TW/HK/MO), after the divisions of the code lists
        p.n_tree = p.nodes.len() as u32;
        let mut keys: HashMap<String, u32> = HashMap::new();
        let mut aliases: Vec<(u32, String)> = Vec::new();
        for line in SUPPLEMENT
            .lines()
            .skip_while(|l| l.starts_with('#'))
            .skip(1)
        {
            let f: Vec<&str> = line.split(',').collect();
            if f.len() < 6 {
                continue;
            }
            let Some(level) = Level::parse(f[2]) else {
                continue;
            };
            let idx = p.nodes.len() as u32;
            p.nodes.push(Node {
                name: f[1].to_string(),
                code: (!f[4].is_empty()).then(|| f[4].to_string()),
                level,
                parent: keys.get(f[3]).copied(),
            });
            keys.insert(f[0].to_string(), idx);
            for a in f[5].split('|').filter(|a| !a.is_empty()) {
                aliases.push((idx, a.to_string()));
            }
        }
        // the divisions named … 新区 (for the aliases of districts below)
        let new_areas: std::collections::HashSet<String> = p
            .nodes
            .iter()
            .filter(|n| n.name.ends_with("新区"))
            .map(|n| n.name.clone())
            .collect();
        let new_area_towns: std::collections::HashSet<u32> = p
            .nodes
            .iter()
            .filter(|n| n.level == Level::Township && n.name.starts_with("新区"))
            .filter_map(|n| n.parent)
            .collect();
        for i in 0..p.nodes.len() as u32 {
            let n = &p.nodes[i as usize];
            if is_placeholder_name(&n.name) || n.name.starts_with('(') || n.level > deepest {
                continue;
            }
            let (name, level, parent) = (n.name.clone(), n.level, n.parent);
            p.add(&name, i, Kind::Full);
            if let Some(bare) = without_brackets(&name) {
                // (not where a neighbour's name starts with it: 天津经济技术开发区（其他片区） and
                // 天津经济技术开发区东区泰达街道 of one district, whose short name the text gives)
                let clash = parent.is_some_and(|par| {
                    (par as usize) < d.tree.divs.len()
                        && d.tree
                            .get(par)
                            .children
                            .iter()
                            .any(|&c| c != i && d.tree.get(c).name.starts_with(bare.as_str()))
                });
                if !clash {
                    p.add(&bare, i, Kind::Alias);
                }
            }
            for s in short_names(&name, level) {
                p.add(&s, i, Kind::Short);
                if level == Level::Province && name.ends_with("自治区") {
                    // 宁夏自治区, 广西自治区 (the ethnic name left out)
                    let a = format!("{s}自治区");
                    if a != name {
                        p.add(&a, i, Kind::Alias);
                    }
                }
                if level == Level::City {
                    p.add(&format!("{s}地区"), i, Kind::Alias);
                    if name.ends_with("自治州") {
                        p.add(&format!("{s}州"), i, Kind::Alias);
                    }
                }
            }
            match level {
                Level::County => {
                    // a new area with 新 left out, as it is often written (上海市浦东区 for
                    // 浦东新区), where that names no division
                    if let Some(base) = name.strip_suffix("新区") {
                        let a = format!("{base}区");
                        if base.chars().count() >= 2 && !p.nodes.iter().any(|n| n.name == a) {
                            p.add(&a, i, Kind::Alias);
                        }
                    } else if let Some(base) = name.strip_suffix('区') {
                        // and a district as the new area it was before it became one (深圳市
                        // 龙华新区, 光明新区, 南昌市红谷滩新区), where that names no division and
                        // no township of the district starts with 新区 (铜山新区 is where 铜山区's
                        // 新区街道 is)
                        let a = format!("{base}新区");
                        if base.chars().count() >= 2
                            && !new_areas.contains(&a)
                            && !new_area_towns.contains(&i)
                        {
                            p.add(&a, i, Kind::Alias);
                        }
                    }
                    // functional zones named after their city (秦皇岛市经济技术开发区)
                    if let Some(par) = parent {
                        let pn = p.nodes[par as usize].name.clone();
                        let mut prefixes = vec![pn.clone()];
                        prefixes.extend(short_names(&pn, Level::City));
                        for pre in &prefixes {
                            if let Some(rest) = name.strip_prefix(pre.as_str()) {
                                if rest.chars().count() >= 3 {
                                    p.add(rest, i, Kind::Alias);
                                }
                            }
                        }
                        // a zone as it is written, after its city's full or short name: a
                        // high-tech zone as 高新区 (济南高新区, 济南市高新区, 长春净月高新区), an
                        // economic development zone as 开发区 or 经开区 (烟台开发区, 郑州经开区),
                        // an industrial park as 园区 (苏州园区); not 高新区 alone, whose readings
                        // every text with it would then weigh
                        let dev: &[&str] = &["开发区", "经开区", "经济开发区"];
                        let written = [
                            ("高新技术产业开发区", &["高新区"][..]),
                            ("高新技术开发区", &["高新区"][..]),
                            ("经济技术开发区", dev),
                            ("经济开发区", dev),
                            ("工业园区", &["园区"][..]),
                        ];
                        if let Some((base, shorts)) = written
                            .iter()
                            .find_map(|(s, v)| name.strip_suffix(s).map(|b| (b, *v)))
                        {
                            if let Some(rest) =
                                prefixes.iter().find_map(|q| base.strip_prefix(q.as_str()))
                            {
                                for pre in &prefixes {
                                    for z in shorts {
                                        let a = format!("{pre}{rest}{z}");
                                        if a != name {
                                            p.add(&a, i, Kind::Alias);
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                Level::Township if name.ends_with("街道") => {
                    p.add(&format!("{name}办事处"), i, Kind::Alias);
                    p.add(&format!("{name}办"), i, Kind::Alias);
                }
                Level::Village => {
                    for suf in ["居民委员会", "村民委员会", "居委会", "村委会", "委员会"]
                    {
                        if let Some(base) = name.strip_suffix(suf) {
                            let base = if suf.starts_with('村') && !base.ends_with('村') {
                                format!("{base}村")
                            } else {
                                base.to_string()
                            };
                            if base.chars().count() >= 2 {
                                p.add(&base, i, Kind::Short);
                            }
                            break;
                        }
                    }
                }
                _ => {}
            }
        }
        for (i, a) in aliases {
            if p.nodes[i as usize].level <= deepest {
                p.add(&a, i, Kind::Alias);
            }
        }
        // (about 40,000 short names: 8 % of the bits set)
        p.town_pairs = super::PairBits::with_log2(19);
        for (i, n) in p.nodes.iter().enumerate() {
            let Some(par) = n.parent else { continue };
            if n.level != Level::Township
                || n.level > deepest
                || p.nodes[par as usize].level != Level::County
            {
                continue;
            }
            let Some(base) = town_short_name(&n.name) else {
                continue;
            };
            let mut forms = vec![base.to_string()];
            forms.extend(super::normalize::normalize_name(base));
            for f in forms {
                let mut cs = f.chars();
                let (Some(a), Some(c)) = (cs.next(), cs.next()) else {
                    continue;
                };
                let (x, y) = town_pair(par, a as u32, c as u32);
                p.town_pairs.insert_u32(x, y);
                p.town_firsts.insert(a, c);
                let v = p.town_shorts.entry((par, a as u32, c as u32)).or_default();
                if !v.iter().any(|(k, t)| **k == *f && *t == i as u32) {
                    v.push((f.into_boxed_str(), i as u32));
                }
            }
        }
        // old names → successors
        for ch in &d.changes.changes {
            let succ = ch
                .new_code
                .as_deref()
                .and_then(|c| d.find_code(c).ok().flatten())
                .or_else(|| p.resolve_path(&ch.new_names));
            let Some(succ) = succ.filter(|&s| p.nodes[s as usize].level <= deepest) else {
                continue;
            };
            let old = ch.old_name().to_string();
            let mut olds = vec![old.clone()];
            match &ch.old_short {
                Some(s) => olds.push(s.clone()),
                // (the coded rows of code_changes.csv name no short form: 卢湾区 → 卢湾)
                None => olds.extend(short_names(&old, p.nodes[succ as usize].level)),
            }
            for o in olds {
                if o.chars().count() < 2 {
                    continue;
                }
                // the old name still names the successor itself (moved, not renamed)
                if p.nodes[succ as usize].name == o {
                    continue;
                }
                p.add(&o, succ, Kind::Old);
            }
        }
        p.finish();
        p
    }

    /// Moves the built key → entries map into the trie and the flat entry table.
    fn finish(&mut self) {
        let mut keys: Vec<(String, Vec<Entry>)> =
            std::mem::take(&mut self.building).into_iter().collect();
        keys.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        self.entries = Vec::with_capacity(keys.len() + keys.len() / 4);
        let mut records = Vec::with_capacity(keys.len());
        self.n_keys = keys.len();
        for (k, es) in &keys {
            self.first_pairs.insert_prefix(k);
            // the names of provinces, cities and counties are the hot part of the trie
            let rank = u8::from(!es.iter().any(|e| e.level <= Level::County));
            if let (Some(v), 1) = (es[0].inline(), es.len()) {
                records.push((k.as_str(), v, rank));
                continue;
            }
            let at = self.entries.len() as u32;
            let n = (es.len() as u32).min(MANY_SCAN);
            records.push((k.as_str(), at | n << MANY_SHIFT, rank));
            self.entries.extend_from_slice(es);
            if let Some(e) = self.entries.last_mut() {
                e.last = true;
            }
        }
        // keys are unique, non-empty and sorted, and there are far fewer than 2^24 entries (a
        // few per division at most; a value is below INLINE)
        assert!(
            self.entries.len() < 1 << MANY_SHIFT,
            "division dictionary: too many entries"
        );
        self.trie = super::keytrie::KeyTrie::from_records(records).unwrap_or_default();
        self.info = self
            .nodes
            .iter()
            .map(|n| NodeInfo {
                parent: n.parent.unwrap_or(NO_PARENT),
                level: n.level,
                placeholder: is_placeholder_name(&n.name),
                municipal: n
                    .code
                    .as_deref()
                    .is_some_and(|c| c.len() >= 2 && MUNICIPALITIES.contains(&&c[..2])),
            })
            .collect();
        self.county_pairs = super::PairBits::with_log2(15);
        for n in self.nodes.iter().filter(|n| n.level == Level::County) {
            self.county_pairs.insert_prefix(&n.name);
        }
        self.counties_by_shape.clear();
        self.county_normalized.clear();
        // (each county twice: in its province's scope and in the country's)
        self.county_shapes = super::PairBits::with_log2(17);
        self.county_chars = super::PairBits::with_log2(16);
        self.county_max_chars.clear();
        for i in 0..self.n_tree {
            let n = &self.nodes[i as usize];
            if n.level != Level::County || is_placeholder_name(&n.name) {
                continue;
            }
            let p = self.province_of(i);
            // (the name as the text comes normalised: 乾安县 is read as 干安县)
            let norm = super::normalize::normalize_name(&n.name);
            let name = norm.as_deref().unwrap_or(&n.name);
            let cs: SmallVec<[char; 16]> = name.chars().collect();
            if let ([a, b, _, ..], Some(&last)) = (cs.as_slice(), cs.last()) {
                let m = self.county_max_chars.entry(p).or_default();
                *m = (*m).max(cs.len());
                for p in [p, NATION] {
                    // (the first character as itself, the second with bit 21 set)
                    self.county_chars.insert_u32(*a as u32, p);
                    self.county_chars.insert_u32(*b as u32 | 1 << 21, p);
                    for (at, c) in [*a, *b].into_iter().enumerate() {
                        let k = shape(c, at, cs.len(), last);
                        let (x, y) = shape_bits(p, k);
                        self.county_shapes.insert_u32(x, y);
                        let v = self.counties_by_shape.entry((p, k.0, k.1)).or_default();
                        if !v.contains(&i) {
                            v.push(i);
                        }
                    }
                }
            }
            if let Some(t) = norm {
                self.county_normalized.insert(i, t.into());
            }
        }
        self.city_chars = super::PairBits::with_log2(14);
        for i in 0..self.n_tree {
            let n = &self.nodes[i as usize];
            if n.level != Level::City {
                continue;
            }
            for name in city_names(&n.name) {
                for (k, c) in name.chars().take(2).enumerate() {
                    self.city_chars.insert_u32(c as u32, k as u32);
                }
            }
        }
    }

    /// Number of dictionary keys and the heap bytes of the trie and entry table.
    pub fn dictionary_size(&self) -> (usize, usize) {
        let trie = self.trie.heap_bytes();
        (
            self.n_keys,
            trie + self.entries.capacity() * size_of::<Entry>()
                + self.info.capacity() * size_of::<NodeInfo>(),
        )
    }

    /// The entries of the key whose trie value is `v`.
    fn entries_of(&self, v: u32) -> Entries<'_> {
        if v & INLINE != 0 {
            return Entries::One(Entry::from_inline(v));
        }
        let (at, n) = ((v & ((1 << MANY_SHIFT) - 1)) as usize, v >> MANY_SHIFT);
        if n != MANY_SCAN {
            return Entries::Many(self.entries.get(at..at + n as usize).unwrap_or_default());
        }
        let rest = &self.entries[at..];
        let n = rest
            .iter()
            .position(|e| e.last)
            .map_or(rest.len(), |i| i + 1);
        Entries::Many(&rest[..n])
    }

    /// Keys starting at byte `pos` of `text` with at least `min` (≥ 2) characters, shortest
    /// first, into `out` (the callers take them longest first, from the end).
    fn hits(&self, text: &str, pos: usize, min: u32, out: &mut Vec<Hit>) {
        out.clear();
        debug_assert!(min >= 2);
        let rb = &text.as_bytes()[pos..];
        let Some(((a, c), at)) = first_two(rb) else {
            return;
        };
        if !self.first_pairs.may_contain_u32(a, c) {
            return;
        }
        self.trie
            .prefixes((a, c), rb, at, min, |key, chars, bytes| {
                out.push(Hit { key, chars, bytes })
            });
    }

    /// Keys of at least 3 characters at byte `pos`, where a county's full name may start there
    /// (the keys found may still be of any kind and level), into `out`.
    fn county_hits(&self, text: &str, pos: usize, out: &mut Vec<Hit>) {
        match first_two(&text.as_bytes()[pos..]) {
            Some(((a, b), _)) if self.county_pairs.may_contain_u32(a, b) => {
                self.hits(text, pos, 3, out)
            }
            _ => out.clear(),
        }
    }

    /// Adds `key` for `node`, and the key as the normaliser leaves it when that differs (an
    /// official name in characters zhconv simplifies, 乾丰镇 → 干丰镇, 尖塚镇 → 尖冢镇; with
    /// punctuation, 田林一、二村居委会; or with a numeral before an element suffix, 七百弄乡 →
    /// 700弄乡; or as it comes back from Taiwan's Traditional, 蘭谿市 → 兰谿市): text is
    /// normalised before it is parsed, so the dictionary must hold what the text becomes.
    fn add(&mut self, key: &str, node: u32, kind: Kind) {
        if let Some(n) = super::normalize::normalize_name(key) {
            self.add_key(&n, node, kind);
        }
        if let Some(n) = super::normalize::traditional_round_trip(key) {
            self.add_key(&n, node, kind);
        }
        self.add_key(key, node, kind);
    }

    fn add_key(&mut self, key: &str, node: u32, kind: Kind) {
        let v = self.building.entry(key.to_string()).or_default();
        if let Some(e) = v.iter_mut().find(|e| e.node == node) {
            if kind.weight() > e.kind.weight() {
                e.kind = kind;
            }
            return;
        }
        let level = self.nodes[node as usize].level;
        v.push(Entry {
            node,
            kind,
            level,
            last: false,
        });
    }

    /// Finds a node by its names from the province down (["湖北省", "襄阳市"]); used while
    /// building, before `finish`.
    fn resolve_path(&self, names: &[String]) -> Option<u32> {
        let last = names.last()?;
        self.building
            .get(last.as_str())?
            .iter()
            .filter(|e| e.kind == Kind::Full)
            .map(|e| e.node)
            .find(|&n| {
                names[..names.len() - 1].iter().all(|anc| {
                    let mut cur = self.nodes[n as usize].parent;
                    while let Some(c) = cur {
                        if &self.nodes[c as usize].name == anc {
                            return true;
                        }
                        cur = self.nodes[c as usize].parent;
                    }
                    false
                })
            })
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Is `idx` the division `anc` or below it? (Walks the compact parent array: the nodes
    /// themselves are large and mostly out of cache.)
    pub fn is_within(&self, mut idx: u32, anc: u32) -> bool {
        loop {
            if idx == anc {
                return true;
            }
            idx = self.info[idx as usize].parent;
            if idx == NO_PARENT {
                return false;
            }
        }
    }

    /// Ancestors from the province down to `idx`.
    pub fn chain(&self, idx: u32) -> Vec<u32> {
        let mut v = vec![idx];
        let mut cur = self.nodes[idx as usize].parent;
        while let Some(c) = cur {
            v.push(c);
            cur = self.nodes[c as usize].parent;
        }
        v.reverse();
        v
    }

    /// Full name from the province down, placeholders skipped.
    pub fn full_name(&self, idx: u32) -> String {
        self.chain(idx)
            .into_iter()
            .map(|i| &self.nodes[i as usize].name)
            .filter(|n| !is_placeholder_name(n))
            .map(|s| s.as_str())
            .collect()
    }

    /// Parses the division prefix of normalised text. `within`: restrict to this division
    /// (the `city=` context of a geocode call). Works on the bytes of the text (characters
    /// are decoded only where a key may start), keeps its hypotheses as small copyable values
    /// with their corrections in a shared arena, and allocates nothing once the per-thread
    /// working sets have grown; the answer borrows `text` and the parser.
    pub fn parse<'a>(&'a self, text: &'a str, within: Option<u32>) -> DivisionMatch<'a> {
        // the working sets are moved out of the thread-local and back (five vectors, no
        // allocation): the answer is then built in the caller's place, not copied out of a
        // closure
        let mut sc = SCRATCH.take();
        let m = self.parse_with(text, within, &mut sc);
        SCRATCH.set(sc);
        m
    }

    /// [`parse`](Self::parse) with the caller's working sets.
    pub fn parse_with<'a>(
        &'a self,
        text: &'a str,
        within: Option<u32>,
        sc: &mut ParseScratch,
    ) -> DivisionMatch<'a> {
        let ParseScratch {
            hyps,
            next,
            fixes: cells,
            hits,
            alt,
        } = sc;
        let b = text.as_bytes();
        let level = |x: u32| self.info[x as usize].level;
        cells.clear();
        hyps.clear();
        hyps.push(Hyp {
            node: within.unwrap_or(NO_NODE),
            score: 0,
            fix: 0,
        });
        let mut pos = 0;
        let mut any = false;
        let mut steps: SmallVec<[(u32, u32); 4]> = SmallVec::new();
        let mut step_nodes: SmallVec<[u32; 8]> = SmallVec::new();
        while pos < b.len() {
            self.hits(text, pos, 2, hits);
            if let Some(deepest) = self.deepest {
                // (a dictionary that stops above the village: where no key starts, nothing
                // below a reading at its deepest level can be read; a key there may still be
                // the name repeated, and a suffix slipped (玄武去), which the fallbacks take)
                if hits.is_empty()
                    && any
                    && b.get(pos + 2)
                        .is_none_or(|&z| SLIP_FIRSTS >> (z & 63) & 1 == 0)
                    && hyps
                        .iter()
                        .all(|y| y.node != NO_NODE && level(y.node) >= deepest)
                {
                    break;
                }
            }
            next.clear();
            // bytes from `pos` to the end of the accepted token
            let mut advance = 0;
            for (hi, h) in hits.iter().enumerate().rev() {
                let entries = self.entries_of(h.key);
                let entries = entries.as_slice();
                let end = pos + h.bytes as usize;
                // asked only of names other than full ones, once per key
                let mut road_follows = None;
                for y in hyps.iter() {
                    for e in entries {
                        if e.kind != Kind::Full {
                            let road = *road_follows
                                .get_or_insert_with(|| road_after(&text[pos..end], &text[end..]));
                            match road {
                                RoadAfter::Word => continue,
                                // (a county's short name right after its city or province stays
                                // the county, the road keeps the name: 广州市天河南二路,
                                // `DivisionMatch::road_detail`)
                                RoadAfter::NamedAfterPlace
                                    if !(y.node != NO_NODE && e.level == Level::County) =>
                                {
                                    continue
                                }
                                _ => {}
                            }
                        }
                        if y.node != NO_NODE
                            && !(e.level > level(y.node) && self.is_within(e.node, y.node))
                        {
                            continue;
                        }
                        let f = match e.kind {
                            Kind::Old => {
                                push_fix(cells, y.fix, Fix::new(FixKind::OldName, pos, end, e.node))
                            }
                            Kind::Short | Kind::Alias
                                if text[pos..end] != self.nodes[e.node as usize].name =>
                            {
                                push_fix(
                                    cells,
                                    y.fix,
                                    Fix::new(FixKind::ShortName, pos, end, e.node),
                                )
                            }
                            _ => y.fix,
                        };
                        next.push(Hyp {
                            node: e.node,
                            score: y.score + e.kind.weight() * h.chars,
                            fix: f,
                        });
                    }
                }
                if !next.is_empty() {
                    if !any
                        && hi > 0
                        && within.is_none()
                        && entries.iter().all(|e| e.level >= Level::Township)
                        && self.shorter_reads_deeper(text, pos, &hits[..hi], alt)
                    {
                        // the first token names only towns or villages (大连西 of 大连西居委会
                        // in Shanghai, 南阳镇) where a shorter key names a division that a full
                        // name right after it lies in (大连 + 西岗区, 南阳 + 镇平县): the shorter
                        // one
                        next.clear();
                        continue;
                    }
                    advance = h.bytes as usize;
                    break;
                }
            }
            if next.is_empty() {
                match self.fallbacks(text, pos, any, within, hyps, next, cells, hits, alt) {
                    Fallback::Stop => {}
                    Fallback::Skip(to) => {
                        pos = to;
                        continue;
                    }
                    Fallback::Fixed { kind, from, to } => {
                        for y in hyps.iter_mut() {
                            y.fix = push_fix(cells, y.fix, Fix::new(kind, from, to, y.node));
                        }
                        pos = to;
                        continue;
                    }
                    Fallback::Take { at, bytes } => {
                        pos = at;
                        advance = bytes;
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            any = true;
            match hyps.as_slice() {
                // (one reading, most steps)
                [y] if y.node != NO_NODE => step_nodes.push(y.node),
                _ => step_nodes.extend(hyps.iter().filter(|y| y.node != NO_NODE).map(|y| y.node)),
            }
            steps.push((pos as u32, step_nodes.len() as u32));
            // dedupe by node, keep the best score (the first of equals)
            if next.len() > 1 {
                next.sort_by(|a, b| a.node.cmp(&b.node).then(b.score.cmp(&a.score)));
                next.dedup_by(|a, b| a.node == b.node);
            }
            std::mem::swap(hyps, next);
            pos += advance;
        }
        let mut m = DivisionMatch {
            detail: &text[pos..],
            hypotheses: SmallVec::new(),
            level: None,
            levels: [NO_NODE; 5],
            steps,
            step_nodes,
            fixes: Fixes::new(),
            text,
            parser: self,
        };
        if !any && within.is_none() {
            return m;
        }
        if let [y] = hyps.as_slice() {
            // one reading (most parses): it is the best one, and there is nothing to choose
            if y.node != NO_NODE {
                m.hypotheses.push(y.node);
            }
            m.fixes = fix_list(cells, y.fix);
            self.fill_levels(&mut m, std::slice::from_ref(y));
            return m;
        }
        let best = hyps.iter().map(|y| y.score).max().unwrap_or(0);
        // the best readings, in `next`
        let top = next;
        top.clear();
        let mut shared: SmallVec<[u32; 2]> = SmallVec::new();
        top.extend(hyps.iter().filter(|y| y.score == best));
        if top.len() > 1 {
            let supplement = |y: &Hyp| (self.n_tree..NO_NODE).contains(&y.node);
            if top.iter().any(|y| y.node < self.n_tree)
                && top.iter().any(supplement)
                && top.iter().all(|y| {
                    y.node != NO_NODE
                        && level(y.node) == level(top[0].node)
                        && self.nodes[y.node as usize].name.chars().nth(2).is_some()
                })
            {
                // a name of three or more characters shared by a division of the code lists
                // and one of the Taiwan, Hong Kong and Macao supplement at the same level
                // (连江县 of Fuzhou and of Matsu), and nothing else to tell them apart: the
                // division of the code lists, the other kept as an alternative (a bare 东区
                // of Hong Kong or Panzhihua stays ambiguous)
                shared.extend(top.iter().filter(|y| supplement(y)).map(|y| y.node));
                top.retain(|y| !supplement(y));
            }
            // equal scores: the shallower reading wins (湘潭 is 湘潭市 before 湘潭县), except a
            // division with the same name as its parent (东莞市 city → 东莞市 county-level
            // unit)
            let lv = |y: &Hyp| (y.node != NO_NODE).then(|| level(y.node));
            let same_name_child = |y: &Hyp| {
                y.node != NO_NODE && {
                    let nd = &self.nodes[y.node as usize];
                    nd.parent.is_some_and(|p| {
                        self.nodes[p as usize].name == nd.name && top.iter().any(|o| o.node == p)
                    })
                }
            };
            if let Some(child) = top.iter().find(|y| same_name_child(y)).map(|y| y.node) {
                top.retain(|y| y.node == child);
            } else {
                let shallowest = top.iter().map(lv).min().flatten();
                top.retain(|y| lv(y) == shallowest);
            }
            top.sort_by_key(|y| y.node);
        }
        m.hypotheses
            .extend(top.iter().map(|y| y.node).filter(|&n| n != NO_NODE));
        if !shared.is_empty() {
            m.hypotheses.extend(shared);
        }
        m.fixes = fix_list(cells, top[0].fix);
        self.fill_levels(&mut m, top);
        // also keep lower-scored hypotheses after the best ones (for the geocoder)
        if hyps.len() > top.len() {
            hyps.retain(|y| y.score < best);
            hyps.sort_by_key(|y| std::cmp::Reverse(y.score));
            m.hypotheses
                .extend(hyps.iter().map(|y| y.node).filter(|&n| n != NO_NODE));
        }
        m
    }

    /// Where no key at `pos` extends a reading (`hits`: the keys there): the fallbacks, in
    /// order. Out of line: they run about once a parse, and inlined they cost the main loop
    /// registers.
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn fallbacks(
        &self,
        text: &str,
        pos: usize,
        any: bool,
        within: Option<u32>,
        hyps: &[Hyp],
        next: &mut Vec<Hyp>,
        cells: &mut Vec<(Fix, u32)>,
        hits: &[Hit],
        alt: &mut Vec<Hit>,
    ) -> Fallback {
        let b = text.as_bytes();
        let level = |x: u32| self.info[x as usize].level;
        if let Some(bytes) = self.town_short_at(text, pos, hyps, next, cells) {
            return Fallback::Take { at: pos, bytes };
        }
        if within.is_none() {
            // a full county-or-deeper name that contradicts what came before
            // (柳州地区忻城县: 忻城县 moved to 来宾市): the deeper name wins
            let cur_max = hyps
                .iter()
                .filter(|y| y.node != NO_NODE)
                .map(|y| level(y.node))
                .max();
            if let Some(cur_max) = cur_max {
                let best = hyps.iter().map(|y| y.score).max().unwrap_or(0);
                // (of three characters or more: a two-character county name such as
                // Hong Kong's 南区 in 青岛市南区 is the overlap below, not a conflict)
                let parent = |x: u32| self.nodes[x as usize].parent;
                for h in hits.iter().rev().filter(|h| h.chars >= 3) {
                    for e in self.entries_of(h.key).as_slice() {
                        // (or a full township name of another county of the city of the county
                        // read: 余杭区临平街道, the street moved to 临平区 when 余杭区 was split
                        // in 2021; addresses keep the county they were written with)
                        let moved_town = || {
                            e.kind == Kind::Full
                                && e.level == Level::Township
                                && cur_max == Level::County
                                && TOWNSHIP_SUFFIXES
                                    .iter()
                                    .any(|s| self.nodes[e.node as usize].name.ends_with(s))
                                && parent(e.node).is_some_and(|c| {
                                    hyps.iter().any(|y| {
                                        y.node < self.n_tree
                                            && level(y.node) == Level::County
                                            && parent(y.node) == parent(c)
                                    })
                                })
                        };
                        if matches!(e.kind, Kind::Full | Kind::Old)
                            && e.level == Level::County
                            && e.level > cur_max
                            || moved_town()
                        {
                            let f = push_fix(
                                cells,
                                hyps[0].fix,
                                Fix::new(FixKind::Conflict, 0, pos, e.node),
                            );
                            next.push(Hyp {
                                node: e.node,
                                score: best + e.kind.weight() * h.chars,
                                fix: f,
                            });
                        }
                    }
                    if !next.is_empty() {
                        // (a county of the province named, read alike, before the conflict)
                        self.fuzzy_county(text, pos, h, hyps, next, cells);
                        return Fallback::Take {
                            at: pos,
                            bytes: h.bytes as usize,
                        };
                    }
                }
            }
        }
        let after = next_char(b, pos);
        if any && after < b.len() {
            // one stray character between division names (成都是锦江区, 上海经静安区), or
            // the same name repeated (广州市广州市越秀区), but not a road named after the
            // division (天河区天河路208号), nor a zone (金山区金山工业区: the zone keeps
            // its name)
            if let Some(h) = hits.iter().rev().find(|h| {
                self.entries_of(h.key)
                    .as_slice()
                    .iter()
                    .any(|e| hyps.iter().any(|y| y.node == e.node))
                    && !road_goes_on(
                        &text[pos..pos + h.bytes as usize],
                        &text[pos + h.bytes as usize..],
                    )
                    && !starts_zone_part(&text[pos + h.bytes as usize..])
            }) {
                return Fallback::Skip(pos + h.bytes as usize);
            }
            if let Some(to) = (!hits.is_empty())
                .then(|| self.ancestor_repeated(text, pos, hyps, hits, alt))
                .flatten()
            {
                return Fallback::Skip(to);
            }
            if let Some(taken) =
                self.deeper_after_noise(text, (pos, after), |_| true, hyps, next, cells, alt)
            {
                return taken;
            }
            // two ending in 市 or 省 after a province or a city (out of line: rare; the bytes
            // of the second first)
            if matches!(
                b.get(after..after + 3),
                Some([0xE5, 0xB8, 0x82] | [0xE7, 0x9C, 0x81])
            ) {
                if let Some(taken) = self.two_stray(text, (pos, after), hyps, next, cells, alt) {
                    return taken;
                }
            }
        }
        if pos > 0
            && any
            && hyps
                .iter()
                .any(|y| y.node != NO_NODE && level(y.node) < Level::County)
        {
            // a county name overlapping the last character (青岛市南区 → 青岛市 + 市南区), in
            // a province or city read so far
            let back = prev_char(b, pos);
            self.county_hits(text, back, alt);
            let taken = self.extend_first(alt, hyps, next, |e, y| {
                (e.kind == Kind::Full && e.level == Level::County && self.is_within(e.node, y.node))
                    .then_some(y.fix)
            });
            if let Some(bytes) = taken {
                return Fallback::Take {
                    at: pos,
                    bytes: back + bytes as usize - pos,
                };
            }
        }
        if hyps
            .iter()
            .any(|y| y.node < self.n_tree && self.info[y.node as usize].level < Level::County)
        {
            if let Some(bytes) = self.misspelt_county(text, pos, hyps, next, cells) {
                return Fallback::Take { at: pos, bytes };
            }
        }
        if hyps.iter().all(|y| {
            y.node == NO_NODE
                || y.node < self.n_tree && self.info[y.node as usize].level < Level::City
        }) {
            if let Some(bytes) = self.misspelt_city(text, pos, hyps, next, cells, alt) {
                return Fallback::Take { at: pos, bytes };
            }
        }
        if !any && pos == 0 && within.is_none() && text.chars().nth(4).is_some() {
            // one or two stray characters before a full county name (深罗湖区, 州市荔湾区)
            let one = next_char(b, 0);
            let two = next_char(b, one);
            let mut county_at = |s: usize| {
                self.county_hits(text, s, alt);
                alt.iter().any(|h| {
                    self.entries_of(h.key)
                        .as_slice()
                        .iter()
                        .any(|e| e.kind == Kind::Full && e.level == Level::County)
                })
            };
            if let Some(s) = [one, two].into_iter().find(|&s| county_at(s)) {
                return Fallback::Skip(s);
            }
        }
        if within.is_none() {
            if let Some(end) = label_words_end(b, pos) {
                // words of a company register's labels (总公司位于石家庄市…, 湖北总部 武汉市…,
                // 广州办事处位于广州市白云区…) before a division's full name that starts the
                // reading, goes deeper, or says again what was read: the words are skipped
                if self.restarts_after_label(text, end, any, hyps, alt) {
                    return Fallback::Fixed {
                        kind: FixKind::Noise,
                        from: pos,
                        to: end,
                    };
                }
            }
        }
        if any {
            if let Some(from) = self.suffix_slip(b, pos, hyps) {
                // a division's short name and a character read alike its suffix (黄浦去福州路,
                // 成都是人民南路): the division's name, with a fuzzy correction
                return Fallback::Fixed {
                    kind: FixKind::Fuzzy,
                    from,
                    to: pos + 3,
                };
            }
        }
        if !any && hyps.iter().all(|y| y.node == NO_NODE) {
            // a county's name misspelt alike with nothing read before it (静按区南京西路 for
            // 静安区): the counties of the whole country one character away (all of them, when
            // several are)
            if let Some(bytes) = self.misspelt_county(text, pos, hyps, next, cells) {
                return Fallback::Take { at: pos, bytes };
            }
        }
        Fallback::Stop
    }

    /// A character at byte `pos` of `b` that is a slip for the suffix of a reading of `hyps`
    /// whose name without that suffix ends right before it (黄浦 + 去 for 黄浦区): where the
    /// name starts. Only the slips an input method gives for 区, 县 and 市 ([`SUFFIX_SLIPS`]).
    #[inline]
    fn suffix_slip(&self, b: &[u8], pos: usize, hyps: &[Hyp]) -> Option<usize> {
        if SLIP_FIRSTS >> (b.get(pos + 2)? & 63) & 1 == 0 {
            return None;
        }
        self.suffix_slip_at(b, pos, hyps)
    }

    #[cold]
    #[inline(never)]
    fn suffix_slip_at(&self, b: &[u8], pos: usize, hyps: &[Hyp]) -> Option<usize> {
        let c = char::from_u32(decode3(b[pos], b[pos + 1], b[pos + 2]))?;
        let &(_, suffix) = SUFFIX_SLIPS.iter().find(|(x, _)| *x == c)?;
        hyps.iter().find_map(|y| {
            let name = &self.nodes.get(y.node as usize)?.name;
            let base = name.strip_suffix(suffix)?;
            // (a base of two characters or more)
            (base.len() >= 6 && b[..pos].ends_with(base.as_bytes())).then(|| pos - base.len())
        })
    }

    /// The full name of a division above a reading of `hyps` at byte `pos` (`hits`: the keys
    /// there), said again with the address that follows (广东省深圳广东省深圳市宝安区): where
    /// the next key after it is the reading itself or deeper, the byte it starts at. A name
    /// not followed by a division stays (滨湖区江苏省无线电科学研究所: a name of the company).
    #[cold]
    #[inline(never)]
    fn ancestor_repeated(
        &self,
        text: &str,
        pos: usize,
        hyps: &[Hyp],
        hits: &[Hit],
        alt: &mut Vec<Hit>,
    ) -> Option<usize> {
        let level = |y: &Hyp| (y.node != NO_NODE).then(|| self.info[y.node as usize].level);
        let deepest = hyps.iter().filter_map(level).max()?;
        let above = |e: &Entry| {
            e.kind == Kind::Full
                && e.level < deepest
                && hyps.iter().any(|y| {
                    level(y).is_some_and(|l| e.level < l) && self.is_within(y.node, e.node)
                })
        };
        let h = hits
            .iter()
            .rev()
            .find(|h| self.entries_of(h.key).as_slice().iter().any(above))?;
        let to = pos + h.bytes as usize;
        self.any_key_at(text, to, alt, |e| self.on_a_reading(e, hyps))
            .then_some(to)
    }

    /// Is the division of `e` a reading of `hyps`, above one or below one?
    fn on_a_reading(&self, e: &Entry, hyps: &[Hyp]) -> bool {
        hyps.iter().any(|y| {
            y.node != NO_NODE && (self.is_within(y.node, e.node) || self.is_within(e.node, y.node))
        })
    }

    /// Does a key at byte `at` of `text` have an entry that `take` accepts? (`alt`: working
    /// set)
    fn any_key_at(
        &self,
        text: &str,
        at: usize,
        alt: &mut Vec<Hit>,
        take: impl Fn(&Entry) -> bool,
    ) -> bool {
        self.hits(text, at, 2, alt);
        alt.iter()
            .any(|h| self.entries_of(h.key).as_slice().iter().any(&take))
    }

    /// After label words ending at byte `end` (see [`label_words_end`]): a full name there of
    /// a province, city or county when nothing was read (`any` false), else one deeper than a
    /// reading of `hyps` and within it, or the reading itself or one of its ancestors said
    /// again (the repeat is then skipped by the main loop).
    #[cold]
    #[inline(never)]
    fn restarts_after_label(
        &self,
        text: &str,
        end: usize,
        any: bool,
        hyps: &[Hyp],
        alt: &mut Vec<Hit>,
    ) -> bool {
        self.any_key_at(text, end, alt, |e| {
            e.kind == Kind::Full
                && if any {
                    self.on_a_reading(e, hyps)
                } else {
                    e.level <= Level::County
                }
        })
    }

    /// Two characters at byte `pos`, the second (at byte `after`) 市 or 省 as the caller found,
    /// after a reading of a province or a city (`hyps`), before the full name of a city or
    /// county in it: a character of the name typed twice (广州州市海珠区, 浙江江省杭州市) or the
    /// end of a city's name that lost its start (广东省圳市福田区). The name's readings go to
    /// `next`, the two characters dropped as noise.
    #[cold]
    #[inline(never)]
    fn two_stray(
        &self,
        text: &str,
        (pos, after): (usize, usize),
        hyps: &[Hyp],
        next: &mut Vec<Hyp>,
        cells: &mut Vec<(Fix, u32)>,
        alt: &mut Vec<Hit>,
    ) -> Option<Fallback> {
        // (市 and 省 are three bytes)
        let after2 = after + 3;
        if after2 >= text.len()
            || hyps
                .iter()
                .any(|y| y.node == NO_NODE || self.info[y.node as usize].level >= Level::County)
        {
            return None;
        }
        self.deeper_after_noise(
            text,
            (pos, after2),
            |e| e.level <= Level::County,
            hyps,
            next,
            cells,
            alt,
        )
    }

    /// The text from byte `noise` to byte `at` dropped as noise, a full name at `at` of three
    /// characters or more, deeper than a reading of `hyps` and within it, that `take` accepts:
    /// its readings into `next` (`alt`: working set).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn deeper_after_noise(
        &self,
        text: &str,
        (noise, at): (usize, usize),
        take: impl Fn(&Entry) -> bool,
        hyps: &[Hyp],
        next: &mut Vec<Hyp>,
        cells: &mut Vec<(Fix, u32)>,
        alt: &mut Vec<Hit>,
    ) -> Option<Fallback> {
        let level = |x: u32| self.info[x as usize].level;
        self.hits(text, at, 3, alt);
        let bytes = self.extend_first(alt, hyps, next, |e, y| {
            (e.kind == Kind::Full
                && e.level > level(y.node)
                && take(e)
                && self.is_within(e.node, y.node))
            .then(|| push_fix(cells, y.fix, Fix::new(FixKind::Noise, noise, at, e.node)))
        })?;
        Some(Fallback::Take {
            at,
            bytes: bytes as usize,
        })
    }

    /// A full county name at byte `pos` (the key `h`, whose conflicting readings are in
    /// `next`) that lies in another province than a reading so far, where a county of the
    /// province or city read is one character away from it, read alike (上海黄埔区: 黄埔区 is
    /// Guangzhou's, 黄浦区 Shanghai's): the county of the province named, with a `fuzzy`
    /// correction, replaces the conflict readings in `next` (which would move the address
    /// across the country).
    #[cold]
    #[inline(never)]
    fn fuzzy_county(
        &self,
        text: &str,
        pos: usize,
        h: &Hit,
        hyps: &[Hyp],
        next: &mut Vec<Hyp>,
        cells: &mut Vec<(Fix, u32)>,
    ) {
        let end = pos + h.bytes as usize;
        let named: SmallVec<[u32; 2]> = self
            .entries_of(h.key)
            .as_slice()
            .iter()
            .filter(|e| e.kind == Kind::Full && e.level == Level::County)
            .map(|e| e.node)
            .collect();
        let mut fuzzy = Vec::new();
        self.read_alike(text, (pos, end), h.chars, hyps, &mut fuzzy, cells, |y| {
            named
                .iter()
                .all(|&n| self.province_of(n) != self.province_of(y))
        });
        if !fuzzy.is_empty() {
            // (the working set keeps its buffer)
            next.clear();
            next.append(&mut fuzzy);
        }
    }

    /// For each reading of `hyps` above the county level that `take` accepts, the counties
    /// under it one character from `text[start..end]` (of `chars` characters), read alike,
    /// into `next`, each with a `fuzzy` correction; for the reading of nothing (nothing read
    /// yet), the counties of the whole country.
    #[allow(clippy::too_many_arguments)]
    fn read_alike(
        &self,
        text: &str,
        (start, end): (usize, usize),
        chars: u32,
        hyps: &[Hyp],
        next: &mut Vec<Hyp>,
        cells: &mut Vec<(Fix, u32)>,
        take: impl Fn(u32) -> bool,
    ) {
        for y in hyps {
            // (none under a reading of a county or deeper)
            if y.node != NO_NODE && !take(y.node) {
                continue;
            }
            for c in self.counties_one_char_away(y.node, &text[start..end]) {
                let f = push_fix(cells, y.fix, Fix::new(FixKind::Fuzzy, start, end, c));
                next.push(Hyp {
                    node: c,
                    score: y.score + Kind::Old.weight() * chars,
                    fix: f,
                });
            }
        }
    }

    /// A county name at byte `pos` that is no division at all but one character away from a
    /// county of the province or city read, the two characters read alike (上海市静按区 for
    /// 静安区: the slip of a pinyin input method): that county, with a `fuzzy` correction.
    /// The name runs to a division suffix (区, 县, 市, 旗) as far as the province's longest county
    /// name reaches (鹰手营子矿区, 积石山保安族东乡族撒拉族自治县), the nearest that gives a county.
    /// (Asked only where a reading is above the county level.)
    #[cold]
    #[inline(never)]
    fn misspelt_county(
        &self,
        text: &str,
        pos: usize,
        hyps: &[Hyp],
        next: &mut Vec<Hyp>,
        cells: &mut Vec<(Fix, u32)>,
    ) -> Option<usize> {
        // each division suffix in reach ends a possible name, the shortest first (西市区 holds
        // 市 before its 区)
        let mut cs = text[pos..].chars();
        let (Some(c0), Some(c1)) = (cs.next(), cs.next()) else {
            return None;
        };
        // (a name one character away keeps its first or its second character)
        let provinces: SmallVec<[u32; 4]> = hyps
            .iter()
            .filter_map(|y| self.slip_scope(y.node))
            .filter(|&p| {
                self.county_chars.may_contain_u32(c0 as u32, p)
                    || self.county_chars.may_contain_u32(c1 as u32 | 1 << 21, p)
            })
            .collect();
        if provinces.is_empty() {
            return None;
        }
        let may = |n: usize, last: char| {
            [c0, c1].into_iter().enumerate().any(|(at, c)| {
                provinces.iter().any(|&p| {
                    let (x, y) = shape_bits(p, shape(c, at, n, last));
                    self.county_shapes.may_contain_u32(x, y)
                })
            })
        };
        // (with nothing read, names of up to four characters: 静按区, 浦冬新区; 87 % of the
        // counties, and the search stays short in the text that reaches it, a twentieth of
        // all, most of it no county at all)
        let reach = provinces
            .iter()
            .filter_map(|&p| match p {
                NATION => Some(4),
                _ => self.county_max_chars.get(&p).copied(),
            })
            .max()
            .unwrap_or(0);
        let b = text.as_bytes();
        let (mut end, mut n) = (pos, 0);
        while n < reach && end < b.len() {
            let x = b[end];
            end += utf8_len(x);
            n += 1;
            // (a suffix by its bytes, all four led by E5 or E6: decoded only there)
            if n < 3 || !matches!(x, 0xE5 | 0xE6) {
                continue;
            }
            let last = match &b[end - 3..end] {
                [0xE5, 0x8C, 0xBA] => '区',
                [0xE5, 0x8E, 0xBF] => '县',
                [0xE5, 0xB8, 0x82] => '市',
                [0xE6, 0x97, 0x97] => '旗',
                _ => continue,
            };
            if !may(n, last) {
                continue;
            }
            self.read_alike(text, (pos, end), n as u32, hyps, next, cells, |_| true);
            if !next.is_empty() {
                return Some(end - pos);
            }
        }
        None
    }

    /// A city's full or short name at byte `pos` with one character replaced by one read alike
    /// (杭洲市 for 杭州市, 杭洲 for 杭州), under a province read (or nothing read), right before
    /// the full name of one of its counties (杭洲市西湖区, 浙江杭洲西湖区: the county alone may be
    /// ambiguous, 西湖区 of Hangzhou or of Nanchang, and without a county after it a word such as
    /// 福洲路 is not taken for a city): that city, with a `fuzzy` correction; its length in bytes.
    /// The county is looked for first, two to four characters on, or five after a suffix (most
    /// text has none there, a bitmap probe each), and only its city's names are compared.
    #[cold]
    #[inline(never)]
    fn misspelt_city(
        &self,
        text: &str,
        pos: usize,
        hyps: &[Hyp],
        next: &mut Vec<Hyp>,
        cells: &mut Vec<(Fix, u32)>,
        alt: &mut Vec<Hit>,
    ) -> Option<usize> {
        let mut cs = text[pos..].chars();
        let (c0, c1) = (cs.next()?, cs.next()?);
        if !self.city_chars.may_contain_u32(c0 as u32, 0)
            && !self.city_chars.may_contain_u32(c1 as u32, 1)
        {
            return None;
        }
        let b = text.as_bytes();
        let (mut end, mut n) = (next_char(b, pos), 1);
        let mut best = 0;
        while n < 5 && end < b.len() {
            let Some((last, len)) = decode(&b[end..]) else {
                break;
            };
            end += len;
            n += 1;
            // (a short name of two to four characters, or a full name: 市, 自治州, 地区, 盟
            // last)
            if n > 4 && !matches!(char::from_u32(last), Some('市' | '州' | '区' | '盟')) {
                continue;
            }
            self.county_hits(text, end, alt);
            let typed = &text[pos..end];
            for h in alt.iter() {
                for e in self.entries_of(h.key).as_slice() {
                    let city = self.info[e.node as usize].parent;
                    if e.kind != Kind::Full || e.level != Level::County || city == NO_PARENT {
                        continue;
                    }
                    let cn = &self.nodes[city as usize];
                    if cn.level != Level::City
                        || next.iter().any(|y| y.node == city)
                        || !city_names(&cn.name).any(|name| one_read_alike_apart(&name, typed))
                    {
                        continue;
                    }
                    for y in hyps {
                        if y.node != NO_NODE && !self.is_within(city, y.node) {
                            continue;
                        }
                        let f = push_fix(cells, y.fix, Fix::new(FixKind::Fuzzy, pos, end, city));
                        next.push(Hyp {
                            node: city,
                            score: y.score + Kind::Old.weight() * n as u32,
                            fix: f,
                        });
                        best = end - pos;
                    }
                }
            }
            if best > 0 {
                return Some(best);
            }
        }
        None
    }

    /// A township's short name at byte `pos` right after its county (黄浦区外滩, 西湖区蒋村),
    /// the longest one, its readings into `next`; its length in bytes. Not where a road
    /// starts with it, nor where the text goes on with a division's suffix (召陵区召陵区: the
    /// county again, not 召陵镇). Only after a county: 城关 or 新华 alone are townships of
    /// hundreds of counties, and 重庆解放碑 stays a city and a place.
    fn town_short_at(
        &self,
        text: &str,
        pos: usize,
        hyps: &[Hyp],
        next: &mut Vec<Hyp>,
        cells: &mut Vec<(Fix, u32)>,
    ) -> Option<usize> {
        let ((a, c), _) = first_two(&text.as_bytes()[pos..])?;
        if !self.town_firsts.may_contain_u32(a, c) {
            return None;
        }
        let rest = &text[pos..];
        let mut best = 0;
        for y in hyps {
            if y.node == NO_NODE
                || self.info[y.node as usize].level != Level::County
                || !{
                    let (x, z) = town_pair(y.node, a, c);
                    self.town_pairs.may_contain_u32(x, z)
                }
            {
                continue;
            }
            let Some(v) = self.town_shorts.get(&(y.node, a, c)) else {
                continue;
            };
            for (k, t) in v {
                let Some(after) = rest.strip_prefix(&**k) else {
                    continue;
                };
                // the township under the suffix it had before it became a street or a town
                // (松陵镇 for 松陵街道, 撤镇设街道; 某某乡 for 某某镇, 撤乡设镇): an old name
                let old = TOWNSHIP_SUFFIXES
                    .into_iter()
                    .find(|s| after.starts_with(s) && !self.nodes[*t as usize].name.ends_with(s));
                // a street written with 街 for 街道 before a road, a zone or nothing
                // (番禺区大石街南大路, 花都区新华街镜湖大道8号, 番禺区桥南街; not 望京街10号: a
                // road, its number after it)
                let jie = old.is_none()
                    && self.nodes[*t as usize].name.ends_with("街道")
                    && after
                        .strip_prefix('街')
                        .is_some_and(street_written_with_jie);
                let (len, kind) = match old {
                    Some(s) => (k.len() + s.len(), FixKind::OldName),
                    None if jie => (k.len() + '街'.len_utf8(), FixKind::ShortName),
                    None => (k.len(), FixKind::ShortName),
                };
                if len < best
                    || old.is_none()
                        && !jie
                        && (after
                            .starts_with(['区', '县', '市', '镇', '乡', '街', '村', '旗', '道'])
                            || looks_like_road(after)
                            || names_road_after_place(after))
                {
                    continue;
                }
                if len > best {
                    best = len;
                    next.clear();
                }
                let f = push_fix(cells, y.fix, Fix::new(kind, pos, pos + best, *t));
                next.push(Hyp {
                    node: *t,
                    score: y.score + Kind::Short.weight() * k.chars().count() as u32,
                    fix: f,
                });
            }
        }
        (best > 0).then_some(best)
    }

    /// Does one of the `shorter` keys at byte `pos` name a province, city or county that a
    /// full name starting right after that key lies in? (`alt`: working set)
    fn shorter_reads_deeper(
        &self,
        text: &str,
        pos: usize,
        shorter: &[Hit],
        alt: &mut Vec<Hit>,
    ) -> bool {
        shorter.iter().any(|h| {
            let ups: SmallVec<[u32; 4]> = self
                .entries_of(h.key)
                .as_slice()
                .iter()
                .filter(|e| e.level <= Level::County)
                .map(|e| e.node)
                .collect();
            if ups.is_empty() {
                return false;
            }
            self.hits(text, pos + h.bytes as usize, 2, alt);
            alt.iter().any(|n| {
                self.entries_of(n.key).as_slice().iter().any(|e| {
                    e.kind == Kind::Full
                        && ups.iter().any(|&u| {
                            e.level > self.info[u as usize].level && self.is_within(e.node, u)
                        })
                })
            })
        })
    }

    /// The fallbacks' search: the longest key of `keys` (shortest first) under which `take`
    /// accepts an entry for a reading of `hyps` that has a division (`take` gives the
    /// reading's corrections); its readings go to `next`, and its length in bytes is returned.
    fn extend_first(
        &self,
        keys: &[Hit],
        hyps: &[Hyp],
        next: &mut Vec<Hyp>,
        mut take: impl FnMut(&Entry, &Hyp) -> Option<u32>,
    ) -> Option<u32> {
        for h in keys.iter().rev() {
            for y in hyps.iter().filter(|y| y.node != NO_NODE) {
                for e in self.entries_of(h.key).as_slice() {
                    if let Some(fix) = take(e, y) {
                        next.push(Hyp {
                            node: e.node,
                            score: y.score + e.kind.weight() * h.chars,
                            fix,
                        });
                    }
                }
            }
            if !next.is_empty() {
                return Some(h.bytes);
            }
        }
        None
    }

    /// The province `idx` lies in (itself for a province).
    fn province_of(&self, mut idx: u32) -> u32 {
        loop {
            let p = self.info[idx as usize].parent;
            if p == NO_PARENT {
                return idx;
            }
            idx = p;
        }
    }

    /// Where the counties a reading `y` may have a misspelt one under are looked for: its
    /// province for a province or city of the code lists, the country for nothing read
    /// (`NO_NODE`); None for anything else.
    fn slip_scope(&self, y: u32) -> Option<u32> {
        if y == NO_NODE {
            Some(NATION)
        } else if y < self.n_tree && self.info[y as usize].level < Level::County {
            Some(self.province_of(y))
        } else {
            None
        }
    }

    /// Counties under the reading `y` (a province or city, or `NO_NODE`: any) whose full name
    /// is `name` with one character other than its last (the suffix) replaced by one read
    /// alike: 黄浦区 for 黄埔区 after 上海 (not 富阳区 for 朝阳区: a different name, not a slip
    /// of the pen). None under any other reading.
    fn counties_one_char_away(&self, y: u32, name: &str) -> SmallVec<[u32; 2]> {
        let mut out: SmallVec<[u32; 2]> = SmallVec::new();
        let Some(p) = self.slip_scope(y) else {
            return out;
        };
        let mut chars = name.chars();
        let (Some(c0), Some(c1), Some(last)) = (chars.next(), chars.next(), name.chars().last())
        else {
            return out;
        };
        let n = name.chars().count();
        let mut cands: SmallVec<[u32; 4]> = SmallVec::new();
        for (at, c) in [c0, c1].into_iter().enumerate() {
            let k = shape(c, at, n, last);
            let (bx, by) = shape_bits(p, k);
            if !self.county_shapes.may_contain_u32(bx, by) {
                continue;
            }
            if let Some(v) = self.counties_by_shape.get(&(p, k.0, k.1)) {
                for &c in v {
                    if !cands.contains(&c) {
                        cands.push(c);
                    }
                }
            }
        }
        for c in cands {
            if y != NO_NODE && !self.is_within(c, y) {
                continue;
            }
            let cn = match self.county_normalized.get(&c) {
                Some(t) => t,
                None => self.nodes[c as usize].name.as_str(),
            };
            if one_read_alike_apart(cn, name) {
                out.push(c);
            }
        }
        out
    }

    /// The node at each level (province … village) on the way down to `idx`.
    fn by_level(&self, idx: u32) -> [u32; 5] {
        let mut out = [NO_NODE; 5];
        let mut cur = idx;
        while cur != NO_PARENT {
            let i = self.info[cur as usize];
            out[i.level as usize - 1] = cur;
            cur = i.parent;
        }
        out
    }

    /// Sets province…village to the divisions (or names) on which all readings of `top` agree.
    fn fill_levels(&self, m: &mut DivisionMatch<'_>, top: &[Hyp]) {
        let mut nodes = top.iter().map(|y| y.node).filter(|&n| n != NO_NODE);
        let Some(first) = nodes.next() else {
            return;
        };
        let chains: SmallVec<[[u32; 5]; 4]> = nodes.map(|n| self.by_level(n)).collect();
        if chains.is_empty() {
            // one reading (most parses): its chain, placeholders left out, in one walk up
            // (`by_level`'s walk written into the levels: sharing it through a closure cost 16
            // instructions a parse)
            let mut cur = first;
            while cur != NO_PARENT {
                let i = self.info[cur as usize];
                m.levels[i.level as usize - 1] = if i.placeholder { NO_NODE } else { cur };
                cur = i.parent;
            }
            m.level = (0..5)
                .rev()
                .find(|&l| m.levels[l] != NO_NODE)
                .map(|l| Level::ALL[l]);
        } else {
            let first_chain = self.by_level(first);
            let mut deepest = None;
            for (li, level) in Level::ALL.into_iter().enumerate() {
                let first = first_chain[li];
                if first == NO_NODE || self.info[first as usize].placeholder {
                    continue;
                }
                if chains.iter().all(|c| c[li] == first) {
                    m.levels[li] = first;
                    deepest = Some(level);
                    continue;
                }
                let name = self.nodes[first as usize].name.as_str();
                if chains
                    .iter()
                    .all(|c| c[li] != NO_NODE && self.nodes[c[li] as usize].name == name)
                {
                    m.levels[li] = first | NAME_ONLY;
                }
            }
            m.level = deepest;
        }
        // the city of a municipality is the municipality itself
        let (p, c) = (Level::Province as usize - 1, Level::City as usize - 1);
        if m.levels[c] == NO_NODE
            && m.levels[p] & NAME_ONLY == 0
            && self.info[m.levels[p] as usize].municipal
        {
            m.levels[c] = m.levels[p];
        }
    }
}

/// Elements of an address below the divisions (GB/T 35639: 街路巷, 门牌号, 小区, 楼幢, 单元, 户室).
/// Borrows the parsed text. (Fields in alphabetical order: answers are serialised as they are,
/// with the keys sorted as in a `serde_json` map.)
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Elements<'a> {
    /// building number (digits, leading zeros dropped)
    pub building: Option<&'a str>,
    pub compound: Option<&'a str>,
    /// a road named as crossing the road right after it (深南大道与彩田路交汇处: road
    /// 深南大道, cross_road 彩田路)
    pub cross_road: Option<&'a str>,
    /// floor (楼层: 15楼, 5层, 15F), digits as written
    pub floor: Option<&'a str>,
    /// 弄 (lane) number, Shanghai style `45弄6号`
    pub lane: Option<u32>,
    /// house number
    pub number: Option<u32>,
    /// the character before a house number that makes it another house (甲, 乙, 丙, 丁 of
    /// Beijing's 甲28号: not 28号)
    pub number_prefix: Option<&'a str>,
    /// what is left over
    pub rest: &'a str,
    pub road: Option<&'a str>,
    /// room number as written (010502 ≠ 10502)
    pub room: Option<&'a str>,
    /// sub-number of `12-3号`, the 支弄 of `45弄3支弄`, or the annex number of `26号附4号`
    pub sub: Option<u32>,
    /// unit number (digits, leading zeros dropped)
    pub unit: Option<&'a str>,
    /// a functional zone written before the road (郑东新区, 高新区, 经济开发区, 工业园区): an
    /// area that development zones, new areas and parks are run as, which the code lists do
    /// not have as a division (those that they have are read as divisions)
    pub zone: Option<&'a str>,
}

/// The endings of a functional zone's name (all end in 区).
const ZONE_SUFFIXES: [&str; 15] = [
    "开发区",
    "高新区",
    "经开区",
    "新区",
    "园区",
    "工业区",
    "产业区",
    "经济区",
    "保税区",
    "度假区",
    "加工区",
    "实验区",
    "示范区",
    "商务区",
    "政务区",
];

/// The low six bits of the first character of each of [`ZONE_SUFFIXES`] (all of three
/// bytes), as bits of a mask.
const ZONE_FIRSTS: u64 = third_byte_mask(&ZONE_SUFFIXES);

/// The low six bits of the third byte of each word (its first character's last byte, all of
/// three bytes), as bits of a mask: a gate of one shift and one test before the words are
/// compared.
const fn third_byte_mask(words: &[&str]) -> u64 {
    let mut mask = 0u64;
    let mut i = 0;
    while i < words.len() {
        mask |= 1 << (words[i].as_bytes()[2] & 63);
        i += 1;
    }
    mask
}

/// The endings that name a zone alone, right after the divisions (烟台 + 开发区, 天津 +
/// 保税区); the others alone are what is left of a name the divisions took part of (龙华 of
/// 龙华新区 read as 龙华区, 金山 of 金山工业区).
const ZONE_ALONE: [&str; 5] = ["开发区", "高新区", "经开区", "保税区", "经济开发区"];

/// Byte range of a functional zone's name at the start of `s`:
/// CJK characters ending in one of `ZONE_SUFFIXES`, 16 characters at most
/// (昆明国家高新技术产业开发区), ended by its first 区; after a stray 市 left by the
/// divisions (莱芜市 read as the old name 莱芜 of 莱芜区), and not starting with 区, 县, 省 or 市.
/// Not a road named after a zone (园区路, 新区大道), nor a road before a zone.
fn zone_at(s: &str) -> Option<(usize, usize)> {
    const QU: &[u8] = "区".as_bytes();
    let from = if s.starts_with('市') {
        '市'.len_utf8()
    } else {
        0
    };
    let b = s.as_bytes();
    let lim = b.len().min(from + 16 * 3);
    // each 区 by its last byte, eight bytes at a time (most texts have none near the start),
    // then the rare checks
    let mut k = from;
    loop {
        k = next_byte(b, k, lim, QU[2]) + 1;
        if k > lim {
            return None;
        }
        let i = k;
        if i < from + 6 || b[i - 2] != QU[1] || b[i - 3] != QU[0] {
            continue;
        }
        // (CJK characters only: three bytes each; a zone does not follow a number or a letter)
        if !cjk_only(&s[from..i]) {
            return None;
        }
        // (the character before 区 of every suffix, asked first; the first 区 ends the name:
        // 万江区新谷涌管理区 names no zone)
        if !matches!(
            &s[i - 6..i - 3],
            "发" | "新" | "开" | "园" | "业" | "济" | "税" | "假" | "工" | "验" | "范" | "务"
        ) {
            return None;
        }
        let name = &s[from..i];
        let z = ZONE_SUFFIXES.iter().find(|z| name.ends_with(*z))?;
        // (nor a road, or a town, and a zone after it: 金水路郑东新区, 石基镇塱边村汉塘工业区)
        if name.starts_with(['区', '县', '省', '市']) || name.contains(['路', '街', '巷', '镇'])
        {
            return None;
        }
        let after = &s[i..];
        if after.starts_with(['路', '街', '巷', '道', '弄', '里'])
            || after.starts_with("大道")
            || after.starts_with("大街")
        {
            return None;
        }
        // an ending alone names a zone when a road of three characters or more follows it
        // (无锡市新区锡士路1号: the zone the city is known by, 慈溪市龙山镇工业区龙镇大道; 园区路
        // is the road above, and 园区中路 a road too)
        if name == *z && !ZONE_ALONE.contains(z) && road_end(after).is_none_or(|e| e <= 6) {
            return None;
        }
        return Some((from, i));
    }
}

/// Is `s` made of characters of three bytes only (all of CJK)? Looks at every third byte.
fn cjk_only(s: &str) -> bool {
    s.len().is_multiple_of(3) && s.bytes().step_by(3).all(|x| x & 0xF0 == 0xE0)
}

/// Does `s` start with the 号 that ends a house number (not 号楼, a building's)?
fn house_number_ends(s: &str) -> bool {
    s.starts_with('号') && !s.starts_with("号楼")
}

/// A run of up to 8 ASCII digits at byte `i`: (value, end byte).
fn take_digits(b: &[u8], i: usize) -> Option<(u32, usize)> {
    let mut j = i;
    let mut v: u32 = 0;
    while j < b.len() && b[j].is_ascii_digit() && j - i < 8 {
        v = v * 10 + (b[j] - b'0') as u32;
        j += 1;
    }
    (j > i).then_some((v, j))
}

/// Digits without their leading zeros ("05" → "5", "0" → "0").
fn canonical_digits(d: &str) -> &str {
    let t = d.trim_start_matches('0');
    if t.is_empty() {
        &d[d.len() - 1..]
    } else {
        t
    }
}

/// The character starting at byte `i` of `s`, if any.
fn char_at(s: &str, i: usize) -> Option<char> {
    s.get(i..).and_then(|r| r.chars().next())
}

/// The road-like word at the start of `detail` as the elements would read it with no
/// functional zone before it (the whole of 郑东新区金水路): the word a road name within one
/// edit must match. Else a lane named with 弄 (Shanghai's 曹家弄, 北石皮弄 of the old city):
/// two to eight Chinese characters then 弄, a number after it (北东皮弄5弄4号, 曹家弄4号), where
/// a 弄 after digits is a lane's number instead.
pub(super) fn road_word(detail: &str) -> Option<&str> {
    road_end(detail).map(|e| &detail[..e]).or_else(|| {
        let p = detail.find('弄')?;
        let (name, after) = (&detail[..p], &detail[p + 3..]);
        ((6..=24).contains(&name.len())
            && cjk_only(name)
            && after.starts_with(|c: char| c.is_ascii_digit()))
        .then(|| &detail[..p + 3])
    })
}

/// Byte end of the first road name in `s`: the first road suffix (路, 街, 巷, 胡同, 大道, 大街,
/// 公路; 道 only before a number) that is not the first character and is followed by a digit
/// or the end of the text. Compares the suffixes' UTF-8 bytes (no decoding).
fn road_end(s: &str) -> Option<usize> {
    road_end_upto(s, usize::MAX)
}

/// The characters that name a road's section between its suffix and 段 (中段, 四段, 西二段).
const SECTION_CHARS: [&str; 14] = [
    "东", "西", "南", "北", "中", "上", "下", "一", "二", "三", "四", "五", "六", "七",
];

/// Does a road's suffix end at byte `end` of `b` (路, 街, 巷, 胡同, 大道; 道 alone only when
/// `before_more`), or a section of a road (人民南路四段)? Not the first character.
#[inline(always)]
fn road_suffix_ends(b: &[u8], end: usize, before_more: bool) -> bool {
    const LU: u32 = ch("路");
    const JIE: u32 = ch("街");
    const XIANG: u32 = ch("巷");
    const TONG: u32 = ch("同");
    const HU: u32 = ch("胡");
    const DAO: u32 = ch("道");
    const DA: u32 = ch("大");
    const DIRECTIONS: [u32; 5] = [ch("中"), ch("东"), ch("西"), ch("南"), ch("北")];
    // the character that ends at `k` (3 ≤ k ≤ b.len())
    let at = |k: usize| ch_before(b, k);
    // (the three bytes before `end` are a suffix when they start with a lead byte)
    let suffix_end = |end: usize, before_more: bool| {
        if end <= 3 || b[end - 3] & 0xF0 != 0xE0 {
            return false;
        }
        // the previous character is `first` (and not the first character either)
        let two = |first: u32| end > 6 && at(end - 3) == first;
        match at(end) {
            LU | JIE | XIANG => true,
            TONG => two(HU),
            DAO => two(DA) || before_more,
            _ => false,
        }
    };
    if end <= 3 || b[end - 3] & 0xF0 != 0xE0 {
        // (every ending is a character of three bytes: a digit or a letter before `end`, the
        // common case inside a number, is none)
        return false;
    }
    let last = at(end);
    if end > 6 && last == DUAN {
        // a road's section (路段) is part of its name: 人民南路四段27号, 天府大道中段,
        // 二环路西二段, 下东大街段; up to two characters of direction or order between the
        // road's suffix and 段
        let mut k = end - 3;
        for _ in 0..3 {
            if suffix_end(k, true) {
                return true;
            }
            if k < 6 || !SECTIONS.contains(&at(k)) {
                return false;
            }
            k -= 3;
        }
        return false;
    }
    if before_more && end > 9 && DIRECTIONS.contains(&last) && suffix_end(end - 3, true) {
        // a direction after the suffix, before the number: the road's part named so
        // (黄埔大道中311号, 中山大道西8号, 陈江大道北36号)
        return true;
    }
    suffix_end(end, before_more)
}

/// A character of three bytes as the 24-bit number of its bytes: characters compared so
/// take one integer compare (no slice compare).
const fn ch(s: &str) -> u32 {
    let b = s.as_bytes();
    (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32
}

/// The three bytes that end at byte `k` of `b` (3 ≤ k ≤ b.len()) as [`ch`] numbers them.
#[inline(always)]
fn ch_before(b: &[u8], k: usize) -> u32 {
    (b[k - 3] as u32) << 16 | (b[k - 2] as u32) << 8 | b[k - 1] as u32
}

/// 段, which ends a road's section, as [`ch`] numbers it.
const DUAN: u32 = ch("段");

/// [`SECTION_CHARS`] as [`ch`] numbers them.
const SECTIONS: [u32; 14] = {
    let mut v = [0; 14];
    let mut i = 0;
    while i < 14 {
        v[i] = ch(SECTION_CHARS[i]);
        i += 1;
    }
    v
};

/// [`road_end`] where the road ends at byte `max` or before.
fn road_end_upto(s: &str, max: usize) -> Option<usize> {
    let b = s.as_bytes();
    // a suffix ends right before a digit or at the end of the text: only those places are
    // looked at, in order
    let is_end = |end: usize| road_suffix_ends(b, end, end < b.len());
    let last = b.len().min(max.saturating_add(1));
    let mut j = 4;
    loop {
        j = next_digit(b, j, last);
        if j >= last {
            break;
        }
        if is_end(j) {
            return Some(j);
        }
        j += 1;
    }
    (b.len() <= max && is_end(b.len())).then_some(b.len())
}

/// The low six bits of the last byte of each character that may end a road (路 街 巷 同 道
/// 段), as bits of a mask.
const ROAD_LASTS: u64 = third_byte_mask(&["路", "街", "巷", "同", "道", "段"]);

/// Byte end of a road named before the name of a place with no house number between them
/// (金田路金中环商务大厦3209, 科华北路棕榈花园, 长江道与南丰路交口): the first road suffix,
/// within the first 16 characters of Chinese text, followed by a Chinese character that
/// does not continue the suffix into another word (路口, 街道, 街坊, 路桥, 街区) or into a
/// section (人民南路四段). Only for the elements of an address that [`road_end`] finds no
/// road in: the geocoder's road words stay those before a number.
fn road_before_place(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let lim = b.len().min(16 * 3);
    let mut end = 3;
    while end + 3 <= lim {
        if b[end - 3] & 0xF0 != 0xE0 {
            // Chinese characters only, from the start of the text
            return None;
        }
        // (a road suffix may end here, by the low six bits of its last byte; not the first
        // character; a Chinese character after it)
        if ROAD_LASTS >> (b[end - 1] & 63) & 1 == 0 || end == 3 || b[end] & 0xF0 != 0xE0 {
            end += 3;
            continue;
        }
        let next = &s[end..];
        // (道 alone ends a road before an intersection's 与: 长江道与南丰路交口, Tianjin)
        let intersection = next.starts_with(['与', '和']) && !s[..end].ends_with("街道");
        if road_suffix_ends(b, end, intersection) {
            // (the character that ends at `k`, if the text goes that far)
            let char_to = |k: usize| (k <= b.len()).then(|| ch_before(b, k));
            let duan = |k: usize| char_to(k) == Some(DUAN);
            let section = |k: usize| char_to(k).is_some_and(|c| SECTIONS.contains(&c));
            let continues = next
                .starts_with(['口', '道', '坊', '桥', '区', '段', '灯', '由', '况'])
                || section(end + 3) && (duan(end + 6) || section(end + 6) && duan(end + 9));
            if !continues {
                return Some(end);
            }
        }
        end += 3;
    }
    None
}

/// The characters before a house number that make it another house (甲28号 is not 28号).
const NUMBER_PREFIXES: [&str; 4] = ["甲", "乙", "丙", "丁"];

/// Byte end of a lane named 里 right before its house number (芍药居北里101号, 曙光西里甲6号:
/// in Beijing and Tianjin a 里 is a road of the address, one of GB/T 35639's 街路巷), with
/// two Chinese characters or more before 里 and nothing else, within 16 characters. Only for
/// the elements (the geocoder's road words are the book's).
fn li_road_end(s: &str) -> Option<usize> {
    const LI: u32 = ch("里");
    const PREFIXES: [u32; 4] = [
        ch(NUMBER_PREFIXES[0]),
        ch(NUMBER_PREFIXES[1]),
        ch(NUMBER_PREFIXES[2]),
        ch(NUMBER_PREFIXES[3]),
    ];
    let b = s.as_bytes();
    let j = next_digit(b, 0, b.len());
    if j >= b.len() || j > 16 * 3 {
        return None;
    }
    let mut end = j;
    if end >= 3 && PREFIXES.contains(&ch_before(b, end)) {
        end -= 3;
    }
    (end >= 9 && ch_before(b, end) == LI && cjk_only(&s[..end])).then_some(end)
}

/// A ring or a highway named 线 first in `s` (外环线, 中环线, 205国道 aside), where a connector
/// and a road crossing it follow (外环线与北辰西道交口): where its name ends. Only there: 线
/// alone also ends a metro line (地铁2号线) or a production line.
#[inline(never)]
fn line_road_crossed(s: &str) -> Option<usize> {
    const HAO: u32 = ch("号");
    let b = s.as_bytes();
    // (the first 线 of a name of two to eight characters, all Chinese; compared by its
    // bytes)
    let mut end = 3;
    let end = loop {
        match b.get(end - 3..end)? {
            [0xE7, 0xBA, 0xBF] if end >= 6 => break end,
            [0xE0..=0xEF, _, _] if end < 8 * 3 => end += 3,
            _ => return None,
        }
    };
    (ch_before(b, end - 3) != HAO
        && b.len() > end + 3
        && CONNECTOR_CHS.contains(&ch_before(b, end + 3))
        && crossing_after(&s[end..]).is_some_and(|(from, _, after)| from > 0 && after > from))
    .then_some(end)
}

/// Words between two roads named as crossing (深南大道与彩田路, 广东路与河南中路); the
/// geocoder's crossings read them too.
pub(super) const CONNECTORS: [&str; 4] = ["与", "和", "跟", "、"];

/// [`CONNECTORS`] as [`ch`] numbers them.
const CONNECTOR_CHS: [u32; 4] = [
    ch(CONNECTORS[0]),
    ch(CONNECTORS[1]),
    ch(CONNECTORS[2]),
    ch(CONNECTORS[3]),
];

/// Words after two roads named as crossing, longest first (红专路姚寨路交叉口, 南丰路与长江道
/// 交口, 远达大街与河东路交汇, 广东路河南中路路口); the geocoder's crossings read them too.
pub(super) const CROSSING_WORDS: [&str; 13] = [
    "交叉路口",
    "十字路口",
    "交叉口",
    "交叉路",
    "交汇处",
    "交界处",
    "交界口",
    "交叉",
    "交汇",
    "交界",
    "交口",
    "路口",
    "口",
];

/// The first characters of [`CROSSING_WORDS`] (交, 十, 路, 口), as [`ch`] numbers them.
const CROSSING_FIRSTS: [u32; 4] = [
    ch(CROSSING_WORDS[0]),
    ch(CROSSING_WORDS[1]),
    ch(CROSSING_WORDS[11]),
    ch(CROSSING_WORDS[12]),
];

/// A road named as crossing the road that ends where `s` starts: with a crossing word after
/// it (红专路姚寨路交叉口, 南丰路与长江道交口: 道 alone is a road there; after a connector, any
/// name: 金融路与西外环交叉路), or after a connector and before a place's name (经三路与东风路
/// 金成国际广场). Byte offsets in `s`: where the crossing road starts and ends, and where the
/// text goes on. Two roads with neither (玉岩路华立街) are not read as crossing.
fn crossing_after(s: &str) -> Option<(usize, usize, usize)> {
    let b = s.as_bytes();
    // (most often a house number follows the road: one compare)
    if b.len() < 9 || b[0] & 0xF0 != 0xE0 {
        return None;
    }
    let from = if CONNECTOR_CHS.contains(&ch_before(b, 3)) {
        3
    } else {
        0
    };
    let x = crossing_from(s, from);
    if ch_before(b, 3) == ch("和") && x.is_some_and(|(a, z, _)| z - a <= 6) {
        // (和 may begin the crossing road's name where it would leave one of a single
        // character and its suffix: 解放路和平路口 crosses 和平路, not 平路)
        return crossing_from(s, 0).or(x);
    }
    x
}

/// [`crossing_after`] with the crossing road's name from byte `from` (after the connector;
/// 0: there is none).
fn crossing_from(s: &str, from: usize) -> Option<(usize, usize, usize)> {
    const JIAO: u32 = ch("交");
    const KOU: u32 = ch("口");
    let t = &s[from..];
    let b = t.as_bytes();
    // (without a connector: Chinese characters from the start, most often a house number
    // follows the road instead)
    if from == 0 && !matches!(b.first(), Some(0xE0..=0xEF)) {
        return None;
    }
    // (Chinese characters and digits, 104国道, up to 12 characters)
    let mut end = 0;
    while end < b.len().min(12 * 3) {
        end += match b[end] {
            0xE0..=0xEF => 3,
            b'0'..=b'9' => 1,
            _ => return None,
        };
        if end > b.len() {
            return None;
        }
        // (without a connector, only a crossing word says it: 交 or 口 next)
        if from == 0 && (end + 3 > b.len() || !matches!(ch_before(b, end + 3), JIAO | KOU)) {
            continue;
        }
        let suffix = road_suffix_ends(b, end, true);
        if !suffix && (from == 0 || end < 6) {
            continue;
        }
        let rest = &t[end..];
        if let Some(w) = CROSSING_WORDS
            .iter()
            .find(|w| rest.starts_with(*w) && (suffix || !matches!(**w, "口" | "路口")))
        {
            return Some((from, from + end, from + end + w.len()));
        }
        if !suffix {
            continue;
        }
        if from > 0 && road_suffix_ends(b, end, false) && road_before_place(t) == Some(end) {
            return Some((from, from + end, from + end));
        }
    }
    None
}

/// Where a road starts after the name of a park written before it (龙山工业园黄杨大道,
/// 金桥科技产业基地景盛南二街, 科技园科苑路): after the last park word (工业园, 科技园 … or 基地)
/// that leaves a name of three characters or more, not starting with 路 街 巷 道 区, all
/// Chinese; 0 when there is none (花园东路, 颐和园路, 汽车园中路 and 花园石桥路 are roads with 园
/// in their names).
fn park_before_road(road: &str) -> usize {
    const YUAN: &[u8] = "园".as_bytes();
    const JIDI: &[u8] = "基地".as_bytes();
    let b = road.as_bytes();
    // (the last two bytes of 园 and of 地 first: most roads have neither)
    if !b.windows(2).any(|w| w == &YUAN[1..] || w == &JIDI[4..]) {
        return 0;
    }
    let mut start = 0;
    for (at, _) in road.char_indices() {
        let rest = &road[at..];
        let after = if rest.as_bytes().starts_with(YUAN) {
            // (a park's word before 园: 工业园 产业园 科技园 软件园 科学园 开发园 经济园 商务园 创意园
            // 物流园 生态园 信息园 高新园 工贸园 海创园 孵化园 医药园; not 荔园, 花园, 广园)
            if !road[..at].ends_with([
                '业', '技', '件', '学', '发', '济', '务', '意', '流', '态', '息', '新', '贸', '创',
                '化', '药',
            ]) {
                continue;
            }
            at + YUAN.len()
        } else if rest.as_bytes().starts_with(JIDI) {
            at + JIDI.len()
        } else {
            continue;
        };
        // (a part of the park goes with it: 科技园北区朗山路, 软件园二期望海路)
        let part = ["东", "西", "南", "北", "中", "一", "二", "三", "四", "五"]
            .iter()
            .find_map(|c| {
                let t = road[after..].strip_prefix(c)?;
                ["区", "期"].iter().find(|p| t.starts_with(**p))?;
                Some(c.len() + 3)
            })
            .unwrap_or(0);
        let after = after + part;
        let name = &road[after..];
        if at > 0
            && name.len() >= 9
            && !name.starts_with(['路', '街', '巷', '道', '区'])
            && cjk_only(name)
        {
            start = after;
        }
    }
    start
}

/// A building named by one or two ASCII letters and up to three digits, then 栋, 座 or 幢
/// (B座, G2栋), whose letters start in `b[from..to]` after a character that is not a letter or
/// a digit: (where the letters start, where the name ends, where the suffix ends).
fn letter_building(b: &[u8], from: usize, to: usize) -> Option<(usize, usize, usize)> {
    let mut p = from;
    while p < to {
        if b[p] >= 0x80 {
            // (a character of two to four bytes: skipped whole)
            p += utf8_len(b[p]);
            continue;
        }
        if !b[p].is_ascii_alphabetic() || (p > from && b[p - 1].is_ascii_alphanumeric()) {
            p += 1;
            continue;
        }
        let letters = b[p..]
            .iter()
            .take_while(|x| x.is_ascii_alphabetic())
            .count();
        let digits = b[p + letters..]
            .iter()
            .take_while(|x| x.is_ascii_digit())
            .count();
        let end = p + letters + digits;
        if letters <= 2
            && digits <= 3
            && ["栋", "座", "幢"]
                .iter()
                .any(|s| b[end..].starts_with(s.as_bytes()))
        {
            return Some((p, end, end + 3));
        }
        p += letters;
    }
    None
}

/// The first ASCII digit of `b[j..last]` (its byte offset), or `last`: eight bytes at a time
/// (a byte is a digit when it is below 10 once XORed with 0x30).
pub(super) fn next_digit(b: &[u8], j: usize, last: usize) -> usize {
    next_flagged(
        b,
        j,
        last,
        |w| {
            let x = w ^ 0x3030_3030_3030_3030;
            x.wrapping_sub(0x0A0A_0A0A_0A0A_0A0A) & !x & 0x8080_8080_8080_8080
        },
        |c| c.is_ascii_digit(),
    )
}

/// The first `byte` of `b[j..last]` (its offset), or `last`: eight bytes at a time (a byte
/// equals `byte` where it is zero once XORed with it).
fn next_byte(b: &[u8], j: usize, last: usize, byte: u8) -> usize {
    let pat = u64::from_le_bytes([byte; 8]);
    next_flagged(
        b,
        j,
        last,
        |w| {
            let x = w ^ pat;
            x.wrapping_sub(0x0101_0101_0101_0101) & !x & 0x8080_8080_8080_8080
        },
        |c| c == byte,
    )
}

/// The first byte of `b[j..last]` that `hit` takes, or `last`: eight bytes at a time, `flag`
/// setting the high bit of each byte of a little-endian word that may be one (the lowest
/// byte it flags is exact: a borrow only runs upwards), then byte by byte at the end.
#[inline(always)]
fn next_flagged(
    b: &[u8],
    mut j: usize,
    last: usize,
    flag: impl Fn(u64) -> u64,
    hit: impl Fn(u8) -> bool,
) -> usize {
    while j < last {
        if let Some(w) = b[j..last].first_chunk::<8>() {
            let m = flag(u64::from_le_bytes(*w));
            if m == 0 {
                j += 8;
                continue;
            }
            return j + (m.trailing_zeros() / 8) as usize;
        }
        if hit(b[j]) {
            return j;
        }
        j += 1;
    }
    last
}

/// Parses the elements below the divisions. `road` is a road already recognised at the start
/// of `detail` (from the address book); otherwise the first road-like word is taken.
pub fn parse_elements<'a>(detail: &'a str, known_road: Option<&'a str>) -> Elements<'a> {
    let mut e = Elements::default();
    let mut detail = detail;
    let mut road = None;
    // (a road before a number, else one before a place's name)
    let road_in = |d: &str| {
        road_end(d)
            .or_else(|| road_before_place(d))
            .or_else(|| li_road_end(d))
    };
    if known_road.is_none() {
        road = road_in(detail);
        // (a ring named 线 first, where no road was read, or where the road read runs on to
        // a crossing word, through the ring and a connector: 外环线与微山路 before 交口)
        if road.is_none_or(|r| {
            r + 3 <= detail.len() && CROSSING_FIRSTS.contains(&ch_before(detail.as_bytes(), r + 3))
        }) {
            road = line_road_crossed(detail).or(road);
        }
        // a zone before the road (and before the first digit: it is CJK only)
        if let Some((a, z)) = zone_at(detail).filter(|&(_, z)| road.is_none_or(|r| z <= r)) {
            e.zone = Some(&detail[a..z]);
            detail = &detail[z..];
            road = road_in(detail);
        }
    }
    let b = detail.as_bytes();
    let mut i = 0;
    if let Some(r) = known_road {
        e.road = Some(r);
        i = r.len().min(b.len());
        while !detail.is_char_boundary(i) {
            i -= 1;
        }
    } else if let Some(end) = road {
        // (a park before the road, where no zone was read)
        let start = if e.zone.is_none() {
            park_before_road(&detail[..end])
        } else {
            0
        };
        if start > 0 {
            e.zone = Some(&detail[..start]);
        }
        e.road = Some(&detail[start..end]);
        i = end;
    }
    // a road crossing it (read only where the road was read here: the geocoder reads
    // crossings from its book)
    if known_road.is_none() && e.road.is_some() {
        if let Some((from, to, after)) = crossing_after(&detail[i..]) {
            e.cross_road = Some(&detail[i + from..i + to]);
            i += after;
        }
    }
    // two roads written one after the other (福州路河南中路20号, 玉岩路华立街): the house
    // number is the second's, as the geocoder reads it, and the other road is the one
    // crossing it; with no number the first is the road
    if known_road.is_none() && e.cross_road.is_none() {
        if let Some((r, (k, l))) = e.road.and_then(|r| two_roads(r).map(|k| (r, k))) {
            let numbered = take_digits(b, i).is_some_and(|(_, j)| {
                detail[j..].starts_with(['号', '弄', '-', '#']) || house_number_ends(&detail[j..])
            });
            let (first, second) = (&r[..k], &r[l..]);
            (e.road, e.cross_road) = if numbered {
                (Some(second), Some(first))
            } else {
                (Some(first), Some(second))
            };
        }
    }
    // lane / number (after the road, a number's prefix: 阜外大街甲28号; read only where the
    // road was read here, for the elements: the geocoder's house numbers have none)
    if known_road.is_none() && e.road.is_some() {
        if let Some(p) = NUMBER_PREFIXES
            .into_iter()
            .find(|p| detail[i..].starts_with(p))
        {
            if let Some((_, j)) = take_digits(b, i + p.len()) {
                if house_number_ends(&detail[j..]) {
                    e.number_prefix = Some(p);
                    i += p.len();
                }
            }
        }
    }
    if let Some((v, j)) = take_digits(b, i) {
        let at = |k: usize| char_at(detail, k);
        match at(j) {
            Some('弄') => {
                e.lane = Some(v);
                i = j + '弄'.len_utf8();
                if let Some((s, k)) = take_digits(b, i) {
                    if detail[k..].starts_with("支弄") {
                        e.sub = Some(s);
                        i = k + "支弄".len();
                    }
                }
                if let Some((n, k)) = take_digits(b, i) {
                    if house_number_ends(&detail[k..]) {
                        e.number = Some(n);
                        i = k + '号'.len_utf8();
                    }
                }
            }
            Some('号') if house_number_ends(&detail[j..]) => {
                e.number = Some(v);
                i = j + '号'.len_utf8();
            }
            // (# for 号 right after a road read here: 府城大道西段399#, 连胜路339#; not 5#楼)
            Some('#')
                if known_road.is_none()
                    && e.road.is_some()
                    && !detail[j + 1..].starts_with('楼') =>
            {
                e.number = Some(v);
                i = j + 1;
            }
            Some('-') => {
                if let Some((s, k)) = take_digits(b, j + 1) {
                    if at(k) == Some('号') {
                        e.number = Some(v);
                        e.sub = Some(s);
                        i = k + '号'.len_utf8();
                    }
                }
            }
            _ => {}
        }
    }
    // a house number of a courtyard (Beijing's 2号院): the number, 院 with it
    if e.number.is_some() && detail[i..].starts_with('院') {
        i += '院'.len_utf8();
    }
    // an annex number (附号: 26号附4号, Chongqing, Chengdu): the sub-number
    if known_road.is_none()
        && e.number.is_some()
        && e.sub.is_none()
        && detail[i..].starts_with('附')
    {
        if let Some((v, j)) = take_digits(b, i + '附'.len_utf8()) {
            if house_number_ends(&detail[j..]) {
                e.sub = Some(v);
                i = j + '号'.len_utf8();
            }
        }
    }
    // compound: non-digit text up to the next digit, or up to a building named by letters
    // (中汇广场B座, G2栋)
    let start = i;
    i = next_digit(b, i, b.len());
    if let Some((at, end, after)) = letter_building(b, start, i) {
        let c = detail[start..at].trim_end_matches('-');
        if !c.is_empty() {
            e.compound = Some(c);
        }
        e.building = Some(&detail[at..end]);
        i = after;
    } else if let Some(at) = (known_road.is_none() && i > start)
        .then(|| side_building(&detail[start..i]))
        .flatten()
    {
        // a building named by its side (88号南座7楼, 国贸大厦东塔): the side, the compound
        // before it
        if at > 0 {
            e.compound = Some(&detail[start..start + at]);
        }
        e.building = Some(&detail[start + at..start + at + 3]);
    } else if i > start {
        let c = &detail[start..i];
        if i < b.len()
            || c.ends_with("小区")
            || c.ends_with('苑')
            || c.ends_with("花园")
            || known_road.is_none() && names_a_place(c)
        {
            e.compound = Some(c);
            if known_road.is_none() && e.number.is_none() && e.lane.is_none() {
                // the compound's house number (后宰门西村95号, 西操场1号), with its prefix
                // (中电金阳科技园甲1号院)
                if let Some((v, j)) = take_digits(b, i) {
                    if house_number_ends(&detail[j..]) {
                        e.number = Some(v);
                        i = j + '号'.len_utf8();
                        if let Some(p) = NUMBER_PREFIXES
                            .into_iter()
                            .find(|p| c.len() > p.len() && c.ends_with(p))
                        {
                            e.number_prefix = Some(&c[c.len() - p.len()..]);
                            e.compound = Some(&c[..c.len() - p.len()]);
                        }
                        if detail[i..].starts_with('院') {
                            i += '院'.len_utf8();
                        }
                    }
                }
            }
        } else {
            e.rest = c;
            return e;
        }
    }
    // building / unit / room (`building_at`: where a numbered building was read)
    let mut building_at: Option<(usize, usize)> = None;
    while i < b.len() {
        let Some((_, j)) = take_digits(b, i) else {
            // a room named with a letter before its number (D520, C601室)
            if let Some((end, after)) = letter_room(b, i) {
                e.room = Some(&detail[i..end]);
                i = after;
                break;
            }
            // a side right after a building numbered: part of that building, as written
            // (15号楼北栋, 2号楼东座)
            if let Some((from, _)) = building_at.filter(|&(_, to)| to == i && known_road.is_none())
            {
                let side = &detail[i..];
                if side.starts_with(SIDES) && side[3..].starts_with(['栋', '座', '楼', '塔']) {
                    e.building = Some(&detail[from..i + 6]);
                    i += 6;
                    building_at = None;
                    continue;
                }
            }
            // a building named by letters after a floor or a unit (31楼E座), where none was
            // read; right after a building numbered, the two name one building, kept as
            // written (3号楼B座)
            if let Some((at, end, after)) = letter_building(b, i, i + 1) {
                let whole = building_at
                    .filter(|&(_, to)| to == i && known_road.is_none() && e.building.is_some());
                if e.building.is_none() || whole.is_some() {
                    e.building = Some(match whole {
                        Some((from, _)) => &detail[from..after],
                        None => &detail[at..end],
                    });
                    i = after;
                    continue;
                }
            }
            // a place's name after the building, where no compound was read, before more
            // numbers (7号院11号楼建业苑大厦403室, 26号2幢亚信控股大楼1楼): the compound
            if e.compound.is_none() && e.building.is_some() {
                let k = next_digit(b, i, b.len());
                if k < b.len() && compound_after_building(&detail[i..k]) {
                    e.compound = Some(&detail[i..k]);
                    i = k;
                    continue;
                }
            }
            break;
        };
        let digits = &detail[i..j];
        let tail = &detail[j..];
        // a numbered part of the compound before any building, floor, unit or room (科技生态园
        // 1区1期2栋, 总部基地3区23号楼): the compound goes on through it
        if known_road.is_none()
            && tail.starts_with(['区', '期'])
            && tail.len() > 3
            && e.building.is_none()
            && e.floor.is_none()
            && e.unit.is_none()
            && e.room.is_none()
        {
            // (where the compound read starts and ends in `detail`)
            let span = e.compound.map(|c| {
                let at = c.as_ptr() as usize - detail.as_ptr() as usize;
                (at, at + c.len())
            });
            if span.is_none_or(|(_, end)| end == i) {
                let from = span.map_or(i, |(at, _)| at);
                e.compound = Some(&detail[from..j + 3]);
                i = j + 3;
                continue;
            }
        }
        if tail.starts_with(['幢', '栋', '座', '#']) {
            e.building = Some(canonical_digits(digits));
            i = j + char_at(detail, j).map_or(1, char::len_utf8);
            if detail[i..].starts_with('楼') {
                i += '楼'.len_utf8();
            }
            building_at = Some((j - digits.len(), i));
        } else if tail.starts_with("号楼") {
            e.building = Some(canonical_digits(digits));
            i = j + "号楼".len();
            building_at = Some((j - digits.len(), i));
        } else if tail.starts_with(['楼', '层', 'F', 'f']) && e.floor.is_none() {
            // a floor (not 号楼: a building, above; one floor an address), and the whole of
            // it (43楼全层)
            e.floor = Some(digits);
            i = j + char_at(detail, j).map_or(1, char::len_utf8);
            if detail[i..].starts_with("全层") {
                i += "全层".len();
            }
        } else if tail.starts_with("单元") {
            e.unit = Some(canonical_digits(digits));
            i = j + "单元".len();
        } else if let Some(w) = ["室", "房间", "房"]
            .into_iter()
            .find(|w| tail.starts_with(w))
        {
            // room numbers keep their digits as written (010502 ≠ 10502); 430房, 1203房间
            e.room = Some(digits);
            i = j + w.len();
        } else if let Some(end) = (known_road.is_none()
            && e.building.is_none()
            && digits.len() <= 2
            && !(i > 0 && b[i - 1].is_ascii_alphabetic())
            && !detail[..i].ends_with('塔'))
        .then(|| digits_letters_building(b, j))
        .flatten()
        {
            // a building numbered with letters after the digits (14A栋, 3B座)
            e.building = Some(&detail[i..end]);
            building_at = Some((i, end + 3));
            i = end + 3;
        } else if tail.is_empty() {
            e.room = Some(digits);
            i = j;
        } else if house_number_ends(tail)
            && !tail[3..].starts_with(['院', '门', '口', '入'])
            && !tail.as_bytes().get(3).is_some_and(u8::is_ascii_alphabetic)
            && (e.building.is_some() || e.floor.is_some() || e.unit.is_some())
        {
            // a number with 号 after a building, a floor or a unit is the room (14楼1428号,
            // A座1003号, 2楼1号房)
            e.room = Some(digits);
            i = j + '号'.len_utf8();
            if detail[i..].starts_with('房') {
                i += '房'.len_utf8();
            }
        } else if let Some((k, after, what)) = number_run(b, j) {
            // numbers joined by dashes, as written: floors (15-16楼), buildings (1-5幢),
            // units (01-03单元), or a room ending the address (1008-1009, 3-2-1514:
            // building, unit and room the way Chongqing writes them)
            let slot = match what {
                Joined::Floor => &mut e.floor,
                Joined::Building => &mut e.building,
                Joined::Unit => &mut e.unit,
                Joined::Room => &mut e.room,
            };
            if slot.is_some() {
                break;
            }
            *slot = Some(&detail[i..k]);
            i = after;
        } else {
            // or after it (510A, 601B室)
            if let Some((end, after)) = letter_room(b, i) {
                e.room = Some(&detail[i..end]);
                i = after;
            }
            break;
        }
    }
    // a letter that ends the compound right before a room of three digits or more is the
    // building (金中环商务大厦B1110室: building B, room 1110; 通协路268号B503)
    if let (Some(c), None, Some(r)) = (e.compound, e.building, e.room) {
        let cb = c.as_bytes();
        let n = cb.len();
        if r.len() >= 3
            && cb[n - 1].is_ascii_alphabetic()
            && (n == 1 || cb[n - 2] >= 0x80)
            && r.bytes().all(|x| x.is_ascii_digit())
        {
            e.building = Some(&c[n - 1..]);
            e.compound = (n > 1).then(|| &c[..n - 1]);
        }
    }
    e.rest = &detail[i.min(b.len())..];
    e
}

/// A building numbered with one or two ASCII letters after its digits (14A栋, 3B座), the
/// letters at byte `j` of `b`, right after the digits: where the name ends (its suffix, of
/// three bytes, follows). (The caller asks only for one or two digits, where no letter and
/// no 塔 comes before them: 望京SOHO T3 A座 and 塔1 A座 are tower 3 or 1, block A; 京基100A栋
/// and 阳光100，D座 are block A or D of a place named with its number.)
fn digits_letters_building(b: &[u8], j: usize) -> Option<usize> {
    let n = b[j..]
        .iter()
        .take_while(|x| x.is_ascii_alphabetic())
        .count();
    let end = j + n;
    ((1..=2).contains(&n)
        && ["栋", "座", "幢"]
            .iter()
            .any(|w| b[end..].starts_with(w.as_bytes())))
    .then_some(end)
}

/// Where a road read whole is two roads written one after the other (福州路河南中路,
/// 玉岩路华立街, 解放路和平路): where the first ends and the second starts, at the first place
/// where a road's suffix (路 街 巷 胡同 大道) ends a name of three to eight Chinese characters
/// and a name of three to eight characters runs on to the end (中山八路石路基新街: 石路基新街):
/// not a word that goes on from the first (路口, 街道, 路桥), nor a side (南侧) or a word of
/// nearness (靠近), nor a section (一环路北一段, 孙文东路濠头路段: one road), and not the same
/// name; a direction after 大道 is the first road's part (广州大道中明月一路: 广州大道中 and
/// 明月一路). Two roads joined by a connector with nothing after them (怡和大道与永和大道, where
/// the normaliser cut 向东50米) are split at the connector.
fn two_roads(road: &str) -> Option<(usize, usize)> {
    let b = road.as_bytes();
    if b.len() < 18 || !cjk_only(road) || road.ends_with('段') {
        return None;
    }
    if let Some(p) = road.find(['与', '跟', '、']) {
        // two roads joined by a connector, nothing after them (怡和大道与永和大道): where the
        // second starts, past the connector, when both are roads
        let second = &road[p + 3..];
        return (p >= 9
            && (9..=24).contains(&second.len())
            && road_suffix_ends(b, p, false)
            && !second.contains(['与', '跟', '、', '交', '口']))
        .then_some((p, p + 3));
    }
    let mut k = 9;
    while k + 9 <= b.len() && k <= 24 {
        let second = &road[k..];
        if second.len() <= 24
            && road_suffix_ends(b, k, false)
            && !second.starts_with([
                '口', '道', '段', '桥', '区', '坊', '号', '边', '旁', '心', '靠', '近', '临', '往',
                '向', '至', '到',
            ])
            && !(second.starts_with(SIDES) && second[3..].starts_with('侧'))
            && !section_follows(second)
            && road[..k] != *second
        {
            let part = road[..k].ends_with("大道") && second.starts_with(SIDES);
            return match part {
                true if second.len() >= 12 => Some((k + 3, k + 3)),
                true => None,
                false => Some((k, k)),
            };
        }
        k += 3;
    }
    None
}

/// Does `s` start with a road's section, up to two characters of direction or order then
/// 段 (北段, 西二段): the part of the road before it, not another road?
fn section_follows(s: &str) -> bool {
    let mut t = s;
    for _ in 0..2 {
        match SECTION_CHARS.iter().find_map(|c| t.strip_prefix(c)) {
            Some(rest) => t = rest,
            None => break,
        }
    }
    t.starts_with('段')
}

/// The sides that name a building (南座, 东塔) or a road's part after 大道 (广州大道中).
const SIDES: [char; 5] = ['东', '南', '西', '北', '中'];

/// Where a building named by its side ends `name` (南座, 东楼, 西塔 of 国贸大厦西塔): the byte
/// offset of its side, one of [`SIDES`] after something that is not a side (东南座 is kept).
fn side_building(name: &str) -> Option<usize> {
    let n = name.strip_suffix(['座', '楼', '塔'])?;
    let at = n.strip_suffix(SIDES)?.len();
    (!n[..at].ends_with(SIDES)).then_some(at)
}

/// The endings of the names of compounds, buildings and parks (大厦, 广场, 科技园, 公寓 …).
const PLACE_ENDINGS: [char; 20] = [
    '厦', '楼', '场', '心', '园', '城', '苑', '寓', '馆', '府', '庭', '阁', '院', '村', '区', '谷',
    '湾', '港', '店', '坊',
];

/// Does a name left at the end of an address name a place (网易大厦, 西湖福地创业园, 东方君悦
/// 公寓), rather than a company or a remark (山东朵拉, 人事部)? By its last character, and
/// three characters or more.
fn names_a_place(name: &str) -> bool {
    name.len() >= 9
        && cjk_only(name)
        && name
            .chars()
            .next_back()
            .is_some_and(|c| PLACE_ENDINGS.contains(&c))
}

/// Is `name`, between a building and more numbers, a place's name (建业苑大厦, 亚信控股大楼):
/// three Chinese characters or more, not a side or a part (东门, 西侧, 第, 之四, 底楼), not a
/// road nor another address (光谷大道, 上海静安区南京西路)?
fn compound_after_building(name: &str) -> bool {
    name.len() >= 9
        && cjk_only(name)
        && !name.starts_with(['东', '西', '南', '北', '中', '第', '之', '底', '楼'])
        && !name.contains(['市', '省', '区', '县'])
        && !name.ends_with(['路', '街', '道', '巷'])
}

/// What numbers joined by dashes name, by the word after them.
enum Joined {
    Floor,
    Building,
    Unit,
    Room,
}

/// Numbers joined by dashes from byte `j` (at the first dash): where they end, where the text
/// goes on, and what they name: floors (before 楼, 层 or F), buildings (号楼, 幢, 栋, 座), units
/// (单元) or a room (before 室 or 房, or ending the text); None when nothing of these follows.
fn number_run(b: &[u8], j: usize) -> Option<(usize, usize, Joined)> {
    let mut k = j;
    while b.get(k) == Some(&b'-') && b.get(k + 1).is_some_and(u8::is_ascii_digit) {
        k += 1;
        while b.get(k).is_some_and(u8::is_ascii_digit) {
            k += 1;
        }
    }
    if k == j {
        return None;
    }
    let rest = &b[k..];
    if rest.is_empty() {
        return Some((k, k, Joined::Room));
    }
    [
        ("号楼", Joined::Building),
        ("楼", Joined::Floor),
        ("层", Joined::Floor),
        ("F", Joined::Floor),
        ("f", Joined::Floor),
        ("幢", Joined::Building),
        ("栋", Joined::Building),
        ("座", Joined::Building),
        ("单元", Joined::Unit),
        ("室", Joined::Room),
        ("房", Joined::Room),
    ]
    .into_iter()
    .find(|(w, _)| rest.starts_with(w.as_bytes()))
    .map(|(w, what)| (k, k + w.len(), what))
}

/// A room named with letters or dashes besides its digits, that ends the text (with 室, 房
/// or 房间 or without: D520, C601室, 510A, A901B, 3A09室, 1601-B, A11-A12): ASCII letters,
/// digits and dashes, two digits or more, up to 12 bytes, no F after a digit (19F, 28F/29F
/// are floors): where its name ends and where the text ends.
fn letter_room(b: &[u8], i: usize) -> Option<(usize, usize)> {
    let token = b[i.min(b.len())..]
        .iter()
        .take_while(|x| x.is_ascii_alphanumeric() || **x == b'-')
        .count();
    // (it ends the text, or 室 or 房 does: most often a word follows instead)
    let end = i + token;
    let after = ["房间", "室", "房"]
        .iter()
        .find(|w| b[end..].starts_with(w.as_bytes()))
        .map_or(end, |w| end + w.len());
    if after != b.len() || !(2..=12).contains(&token) {
        return None;
    }
    let t = &b[i..end];
    let digits = t.iter().filter(|x| x.is_ascii_digit()).count();
    if digits < 2
        || digits == token
        || t[0] == b'-'
        || t[token - 1] == b'-'
        || t.windows(2)
            .any(|w| w[0].is_ascii_digit() && matches!(w[1], b'F' | b'f'))
    {
        return None;
    }
    Some((end, after))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn decode3_is_every_three_byte_character() {
        let mut n = 0;
        for c in (0x800u32..0x10000).filter_map(char::from_u32) {
            let mut buf = [0u8; 4];
            let b = c.encode_utf8(&mut buf).as_bytes();
            assert_eq!(decode3(b[0], b[1], b[2]), c as u32, "{c}");
            assert_eq!(decode(b), Some((c as u32, 3)), "{c}");
            n += 1;
        }
        assert_eq!(n, 0x10000 - 0x800 - 0x800);
    }

    #[test]
    fn every_label_word_is_read() {
        // (the first-character gate of label_words_end lists every word's first character)
        for w in LABEL_WORDS.iter().flat_map(|(_, ws)| ws.iter()) {
            let t = format!("{w}杭州市");
            assert_eq!(label_words_end(t.as_bytes(), 0), Some(w.len()), "{w}");
            let t = format!("总公司 {w}杭州市");
            assert_eq!(label_words_end(t.as_bytes(), 0), Some(t.len() - 9), "{w}");
        }
        // a word alone, with nothing after it, or text that is not one
        assert_eq!(label_words_end("总部".as_bytes(), 0), None);
        assert_eq!(label_words_end("总统府".as_bytes(), 0), None);
        assert_eq!(label_words_end(" 总部杭州".as_bytes(), 0), None);
    }

    #[test]
    fn next_digit_is_the_first_digit() {
        // every placement of one or two digits among bytes of every kind (CJK lead and
        // continuation bytes, letters, the bytes next to '0' and '9'), every window
        let fill = [
            0xE5u8,
            0x8F,
            0x2F,
            0x3A,
            b'a',
            0x80,
            0xBF,
            0x39 ^ 0x80,
            0x00,
        ];
        for len in 0..20 {
            for &f in &fill {
                for d1 in 0..=len {
                    for d2 in d1..=len {
                        let mut b = vec![f; len];
                        if d1 < len {
                            b[d1] = b'0' + (d1 % 10) as u8;
                        }
                        if d2 < len {
                            b[d2] = b'9';
                        }
                        for j in 0..=len {
                            for last in j..=len {
                                let naive =
                                    (j..last).find(|&k| b[k].is_ascii_digit()).unwrap_or(last);
                                assert_eq!(next_digit(&b, j, last), naive, "{b:?} {j} {last}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn two_roads_one_after_the_other() {
        let read = |t: &'static str| {
            let e = parse_elements(t, None);
            (e.road, e.cross_road, e.number)
        };
        // the number is the second road's; with none, the first is the road
        for (text, want) in [
            (
                "福州路河南中路20号",
                (Some("河南中路"), Some("福州路"), Some(20)),
            ),
            ("玉岩路华立街", (Some("玉岩路"), Some("华立街"), None)),
            (
                "中山八路石路基新街14号",
                (Some("石路基新街"), Some("中山八路"), Some(14)),
            ),
            (
                "广州大道中明月一路20号",
                (Some("明月一路"), Some("广州大道中"), Some(20)),
            ),
            (
                "益州大道北段锦晖西一街99号",
                (Some("锦晖西一街"), Some("益州大道北段"), Some(99)),
            ),
            (
                "怡和大道与永和大道",
                (Some("怡和大道"), Some("永和大道"), None),
            ),
            // one road: a section, a side, a word of nearness, the same name twice
            ("一环路北一段99号", (Some("一环路北一段"), None, Some(99))),
            (
                "孙文东路濠头路段336号",
                (Some("孙文东路濠头路段"), None, Some(336)),
            ),
            (
                "西姆莱斯路南侧乐悟路",
                (Some("西姆莱斯路南侧乐悟路"), None, None),
            ),
            (
                "大田路靠近北京西路",
                (Some("大田路靠近北京西路"), None, None),
            ),
            ("遵义路遵义路3号", (Some("遵义路遵义路"), None, Some(3))),
        ] {
            assert_eq!(read(text), want, "{text}");
        }
        // the geocoder's reading is its book's: a known road is never split
        assert_eq!(
            parse_elements("福州路河南中路20号", Some("福州路")).cross_road,
            None
        );
    }

    #[test]
    fn crossing_roads() {
        // (road, cross_road, compound, building, room, floor)
        let read = |t: &'static str| {
            let e = parse_elements(t, None);
            (
                e.road,
                e.cross_road,
                e.compound,
                e.building,
                e.room,
                e.floor,
            )
        };
        assert_eq!(
            read("深南大道与彩田路交汇处嘉麟豪庭C座1904"),
            (
                Some("深南大道"),
                Some("彩田路"),
                Some("嘉麟豪庭"),
                Some("C"),
                Some("1904"),
                None
            )
        );
        // no connector: a crossing word says it
        assert_eq!(
            read("红专路姚寨路交叉口金成东苑4号楼"),
            (
                Some("红专路"),
                Some("姚寨路"),
                Some("金成东苑"),
                Some("4"),
                None,
                None
            )
        );
        assert_eq!(read("红专路姚寨路口").1, Some("姚寨路"));
        // (和 begins a name there, not a connector)
        assert_eq!(read("解放路和平路口").1, Some("和平路"));
        assert_eq!(read("浦沿路和滨文路交叉口").1, Some("滨文路"));
        assert_eq!(read("经北三路和第五大街河南通信产业园").1, Some("第五大街"));
        // 道 alone before a crossing word (Tianjin); a connector alone before a place's name
        assert_eq!(
            read("南丰路与长江道交口清新大厦9层"),
            (
                Some("南丰路"),
                Some("长江道"),
                Some("清新大厦"),
                None,
                None,
                Some("9")
            )
        );
        let e = parse_elements("经三路与东风路金成国际广场6号楼", None);
        assert_eq!(
            (e.cross_road, e.compound, e.building),
            (Some("东风路"), Some("金成国际广场"), Some("6"))
        );
        // after a connector, a name without a road's suffix (高架, 外环, 高速)
        assert_eq!(read("金融路与西外环交叉路安国").1, Some("西外环"));
        assert_eq!(read("长宁大道与习友路交口").2, None);
        // a ring named 线 is a road where a road crossing it follows, and only there
        assert_eq!(
            read("外环线与北辰西道交口"),
            (Some("外环线"), Some("北辰西道"), None, None, None, None)
        );
        assert_eq!(read("中环线和沪太路交叉口").1, Some("沪太路"));
        for t in ["地铁2号线与世纪大道交叉口", "生产线车间3楼", "外环线旁"] {
            assert_eq!(parse_elements(t, None).road, None, "{t}");
        }
        assert_eq!(parse_elements("长宁大道与习友路交口", None).rest, "");
        // one road, or a road before a place: no other road (two roads one after the other
        // are read in `two_roads_one_after_the_other`)
        for t in ["福州路100号", "金田路金中环商务大厦3209"] {
            assert_eq!(parse_elements(t, None).cross_road, None, "{t}");
        }
        // the geocoder's reading (road known) never reads one
        assert_eq!(parse_elements("与彩田路交汇处", Some("")).cross_road, None);
    }

    #[test]
    fn rooms_named_with_letters() {
        // (building, room, rest)
        let read = |t: &'static str| {
            let e = parse_elements(t, None);
            (e.building, e.room, e.rest)
        };
        assert_eq!(read("国中大厦526A"), (None, Some("526A"), ""));
        assert_eq!(
            read("上地东路1号院1号楼A901B"),
            (Some("1"), Some("A901B"), "")
        );
        assert_eq!(
            read("融创动力产业园B座B126室"),
            (Some("B"), Some("B126"), "")
        );
        assert_eq!(read("富海国际港1703A室"), (None, Some("1703A"), ""));
        // a letter ending the compound before a room of three digits or more: the building
        let e = parse_elements("金田路3037号金中环商务大厦B1110室", None);
        assert_eq!(
            (e.compound, e.building, e.room),
            (Some("金中环商务大厦"), Some("B"), Some("1110"))
        );
        let e = parse_elements("通协路268号B503", None);
        assert_eq!(
            (e.compound, e.building, e.room),
            (None, Some("B"), Some("503"))
        );
        // not: a floor written F, a letter and digits before more text, two digits after a
        // letter (A2 may be the building)
        assert_eq!(parse_elements("大厦19F", None).floor, Some("19"));
        assert_eq!(read("大厦A901B座后门").1, None);
        // numbers joined by dashes, as written: floors, or a room ending the address
        assert_eq!(
            parse_elements("永发商务大厦13-15楼", None).floor,
            Some("13-15")
        );
        assert_eq!(
            read("富力盈信大厦14层1406-1407室"),
            (None, Some("1406-1407"), "")
        );
        assert_eq!(read("钱塘航空大厦2-3003"), (None, Some("2-3003"), ""));
        assert_eq!(read("大厦2-3号门").1, None);
        assert_eq!(
            parse_elements("科技城A区8号楼2-5号楼", None).building,
            Some("8")
        );
        assert_eq!(
            parse_elements("中航中心11楼02-07单元", None).unit,
            Some("02-07")
        );
        // a number with 号 after a building, a floor or a unit is the room; not an entrance
        assert_eq!(
            read("交子大道177号中海国际中心A座1907号"),
            (Some("A"), Some("1907"), "")
        );
        assert_eq!(read("力宝广场26楼46号"), (None, Some("46"), ""));
        assert_eq!(read("瀚天科技城A区8号楼2号入口").1, None);
        // letters and dashes in a room's name; a building by letters after the floor
        assert_eq!(read("富力盈隆大厦3A09室"), (None, Some("3A09"), ""));
        assert_eq!(read("比克科技大厦1601-B"), (None, Some("1601-B"), ""));
        assert_eq!(read("交易中心1楼A11-A12"), (None, Some("A11-A12"), ""));
        assert_eq!(read("东环广场5层5O").1, None);
        let e = parse_elements("飞洲国际大厦31楼E座", None);
        assert_eq!((e.floor, e.building, e.rest), (Some("31"), Some("E"), ""));
        let e = parse_elements("老学堂创意园A2", None);
        assert_eq!((e.compound, e.room), (Some("老学堂创意园A"), Some("2")));
    }

    #[test]
    fn places_and_house_numbers_beyond_roads() {
        let e = parse_elements("松榆北路7号院11号楼建业苑大厦403室", None);
        assert_eq!(
            (e.number, e.building, e.compound, e.room),
            (Some(7), Some("11"), Some("建业苑大厦"), Some("403"))
        );
        // a side or a part is not a place's name
        let e = parse_elements("民生路600号19号楼东门2楼", None);
        assert_eq!((e.compound, e.rest), (None, "东门2楼"));
        // a building named by its side, after the number or ending a compound's name
        let e = parse_elements("建国路88号南座7楼", None);
        assert_eq!(
            (e.number, e.compound, e.building, e.floor),
            (Some(88), None, Some("南"), Some("7"))
        );
        let e = parse_elements("建国门外大街1号国贸大厦西塔2501室", None);
        assert_eq!(
            (e.compound, e.building, e.room),
            (Some("国贸大厦"), Some("西"), Some("2501"))
        );
        let e = parse_elements("中山路1号东南座", None);
        assert_eq!((e.building, e.rest), (None, "东南座"));
        assert_eq!(parse_elements("中山路1号鼓楼", None).building, None);
        // a numbered building and a building named by letters right after it are one
        // building, kept as written; the room after them is read
        let e = parse_elements("福州路3号楼B座1201室", None);
        assert_eq!(
            (e.building, e.room, e.rest),
            (Some("3号楼B座"), Some("1201"), "")
        );
        // a room ending in 房 or 房间, an annex number, a building numbered with a letter
        // after its digits (not after a letter or 塔, nor three digits: 京基100A栋)
        let e = parse_elements("天河路365号2201房", None);
        assert_eq!((e.number, e.room, e.rest), (Some(365), Some("2201"), ""));
        assert_eq!(
            parse_elements("知春路中发电子大厦609房间", None).room,
            Some("609")
        );
        let e = parse_elements("杨家坪正街26号附4号渝隆大厦26层", None);
        assert_eq!(
            (e.number, e.sub, e.compound, e.floor),
            (Some(26), Some(4), Some("渝隆大厦"), Some("26"))
        );
        let e = parse_elements("布澜大道中海信创新产业城14A栋20层", None);
        assert_eq!(
            (e.compound, e.building, e.floor),
            (Some("中海信创新产业城"), Some("14A"), Some("20"))
        );
        for text in [
            "深南东路5016号京基100A栋52层",
            "望京SOHO塔1A座0801",
            "望京SOHOT2C座1901",
        ] {
            assert_eq!(parse_elements(text, None).building, None, "{text}");
        }
        // numbered parts of a compound (1区, 2期) go with it; a whole floor is the floor
        let e = parse_elements("沙河西路深圳湾科技生态园1区1期2栋B座701", None);
        assert_eq!(
            (e.compound, e.building, e.room),
            (Some("深圳湾科技生态园1区1期"), Some("2栋B座"), Some("701"))
        );
        let e = parse_elements("南四环西路188号2区8号楼", None);
        assert_eq!(
            (e.number, e.compound, e.building),
            (Some(188), Some("2区"), Some("8"))
        );
        let e = parse_elements("沿江中路298号江湾商业中心43楼全层", None);
        assert_eq!((e.floor, e.rest), (Some("43"), ""));
        assert_eq!(parse_elements("中山路1号3区", None).rest, "3区");
        let e = parse_elements("外环西路26号院15号楼北栋3层", None);
        assert_eq!(
            (e.building, e.floor, e.rest),
            (Some("15号楼北栋"), Some("3"), "")
        );
        assert_eq!(parse_elements("民生路600号19号楼东门", None).rest, "东门");
        let e = parse_elements("福州路3号楼5层B座", None);
        assert_eq!((e.building, e.floor, e.rest), (Some("3"), Some("5"), "B座"));
        // 399# right after the road is 399号; 5#楼 is a building
        let e = parse_elements("府城大道西段399#天府新谷9号楼1单元10楼", None);
        assert_eq!(
            (e.number, e.compound, e.building, e.unit, e.floor),
            (
                Some(399),
                Some("天府新谷"),
                Some("9"),
                Some("1"),
                Some("10")
            )
        );
        assert_eq!(parse_elements("科技路5#楼", None).number, None);
        // a lane named 里 before its number is the road (Beijing, Tianjin)
        let e = parse_elements("芍药居北里101号世奥国际中心B座5层", None);
        assert_eq!(
            (e.road, e.number, e.compound, e.building, e.floor),
            (
                Some("芍药居北里"),
                Some(101),
                Some("世奥国际中心"),
                Some("B"),
                Some("5")
            )
        );
        let e = parse_elements("曙光西里甲6号院5号楼1102室", None);
        assert_eq!(
            (e.road, e.number_prefix, e.number, e.building, e.room),
            (
                Some("曙光西里"),
                Some("甲"),
                Some(6),
                Some("5"),
                Some("1102")
            )
        );
        // (two characters or more before 里: 东里1号 is not a road)
        assert_eq!(parse_elements("东里1号", None).road, None);
        // a compound's house number, with its prefix
        let e = parse_elements("后宰门西村95号南京科技金融园", None);
        assert_eq!((e.compound, e.number), (Some("后宰门西村"), Some(95)));
        let e = parse_elements("中电金阳科技园甲1号院3号楼6层", None);
        assert_eq!(
            (e.compound, e.number_prefix, e.number, e.building, e.floor),
            (
                Some("中电金阳科技园"),
                Some("甲"),
                Some(1),
                Some("3"),
                Some("6")
            )
        );
        // a name of a place ending the address is the compound; a company's is not
        assert_eq!(
            parse_elements("西溪路628号西湖福地创业园", None).compound,
            Some("西湖福地创业园")
        );
        assert_eq!(parse_elements("和平路34号山东朵拉", None).rest, "山东朵拉");
        // none of these for the geocoder's reading
        let e = parse_elements("后宰门西村95号", Some(""));
        assert_eq!((e.compound, e.number), (Some("后宰门西村"), None));
        assert_eq!(parse_elements("339#", Some("")).number, None);
    }

    #[test]
    fn elements() {
        let e = parse_elements("南京东路123号", None);
        assert_eq!(e.road, Some("南京东路"));
        assert_eq!(e.number, Some(123));
        let e = parse_elements("金钟路658弄5号楼5楼", None);
        assert_eq!(e.road, Some("金钟路"));
        assert_eq!(e.lane, Some(658));
        assert_eq!(e.building, Some("5"));
        let e = parse_elements("市南路85号兴城花园10幢010502", None);
        assert_eq!(e.number, Some(85));
        assert_eq!(e.compound, Some("兴城花园"));
        assert_eq!(e.building, Some("10"));
        assert_eq!(e.room, Some("010502"));
        let e = parse_elements("福州路12-3号", None);
        assert_eq!((e.number, e.sub), (Some(12), Some(3)));
        // a functional zone before the road, or alone; not a compound's 小区 nor a letter's 区
        let e = parse_elements("郑东新区金水路6号", None);
        assert_eq!(
            (e.zone, e.road, e.number),
            (Some("郑东新区"), Some("金水路"), Some(6))
        );
        let e = parse_elements("高新区天府二街88号", None);
        assert_eq!((e.zone, e.road), (Some("高新区"), Some("天府二街")));
        let e = parse_elements("袍江工业区群贤东路2-1号", None);
        assert_eq!((e.zone, e.road), (Some("袍江工业区"), Some("群贤东路")));
        assert_eq!(
            parse_elements("经济技术开发区", None).zone,
            Some("经济技术开发区")
        );
        let e = parse_elements("阳光小区3幢", None);
        assert_eq!((e.zone, e.compound), (None, Some("阳光小区")));
        assert_eq!(parse_elements("A区3栋", None).zone, None);
        assert_eq!(parse_elements("新硅谷B区70号楼", None).zone, None);
        assert_eq!(parse_elements("硅谷é区", None).zone, None);
        assert_eq!(parse_elements("南京东路123号", None).zone, None);
        // a road named after a zone; what is left of a name the divisions took part of; a
        // stray 市 before the zone
        let e = parse_elements("园区路1199号", None);
        assert_eq!((e.zone, e.road), (None, Some("园区路")));
        assert_eq!(parse_elements("新区大道8号", None).zone, None);
        assert_eq!(parse_elements("新区清湖金銮国际大厦", None).zone, None);
        assert_eq!(
            parse_elements("开发区长江路218号", None).zone,
            Some("开发区")
        );
        let e = parse_elements("市高新区凤凰路9号", None);
        assert_eq!((e.zone, e.road), (Some("高新区"), Some("凤凰路")));
        assert_eq!(parse_elements("区新区8号", None).zone, None);
        assert_eq!(parse_elements("金水路郑东新区6号", None).zone, None);
        assert_eq!(
            parse_elements("万江区新谷涌管理区铭丰工业区", None).zone,
            None
        );
        assert_eq!(parse_elements("石基镇塱边村汉塘工业区", None).zone, None);
        // an ending alone before a road of three characters or more (无锡市 + 新区锡士路);
        // not before a road named after the zone (园区中路)
        let e = parse_elements("新区锡士路1号", None);
        assert_eq!(
            (e.zone, e.road, e.number),
            (Some("新区"), Some("锡士路"), Some(1))
        );
        let e = parse_elements("园区中路22号", None);
        assert_eq!((e.zone, e.road), (None, Some("园区中路")));
        assert_eq!(parse_elements("工业区8号", None).zone, None);
        // a road's section (路段) is part of its name
        for (t, road, n) in [
            ("人民南路四段27号", "人民南路四段", Some(27)),
            ("天府大道中段1366号天府软件园", "天府大道中段", Some(1366)),
            ("二环路西二段19号", "二环路西二段", Some(19)),
            ("下东大街段216号", "下东大街段", Some(216)),
            ("金开大道西段", "金开大道西段", None),
        ] {
            let e = parse_elements(t, None);
            assert_eq!((e.road, e.number), (Some(road), n), "{t}");
        }
        // a direction after the road before the number (Guangzhou's 广州大道中)
        let e = parse_elements("黄埔大道中311号羊城创意产业园", None);
        assert_eq!((e.road, e.number), (Some("黄埔大道中"), Some(311)));
        let e = parse_elements("中山大道西140号", None);
        assert_eq!((e.road, e.number), (Some("中山大道西"), Some(140)));
        // a road before a place's name with no number between (金田路金中环商务大厦3209), and
        // before an intersection; not a word that goes on (路口, 街道, 街坊), nor a section
        let e = parse_elements("金田路金中环商务大厦3209", None);
        assert_eq!(
            (e.road, e.compound, e.room),
            (Some("金田路"), Some("金中环商务大厦"), Some("3209"))
        );
        // a building named by letters (B座, G2栋) ends the compound; a courtyard's 号院
        let e = parse_elements("东直门南大街11号中汇广场B座2603室", None);
        assert_eq!(
            (e.number, e.compound, e.building, e.room),
            (Some(11), Some("中汇广场"), Some("B"), Some("2603"))
        );
        let e = parse_elements("文轩路27号麓谷企业广场-C1栋401室", None);
        assert_eq!(
            (e.compound, e.building, e.room),
            (Some("麓谷企业广场"), Some("C1"), Some("401"))
        );
        let e = parse_elements("漕溪北路595号C座11楼", None);
        assert_eq!(
            (e.compound, e.building, e.floor),
            (None, Some("C"), Some("11"))
        );
        let e = parse_elements("大郊亭中街2号院华腾国际3号楼", None);
        assert_eq!(
            (e.number, e.compound, e.building),
            (Some(2), Some("华腾国际"), Some("3"))
        );
        // (not letters inside a word: IFS1号办公楼, ABC座)
        assert_eq!(parse_elements("世纪城ABC座1楼", None).building, None);
        // a floor (楼层), after a building or alone; 号楼 stays a building
        let e = parse_elements("宜山路810号贝岭大厦8楼801室", None);
        assert_eq!(
            (e.compound, e.floor, e.room, e.rest),
            (Some("贝岭大厦"), Some("8"), Some("801"), "")
        );
        let e = parse_elements("春东路420号1号楼2层", None);
        assert_eq!((e.building, e.floor), (Some("1"), Some("2")));
        let e = parse_elements("新时代广场19F", None);
        assert_eq!((e.compound, e.floor), (Some("新时代广场"), Some("19")));
        let e = parse_elements("春东路420号1号楼", None);
        assert_eq!((e.building, e.floor), (Some("1"), None));
        // a park before the road is the zone, with its part (科技园北区); not a road with 园 in
        // its name
        for (t, zone, road) in [
            (
                "龙山工业园黄杨大道西2016号",
                Some("龙山工业园"),
                "黄杨大道西",
            ),
            (
                "金桥科技产业基地景盛南二街8号",
                Some("金桥科技产业基地"),
                "景盛南二街",
            ),
            ("科技园北区朗山路11号", Some("科技园北区"), "朗山路"),
            ("软件园二期望海路12号", Some("软件园二期"), "望海路"),
            ("花园东路11号", None, "花园东路"),
            ("花园石桥路33号", None, "花园石桥路"),
            ("汽车园中路29号", None, "汽车园中路"),
            ("科技园花园东路1号", Some("科技园"), "花园东路"),
        ] {
            let e = parse_elements(t, None);
            assert_eq!((e.zone, e.road), (zone, Some(road)), "{t}");
        }
        // a house number's prefix (甲28号 is another house than 28号)
        let e = parse_elements("阜外大街甲28号京润大厦4层", None);
        assert_eq!(
            (e.road, e.number_prefix, e.number, e.compound),
            (Some("阜外大街"), Some("甲"), Some(28), Some("京润大厦"))
        );
        let e = parse_elements("东三环北路甲19号楼", None);
        assert_eq!(
            (e.number_prefix, e.number, e.building),
            (None, None, Some("19"))
        );
        assert_eq!(
            parse_elements("阜外大街甲28号", Some("")).number_prefix,
            None
        );
        let e = parse_elements("科华北路棕榈花园", None);
        assert_eq!((e.road, e.compound), (Some("科华北路"), Some("棕榈花园")));
        let e = parse_elements("长江道与南丰路交口博朗园1号楼", None);
        assert_eq!(e.road, Some("长江道"));
        let e = parse_elements("开元大道与长厦门街交叉口", None);
        assert_eq!(e.road, Some("开元大道"));
        assert_eq!(parse_elements("人民路口东北角", None).road, None);
        assert_eq!(parse_elements("解放街道办事处", None).road, None);
        assert_eq!(
            parse_elements("天府大道中段天府软件园", None).road,
            Some("天府大道中段")
        );
        // (Chinese text from the start only: not after a number)
        assert_eq!(parse_elements("3号楼金田路大厦", None).road, None);
        // not a section without a road before it, nor more than two characters between
        assert_eq!(parse_elements("中段1号", None).road, None);
        assert_eq!(parse_elements("文化段1号", None).road, None);
        assert_eq!(
            parse_elements("人民路东西南段1号", None).road,
            Some("人民路")
        );
        // (the zone is found in the first 16 characters only)
        assert_eq!(
            parse_elements(&format!("{}新区", "东".repeat(15)), None).zone,
            None
        );
        assert_eq!(
            short_names("红河哈尼族彝族自治州", Level::City),
            vec!["红河"]
        );
        assert_eq!(short_names("内蒙古自治区", Level::Province), vec!["内蒙古"]);
        assert_eq!(
            short_names("巴音郭楞蒙古自治州", Level::City),
            vec!["巴音郭楞"]
        );
    }
}
