//! Mapbox Vector Tiles (MVT 2.1) served from diming's in-memory data, and their cache.
//!
//! Layers: `divisions` (level by zoom), `boundary_lines`, `facilities`, `coverage`,
//! `addresses` (z ≥ [`ADDRESS_MIN_ZOOM`]), `roads` (z ≥ [`ROAD_MIN_ZOOM`], the base map's road
//! network). `boundary_lines` and `coverage` take their features
//! from a [`FeatureSource`] that other modules plug in ([`TileService::set_source`]); until one
//! is plugged in, `boundary_lines` are the outlines of the division polygons of the zoom's
//! level and `coverage` is empty.

pub mod bench;
pub mod clip;
pub mod math;
pub mod mvt;

use crate::addresses::AddressBook;
use crate::divisions::{Divisions, Level};
use crate::facilities::Facility;
use geo::{BoundingRect, Geometry, LineString, MultiPolygon, Rect};
use math::{TileId, EXTENT};
use mvt::{LayerBuilder, TileGeom, Value};
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Addresses are only drawn from this zoom.
pub const ADDRESS_MIN_ZOOM: u8 = 15;
/// Roads are only drawn from this zoom.
pub const ROAD_MIN_ZOOM: u8 = 11;
/// Card fields of facilities are only put in tiles from this zoom (smaller tiles below).
pub const FACILITY_CARD_ZOOM: u8 = 11;
/// Tiles kept in the cache before it is emptied.
pub const CACHE_MAX_TILES: usize = 50_000;

/// Layer names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LayerName {
    Divisions,
    BoundaryLines,
    Facilities,
    Coverage,
    Addresses,
    Roads,
}

impl LayerName {
    pub const ALL: [LayerName; 6] = [
        LayerName::Divisions,
        LayerName::BoundaryLines,
        LayerName::Facilities,
        LayerName::Coverage,
        LayerName::Addresses,
        LayerName::Roads,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            LayerName::Divisions => "divisions",
            LayerName::BoundaryLines => "boundary_lines",
            LayerName::Facilities => "facilities",
            LayerName::Coverage => "coverage",
            LayerName::Addresses => "addresses",
            LayerName::Roads => "roads",
        }
    }
    pub fn parse(s: &str) -> Option<LayerName> {
        LayerName::ALL.into_iter().find(|l| l.as_str() == s)
    }
    /// Zoom range in which the layer has features.
    pub fn zooms(self) -> (u8, u8) {
        match self {
            LayerName::Addresses => (ADDRESS_MIN_ZOOM, math::MAX_ZOOM),
            LayerName::Roads => (ROAD_MIN_ZOOM, math::MAX_ZOOM),
            _ => (0, math::MAX_ZOOM),
        }
    }
    pub fn description(self) -> &'static str {
        match self {
            LayerName::Divisions => "行政区划面 (division polygons; level chosen by zoom)",
            LayerName::BoundaryLines => "界线 (boundary lines)",
            LayerName::Facilities => "养老服务设施 (eldercare facilities)",
            LayerName::Coverage => {
                "服务范围与覆盖率 (service areas and covered share per community)"
            }
            LayerName::Addresses => "标准地址 (standard addresses, high zooms only)",
            LayerName::Roads => "道路 (road network of the base map, from the walking network)",
        }
    }
}

/// Parses `divisions,facilities`; the error names the bad layer.
pub fn parse_layers(s: &str) -> Result<Vec<LayerName>, String> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let l = LayerName::parse(part.trim()).ok_or_else(|| {
            format!(
                "unknown layer '{part}' (expected: divisions, boundary_lines, facilities, coverage, addresses, roads)"
            )
        })?;
        if !out.contains(&l) {
            out.push(l);
        }
    }
    if out.is_empty() {
        return Err("no layer given".into());
    }
    Ok(out)
}

