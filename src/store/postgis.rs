//! PostGIS: the store of record in production. Schema in `migrations/` (sqlx, applied at connect
//! time; runtime queries only, no database needed at compile time). Loading from PostGIS
//! produces the same [`super::DivisionSource`] as the embedded files.
//!
//! Schema isolation: tables are created unqualified, i.e. in the first schema of the
//! connection's `search_path`. Give a URL such as
//! `postgres://u@host/db?options=-csearch_path%3Dmy_schema%2Cpublic` to work in `my_schema`
//! (created if missing; `public` must stay on the path because PostGIS lives there). Tests use
//! this to run in parallel against one database.
//!
//! Geometry is stored as `geometry(MultiPolygon, 4490)` (CGCS2000, which diming treats as equal
//! to WGS84 at the metre level); imports convert from the input `crs` first.

use super::features::{read_features, to_multipolygon};
use super::DivisionSource;
use crate::crs::{check_lon_lat, Crs};
use crate::divisions::tree::{is_functional_zone, is_placeholder_name};
use crate::divisions::{
    changes::parse_jionlp_line, level_of, parent_short, short_code, stat_code, Change, ChangeLog,
    DivisionTree, Level,
};
use anyhow::{anyhow, bail, Context, Result};
use geo::{Geometry, MultiPolygon};
use geozero::{CoordDimensions, ToGeo, ToWkb};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool, Postgres, Row, Transaction};
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Connects, creates the first schema of `search_path` if it is missing, and runs pending
/// migrations.
pub async fn connect(url: &str) -> Result<PgPool> {
    let opts: PgConnectOptions = url
        .parse()
        .map_err(|e| anyhow!("database URL is not valid: {e}"))?;
    let mut c = sqlx::PgConnection::connect_with(&opts)
        .await
        .context("connecting to PostgreSQL")?;
    let sp: String = sqlx::query_scalar("SHOW search_path")
        .fetch_one(&mut c)
        .await?;
    if let Some(first) = sp.split(',').next().map(|s| s.trim().trim_matches('"')) {
        let plain = !first.is_empty()
            && first
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && first != "public";
        if plain {
            sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{first}\""))
                .execute(&mut c)
                .await
                .with_context(|| format!("creating schema {first}"))?;
        }
    }
    c.close().await.ok();
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(opts)
        .await
        .context("connecting to PostgreSQL")?;
    sqlx::migrate!("./migrations")
        .run(&pool)
        .await
        .context("running migrations")?;
    Ok(pool)
}

/// Connects, runs pending migrations and loads the current divisions and their polygons.
pub async fn load_divisions(url: &str) -> Result<DivisionSource> {
    let pool = connect(url).await?;
    let src = load_from_pool(&pool).await?;
    pool.close().await;
    Ok(src)
}

/// Loads the current divisions, their polygons and the change log from a connected pool.
pub async fn load_from_pool(pool: &PgPool) -> Result<DivisionSource> {
    let mut tree = DivisionTree::default();
    let rows = sqlx::query(
        "SELECT code, name, statistical_only, synthetic FROM divisions \
         WHERE valid_to IS NULL ORDER BY length(code), code",
    )
    .fetch_all(pool)
    .await?;
    for r in &rows {
        let code: String = r.get(0);
        let name: String = r.get(1);
        tree.insert(&code, &name, r.get(2), r.get(3))?;
    }
    let mut changes = ChangeLog::default();
    let rows = sqlx::query(
        "SELECT changed_on::text, approval, old_code, old_path, old_short, new_code, new_path \
         FROM division_changes ORDER BY id",
    )
    .fetch_all(pool)
    .await?;
    for r in &rows {
        let split = |s: String| -> Vec<String> {
            s.split('/')
                .filter(|x| !x.is_empty())
                .map(String::from)
                .collect()
        };
        changes.changes.push(Change {
            date: r.get(0),
            approval: r.get(1),
            old_code: r.get(2),
            old_names: split(r.get(3)),
            old_short: r.get(4),
            new_code: r.get(5),
            new_names: split(r.get(6)),
        });
    }
    let rows = sqlx::query(
        "SELECT code, ST_AsBinary(geom), geom_synthetic FROM divisions \
         WHERE valid_to IS NULL AND geom IS NOT NULL ORDER BY code",
    )
    .fetch_all(pool)
    .await?;
    let mut polygons = Vec::with_capacity(rows.len());
    for r in rows {
        let code: String = r.get(0);
        let wkb: Vec<u8> = r.get(1);
        let g = geozero::wkb::Wkb(wkb)
            .to_geo()
            .map_err(|e| anyhow!("division {code}: cannot decode geometry: {e}"))?;
        let mp = to_multipolygon(g).with_context(|| format!("division {code}"))?;
        polygons.push((code, mp, r.get::<bool, _>(2)));
    }
    Ok(DivisionSource {
        tree,
        changes,
        polygons,
        origin: "PostGIS".to_string(),
    })
}

