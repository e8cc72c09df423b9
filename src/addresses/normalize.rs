//! Normalisation of dirty address text before parsing: full-width forms, Traditional
//! characters (via the `zhconv` crate), pinyin/annotation brackets, spaces and punctuation,
//! Chinese numerals in house numbers, and noise after the address (附近, 对面, phone numbers).

use serde::Serialize;
use smallvec::SmallVec;
use std::borrow::Cow;

/// One thing the normaliser or the parser changed, reported to the caller. (Fields in
/// alphabetical order: answers are serialised as they are, with the keys sorted as in a
/// `serde_json` map.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Correction {
    pub from: String,
    /// `fullwidth`, `traditional`, `annotation`, `punctuation`, `numeral`, `noise`,
    /// `old_name`, `short_name`, `fuzzy`, `inferred`, `conflict`, `other_township`,
    /// `road_context`
    pub kind: &'static str,
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

// Classes of a BMP character, ASCII included, two bytes per character (a 128 KB table, of
// which addresses touch a few hundred lines): the scan that decides which normalisation steps
// can change a text reads one entry per character. Three relations between a character and
// the next are read with one shift: a bit and the bit above it (`(prev << 1) & cls`).
const C_FULLWIDTH: u16 = 1;
const C_CONTACT: u16 = 2;
const C_BRACKET: u16 = 4;
/// punctuation that step 5 drops or changes
const C_PUNCT: u16 = 8;
const C_NUMERAL: u16 = 16;
/// an element suffix (`C_NUMERAL` shifted left: a numeral right before it)
const C_SUFFIX: u16 = 32;
/// a one-character key of zhconv's zh-CN tables
const C_TRAD: u16 = 64;
/// `:`
const C_COLON: u16 = 0x80;
/// the first character of a longer key
const C_TRAD_FIRST: u16 = 0x100;
/// the second character of a longer key (`C_TRAD_FIRST` shifted left: a pair to look up)
const C_TRAD_SECOND: u16 = 0x200;
/// `C_NUMERAL` again, for the relation below
const C_NUMERAL_TOO: u16 = 0x400;
/// `C_PUNCT` again (`C_NUMERAL_TOO` shifted left: punctuation right after a numeral, which
/// does not end it: an element suffix may come after the punctuation)
const C_PUNCT_TOO: u16 = 0x800;
/// an ASCII digit (or a full-width one)
const C_DIGIT: u16 = 0x1000;
/// a full-width form of ASCII punctuation
const C_PUNCT_HALF: u16 = 0x2000;

/// The character classes, and the keys of zhconv's zh-CN conversion tables reduced to what a
/// text must contain for one of them to match: the character of each one-character key, and
/// the first two characters of each longer key. zhconv changes text only where one of its
/// keys matches, so text without any of these converts to itself: the check is exact, and it
/// spares most addresses the automaton (the zh-CN phrase table has keys starting with 大, 北,
/// 1 …, so first characters alone would not).
struct CharClasses {
    bmp: Box<[u16; 0x10000]>,
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
            bmp: Box::new([0u16; 0x10000]),
            pairs: Default::default(),
            // about 2,000 pairs: 8 KB keeps false positives near 3 %
            pair_bits: super::PairBits::with_log2(16),
            astral: Vec::new(),
        };
        for u in 0u32..0x10000 {
            let Some(c) = char::from_u32(u) else { continue };
            let mut cls = 0;
            if half_width(c).is_some() {
                cls |= C_FULLWIDTH;
            }
            if matches!(c, '电' | '手' | 't' | 'T') {
                cls |= C_CONTACT;
            }
            if is_open_bracket(c) {
                cls |= C_BRACKET;
            }
            if is_dropped_punct(c) || is_other_dash(c) {
                cls |= C_PUNCT | C_PUNCT_TOO;
            }
            if is_numeral_char(c) {
                cls |= C_NUMERAL | C_NUMERAL_TOO;
            }
            if NUMBER_SUFFIXES.contains(&c) {
                cls |= C_SUFFIX;
            }
            if c == ':' {
                cls |= C_COLON;
            }
            if c.is_ascii_digit() {
                cls |= C_DIGIT;
            }
            k.bmp[u as usize] = cls;
        }
        // the keys that change text: one-character keys first, then the longer keys that
        // contain none of them (a text holding any other longer key holds one of its
        // characters, which already sends it to zhconv)
        let keys: Vec<String> = zhconv::get_builtin_tables(zhconv::Variant::ZhCN)
            .iter()
            .flat_map(|t| zhconv::tables::expand_table(*t))
            .filter(|(from, to)| from != to)
            .map(|(from, _)| from.to_string())
            .collect();
        let mut single = std::collections::HashSet::new();
        for key in &keys {
            let mut cs = key.chars();
            match (cs.next(), cs.next()) {
                (Some(a), None) if a as u32 >= 0x10000 => k.astral.push(a),
                (Some(a), None) => {
                    single.insert(a);
                    k.bmp[a as usize] |= C_TRAD;
                }
                _ => {}
            }
        }
        for key in &keys {
            let mut cs = key.chars();
            let (Some(a), Some(b)) = (cs.next(), cs.next()) else {
                continue;
            };
            if a as u32 >= 0x10000 {
                k.astral.push(a);
            } else if !key.chars().any(|c| single.contains(&c)) {
                k.pairs.entry((a, b)).or_default().push(key.clone());
                k.pair_bits.insert(a, b);
                k.bmp[a as usize] |= C_TRAD_FIRST;
                // (a second character beyond the BMP: the scan takes every such character
                // for one)
                if let Some(x) = k.bmp.get_mut(b as usize) {
                    *x |= C_TRAD_SECOND;
                }
            }
        }
        k.astral.sort_unstable();
        k.astral.dedup();
        // a full-width form has the classes of its half-width form too (and a full-width
        // digit is a digit): the scan of a text then answers for the text made half-width,
        // which step 1 need not scan again
        // (its punctuation as a bit of its own: `CharClasses::is_punct` is asked of the
        // characters themselves)
        let half = |cls: u16| match cls & C_PUNCT {
            0 => cls,
            _ => cls & !C_PUNCT | C_PUNCT_HALF,
        };
        for u in 0xFF01u32..=0xFF5E {
            let h = (u - 0xFEE0) as usize;
            k.bmp[u as usize] |= half(k.bmp[h]);
        }
        k.bmp[0x3000] |= half(k.bmp[b' ' as usize]);
        k
    })
}