/// A feature offered by a pluggable source (lon/lat WGS84 geometry).
#[derive(Debug, Clone)]
pub struct SourceFeature {
    pub id: Option<u64>,
    pub geometry: Geometry<f64>,
    pub props: Vec<(String, Value)>,
}

/// Supplies features of a layer (`boundary_lines` from boundary inspection, `coverage` from
/// the coverage module). `version()` must change whenever the features change.
pub trait FeatureSource: Send + Sync {
    /// Features intersecting the lon/lat box (west, south, east, north) at zoom `z`.
    fn features(&self, bbox: [f64; 4], z: u8) -> Vec<SourceFeature>;
    fn version(&self) -> u64;
}

/// A bounding-box R-tree over items (the data is the item's position).
pub type BoxTree =
    rstar::RTree<rstar::primitives::GeomWithData<rstar::primitives::Rectangle<[f64; 2]>, u32>>;

/// Builds a [`BoxTree`] from (west, south, east, north) boxes.
pub fn box_tree(boxes: impl Iterator<Item = [f64; 4]>) -> BoxTree {
    use rstar::primitives::{GeomWithData, Rectangle};
    rstar::RTree::bulk_load(
        boxes
            .enumerate()
            .map(|(i, b)| {
                GeomWithData::new(
                    Rectangle::from_corners([b[0], b[1]], [b[2], b[3]]),
                    i as u32,
                )
            })
            .collect(),
    )
}

/// Positions of the items whose box meets `bbox`, in order.
pub fn box_query(tree: &BoxTree, bbox: [f64; 4]) -> Vec<u32> {
    let env = rstar::AABB::from_corners([bbox[0], bbox[1]], [bbox[2], bbox[3]]);
    let mut idx: Vec<u32> = tree
        .locate_in_envelope_intersecting(&env)
        .map(|g| g.data)
        .collect();
    idx.sort_unstable();
    idx
}

/// A fixed list of features with a box index: a ready [`FeatureSource`] (feature ids are
/// their position + 1).
pub struct IndexedFeatures {
    features: Vec<SourceFeature>,
    tree: BoxTree,
    version: u64,
}

impl IndexedFeatures {
    pub fn new(mut features: Vec<SourceFeature>, version: u64) -> IndexedFeatures {
        use geo::BoundingRect;
        features.retain(|f| f.geometry.bounding_rect().is_some());
        for (i, f) in features.iter_mut().enumerate() {
            f.id = Some(i as u64 + 1);
        }
        let tree = box_tree(features.iter().map(|f| {
            let r = f.geometry.bounding_rect().expect("kept above");
            [r.min().x, r.min().y, r.max().x, r.max().y]
        }));
        IndexedFeatures {
            features,
            tree,
            version,
        }
    }
    pub fn len(&self) -> usize {
        self.features.len()
    }
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }
}

impl FeatureSource for IndexedFeatures {
    fn features(&self, bbox: [f64; 4], _z: u8) -> Vec<SourceFeature> {
        box_query(&self.tree, bbox)
            .into_iter()
            .map(|i| self.features[i as usize].clone())
            .collect()
    }
    fn version(&self) -> u64 {
        self.version
    }
}

/// The division level drawn at a zoom (the deepest level with polygons not deeper than the
/// zoom's natural level; the coarsest available level when none is that coarse).
pub fn natural_level(z: u8) -> Level {
    match z {
        0..=5 => Level::Province,
        6..=7 => Level::City,
        8..=11 => Level::County,
        12..=13 => Level::Township,
        _ => Level::Village,
    }
}

pub fn level_for_zoom(d: &Divisions, z: u8) -> Option<Level> {
    let want = natural_level(z);
    let avail: Vec<Level> = d.layers.iter().map(|l| l.level).collect();
    avail
        .iter()
        .copied()
        .filter(|l| *l <= want)
        .max()
        .or_else(|| avail.iter().copied().min())
}

/// Douglas-Peucker tolerance in tile units (4096 per tile) at a zoom.
pub fn tolerance(z: u8) -> f64 {
    if z >= 16 {
        1.0
    } else {
        4.0
    }
}

