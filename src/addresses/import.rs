//! Import of standard addresses from CSV, GeoJSON or FlatGeobuf (any `crs`), into PostGIS in
//! one transaction, with a report of every rejected row (line, field, reason). Re-importing
//! the same file is idempotent (upsert on the standard code; the code is derived from the
//! address elements, so the same row always gets the same code). Any rejected row aborts the
//! whole import (all-or-nothing); the report lists all of them.

use super::Address;
use crate::crs::Crs;
use crate::divisions::Divisions;
use anyhow::{Context, Result};
use encoding_rs::Encoding;
use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

/// The text encoding named by `label`: any WHATWG label (`utf-8`; `gbk`, `gb2312`, `gb18030`
/// and `cp936`, which all read as GB18030, what Excel writes CSV in on Chinese Windows;
/// `big5` for Taiwan and Hong Kong files). CSV input only: JSON, GeoJSON and FlatGeobuf are
/// UTF-8 by their specifications.
pub fn encoding_for(label: &str) -> Result<&'static Encoding, String> {
    let label = label.trim();
    // (Windows' and Python's name for GBK, not a WHATWG label)
    if label.eq_ignore_ascii_case("cp936") {
        return Ok(encoding_rs::GBK);
    }
    Encoding::for_label(label.as_bytes()).ok_or_else(|| {
        format!("unknown text encoding '{label}' (utf-8, gb18030, gbk, gb2312, big5, …)")
    })
}

/// `bytes` written in `enc`, as UTF-8. UTF-8 is passed through as it is (the CSV reader then
/// reports an invalid row by its line, and a leading byte order mark is skipped); another
/// encoding is decoded whole, and a byte sequence that is not valid in it is an error naming
/// its line: nothing is replaced by guesswork.
pub fn to_utf8<'a>(bytes: &'a [u8], enc: &'static Encoding) -> Result<Cow<'a, [u8]>, String> {
    if enc == encoding_rs::UTF_8 {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut dec = enc.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(dec.max_utf8_buffer_length(bytes.len()).unwrap_or(0));
    let (res, read) = dec.decode_to_string_without_replacement(bytes, &mut out, true);
    match res {
        encoding_rs::DecoderResult::InputEmpty => Ok(Cow::Owned(out.into_bytes())),
        encoding_rs::DecoderResult::Malformed(bad, _) => {
            let at = read.saturating_sub(bad as usize);
            Err(format!(
                "line {}: bytes that are not valid {} (byte {at})",
                line_at(bytes, at),
                enc.name()
            ))
        }
        // (the buffer holds the longest possible output)
        encoding_rs::DecoderResult::OutputFull => Err("decoding buffer too small".into()),
    }
}

/// The 1-based line of `text` that byte `at` is on.
pub fn line_at(text: &[u8], at: usize) -> usize {
    1 + memchr::memchr_iter(b'\n', &text[..at.min(text.len())]).count()
}

/// A rejected input row.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Reject {
    pub file: String,
    /// 1-based line in a CSV (header = line 1), or feature number + 1 in GeoJSON/FGB
    pub line: usize,
    pub field: String,
    pub reason: String,
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} line {}: {}: {}",
            self.file, self.line, self.field, self.reason
        )
    }
}

fn opt(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(String::from)
}