impl CharClasses {
    /// Punctuation that step 5 drops or changes (its class bit).
    fn is_punct(&self, c: char) -> bool {
        self.bmp.get(c as usize).copied().unwrap_or(0) & C_PUNCT != 0
    }

    /// Does a longer key starting with `p` then `c` match `rest` (the text from `p` on)? (The
    /// pair's bit first: most pairs of a starting and a second character are no key's.)
    #[cold]
    #[inline(never)]
    fn pair_at(&self, p: u32, c: u32, rest: &str) -> bool {
        if !self.pair_bits.may_contain_u32(p, c) {
            return false;
        }
        let (Some(p), Some(c)) = (char::from_u32(p), char::from_u32(c)) else {
            return false;
        };
        self.pairs
            .get(&(p, c))
            .is_some_and(|keys| keys.iter().any(|k| rest.starts_with(k.as_str())))
    }

    #[cold]
    fn astral_key(&self, c: u32) -> bool {
        char::from_u32(c).is_some_and(|c| self.astral.binary_search(&c).is_ok())
    }
}

/// Can zhconv's zh-CN conversion change `text` once its full-width forms are half-width (as
/// `normalize` converts it)? Exact in the negative: false means zhconv would return
/// `to_half_width(text)` unchanged.
pub fn may_be_traditional(text: &str) -> bool {
    scan(text).traditional
}

/// `text` with its full-width forms made half-width (step 1 of `normalize`): runs without
/// them are copied whole.
pub fn to_half_width(text: &str) -> String {
    half_width_counted(text).0
}

/// [`to_half_width`], and the number of full-width digits it made ASCII.
fn half_width_counted(text: &str) -> (String, usize) {
    // every full-width form is three bytes led by EF (U+FF01…U+FF5E) or E3 (U+3000): only
    // those bytes are looked at
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut kept, mut digits) = (0, 0);
    for i in memchr::memchr2_iter(0xEF, 0xE3, b) {
        if let Some(h) =
            super::parse::decode(&b[i..]).and_then(|(c, _)| half_width(char::from_u32(c)?))
        {
            out.push_str(&text[kept..i]);
            out.push(h);
            digits += h.is_ascii_digit() as usize;
            kept = i + 3;
        }
    }
    out.push_str(&text[kept..]);
    (out, digits)
}

