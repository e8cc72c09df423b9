//! Parsing of Chinese address text: the division prefix (province … village) by a dictionary of
//! full names, short names (suffixes stripped), aliases and old names (with their successors),
//! resolved with the hierarchy; then the address elements below the divisions (road, lane,
//! house number, compound, building, unit, room).
//!
//! The dictionary is built once from the division tree and change log (plus a small supplement
//! for Taiwan, Hong Kong and Macau, which the NBS lists lack). Lookup is a longest-prefix match
//! at the current position (hash lookups for each candidate length), extended as a small beam
//! of hypotheses that must stay consistent with the tree: a deeper match must lie under the
//! division matched before it. Ambiguity (西湖区 in 杭州 and 南昌) is kept until later context
//! decides; a level is reported only where all best hypotheses agree.

use super::normalize::Correction;
use crate::divisions::{tree::is_placeholder_name, Divisions, Level};
use serde::Serialize;
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
#[derive(Default)]
pub struct DivisionParser {
    pub nodes: Vec<Node>,
    dict: HashMap<String, Vec<Entry>, foldhash::fast::FixedState>,
    max_key_chars: usize,
    /// first character of a key → bit mask of the key lengths (in characters) starting with it:
    /// most positions of a text start no key, or keys of two or three lengths only, so the
    /// scan tries those instead of every length up to `max_key_chars`
    len_mask: HashMap<char, u64, foldhash::fast::FixedState>,
}

/// A division in a parse result.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Part {
    pub name: String,
    pub code: Option<String>,
    #[serde(skip)]
    pub node: Option<u32>,
}

/// The division part of a parse.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DivisionMatch {
    pub province: Option<Part>,
    pub city: Option<Part>,
    pub county: Option<Part>,
    pub town: Option<Part>,
    pub village: Option<Part>,
    /// text after the divisions
    pub detail: String,
    /// number of characters consumed by division names
    #[serde(skip)]
    pub consumed: usize,
    /// best hypotheses (deepest node), best first; several when ambiguous
    #[serde(skip)]
    pub hypotheses: Vec<u32>,
    /// each accepted division token: (byte offset where it starts, hypotheses before it)
    #[serde(skip)]
    pub steps: Vec<(usize, Vec<u32>)>,
    pub corrections: Vec<Correction>,
    /// the deepest level reached unambiguously
    pub level: Option<Level>,
}

