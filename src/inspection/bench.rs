//! `diming bench inspect`: full inspection of a national county layer on one core, and the same
//! overlap and gap computation in PostGIS on the same machine in the same run.

use super::{inspect, load_divisions, Input, Params};
use crate::crs::Crs;
use anyhow::{Context, Result};
use std::path::Path;
use std::time::Instant;

fn rss_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

pub fn run(polygons: &Path, database_url: Option<&str>) -> Result<()> {
    let t0 = Instant::now();
    let divs = load_divisions(polygons, "adcode", Crs::Wgs84)
        .with_context(|| format!("loading {}", polygons.display()))?;
    let load_s = t0.elapsed().as_secs_f64();
    let verts: usize = divs.iter().map(|d| d.vertices()).sum();
    let rss_loaded = rss_mb("VmRSS:");
    eprintln!(
        "loaded {} divisions, {verts} vertices in {load_s:.1} s (RSS {rss_loaded:.0} MB)",
        divs.len()
    );
    let input = Input {
        name: polygons.display().to_string(),
        divisions: divs,
        previous: None,
        markers: None,
        crs: Crs::Wgs84,
        code_field: "adcode".into(),
        params: Params::default(),
    };
    let t1 = Instant::now();
    let report = inspect(&input, &|_, _| {})?;
    let ours = t1.elapsed().as_secs_f64();
    let peak = rss_mb("VmHWM:");
    let s = &report.summary;
    let stage = |n: &str| {
        report
            .timings_s
            .iter()
            .find(|t| t.0 == n)
            .map(|t| t.1)
            .unwrap_or(0.0)
    };
    let lines_s = stage("lines");
    let go_s = stage("gaps_overlaps");
    println!(
        "diming bench inspect — {} ({} divisions, {verts} vertices), 1 thread",
        polygons.display(),
        s.divisions
    );
    println!(
        "result: {} neighbour pairs, {} outer lines, {} faults {:?}, gap {:.0} m², overlap {:.0} m²",
        s.neighbour_pairs, s.outer_lines, s.faults, s.faults_by_kind, s.gap_area_m2, s.overlap_area_m2
    );
    let mut pg: Option<(f64, f64, f64, usize, usize)> = None;
    if let Some(url) = database_url {
        let rt = tokio::runtime::Runtime::new()?;
        pg = Some(rt.block_on(postgis(url, &input.divisions))?);
    }
    println!();
    println!("| step | diming (s) | PostGIS (s) | PostGIS / diming |");
    println!("|---|---:|---:|---:|");
    println!("| load file | {load_s:.2} | | |");
    println!("| shared lines (edge matching) | {lines_s:.2} | | |");
    match pg {
        Some((ov, gap, _, n_ov, n_gap)) => {
            println!(
                "| overlaps + gaps | {go_s:.2} | {:.2} (overlaps {ov:.2}, gaps {gap:.2}) | {:.1}x |",
                ov + gap,
                (ov + gap) / go_s.max(1e-9)
            );
            println!(
                "| whole inspection (lines, faults, validity) | {ours:.2} | {:.2} (overlaps+gaps only) | {:.1}x |",
                ov + gap,
                (ov + gap) / ours.max(1e-9)
            );
            println!("| PostGIS found | | {n_ov} overlapping pairs, {n_gap} union holes | |");
        }
        None => {
            println!("| overlaps + gaps | {go_s:.2} | not run (no --database-url) | |");
            println!("| whole inspection | {ours:.2} | | |");
        }
    }
    println!("| memory | RSS after load {rss_loaded:.0} MB, peak {peak:.0} MB | | |");
    Ok(())
}

/// Loads the polygons into a throwaway table and times PostGIS on the same gap/overlap work:
/// overlapping neighbour pairs via GiST `&&` + ST_Overlaps with ST_Intersection areas, and the
/// holes of ST_Union of all polygons. Returns (overlap s, gap s, load s, overlaps, holes).
async fn postgis(url: &str, divs: &[super::Division]) -> Result<(f64, f64, f64, usize, usize)> {
    use sqlx::Executor;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .context("connecting to PostGIS")?;
    let mut c = pool.acquire().await?;
    let t = format!("bench_inspect_{}", std::process::id());
    c.execute(format!("DROP TABLE IF EXISTS {t}; CREATE UNLOGGED TABLE {t} (code text, geom geometry(MultiPolygon, 4326))").as_str())
        .await?;
    let t0 = Instant::now();
    for chunk in divs.chunks(50) {
        let mut qb = sqlx::QueryBuilder::new(format!("INSERT INTO {t} (code, geom) "));
        qb.push_values(chunk, |mut b, d| {
            b.push_bind(&d.code)
                .push("ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(")
                .push_bind_unseparated(
                    serde_json::to_string(&geojson::Geometry::from(&geo::Geometry::MultiPolygon(
                        d.poly.clone(),
                    )))
                    .unwrap_or_default(),
                )
                .push_unseparated("), 4326))");
        });
        qb.build().execute(&mut *c).await?;
    }
    c.execute(format!("CREATE INDEX ON {t} USING gist (geom); ANALYZE {t}").as_str())
        .await?;
    let load = t0.elapsed().as_secs_f64();
    eprintln!("PostGIS: loaded in {load:.1} s; timing overlaps …");
    let t1 = Instant::now();
    let rows: Vec<(String, String, f64)> = sqlx::query_as(&format!(
        "SELECT a.code, b.code, ST_Area(ST_Intersection(a.geom, b.geom)::geography)
         FROM {t} a JOIN {t} b ON a.code < b.code AND a.geom && b.geom
         WHERE ST_Overlaps(a.geom, b.geom)"
    ))
    .fetch_all(&mut *c)
    .await?;
    let ov = t1.elapsed().as_secs_f64();
    eprintln!(
        "PostGIS: overlaps {ov:.1} s ({} pairs); timing union holes …",
        rows.len()
    );
    let t2 = Instant::now();
    let holes: (i64,) = sqlx::query_as(&format!(
        "SELECT COALESCE(sum(ST_NumInteriorRings(g)), 0)::bigint FROM (SELECT (ST_Dump(ST_Union(geom))).geom g FROM {t}) u"
    ))
    .fetch_one(&mut *c)
    .await?;
    let gap = t2.elapsed().as_secs_f64();
    c.execute(format!("DROP TABLE {t}").as_str()).await?;
    Ok((ov, gap, load, rows.len(), holes.0 as usize))
}
