//! Normalisation of dirty address text before parsing: full-width forms, Traditional
//! characters (via the `zhconv` crate), pinyin/annotation brackets, spaces and punctuation,
//! Chinese numerals in house numbers, and noise after the address (附近, 对面, phone numbers).

use serde::Serialize;

/// One thing the normaliser or the parser changed, reported to the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Correction {
    /// `fullwidth`, `traditional`, `annotation`, `punctuation`, `numeral`, `noise`,
    /// `old_name`, `short_name`, `fuzzy`, `inferred`, `conflict`
    pub kind: &'static str,
    pub from: String,
    pub to: String,
}

impl Correction {
    pub fn new(kind: &'static str, from: impl Into<String>, to: impl Into<String>) -> Self {
        Correction {
            kind,
            from: from.into(),
            to: to.into(),
        }
    }
}

/// Words that follow an address but are not part of it.
const NOISE_SUFFIXES: &[&str] = &[
    "附近",
    "对面",
    "旁边",
    "隔壁",
    "门口",
    "周边",
    "一带",
    "边上",
    "楼下",
    "斜对面",
    "东侧",
    "西侧",
    "南侧",
    "北侧",
    "左侧",
    "右侧",
    "后面",
    "前面",
    "里面",
];

/// Element suffixes after which a Chinese numeral is a number (十二号 → 12号).
const NUMBER_SUFFIXES: &[char] = &[
    '号', '弄', '幢', '栋', '座', '单', '室', '楼', '层', '支', '组',
];

// Classes of a non-ASCII BMP character, one byte per character (a 64 KB table): the scan
// that decides which normalisation steps can change a text reads one byte per character.
const C_FULLWIDTH: u8 = 1;
const C_CONTACT: u8 = 2;
const C_BRACKET: u8 = 4;
const C_PUNCT: u8 = 8;
const C_NUMERAL: u8 = 16;
const C_SUFFIX: u8 = 32;
/// a one-character key of zhconv's zh-CN tables
const C_TRAD: u8 = 64;
/// the first character of a longer key
const C_TRAD_FIRST: u8 = 128;

/// The character classes, and the keys of zhconv's zh-CN conversion tables reduced to what a
/// text must contain for one of them to match: the character of each one-character key, and
/// the first two characters of each longer key. zhconv changes text only where one of its
/// keys matches, so text without any of these converts to itself: the check is exact, and it
/// spares most addresses the automaton (the zh-CN phrase table has keys starting with 大, 北,
/// 1 …, so first characters alone would not).
struct CharClasses {
    bmp: Vec<u8>,
    /// the longer keys by their first two characters, and a bit per hashed pair in front
    pairs: std::collections::HashMap<(char, char), Vec<String>, foldhash::fast::FixedState>,
    pair_bits: super::PairBits,
    /// characters beyond the BMP that start any key, sorted
    astral: Vec<char>,
}

fn classes() -> &'static CharClasses {
    static CLASSES: std::sync::OnceLock<CharClasses> = std::sync::OnceLock::new();
    CLASSES.get_or_init(|| {
        let mut k = CharClasses {
            bmp: vec![0u8; 0x10000],
            pairs: Default::default(),
            pair_bits: Default::default(),
            astral: Vec::new(),
        };
        for u in 0x80u32..0x10000 {
            let Some(c) = char::from_u32(u) else { continue };
            let mut cls = 0;
            if half_width(c).is_some() {
                cls |= C_FULLWIDTH;
            }
            if matches!(c, '电' | '手') {
                cls |= C_CONTACT;
            }
            if is_open_bracket(c) {
                cls |= C_BRACKET;
            }
            if is_dropped_punct(c) || is_other_dash(c) {
                cls |= C_PUNCT;
            }
            if is_numeral_char(c) {
                cls |= C_NUMERAL;
            }
            if NUMBER_SUFFIXES.contains(&c) {
                cls |= C_SUFFIX;
            }
            k.bmp[u as usize] = cls;
        }
        for table in zhconv::get_builtin_tables(zhconv::Variant::ZhCN) {
            for (from, to) in zhconv::tables::expand_table(*table) {
                if from == to {
                    continue;
                }
                let mut cs = from.chars();
                let (Some(a), b) = (cs.next(), cs.next()) else {
                    continue;
                };
                if a as u32 >= 0x10000 {
                    k.astral.push(a);
                    continue;
                }
                match b {
                    None => k.bmp[a as usize] |= C_TRAD,
                    Some(b) => {
                        k.bmp[a as usize] |= C_TRAD_FIRST;
                        k.pairs.entry((a, b)).or_default().push(from.to_string());
                        k.pair_bits.insert(a, b);
                    }
                }
            }
        }
        k.astral.sort_unstable();
        k.astral.dedup();
        k
    })
}