/// One division row of an NBS code list.
struct DivRow {
    code: String,
    name: String,
    level: Level,
    statistical_only: bool,
    source: String,
}

/// One change row.
struct ChangeRow {
    c: Change,
    source: String,
}

/// One polygon to attach to a division.
struct PolyRow {
    code: String,
    mp: MultiPolygon<f64>,
    synthetic: bool,
    source: String,
    /// "file feature N" for error messages
    origin: String,
}

const LIST_FILES: [(&str, Level); 5] = [
    ("provinces.csv", Level::Province),
    ("cities.csv", Level::City),
    ("areas.csv", Level::County),
    ("streets.csv", Level::Township),
    ("villages.csv", Level::Village),
];

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Expands directories into the division files they hold (lists, changes.txt, code_changes.csv).
fn expand_division_files(files: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for f in files {
        if f.is_dir() {
            let mut any = false;
            for name in LIST_FILES
                .iter()
                .map(|(n, _)| *n)
                .chain(["changes.txt", "code_changes.csv"])
            {
                for cand in [f.join(name), f.join(format!("{name}.gz"))] {
                    if cand.exists() {
                        out.push(cand);
                        any = true;
                        break;
                    }
                }
            }
            if !any {
                bail!("{}: no division files in this directory", f.display());
            }
        } else if f.exists() {
            out.push(f.clone());
        } else {
            bail!("{}: no such file", f.display());
        }
    }
    Ok(out)
}

fn open_text(p: &Path) -> Result<Box<dyn Read>> {
    let f = std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?;
    let f = std::io::BufReader::with_capacity(1 << 20, f);
    Ok(if p.to_string_lossy().ends_with(".gz") {
        Box::new(flate2::read::GzDecoder::new(f))
    } else {
        Box::new(f)
    })
}

fn parse_date(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

fn read_list(path: &Path, level: Level, out: &mut Vec<DivRow>) -> Result<usize> {
    let shown = path.display();
    let mut rdr = csv::Reader::from_reader(open_text(path)?);
    let src = file_name(path);
    let mut n = 0;
    for (row, rec) in rdr.records().enumerate() {
        let line = row + 2;
        let rec = rec.map_err(|e| anyhow!("{shown} row {line}: cannot parse CSV: {e}"))?;
        let code = rec.get(0).unwrap_or("").trim();
        let name = rec.get(1).unwrap_or("").trim();
        if code.len() != level.short_len() || !code.bytes().all(|b| b.is_ascii_digit()) {
            bail!(
                "{shown} row {line}: code '{code}' is not a {}-digit {} code",
                level.short_len(),
                level.as_str()
            );
        }
        if code.bytes().all(|b| b == b'0') {
            bail!("{shown} row {line}: code '{code}' is all zeros");
        }
        if name.is_empty() {
            bail!("{shown} row {line}: empty name");
        }
        let statistical_only =
            is_placeholder_name(name) || (level == Level::County && is_functional_zone(code, name));
        out.push(DivRow {
            code: code.to_string(),
            name: name.to_string(),
            level,
            statistical_only,
            source: src.clone(),
        });
        n += 1;
    }
    Ok(n)
}

#[derive(serde::Deserialize)]
struct CodeChangeCsv {
    old_code: String,
    old_name: String,
    old_path: String,
    new_code: String,
    new_path: String,
    date: String,
    approval: String,
}

fn read_code_changes(path: &Path, out: &mut Vec<ChangeRow>) -> Result<usize> {
    let shown = path.display();
    let mut rdr = csv::Reader::from_reader(open_text(path)?);
    let src = file_name(path);
    let mut n = 0;
    for (row, rec) in rdr.deserialize::<CodeChangeCsv>().enumerate() {
        let line = row + 2;
        let r = rec.map_err(|e| anyhow!("{shown} row {line}: {e}"))?;
        for (field, v) in [("old_code", &r.old_code), ("new_code", &r.new_code)] {
            let s = short_code(v).map_err(|e| anyhow!("{shown} row {line}: {field}: {e}"))?;
            if level_of(&s).is_none() {
                bail!("{shown} row {line}: {field} '{v}' is not a division code");
            }
        }
        if parse_date(&r.date).is_none() {
            bail!(
                "{shown} row {line}: date '{}' is not YYYY-MM-DD",
                r.date.trim()
            );
        }
        let old_names: Vec<String> = r.old_path.split('/').map(String::from).collect();
        if old_names.last().map(|s| s.as_str()) != Some(r.old_name.trim()) {
            bail!(
                "{shown} row {line}: old_name '{}' is not the last part of old_path '{}'",
                r.old_name,
                r.old_path
            );
        }
        // the same rule as ChangeLog::load_dir: a coded row replaces a name-only row
        out.retain(|c| {
            !(c.c.old_code.is_none() && c.c.old_name() == r.old_name && c.c.date == r.date)
        });
        out.push(ChangeRow {
            c: Change {
                date: r.date.trim().to_string(),
                approval: r.approval,
                old_code: Some(r.old_code.trim().to_string()),
                old_names,
                old_short: None,
                new_code: Some(r.new_code.trim().to_string()),
                new_names: r.new_path.split('/').map(String::from).collect(),
            },
            source: src.clone(),
        });
        n += 1;
    }
    Ok(n)
}

fn read_jionlp(path: &Path, out: &mut Vec<ChangeRow>) -> Result<usize> {
    let mut s = String::new();
    open_text(path)?
        .read_to_string(&mut s)
        .with_context(|| format!("{}: not UTF-8 text", path.display()))?;
    let src = file_name(path);
    let mut n = 0;
    for (i, line) in s.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let c = parse_jionlp_line(line).ok_or_else(|| {
            anyhow!(
                "{} line {}: cannot parse (expected date, approval, old names => new names, tab-separated)",
                path.display(),
                i + 1
            )
        })?;
        if parse_date(&c.date).is_none() {
            bail!(
                "{} line {}: date '{}' is not YYYY-MM-DD",
                path.display(),
                i + 1,
                c.date
            );
        }
        out.push(ChangeRow {
            c,
            source: src.clone(),
        });
        n += 1;
    }
    Ok(n)
}

