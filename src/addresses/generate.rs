//! Seeded generator of **synthetic** house numbers (no real house-number data exists here).
//!
//! Version 4 (version 3 left out the two-way streets that OSMnx writes out and back, u → v → u,
//! as closed ways: 淮海中路, 北京东路, 淮海东路 and most of the extract's named ways had no
//! house; version 2 gave a compound's name again in the same county: 7 of 327 names of the
//! sample were on two compounds). Input: the real named roads of an OSMnx drive network
//! (`shanghai_huangpu_drive.osm`, © OpenStreetMap contributors, ODbL) and the real division
//! tree. For every road name, houses
//! are placed every `spacing` metres along each of its ways at ground level (version 1 also
//! numbered the elevated expressways, ramps, bridges and tunnels: 延安高架路 109弄), 12 m to
//! either side; numbers
//! increase along the road's principal axis, odd on the left and even on the right
//! (`number = 2·⌊s/spacing⌋ + 1` or `+ 2`, `s` = distance along the axis from the road's start).
//! Only points inside the real 黄浦区 polygon (310101) are kept. Each house is put in one of the
//! real 街道 of 黄浦区 from the code list, the one whose approximate centre (hand-placed,
//! documented in [`HUANGPU_STREETS`], not an official boundary) is nearest, so the
//! street-level assignment is synthetic too. With a seeded RNG (ChaCha8): 15 % of numbers become
//! compounds (小区/苑/花园/大厦; a name once per county, see [`compound_name`]) with 2–8
//! buildings (幢), 15 % become lanes (弄) with 3–12
//! houses (`45弄6号`), and every 97th house also has a retired old number (its number + 500)
//! whose successor is the current address. Every record has `synthetic = true`.
//!
//! Scaling (benchmarks): [`generate_city`] repeats the Huangpu pattern on a grid of tiles, each
//! shifted by 0.03° × 0.025°, each tile assigned to a real county of Shanghai/Zhejiang (cycled)
//! and its real townships, road names prefixed per tile (`东兴` + 南京东路) — a synthetic city of
//! any size (5,000,000 addresses ≈ 300 tiles). No point-in-polygon test there.

