//! PostGIS persistence of the facility registry (table `facilities`, migration
//! `migrations/0004_facilities.sql`, run at connect in the given schema).
//!
//! Queries run on a dedicated tokio runtime owned by the store, so that handlers on any
//! actix worker can await them.

use super::{Facility, FacilityType};
use anyhow::{Context, Result};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Executor, PgPool, Row};

pub const MIGRATION: &str = include_str!("../../migrations/0004_facilities.sql");

pub struct FacilityDb {
    pool: PgPool,
    rt: &'static tokio::runtime::Runtime,
}

fn valid_schema(s: &str) -> bool {
    !s.is_empty()
        && s.len() < 60
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

impl FacilityDb {
    /// Connects (blocking), creates the schema if needed and runs the migration in it.
    pub fn connect(url: &str, schema: &str) -> Result<FacilityDb> {
        anyhow::ensure!(valid_schema(schema), "invalid schema name '{schema}'");
        let rt: &'static tokio::runtime::Runtime = Box::leak(Box::new(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()?,
        ));
        let schema = schema.to_string();
        let url = url.to_string();
        let pool = rt.block_on(async move {
            let admin = PgPoolOptions::new()
                .max_connections(1)
                .connect(&url)
                .await?;
            admin
                .execute(format!("CREATE SCHEMA IF NOT EXISTS {schema}").as_str())
                .await?;
            admin.close().await;
            let sp = format!("SET search_path TO {schema}, public");
            let pool = PgPoolOptions::new()
                .max_connections(4)
                .after_connect(move |c, _| {
                    let sp = sp.clone();
                    Box::pin(async move {
                        c.execute(sp.as_str()).await?;
                        Ok(())
                    })
                })
                .connect(&url)
                .await?;
            pool.execute(MIGRATION)
                .await
                .context("running 0004_facilities.sql")?;
            anyhow::Ok(pool)
        })?;
        Ok(FacilityDb { pool, rt })
    }

    fn run<T: Send + 'static>(
        &self,
        f: impl std::future::Future<Output = Result<T>> + Send + 'static,
    ) -> impl std::future::Future<Output = Result<T>> {
        let h = self.rt.spawn(f);
        async move { h.await.context("database task")? }
    }

    /// Every stored facility (blocking; used at start).
    pub fn load_all(&self) -> Result<Vec<Facility>> {
        let pool = self.pool.clone();
        self.rt.block_on(async move {
            let rows = sqlx::query("SELECT id,name,type,lon,lat,address,address_code,division,level,beds,nursing_beds,price_min,price_max,phone,hours,operator,photo_url,status,synthetic FROM facilities ORDER BY id")
                .fetch_all(&pool)
                .await?;
            rows.into_iter()
                .map(|r| {
                    let t: String = r.get("type");
                    Ok(Facility {
                        id: r.get("id"),
                        name: r.get("name"),
                        kind: FacilityType::parse(&t).with_context(|| format!("bad type '{t}' in database"))?,
                        lon: r.get("lon"),
                        lat: r.get("lat"),
                        address: r.get("address"),
                        address_code: r.get("address_code"),
                        division: r.get("division"),
                        level: r.get("level"),
                        beds: r.get::<Option<i32>, _>("beds").map(|v| v as u32),
                        nursing_beds: r.get::<Option<i32>, _>("nursing_beds").map(|v| v as u32),
                        price_min: r.get("price_min"),
                        price_max: r.get("price_max"),
                        phone: r.get("phone"),
                        hours: r.get("hours"),
                        operator: r.get("operator"),
                        photo_url: r.get("photo_url"),
                        status: r.get("status"),
                        synthetic: r.get("synthetic"),
                    })
                })
                .collect()
        })
    }

    /// Inserts or replaces facilities in one transaction.
    pub fn upsert_many(
        &self,
        list: Vec<Facility>,
    ) -> impl std::future::Future<Output = Result<()>> {
        let pool = self.pool.clone();
        self.run(async move {
            let mut tx = pool.begin().await?;
            for f in list {
                sqlx::query("INSERT INTO facilities (id,name,type,lon,lat,geom,address,address_code,division,level,beds,nursing_beds,price_min,price_max,phone,hours,operator,photo_url,status,synthetic,updated_at)
                    VALUES ($1,$2,$3,$4,$5,ST_SetSRID(ST_MakePoint($4,$5),4326),$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,now())
                    ON CONFLICT (id) DO UPDATE SET name=EXCLUDED.name,type=EXCLUDED.type,lon=EXCLUDED.lon,lat=EXCLUDED.lat,geom=EXCLUDED.geom,
                    address=EXCLUDED.address,address_code=EXCLUDED.address_code,division=EXCLUDED.division,level=EXCLUDED.level,beds=EXCLUDED.beds,
                    nursing_beds=EXCLUDED.nursing_beds,price_min=EXCLUDED.price_min,price_max=EXCLUDED.price_max,phone=EXCLUDED.phone,hours=EXCLUDED.hours,
                    operator=EXCLUDED.operator,photo_url=EXCLUDED.photo_url,status=EXCLUDED.status,synthetic=EXCLUDED.synthetic,updated_at=now()")
                    .bind(&f.id).bind(&f.name).bind(f.kind.as_str()).bind(f.lon).bind(f.lat)
                    .bind(&f.address).bind(&f.address_code).bind(&f.division).bind(&f.level)
                    .bind(f.beds.map(|v| v as i32)).bind(f.nursing_beds.map(|v| v as i32))
                    .bind(f.price_min).bind(f.price_max).bind(&f.phone).bind(&f.hours)
                    .bind(&f.operator).bind(&f.photo_url).bind(&f.status).bind(f.synthetic)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Count of rows (for tests and reports).
    pub fn count(&self) -> Result<i64> {
        let pool = self.pool.clone();
        self.rt.block_on(async move {
            Ok(sqlx::query_scalar("SELECT count(*) FROM facilities")
                .fetch_one(&pool)
                .await?)
        })
    }
}