/// Converts every coordinate from `crs` to WGS84/CGCS2000 and checks it.
fn convert_polygon(mp: &mut MultiPolygon<f64>, crs: Crs) -> Result<()> {
    use geo::MapCoordsInPlace;
    let mut bad: Option<String> = None;
    for (pi, p) in mp.0.iter().enumerate() {
        for (ri, r) in std::iter::once(p.exterior())
            .chain(p.interiors().iter())
            .enumerate()
        {
            if r.0.len() < 4 {
                bad = Some(format!(
                    "polygon {pi} ring {ri} has {} points (a ring needs at least 4)",
                    r.0.len()
                ));
            }
            for c in &r.0 {
                if let Err((_, e)) = check_lon_lat(c.x, c.y) {
                    bad.get_or_insert(format!("polygon {pi} ring {ri}: {e}"));
                }
            }
        }
    }
    if mp.0.is_empty() {
        bad = Some("empty geometry".into());
    }
    if let Some(b) = bad {
        bail!("{b}");
    }
    if !matches!(crs, Crs::Wgs84 | Crs::Cgcs2000) {
        mp.map_coords_in_place(|c| {
            let (x, y) = crs.to_wgs84(c.x, c.y);
            geo::coord! { x: x, y: y }
        });
    }
    Ok(())
}

fn read_polygons(
    path: &Path,
    crs: Crs,
    code_field: &str,
    synthetic: bool,
    out: &mut Vec<PolyRow>,
) -> Result<usize> {
    let feats = read_features(path)?;
    let src = file_name(path);
    let n = feats.len();
    for (i, f) in feats.into_iter().enumerate() {
        let origin = format!("{} feature {i}", path.display());
        let raw = f
            .prop(code_field)
            .ok_or_else(|| anyhow!("{origin}: no '{code_field}' property"))?;
        let code = short_code(&raw).map_err(|e| anyhow!("{origin}: {code_field}: {e}"))?;
        let syn = synthetic || f.prop("synthetic").is_some_and(|s| s == "true" || s == "1");
        let mut mp = match f.geometry {
            g @ (Geometry::Polygon(_) | Geometry::MultiPolygon(_)) => to_multipolygon(g)?,
            other => bail!(
                "{origin} ({code}): expected a Polygon or MultiPolygon, got {}",
                super::features::geom_type(&other)
            ),
        };
        convert_polygon(&mut mp, crs).map_err(|e| anyhow!("{origin} ({code}): {e}"))?;
        out.push(PolyRow {
            code,
            mp,
            synthetic: syn,
            source: src.clone(),
            origin,
        });
    }
    Ok(n)
}