/// A rendered tile (None body: empty tile).
pub struct Rendered {
    pub raw: Option<Vec<u8>>,
    pub gz: Option<Vec<u8>>,
    pub etag: String,
}

/// Everything a render reads, snapshotted under the cache stamp.
struct Prepared {
    divisions: Arc<Divisions>,
    addresses: Arc<AddressBook>,
    /// per level: (division index, bounding rect)
    rects: HashMap<Level, Vec<(u32, Rect<f64>)>>,
    facilities: Vec<Facility>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Stamp {
    facilities: u64,
    generation: u64,
    divisions: usize,
    addresses: usize,
    boundary_src: u64,
    coverage_src: u64,
    roads_src: u64,
}

struct CacheState {
    stamp: Option<Stamp>,
    prepared: Option<Arc<Prepared>>,
    tiles: HashMap<(String, TileId), Arc<Rendered>>,
}

/// The tile service: pluggable sources, the generation counter and the cache.
pub struct TileService {
    generation: AtomicU64,
    boundary_lines: RwLock<Option<Arc<dyn FeatureSource>>>,
    coverage: RwLock<Option<Arc<dyn FeatureSource>>>,
    roads: RwLock<Option<Arc<dyn FeatureSource>>>,
    cache: Mutex<CacheState>,
    pub hits: AtomicU64,
    pub misses: AtomicU64,
}

impl Default for TileService {
    fn default() -> Self {
        TileService {
            generation: AtomicU64::new(0),
            boundary_lines: RwLock::new(None),
            coverage: RwLock::new(None),
            roads: RwLock::new(None),
            cache: Mutex::new(CacheState {
                stamp: None,
                prepared: None,
                tiles: HashMap::new(),
            }),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }
}

/// Inputs of a tile request, read from the application state.
pub struct Inputs<'a> {
    pub divisions: Arc<Divisions>,
    pub addresses: Arc<AddressBook>,
    pub facilities: &'a crate::facilities::FacilityRegistry,
}

impl TileService {
    /// Call after swapping divisions or addresses (the cache also notices a swapped Arc).
    pub fn invalidate(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::SeqCst) + 1
    }
    /// Plugs in the source of `boundary_lines` or `coverage`.
    pub fn set_source(&self, layer: LayerName, src: Arc<dyn FeatureSource>) {
        match layer {
            LayerName::BoundaryLines => *self.boundary_lines.write() = Some(src),
            LayerName::Coverage => *self.coverage.write() = Some(src),
            LayerName::Roads => *self.roads.write() = Some(src),
            _ => {}
        }
        self.invalidate();
    }
    pub fn has_source(&self, layer: LayerName) -> bool {
        match layer {
            LayerName::BoundaryLines => self.boundary_lines.read().is_some(),
            LayerName::Coverage => self.coverage.read().is_some(),
            LayerName::Roads => self.roads.read().is_some(),
            _ => true,
        }
    }

    fn stamp(&self, inp: &Inputs) -> Stamp {
        let v = |s: &RwLock<Option<Arc<dyn FeatureSource>>>| {
            s.read().as_ref().map(|s| s.version() + 1).unwrap_or(0)
        };
        Stamp {
            facilities: inp.facilities.version(),
            generation: self.generation.load(Ordering::SeqCst),
            divisions: Arc::as_ptr(&inp.divisions) as usize,
            addresses: Arc::as_ptr(&inp.addresses) as usize,
            boundary_src: v(&self.boundary_lines),
            coverage_src: v(&self.coverage),
            roads_src: v(&self.roads),
        }
    }

