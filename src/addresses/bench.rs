//! `diming bench geocode`: geocodes/second in-process and over HTTP on a synthetic city of
//! N addresses (default 5,000,000), memory per million addresses, damaged-query top-1 rate,
//! and parse speed and county accuracy against the Python package `cpca` on the real rows of
//! `cpca_addr.csv`, in the same run.

use super::generate::generate_city;
use super::parse::{DivisionParser, ParseScratch};
use super::AddressBook;
use crate::divisions::{Divisions, Level};
use anyhow::{Context, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

pub struct GeocodeBench {
    pub data: PathBuf,
    pub shared: PathBuf,
    pub count: usize,
    pub queries: usize,
    pub http_queries: usize,
    pub seed: u64,
    pub python: String,
    /// passes over the cpca rows for the parse timing; the best pass counts
    pub parse_passes: usize,
}

/// The kinds of damage applied to held-out queries (issue item 4).
pub const DAMAGE: &[&str] = &[
    "none",
    "traditional",
    "fullwidth",
    "spaces",
    "no_province_city",
    "short_county",
    "noise",
    "phone",
    "chinese_numeral",
    "fuzzy_road",
];

fn to_cn(n: u32) -> String {
    const D: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    if n < 10 {
        return D[n as usize].into();
    }
    if n < 20 {
        return format!(
            "十{}",
            if n.is_multiple_of(10) {
                ""
            } else {
                D[(n % 10) as usize]
            }
        );
    }
    if n < 100 {
        return format!(
            "{}十{}",
            D[(n / 10) as usize],
            if n.is_multiple_of(10) {
                ""
            } else {
                D[(n % 10) as usize]
            }
        );
    }
    n.to_string()
        .chars()
        .map(|c| D[c.to_digit(10).unwrap_or(0) as usize])
        .collect()
}

/// A damaged query for record `ri` of `book` (deterministic for a given RNG state), or None
/// when the damage does not apply to this address.
pub fn damaged_query(
    book: &AddressBook,
    ri: u32,
    kind: &str,
    rng: &mut ChaCha8Rng,
) -> Option<String> {
    let a = book.address(ri);
    let node = book.node_of(ri);
    let chain = book.parser.chain(node);
    let name = |lvl: Level| {
        chain
            .iter()
            .map(|&i| &book.parser.nodes[i as usize])
            .find(|n| n.level == lvl)
            .map(|n| n.name.clone())
            .unwrap_or_default()
    };
    let (prov, county, town) = (
        name(Level::Province),
        name(Level::County),
        name(Level::Township),
    );
    let road = a.road.clone()?;
    let tail = format!(
        "{}{}{}",
        a.number.clone().unwrap_or_default(),
        a.compound.clone().unwrap_or_default(),
        a.building.clone().unwrap_or_default()
    );
    let full = format!("{prov}{county}{town}{road}{tail}");
    Some(match kind {
        "none" => full,
        "traditional" => zhconv::zhconv(&full, zhconv::Variant::ZhTW),
        "fullwidth" => full
            .chars()
            .map(|c| {
                if c.is_ascii_digit() {
                    char::from_u32(c as u32 + 0xFEE0).unwrap_or(c)
                } else {
                    c
                }
            })
            .collect(),
        "spaces" => format!("{prov} {county}，{road} {tail}"),
        "no_province_city" => format!("{county}{road}{tail}"),
        "short_county" => format!("{}{road}{tail}", county.trim_end_matches('区')),
        "noise" => format!("{full}{}", ["附近", "对面", "旁边"][rng.gen_range(0..3)]),
        "phone" => format!("{full} 电话1{}", rng.gen_range(3000000000u64..9999999999)),
        "chinese_numeral" => {
            let (l, n, s) = super::parse_number(a.number.as_deref()?)?;
            if s != 0 {
                return None;
            }
            let num = if l != 0 && n != 0 {
                format!("{}弄{}号", to_cn(l), to_cn(n))
            } else if l != 0 {
                format!("{}弄", to_cn(l))
            } else {
                format!("{}号", to_cn(n))
            };
            format!(
                "{prov}{county}{road}{num}{}{}",
                a.compound.clone().unwrap_or_default(),
                a.building.clone().unwrap_or_default()
            )
        }
        "fuzzy_road" => {
            // one character of the road name (not its suffix) replaced by a similar one
            let mut rc: Vec<char> = road.chars().collect();
            if rc.len() < 4 {
                return None;
            }
            let i = rng.gen_range(0..rc.len() - 1);
            rc[i] = if rc[i] == '东' { '冬' } else { '东' };
            let bad: String = rc.iter().collect();
            // only unambiguous typos: exactly one road name within one edit
            let near = book.roads_within_one_edit(&bad);
            if near != [road.as_str()] {
                return None;
            }
            format!("{prov}{county}{bad}{tail}")
        }
        _ => return None,
    })
}

/// Ground truth of the county named in a text, by a rule independent of the parser: the
/// county-level full names (≥ 3 characters) occurring anywhere in the text, narrowed to those
/// under a province or city whose full name also occurs; determinable when exactly one remains.
///
/// A county is named as it was when the address was written: a street, town or township
/// (街道, 镇, 乡) named right after it, of the same city but now of another county
/// (余杭区南苑街道: 南苑街道 went to the new 临平区 in 2021), moves the truth to that county,
/// the one the address lies in.
pub struct CountyTruth {
    county: HashMap<String, Vec<u32>>,
    upper: HashMap<String, Vec<u32>>,
    town: HashMap<String, Vec<u32>>,
    max: usize,
}

impl CountyTruth {
    pub fn new(p: &DivisionParser) -> CountyTruth {
        let mut county: HashMap<String, Vec<u32>> = HashMap::new();
        let mut upper: HashMap<String, Vec<u32>> = HashMap::new();
        let mut town: HashMap<String, Vec<u32>> = HashMap::new();
        let mut max = 0;
        for (i, n) in p.nodes.iter().enumerate() {
            if n.code.is_none() || crate::divisions::tree::is_placeholder_name(&n.name) {
                continue;
            }
            let len = n.name.chars().count();
            match n.level {
                Level::County if len >= 3 => {
                    county.entry(n.name.clone()).or_default().push(i as u32)
                }
                Level::Province | Level::City => {
                    upper.entry(n.name.clone()).or_default().push(i as u32)
                }
                Level::Township
                    if len >= 3
                        && super::parse::TOWNSHIP_SUFFIXES
                            .iter()
                            .any(|s| n.name.ends_with(s)) =>
                {
                    town.entry(n.name.clone()).or_default().push(i as u32)
                }
                _ => continue,
            }
            max = max.max(len);
        }
        CountyTruth {
            county,
            upper,
            town,
            max,
        }
    }

    /// The 6-digit county code named in `text`, when determinable.
    pub fn truth(&self, p: &DivisionParser, text: &str) -> Option<String> {
        let (t, _) = super::normalize::normalize(text);
        let chars: Vec<char> = t.chars().collect();
        let mut found = Vec::new();
        let mut ups = Vec::new();
        // (where each county name ends, where each township name starts)
        let (mut ends, mut towns) = (Vec::new(), Vec::new());
        for i in 0..chars.len() {
            for l in 2..=self.max.min(chars.len() - i) {
                let s: String = chars[i..i + l].iter().collect();
                if let Some(v) = self.county.get(&s) {
                    found.extend(v.iter().copied());
                    ends.extend(v.iter().map(|&c| (c, i + l)));
                }
                if let Some(v) = self.upper.get(&s) {
                    ups.extend(v.iter().copied());
                }
                if let Some(v) = self.town.get(&s) {
                    towns.extend(v.iter().map(|&t| (t, i)));
                }
            }
        }
        found.sort_unstable();
        found.dedup();
        if !ups.is_empty() {
            let narrowed: Vec<u32> = found
                .iter()
                .copied()
                .filter(|&c| ups.iter().any(|&u| p.is_within(c, u)))
                .collect();
            if !narrowed.is_empty() {
                found = narrowed;
            }
        }
        let [c] = found[..] else {
            return None;
        };
        // the townships of the county's city named right after it, by their county
        let parent = |x: u32| p.nodes[x as usize].parent;
        let mut moved: Vec<u32> = towns
            .iter()
            .filter(|&&(_, at)| ends.contains(&(c, at)))
            .filter_map(|&(t, _)| parent(t))
            .filter(|&k| parent(k) == parent(c))
            .collect();
        moved.sort_unstable();
        moved.dedup();
        let c = match moved[..] {
            [k] => k,
            _ => c,
        };
        p.nodes[c as usize].code.clone()
    }
}

/// Reads the non-empty addresses of `cpca_addr.csv`.
pub fn cpca_rows(shared: &std::path::Path) -> Result<Vec<String>> {
    let mut rdr = csv::Reader::from_path(shared.join("addresses/cpca_addr.csv"))?;
    let mut v = Vec::new();
    for r in rdr.records() {
        let r = r?;
        let s = r.get(0).unwrap_or("").trim().replace(['\n', '\r'], " ");
        if !s.is_empty() {
            v.push(s);
        }
    }
    Ok(v)
}

fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|x| x.parse::<usize>().ok())
        })
        .map(|p| p * 4096)
        .unwrap_or(0)
}

