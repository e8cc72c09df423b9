//! Feature I/O shared by every importer: GeoJSON (optionally gzipped), FlatGeobuf and CSV with
//! lon/lat columns, read into plain (properties, geo-types geometry) records.

use anyhow::{anyhow, bail, Context, Result};
use flatgeobuf::{
    ColumnType, FallibleStreamingIterator, FeatureProperties, FgbCrs, FgbReader, FgbWriter,
    FgbWriterOptions, GeometryType,
};
use geo::{Geometry, MultiPolygon};
use geozero::{ColumnValue, PropertyProcessor, ToGeo};
use std::collections::BTreeMap;
use std::io::{BufReader, Read, Write};
use std::path::Path;

/// A feature read from a file: string-valued properties and a geometry.
#[derive(Debug, Clone)]
pub struct Feature {
    pub props: BTreeMap<String, String>,
    pub geometry: Geometry<f64>,
}

impl Feature {
    pub fn prop(&self, k: &str) -> Option<String> {
        self.props.get(k).filter(|s| !s.is_empty()).cloned()
    }
}

/// Reads all features of a GeoJSON (`.geojson`, `.json`, `.geojson.gz`) or FlatGeobuf (`.fgb`)
/// file. Errors name the file and the feature.
pub fn read_features(path: &Path) -> Result<Vec<Feature>> {
    let name = path.to_string_lossy().to_lowercase();
    if name.ends_with(".fgb") {
        read_fgb(path)
    } else if name.ends_with(".geojson") || name.ends_with(".json") || name.ends_with(".geojson.gz")
    {
        read_geojson(path)
    } else {
        bail!(
            "{}: unknown file type (expected .geojson, .geojson.gz or .fgb)",
            path.display()
        )
    }
}

fn open_maybe_gz(path: &Path) -> Result<Box<dyn Read>> {
    let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    if path.to_string_lossy().ends_with(".gz") {
        Ok(Box::new(flate2::read::GzDecoder::new(
            BufReader::with_capacity(1 << 20, f),
        )))
    } else {
        Ok(Box::new(BufReader::with_capacity(1 << 20, f)))
    }
}

fn json_to_string(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

pub fn read_geojson(path: &Path) -> Result<Vec<Feature>> {
    let mut s = String::new();
    open_maybe_gz(path)?
        .read_to_string(&mut s)
        .with_context(|| format!("{}: not UTF-8 text", path.display()))?;
    let gj: geojson::GeoJson = s
        .parse()
        .map_err(|e| anyhow!("{}: invalid GeoJSON: {e}", path.display()))?;
    let feats = match gj {
        geojson::GeoJson::FeatureCollection(fc) => fc.features,
        geojson::GeoJson::Feature(f) => vec![f],
        geojson::GeoJson::Geometry(_) => {
            bail!("{}: a bare geometry, expected features", path.display())
        }
    };
    let mut out = Vec::with_capacity(feats.len());
    for (n, f) in feats.into_iter().enumerate() {
        let props = f
            .properties
            .as_ref()
            .map(|p| {
                p.iter()
                    .map(|(k, v)| (k.clone(), json_to_string(v)))
                    .collect()
            })
            .unwrap_or_default();
        let g = f
            .geometry
            .ok_or_else(|| anyhow!("{} feature {n}: no geometry", path.display()))?;
        let geometry: Geometry<f64> = g
            .try_into()
            .map_err(|e| anyhow!("{} feature {n}: bad geometry: {e}", path.display()))?;
        out.push(Feature { props, geometry });
    }
    Ok(out)
}

pub fn read_fgb(path: &Path) -> Result<Vec<Feature>> {
    let mut f = BufReader::with_capacity(
        1 << 20,
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
    );
    let mut rdr = FgbReader::open(&mut f)
        .map_err(|e| anyhow!("{}: not a FlatGeobuf file: {e}", path.display()))?
        .select_all_seq()
        .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    let mut n = 0usize;
    while let Some(feat) = rdr
        .next()
        .map_err(|e| anyhow!("{} feature {n}: {e}", path.display()))?
    {
        let props: BTreeMap<String, String> = feat
            .properties()
            .map_err(|e| anyhow!("{} feature {n}: properties: {e}", path.display()))?
            .into_iter()
            .collect();
        let geometry = feat
            .to_geo()
            .map_err(|e| anyhow!("{} feature {n}: geometry: {e}", path.display()))?;
        out.push(Feature { props, geometry });
        n += 1;
    }
    Ok(out)
}

/// Writes features to a FlatGeobuf file with a spatial index, all properties as strings,
/// CRS EPSG:4490 (CGCS2000) unless `epsg` says otherwise.
pub fn write_fgb(
    path: &Path,
    name: &str,
    columns: &[&str],
    feats: &[Feature],
    epsg: i32,
) -> Result<()> {
    let gt = match feats.first().map(|f| &f.geometry) {
        Some(Geometry::Point(_)) => GeometryType::Point,
        Some(Geometry::LineString(_)) => GeometryType::LineString,
        Some(Geometry::MultiLineString(_)) => GeometryType::MultiLineString,
        Some(Geometry::Polygon(_)) => GeometryType::Polygon,
        Some(Geometry::MultiPolygon(_)) => GeometryType::MultiPolygon,
        _ => GeometryType::Unknown,
    };
    let mut w = FgbWriter::create_with_options(
        name,
        gt,
        FgbWriterOptions {
            write_index: true,
            crs: FgbCrs {
                code: epsg,
                ..Default::default()
            },
            ..Default::default()
        },
    )?;
    for c in columns {
        w.add_column(c, ColumnType::String, |_, col| col.nullable = true);
    }
    for f in feats {
        w.add_feature_geom(f.geometry.clone(), |feat| {
            for (i, c) in columns.iter().enumerate() {
                if let Some(v) = f.props.get(*c) {
                    feat.property(i, c, &ColumnValue::String(v)).ok();
                }
            }
        })?;
    }
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
    );
    w.write(&mut out)?;
    out.flush()?;
    Ok(())
}

/// Polygon or MultiPolygon → MultiPolygon.
pub fn to_multipolygon(g: Geometry<f64>) -> Result<MultiPolygon<f64>> {
    match g {
        Geometry::MultiPolygon(mp) => Ok(mp),
        Geometry::Polygon(p) => Ok(MultiPolygon(vec![p])),
        other => bail!(
            "expected a Polygon or MultiPolygon, got {}",
            geom_type(&other)
        ),
    }
}

pub fn geom_type(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "Point",
        Geometry::Line(_) => "Line",
        Geometry::LineString(_) => "LineString",
        Geometry::Polygon(_) => "Polygon",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
        Geometry::Rect(_) => "Rect",
        Geometry::Triangle(_) => "Triangle",
    }
}
