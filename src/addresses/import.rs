//! Import of standard addresses from CSV, GeoJSON or FlatGeobuf (any `crs`), into PostGIS in
//! one transaction, with a report of every rejected row (line, field, reason). Re-importing
//! the same file is idempotent (upsert on the standard code; the code is derived from the
//! address elements, so the same row always gets the same code). Any rejected row aborts the
//! whole import (all-or-nothing); the report lists all of them.

use super::Address;
use crate::crs::Crs;
use crate::divisions::Divisions;
use anyhow::{Context, Result};
use std::fmt;
use std::path::{Path, PathBuf};

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
pub fn read_csv(path: &Path, crs: Crs) -> Result<(Vec<Address>, Vec<Reject>)> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("opening {}", path.display()))?;
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
) -> Result<(Vec<Address>, Vec<Reject>)> {
    let mut all = Vec::new();
    let mut rej = Vec::new();
    for f in files {
        let s = f.to_string_lossy().to_lowercase();
        let (rows, r) = if s.ends_with(".csv") {
            read_csv(f, crs)?
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

pub const MIGRATION: &str = include_str!("../../migrations/0002_addresses.sql");

/// Imports into PostGIS (table `addresses` in `schema`, created if missing) in one transaction.
pub async fn import_postgis(
    url: &str,
    schema: &str,
    d: &Divisions,
    files: &[PathBuf],
    crs: Crs,
) -> Result<ImportReport> {
    use sqlx::Connection;
    anyhow::ensure!(
        schema
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !schema.is_empty(),
        "schema '{schema}' must be letters, digits and _"
    );
    let (rows, rejected) = read_and_validate(d, files, crs)?;
    let read = rows.len() + rejected.len();
    if !rejected.is_empty() {
        return Ok(ImportReport {
            read,
            inserted: 0,
            updated: 0,
            rejected,
            committed: false,
        });
    }
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .context("connecting to PostGIS")?;
    let mut tx = conn.begin().await?;
    sqlx::raw_sql(&format!(
        "CREATE SCHEMA IF NOT EXISTS {schema}; SET LOCAL search_path TO {schema}, public;"
    ))
    .execute(&mut *tx)
    .await?;
    sqlx::raw_sql(MIGRATION).execute(&mut *tx).await?;
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
        if r.0 {
            inserted += 1;
        } else {
            updated += 1;
        }
    }
    tx.commit().await?;
    Ok(ImportReport {
        read,
        inserted,
        updated,
        rejected,
        committed: true,
    })
}

/// Reads every address of `schema.addresses` (the store of record in production); with no
/// schema, the `addresses` table found through the connection's `search_path`. Returns None
/// when the table does not exist (nothing imported yet).
pub async fn load_postgis(url: &str, schema: Option<&str>) -> Result<Option<Vec<Address>>> {
    use sqlx::Connection;
    let table = match schema {
        Some(s) => {
            anyhow::ensure!(
                s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !s.is_empty(),
                "schema '{s}' must be letters, digits and _"
            );
            format!("{s}.addresses")
        }
        None => "addresses".to_string(),
    };
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .context("connecting to PostGIS")?;
    let exists: (Option<String>,) = sqlx::query_as("SELECT to_regclass($1)::text")
        .bind(&table)
        .fetch_one(&mut conn)
        .await?;
    if exists.0.is_none() {
        return Ok(None);
    }
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