/// Imports files into PostGIS in one transaction; returns a printable report.
///
/// - `kind = "divisions"`: NBS code lists (`provinces.csv` … `villages.csv[.gz]`, the level is
///   taken from the file name), `code_changes.csv`, `changes.txt`, or directories holding them.
/// - `kind = "boundaries"`: GeoJSON/FlatGeobuf polygons whose `code_field` property holds the
///   code of a division already imported; coordinates are converted from `crs`.
///
/// Every file is parsed and checked before anything is written; the first bad row aborts with
/// the file, row/feature number and reason, and the transaction is never committed. Re-importing
/// the same data is idempotent (upserts on the current code).
pub async fn import(
    url: &str,
    kind: &str,
    files: &[PathBuf],
    crs: Crs,
    code_field: &str,
    synthetic: bool,
) -> Result<String> {
    let t0 = Instant::now();
    let mut report = Vec::new();
    let mut divs = Vec::new();
    let mut chg = Vec::new();
    let mut polys = Vec::new();
    match kind {
        "divisions" => {
            for p in expand_division_files(files)? {
                let name = file_name(&p);
                let base = name.strip_suffix(".gz").unwrap_or(&name);
                let n = if let Some((_, level)) = LIST_FILES.iter().find(|(f, _)| *f == base) {
                    read_list(&p, *level, &mut divs)?
                } else if base == "code_changes.csv" {
                    read_code_changes(&p, &mut chg)?
                } else if base == "changes.txt" {
                    read_jionlp(&p, &mut chg)?
                } else {
                    bail!(
                        "{}: unknown division file (expected provinces.csv, cities.csv, areas.csv, \
                         streets.csv, villages.csv[.gz], code_changes.csv or changes.txt)",
                        p.display()
                    );
                };
                report.push(format!("{}: {n} rows", p.display()));
            }
            let mut seen: HashMap<&str, &str> = HashMap::new();
            for d in &divs {
                if let Some(prev) = seen.insert(&d.code, &d.source) {
                    bail!(
                        "{}: code {} appears twice (also in {prev})",
                        d.source,
                        d.code
                    );
                }
            }
        }
        "boundaries" => {
            for p in files {
                let n = read_polygons(p, crs, code_field, synthetic, &mut polys)?;
                report.push(format!("{}: {n} features", p.display()));
            }
        }
        other => bail!("unknown import kind '{other}' (expected divisions or boundaries)"),
    }
    let t_parse = t0.elapsed();
    let pool = connect(url).await?;
    let mut tx = pool.begin().await?;
    if !divs.is_empty() {
        upsert_divisions(&mut tx, &divs, synthetic).await?;
    }
    if !chg.is_empty() {
        upsert_changes(&mut tx, &chg).await?;
    }
    if !polys.is_empty() {
        set_polygons(&mut tx, &polys, false).await?;
    }
    tx.commit().await?;
    pool.close().await;
    report.push(format!(
        "imported {} divisions, {} changes, {} polygons in one transaction ({:.2} s parse, {:.2} s total)",
        divs.len(),
        chg.len(),
        polys.len(),
        t_parse.as_secs_f64(),
        t0.elapsed().as_secs_f64()
    ));
    Ok(report.join("\n"))
}