fn row_to_address(
    get: &dyn Fn(&str) -> Option<String>,
    lonlat: Option<(f64, f64)>,
    crs: Crs,
) -> Result<Address, (String, String)> {
    let (lon, lat) = match lonlat {
        Some(p) => p,
        None => {
            let num = |k: &str| -> Result<f64, (String, String)> {
                let v = get(k).ok_or_else(|| (k.to_string(), "missing".to_string()))?;
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| (k.to_string(), format!("'{v}' is not a number")))
            };
            (num("lon")?, num("lat")?)
        }
    };
    crate::crs::check_lon_lat(lon, lat).map_err(|(f, m)| (f.to_string(), m))?;
    let (lon, lat) = crs.to_wgs84(lon, lat);
    let division =
        get("division").ok_or_else(|| ("division".to_string(), "missing".to_string()))?;
    let synthetic = match get("synthetic").as_deref() {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(o) => return Err(("synthetic".into(), format!("'{o}' is not true/false"))),
    };
    Ok(Address {
        code: get("code").unwrap_or_default(),
        division,
        road: get("road"),
        number: get("number"),
        compound: get("compound"),
        building: get("building"),
        lon,
        lat,
        status: get("status").unwrap_or_else(|| "current".into()),
        successor: get("successor"),
        aliases: get("aliases")
            .map(|s| {
                s.split('|')
                    .filter(|x| !x.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
        synthetic,
    })
}

/// Reads a CSV (columns: code, division, road, number, compound, building, lon, lat, status,
/// successor, aliases, synthetic; code may be empty). Returns rows and rejects.
pub fn read_csv(
    path: &Path,
    crs: Crs,
    enc: &'static Encoding,
) -> Result<(Vec<Address>, Vec<Reject>)> {
    let raw = std::fs::read(path).with_context(|| format!("opening {}", path.display()))?;
    let text = to_utf8(&raw, enc).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(&text[..]);
    let headers = rdr.headers()?.clone();
    let mut out = Vec::new();
    let mut rej = Vec::new();
    let file = path.display().to_string();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                rej.push(Reject {
                    file: file.clone(),
                    line,
                    field: "row".into(),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        if rec.len() != headers.len() {
            rej.push(Reject {
                file: file.clone(),
                line,
                field: "row".into(),
                reason: format!("{} fields, header has {}", rec.len(), headers.len()),
            });
            continue;
        }
        let get = |k: &str| opt(headers.iter().position(|h| h == k).and_then(|p| rec.get(p)));
        match row_to_address(&get, None, crs) {
            Ok(a) => out.push(a),
            Err((field, reason)) => rej.push(Reject {
                file: file.clone(),
                line,
                field,
                reason,
            }),
        }
    }
    Ok((out, rej))
}

/// Reads points from GeoJSON/FlatGeobuf with the same properties as the CSV columns.
pub fn read_geo(path: &Path, crs: Crs) -> Result<(Vec<Address>, Vec<Reject>)> {
    let feats = crate::store::features::read_features(path)?;
    let mut out = Vec::new();
    let mut rej = Vec::new();
    let file = path.display().to_string();
    for (i, f) in feats.into_iter().enumerate() {
        let line = i + 1;
        let p = match &f.geometry {
            geo::Geometry::Point(p) => (p.x(), p.y()),
            g => {
                rej.push(Reject {
                    file: file.clone(),
                    line,
                    field: "geometry".into(),
                    reason: format!("{} is not a Point", crate::store::features::geom_type(g)),
                });
                continue;
            }
        };
        let get = |k: &str| opt(f.props.get(k).map(|s| s.as_str()));
        match row_to_address(&get, Some(p), crs) {
            Ok(a) => out.push(a),
            Err((field, reason)) => rej.push(Reject {
                file: file.clone(),
                line,
                field,
                reason,
            }),
        }
    }
    Ok((out, rej))
}

/// Reads any supported file and validates every row against the division tree (codes,
/// numbers, successors). Returns the valid addresses and all rejects.
pub fn read_and_validate(
    d: &Divisions,
    files: &[PathBuf],
    crs: Crs,
    enc: &'static Encoding,
) -> Result<(Vec<Address>, Vec<Reject>)> {
    let mut all = Vec::new();
    let mut rej = Vec::new();
    for f in files {
        let s = f.to_string_lossy().to_lowercase();
        let (rows, r) = if s.ends_with(".csv") {
            read_csv(f, crs, enc)?
        } else {
            read_geo(f, crs)?
        };
        rej.extend(r);
        // validate with the book's own rules, line by line
        let lines: Vec<usize> = (0..rows.len()).collect();
        let (_, errs) = super::AddressBook::build(d, rows.clone(), "import");
        let bad: std::collections::HashMap<usize, (&str, String)> =
            errs.into_iter().map(|(i, f, m)| (i, (f, m))).collect();
        let off = if s.ends_with(".csv") { 2 } else { 1 };
        for (i, a) in rows.into_iter().enumerate() {
            if let Some((field, reason)) = bad.get(&lines[i]) {
                rej.push(Reject {
                    file: f.display().to_string(),
                    line: i + off,
                    field: field.to_string(),
                    reason: reason.clone(),
                });
            } else {
                all.push(a);
            }
        }
    }
    // fill derived codes, check successors exist in the batch or are codes
    for a in &mut all {
        if a.code.is_empty() {
            let serial = super::serial_of(
                &a.division,
                a.road.as_deref().unwrap_or(""),
                a.number.as_deref().unwrap_or(""),
                a.compound.as_deref().unwrap_or(""),
                a.building.as_deref().unwrap_or(""),
            );
            a.code = format!("{}{serial:012}", a.division);
        }
    }
    rej.sort_by(|a, b| a.file.cmp(&b.file).then(a.line.cmp(&b.line)));
    Ok((all, rej))
}

/// Outcome of an import.
#[derive(Debug, serde::Serialize)]
pub struct ImportReport {
    pub read: usize,
    pub inserted: u64,
    pub updated: u64,
    pub rejected: Vec<Reject>,
    pub committed: bool,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "read {} rows: {} inserted, {} updated, {} rejected; {}",
            self.read,
            self.inserted,
            self.updated,
            self.rejected.len(),
            if self.committed {
                "committed"
            } else {
                "nothing written (all-or-nothing)"
            }
        )?;
        for r in &self.rejected {
            writeln!(f, "rejected: {r}")?;
        }
        Ok(())
    }
}

/// A connection and the name of `table` in `schema` (else found through the `search_path`);
/// None when the table does not exist (nothing imported yet).
async fn connect_to_table(
    url: &str,
    schema: Option<&str>,
    table: &str,
) -> Result<Option<(sqlx::PgConnection, String)>> {
    use sqlx::Connection;
    let table = match schema {
        Some(s) => format!("{}.{table}", checked_schema(s)?),
        None => table.to_string(),
    };
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .context("connecting to PostGIS")?;
    let exists: (Option<String>,) = sqlx::query_as("SELECT to_regclass($1)::text")
        .bind(&table)
        .fetch_one(&mut conn)
        .await?;
    Ok(exists.0.map(|_| (conn, table)))
}

/// A transaction in `schema` (created if missing, first on the `search_path`) with
/// `migration` run in it.
async fn begin_in_schema<'c>(
    conn: &'c mut sqlx::PgConnection,
    schema: &str,
    migration: &str,
) -> Result<sqlx::Transaction<'c, sqlx::Postgres>> {
    use sqlx::Connection;
    let mut tx = conn.begin().await?;
    sqlx::raw_sql(&format!(
        "CREATE SCHEMA IF NOT EXISTS {schema}; SET LOCAL search_path TO {schema}, public;"
    ))
    .execute(&mut *tx)
    .await?;
    sqlx::raw_sql(migration).execute(&mut *tx).await?;
    Ok(tx)
}

