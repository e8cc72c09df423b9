//! PostGIS persistence of inspections (tables in `migrations/0003_inspection.sql`).
//! `DIMING_DB_SCHEMA` (optional) puts the tables in their own schema, which tests use to run
//! in parallel against one database.

use super::Report;
use anyhow::{Context, Result};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::Executor;

/// Connects, creates the schema named by `DIMING_DB_SCHEMA` if any, and runs the migrations.
pub async fn connect(url: &str) -> Result<PgPool> {
    let schema = std::env::var("DIMING_DB_SCHEMA")
        .ok()
        .filter(|s| !s.is_empty());
    if let Some(s) = &schema {
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            anyhow::bail!("DIMING_DB_SCHEMA '{s}': only letters, digits and _ are allowed");
        }
    }
    let sp = schema.clone();
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .after_connect(move |conn, _| {
            let sp = sp.clone();
            Box::pin(async move {
                if let Some(s) = sp {
                    conn.execute(
                        format!("CREATE SCHEMA IF NOT EXISTS {s}; SET search_path TO {s}, public")
                            .as_str(),
                    )
                    .await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await
        .with_context(|| "cannot connect to PostgreSQL".to_string())?;
    sqlx::migrate!("./migrations")
        .run(&pool)
        .await
        .context("running migrations")?;
    Ok(pool)
}

fn gj(g: &geo::Geometry<f64>) -> String {
    serde_json::to_string(&geojson::Geometry::from(g)).unwrap_or_default()
}

/// Stores a finished report (one transaction); returns its id.
pub async fn save(url: &str, r: &Report, source: &str) -> Result<uuid::Uuid> {
    let pool = connect(url).await?;
    let id = uuid::Uuid::new_v4();
    save_with(&pool, id, r, source).await?;
    Ok(id)
}

pub async fn save_with(pool: &PgPool, id: uuid::Uuid, r: &Report, source: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO inspections (id, source, input, previous, crs, status, params, summary, report)
         VALUES ($1, $2, $3, $4, $5, 'done', $6, $7, $8)
         ON CONFLICT (id) DO UPDATE SET status = 'done', summary = EXCLUDED.summary, report = EXCLUDED.report",
    )
    .bind(id)
    .bind(source)
    .bind(&r.input)
    .bind(&r.previous)
    .bind(r.crs.as_str())
    .bind(serde_json::to_value(&r.params)?)
    .bind(serde_json::to_value(&r.summary)?)
    .bind(super::output::report_json(r))
    .execute(&mut *tx)
    .await?;
    for chunk in r.lines.chunks(500) {
        let mut qb = sqlx::QueryBuilder::new(
            "INSERT INTO inspection_lines (inspection_id, line_id, a, b, length_m, faults, change, hausdorff_m, geom) ",
        );
        qb.push_values(chunk, |mut b, l| {
            b.push_bind(id)
                .push_bind(&l.id)
                .push_bind(&l.a)
                .push_bind(&l.b)
                .push_bind(l.length_m)
                .push_bind(l.faults as i32)
                .push_bind(l.change.as_ref().map(|c| c.status.clone()))
                .push_bind(l.change.as_ref().and_then(|c| c.hausdorff_m))
                .push("ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(")
                .push_bind_unseparated(gj(&geo::Geometry::MultiLineString(l.geometry.clone())))
                .push_unseparated("), 4326))");
        });
        qb.build().execute(&mut *tx).await?;
    }
    for (n, chunk) in r.faults.chunks(500).enumerate() {
        let mut qb = sqlx::QueryBuilder::new(
            "INSERT INTO inspection_faults (inspection_id, n, kind, line_id, area_m2, width_m, message, geom) ",
        );
        qb.push_values(chunk.iter().enumerate(), |mut b, (k, f)| {
            b.push_bind(id)
                .push_bind((n * 500 + k) as i32)
                .push_bind(&f.kind)
                .push_bind(&f.line_id)
                .push_bind(f.area_m2)
                .push_bind(f.width_m)
                .push_bind(&f.message)
                .push("ST_SetSRID(ST_GeomFromGeoJSON(")
                .push_bind_unseparated(gj(&f.geometry))
                .push_unseparated("), 4326)");
        });
        qb.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Records a job that has started (HTTP).
pub async fn start(
    pool: &PgPool,
    id: uuid::Uuid,
    input: &str,
    crs: &str,
    params: &super::Params,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO inspections (id, source, input, crs, status, params) VALUES ($1, 'http', $2, $3, 'running', $4)",
    )
    .bind(id)
    .bind(input)
    .bind(crs)
    .bind(serde_json::to_value(params)?)
    .execute(pool)
    .await?;
    Ok(())
}

/// Marks a job failed.
pub async fn fail(pool: &PgPool, id: uuid::Uuid, err: &str) -> Result<()> {
    sqlx::query("UPDATE inspections SET status = 'failed', error = $2 WHERE id = $1")
        .bind(id)
        .bind(err)
        .execute(pool)
        .await?;
    Ok(())
}

/// Loads a stored report.json and status.
pub async fn load(
    pool: &PgPool,
    id: uuid::Uuid,
) -> Result<Option<(String, Option<serde_json::Value>)>> {
    let row: Option<(String, Option<serde_json::Value>)> =
        sqlx::query_as("SELECT status, report FROM inspections WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    Ok(row)
}