    /// The tile for `layers` at `t`, from the cache or rendered now.
    pub fn tile(&self, inp: &Inputs, layers: &[LayerName], t: TileId) -> Arc<Rendered> {
        let stamp = self.stamp(inp);
        let key: String = layers
            .iter()
            .map(|l| l.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let prepared = {
            let mut c = self.cache.lock();
            if c.stamp != Some(stamp) {
                c.tiles.clear();
                c.prepared = None;
                c.stamp = Some(stamp);
            }
            if let Some(r) = c.tiles.get(&(key.clone(), t)) {
                self.hits.fetch_add(1, Ordering::Relaxed);
                return r.clone();
            }
            if c.prepared.is_none() {
                c.prepared = Some(Arc::new(prepare(inp)));
            }
            c.prepared.clone().unwrap()
        };
        self.misses.fetch_add(1, Ordering::Relaxed);
        let raw = self.render(&prepared, layers, t);
        let rendered = Arc::new(finish(raw));
        let mut c = self.cache.lock();
        if c.stamp == Some(stamp) {
            if c.tiles.len() >= CACHE_MAX_TILES {
                c.tiles.clear();
            }
            c.tiles.insert((key, t), rendered.clone());
        }
        rendered
    }

    fn render(&self, p: &Prepared, layers: &[LayerName], t: TileId) -> Option<Vec<u8>> {
        let mut builders = Vec::new();
        for &l in layers {
            let mut b = LayerBuilder::new(l.as_str(), EXTENT);
            match l {
                LayerName::Divisions => division_layer(&mut b, p, t, false),
                LayerName::BoundaryLines => match self.boundary_lines.read().clone() {
                    Some(src) => source_layer(&mut b, src.as_ref(), t),
                    None => division_layer(&mut b, p, t, true),
                },
                LayerName::Facilities => facility_layer(&mut b, p, t),
                LayerName::Coverage => {
                    if let Some(src) = self.coverage.read().clone() {
                        source_layer(&mut b, src.as_ref(), t)
                    }
                }
                LayerName::Addresses => address_layer(&mut b, p, t),
                LayerName::Roads => {
                    if let Some(src) = self.roads.read().clone() {
                        if t.z >= ROAD_MIN_ZOOM {
                            source_layer(&mut b, src.as_ref(), t)
                        }
                    }
                }
            }
            builders.push(b);
        }
        mvt::encode_tile(&builders)
    }
}

fn prepare(inp: &Inputs) -> Prepared {
    let d = &inp.divisions;
    let mut rects: HashMap<Level, Vec<(u32, Rect<f64>)>> = HashMap::new();
    for layer in &d.layers {
        let v = rects.entry(layer.level).or_default();
        for &div in &layer.div_of_poly {
            if let Some(r) = d.geoms.get(&div).and_then(|g| g.bounding_rect()) {
                v.push((div, r));
            }
        }
    }
    Prepared {
        divisions: inp.divisions.clone(),
        addresses: inp.addresses.clone(),
        rects,
        facilities: inp.facilities.active(),
    }
}

fn finish(raw: Option<Vec<u8>>) -> Rendered {
    use sha2::Digest;
    use std::io::Write;
    let etag = match &raw {
        Some(b) => format!("\"{}\"", &hex::encode(sha2::Sha256::digest(b))[..32]),
        None => "\"empty\"".to_string(),
    };
    let gz = raw.as_ref().map(|b| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        e.write_all(b).expect("gzip to memory");
        e.finish().expect("gzip to memory")
    });
    Rendered { raw, gz, etag }
}

fn intersects(r: &Rect<f64>, b: [f64; 4]) -> bool {
    r.min().x <= b[2] && r.max().x >= b[0] && r.min().y <= b[3] && r.max().y >= b[1]
}