impl CharClasses {
    fn class(&self, c: char) -> u8 {
        self.bmp.get(c as usize).copied().unwrap_or(0)
    }

    /// Does a longer key start with `p` then `c`?
    fn pair(&self, p: char, c: char) -> bool {
        self.pair_bits.may_contain(p, c) && self.pairs.contains_key(&(p, c))
    }

    /// Does a longer key starting with `p` then `c` match `rest` (the text from `p` on)?
    fn long_key_at(&self, p: char, c: char, rest: &str) -> bool {
        self.pairs
            .get(&(p, c))
            .is_some_and(|keys| keys.iter().any(|k| rest.starts_with(k.as_str())))
    }

    fn astral_key(&self, c: char) -> bool {
        c as u32 >= 0x10000 && self.astral.binary_search(&c).is_ok()
    }
}

/// Can zhconv's zh-CN conversion change `text` once its full-width forms are half-width (as
/// `normalize` converts it)? Exact in the negative: false means zhconv would return
/// `to_half_width(text)` unchanged.
pub fn may_be_traditional(text: &str) -> bool {
    scan(text).traditional
}

/// `text` with its full-width forms made half-width (step 1 of `normalize`).
pub fn to_half_width(text: &str) -> String {
    text.chars().map(|c| half_width(c).unwrap_or(c)).collect()
}

/// Full-width form → half-width (U+FF01…U+FF5E, ideographic space); None if not full-width.
fn half_width(c: char) -> Option<char> {
    let u = c as u32;
    if (0xFF01..=0xFF5E).contains(&u) {
        char::from_u32(u - 0xFEE0)
    } else if u == 0x3000 {
        Some(' ')
    } else {
        None
    }
}

fn is_open_bracket(c: char) -> bool {
    matches!(c, '(' | '[' | '【' | '〔' | '{' | '（')
}

/// Punctuation dropped from addresses (dashes are kept: 12-3号).
fn is_dropped_punct(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            ',' | '，'
                | '。'
                | '.'
                | '、'
                | ';'
                | '；'
                | ':'
                | '：'
                | '\''
                | '"'
                | '“'
                | '”'
                | '‘'
                | '’'
                | '!'
                | '！'
                | '?'
                | '？'
                | '·'
                | '・'
                | '/'
                | '\\'
                | '|'
                | '_'
                | '*'
                | '~'
                | '`'
                | '<'
                | '>'
                | '《'
                | '》'
                | '「'
                | '」'
                | ')'
                | '）'
        )
}

/// Dashes of every kind other than '-' (they become '-').
fn is_other_dash(c: char) -> bool {
    matches!(c, '—' | '–' | '－' | '−')
}

/// What one pass over the (half-width) text found: each later step runs only when its flag
/// says it can change something. Every flag over-approximates its step, so the output is the
/// same as running every step.
#[derive(Default)]
struct Scan {
    fullwidth: bool,
    traditional: bool,
    bracket: bool,
    colon: bool,
    contact: bool,
    digits: usize,
    punct: bool,
    numeral: bool,
}

/// One pass over `text` as it reads after the full-width mapping.
fn scan(text: &str) -> Scan {
    let k = classes();
    let mut f = Scan::default();
    // previous character, whether a longer zhconv key starts with it, whether it is a numeral
    let mut prev = '\0';
    let mut prev_at = 0;
    let mut prev_first = false;
    let mut prev_numeral = false;
    let mut seen_numeral = false;
    let mut pair_seen = false;
    for (at, c) in text.char_indices() {
        let mut cls = k.class(c);
        let c = if cls & C_FULLWIDTH != 0 {
            f.fullwidth = true;
            let h = half_width(c).unwrap_or(c);
            cls = k.class(h);
            h
        } else {
            c
        };
        // a longer key may start at the previous character: compare the whole key (the
        // zh-CN phrase tables have keys starting with common pairs such as 1天)
        if prev_first && k.pair(prev, c) {
            pair_seen = true;
            f.traditional |= k.long_key_at(prev, c, &text[prev_at..]);
        }
        prev = c;
        prev_at = at;
        if c.is_ascii() {
            prev_first = cls & C_TRAD_FIRST != 0;
            f.traditional |= cls & C_TRAD != 0;
            if c.is_ascii_digit() {
                f.digits += 1;
                prev_numeral = false;
            } else if c.is_ascii_alphabetic() {
                f.contact |= matches!(c, 't' | 'T');
                prev_numeral = false;
            } else {
                f.colon |= c == ':';
                f.bracket |= is_open_bracket(c);
                let punct = is_dropped_punct(c);
                f.punct |= punct;
                // punctuation that step 5 drops does not separate a numeral from its suffix
                prev_numeral &= punct;
            }
            continue;
        }
        if cls == 0 {
            prev_first = false;
            prev_numeral = false;
            f.traditional |= k.astral_key(c);
            continue;
        }
        prev_first = cls & C_TRAD_FIRST != 0;
        f.traditional |= cls & C_TRAD != 0;
        f.contact |= cls & C_CONTACT != 0;
        f.bracket |= cls & C_BRACKET != 0;
        f.punct |= cls & C_PUNCT != 0;
        // a Chinese numeral right before an element suffix (十二号): what step 8 converts
        f.numeral |= prev_numeral && cls & C_SUFFIX != 0;
        let numeral = cls & C_NUMERAL != 0;
        seen_numeral |= numeral;
        if numeral || cls & C_PUNCT == 0 {
            prev_numeral = numeral;
        }
    }
    // text with full-width forms reads differently after the mapping, which the comparison
    // of whole keys does not see: assume a match there
    f.traditional |= pair_seen && f.fullwidth;
    // removing brackets, labels, contact words or phone numbers can bring a numeral next to
    // a suffix: then step 8 runs whenever there is a numeral at all
    f.numeral |= seen_numeral && (f.bracket || f.colon || f.contact || f.digits >= 7);
    f
}