/// Reads an answer's status line (a 200, else an error) and its headers, each given to `f`
/// lowercased.
fn read_head(rd: &mut impl BufRead, mut f: impl FnMut(&str) -> Result<()>) -> Result<()> {
    let mut line = String::new();
    rd.read_line(&mut line)?;
    anyhow::ensure!(line.contains(" 200 "), "HTTP status: {line}");
    loop {
        line.clear();
        anyhow::ensure!(
            rd.read_line(&mut line)? > 0,
            "connection closed in the headers"
        );
        if line == "\r\n" {
            return Ok(());
        }
        f(&line.to_ascii_lowercase())?;
    }
}

fn http_get(
    stream: &mut std::net::TcpStream,
    rd: &mut BufReader<std::net::TcpStream>,
    path: &str,
) -> Result<usize> {
    write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n")?;
    let mut len = 0usize;
    read_head(rd, |h| {
        if let Some(v) = h.strip_prefix("content-length:") {
            len = v.trim().parse()?;
        }
        Ok(())
    })?;
    let mut body = vec![0u8; len];
    rd.read_exact(&mut body)?;
    Ok(len)
}

/// POSTs a JSON body to `path` on a new connection and reads the whole answer (chunked, as the
/// batch endpoint streams it); returns the number of NDJSON lines.
fn http_post_lines(port: u16, path: &str, body: &[u8]) -> Result<usize> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    s.write_all(body)?;
    let mut rd = BufReader::new(s);
    let mut chunked = false;
    read_head(&mut rd, |h| {
        chunked |= h.starts_with("transfer-encoding: chunked");
        Ok(())
    })?;
    anyhow::ensure!(chunked, "expected a chunked answer");
    let (mut line, mut lines, mut buf) = (String::new(), 0, Vec::new());
    loop {
        line.clear();
        rd.read_line(&mut line)?;
        let n = usize::from_str_radix(line.trim(), 16).context("chunk size")?;
        buf.resize(n + 2, 0);
        rd.read_exact(&mut buf)?;
        if n == 0 {
            return Ok(lines);
        }
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count();
    }
}