fn division_layer(b: &mut LayerBuilder, p: &Prepared, t: TileId, outlines: bool) {
    let d = &p.divisions;
    let Some(level) = level_for_zoom(d, t.z) else {
        return;
    };
    let bb = t.buffered_bounds();
    let tol = tolerance(t.z);
    for (div, r) in p.rects.get(&level).map(|v| v.as_slice()).unwrap_or(&[]) {
        if !intersects(r, bb) {
            continue;
        }
        let mp: &MultiPolygon<f64> = &d.geoms[div];
        let dv = d.tree.get(*div);
        let geom = if outlines {
            let rings: Vec<&LineString<f64>> =
                mp.0.iter()
                    .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                    .collect();
            TileGeom::Lines(clip::lines(&t, &rings, tol))
        } else {
            TileGeom::Polygons(clip::polygons(&t, mp, tol))
        };
        let mut props: Vec<(&str, Value)> = vec![
            ("code", dv.code().into()),
            ("name", dv.name.as_str().into()),
            ("level", dv.level.as_str().into()),
            (
                "synthetic",
                d.synthetic_geom.get(div).copied().unwrap_or(false).into(),
            ),
        ];
        if outlines {
            // honest provenance: not the inspected shared lines
            props.push(("source", "division_outline".into()));
        }
        b.add(Some(*div as u64), &geom, &props);
    }
}

fn facility_layer(b: &mut LayerBuilder, p: &Prepared, t: TileId) {
    let bb = t.bounds();
    let card = t.z >= FACILITY_CARD_ZOOM;
    for (i, f) in p.facilities.iter().enumerate() {
        if f.lon < bb[0] || f.lon > bb[2] || f.lat < bb[1] || f.lat > bb[3] {
            continue;
        }
        let Some(pt) = clip::point(&t, f.lon, f.lat) else {
            continue;
        };
        let mut props: Vec<(&str, Value)> = vec![
            ("id", f.id.as_str().into()),
            ("name", f.name.as_str().into()),
            ("type", f.kind.as_str().into()),
            ("type_zh", f.kind.zh().into()),
            ("status", f.status.as_str().into()),
            ("synthetic", f.synthetic.into()),
            ("lon", f.lon.into()),
            ("lat", f.lat.into()),
        ];
        if card {
            let opt = |props: &mut Vec<(&str, Value)>, k, v: &Option<String>| {
                if let Some(v) = v {
                    props.push((k, v.as_str().into()));
                }
            };
            opt(&mut props, "level", &f.level);
            opt(&mut props, "address", &f.address);
            opt(&mut props, "phone", &f.phone);
            opt(&mut props, "hours", &f.hours);
            opt(&mut props, "operator", &f.operator);
            opt(&mut props, "photo_url", &f.photo_url);
            opt(&mut props, "division", &f.division);
            if let Some(v) = f.beds {
                props.push(("beds", v.into()));
            }
            if let Some(v) = f.nursing_beds {
                props.push(("nursing_beds", v.into()));
            }
            if let Some(v) = f.price_min {
                props.push(("price_min", v.into()));
            }
            if let Some(v) = f.price_max {
                props.push(("price_max", v.into()));
            }
        }
        b.add(Some(i as u64 + 1), &TileGeom::Points(vec![pt]), &props);
    }
}

fn address_layer(b: &mut LayerBuilder, p: &Prepared, t: TileId) {
    if t.z < ADDRESS_MIN_ZOOM {
        return;
    }
    let bb = t.bounds();
    for ri in p.addresses.in_bbox(bb) {
        let a = p.addresses.address(ri);
        let i = ri as usize;
        if a.status == "retired" {
            continue;
        }
        let Some(pt) = clip::point(&t, a.lon, a.lat) else {
            continue;
        };
        let mut props: Vec<(&str, Value)> = vec![
            ("code", a.code.as_str().into()),
            ("address", p.addresses.full_text(ri).into()),
            ("synthetic", a.synthetic.into()),
        ];
        if let Some(n) = &a.number {
            props.push(("number", n.as_str().into()));
        }
        b.add(Some(i as u64 + 1), &TileGeom::Points(vec![pt]), &props);
    }
}

