//! Storing a network in PostGIS (tables of `migrations/0004_facilities.sql`, metadata in
//! `0005_network_meta.sql`), one transaction; edges carry `cost`/`reverse_cost` in metres so
//! pgRouting can use the table directly. Loading it back gives the same graph the compact
//! file holds, for a service whose store of record is PostGIS.

use super::Network;
use anyhow::{bail, Result};
use sqlx::Executor;

const META_MIGRATION: &str = include_str!("../../migrations/0005_network_meta.sql");

/// Replaces network `name` in the database; returns the number of edges stored.
pub fn store(url: &str, name: &str, net: &Network) -> Result<usize> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(url).await?;
        pool.execute(crate::facilities::db::MIGRATION).await?;
        pool.execute(META_MIGRATION).await?;
        let mut tx = pool.begin().await?;
        sqlx::query("INSERT INTO network_meta(network, meta) VALUES ($1, $2) ON CONFLICT (network) DO UPDATE SET meta = EXCLUDED.meta")
            .bind(name).bind(&net.meta).execute(&mut *tx).await?;
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

/// Loads network `name` from the database. None when the tables do not exist or hold no
/// network of that name; an error when the rows do not form a graph (an edge naming a node
/// that is not there).
pub fn load(url: &str, name: &str) -> Result<Option<Network>> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await?;
        let tables: (Option<String>, Option<String>, Option<String>) = sqlx::query_as(
            "SELECT to_regclass('network_nodes')::text, to_regclass('network_edges')::text, \
             to_regclass('network_meta')::text",
        )
        .fetch_one(&pool)
        .await?;
        let (Some(_), Some(_)) = (tables.0, tables.1) else {
            return Ok(None);
        };
        let nodes: Vec<(i32, f64, f64)> = sqlx::query_as(
            "SELECT id, ST_X(geom), ST_Y(geom) FROM network_nodes WHERE network = $1 ORDER BY id",
        )
        .bind(name)
        .fetch_all(&pool)
        .await?;
        if nodes.is_empty() {
            return Ok(None);
        }
        let edges: Vec<(i32, i32, f64)> = sqlx::query_as(
            "SELECT source, target, length_m FROM network_edges WHERE network = $1 ORDER BY id",
        )
        .bind(name)
        .fetch_all(&pool)
        .await?;
        let meta: Option<serde_json::Value> = match tables.2 {
            Some(_) => {
                sqlx::query_scalar("SELECT meta FROM network_meta WHERE network = $1")
                    .bind(name)
                    .fetch_optional(&pool)
                    .await?
            }
            None => None,
        };
        // `store` numbers the nodes 0..n; other numberings are mapped
        let index: std::collections::HashMap<i32, u32> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.0, i as u32))
            .collect();
        let mut e = Vec::with_capacity(edges.len());
        for (s, t, l) in edges {
            let (Some(&a), Some(&b)) = (index.get(&s), index.get(&t)) else {
                bail!("network '{name}': edge {s}–{t} names a node that is not in network_nodes");
            };
            if !(l.is_finite() && l >= 0.0) {
                bail!("network '{name}': edge {s}–{t} has length {l}");
            }
            e.push((a, b, l as f32));
        }
        let mut meta = meta.unwrap_or_else(|| serde_json::json!({ "note": "" }));
        if let Some(m) = meta.as_object_mut() {
            m.insert("postgis_network".into(), name.into());
        }
        let lon = nodes.iter().map(|n| n.1).collect();
        let lat = nodes.iter().map(|n| n.2).collect();
        Ok(Some(Network::from_edges(lon, lat, &e, meta)))
    })
}