async fn upsert_divisions(
    tx: &mut Transaction<'_, Postgres>,
    divs: &[DivRow],
    synthetic: bool,
) -> Result<()> {
    for chunk in divs.chunks(20_000) {
        let codes: Vec<&str> = chunk.iter().map(|d| d.code.as_str()).collect();
        let stat: Vec<String> = chunk.iter().map(|d| stat_code(&d.code)).collect();
        let levels: Vec<i16> = chunk.iter().map(|d| d.level as i16).collect();
        let names: Vec<&str> = chunk.iter().map(|d| d.name.as_str()).collect();
        let parents: Vec<Option<&str>> = chunk.iter().map(|d| parent_short(&d.code)).collect();
        let stat_only: Vec<bool> = chunk.iter().map(|d| d.statistical_only).collect();
        let syn: Vec<bool> = vec![synthetic; chunk.len()];
        let srcs: Vec<&str> = chunk.iter().map(|d| d.source.as_str()).collect();
        sqlx::query(
            "INSERT INTO divisions (code, stat_code, level, name, parent_code, statistical_only, synthetic, source) \
             SELECT * FROM unnest($1::text[], $2::text[], $3::int2[], $4::text[], $5::text[], $6::bool[], $7::bool[], $8::text[]) \
             ON CONFLICT (code) WHERE valid_to IS NULL DO UPDATE SET \
               stat_code = EXCLUDED.stat_code, level = EXCLUDED.level, name = EXCLUDED.name, \
               parent_code = EXCLUDED.parent_code, statistical_only = EXCLUDED.statistical_only, \
               synthetic = EXCLUDED.synthetic, source = EXCLUDED.source, updated_at = now()",
        )
        .bind(&codes)
        .bind(&stat)
        .bind(&levels)
        .bind(&names)
        .bind(&parents)
        .bind(&stat_only)
        .bind(&syn)
        .bind(&srcs)
        .execute(&mut **tx)
        .await
        .context("inserting divisions")?;
    }
    Ok(())
}

async fn upsert_changes(tx: &mut Transaction<'_, Postgres>, chg: &[ChangeRow]) -> Result<()> {
    // one row per (date, old path, new path): the last one wins
    let mut seen = HashSet::new();
    let mut rows: Vec<&ChangeRow> = Vec::new();
    for c in chg.iter().rev() {
        if seen.insert((
            c.c.date.clone(),
            c.c.old_names.join("/"),
            c.c.new_names.join("/"),
        )) {
            rows.push(c);
        }
    }
    rows.reverse();
    let dates: Vec<&str> = rows.iter().map(|c| c.c.date.as_str()).collect();
    let appr: Vec<&str> = rows.iter().map(|c| c.c.approval.as_str()).collect();
    let oc: Vec<Option<&str>> = rows.iter().map(|c| c.c.old_code.as_deref()).collect();
    let op: Vec<String> = rows.iter().map(|c| c.c.old_names.join("/")).collect();
    let os: Vec<Option<&str>> = rows.iter().map(|c| c.c.old_short.as_deref()).collect();
    let nc: Vec<Option<&str>> = rows.iter().map(|c| c.c.new_code.as_deref()).collect();
    let np: Vec<String> = rows.iter().map(|c| c.c.new_names.join("/")).collect();
    let src: Vec<&str> = rows.iter().map(|c| c.source.as_str()).collect();
    sqlx::query(
        "INSERT INTO division_changes (changed_on, approval, old_code, old_path, old_short, new_code, new_path, source) \
         SELECT d::date, a, oc, op, os, nc, np, s FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) \
           AS u(d, a, oc, op, os, nc, np, s) \
         ON CONFLICT (changed_on, old_path, new_path) DO UPDATE SET \
           approval = EXCLUDED.approval, old_code = EXCLUDED.old_code, old_short = EXCLUDED.old_short, \
           new_code = EXCLUDED.new_code, source = EXCLUDED.source",
    )
    .bind(&dates)
    .bind(&appr)
    .bind(&oc)
    .bind(&op)
    .bind(&os)
    .bind(&nc)
    .bind(&np)
    .bind(&src)
    .execute(&mut **tx)
    .await
    .context("inserting division changes")?;
    Ok(())
}