impl ImportReport {
    /// Committed: every row read, inserted or updated.
    fn written(read: usize, inserted: u64, updated: u64) -> ImportReport {
        ImportReport {
            read,
            inserted,
            updated,
            rejected: Vec::new(),
            committed: true,
        }
    }

    /// Nothing written: every row read, these rejected.
    fn refused(read: usize, rejected: Vec<Reject>) -> ImportReport {
        ImportReport {
            read,
            inserted: 0,
            updated: 0,
            rejected,
            committed: false,
        }
    }
}

pub const MIGRATION: &str = include_str!("../../migrations/0002_addresses.sql");

/// Imports into PostGIS (table `addresses` in `schema`, created if missing) in one transaction;
/// `enc`: the text encoding of CSV files.
pub async fn import_postgis(
    url: &str,
    schema: &str,
    d: &Divisions,
    files: &[PathBuf],
    crs: Crs,
    enc: &'static Encoding,
) -> Result<ImportReport> {
    use sqlx::Connection;
    let schema = checked_schema(schema)?;
    let (rows, rejected) = read_and_validate(d, files, crs, enc)?;
    let read = rows.len() + rejected.len();
    if !rejected.is_empty() {
        return Ok(ImportReport::refused(read, rejected));
    }
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .context("connecting to PostGIS")?;
    let mut tx = begin_in_schema(&mut conn, schema, MIGRATION).await?;
    let (mut inserted, mut updated) = (0u64, 0u64);
    for a in &rows {
        let r: (bool,) = sqlx::query_as(
            "INSERT INTO addresses (code, division, road, number, compound, building, geom, status, successor, aliases, synthetic)
             VALUES ($1,$2,$3,$4,$5,$6, ST_SetSRID(ST_MakePoint($7,$8),4490), $9,$10,$11,$12)
             ON CONFLICT (code) DO UPDATE SET division=EXCLUDED.division, road=EXCLUDED.road, number=EXCLUDED.number,
               compound=EXCLUDED.compound, building=EXCLUDED.building, geom=EXCLUDED.geom, status=EXCLUDED.status,
               successor=EXCLUDED.successor, aliases=EXCLUDED.aliases, synthetic=EXCLUDED.synthetic
             RETURNING (xmax = 0)",
        )
        .bind(&a.code)
        .bind(&a.division)
        .bind(&a.road)
        .bind(&a.number)
        .bind(&a.compound)
        .bind(&a.building)
        .bind(a.lon)
        .bind(a.lat)
        .bind(&a.status)
        .bind(&a.successor)
        .bind(&a.aliases)
        .bind(a.synthetic)
        .fetch_one(&mut *tx)
        .await
        .with_context(|| format!("inserting {}", a.code))?;
        *if r.0 { &mut inserted } else { &mut updated } += 1;
    }
    tx.commit().await?;
    Ok(ImportReport::written(read, inserted, updated))
}