fn pct_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub fn run(b: &GeocodeBench) -> Result<()> {
    let src = crate::store::load_embedded(&b.data)?;
    let d = Divisions::build(src)?;
    let osm = b.shared.join("osm/shanghai_huangpu_drive.osm");
    let rss0 = rss_bytes();
    let t0 = Instant::now();
    let city = generate_city(&d, &osm, b.seed, b.count)?;
    let t_gen = t0.elapsed().as_secs_f64();
    let n = city.addresses.len();
    // the road lines first (the generated rows dropped), their memory apart from the addresses'
    let t0 = Instant::now();
    let lines = super::roads::RoadLines::build(city.roads);
    let t_lines = t0.elapsed().as_secs_f64();
    let lines_bytes = lines.memory_bytes();
    let t0 = Instant::now();
    let (mut book, errs) = AddressBook::build(&d, city.addresses, "synthetic city");
    let t_build = t0.elapsed().as_secs_f64();
    let per_m_index = book.memory_bytes() as f64 / (n as f64 / 1e6) / 1e6;
    let rss1 = rss_bytes().saturating_sub(lines_bytes);
    book.set_lines(lines);
    anyhow::ensure!(
        errs.is_empty(),
        "generated rows rejected: {:?}",
        &errs[..errs.len().min(3)]
    );
    let per_m_rss = (rss1.saturating_sub(rss0)) as f64 / (n as f64 / 1e6) / 1e6;

    // queries: damaged, from random current addresses
    let mut rng = ChaCha8Rng::seed_from_u64(b.seed + 1);
    let mut qs: Vec<(String, u32)> = Vec::with_capacity(b.queries);
    while qs.len() < b.queries {
        let ri = rng.gen_range(0..n as u32);
        let a = book.address(ri);
        if a.status != "current" {
            continue;
        }
        let kind = DAMAGE[qs.len() % DAMAGE.len()];
        if let Some(q) = damaged_query(&book, ri, kind, &mut rng) {
            qs.push((q, ri));
        }
    }
    let t0 = Instant::now();
    let mut top1 = 0;
    let mut by_kind = vec![(0usize, 0usize); DAMAGE.len()];
    let mut misses: Vec<(String, String)> = Vec::new();
    // every miss on stderr instead of a dozen (to compare two builds)
    let all_misses = std::env::var_os("DIMING_BENCH_ALL_MISSES").is_some();
    for (k, (q, ri)) in qs.iter().enumerate() {
        let g = book.geocode(q, None, 3);
        let kind = k % DAMAGE.len();
        by_kind[kind].1 += 1;
        if g.candidates.first().is_some_and(|c| c.rec == Some(*ri)) {
            top1 += 1;
            by_kind[kind].0 += 1;
        } else if all_misses || misses.len() < 12 && k % 7 == 0 {
            misses.push((
                q.clone(),
                g.candidates
                    .first()
                    .map(|c| format!("{} [{}]", c.address, c.level))
                    .unwrap_or_default(),
            ));
        }
    }
    let t_inproc = t0.elapsed().as_secs_f64();
    for (q, got) in &misses {
        eprintln!("miss: {q} → {got}");
    }
    let rate_inproc = qs.len() as f64 / t_inproc;

    let pr = parse_vs_cpca(&book, &b.shared, &b.python, b.parse_passes)?;

    // HTTP: the same book served in-process by actix on a free port, 2 client connections
    let book = Arc::new(book);
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let config = crate::http::Config {
        bind: format!("127.0.0.1:{port}"),
        ..Default::default()
    };
    let state = Arc::new(crate::http::AppState::new(d, config));
    *state.addresses.write() = book.clone();
    let st2 = state.clone();
    std::thread::spawn(move || {
        let _ = actix_web::rt::System::new().block_on(crate::http::serve(st2));
    });
    let t_wait = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(t_wait.elapsed().as_secs() < 30, "server did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let hq: Vec<String> = qs
        .iter()
        .take(b.http_queries)
        .map(|(q, _)| format!("/v1/geocode?q={}&limit=1", pct_encode(q)))
        .collect();
    let t0 = Instant::now();
    let threads = 2;
    let chunks: Vec<Vec<String>> = (0..threads)
        .map(|t| hq.iter().skip(t).step_by(threads).cloned().collect())
        .collect();
    let hs: Vec<_> = chunks
        .into_iter()
        .map(|c| {
            std::thread::spawn(move || -> Result<usize> {
                let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
                s.set_nodelay(true)?;
                let mut rd = BufReader::new(s.try_clone()?);
                let mut k = 0;
                for p in &c {
                    http_get(&mut s, &mut rd, p)?;
                    k += 1;
                }
                Ok(k)
            })
        })
        .collect();
    let mut done = 0;
    for h in hs {
        done += h
            .join()
            .map_err(|_| anyhow::anyhow!("client thread panicked"))??;
    }
    let t_http = t0.elapsed().as_secs_f64();
    let rate_http = done as f64 / t_http;
    // one batch request of as many of the queries as the endpoint takes, geocoded and parsed
    let nb = qs.len().min(crate::http::addresses::MAX_BATCH_ROWS);
    let queries: Vec<&str> = qs.iter().take(nb).map(|(q, _)| q.as_str()).collect();
    let mut batch_rates = Vec::new();
    for parse_only in [false, true] {
        let body = serde_json::to_vec(&serde_json::json!({
            "queries": queries,
            "parse_only": parse_only,
        }))?;
        let t0 = Instant::now();
        let got = http_post_lines(port, "/v1/geocode/batch", &body)?;
        let dt = t0.elapsed().as_secs_f64();
        anyhow::ensure!(got == nb, "batch answered {got} lines for {nb} rows");
        batch_rates.push(nb as f64 / dt);
    }

    println!(
        "diming bench geocode — synthetic city of {n} addresses (seed {}), 2 cores shared",
        b.seed
    );
    println!("| measure | value |");
    println!("|---|---|");
    println!("| generate {n} addresses | {t_gen:.1} s |");
    println!("| build book (R-tree, road/compound/code indexes, parser) | {t_build:.1} s |");
    println!("| index memory per million addresses (counted) | {per_m_index:.0} MB |");
    println!("| process RSS growth per million addresses (book built, input dropped, the road lines' counted memory taken off) | {per_m_rss:.0} MB |");
    println!(
        "| road centre lines of the city (R-trees of segments and junctions) | {} roads, built in {t_lines:.1} s |",
        book.lines.len()
    );
    println!("| in-process geocode (normalise+parse+match), 1 thread | {rate_inproc:.0} /s ({} queries) |", qs.len());
    println!(
        "| damaged-query top-1 = source address | {:.2} % ({top1}/{}) |",
        100.0 * top1 as f64 / qs.len() as f64,
        qs.len()
    );
    for (k, (ok, n)) in by_kind.iter().enumerate() {
        println!(
            "| top-1, damage `{}` | {:.2} % ({ok}/{n}) |",
            DAMAGE[k],
            100.0 * *ok as f64 / (*n).max(1) as f64
        );
    }
    println!("| HTTP GET /v1/geocode, 2 keep-alive clients | {rate_http:.0} /s ({done} queries) |");
    println!(
        "| HTTP POST /v1/geocode/batch, one request of {nb} rows (chunks on every core) | {:.0} rows/s |",
        batch_rates[0]
    );
    println!(
        "| the same batch with `parse_only` | {:.0} rows/s |",
        batch_rates[1]
    );
    pr.print();
    road_lookups(&book, "road lines of the city", b.seed)?;
    road_lines(&b.data, b.seed)?;
    Ok(())
}

/// The road-line lookups on the embedded 黄浦区 sample and its road centre lines (when
/// `data/addresses/huangpu_roads.fgb` is there): the nearest road and the nearest junction of
/// 200,000 seeded random points in the lines' box (radius 100 m), and crossings geocoded (every
/// junction's two roads as 黄浦区A与B交叉口), each on one thread.
pub fn road_lines(data: &std::path::Path, seed: u64) -> Result<()> {
    let d = Divisions::build(crate::store::load_embedded(data)?)?;
    let t0 = Instant::now();
    let book = AddressBook::load_embedded(&d, data)?;
    let t_load = t0.elapsed().as_secs_f64();
    if book.lines.is_empty() {
        println!("| road lines | none in {} |", data.display());
        return Ok(());
    }
    road_lookups(
        &book,
        &format!("road lines of the sample (load with the book {t_load:.2} s)"),
        seed,
    )
}

/// The nearest road and the nearest junction of 200,000 seeded random points in the box of
/// `book`'s lines (radius 100 m), and crossings geocoded (each junction's two roads, after its
/// county's name: 黄浦区A与B交叉口; at most 20,000 junctions, evenly taken), each on one thread.
/// Crossings not answered at `intersection` go to stderr (the first five).
fn road_lookups(book: &AddressBook, label: &str, seed: u64) -> Result<()> {
    use rand::{Rng, SeedableRng};
    let lines = &book.lines;
    let Some([w, s, e, n]) = lines.bbox() else {
        return Ok(());
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let pts: Vec<(f64, f64)> = (0..200_000)
        .map(|_| (rng.gen_range(w..e), rng.gen_range(s..n)))
        .collect();
    let t0 = Instant::now();
    let found = pts
        .iter()
        .filter(|p| std::hint::black_box(lines.nearest(p.0, p.1, 100.0)).is_some())
        .count();
    let rate_road = pts.len() as f64 / t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    let found_j = pts
        .iter()
        .filter(|p| std::hint::black_box(lines.nearest_junction(p.0, p.1, 100.0)).is_some())
        .count();
    let rate_junction = pts.len() as f64 / t0.elapsed().as_secs_f64();
    let county_name: std::collections::HashMap<&str, &str> = book
        .parser
        .nodes
        .iter()
        .filter(|n| n.level == crate::divisions::Level::County)
        .filter_map(|n| Some((n.code.as_deref()?, n.name.as_str())))
        .collect();
    let step = lines.junction_count().div_ceil(20_000).max(1);
    let qs: Vec<String> = lines
        .junction_roads()
        .step_by(step)
        .filter_map(|(c, a, b)| Some(format!("{}{a}与{b}交叉口", county_name.get(c)?)))
        .collect();
    anyhow::ensure!(!qs.is_empty(), "no junction of a known county");
    let t0 = Instant::now();
    let mut asked = 0;
    let mut placed = 0;
    let mut missed = Vec::new();
    while asked < 20_000 {
        for q in &qs {
            let g = book.geocode(q, None, 1);
            let top = g.candidates.first();
            if top.is_some_and(|c| c.level == "intersection") {
                placed += 1;
            } else if missed.len() < 5 {
                missed.push(format!("{q} → {:?}", top.map(|c| (&c.address, c.level))));
            }
            asked += 1;
        }
    }
    let rate_cross = asked as f64 / t0.elapsed().as_secs_f64();
    for m in &missed {
        eprintln!("crossing not placed: {m}");
    }
    println!(
        "| {label} | {} roads, {} segments, {} junctions, {:.1} MB |",
        lines.len(),
        lines.segment_count(),
        lines.junction_count(),
        lines.memory_bytes() as f64 / 1e6
    );
    println!(
        "| nearest road by its line, 1 thread, radius 100 m | {rate_road:.0} /s ({:.1} % of {} random points found one) |",
        100.0 * found as f64 / pts.len() as f64,
        pts.len()
    );
    println!(
        "| nearest junction, 1 thread, radius 100 m | {rate_junction:.0} /s ({:.1} % found one) |",
        100.0 * found_j as f64 / pts.len() as f64
    );
    println!(
        "| crossing geocode (A与B交叉口 after the county, {} junctions' roads), 1 thread | {rate_cross:.0} /s ({:.2} % answered `intersection`: {placed} of {asked}) |",
        qs.len(),
        100.0 * placed as f64 / asked as f64
    );
    Ok(())
}

fn tempfile_dir() -> Result<PathBuf> {
    let d = std::env::temp_dir().join(format!("diming-bench-geocode-{}", std::process::id()));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}

/// Parse speed and county accuracy of diming and of `cpca` on the real rows of `cpca_addr.csv`,
/// measured in the same run (`diming bench parse`, and part of `diming bench geocode`).
pub struct ParseReport {
    pub rows: usize,
    /// best pass, seconds: normalise, divisions, elements alone, and the whole parse
    pub t_norm: f64,
    pub t_div: f64,
    pub t_elem: f64,
    pub t_ours: f64,
    /// best pass, seconds, of the parse to county depth (`/v1/parse?depth=county`), and its
    /// county accuracy by the same rule
    pub t_county: f64,
    pub county_accuracy: f64,
    /// best pass, seconds, of the whole parse with the rows split between `threads` threads
    /// (every core of the machine)
    pub t_all_cores: f64,
    pub threads: usize,
    /// rows whose county the independent rule determines
    pub determinable: usize,
    pub accuracy: f64,
    /// cpca: best of 5 calls (seconds), its accuracy by the same rule, and the versions of
    /// cpca, pandas and Python it ran on
    pub cpca: Option<(f64, f64, String)>,
    pub dict_keys: usize,
    pub dict_bytes: usize,
}

impl ParseReport {
    pub fn print(&self) {
        let ns_per_row = 1e9 / self.rows as f64;
        println!(
            "| division dictionary (names, short names, aliases, old names; 5 levels) | {} keys, {:.1} MB |",
            self.dict_keys,
            self.dict_bytes as f64 / 1e6
        );
        println!(
            "| parse stages alone, per row: normalise / divisions / elements | {:.0} / {:.0} / {:.0} ns |",
            self.t_norm * ns_per_row,
            self.t_div * ns_per_row,
            self.t_elem * ns_per_row
        );
        println!(
            "| parse (normalise+divisions+elements), cpca rows, 1 thread | {:.0} rows/s ({} rows in {:.4} s, {:.0} ns/row) |",
            self.rows as f64 / self.t_ours,
            self.rows,
            self.t_ours,
            self.t_ours * ns_per_row
        );
        println!(
            "| parse to county depth (`depth=county`: province, city, county and the rest, cpca's output), 1 thread | {:.0} rows/s ({:.0} ns/row), county right in {:.2} % |",
            self.rows as f64 / self.t_county,
            self.t_county * ns_per_row,
            100.0 * self.county_accuracy
        );
        println!(
            "| the whole parse on every core ({} threads, the rows split between them) | {:.0} rows/s |",
            self.threads,
            self.rows as f64 / self.t_all_cores
        );
        println!(
            "| county accuracy, rows whose county is determinable ({}) | diming {:.2} % |",
            self.determinable,
            100.0 * self.accuracy
        );
        match self.cpca {
            Some((secs, cacc, ref versions)) => {
                println!(
                    "| cpca.transform on the same rows ({versions}) | {:.0} rows/s ({secs:.3} s) |",
                    self.rows as f64 / secs
                );
                println!(
                    "| cpca county accuracy, same rule | {:.2} % |",
                    100.0 * cacc
                );
                println!(
                    "| speed ratio diming/cpca, the whole parse (5 levels and the elements, against cpca's 3 levels) | {:.1}x |",
                    secs / self.t_ours
                );
                println!(
                    "| speed ratio diming/cpca, the same output (parse to county depth) | {:.1}x |",
                    secs / self.t_county
                );
                println!(
                    "| ratio, diming on every core / cpca (one core: it has no parallel mode; not the per-core ratio above) | {:.1}x |",
                    secs / self.t_all_cores
                );
            }
            None => println!("| cpca | not run (pip install cpca) |"),
        }
    }
}

/// `diming bench parse`: the parse comparison alone, on the embedded divisions.
pub fn run_parse(
    data: &std::path::Path,
    shared: &std::path::Path,
    python: &str,
    passes: usize,
) -> Result<()> {
    let d = Divisions::build(crate::store::load_embedded(data)?)?;
    let pr = parse_vs_cpca(&AddressBook::empty(&d), shared, python, passes)?;
    println!("diming bench parse — cpca_addr.csv rows, 1 thread each, same run");
    println!("| measure | value |");
    println!("|---|---|");
    pr.print();
    Ok(())
}

pub fn parse_vs_cpca(
    book: &AddressBook,
    shared: &std::path::Path,
    python: &str,
    passes: usize,
) -> Result<ParseReport> {
    // parse only (normalise + division parse + elements) on the cpca rows, and cpca itself
    let parser = &book.parser;
    let rows = cpca_rows(shared)?;
    let truth = CountyTruth::new(parser);
    let truths: Vec<Option<String>> = rows.iter().map(|r| truth.truth(parser, r)).collect();
    // the three stages alone, per row (best pass each)
    let normed: Vec<String> = rows
        .iter()
        .map(|r| super::normalize::normalize(r).0.into_owned())
        .collect();
    let (mut t_norm, mut t_div, mut t_elem) = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
    let best = |t: &mut f64, f: &dyn Fn()| {
        let t0 = Instant::now();
        f();
        *t = t.min(t0.elapsed().as_secs_f64());
    };
    for _ in 0..passes {
        best(&mut t_norm, &|| stage_normalise(&rows));
        best(&mut t_div, &|| stage_divisions(parser, &normed));
        best(&mut t_elem, &|| stage_elements(&normed));
    }
    // best of `parse_passes` passes (cpca: best of 5 calls of its batch API)
    let mut t_ours = f64::INFINITY;
    let mut ours: Vec<Option<u32>> = Vec::with_capacity(rows.len());
    for _ in 0..passes {
        ours.clear();
        let t0 = Instant::now();
        parse_rows(parser, &rows, &mut ours);
        t_ours = t_ours.min(t0.elapsed().as_secs_f64());
    }
    // the same on every core: the rows split in contiguous parts, one thread each
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let part = rows.len().div_ceil(threads).max(1);
    let mut t_all_cores = f64::INFINITY;
    for _ in 0..passes {
        let t0 = Instant::now();
        std::thread::scope(|s| {
            for chunk in rows.chunks(part) {
                s.spawn(move || {
                    let mut out = Vec::with_capacity(chunk.len());
                    parse_rows(parser, chunk, &mut out);
                    std::hint::black_box(out);
                });
            }
        });
        t_all_cores = t_all_cores.min(t0.elapsed().as_secs_f64());
    }
    // to county depth (cpca's output: province, city, county and the rest), one thread
    let mut t_county = f64::INFINITY;
    let mut ours_county: Vec<Option<u32>> = Vec::with_capacity(rows.len());
    for _ in 0..passes {
        ours_county.clear();
        let t0 = Instant::now();
        parse_rows_to_county(&book.county_parser, &rows, &mut ours_county);
        t_county = t_county.min(t0.elapsed().as_secs_f64());
    }
    let det = truths.iter().filter(|t| t.is_some()).count();
    let acc = |v: &[Option<String>]| {
        truths
            .iter()
            .zip(v)
            .filter(|(t, o)| t.is_some() && *t == *o)
            .count() as f64
            / det.max(1) as f64
    };
    let ours: Vec<Option<String>> = ours
        .iter()
        .map(|n| n.and_then(|n| parser.nodes[n as usize].code.clone()))
        .collect();
    let our_acc = acc(&ours);
    let county_acc = acc(&ours_county
        .iter()
        .map(|n| n.and_then(|n| parser.nodes[n as usize].code.clone()))
        .collect::<Vec<_>>());
    if std::env::var_os("DIMING_BENCH_ALL_MISSES").is_some() {
        // every county miss on stderr (to compare two builds)
        for ((r, t), o) in rows.iter().zip(&truths).zip(&ours) {
            if t.is_some() && t != o {
                eprintln!(
                    "county miss: {r} → {} (truth {})",
                    o.as_deref().unwrap_or("none"),
                    t.as_deref().unwrap_or("")
                );
            }
        }
    }
    let dir = tempfile_dir()?;
    let rows_file = dir.join("rows.txt");
    std::fs::write(&rows_file, rows.join("\n") + "\n")?;
    let out_file = dir.join("cpca_out.txt");
    let script = std::env::current_dir()?.join("benches/cpca_bench.py");
    let cp = std::process::Command::new(python)
        .arg(&script)
        .arg(&rows_file)
        .arg(&out_file)
        .output();
    let cpca = match cp {
        Ok(o) if o.status.success() => {
            let so = String::from_utf8_lossy(&o.stdout);
            let secs: f64 = so
                .lines()
                .find_map(|l| l.strip_prefix("seconds="))
                .and_then(|s| s.trim().parse().ok())
                .context("cpca printed no time")?;
            let versions = so
                .lines()
                .find_map(|l| l.strip_prefix("versions="))
                .unwrap_or("versions unknown")
                .trim()
                .to_string();
            let codes: Vec<Option<String>> = std::fs::read_to_string(&out_file)?
                .lines()
                .map(|l| (!l.is_empty()).then(|| l.to_string()))
                .collect();
            Some((secs, acc(&codes), versions))
        }
        Ok(o) => {
            eprintln!(
                "cpca failed (pip install cpca): {}",
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            );
            None
        }
        Err(e) => {
            eprintln!("cannot run {python}: {e}");
            None
        }
    };

    let (dict_keys, dict_bytes) = parser.dictionary_size();
    Ok(ParseReport {
        rows: rows.len(),
        t_norm,
        t_div,
        t_elem,
        t_ours,
        t_county,
        county_accuracy: county_acc,
        t_all_cores,
        threads,
        determinable: det,
        accuracy: our_acc,
        cpca,
        dict_keys,
        dict_bytes,
    })
}

// The timed loops, each its own function (so that `valgrind --tool=callgrind
// --toggle-collect=<name>` counts exactly one of them). Each result goes to `black_box` by
// reference: by value, the 208-byte division match was copied (a `memcpy` per row, 15-20 ns of
// the divisions stage) where the real callers read it in place.

/// The parse to county depth of each row (normalise, the division parse with the dictionary
/// of provinces, cities and counties, the rest of the text), its county's node.
#[inline(never)]
pub fn parse_rows_to_county(parser: &DivisionParser, rows: &[String], out: &mut Vec<Option<u32>>) {
    let mut sc = ParseScratch::default();
    for r in rows {
        let (t, _) = super::normalize::normalize(r);
        let m = parser.parse_with(&t, None, &mut sc);
        std::hint::black_box(m.road_detail());
        out.push(m.county().and_then(|c| c.node));
    }
}

/// The whole parse of each row: normalise, divisions, elements; the county node of each.
#[inline(never)]
pub fn parse_rows(parser: &DivisionParser, rows: &[String], out: &mut Vec<Option<u32>>) {
    let mut sc = ParseScratch::default();
    for r in rows {
        let (t, _) = super::normalize::normalize(r);
        let m = parser.parse_with(&t, None, &mut sc);
        std::hint::black_box(&super::parse::parse_elements(m.road_detail(), None));
        out.push(m.county().and_then(|c| c.node));
    }
}

#[inline(never)]
fn stage_normalise(rows: &[String]) {
    for r in rows {
        std::hint::black_box(&super::normalize::normalize(r));
    }
}

#[inline(never)]
fn stage_divisions(parser: &DivisionParser, normed: &[String]) {
    let mut sc = ParseScratch::default();
    for r in normed {
        std::hint::black_box(&parser.parse_with(r, None, &mut sc));
    }
}

#[inline(never)]
fn stage_elements(normed: &[String]) {
    for r in normed {
        std::hint::black_box(&super::parse::parse_elements(r, None));
    }
}