/// Attaches polygons to current divisions (several features with one code are merged into one
/// MultiPolygon). Unknown codes are an error naming the feature, unless `create_missing`, which
/// adds a placeholder division named by its code (used by the benchmark's scratch schema).
async fn set_polygons(
    tx: &mut Transaction<'_, Postgres>,
    polys: &[PolyRow],
    create_missing: bool,
) -> Result<()> {
    let codes: Vec<&str> = polys.iter().map(|p| p.code.as_str()).collect();
    let known: HashSet<String> = sqlx::query_scalar(
        "SELECT code FROM divisions WHERE valid_to IS NULL AND code = ANY($1::text[])",
    )
    .bind(&codes)
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .collect();
    let mut merged: Vec<(String, MultiPolygon<f64>, bool, String)> = Vec::new();
    let mut at: HashMap<&str, usize> = HashMap::new();
    let mut missing = Vec::new();
    for p in polys {
        if !known.contains(&p.code) {
            if !create_missing {
                bail!(
                    "{} ({}): unknown division code: import the division lists first",
                    p.origin,
                    p.code
                );
            }
            if !missing.contains(&p.code) {
                missing.push(p.code.clone());
            }
        }
        match at.get(p.code.as_str()) {
            Some(&k) => merged[k].1 .0.extend(p.mp.0.iter().cloned()),
            None => {
                at.insert(&p.code, merged.len());
                merged.push((p.code.clone(), p.mp.clone(), p.synthetic, p.source.clone()));
            }
        }
    }
    if !missing.is_empty() {
        let divs: Vec<DivRow> = missing
            .iter()
            .filter_map(|c| {
                Some(DivRow {
                    code: c.clone(),
                    name: format!("({})", crate::divisions::display_code(c)),
                    level: level_of(c)?,
                    statistical_only: false,
                    source: "placeholder for a polygon".into(),
                })
            })
            .collect();
        upsert_divisions(tx, &divs, false).await?;
    }
    let mut start = 0;
    while start < merged.len() {
        // chunks of about 16 MB of WKB
        let mut end = start;
        let mut bytes = 0usize;
        let mut codes = Vec::new();
        let mut wkbs = Vec::new();
        let mut syn = Vec::new();
        let mut src = Vec::new();
        while end < merged.len() && (bytes < 16 << 20 || end == start) {
            let (c, mp, s, so) = &merged[end];
            let wkb = Geometry::MultiPolygon(mp.clone())
                .to_wkb(CoordDimensions::xy())
                .map_err(|e| anyhow!("division {c}: cannot encode geometry: {e}"))?;
            bytes += wkb.len();
            codes.push(c.as_str());
            wkbs.push(wkb);
            syn.push(*s);
            src.push(so.as_str());
            end += 1;
        }
        sqlx::query(
            "UPDATE divisions d SET geom = ST_Multi(ST_SetSRID(ST_GeomFromWKB(u.w), 4490)), \
               geom_synthetic = u.s, geom_source = u.src, updated_at = now() \
             FROM unnest($1::text[], $2::bytea[], $3::bool[], $4::text[]) AS u(c, w, s, src) \
             WHERE d.code = u.c AND d.valid_to IS NULL",
        )
        .bind(&codes)
        .bind(&wkbs)
        .bind(&syn)
        .bind(&src)
        .execute(&mut **tx)
        .await
        .context("writing polygons")?;
        start = end;
    }
    Ok(())
}

/// Loads a polygon layer into the connected schema for benchmarking (codes not yet in the
/// schema get placeholder divisions), in one transaction, then ANALYZEs. Returns the seconds.
pub async fn load_layer_for_bench(
    pool: &PgPool,
    polys: &[(String, MultiPolygon<f64>)],
) -> Result<f64> {
    let t0 = Instant::now();
    let rows: Vec<PolyRow> = polys
        .iter()
        .map(|(c, mp)| PolyRow {
            code: c.clone(),
            mp: mp.clone(),
            synthetic: false,
            source: "bench".into(),
            origin: format!("polygon {c}"),
        })
        .collect();
    let mut tx = pool.begin().await?;
    set_polygons(&mut tx, &rows, true).await?;
    tx.commit().await?;
    sqlx::query("ANALYZE divisions").execute(pool).await?;
    Ok(t0.elapsed().as_secs_f64())
}

/// For each WGS84 point, the lowest current code whose polygon `ST_Covers` it (GiST index).
pub async fn covers(pool: &PgPool, xs: &[f64], ys: &[f64]) -> Result<Vec<Option<String>>> {
    let rows = sqlx::query(
        "SELECT p.i, c.code FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS p(x, y, i) \
         LEFT JOIN LATERAL (SELECT d.code FROM divisions d \
            WHERE d.valid_to IS NULL AND ST_Covers(d.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), 4490)) \
            ORDER BY d.code LIMIT 1) c ON true ORDER BY p.i",
    )
    .bind(xs)
    .bind(ys)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(|r| r.get::<Option<String>, _>(1)).collect())
}

/// For each WGS84 point, every current code whose polygon `ST_Covers` it, sorted.
pub async fn covers_all(pool: &PgPool, xs: &[f64], ys: &[f64]) -> Result<Vec<Vec<String>>> {
    let rows = sqlx::query(
        "SELECT p.i, coalesce(array_agg(d.code ORDER BY d.code) FILTER (WHERE d.code IS NOT NULL), '{}') \
         FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS p(x, y, i) \
         LEFT JOIN divisions d ON d.valid_to IS NULL \
            AND ST_Covers(d.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), 4490)) \
         GROUP BY p.i ORDER BY p.i",
    )
    .bind(xs)
    .bind(ys)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(|r| r.get::<Vec<String>, _>(1)).collect())
}