pub const ROADS_MIGRATION: &str = include_str!("../../migrations/0006_roads.sql");

/// The schema name checked (letters, digits and _: it goes into SQL text).
fn checked_schema(schema: &str) -> Result<&str> {
    anyhow::ensure!(
        schema
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !schema.is_empty(),
        "schema '{schema}' must be letters, digits and _"
    );
    Ok(schema)
}

/// Reads road centre lines (GeoJSON/FlatGeobuf LineString or MultiLineString features with
/// `name` and `county` properties, coordinates in `crs`) and checks each against the division
/// tree (the county must be one). Returns the valid rows (in WGS84) and all rejects; a feature
/// is numbered from 1.
pub fn read_roads(
    d: &Divisions,
    files: &[PathBuf],
    crs: Crs,
) -> Result<(Vec<super::roads::RoadRow>, Vec<Reject>)> {
    use geo::MapCoordsInPlace;
    let (mut rows, mut rej) = (Vec::new(), Vec::new());
    for f in files {
        let file = f.display().to_string();
        for (i, mut feat) in crate::store::features::read_features(f)?
            .into_iter()
            .enumerate()
        {
            if crs != Crs::Wgs84 {
                feat.geometry.map_coords_in_place(|c| {
                    let (x, y) = crs.to_wgs84(c.x, c.y);
                    geo::Coord { x, y }
                });
            }
            let row = super::roads::row_from_feature(feat, "county", false).and_then(|r| {
                let county = d
                    .tree
                    .find(&r.county)
                    .filter(|&n| d.tree.get(n).level == crate::divisions::Level::County);
                match county {
                    Some(_) => Ok(r),
                    None => Err((
                        "county".to_string(),
                        format!("{} is not a county of the division tree", r.county),
                    )),
                }
            });
            match row {
                Ok(r) => rows.push(r),
                Err((field, reason)) => rej.push(Reject {
                    file: file.clone(),
                    line: i + 1,
                    field,
                    reason,
                }),
            }
        }
    }
    Ok((rows, rej))
}

/// Imports road centre lines ([`read_roads`]) into `schema.roads` (created if missing) in one
/// transaction: any rejected feature and nothing is written. Re-importing is idempotent (one
/// row a county and name, replaced; the features of one road in the files are joined).
pub async fn import_roads_postgis(
    url: &str,
    schema: &str,
    d: &Divisions,
    files: &[PathBuf],
    crs: Crs,
) -> Result<ImportReport> {
    use sqlx::Connection;
    let schema = checked_schema(schema)?;
    let (rows, rejected) = read_roads(d, files, crs)?;
    let read = rows.len() + rejected.len();
    if !rejected.is_empty() {
        return Ok(ImportReport::refused(read, rejected));
    }
    let merged = super::roads::merge_rows(rows);
    let source = files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .context("connecting to PostGIS")?;
    let mut tx = begin_in_schema(&mut conn, schema, ROADS_MIGRATION).await?;
    let (mut inserted, mut updated) = (0u64, 0u64);
    for r in &merged {
        let x: (bool,) = sqlx::query_as(
            "INSERT INTO roads (county, name, geom, synthetic, source)
             VALUES ($1, $2, ST_Multi(ST_GeomFromEWKT($3)), $4, $5)
             ON CONFLICT (county, name) DO UPDATE SET geom = EXCLUDED.geom,
               synthetic = EXCLUDED.synthetic, source = EXCLUDED.source, imported_at = now()
             RETURNING (xmax = 0)",
        )
        .bind(&r.county)
        .bind(&r.name)
        .bind(super::roads::to_ewkt(&r.lines))
        .bind(r.synthetic)
        .bind(&source)
        .fetch_one(&mut *tx)
        .await
        .with_context(|| format!("inserting road {} {}", r.county, r.name))?;
        *if x.0 { &mut inserted } else { &mut updated } += 1;
    }
    tx.commit().await?;
    Ok(ImportReport::written(read, inserted, updated))
}

