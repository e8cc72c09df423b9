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

fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c)
}

/// Normalises `text`; returns the cleaned text and what was changed.
pub fn normalize(text: &str) -> (String, Vec<Correction>) {
    let mut corr = Vec::new();
    // 1. full-width → half-width
    let mut s = String::with_capacity(text.len());
    let mut fw = false;
    for c in text.chars() {
        let u = c as u32;
        if (0xFF01..=0xFF5E).contains(&u) {
            s.push(char::from_u32(u - 0xFEE0).unwrap_or(c));
            fw = true;
        } else if u == 0x3000 {
            s.push(' ');
            fw = true;
        } else {
            s.push(c);
        }
    }
    if fw {
        corr.push(Correction::new("fullwidth", text, s.clone()));
    }
    // 2. Traditional → Simplified (only when the text holds CJK outside ASCII)
    if s.chars().any(is_cjk) {
        let simp = zhconv::zhconv(&s, zhconv::Variant::ZhCN);
        if simp != s {
            corr.push(Correction::new("traditional", s.clone(), simp.clone()));
            s = simp;
        }
    }
    // 3. brackets: drop annotations made of latin letters (pinyin such as `(qū)`), and
    //    drop any bracketed remark after the address
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if matches!(c, '(' | '[' | '【' | '〔' | '{' | '（') {
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
    // 4a. a label before a colon near the start (总部：, 公司地址：)
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
    // 4. phone numbers and contact words
    let maybe_contact = s.contains(['电', '手', 't', 'T']);
    for w in ["联系电话", "电话", "手机", "tel", "TEL", "Tel"] {
        if !maybe_contact {
            break;
        }
        if let Some(p) = s.find(w) {
            if p > 0 {
                corr.push(Correction::new("noise", &s[p..], ""));
                s.truncate(p);
            }
        }
    }
    s = strip_phone_numbers(&s, &mut corr);
    // 5. spaces and punctuation (keep '-' between digits for 12-3号, '#')
    let before = s.clone();
    let mut t = String::with_capacity(s.len());
    for c in before.chars() {
        if c.is_whitespace()
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
        {
            continue;
        }
        // dashes of every kind become '-'
        if matches!(c, '—' | '–' | '－' | '−' | '~') {
            t.push('-');
            continue;
        }
        t.push(c);
    }
    if t != before {
        corr.push(Correction::new("punctuation", before, t.clone()));
    }
    s = t;
    // 6. prefixes that are not part of an address
    for p in ["地址", "住址", "中国", "中华人民共和国"] {
        if let Some(rest) = s.strip_prefix(p) {
            s = rest.to_string();
        }
    }
    // 7. noise after the address (repeatedly: 附近对面)
    loop {
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
    let (t, changed) = chinese_numerals(&s);
    if changed {
        corr.push(Correction::new("numeral", s.clone(), t.clone()));
        s = t;
    }
    (s, corr)
}

fn strip_phone_numbers(s: &str, corr: &mut Vec<Correction>) -> String {
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
        return s.to_string();
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
    out
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
