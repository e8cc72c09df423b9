//! Storing a network in PostGIS (tables of `migrations/0004_facilities.sql`), one transaction;
//! edges carry `cost`/`reverse_cost` in metres so pgRouting can use the table directly.

use super::Network;
use anyhow::Result;
use sqlx::Executor;

/// Replaces network `name` in the database; returns the number of edges stored.
pub fn store(url: &str, name: &str, net: &Network) -> Result<usize> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(url).await?;
        pool.execute(crate::facilities::db::MIGRATION).await?;
        let mut tx = pool.begin().await?;
        sqlx::query("DELETE FROM network_edges WHERE network = $1").bind(name).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM network_nodes WHERE network = $1").bind(name).execute(&mut *tx).await?;
        let ids: Vec<i32> = (0..net.node_count() as i32).collect();
        for c in ids.chunks(20000) {
            let lon: Vec<f64> = c.iter().map(|&i| net.lon[i as usize]).collect();
            let lat: Vec<f64> = c.iter().map(|&i| net.lat[i as usize]).collect();
            sqlx::query("INSERT INTO network_nodes(network,id,geom) SELECT $1, i, ST_SetSRID(ST_MakePoint(x,y),4326) FROM unnest($2::int4[],$3::float8[],$4::float8[]) AS t(i,x,y)")
                .bind(name).bind(c.to_vec()).bind(lon).bind(lat).execute(&mut *tx).await?;
        }
        let mut e: Vec<(i32, i32, f64)> = vec![];
        for u in 0..net.node_count() {
            for k in net.offsets[u] as usize..net.offsets[u + 1] as usize {
                let v = net.targets[k] as usize;
                if u < v {
                    e.push((u as i32, v as i32, net.length_m[k] as f64));
                }
            }
        }
        for c in e.chunks(20000) {
            let s: Vec<i32> = c.iter().map(|x| x.0).collect();
            let t: Vec<i32> = c.iter().map(|x| x.1).collect();
            let l: Vec<f64> = c.iter().map(|x| x.2).collect();
            sqlx::query("INSERT INTO network_edges(network,source,target,length_m,cost,reverse_cost,geom)
                SELECT $1, s, t, l, l, l, ST_MakeLine(a.geom, b.geom) FROM unnest($2::int4[],$3::int4[],$4::float8[]) AS x(s,t,l)
                JOIN network_nodes a ON a.network=$1 AND a.id=x.s JOIN network_nodes b ON b.network=$1 AND b.id=x.t")
                .bind(name).bind(s).bind(t).bind(l).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(e.len())
    })
}