/// Reads every road line of `schema.roads` (or `roads` through the `search_path`); None when
/// the table does not exist.
pub async fn load_roads_postgis(
    url: &str,
    schema: Option<&str>,
) -> Result<Option<Vec<super::roads::RoadRow>>> {
    use sqlx::Row;
    let Some((mut conn, table)) = connect_to_table(url, schema, "roads").await? else {
        return Ok(None);
    };
    let rows = sqlx::query(&format!(
        "SELECT county, name, ST_AsBinary(geom), synthetic FROM {table} ORDER BY county, name"
    ))
    .fetch_all(&mut conn)
    .await
    .context("reading roads from PostGIS")?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        use geozero::ToGeo;
        let (county, name): (String, String) = (r.get(0), r.get(1));
        let g = geozero::wkb::Wkb(r.get::<Vec<u8>, _>(2))
            .to_geo()
            .map_err(|e| anyhow::anyhow!("road {county} {name}: cannot decode geometry: {e}"))?;
        let lines = match g {
            geo::Geometry::MultiLineString(m) => m,
            geo::Geometry::LineString(l) => geo::MultiLineString(vec![l]),
            other => anyhow::bail!(
                "road {county} {name}: {} is not a line",
                crate::store::features::geom_type(&other)
            ),
        };
        out.push(super::roads::RoadRow {
            county,
            name,
            lines,
            synthetic: r.get(3),
        });
    }
    Ok(Some(out))
}

/// Reads every address of `schema.addresses` (the store of record in production); with no
/// schema, the `addresses` table found through the connection's `search_path`. Returns None
/// when the table does not exist (nothing imported yet).
pub async fn load_postgis(url: &str, schema: Option<&str>) -> Result<Option<Vec<Address>>> {
    let Some((mut conn, table)) = connect_to_table(url, schema, "addresses").await? else {
        return Ok(None);
    };
    type Row = (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        f64,
        f64,
        String,
        Option<String>,
        Vec<String>,
        bool,
    );
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT code, division, road, number, compound, building, ST_X(geom), ST_Y(geom), status,
                successor, aliases, synthetic FROM {table} ORDER BY code"
    ))
    .fetch_all(&mut conn)
    .await
    .context("reading addresses from PostGIS")?;
    Ok(Some(
        rows.into_iter()
            .map(|r| Address {
                code: r.0,
                division: r.1,
                road: r.2,
                number: r.3,
                compound: r.4,
                building: r.5,
                lon: r.6,
                lat: r.7,
                status: r.8,
                successor: r.9,
                aliases: r.10,
                synthetic: r.11,
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_text_in_gb18030_and_big5_reads_as_utf8() {
        let text = "code,division\n,310101002\n# 臨安區 青浦區\n";
        for label in ["gb18030", "GBK", "gb2312", "cp936", "big5"] {
            let enc = encoding_for(label).unwrap();
            let (bytes, _, unmappable) = enc.encode(text);
            assert!(!unmappable, "{label}");
            assert_ne!(&bytes[..], text.as_bytes());
            assert_eq!(to_utf8(&bytes, enc).unwrap(), text.as_bytes(), "{label}");
        }
        // UTF-8 passes through untouched (the CSV reader reports its bad rows)
        let utf8 = encoding_for("utf-8").unwrap();
        assert!(matches!(to_utf8(b"a\xff", utf8), Ok(Cow::Borrowed(_))));
        // the line of the first invalid sequence; an unknown label
        let e = to_utf8(b"a\nb\n\xff\xff", encoding_for("gb18030").unwrap()).unwrap_err();
        assert!(e.starts_with("line 3:"), "{e}");
        assert!(encoding_for("klingon").unwrap_err().contains("klingon"));
    }
}