#[derive(Clone)]
struct Hyp {
    node: Option<u32>,
    score: u32,
    corr: Vec<Correction>,
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

fn is_within(nodes: &[Node], mut idx: u32, anc: u32) -> bool {
    loop {
        if idx == anc {
            return true;
        }
        match nodes[idx as usize].parent {
            Some(p) => idx = p,
            None => return false,
        }
    }
}

/// Does the text right after a short name read as a road (西藏中路, 南京东路, 四川北路)?
fn looks_like_road(rest: &str) -> bool {
    const R: &[&str] = &[
        "路", "街", "大道", "大街", "东路", "西路", "南路", "北路", "中路", "一路", "二路", "三路",
        "巷", "弄", "里", "东街", "西街", "南街", "北街", "中街", "公路", "广场", "大厦", "大楼",
        "花园", "小区", "中心", "商城", "大学",
    ];
    R.iter().any(|r| rest.starts_with(r))
}

impl DivisionParser {
    /// Builds the dictionary from the served divisions.
    pub fn build(d: &Divisions) -> DivisionParser {
        let mut p = DivisionParser::default();
        for div in &d.tree.divs {
            p.nodes.push(Node {
                name: div.name.clone(),
                code: Some(div.code()),
                level: div.level,
                parent: div.parent,
            });
        }
        // supplement (TW/HK/MO)
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
        for i in 0..p.nodes.len() as u32 {
            let n = &p.nodes[i as usize];
            if is_placeholder_name(&n.name) || n.name.starts_with('(') {
                continue;
            }
            let (name, level, parent) = (n.name.clone(), n.level, n.parent);
            p.add(&name, i, Kind::Full);
            for s in short_names(&name, level) {
                p.add(&s, i, Kind::Short);
                if level == Level::City {
                    p.add(&format!("{s}地区"), i, Kind::Alias);
                    if name.ends_with("自治州") {
                        p.add(&format!("{s}州"), i, Kind::Alias);
                    }
                }
            }
            match level {
                Level::County => {
                    // functional zones named after their city (秦皇岛市经济技术开发区)
                    if let Some(par) = parent {
                        let pn = p.nodes[par as usize].name.clone();
                        let mut prefixes = vec![pn.clone()];
                        prefixes.extend(short_names(&pn, Level::City));
                        for pre in prefixes {
                            if let Some(rest) = name.strip_prefix(&pre) {
                                if rest.chars().count() >= 3 {
                                    p.add(rest, i, Kind::Alias);
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
            p.add(&a, i, Kind::Alias);
        }
        // old names → successors
        for ch in &d.changes.changes {
            let succ = ch
                .new_code
                .as_deref()
                .and_then(|c| d.find_code(c).ok().flatten())
                .or_else(|| p.resolve_path(&ch.new_names));
            let Some(succ) = succ else { continue };
            let old = ch.old_name().to_string();
            let mut olds = vec![old.clone()];
            if let Some(s) = &ch.old_short {
                olds.push(s.clone());
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
        p
    }

    /// Key lengths to try at byte offset `at` of `text`, longest first, between `min` and `max`
    /// characters (only lengths some key starting with that character has).
    fn key_lens(
        &self,
        text: &str,
        at: usize,
        min: usize,
        max: usize,
    ) -> impl Iterator<Item = usize> {
        let c = text[at..].chars().next();
        let mut m = c.and_then(|c| self.len_mask.get(&c).copied()).unwrap_or(0);
        let max = max.min(63);
        m &= if max >= 63 {
            u64::MAX
        } else {
            (1u64 << (max + 1)) - 1
        };
        m &= !((1u64 << min.min(63)) - 1);
        std::iter::from_fn(move || {
            if m == 0 {
                return None;
            }
            let top = 63 - m.leading_zeros() as usize;
            m &= !(1u64 << top);
            Some(top)
        })
    }

    fn add(&mut self, key: &str, node: u32, kind: Kind) {
        let v = self.dict.entry(key.to_string()).or_default();
        if let Some(e) = v.iter_mut().find(|e| e.node == node) {
            if kind.weight() > e.kind.weight() {
                e.kind = kind;
            }
            return;
        }
        v.push(Entry { node, kind });
        let len = key.chars().count();
        self.max_key_chars = self.max_key_chars.max(len);
        if let Some(c) = key.chars().next() {
            *self.len_mask.entry(c).or_default() |= 1u64 << len.min(63);
        }
    }

    /// Finds a node by its names from the province down (["湖北省", "襄阳市"]).
    fn resolve_path(&self, names: &[String]) -> Option<u32> {
        let last = names.last()?;
        let cands = self.dict.get(last.as_str())?;
        cands
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

    pub fn is_within(&self, idx: u32, anc: u32) -> bool {
        is_within(&self.nodes, idx, anc)
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
    /// (the `city=` context of a geocode call).
    pub fn parse(&self, text: &str, within: Option<u32>) -> DivisionMatch {
        let bounds: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(text.len()))
            .collect();
        let n = bounds.len() - 1;
        let mut hyps = vec![Hyp {
            node: within,
            score: 0,
            corr: Vec::new(),
        }];
        let mut pos = 0;
        let mut any = false;
        let mut steps: Vec<(usize, Vec<u32>)> = Vec::new();
        while pos < n {
            let maxl = self.max_key_chars.min(n - pos);
            let lens: Vec<usize> = self.key_lens(text, bounds[pos], 2, maxl).collect();
            let mut next: Vec<Hyp> = Vec::new();
            let mut matched = 0;
            for &len in &lens {
                let key = &text[bounds[pos]..bounds[pos + len]];
                let Some(entries) = self.dict.get(key) else {
                    continue;
                };
                let rest = &text[bounds[pos + len]..];
                for h in &hyps {
                    for e in entries {
                        if e.kind != Kind::Full && looks_like_road(rest) {
                            continue;
                        }
                        let lvl = self.nodes[e.node as usize].level;
                        let ok = match h.node {
                            None => true,
                            Some(c) => {
                                lvl > self.nodes[c as usize].level
                                    && is_within(&self.nodes, e.node, c)
                            }
                        };
                        if !ok {
                            continue;
                        }
                        let mut corr = h.corr.clone();
                        match e.kind {
                            Kind::Old => {
                                corr.push(Correction::new("old_name", key, self.full_name(e.node)))
                            }
                            Kind::Short | Kind::Alias
                                if key != self.nodes[e.node as usize].name =>
                            {
                                corr.push(Correction::new(
                                    "short_name",
                                    key,
                                    self.nodes[e.node as usize].name.clone(),
                                ))
                            }
                            _ => {}
                        }
                        next.push(Hyp {
                            node: Some(e.node),
                            score: h.score + e.kind.weight() * len as u32,
                            corr,
                        });
                    }
                }
                if !next.is_empty() {
                    matched = len;
                    break;
                }
            }
            if next.is_empty() && within.is_none() {
                // a full county-or-deeper name that contradicts what came before
                // (柳州地区忻城县: 忻城县 moved to 来宾市): the deeper name wins
                let cur_max = hyps
                    .iter()
                    .filter_map(|h| h.node.map(|x| self.nodes[x as usize].level))
                    .max();
                if let Some(cur_max) = cur_max {
                    for &len in &lens {
                        let key = &text[bounds[pos]..bounds[pos + len]];
                        let Some(entries) = self.dict.get(key) else {
                            continue;
                        };
                        let best = hyps.iter().map(|h| h.score).max().unwrap_or(0);
                        for e in entries {
                            let lvl = self.nodes[e.node as usize].level;
                            if matches!(e.kind, Kind::Full | Kind::Old)
                                && lvl == Level::County
                                && lvl > cur_max
                            {
                                let mut corr = hyps[0].corr.clone();
                                corr.push(Correction::new(
                                    "conflict",
                                    &text[..bounds[pos]],
                                    self.full_name(e.node),
                                ));
                                next.push(Hyp {
                                    node: Some(e.node),
                                    score: best + e.kind.weight() * len as u32,
                                    corr,
                                });
                            }
                        }
                        if !next.is_empty() {
                            matched = len;
                            break;
                        }
                    }
                }
            }
            if next.is_empty() && any && pos + 1 < n {
                // one stray character between division names (成都是锦江区, 上海经静安区), or
                // the same name repeated (广州市广州市越秀区)
                let deepest = hyps.iter().filter_map(|h| h.node).collect::<Vec<_>>();
                for len in self.key_lens(text, bounds[pos], 2, self.max_key_chars.min(n - pos)) {
                    let key = &text[bounds[pos]..bounds[pos + len]];
                    if let Some(es) = self.dict.get(key) {
                        if es.iter().any(|e| deepest.contains(&e.node)) {
                            matched = len;
                            break;
                        }
                    }
                }
                if matched > 0 {
                    pos += matched;
                    continue;
                }
                for len in self.key_lens(
                    text,
                    bounds[pos + 1],
                    3,
                    self.max_key_chars.min(n - pos - 1),
                ) {
                    let key = &text[bounds[pos + 1]..bounds[pos + 1 + len]];
                    let Some(entries) = self.dict.get(key) else {
                        continue;
                    };
                    for h in &hyps {
                        let Some(c) = h.node else { continue };
                        for e in entries.iter().filter(|e| e.kind == Kind::Full) {
                            if self.nodes[e.node as usize].level > self.nodes[c as usize].level
                                && is_within(&self.nodes, e.node, c)
                            {
                                let mut corr = h.corr.clone();
                                corr.push(Correction::new(
                                    "noise",
                                    &text[bounds[pos]..bounds[pos + 1]],
                                    "",
                                ));
                                next.push(Hyp {
                                    node: Some(e.node),
                                    score: h.score + e.kind.weight() * len as u32,
                                    corr,
                                });
                            }
                        }
                    }
                    if !next.is_empty() {
                        matched = len;
                        pos += 1;
                        break;
                    }
                }
            }
            if next.is_empty() && pos > 0 && any {
                // a county name overlapping the last character (青岛市南区 → 青岛市 + 市南区)
                for len in self.key_lens(
                    text,
                    bounds[pos - 1],
                    3,
                    self.max_key_chars.min(n - pos + 1),
                ) {
                    let key = &text[bounds[pos - 1]..bounds[pos - 1 + len]];
                    let Some(entries) = self.dict.get(key) else {
                        continue;
                    };
                    for h in &hyps {
                        let Some(c) = h.node else { continue };
                        for e in entries.iter().filter(|e| e.kind == Kind::Full) {
                            if self.nodes[e.node as usize].level == Level::County
                                && is_within(&self.nodes, e.node, c)
                            {
                                next.push(Hyp {
                                    node: Some(e.node),
                                    score: h.score + e.kind.weight() * len as u32,
                                    corr: h.corr.clone(),
                                });
                            }
                        }
                    }
                    if !next.is_empty() {
                        matched = len - 1;
                        break;
                    }
                }
            }
            if next.is_empty() && !any && pos == 0 && within.is_none() && n > 4 {
                // one or two stray characters before a full county name (深罗湖区, 州市荔湾区)
                let county_at = |s: usize| {
                    self.key_lens(text, bounds[s], 3, self.max_key_chars.min(n - s))
                        .any(|len| {
                            self.dict
                                .get(&text[bounds[s]..bounds[s + len]])
                                .is_some_and(|es| {
                                    es.iter().any(|e| {
                                        e.kind == Kind::Full
                                            && self.nodes[e.node as usize].level == Level::County
                                    })
                                })
                        })
                };
                if let Some(s) = (1..=2).find(|&s| county_at(s)) {
                    pos = s;
                    continue;
                }
            }
            if next.is_empty() {
                break;
            }
            any = true;
            steps.push((bounds[pos], hyps.iter().filter_map(|h| h.node).collect()));
            // dedupe by node, keep the best score
            next.sort_by(|a, b| a.node.cmp(&b.node).then(b.score.cmp(&a.score)));
            next.dedup_by(|a, b| a.node == b.node);
            hyps = next;
            pos += matched;
        }
        let mut m = DivisionMatch {
            detail: text[bounds[pos]..].to_string(),
            consumed: pos,
            steps,
            ..Default::default()
        };
        if !any && within.is_none() {
            return m;
        }
        let best = hyps.iter().map(|h| h.score).max().unwrap_or(0);
        let mut top: Vec<&Hyp> = hyps.iter().filter(|h| h.score == best).collect();
        // equal scores: the shallower reading wins (湘潭 is 湘潭市 before 湘潭县), except a
        // division with the same name as its parent (东莞市 city → 东莞市 county-level unit)
        let lv = |h: &&Hyp| h.node.map(|x| self.nodes[x as usize].level);
        let shallowest = top.iter().map(lv).min().flatten();
        let same_name_child = |h: &&Hyp| {
            h.node.is_some_and(|x| {
                let nd = &self.nodes[x as usize];
                nd.parent.is_some_and(|p| {
                    self.nodes[p as usize].name == nd.name && top.iter().any(|o| o.node == Some(p))
                })
            })
        };
        if let Some(child) = top.iter().find(|h| same_name_child(h)).map(|h| h.node) {
            top.retain(|h| h.node == child);
        } else {
            top.retain(|h| lv(h) == shallowest);
        }
        top.sort_by_key(|h| h.node);
        m.hypotheses = top.iter().filter_map(|h| h.node).collect();
        // also keep lower-scored hypotheses after the best ones (for the geocoder)
        let mut rest: Vec<&Hyp> = hyps.iter().filter(|h| h.score < best).collect();
        rest.sort_by_key(|h| std::cmp::Reverse(h.score));
        m.hypotheses.extend(rest.iter().filter_map(|h| h.node));
        m.corrections = top[0].corr.clone();
        self.fill_levels(
            &mut m,
            &top.iter().filter_map(|h| h.node).collect::<Vec<_>>(),
        );
        m
    }

    /// Fills province…village with the names on which all `nodes` agree.
    pub fn fill_levels(&self, m: &mut DivisionMatch, nodes: &[u32]) {
        let chains: Vec<Vec<u32>> = nodes.iter().map(|&n| self.chain(n)).collect();
        let at = |chain: &Vec<u32>, level: Level| {
            chain
                .iter()
                .copied()
                .find(|&i| self.nodes[i as usize].level == level)
        };
        let mut deepest = None;
        for level in Level::ALL {
            let picks: Vec<Option<u32>> = chains.iter().map(|c| at(c, level)).collect();
            let Some(first) = picks.first().copied().flatten() else {
                continue;
            };
            let name = &self.nodes[first as usize].name;
            let same_node = picks.iter().all(|p| *p == Some(first));
            let same_name = picks
                .iter()
                .all(|p| p.is_some_and(|x| &self.nodes[x as usize].name == name));
            if !same_name || is_placeholder_name(name) {
                continue;
            }
            let part = Part {
                name: name.clone(),
                code: if same_node {
                    self.nodes[first as usize].code.clone()
                } else {
                    None
                },
                node: same_node.then_some(first),
            };
            if same_node {
                deepest = Some(level);
            }
            match level {
                Level::Province => m.province = Some(part),
                Level::City => m.city = Some(part),
                Level::County => m.county = Some(part),
                Level::Township => m.town = Some(part),
                Level::Village => m.village = Some(part),
            }
        }
        // the city of a municipality is the municipality itself
        if m.city.is_none() {
            if let Some(p) = &m.province {
                if let Some(code) = &p.code {
                    if MUNICIPALITIES.contains(&&code[..2]) {
                        m.city = Some(p.clone());
                    }
                }
            }
        }
        m.level = deepest;
    }
}

/// Elements of an address below the divisions (GB/T 35639: 街路巷, 门牌号, 小区, 楼幢, 单元, 户室).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Elements {
    pub road: Option<String>,
    /// 弄 (lane) number, Shanghai style `45弄6号`
    pub lane: Option<u32>,
    /// house number
    pub number: Option<u32>,
    /// sub-number of `12-3号`, or the 支弄 of `45弄3支弄`
    pub sub: Option<u32>,
    pub compound: Option<String>,
    pub building: Option<String>,
    pub unit: Option<String>,
    pub room: Option<String>,
    /// what is left over
    pub rest: String,
}

fn take_digits(chars: &[char], i: usize) -> Option<(u32, usize)> {
    let mut j = i;
    let mut v: u32 = 0;
    while j < chars.len() && chars[j].is_ascii_digit() && j - i < 8 {
        v = v * 10 + chars[j].to_digit(10)?;
        j += 1;
    }
    (j > i).then_some((v, j))
}

/// Road suffixes (longest first).
const ROAD_SUFFIXES: &[&str] = &["大道", "大街", "公路", "胡同", "路", "街", "巷", "道"];

/// Parses the elements below the divisions. `road` is a road already recognised at the start
/// of `detail` (from the address book); otherwise the first road-like word is taken.
pub fn parse_elements(detail: &str, known_road: Option<&str>) -> Elements {
    let mut e = Elements::default();
    let chars: Vec<char> = detail.chars().collect();
    let mut i = 0;
    if let Some(r) = known_road {
        e.road = Some(r.to_string());
        i = r.chars().count().min(chars.len());
    } else {
        // first road suffix followed by a digit or the end
        let s: String = chars.iter().collect();
        let mut best: Option<(usize, usize)> = None; // (char end, char start)
        for suf in ROAD_SUFFIXES {
            let mut from = 0;
            while let Some(p) = s[from..].find(suf) {
                let bp = from + p;
                let start = s[..bp].chars().count();
                let end = start + suf.chars().count();
                let next = chars.get(end).copied();
                let ok = start >= 1
                    && !(*suf == "街" && matches!(next, Some('道') | Some('办')))
                    && (*suf != "道" || next.is_some_and(|c| c.is_ascii_digit()))
                    && next.is_none_or(|c| {
                        c.is_ascii_digit()
                            || c == '-'
                            || c == '东'
                            || c == '西'
                            || c == '南'
                            || c == '北'
                            || c == '中'
                            || !c.is_ascii()
                    });
                if ok && next.is_none_or(|c| c.is_ascii_digit()) && best.is_none_or(|b| end < b.0) {
                    best = Some((end, start));
                }
                from = bp + suf.len();
            }
        }
        if let Some((end, _)) = best {
            e.road = Some(chars[..end].iter().collect());
            i = end;
        }
    }
    // lane / number
    if let Some((v, j)) = take_digits(&chars, i) {
        match chars.get(j) {
            Some('弄') => {
                e.lane = Some(v);
                i = j + 1;
                if let Some((s, k)) = take_digits(&chars, i) {
                    if chars.get(k) == Some(&'支') && chars.get(k + 1) == Some(&'弄') {
                        e.sub = Some(s);
                        i = k + 2;
                    }
                }
                if let Some((n, k)) = take_digits(&chars, i) {
                    if chars.get(k) == Some(&'号') && chars.get(k + 1) != Some(&'楼') {
                        e.number = Some(n);
                        i = k + 1;
                    }
                }
            }
            Some('号') if chars.get(j + 1) != Some(&'楼') => {
                e.number = Some(v);
                i = j + 1;
            }
            Some('-') => {
                if let Some((s, k)) = take_digits(&chars, j + 1) {
                    if chars.get(k) == Some(&'号') {
                        e.number = Some(v);
                        e.sub = Some(s);
                        i = k + 1;
                    }
                }
            }
            _ => {}
        }
    }
    // compound: non-digit text up to the next digit
    let start = i;
    while i < chars.len() && !chars[i].is_ascii_digit() {
        i += 1;
    }
    if i > start {
        let c: String = chars[start..i].iter().collect();
        if i < chars.len() || c.ends_with("小区") || c.ends_with('苑') || c.ends_with("花园") {
            e.compound = Some(c);
        } else {
            e.rest = c;
            return e;
        }
    }
    // building / unit / room
    while i < chars.len() {
        let Some((v, j)) = take_digits(&chars, i) else {
            break;
        };
        let next = chars.get(j).copied();
        let next2 = chars.get(j + 1).copied();
        match (next, next2) {
            (Some('幢' | '栋' | '座' | '#'), _) => {
                e.building = Some(v.to_string());
                i = j + 1;
                if chars.get(i) == Some(&'楼') {
                    i += 1;
                }
            }
            (Some('号'), Some('楼')) => {
                e.building = Some(v.to_string());
                i = j + 2;
            }
            (Some('单'), Some('元')) => {
                e.unit = Some(v.to_string());
                i = j + 2;
            }
            (Some('室'), _) => {
                // room numbers keep their digits as written (010502 ≠ 10502)
                e.room = Some(chars[i..j].iter().collect());
                i = j + 1;
            }
            (None, _) => {
                e.room = Some(chars[i..j].iter().collect());
                i = j;
            }
            _ => break,
        }
    }
    e.rest = chars[i.min(chars.len())..].iter().collect();
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn elements() {
        let e = parse_elements("南京东路123号", None);
        assert_eq!(e.road.as_deref(), Some("南京东路"));
        assert_eq!(e.number, Some(123));
        let e = parse_elements("金钟路658弄5号楼5楼", None);
        assert_eq!(e.road.as_deref(), Some("金钟路"));
        assert_eq!(e.lane, Some(658));
        assert_eq!(e.building.as_deref(), Some("5"));
        let e = parse_elements("市南路85号兴城花园10幢010502", None);
        assert_eq!(e.number, Some(85));
        assert_eq!(e.compound.as_deref(), Some("兴城花园"));
        assert_eq!(e.building.as_deref(), Some("10"));
        assert_eq!(e.room.as_deref(), Some("010502"));
        let e = parse_elements("福州路12-3号", None);
        assert_eq!((e.number, e.sub), (Some(12), Some(3)));
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