/// The first place of `w` in `s` (as `str::find`, without its searcher's set-up: the words
/// looked for are short, and the text holds their first byte rarely).
fn find_word(s: &str, w: &str) -> Option<usize> {
    let (b, w) = (s.as_bytes(), w.as_bytes());
    memchr::memchr_iter(w[0], b).find(|&i| b[i..].starts_with(w))
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

fn is_close_bracket(c: char) -> bool {
    matches!(c, ')' | ']' | '】' | '〕' | '}' | '）')
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

/// The run of punctuation (dashes aside) from byte `i` of `b`: where it ends, and whether it
/// holds a mark that lists numbers.
fn punct_run(k: &CharClasses, b: &[u8], mut i: usize) -> (usize, bool) {
    let mut list = false;
    while let Some((c, len)) = super::parse::decode(&b[i..]) {
        match char::from_u32(c) {
            Some(c) if k.is_punct(c) && !is_other_dash(c) => list |= is_list_mark(c),
            _ => break,
        }
        i += len;
    }
    (i, list)
}

/// Punctuation that lists numbers or gives a range of them: 76、78号, 49,51号, 2601~2605室,
/// 6/7楼 (the full-width forms are half-width by then).
fn is_list_mark(c: char) -> bool {
    matches!(c, '、' | ',' | '，' | '~' | '/' | ';' | '；')
}

/// Dashes of every kind other than '-' (they become '-').
fn is_other_dash(c: char) -> bool {
    matches!(c, '—' | '–' | '－' | '−')
}

/// What one pass over the text found: each step of `normalize` runs only when its flag says it
/// can change something. Every flag over-approximates its step, so the output is the same as
/// running every step (tested against [`normalize_ungated`]).
#[derive(Clone, Copy)]
struct Scan {
    /// full-width forms: the text is mapped to half-width and scanned again
    fullwidth: bool,
    traditional: bool,
    bracket: bool,
    colon: bool,
    contact: bool,
    digits: usize,
    punct: bool,
    /// a Chinese numeral right before an element suffix (punctuation between them aside)
    numeral: bool,
    /// a Chinese numeral anywhere
    any_numeral: bool,
}

impl Scan {
    /// Every step runs.
    const OPEN: Scan = Scan {
        fullwidth: true,
        traditional: true,
        bracket: true,
        colon: true,
        contact: true,
        digits: usize::MAX,
        punct: true,
        numeral: true,
        any_numeral: true,
    };
}

/// One pass over the bytes of `text`: a class per character (decoded by hand, one table read
/// each, ASCII and three-byte characters, all of CJK, in the loop itself), ORed together, and
/// the classes of each two characters in a row related by one shift: a numeral right before an
/// element suffix; a character that may start a longer zhconv key before one that may be its
/// second (2.8 such pairs per cpca row: the pair's bit is read in the loop, and the 0.09 a row
/// whose bit is set are looked up out of line); punctuation after a numeral (the punctuation
/// is then skipped, and the character after it is asked whether it is a suffix, out of line).
fn scan(text: &str) -> Scan {
    let k = classes();
    let bmp: &[u16; 0x10000] = &k.bmp;
    let b = text.as_bytes();
    // the classes ORed; the relations of each two characters in a row ORed (a key found
    // out of line is noted there as `C_TRAD`); the previous character's class; ASCII digits
    let (mut acc, mut rels, mut prev, mut digits) = (0u16, 0u16, 0u16, 0u32);
    // the previous character (for the pair's bit)
    let mut pc = 0u32;
    let mut rest = b;
    loop {
        let c;
        let cls = match *rest {
            [x @ 0xE0..=0xEF, y, z, ref tail @ ..] => {
                rest = tail;
                c = super::parse::decode3(x, y, z);
                bmp[c as usize]
            }
            [x @ 0..=0x7F, ref tail @ ..] => {
                rest = tail;
                digits += (x.wrapping_sub(b'0') < 10) as u32;
                c = x as u32;
                bmp[x as usize]
            }
            [] => break,
            _ => {
                // two or four bytes
                let Some((d, len)) = super::parse::decode(rest) else {
                    break;
                };
                rest = &rest[len..];
                c = d;
                match bmp.get(c as usize) {
                    Some(&cls) => cls,
                    // beyond the BMP: may be a key alone, or the second character of a
                    // longer key
                    None if k.astral_key(c) => C_TRAD | C_TRAD_SECOND,
                    None => C_TRAD_SECOND,
                }
            }
        };
        acc |= cls;
        let rel = (prev << 1) & cls;
        // (a pair whose bit is clear is no key's: looked up here, not out of line, unless a
        // full-width form stands for its half-width one there)
        if rel & (C_TRAD_SECOND | C_PUNCT_TOO) != 0
            && (rel & C_PUNCT_TOO != 0
                || (prev | cls) & C_FULLWIDTH != 0
                || k.pair_bits.may_contain_u32(pc, c))
        {
            rels |= relation(k, text, b.len() - rest.len(), rel);
        }
        rels |= rel;
        prev = cls;
        pc = c;
    }
    Scan {
        fullwidth: acc & C_FULLWIDTH != 0,
        traditional: (acc | rels) & C_TRAD != 0,
        bracket: acc & C_BRACKET != 0,
        colon: acc & C_COLON != 0,
        contact: acc & C_CONTACT != 0,
        digits: digits as usize,
        punct: acc & (C_PUNCT | C_PUNCT_HALF) != 0,
        numeral: rels & C_SUFFIX != 0,
        any_numeral: acc & C_NUMERAL != 0,
    }
}

/// The rare relations of the character ending at byte `end` of `text` with the one before
/// it (`rel`): a pair that may start a longer zhconv key (looked up: `C_TRAD` when one
/// matches), punctuation after a numeral (`C_SUFFIX` when an element suffix comes after the
/// punctuation: 三、号; punctuation does not end a numeral for step 8's gate).
#[cold]
#[inline(never)]
fn relation(k: &CharClasses, text: &str, end: usize, rel: u16) -> u16 {
    let b = text.as_bytes();
    let at = super::parse::prev_char(b, end);
    let mut out = 0;
    if rel & C_TRAD_SECOND != 0 {
        let p_at = super::parse::prev_char(b, at);
        let (p, c) = (decode_at(b, p_at), decode_at(b, at));
        // (a full-width form stands for its half-width one, which the key may hold)
        let half = |c: u32| char::from_u32(c).and_then(half_width).map(u32::from);
        let found = match (half(p), half(c)) {
            (None, None) => k.pair_at(p, c, &text[p_at..]),
            (hp, hc) => k.pair_at(
                hp.unwrap_or(p),
                hc.unwrap_or(c),
                &to_half_width(&text[p_at..]),
            ),
        };
        if found {
            out |= C_TRAD;
        }
    }
    if rel & C_PUNCT_TOO != 0 && suffix_after_punct(&k.bmp, b, at) {
        out |= C_SUFFIX;
    }
    out
}

/// The character at byte `i` of `b` (a character starts there).
fn decode_at(b: &[u8], i: usize) -> u32 {
    super::parse::decode(&b[i..]).map_or(0, |(c, _)| c)
}

/// Punctuation from byte `i` of `b` on, right after a numeral: is the character after it an
/// element suffix?
fn suffix_after_punct(bmp: &[u16; 0x10000], b: &[u8], mut i: usize) -> bool {
    while let Some((c, len)) = super::parse::decode(&b[i..]) {
        let cls = bmp.get(c as usize).copied().unwrap_or(0);
        if cls & (C_PUNCT | C_PUNCT_HALF) == 0 {
            return cls & C_SUFFIX != 0;
        }
        i += len;
    }
    false
}

/// Normalises `text`; returns the cleaned text (borrowed when only a prefix or a suffix was
/// cut, or nothing changed) and what was changed.
pub fn normalize(text: &str) -> (Cow<'_, str>, Vec<Correction>) {
    run_steps(text, scan, true)
}

/// `normalize` with every step run whatever the scan says: the reference the gated version
/// must equal.
pub fn normalize_ungated(text: &str) -> (Cow<'_, str>, Vec<Correction>) {
    run_steps(text, |_| Scan::OPEN, false)
}

/// `gated`: a step may also be skipped on what an earlier step saw (off for the reference).
fn run_steps(
    text: &str,
    look: impl Fn(&str) -> Scan,
    gated: bool,
) -> (Cow<'_, str>, Vec<Correction>) {
    let mut corr = Vec::new();
    let mut f = look(text);
    // 1. full-width → half-width (then the half-width text is what the other steps see)
    let mut s: Cow<str> = Cow::Borrowed(text);
    if f.fullwidth {
        let (h, digits) = half_width_counted(text);
        if h != text {
            corr.push(Correction::new("fullwidth", text, h.clone()));
            s = Cow::Owned(h);
        }
        // (the scan's classes of a full-width form are those of its half-width form too:
        // only the digits made ASCII are new)
        if gated {
            f.digits += digits;
        } else {
            f = look(&s);
        }
    }
    // 2. Traditional → Simplified
    if f.traditional {
        let simp = zhconv::zhconv(&s, zhconv::Variant::ZhCN);
        if simp != s {
            corr.push(Correction::new("traditional", s.as_ref(), simp.clone()));
            s = Cow::Owned(simp);
            f = look(&s);
        }
    }
    // 3. brackets: drop annotations made of latin letters (pinyin such as `(qū)`), and
    //    drop any bracketed remark after the address
    // dropping a bracketed remark or a phone number from the middle can bring a numeral next
    // to a suffix (三（楼）号): then the text is looked at again before step 8
    let mut joined = false;
    if f.bracket {
        if let Some((t, punct_left)) = strip_brackets(&s, &mut corr) {
            s = Cow::Owned(t);
            joined = true;
            // (the steps up to 5 only cut text: when the kept text has no punctuation, step 5
            // has nothing to do; a bracketed remark's closing bracket is punctuation)
            f.punct &= punct_left || !gated;
        }
    }
    // 4a. a label before a colon near the start (总部：, 公司地址：)
    if f.colon {
        if let Some((bi, _)) = s
            .char_indices()
            .take(12)
            .find(|(_, c)| *c == ':' || *c == '：')
        {
            let rest = s[bi..].trim_start_matches([':', '：']);
            if !rest.trim().is_empty() {
                corr.push(Correction::new("noise", &s[..bi], ""));
                let cut = s.len() - rest.len();
                cut_front(&mut s, cut);
            }
        }
    }
    // 4. phone numbers and contact words
    if f.contact {
        for w in ["联系电话", "电话", "手机", "tel", "TEL", "Tel"] {
            if let Some(p) = find_word(&s, w) {
                if p > 0 {
                    corr.push(Correction::new("noise", &s[p..], ""));
                    cut_back(&mut s, p);
                }
            }
        }
    }
    if f.digits >= 7 {
        if let Some(t) = strip_phone_numbers(&s, &mut corr) {
            s = Cow::Owned(t);
            joined = true;
        }
    }
    // 5. spaces and punctuation (keep '-' between digits for 12-3号, '#')
    if f.punct {
        if let Some(t) = strip_punctuation(&s) {
            corr.push(Correction::new("punctuation", s.as_ref(), t.clone()));
            s = Cow::Owned(t);
        }
    }
    // 6. prefixes that are not part of an address (市辖区: the placeholder of the code lists,
    //    left in front by exports of them)
    //    (most text starts with none of their first characters: one look)
    if s.starts_with(['地', '住', '中', '市']) {
        for p in ["地址", "住址", "中国", "中华人民共和国", "市辖区"] {
            if s.starts_with(p) {
                cut_front(&mut s, p.len());
            }
        }
    }
    // 7a. a direction and a distance after the address (交叉口向北200米, 东侧约50米处): where
    //    the place is from the address written, not part of it
    if let Some(at) = distance_note(&s) {
        corr.push(Correction::new("noise", &s[at..], ""));
        cut_back(&mut s, at);
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
                let keep = s.len() - w.len();
                cut_back(&mut s, keep);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // 8. Chinese numerals before element suffixes
    if f.numeral || (joined && f.any_numeral && look(&s).numeral) {
        if let Some(t) = chinese_numerals(&s) {
            corr.push(Correction::new("numeral", s.as_ref(), t.clone()));
            s = Cow::Owned(t);
        }
    }
    (s, corr)
}

/// A division name as [`normalize`] leaves it inside a text, when that differs from the name:
/// zhconv's simplification, punctuation (田林一、二村) and the numerals before element suffixes
/// (the steps that change characters inside a name, rather than cut its ends or drop
/// bracketed remarks). For the parser's dictionary.
pub fn normalize_name(name: &str) -> Option<String> {
    let mut s = Cow::Borrowed(name);
    if scan(name).traditional {
        let t = zhconv::zhconv(name, zhconv::Variant::ZhCN);
        if t != name {
            s = Cow::Owned(t);
        }
    }
    if let Some(t) = strip_punctuation(&s) {
        s = Cow::Owned(t);
    }
    if let Some(t) = chinese_numerals(&s) {
        s = Cow::Owned(t);
    }
    match s {
        Cow::Owned(t) => Some(t),
        Cow::Borrowed(_) => None,
    }
}

/// A division name written in Traditional characters as Taiwan writes them and normalised
/// back, when that differs from the name: zhconv's zh-CN table does not undo every zh-TW
/// choice (溪 → 谿 stays 谿, so 蘭谿市 would never meet 兰溪市). For the parser's dictionary.
pub fn traditional_round_trip(name: &str) -> Option<String> {
    let t = zhconv::zhconv(name, zhconv::Variant::ZhTW);
    if t == name {
        return None;
    }
    let back = normalize_name(&t).unwrap_or(t);
    (back != name).then_some(back)
}

/// Where a note of direction and distance ends `s` (向北200米, 往东约1.5公里处, 东侧50米,
/// 路北50米 after a crossing word: 交汇处路北50米): its byte offset, when something is left
/// before it. One or two of 东南西北 must come before the number, so a number of metres
/// alone (占地500米) is kept.
fn distance_note(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    // (most text ends otherwise: one byte compared before anything else, the last byte of
    // 米 or 右 (B3), 处 (84), 里 of 公里 (8C), m or M)
    if !matches!(b.last()?, 0xB3 | 0x84 | 0x8C | b'm' | b'M') {
        return None;
    }
    let mut t = s
        .strip_suffix('处')
        .or_else(|| s.strip_suffix("左右"))
        .unwrap_or(s);
    t = ["米", "公里", "m", "M", "km", "KM"]
        .into_iter()
        .find_map(|u| t.strip_suffix(u))?;
    let num = t.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    if num.len() == t.len() || !t[num.len()..].starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    t = num.strip_suffix('约').unwrap_or(num);
    t = ["方向", "侧", "面", "边"]
        .into_iter()
        .find_map(|w| t.strip_suffix(w))
        .unwrap_or(t);
    let sides = t.trim_end_matches(['东', '南', '西', '北']);
    let n = (t.len() - sides.len()) / 3;
    if !(1..=2).contains(&n) {
        return None;
    }
    t = sides;
    t = t
        .strip_suffix(['向', '往', '朝', '以'])
        .or_else(|| {
            // (路北 after a crossing word: the side of the road, not a road's name)
            t.strip_suffix('路').filter(|r| r.ends_with(['口', '处']))
        })
        .unwrap_or(t);
    (!t.is_empty()).then_some(t.len())
}

/// Drops the first `n` bytes (borrowed text stays borrowed).
fn cut_front(s: &mut Cow<str>, n: usize) {
    match s {
        Cow::Borrowed(b) => *b = &b[n..],
        Cow::Owned(o) => {
            o.drain(..n);
        }
    }
}

/// Keeps the first `n` bytes.
fn cut_back(s: &mut Cow<str>, n: usize) {
    match s {
        Cow::Borrowed(b) => *b = &b[..n],
        Cow::Owned(o) => o.truncate(n),
    }
}

/// The first character of `s` other than a CJK ideograph for which `f` holds, and where it
/// starts: `s.char_indices().find(..)` for a mark (a bracket, punctuation), skipping the
/// ideographs by their first byte (E4…E9: U+4000…U+9FFF, no mark among them) without
/// decoding them or asking `f`.
fn find_marks(s: &str, mut f: impl FnMut(char) -> bool) -> Option<(usize, char)> {
    let b = s.as_bytes();
    let mut i = 0;
    loop {
        i = skip_ideographs(b, i);
        let (c, len) = super::parse::decode(&b[i..])?;
        let c = char::from_u32(c)?;
        if f(c) {
            return Some((i, c));
        }
        i += len;
    }
}

/// From byte `i` of `b` (a character starts there), past the CJK ideographs led by E4…E9
/// (U+4000…U+9FFF, where no punctuation, bracket or full-width form lies).
#[inline]
fn skip_ideographs(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(0xE4..=0xE9)) {
        i += 3;
    }
    i.min(b.len())
}

/// Drops bracketed remarks (an opening bracket up to the next closing one of any kind); an
/// opening bracket that nothing closes is dropped alone. None when there is no bracket; else
/// the text and whether what is kept has punctuation.
fn strip_brackets(s: &str, corr: &mut Vec<Correction>) -> Option<(String, bool)> {
    // the kept text is what the searches for an opening bracket go over: whether it has
    // punctuation is noted on the way
    let k = classes();
    let mut punct = false;
    let mut open_at = |c: char| {
        is_open_bracket(c) || {
            punct |= k.is_punct(c);
            false
        }
    };
    let (i, open) = find_marks(s, &mut open_at)?;
    let mut out = String::with_capacity(s.len());
    let (mut i, mut open, mut rest) = (i, open, s);
    loop {
        out.push_str(&rest[..i]);
        let after = &rest[i + open.len_utf8()..];
        rest = match find_marks(after, is_close_bracket) {
            Some((j, close)) => {
                // (the remark as written, brackets included: a slice of the text)
                let whole = &rest[i..i + open.len_utf8() + j + close.len_utf8()];
                corr.push(Correction::new("annotation", whole, ""));
                &after[j + close.len_utf8()..]
            }
            None => after,
        };
        match find_marks(rest, &mut open_at) {
            Some((j, o)) => (i, open) = (j, o),
            None => break,
        }
    }
    out.push_str(rest);
    Some((out, punct))
}

/// Drops spaces and punctuation and makes every dash '-'; None when nothing changes. Runs
/// without punctuation are copied whole.
fn strip_punctuation(s: &str) -> Option<String> {
    let k = classes();
    let b = s.as_bytes();
    let mut out = String::new();
    let (mut i, mut kept) = (0, 0);
    // (characters decoded by hand, one table read each)
    let digit = |j: usize| b.get(j).is_some_and(u8::is_ascii_digit);
    loop {
        i = skip_ideographs(b, i);
        let Some((c, len)) = super::parse::decode(&b[i..]) else {
            break;
        };
        let c = char::from_u32(c).unwrap_or_default();
        if k.is_punct(c) {
            if out.capacity() == 0 {
                out.reserve(s.len());
            }
            out.push_str(&s[kept..i]);
            kept = i + len;
            if is_other_dash(c) {
                out.push('-');
            } else if let Some(&last) = out.as_bytes().last().filter(|x| x.is_ascii_alphanumeric())
            {
                // between two numbers the marks are never just dropped, which would join
                // them into another number (76、78号 is not 7678号): a list or a range keeps
                // its first number (76、78号 → 76号, 2601~2605室 → 2601室, 16/17楼 →
                // 16楼); other marks stay as written (2.5产业园, T1 723室). Between names
                // made of letters, a list keeps its first (3C、3D → 3C, A、B区 → A区)
                let (run_end, list) = punct_run(k, b, i);
                // (letters: short names on both sides, 3C、3D or D、E栋, not SOHO，A栋; of one
                // shape, both starting with a digit or both with a letter: 4F/B座 is a floor
                // and a building)
                let alnum_run = |t: &mut dyn Iterator<Item = u8>| {
                    t.take_while(u8::is_ascii_alphanumeric).count()
                };
                let before = alnum_run(&mut out.bytes().rev());
                let first_digit = out.as_bytes()[out.len() - before].is_ascii_digit();
                let next = |j: usize| {
                    if last.is_ascii_digit() {
                        digit(j)
                    } else {
                        before <= 3
                            && b.get(j).is_some_and(|x| {
                                x.is_ascii_alphanumeric() && x.is_ascii_digit() == first_digit
                            })
                            && alnum_run(&mut b[j..].iter().copied()) <= 3
                    }
                };
                if next(run_end) && (list || last.is_ascii_digit()) {
                    if list {
                        // (each name listed after the first with its letters, digits and
                        // dashes: 3A10、3A12室, 8-10，8-11)
                        let mut j = run_end;
                        loop {
                            while b
                                .get(j)
                                .is_some_and(|x| x.is_ascii_alphanumeric() || *x == b'-')
                            {
                                j += 1;
                            }
                            let (r, more) = punct_run(k, b, j);
                            if !(more && r > j && next(r)) {
                                break;
                            }
                            j = r;
                        }
                        kept = j;
                        i = j;
                    } else {
                        kept = i;
                        i = run_end;
                    }
                    continue;
                }
            }
        }
        i += len;
    }
    if kept == 0 {
        return None;
    }
    out.push_str(&s[kept..]);
    // (marks kept between numbers may be all there was)
    (out != s).then_some(out)
}

/// Removes phone numbers: a run of digits (with dashes) that is not at the start and has ≥ 11
/// digits, or ≥ 7 starting with 0 and not followed by an element suffix. None when there is
/// none.
fn strip_phone_numbers(s: &str, corr: &mut Vec<Correction>) -> Option<String> {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut kept = 0;
    let mut i = 0;
    loop {
        i = super::parse::next_digit(b, i, b.len());
        if i >= b.len() {
            break;
        }
        let mut j = i;
        let mut digits = 0;
        while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'-') {
            digits += b[j].is_ascii_digit() as usize;
            j += 1;
        }
        let is_phone = digits >= 11
            || (digits >= 7
                && b[i] == b'0'
                && s[j..]
                    .chars()
                    .next()
                    .is_none_or(|c| !NUMBER_SUFFIXES.contains(&c)));
        if is_phone && i > 0 {
            out.push_str(&s[kept..i]);
            corr.push(Correction::new("noise", &s[i..j], ""));
            kept = j;
        }
        i = j;
    }
    (kept > 0).then(|| {
        out.push_str(&s[kept..]);
        out
    })
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
            // a unit without a digit before it counts once: 十二 is 12, and 百号 (百 first) is
            // 100, not 0
            let n = if cur == 0 && (unit == 10 || total == 0) {
                1
            } else {
                cur
            };
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

/// `v` in decimal digits at the end of `out` (without the formatter).
fn push_decimal(out: &mut String, mut v: u32) {
    let mut buf = [0u8; 10];
    let mut n = buf.len();
    loop {
        n -= 1;
        buf[n] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend(buf[n..].iter().map(|&d| d as char));
}

fn is_numeral_char(c: char) -> bool {
    digit_of(c).is_some() || matches!(c, '十' | '百' | '千' | '拾' | '佰' | '仟')
}

/// Replaces Chinese numerals directly before a house-number element (号, 弄, 幢, 室…); None
/// when nothing changes.
fn chinese_numerals(s: &str) -> Option<String> {
    let k = classes();
    let numeral = |c: char| k.bmp.get(c as usize).is_some_and(|&x| x & C_NUMERAL != 0);
    let mut out = String::new();
    let mut kept = 0;
    // where the current run of numerals starts
    let mut run = None;
    for (i, c) in s.char_indices() {
        if numeral(c) {
            run = run.or(Some(i));
            continue;
        }
        let Some(r) = run.take() else { continue };
        // "一" alone before 楼/层 is often a name (一楼 is fine); convert anyway only for
        // element suffixes, and not inside a name like 十六铺 (no suffix follows)
        if !NUMBER_SUFFIXES.contains(&c) {
            continue;
        }
        let digits: SmallVec<[char; 16]> = s[r..i].chars().collect();
        if let Some(v) = cn_number(&digits) {
            if out.capacity() == 0 {
                out.reserve(s.len());
            }
            out.push_str(&s[kept..r]);
            push_decimal(&mut out, v);
            kept = i;
        }
    }
    (kept > 0).then(|| {
        out.push_str(&s[kept..]);
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_level_steps_agree_with_the_character_rules() {
        // every full-width form, between characters of every length, is made half-width;
        // punctuation is dropped (dashes become '-') character by character
        let mut text = String::new();
        let mut half = String::new();
        let mut stripped = String::new();
        for (i, c) in (0xFF00u32..=0xFF60)
            .chain([0x3000, 0x3001])
            .filter_map(char::from_u32)
            .enumerate()
        {
            let filler = ["a", "é", "路", "𠀀"][i % 4];
            text.push(c);
            text.push_str(filler);
            half.push(half_width(c).unwrap_or(c));
            half.push_str(filler);
            if is_other_dash(c) {
                stripped.push('-');
            } else if !(is_dropped_punct(c) || is_other_dash(c)) {
                stripped.push(c);
            }
            stripped.push_str(filler);
        }
        assert_eq!(to_half_width(&text), half);
        assert_eq!(strip_punctuation(&text).as_deref(), Some(stripped.as_str()));
        assert_eq!(strip_punctuation("南京路100号"), None);
        assert_eq!(
            find_word("上海电话联系电话021", "联系电话"),
            Some("上海电话".len())
        );
        assert_eq!(find_word("上海电台", "电话"), None);
        // the searches for marks skip the characters led by E4…E9 unread: none is a mark
        for c in (0x4000u32..0xA000).filter_map(char::from_u32) {
            assert!(
                !(is_dropped_punct(c)
                    || is_other_dash(c)
                    || is_open_bracket(c)
                    || is_close_bracket(c)
                    || half_width(c).is_some()
                    || classes().is_punct(c)),
                "{c}"
            );
        }
        assert_eq!(
            find_marks("黄浦区（备注）", is_open_bracket),
            Some((9, '（'))
        );
        assert_eq!(find_marks("黄浦区", is_open_bracket), None);
        for v in [0, 7, 10, 305, u32::MAX] {
            let mut s = String::from("x");
            push_decimal(&mut s, v);
            assert_eq!(s, format!("x{v}"));
        }
    }

    #[test]
    fn cleans_dirty_text() {
        let (s, c) = normalize("青浦區(qū)盈浦街道");
        assert_eq!(s, "青浦区盈浦街道");
        assert!(c.iter().any(|c| c.kind == "traditional"));
        // the annotation is reported whole, with both brackets
        assert!(c.iter().any(|c| c.kind == "annotation" && c.from == "(qū)"));
        let (s, _) = normalize("上海市 黄浦区，南京东路１２３号附近 13912345678");
        assert_eq!(s, "上海市黄浦区南京东路123号");
        let (s, _) = normalize("福州路十二号");
        assert_eq!(s, "福州路12号");
        let (s, _) = normalize("九江路一百零五弄三号对面");
        assert_eq!(s, "九江路105弄3号");
        let (s, _) = normalize("地址：黄浦区(备注)福州路十二号（三楼） 021-63211234");
        assert_eq!(s, "黄浦区福州路12号");
        assert_eq!(cn_number(&['二', '〇', '八']), Some(208));
        assert_eq!(cn_number(&['三', '十']), Some(30));
        // a leading unit alone counts once (百号 was house 0)
        assert_eq!(cn_number(&['百']), Some(100));
        assert_eq!(cn_number(&['百', '零', '五']), Some(105));
        assert_eq!(cn_number(&['千', '二', '百']), Some(1200));
        assert_eq!(cn_number(&['一', '千', '零', '十']), Some(1010));
        let (s, _) = normalize("福州路百号");
        assert_eq!(s, "福州路100号");
    }

    #[test]
    fn direction_and_distance_after_the_address_are_noise() {
        for (text, want, note) in [
            (
                "深南大道与彩田路交叉口向北200米",
                "深南大道与彩田路交叉口",
                "向北200米",
            ),
            (
                "芦求路与清源西路交汇处路北50米",
                "芦求路与清源西路交汇处",
                "路北50米",
            ),
            ("中山路北50米", "中山路", "北50米"),
            ("人民广场东侧约1.5公里处", "人民广场", "东侧约1.5公里处"),
            ("火车站往西南100m左右", "火车站", "往西南100m左右"),
            ("福州路12号东南方向300米", "福州路12号", "东南方向300米"),
            (
                "三江路与越东路交叉口以东100米",
                "三江路与越东路交叉口",
                "以东100米",
            ),
        ] {
            let (s, c) = normalize(text);
            assert_eq!(s, want, "{text}");
            assert!(
                c.iter().any(|c| c.kind == "noise" && c.from == note),
                "{text}: {c:?}"
            );
            assert_eq!(normalize_ungated(text).0, want, "{text}");
        }
        // a distance without a direction, a direction without a distance, or nothing before
        // it: kept
        for text in [
            "占地500米",
            "向北200米",
            "跑道长3000米",
            "福州路12号东南",
            "北京路100",
        ] {
            assert_eq!(normalize(text).0, text, "{text}");
        }
    }

    /// Punctuation between two numbers is never just dropped (it joined them: 76、78号 read as
    /// 7678号, 6/7楼 as floor 67, in 136 of the real cpca rows): a list or a range keeps its
    /// first number, other marks stay.
    #[test]
    fn punctuation_between_numbers_never_joins_them() {
        for (text, want) in [
            ("江场三路76、78号103室", "江场三路76号103室"),
            ("东方路873弄49,51号", "东方路873弄49号"),
            ("富力盈通大厦2601~2605室", "富力盈通大厦2601室"),
            ("莫愁路329号204～206室", "莫愁路329号204室"),
            ("软件园B栋6/7楼", "软件园B栋6楼"),
            ("天河大厦2、3、6、10、14楼", "天河大厦2楼"),
            ("福州路12 , 14号", "福州路12号"),
            ("北四环西路9号楼3A10、3A12、3A14室", "北四环西路9号楼3A10室"),
            ("富力广场8楼8-10，8-11", "富力广场8楼8-10"),
            // names made of letters listed
            ("国际文化大厦3楼3C、3D", "国际文化大厦3楼3C"),
            ("珠江广场A、B区1、2层", "珠江广场A区1层"),
            ("Alpha alpine", "Alphaalpine"),
            ("银河SOHO,D座50507室", "银河SOHOD座50507室"),
            ("高新四路17号4F/B座", "高新四路17号4FB座"),
            // other marks and spaces between numbers stay
            ("苏州工业园区2.5产业园", "苏州工业园区2.5产业园"),
            ("科苑路88号T1 723室", "科苑路88号T1 723室"),
            // marks elsewhere go as before; dashes become '-'
            (
                "上海市, 黄浦区福州路100号 3楼",
                "上海市黄浦区福州路100号3楼",
            ),
            ("长青路490—492号", "长青路490-492号"),
        ] {
            assert_eq!(normalize(text).0, want, "{text}");
        }
        // marks kept between numbers and nothing else: nothing changed, no correction
        let (s, c) = normalize("2.5产业园");
        assert!(matches!(s, Cow::Borrowed(_)) && c.is_empty(), "{s} {c:?}");
    }

    /// The scan only skips steps that would change nothing: the gated normaliser equals the
    /// one that runs every step, on real rows and on damaged variants of them.
    #[test]
    fn gates_skip_only_steps_that_change_nothing() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/data/addresses/cpca_addr.csv"
        );
        let text = std::fs::read_to_string(path).expect("shared data beside the repository");
        let rows: Vec<&str> = text
            .lines()
            .skip(1)
            .filter_map(|l| l.rsplit_once(',').map(|x| x.0))
            .filter(|r| !r.trim().is_empty())
            .collect();
        assert!(rows.len() > 16_000);
        let damage: [fn(&str) -> String; 8] = [
            |r| {
                r.chars()
                    .map(|c| match c as u32 {
                        0x21..=0x7E => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
                        _ => c,
                    })
                    .collect()
            },
            |r| r.replace('区', "區(qū)").replace('门', "門"),
            |r| r.replace('号', "号 附近 ").replace('路', "路，"),
            |r| format!("公司地址：{r} 电话:0571-88881234"),
            |r| format!("{r}（三楼）十二号对面"),
            |r| r.replace('1', "一").replace('2', "二").replace('0', "〇"),
            |r| format!("中国{r}13912345678斜对面"),
            |r| r.replace('-', "—").replace('(', "【").replace(')', "】"),
        ];
        let mut n = 0;
        for (i, r) in rows.iter().enumerate() {
            let v = damage[i % damage.len()](r);
            for t in [r.to_string(), v] {
                assert_eq!(normalize(&t), normalize_ungated(&t), "{t}");
                n += 1;
            }
        }
        assert!(n > 32_000);
    }
}
