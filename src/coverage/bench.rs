//! `diming bench coverage` and `diming bench isochrone`: print a table.

use super::*;
use crate::network::{synthetic_grid, Network};
use std::time::Instant;

/// Peak resident memory (VmHWM) and current (VmRSS) in MB, from /proc/self/status.
pub fn mem_mb() -> (f64, f64) {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let get = |k: &str| {
        s.lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (get("VmHWM:"), get("VmRSS:"))
}

pub struct CoverageBench {
    pub side: usize,
    pub addresses: usize,
    pub facilities: usize,
    pub streets: usize,
    pub minutes: f64,
    pub speed_kmh: f64,
    pub seed: u64,
}

/// Multi-source service areas and coverage of every street of a synthetic city.
pub fn coverage(b: &CoverageBench) -> Result<()> {
    use rand::{Rng, SeedableRng};
    let t = Instant::now();
    let net = synthetic_grid(b.side, 80.0, b.seed);
    let t_net = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut demand = synthetic_city(&net, b.addresses, b.streets, b.seed + 1);
    let t_gen = t.elapsed().as_secs_f64();
    let t = Instant::now();
    demand.snap(&net);
    let t_snap = t.elapsed().as_secs_f64();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(b.seed + 2);
    let facs: Vec<(f64, f64)> = (0..b.facilities)
        .map(|_| {
            let v = rng.gen_range(0..net.node_count());
            (net.lon[v], net.lat[v])
        })
        .collect();
    let q = Query {
        minutes: b.minutes,
        speed_kmh: b.speed_kmh,
    };
    // service areas (multi-source Dijkstra) alone
    let t = Instant::now();
    let sources = super::snapped_sources(&net, &facs);
    let nd = net.dijkstra(&sources, q.limit_m());
    let reached = nd.iter().filter(|d| d.is_finite()).count();
    let t_sa = t.elapsed().as_secs_f64();
    // full coverage of every street
    let t = Instant::now();
    // the synthetic city is county 999001; its streets are the rows
    let rep = super::coverage(Some(&net), &demand, &facs, "999001", &q);
    let t_cov = t.elapsed().as_secs_f64();
    // straight-line fallback for comparison
    let t = Instant::now();
    let rep_sl = super::coverage(None, &demand, &facs, "999001", &q);
    let t_sl = t.elapsed().as_secs_f64();
    let (peak, rss) = mem_mb();
    println!(
        "# bench coverage (synthetic city, seed {}; synthetic data)",
        b.seed
    );
    println!("| item | value |");
    println!("|---|---|");
    println!("| network nodes | {} |", net.node_count());
    println!(
        "| network edges (undirected segments) | {} |",
        net.arc_count() / 2
    );
    println!("| addresses (synthetic) | {} |", demand.len());
    println!("| streets | {} |", demand.divisions.len());
    println!("| facilities | {} |", facs.len());
    println!(
        "| limit | {} min at {} km/h = {:.0} m |",
        b.minutes,
        b.speed_kmh,
        q.limit_m()
    );
    println!("| build network | {t_net:.2} s |");
    println!("| generate addresses | {t_gen:.2} s |");
    println!("| snap addresses to network (once, at load) | {t_snap:.2} s |");
    println!("| multi-source service area ({reached} nodes reached) | {t_sa:.3} s |");
    println!(
        "| **coverage of every street, network** | **{t_cov:.3} s** (rate {:.1}%, {} street rows) |",
        rep.total.rate * 100.0,
        rep.rows.len()
    );
    println!(
        "| coverage of every street, straight line ×{DETOUR_FACTOR} | {t_sl:.3} s (rate {:.1}%) |",
        rep_sl.total.rate * 100.0
    );
    println!("| memory: peak RSS / current RSS | {peak:.0} MB / {rss:.0} MB |");
    println!(
        "| target: city-wide coverage < 2 s | {} |",
        if t_cov < 2.0 { "met" } else { "NOT met" }
    );
    Ok(())
}

pub struct IsochroneBench {
    pub network: Option<std::path::PathBuf>,
    pub side: usize,
    pub queries: usize,
    pub pg_queries: usize,
    pub minutes: f64,
    pub speed_kmh: f64,
    pub database_url: Option<String>,
    pub seed: u64,
}

/// Single isochrones per second, ours vs pgRouting `pgr_drivingDistance` on the same network.
pub fn isochrone(b: &IsochroneBench) -> Result<()> {
    use rand::{Rng, SeedableRng};
    let net = match &b.network {
        Some(p) => Network::read(p)?,
        None => synthetic_grid(b.side, 80.0, b.seed),
    };
    let limit = b.minutes * b.speed_kmh * 1000.0 / 60.0;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(b.seed);
    let srcs: Vec<u32> = (0..b.queries.max(b.pg_queries))
        .map(|_| loop {
            let v = rng.gen_range(0..net.node_count()) as u32;
            if net.offsets[v as usize + 1] > net.offsets[v as usize] {
                break v;
            }
        })
        .collect();
    // ours: reachable node set (same output as pgr_drivingDistance)
    let mut dist = vec![f32::INFINITY; net.node_count()];
    let mut touched = vec![];
    let t = Instant::now();
    let mut total_nodes = 0usize;
    for &s in &srcs[..b.queries] {
        net.dijkstra_into(&[(s, 0.0)], limit, &mut dist, &mut touched);
        total_nodes += touched.len();
        for &t in &touched {
            dist[t as usize] = f32::INFINITY;
        }
        touched.clear();
    }
    let ours = b.queries as f64 / t.elapsed().as_secs_f64();
    // ours with polygon
    let npoly = (b.queries / 10).max(1);
    let t = Instant::now();
    for &s in &srcs[..npoly] {
        let d = net.dijkstra(&[(s, 0.0)], limit);
        let segs = net.reachable_segments(&d, limit);
        let _ = net.area_polygon(&segs, super::BUFFER_M);
    }
    let ours_poly = npoly as f64 / t.elapsed().as_secs_f64();
    println!(
        "# bench isochrone ({} min at {} km/h = {limit:.0} m)",
        b.minutes, b.speed_kmh
    );
    println!("| item | value |");
    println!("|---|---|");
    println!("| network | {} |", net.meta);
    println!(
        "| nodes / undirected edges | {} / {} |",
        net.node_count(),
        net.arc_count() / 2
    );
    println!(
        "| diming: reachable set (Dijkstra on CSR) | {ours:.0} isochrones/s (avg {} nodes) |",
        total_nodes / b.queries.max(1)
    );
    println!(
        "| diming: with polygon (round buffer of {} m around the reachable segments) | {ours_poly:.1} isochrones/s |",
        super::BUFFER_M
    );
    let Some(url) = &b.database_url else {
        println!("| pgRouting | skipped (no --database-url) |");
        return Ok(());
    };
    let rt = tokio::runtime::Runtime::new()?;
    let res: Result<(f64, usize, f64)> = rt.block_on(async {
        use sqlx::Executor;
        let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(url).await?;
        pool.execute("CREATE EXTENSION IF NOT EXISTS pgrouting").await?;
        let tbl = format!("bench_net_{}", std::process::id());
        pool.execute(format!("DROP TABLE IF EXISTS {tbl}").as_str()).await?;
        pool.execute(format!("CREATE UNLOGGED TABLE {tbl} (id bigserial primary key, source bigint, target bigint, cost float8, reverse_cost float8, geom geometry(Point))").as_str()).await?;
        // one row per undirected segment (u < v), copied in chunks
        // (source, target, metres, source node x/y in the network's local metric frame)
        let mut rows: Vec<(i64, i64, f64, f64, f64)> = vec![];
        for u in 0..net.node_count() {
            for k in net.offsets[u] as usize..net.offsets[u + 1] as usize {
                let v = net.targets[k] as usize;
                if u < v {
                    rows.push((u as i64, v as i64, net.length_m[k] as f64, net.xy[u][0], net.xy[u][1]));
                }
            }
        }
        for chunk in rows.chunks(20000) {
            let a: Vec<i64> = chunk.iter().map(|r| r.0).collect();
            let bb: Vec<i64> = chunk.iter().map(|r| r.1).collect();
            let c: Vec<f64> = chunk.iter().map(|r| r.2).collect();
            let x: Vec<f64> = chunk.iter().map(|r| r.3).collect();
            let y: Vec<f64> = chunk.iter().map(|r| r.4).collect();
            sqlx::query(&format!("INSERT INTO {tbl}(source,target,cost,reverse_cost,geom) SELECT s,t,c,c,ST_MakePoint(x,y) FROM unnest($1::int8[],$2::int8[],$3::float8[],$4::float8[],$5::float8[]) AS u(s,t,c,x,y)"))
                .bind(a).bind(bb).bind(c).bind(x).bind(y).execute(&pool).await?;
        }
        pool.execute(format!("CREATE INDEX ON {tbl} USING gist (geom); ANALYZE {tbl}").as_str()).await?;
        let sql = format!("SELECT count(*) FROM pgr_drivingDistance('SELECT id, source, target, cost, reverse_cost FROM {tbl}', $1::bigint, $2::float8, directed => false)");
        let t = Instant::now();
        let mut n = 0i64;
        let mut mism = 0usize;
        let mut dist = vec![f32::INFINITY; net.node_count()];
        let mut touched = vec![];
        for &s in &srcs[..b.pg_queries] {
            let c: i64 = sqlx::query_scalar(&sql).bind(s as i64).bind(limit).fetch_one(&pool).await?;
            n += c;
            net.dijkstra_into(&[(s, 0.0)], limit, &mut dist, &mut touched);
            // pgRouting counts nodes with agg_cost <= distance; ours the same (rounding at the edge aside)
            if (touched.len() as i64 - c).abs() > 2 {
                mism += 1;
            }
            for &t in &touched {
                dist[t as usize] = f32::INFINITY;
            }
            touched.clear();
        }
        let el = t.elapsed().as_secs_f64();
        // the usual pgRouting practice for isochrones: only the edges within the limit's box
        // around the source (GiST), so it does not read the whole network per query
        let t = Instant::now();
        for &s in &srcs[..b.pg_queries] {
            let (x, y) = (net.xy[s as usize][0], net.xy[s as usize][1]);
            let edges = format!(
                "SELECT id, source, target, cost, reverse_cost FROM {tbl} WHERE geom && ST_MakeEnvelope({}, {}, {}, {})",
                x - limit - 1.0, y - limit - 1.0, x + limit + 1.0, y + limit + 1.0
            );
            let c: i64 = sqlx::query_scalar("SELECT count(*) FROM pgr_drivingDistance($1, $2::bigint, $3::float8, directed => false)")
                .bind(edges).bind(s as i64).bind(limit).fetch_one(&pool).await?;
            n += c;
        }
        let el_box = t.elapsed().as_secs_f64();
        pool.execute(format!("DROP TABLE {tbl}").as_str()).await?;
        let _ = n;
        Ok((b.pg_queries as f64 / el, mism, b.pg_queries as f64 / el_box))
    });
    match res {
        Ok((pg_all, mism, pg)) => {
            println!("| pgRouting pgr_drivingDistance, edge query = whole table | {pg_all:.2} isochrones/s |");
            println!("| pgRouting pgr_drivingDistance, edge query = GiST box of the limit around the source | {pg:.2} isochrones/s |");
            println!(
                "| reachable-node count mismatches vs pgRouting | {mism} of {} |",
                b.pg_queries
            );
            println!(
                "| **ratio diming / pgRouting (box query, the faster)** | **{:.0}×** (target ≥ 20×; {:.0}× against the whole-table query) |",
                ours / pg,
                ours / pg_all
            );
        }
        Err(e) => println!("| pgRouting | failed: {e:#} |"),
    }
    Ok(())
}