use super::{format_number, serial_of, Address};
use crate::divisions::{Divisions, Level};
use anyhow::{Context, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

pub const GENERATOR_VERSION: u32 = 4;

/// Approximate centres (lon, lat WGS84) of the 街道 of 黄浦区 used to assign houses to streets.
/// Hand-placed from general knowledge of the district; not boundaries.
pub const HUANGPU_STREETS: &[(&str, f64, f64)] = &[
    ("南京东路街道", 121.478, 31.236),
    ("外滩街道", 121.488, 31.233),
    ("半淞园路街道", 121.493, 31.205),
    ("小东门街道", 121.497, 31.224),
    ("豫园街道", 121.489, 31.227),
    ("老西门街道", 121.480, 31.221),
    ("五里桥街道", 121.475, 31.203),
    ("打浦桥街道", 121.467, 31.210),
    ("淮海中路街道", 121.472, 31.224),
    ("瑞金二路街道", 121.461, 31.215),
];

/// A named road as polylines (WGS84).
pub struct OsmRoad {
    pub name: String,
    pub ways: Vec<Vec<(f64, f64)>>,
}

/// Reads the named `highway=*` ways of an OSM XML file that carry house numbers (at ground
/// level, not expressways or ramps: [`has_house_numbers`]), grouped by name (sorted).
pub fn read_osm_roads(path: &Path) -> Result<Vec<OsmRoad>> {
    use quick_xml::events::Event;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut rdr = quick_xml::Reader::from_str(&text);
    let mut nodes: HashMap<i64, (f64, f64)> = HashMap::new();
    let mut roads: BTreeMap<String, Vec<Vec<(f64, f64)>>> = BTreeMap::new();
    let mut cur_way: Option<Vec<i64>> = None;
    let mut name: Option<String> = None;
    // the way's `highway` class, and whether it is a bridge or a tunnel
    let mut highway: Option<String> = None;
    let mut off_ground = false;
    loop {
        match rdr.read_event()? {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                let attr = |k: &[u8]| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == k)
                        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
                };
                match e.name().as_ref() {
                    b"node" => {
                        if let (Some(id), Some(lon), Some(lat)) =
                            (attr(b"id"), attr(b"lon"), attr(b"lat"))
                        {
                            nodes.insert(id.parse()?, (lon.parse()?, lat.parse()?));
                        }
                    }
                    b"way" => {
                        cur_way = Some(Vec::new());
                        name = None;
                        highway = None;
                        off_ground = false;
                    }
                    b"nd" => {
                        if let (Some(w), Some(r)) = (cur_way.as_mut(), attr(b"ref")) {
                            w.push(r.parse()?);
                        }
                    }
                    b"tag" if cur_way.is_some() => match attr(b"k").as_deref() {
                        Some("name") => name = attr(b"v"),
                        Some("highway") => highway = attr(b"v"),
                        Some("bridge" | "tunnel") => {
                            off_ground |= attr(b"v").is_some_and(|v| v != "no")
                        }
                        _ => {}
                    },
                    _ => {}
                }
            }
            Event::End(e) if e.name().as_ref() == b"way" => {
                if let (Some(mut w), Some(n)) = (cur_way.take(), name.take()) {
                    // a two-way street that OSMnx wrote out and back (u, v, u: 241 of the 629
                    // named ways of the extract, all of 淮海中路 and 北京东路): its way out
                    if w.len() >= 3 && w.iter().eq(w.iter().rev()) {
                        w.truncate(w.len() / 2 + 1);
                    }
                    let pts: Vec<(f64, f64)> =
                        w.iter().filter_map(|id| nodes.get(id).copied()).collect();
                    let numbered = highway.as_deref().is_some_and(has_house_numbers);
                    let numbered = numbered && !off_ground && !names_a_structure(&n);
                    if numbered && pts.len() >= 2 && pts.first() != pts.last() {
                        roads.entry(n).or_default().push(pts);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(roads
        .into_iter()
        .map(|(name, ways)| OsmRoad { name, ways })
        .collect())
}

/// Does a way of this OSM `highway` class carry house numbers? Expressways (`motorway`,
/// `trunk`: in Shanghai the elevated 延安高架路 and 南北高架路) and ramps (`*_link`) do not;
/// nor do bridges and tunnels, which the caller leaves out by their own tags and by name
/// ([`names_a_structure`]).
fn has_house_numbers(class: &str) -> bool {
    !(class.ends_with("_link") || matches!(class, "motorway" | "trunk" | "motorway_junction"))
}

/// A name of a tunnel, an elevated road, a ramp or a bridge: its approaches at ground level
/// (tagged as ordinary streets: 人民路隧道's) carry no house numbers of that name either.
fn names_a_structure(name: &str) -> bool {
    ["隧道", "高架路", "高架", "匝道", "立交", "立交桥", "大桥"]
        .iter()
        .any(|s| name.ends_with(s))
}

const COMPOUND_A: &[&str] = &[
    "金", "华", "嘉", "锦", "瑞", "福", "永", "新", "康", "安", "和", "泰", "丰", "明", "怡", "秀",
    "翠", "景", "隆", "盛",
];
const COMPOUND_B: &[&str] = &["苑", "园", "庭", "都", "城", "府", "轩", "阁", "湾", "里"];
const COMPOUND_C: &[&str] = &["小区", "花园", "公寓", "大厦", ""];
/// Tile prefixes of the scaled city.
const TILE_PREFIX: &[&str] = &[
    "东兴", "西城", "南苑", "北辰", "中和", "新华", "长宁", "光明", "青云", "凤凰", "金桥", "银河",
    "文昌", "武胜", "春晖", "秋实", "和平", "永安", "太平", "丰收",
];

/// One generated house before its division is fixed.
struct House {
    road: String,
    lane: u32,
    number: u32,
    sub: u32,
    compound: Option<String>,
    building: u32,
    lon: f64,
    lat: f64,
    retired_of: Option<usize>,
}

/// The direction in which a road's numbers grow: the principal axis of its points (local
/// metres), oriented west→east, or south→north when nearly north–south, for stable numbering.
fn numbering_axis(xy: &[(f64, f64)]) -> (f64, f64) {
    let n = xy.len() as f64;
    let (mx, my) = xy
        .iter()
        .fold((0.0, 0.0), |a, p| (a.0 + p.0 / n, a.1 + p.1 / n));
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for p in xy {
        sxx += (p.0 - mx) * (p.0 - mx);
        sxy += (p.0 - mx) * (p.1 - my);
        syy += (p.1 - my) * (p.1 - my);
    }
    let theta = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    let ax = (theta.cos(), theta.sin());
    if ax.0 < -0.3 || (ax.0.abs() <= 0.3 && ax.1 < 0.0) {
        (-ax.0, -ax.1)
    } else {
        ax
    }
}

/// A compound's name from the drawn parts `[A, A, B, C]`, unique among `given`: as the rules
/// on place names ask (no two residential compounds of one county share a name: 《地名管理条例》
/// 第十条), a name already given is replaced by the next unused one in a fixed order of the
/// B and C parts (no further draws: the random stream, hence every other record, stays as it
/// was), or after all of them by the drawn name with 二期, 三期, … appended.
fn compound_name(prefix: &str, drawn: [usize; 4], given: &mut HashSet<String>) -> String {
    let [a1, a2, b, c] = drawn;
    let (nb, nc) = (COMPOUND_B.len(), COMPOUND_C.len());
    let name = |b: usize, c: usize, phase: &str| {
        format!(
            "{prefix}{}{}{}{}{phase}",
            COMPOUND_A[a1], COMPOUND_A[a2], COMPOUND_B[b], COMPOUND_C[c]
        )
    };
    let tries = (0..nb * nc).map(|k| name((b + k) % nb, (c + k / nb) % nc, ""));
    const PHASE: [&str; 8] = ["二", "三", "四", "五", "六", "七", "八", "九"];
    let phases = (0..).map(|n: usize| {
        let n = PHASE
            .get(n)
            .map_or_else(|| (n + 2).to_string(), |p| p.to_string());
        name(b, c, &format!("{n}期"))
    });
    let found = tries
        .chain(phases)
        .find(|n| !given.contains(n))
        .expect("an endless list");
    given.insert(found.clone());
    found
}

/// Places houses along the roads (WGS84 lon/lat), numbering as described in the module docs.
fn place_houses(
    roads: &[OsmRoad],
    rng: &mut ChaCha8Rng,
    spacing: f64,
    prefix: &str,
    dx: f64,
    dy: f64,
) -> Vec<House> {
    let mut out = Vec::new();
    // compound names given so far: one tile is one county, where a name is given once
    let mut compounds = HashSet::new();
    for road in roads {
        let all: Vec<(f64, f64)> = road.ways.iter().flatten().copied().collect();
        let (lon0, lat0) = all[0];
        let lm = crate::crs::LocalMetric::new(lon0, lat0);
        let xy: Vec<(f64, f64)> = all.iter().map(|&(x, y)| lm.fwd(x, y)).collect();
        let ax = numbering_axis(&xy);
        let smin = xy
            .iter()
            .map(|p| p.0 * ax.0 + p.1 * ax.1)
            .fold(f64::INFINITY, f64::min);
        let name = format!("{prefix}{}", road.name);
        let mut used: HashMap<u32, ()> = HashMap::new();
        for way in &road.ways {
            let w: Vec<(f64, f64)> = way.iter().map(|&(x, y)| lm.fwd(x, y)).collect();
            let mut carry = spacing / 2.0;
            for seg in w.windows(2) {
                let (a, b) = (seg[0], seg[1]);
                let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
                if len < 1e-6 {
                    continue;
                }
                let dir = ((b.0 - a.0) / len, (b.1 - a.1) / len);
                let mut t = carry;
                while t < len {
                    let p = (a.0 + dir.0 * t, a.1 + dir.1 * t);
                    let s = p.0 * ax.0 + p.1 * ax.1 - smin;
                    let slot = (s / spacing).floor() as u32;
                    for side in [1.0f64, -1.0] {
                        // left normal of the axis direction
                        let nrm = (-ax.1 * side, ax.0 * side);
                        let q = (p.0 + nrm.0 * 12.0, p.1 + nrm.1 * 12.0);
                        let number = 2 * slot + if side > 0.0 { 1 } else { 2 };
                        if used.insert(number, ()).is_some() {
                            continue;
                        }
                        let (lon, lat) = lm.inv(q.0, q.1);
                        let (lon, lat) = (lon + dx, lat + dy);
                        let roll: f64 = rng.gen();
                        if roll < 0.15 {
                            let drawn = [
                                rng.gen_range(0..COMPOUND_A.len()),
                                rng.gen_range(0..COMPOUND_A.len()),
                                rng.gen_range(0..COMPOUND_B.len()),
                                rng.gen_range(0..COMPOUND_C.len()),
                            ];
                            let cname = compound_name(prefix, drawn, &mut compounds);
                            out.push(House {
                                road: name.clone(),
                                lane: 0,
                                number,
                                sub: 0,
                                compound: Some(cname.clone()),
                                building: 0,
                                lon,
                                lat,
                                retired_of: None,
                            });
                            let nb = rng.gen_range(2..=8);
                            for bno in 1..=nb {
                                let d = 10.0 + 8.0 * bno as f64;
                                let off = (rng.gen::<f64>() - 0.5) * 20.0;
                                let bq =
                                    (q.0 + nrm.0 * d + dir.0 * off, q.1 + nrm.1 * d + dir.1 * off);
                                let (bl, bt) = lm.inv(bq.0, bq.1);
                                out.push(House {
                                    road: name.clone(),
                                    lane: 0,
                                    number,
                                    sub: 0,
                                    compound: Some(cname.clone()),
                                    building: bno,
                                    lon: bl + dx,
                                    lat: bt + dy,
                                    retired_of: None,
                                });
                            }
                        } else if roll < 0.30 {
                            // a lane: the lane head, then houses along it
                            out.push(House {
                                road: name.clone(),
                                lane: number,
                                number: 0,
                                sub: 0,
                                compound: None,
                                building: 0,
                                lon,
                                lat,
                                retired_of: None,
                            });
                            let nh = rng.gen_range(3..=12);
                            for h in 1..=nh {
                                let d = 6.0 * h as f64;
                                let hq = (q.0 + nrm.0 * d, q.1 + nrm.1 * d);
                                let (hl, ht) = lm.inv(hq.0, hq.1);
                                out.push(House {
                                    road: name.clone(),
                                    lane: number,
                                    number: h,
                                    sub: 0,
                                    compound: None,
                                    building: 0,
                                    lon: hl + dx,
                                    lat: ht + dy,
                                    retired_of: None,
                                });
                            }
                        } else {
                            out.push(House {
                                road: name.clone(),
                                lane: 0,
                                number,
                                sub: 0,
                                compound: None,
                                building: 0,
                                lon,
                                lat,
                                retired_of: None,
                            });
                            if rng.gen::<f64>() < 0.05 {
                                out.push(House {
                                    road: name.clone(),
                                    lane: 0,
                                    number,
                                    sub: rng.gen_range(1..4),
                                    compound: None,
                                    building: 0,
                                    lon: lon + 0.00005,
                                    lat,
                                    retired_of: None,
                                });
                            }
                            if out.len() % 97 == 0 {
                                let i = out.len() - 1;
                                out.push(House {
                                    road: name.clone(),
                                    lane: 0,
                                    number: number + 500,
                                    sub: 0,
                                    compound: None,
                                    building: 0,
                                    lon,
                                    lat,
                                    retired_of: Some(i),
                                });
                            }
                        }
                    }
                    t += spacing;
                }
                carry = t - len;
            }
        }
    }
    out
}

fn to_address(h: &House, division: &str) -> Address {
    let number = (h.lane != 0 || h.number != 0).then(|| format_number(h.lane, h.number, h.sub));
    let building = (h.building != 0).then(|| format!("{}幢", h.building));
    let serial = serial_of(
        division,
        &h.road,
        number.as_deref().unwrap_or(""),
        h.compound.as_deref().unwrap_or(""),
        building.as_deref().unwrap_or(""),
    );
    let aliases = match (&h.compound, &building) {
        (Some(c), Some(b)) => vec![format!("{c}{b}")],
        _ => Vec::new(),
    };
    Address {
        code: format!("{division}{serial:012}"),
        division: division.to_string(),
        road: Some(h.road.clone()),
        number,
        compound: h.compound.clone(),
        building,
        lon: (h.lon * 1e7).round() / 1e7,
        lat: (h.lat * 1e7).round() / 1e7,
        status: if h.retired_of.is_some() {
            "retired"
        } else {
            "current"
        }
        .into(),
        successor: None,
        aliases,
        synthetic: true,
    }
}

fn link_successors(houses: &[House], addrs: &mut [Address]) {
    for (i, h) in houses.iter().enumerate() {
        if let Some(j) = h.retired_of {
            addrs[i].successor = Some(addrs[j].code.clone());
        }
    }
}

/// The Huangpu sample: houses along the real roads, inside the real 黄浦区, in its real 街道.
pub fn generate_huangpu(d: &Divisions, osm: &Path, seed: u64) -> Result<Vec<Address>> {
    let roads = read_osm_roads(osm)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let houses = place_houses(&roads, &mut rng, 30.0, "", 0.0, 0.0);
    let hp = d
        .tree
        .find("310101")
        .context("黄浦区 310101 missing from the division tree")?;
    let streets: Vec<(String, f64, f64)> = HUANGPU_STREETS
        .iter()
        .filter_map(|(name, lon, lat)| {
            d.tree
                .get(hp)
                .children
                .iter()
                .find(|&&c| d.tree.get(c).name == *name)
                .map(|&c| (d.tree.get(c).short.clone(), *lon, *lat))
        })
        .collect();
    anyhow::ensure!(
        !streets.is_empty(),
        "no 街道 of 黄浦区 in the division tree"
    );
    let mut keep = Vec::new();
    let mut addrs = Vec::new();
    for h in houses.iter() {
        let inside = d
            .reverse(h.lon, h.lat, false)
            .is_some_and(|r| r.division.code == "310101");
        if !inside {
            continue;
        }
        let st = streets
            .iter()
            .min_by(|a, b| {
                let da = (a.1 - h.lon).powi(2) + (a.2 - h.lat).powi(2);
                let db = (b.1 - h.lon).powi(2) + (b.2 - h.lat).powi(2);
                da.total_cmp(&db)
            })
            .map(|s| s.0.clone())
            .unwrap_or_default();
        keep.push(h);
        addrs.push(to_address(h, &st));
    }
    // successors (indices shift after filtering)
    let mut new_index: HashMap<usize, usize> = HashMap::new();
    let mut k = 0;
    for (i, h) in houses.iter().enumerate() {
        if keep.get(k).is_some_and(|x| std::ptr::eq(*x, h)) {
            new_index.insert(i, k);
            k += 1;
        }
    }
    for (k, h) in keep.iter().enumerate() {
        if let Some(j) = h.retired_of.and_then(|j| new_index.get(&j)) {
            addrs[k].successor = Some(addrs[*j].code.clone());
        } else if h.retired_of.is_some() {
            addrs[k].status = "current".into();
        }
    }
    // a road split between two streets keeps one street (the most common) so that a road is one
    // road per street in the book
    Ok(addrs)
}

/// A synthetic city: its addresses and the centre lines of its roads.
pub struct City {
    pub addresses: Vec<Address>,
    /// each tile's roads: the real OSM ways shifted with the tile, named with its prefix, in
    /// its county (synthetic: the lines are real shapes in made-up places)
    pub roads: Vec<super::roads::RoadRow>,
}

/// A synthetic city of about `target` addresses for benchmarks (see the module docs), with
/// the road lines of the tiles it used.
pub fn generate_city(d: &Divisions, osm: &Path, seed: u64, target: usize) -> Result<City> {
    let roads = read_osm_roads(osm)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // counties of Shanghai and Zhejiang with their townships
    let mut counties: Vec<(u32, Vec<String>)> = d
        .tree
        .divs
        .iter()
        .enumerate()
        .filter(|(_, v)| {
            v.level == Level::County && (v.short.starts_with("31") || v.short.starts_with("33"))
        })
        .map(|(i, v)| {
            let towns: Vec<String> = v
                .children
                .iter()
                .map(|&c| d.tree.get(c).short.clone())
                .collect();
            (i as u32, towns)
        })
        .filter(|(_, t)| !t.is_empty())
        .collect();
    counties.sort_by_key(|c| d.tree.get(c.0).short.clone());
    let mut out = Vec::with_capacity(target + 100_000);
    // (county, name prefix, shift) of each tile, for its road lines
    let mut tiles = Vec::new();
    let mut tile = 0usize;
    let cols = 20;
    while out.len() < target {
        let county = &counties[tile % counties.len()];
        let round = tile / counties.len();
        let prefix = if round == 0 {
            String::new()
        } else {
            TILE_PREFIX[(round - 1) % TILE_PREFIX.len()].to_string()
                + &"甲".repeat((round - 1) / TILE_PREFIX.len())
        };
        let dx = (tile % cols) as f64 * 0.03;
        let dy = (tile / cols) as f64 * 0.025;
        let houses = place_houses(&roads, &mut rng, 30.0, &prefix, dx, dy);
        let mut addrs: Vec<Address> = houses
            .iter()
            .map(|h| {
                // a road's houses stay in one township: pick it from the road name
                let hsh = h
                    .road
                    .bytes()
                    .fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(b as u32));
                let town = &county.1[hsh as usize % county.1.len()];
                to_address(h, town)
            })
            .collect();
        link_successors(&houses, &mut addrs);
        out.extend(addrs);
        tiles.push((county.0, prefix, dx, dy));
        tile += 1;
    }
    out.truncate(target);
    // a truncated retired record may point past the end: drop dangling successors
    let codes: std::collections::HashSet<String> = out.iter().map(|a| a.code.clone()).collect();
    for a in &mut out {
        if a.successor.as_ref().is_some_and(|s| !codes.contains(s)) {
            a.successor = None;
            a.status = "current".into();
        }
    }
    // the lines after the addresses
    let lines = tiles
        .into_iter()
        .flat_map(|(county, prefix, dx, dy)| {
            let code = d.tree.get(county).short.clone();
            roads.iter().map(move |r| super::roads::RoadRow {
                county: code.clone(),
                name: format!("{prefix}{}", r.name),
                lines: geo_types::MultiLineString(
                    r.ways
                        .iter()
                        .map(|w| w.iter().map(|&(x, y)| (x + dx, y + dy)).collect())
                        .collect(),
                ),
                synthetic: true,
            })
        })
        .collect();
    Ok(City {
        addresses: out,
        roads: lines,
    })
}

/// Writes addresses as the import/embedded CSV.
pub fn write_csv(path: &Path, addrs: &[Address]) -> Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record([
        "code",
        "division",
        "road",
        "number",
        "compound",
        "building",
        "lon",
        "lat",
        "status",
        "successor",
        "aliases",
        "synthetic",
    ])?;
    for a in addrs {
        w.write_record([
            a.code.as_str(),
            &a.division,
            a.road.as_deref().unwrap_or(""),
            a.number.as_deref().unwrap_or(""),
            a.compound.as_deref().unwrap_or(""),
            a.building.as_deref().unwrap_or(""),
            &format!("{:.7}", a.lon),
            &format!("{:.7}", a.lat),
            &a.status,
            a.successor.as_deref().unwrap_or(""),
            &a.aliases.join("|"),
            if a.synthetic { "true" } else { "false" },
        ])?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped sample's frontage houses (a plain number, a compound's gate, a lane's head:
    /// the points 12 m either side of the road) by road, as number → local metres.
    fn frontage() -> BTreeMap<String, BTreeMap<u32, (f64, f64)>> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut r = csv::Reader::from_path(root.join("data/addresses/huangpu_addresses.csv"))
            .expect("the shipped sample");
        let lm = crate::crs::LocalMetric::new(121.48, 31.23);
        let mut out: BTreeMap<String, BTreeMap<u32, (f64, f64)>> = BTreeMap::new();
        for row in r.records() {
            let row = row.unwrap();
            assert_eq!(&row[11], "true", "every generated row is marked synthetic");
            let (number, building) = (&row[3], &row[5]);
            let n = number
                .strip_suffix('号')
                .or_else(|| number.strip_suffix('弄'))
                .and_then(|n| n.parse::<u32>().ok());
            if let (Some(n), true, "current") = (n, building.is_empty(), &row[8]) {
                let p = lm.fwd(row[6].parse().unwrap(), row[7].parse().unwrap());
                out.entry(row[2].to_string()).or_default().insert(n, p);
            }
        }
        out
    }

    #[test]
    fn the_sample_numbers_streets_only_odd_left_even_right_increasing() {
        let osm = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/data/osm/shanghai_huangpu_drive.osm");
        let osm_names: Vec<String> = read_osm_roads(&osm)
            .unwrap()
            .into_iter()
            .map(|r| r.name)
            .collect();
        let roads = frontage();
        assert!(roads.len() >= 60, "{} roads", roads.len());
        for name in roads.keys() {
            assert!(
                osm_names.contains(name),
                "{name} is not a road of the OSM extract"
            );
        }
        // the OSM extract has them (trunk on bridges, tunnels): no house numbers there
        for structure in [
            "延安高架路",
            "南北高架路",
            "人民路隧道",
            "外滩隧道",
            "延安东路隧道",
        ] {
            assert!(!roads.contains_key(structure), "{structure} was numbered");
        }
        assert!(!osm_names.iter().any(|n| n == "延安高架路"));
        // two-way streets written out and back by OSMnx (u, v, u) are numbered: version 3
        // left them out as closed ways
        for street in ["淮海中路", "北京东路", "淮海东路"] {
            assert!(
                roads.get(street).is_some_and(|h| h.len() >= 5),
                "{street}: {:?} houses",
                roads.get(street).map(|h| h.len())
            );
        }
        let (mut pairs, mut left, mut across) = (0, 0, 0);
        let (mut steps, mut forward) = (0, 0);
        for houses in roads.values() {
            let mid = |n: u32| {
                let (a, b) = (houses.get(&n)?, houses.get(&(n + 1))?);
                Some(((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0, (a.0 - b.0, a.1 - b.1)))
            };
            for (&n, _) in houses.iter().filter(|(n, _)| *n % 2 == 1) {
                let (Some(here), Some(next)) = (mid(n), mid(n + 2)) else {
                    continue;
                };
                // the road's direction here, from this pair to the next
                let t = (next.0 - here.0, next.1 - here.1);
                let d = here.2;
                pairs += 1;
                across += usize::from((20.0..28.0).contains(&d.0.hypot(d.1)));
                left += usize::from(t.0 * d.1 - t.1 * d.0 > 0.0);
            }
            // along the principal axis of the houses, oriented as the generator orients roads
            let pts: Vec<(f64, f64)> = houses.values().copied().collect();
            let ax = numbering_axis(&pts);
            let s: Vec<f64> = houses.values().map(|p| p.0 * ax.0 + p.1 * ax.1).collect();
            for w in s.windows(2) {
                steps += 1;
                forward += usize::from(w[1] > w[0] - 12.0);
            }
        }
        assert!(pairs > 500, "{pairs} pairs");
        // odd and even of a pair face each other across the road (2 × 12 m)
        assert!(
            across * 100 >= pairs * 98,
            "{across} of {pairs} pairs 24 m apart"
        );
        // odd on the left of the direction in which numbers grow
        assert!(
            left * 100 >= pairs * 98,
            "{left} of {pairs} pairs odd on the left"
        );
        // numbers grow along the road
        assert!(
            forward * 100 >= steps * 98,
            "{forward} of {steps} steps forward"
        );
    }

    /// No two compounds of one county share a name (the sample is one county): 7 names were
    /// each given to two compounds on different roads before version 3.
    #[test]
    fn a_compound_name_is_given_once_in_the_county() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut r = csv::Reader::from_path(root.join("data/addresses/huangpu_addresses.csv"))
            .expect("the shipped sample");
        let mut gates: BTreeMap<String, std::collections::BTreeSet<(String, String)>> =
            BTreeMap::new();
        for row in r.records() {
            let row = row.unwrap();
            if !row[4].is_empty() {
                let gate = (row[2].to_string(), row[3].to_string());
                gates.entry(row[4].to_string()).or_default().insert(gate);
            }
        }
        assert!(gates.len() > 300, "{} compounds", gates.len());
        let shared: Vec<_> = gates.iter().filter(|(_, g)| g.len() > 1).collect();
        assert!(shared.is_empty(), "{shared:?}");
    }

    #[test]
    fn a_name_already_given_becomes_the_next_unused_one() {
        let mut given = HashSet::new();
        let drawn = [0, 1, 2, 3];
        let first = compound_name("", drawn, &mut given);
        assert_eq!(first, "金华庭大厦");
        // the next B part, then (after all ten) the next C part
        assert_eq!(compound_name("", drawn, &mut given), "金华都大厦");
        let mut all: Vec<String> = (2..50)
            .map(|_| compound_name("", drawn, &mut given))
            .collect();
        assert_eq!(all.last().unwrap(), "金华园公寓");
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 48);
        // all 50 B × C names given: a phase of the drawn name
        assert_eq!(compound_name("", drawn, &mut given), "金华庭大厦二期");
        assert_eq!(compound_name("", drawn, &mut given), "金华庭大厦三期");
        // another tile's prefix is another name
        assert_eq!(compound_name("东兴", drawn, &mut given), "东兴金华庭大厦");
    }

    /// The city's road lines are each tile's roads where its houses are: in a small city of
    /// two tiles, every plain house number lies 12 m from its road's line in its county
    /// (off that on a bend), and the second tile's roads, in its own county, sit 0.03° east
    /// of the first's (the first round of counties has no name prefix).
    #[test]
    fn the_city_lines_run_along_the_houses_of_their_tile() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let d = Divisions::build(crate::store::load_embedded(&root.join("data")).unwrap()).unwrap();
        let osm = root.join("../shared/data/osm/shanghai_huangpu_drive.osm");
        let city = generate_city(&d, &osm, 5, 15_000).unwrap();
        assert!(city.roads.iter().all(|r| r.synthetic));
        let lines = super::super::roads::RoadLines::build(city.roads);
        let counties: HashSet<&str> = city.addresses.iter().map(|a| &a.division[..6]).collect();
        assert_eq!(counties.len(), 2, "two tiles, two counties");
        let (mut asked, mut far) = (0, Vec::new());
        for a in &city.addresses {
            let (Some(road), Some(number), None, None) =
                (&a.road, &a.number, &a.compound, &a.building)
            else {
                continue;
            };
            if number.contains('弄') || a.status != "current" {
                continue;
            }
            let (_, dist) = lines
                .locate(&a.division[..6], road, (a.lon, a.lat))
                .unwrap_or_else(|| panic!("no line for {road} in {}", &a.division[..6]));
            asked += 1;
            if !(0.5..=12.5).contains(&dist) {
                far.push((road.clone(), number.clone(), dist));
            }
        }
        assert!(asked > 3_000, "{asked}");
        // bends: the houses are set off the numbering axis, not the segment
        assert!(
            far.len() * 20 < asked,
            "{} of {asked} houses off 12 m: {:?}",
            far.len(),
            &far[..far.len().min(5)]
        );
        let c0 = &city.addresses[0].division[..6];
        let c1 = &city.addresses.last().unwrap().division[..6];
        let m0 = lines.midpoint(c0, "福州路").unwrap();
        assert_ne!(c0, c1);
        let m1 = lines.midpoint(c1, "福州路").unwrap();
        assert!((m1.0 - m0.0 - 0.03).abs() < 1e-9 && (m1.1 - m0.1).abs() < 1e-9);
    }
}