/// Normalises `text`; returns the cleaned text and what was changed.
pub fn normalize(text: &str) -> (String, Vec<Correction>) {
    let mut corr = Vec::new();
    let mut f = scan(text);
    // 1. full-width → half-width
    let mut s: String = if f.fullwidth {
        let s = to_half_width(text);
        corr.push(Correction::new("fullwidth", text, s.clone()));
        s
    } else {
        text.to_string()
    };
    // 2. Traditional → Simplified
    if f.traditional {
        let simp = zhconv::zhconv(&s, zhconv::Variant::ZhCN);
        if simp != s {
            corr.push(Correction::new("traditional", s.clone(), simp.clone()));
            s = simp;
            f = scan(&s);
        }
    }
    // 3. brackets: drop annotations made of latin letters (pinyin such as `(qū)`), and
    //    drop any bracketed remark after the address
    if f.bracket {
        let mut out = String::with_capacity(s.len());
        let chars: Vec<char> = s.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if is_open_bracket(c) {
                let close = chars[i + 1..]
                    .iter()
                    .position(|&d| matches!(d, ')' | ']' | '】' | '〕' | '}' | '）'));
                if let Some(off) = close {
                    let inner: String = chars[i + 1..i + 1 + off].iter().collect();
                    corr.push(Correction::new("annotation", format!("{c}{inner}"), ""));
                    i += off + 2;
                    continue;
                }
                i += 1;
                continue;
            }
            out.push(c);
            i += 1;
        }
        s = out;
    }
    // 4a. a label before a colon near the start (总部：, 公司地址：)
    if f.colon {
        if let Some((bi, _)) = s
            .char_indices()
            .take(12)
            .find(|(_, c)| *c == ':' || *c == '：')
        {
            let label = s[..bi].to_string();
            let rest = s[bi..].trim_start_matches([':', '：']).to_string();
            if !rest.trim().is_empty() {
                corr.push(Correction::new("noise", label, ""));
                s = rest;
            }
        }
    }
    // 4. phone numbers and contact words
    if f.contact {
        for w in ["联系电话", "电话", "手机", "tel", "TEL", "Tel"] {
            if let Some(p) = s.find(w) {
                if p > 0 {
                    corr.push(Correction::new("noise", &s[p..], ""));
                    s.truncate(p);
                }
            }
        }
    }
    if f.digits >= 7 {
        strip_phone_numbers(&mut s, &mut corr);
    }
    // 5. spaces and punctuation (keep '-' between digits for 12-3号, '#')
    if f.punct {
        let mut t = String::with_capacity(s.len());
        for c in s.chars() {
            if is_dropped_punct(c) {
                continue;
            }
            t.push(if is_other_dash(c) { '-' } else { c });
        }
        if t != s {
            corr.push(Correction::new(
                "punctuation",
                std::mem::take(&mut s),
                t.clone(),
            ));
        }
        s = t;
    }
    // 6. prefixes that are not part of an address
    for p in ["地址", "住址", "中国", "中华人民共和国"] {
        if s.starts_with(p) {
            s.drain(..p.len());
        }
    }
    // 7. noise after the address (repeatedly: 附近对面)
    while s.chars().next_back().is_some_and(|c| {
        matches!(
            c,
            '近' | '面' | '边' | '壁' | '口' | '带' | '上' | '下' | '侧'
        )
    }) {
        let mut changed = false;
        for w in NOISE_SUFFIXES {
            if s.len() > w.len() && s.ends_with(w) {
                corr.push(Correction::new("noise", *w, ""));
                s.truncate(s.len() - w.len());
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // 8. Chinese numerals before element suffixes
    if f.numeral {
        let (t, changed) = chinese_numerals(&s);
        if changed {
            corr.push(Correction::new("numeral", s.clone(), t.clone()));
            s = t;
        }
    }
    (s, corr)
}

/// Removes phone numbers (in place; nothing is copied when there is no run of 7 digits).
fn strip_phone_numbers(s: &mut String, corr: &mut Vec<Correction>) {
    // a run of ≥ 7 digits (with dashes) that is not followed by an element suffix
    let longest_run = s
        .bytes()
        .fold((0usize, 0usize), |(cur, best), b| {
            if b.is_ascii_digit() || b == b'-' {
                (cur + 1, best.max(cur + 1))
            } else {
                (0, best)
            }
        })
        .1;
    if longest_run < 7 {
        return;
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let mut j = i;
            let mut digits = 0;
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '-') {
                if chars[j].is_ascii_digit() {
                    digits += 1;
                }
                j += 1;
            }
            let next = chars.get(j).copied();
            let is_phone = digits >= 11
                || (digits >= 7
                    && chars[i] == '0'
                    && next.is_none_or(|c| !NUMBER_SUFFIXES.contains(&c)));
            if is_phone && i > 0 {
                let run: String = chars[i..j].iter().collect();
                corr.push(Correction::new("noise", run, ""));
                i = j;
                continue;
            }
            for c in &chars[i..j] {
                out.push(*c);
            }
            i = j;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    *s = out;
}

fn digit_of(c: char) -> Option<u32> {
    Some(match c {
        '零' | '〇' | 'О' => 0,
        '一' | '壹' => 1,
        '二' | '两' | '贰' => 2,
        '三' | '叁' => 3,
        '四' | '肆' => 4,
        '五' | '伍' => 5,
        '六' | '陆' => 6,
        '七' | '柒' => 7,
        '八' | '捌' => 8,
        '九' | '玖' => 9,
        _ => return None,
    })
}

/// Value of a Chinese numeral (十二, 一百零五, 二〇八, 三十); None if not a numeral.
pub fn cn_number(s: &[char]) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    // digit-by-digit form: 二〇八
    if s.len() > 1 && s.iter().all(|&c| digit_of(c).is_some()) {
        let mut v = 0u32;
        for &c in s {
            v = v.checked_mul(10)? + digit_of(c)?;
        }
        return Some(v);
    }
    let mut total = 0u32;
    let mut cur = 0u32;
    let mut seen = false;
    for &c in s {
        if let Some(d) = digit_of(c) {
            cur = d;
            seen = true;
        } else {
            let unit = match c {
                '十' | '拾' => 10,
                '百' | '佰' => 100,
                '千' | '仟' => 1000,
                _ => return None,
            };
            let n = if cur == 0 && unit == 10 { 1 } else { cur };
            total += n * unit;
            cur = 0;
            seen = true;
        }
    }
    if !seen {
        return None;
    }
    Some(total + cur)
}

fn is_numeral_char(c: char) -> bool {
    digit_of(c).is_some() || matches!(c, '十' | '百' | '千' | '拾' | '佰' | '仟')
}

/// Replaces Chinese numerals directly before a house-number element (号, 弄, 幢, 室…).
fn chinese_numerals(s: &str) -> (String, bool) {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut changed = false;
    let mut i = 0;
    while i < chars.len() {
        if is_numeral_char(chars[i]) {
            let mut j = i;
            while j < chars.len() && is_numeral_char(chars[j]) {
                j += 1;
            }
            let next = chars.get(j).copied();
            // "一" alone before 楼/层 is often a name (一楼 is fine); convert anyway only for
            // element suffixes, and not inside a name like 十六铺 (no suffix follows)
            if next.is_some_and(|c| NUMBER_SUFFIXES.contains(&c)) {
                if let Some(v) = cn_number(&chars[i..j]) {
                    out.push_str(&v.to_string());
                    changed = true;
                    i = j;
                    continue;
                }
            }
            for c in &chars[i..j] {
                out.push(*c);
            }
            i = j;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    (out, changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn cleans_dirty_text() {
        let (s, c) = normalize("青浦區(qū)盈浦街道");
        assert_eq!(s, "青浦区盈浦街道");
        assert!(c.iter().any(|c| c.kind == "traditional"));
        let (s, _) = normalize("上海市 黄浦区，南京东路１２３号附近 13912345678");
        assert_eq!(s, "上海市黄浦区南京东路123号");
        let (s, _) = normalize("福州路十二号");
        assert_eq!(s, "福州路12号");
        let (s, _) = normalize("九江路一百零五弄三号对面");
        assert_eq!(s, "九江路105弄3号");
        assert_eq!(cn_number(&['二', '〇', '八']), Some(208));
        assert_eq!(cn_number(&['三', '十']), Some(30));
    }
}