fn source_layer(b: &mut LayerBuilder, src: &dyn FeatureSource, t: TileId) {
    let tol = tolerance(t.z);
    for f in src.features(t.buffered_bounds(), t.z) {
        let geom = match &f.geometry {
            Geometry::Point(p) => clip::point(&t, p.x(), p.y()).map(|p| TileGeom::Points(vec![p])),
            Geometry::MultiPoint(mp) => Some(TileGeom::Points(
                mp.0.iter()
                    .filter_map(|p| clip::point(&t, p.x(), p.y()))
                    .collect(),
            )),
            Geometry::LineString(l) => Some(TileGeom::Lines(clip::lines(&t, &[l], tol))),
            Geometry::MultiLineString(ml) => {
                let ls: Vec<&LineString<f64>> = ml.0.iter().collect();
                Some(TileGeom::Lines(clip::lines(&t, &ls, tol)))
            }
            Geometry::Polygon(p) => Some(TileGeom::Polygons(clip::polygons(
                &t,
                &MultiPolygon(vec![p.clone()]),
                tol,
            ))),
            Geometry::MultiPolygon(mp) => Some(TileGeom::Polygons(clip::polygons(&t, mp, tol))),
            _ => None,
        };
        if let Some(g) = geom {
            let props: Vec<(&str, Value)> = f
                .props
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect();
            b.add(f.id, &g, &props);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facilities::{FacilityRegistry, FacilityType};

    fn fac(id: &str, name: &str, lon: f64, lat: f64) -> Facility {
        Facility {
            id: id.into(),
            name: name.into(),
            kind: FacilityType::DayCare,
            lon,
            lat,
            address: None,
            address_code: None,
            division: None,
            level: None,
            beds: Some(30),
            nursing_beds: None,
            price_min: None,
            price_max: None,
            phone: None,
            hours: None,
            operator: None,
            photo_url: None,
            status: "open".into(),
            synthetic: true,
        }
    }

    fn contains(hay: &[u8], needle: &str) -> bool {
        hay.windows(needle.len()).any(|w| w == needle.as_bytes())
    }

    #[test]
    fn a_new_facility_is_in_the_next_tile() {
        let divisions = Arc::new(
            Divisions::build(crate::store::DivisionSource {
                tree: Default::default(),
                changes: Default::default(),
                polygons: vec![],
                origin: "test".into(),
            })
            .unwrap(),
        );
        let addresses = Arc::new(AddressBook::default());
        let reg = FacilityRegistry::default();
        let svc = TileService::default();
        let t = TileId::covering(14, [121.4741, 31.2322, 121.4741, 31.2322])[0];
        let inp = Inputs {
            divisions: divisions.clone(),
            addresses: addresses.clone(),
            facilities: &reg,
        };
        let layers = [LayerName::Facilities];
        assert!(svc.tile(&inp, &layers, t).raw.is_none(), "empty before");
        reg.upsert(fac("a", "甲照料中心", 121.4741, 31.2322));
        let r1 = svc.tile(&inp, &layers, t);
        let raw1 = r1.raw.as_ref().expect("facility tile");
        assert!(contains(raw1, "甲照料中心"));
        // cached: same Arc
        assert!(Arc::ptr_eq(&r1, &svc.tile(&inp, &layers, t)));
        reg.upsert(fac("b", "乙照料中心", 121.4745, 31.2325));
        let r2 = svc.tile(&inp, &layers, t);
        let raw2 = r2.raw.as_ref().unwrap();
        assert!(contains(raw2, "甲照料中心") && contains(raw2, "乙照料中心"));
        assert_ne!(r1.etag, r2.etag);
        // a facility outside the tile does not appear in it
        assert!(!contains(raw2, "丙"));
    }

    #[test]
    fn layers_parse_and_levels() {
        assert_eq!(
            parse_layers("divisions,facilities").unwrap(),
            vec![LayerName::Divisions, LayerName::Facilities]
        );
        assert!(parse_layers("divisions,rivers")
            .unwrap_err()
            .contains("rivers"));
        assert_eq!(
            parse_layers("roads,coverage").unwrap(),
            vec![LayerName::Roads, LayerName::Coverage]
        );
        assert_eq!(natural_level(10), Level::County);
    }
}
