//! OpenStreetMap import: keeps the ways a person can walk and splits them into segments.

use super::Network;
use crate::crs::distance_m;
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::path::Path;

/// Whether a way with these tags is walkable.
///
/// Kept: footway, pedestrian, path, steps, living_street, residential, service, unclassified,
/// tertiary/secondary/primary (and their links), track, cycleway, corridor, road. Dropped:
/// motorways and trunk roads (elevated expressways in Chinese cities), construction/proposed,
/// `foot=no`, `access=no|private` (unless `foot=yes|designated|permissive`), `area=yes`.
pub fn walkable(tags: &HashMap<String, String>) -> bool {
    let Some(hw) = tags.get("highway") else {
        return false;
    };
    let foot = tags.get("foot").map(String::as_str);
    if foot == Some("no") {
        return false;
    }
    let foot_yes = matches!(foot, Some("yes" | "designated" | "permissive"));
    let ok = matches!(
        hw.as_str(),
        "footway"
            | "pedestrian"
            | "path"
            | "steps"
            | "living_street"
            | "residential"
            | "service"
            | "unclassified"
            | "tertiary"
            | "tertiary_link"
            | "secondary"
            | "secondary_link"
            | "primary"
            | "primary_link"
            | "track"
            | "cycleway"
            | "corridor"
            | "road"
    ) || (foot_yes && !matches!(hw.as_str(), "construction" | "proposed"));
    if !ok {
        return false;
    }
    if matches!(
        tags.get("access").map(String::as_str),
        Some("no" | "private")
    ) && !foot_yes
    {
        return false;
    }
    tags.get("area").map(String::as_str) != Some("yes")
}

/// Raw parse result: node coordinates and walkable ways (node id lists).
#[derive(Default)]
pub struct OsmWays {
    pub nodes: HashMap<i64, (f64, f64)>,
    pub ways: Vec<Vec<i64>>,
    /// `name` tag of each kept way
    pub names: Vec<Option<String>>,
    pub ways_seen: usize,
}

/// Reads `.osm.pbf` or `.osm` (XML) and returns coordinates and walkable ways.
pub fn read_ways(path: &Path) -> Result<OsmWays> {
    let name = path.to_string_lossy().to_ascii_lowercase();
    if name.ends_with(".pbf") {
        read_pbf(path)
    } else if name.ends_with(".osm") || name.ends_with(".xml") {
        read_xml(path)
    } else {
        bail!(
            "{}: unknown OSM format (expected .osm.pbf or .osm)",
            path.display()
        )
    }
}

fn read_pbf(path: &Path) -> Result<OsmWays> {
    use osmpbf::{Element, ElementReader};
    let rdr =
        ElementReader::from_path(path).with_context(|| format!("opening {}", path.display()))?;
    let mut o = OsmWays::default();
    rdr.for_each(|el| match el {
        Element::Node(n) => {
            o.nodes.insert(n.id(), (n.lon(), n.lat()));
        }
        Element::DenseNode(n) => {
            o.nodes.insert(n.id(), (n.lon(), n.lat()));
        }
        Element::Way(w) => {
            o.ways_seen += 1;
            let tags: HashMap<String, String> = w
                .tags()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            if walkable(&tags) {
                o.names.push(tags.get("name").cloned());
                o.ways.push(w.refs().collect());
            }
        }
        Element::Relation(_) => {}
    })
    .with_context(|| format!("reading {}", path.display()))?;
    Ok(o)
}

fn read_xml(path: &Path) -> Result<OsmWays> {
    use quick_xml::events::Event;
    let mut rdr = quick_xml::Reader::from_file(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let mut buf = Vec::new();
    let mut o = OsmWays::default();
    let mut in_way = false;
    let mut refs: Vec<i64> = Vec::new();
    let mut tags: HashMap<String, String> = HashMap::new();
    let attr = |e: &quick_xml::events::BytesStart, k: &[u8]| -> Option<String> {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == k)
            .map(|a| String::from_utf8_lossy(&a.value).into_owned())
    };
    loop {
        let ev = rdr.read_event_into(&mut buf).with_context(|| {
            format!(
                "{}: XML error at byte {}",
                path.display(),
                rdr.buffer_position()
            )
        })?;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_start = matches!(ev, Event::Start(_));
                match e.name().as_ref() {
                    b"node" => {
                        let id = attr(e, b"id").and_then(|s| s.parse::<i64>().ok());
                        let lon = attr(e, b"lon").and_then(|s| s.parse::<f64>().ok());
                        let lat = attr(e, b"lat").and_then(|s| s.parse::<f64>().ok());
                        match (id, lon, lat) {
                            (Some(id), Some(lon), Some(lat)) => {
                                o.nodes.insert(id, (lon, lat));
                            }
                            _ => bail!("{}: node without id/lon/lat", path.display()),
                        }
                    }
                    b"way" => {
                        in_way = is_start;
                        refs.clear();
                        tags.clear();
                        o.ways_seen += 1;
                    }
                    b"nd" if in_way => {
                        if let Some(r) = attr(e, b"ref").and_then(|s| s.parse().ok()) {
                            refs.push(r);
                        }
                    }
                    b"tag" if in_way => {
                        if let (Some(k), Some(v)) = (attr(e, b"k"), attr(e, b"v")) {
                            tags.insert(k, v);
                        }
                    }
                    _ => {}
                }
            }
            Event::End(ref e) if e.name().as_ref() == b"way" => {
                in_way = false;
                if walkable(&tags) {
                    o.names.push(tags.get("name").cloned());
                    o.ways.push(std::mem::take(&mut refs));
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(o)
}

/// Builds the network: every node of a walkable way becomes a graph node, every consecutive
/// pair an undirected segment with its geodesic length in metres.
pub fn import(path: &Path, note: &str) -> Result<Network> {
    let o = read_ways(path)?;
    let mut index: HashMap<i64, u32> = HashMap::new();
    let mut lon = Vec::new();
    let mut lat = Vec::new();
    let mut edges = Vec::new();
    let mut missing = 0usize;
    for w in &o.ways {
        let mut prev: Option<u32> = None;
        for r in w {
            let Some(&(x, y)) = o.nodes.get(r) else {
                missing += 1;
                prev = None;
                continue;
            };
            let id = *index.entry(*r).or_insert_with(|| {
                lon.push(x);
                lat.push(y);
                (lon.len() - 1) as u32
            });
            if let Some(p) = prev {
                if p != id {
                    let l = distance_m(
                        (lon[p as usize], lat[p as usize]),
                        (lon[id as usize], lat[id as usize]),
                    );
                    edges.push((p, id, l as f32));
                }
            }
            prev = Some(id);
        }
    }
    if edges.is_empty() {
        bail!("{}: no walkable ways found", path.display());
    }
    let meta = serde_json::json!({
        "source": path.file_name().map(|s| s.to_string_lossy().into_owned()),
        "ways_seen": o.ways_seen,
        "walkable_ways": o.ways.len(),
        "segments": edges.len(),
        "missing_node_refs": missing,
        "note": note,
        "licence": "data © OpenStreetMap contributors, ODbL 1.0",
    });
    Ok(Network::from_edges(lon, lat, &edges, meta))
}
