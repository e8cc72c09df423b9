//! `diming bench tiles`: diming vs Martin (over PostGIS) on the same data and a fixed tile list.
//!
//! Imports the division polygons drawn at the benchmark zooms (county level) and the facilities
//! into PostGIS (EPSG:3857, GiST), starts Martin on a loopback port against them and diming on
//! another, fetches every tile of the list once from each (raw and gzip sizes), then measures
//! tiles per second with `wrk` (a Lua script cycling through the list, gzip accepted) and
//! prints one table with the ratios.

use crate::divisions::Divisions;
use crate::facilities::Facility;
use crate::tiles::math::TileId;
use anyhow::{bail, Context, Result};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct TilesBench {
    pub data: PathBuf,
    pub facilities: PathBuf,
    pub database_url: String,
    pub martin: PathBuf,
    pub duration_s: u64,
    pub connections: usize,
    pub threads: usize,
}

/// The fixed tile list: z8–z13 over Shanghai, z14–z15 over central 黄浦区.
pub fn tile_list() -> Vec<TileId> {
    let mut out = Vec::new();
    for z in 8..=13 {
        out.extend(TileId::covering(z, [120.85, 30.67, 122.12, 31.88]));
    }
    for z in 14..=15 {
        out.extend(TileId::covering(z, [121.46, 31.20, 121.50, 31.245]));
    }
    out
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Minimal HTTP/1.1 GET (Connection: close): (status, body bytes, content-encoding).
fn http_get(port: u16, path: &str, gzip: bool) -> Result<(u16, Vec<u8>, Option<String>)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let ae = if gzip {
        "Accept-Encoding: gzip\r\n"
    } else {
        ""
    };
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{ae}Connection: close\r\n\r\n"
    )?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no header end")?;
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let mut body = buf[split + 4..].to_vec();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("bad status line")?;
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let nl = rest
                .windows(2)
                .position(|w| w == b"\r\n")
                .context("bad chunk")?;
            let n = usize::from_str_radix(
                String::from_utf8_lossy(&rest[..nl])
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim(),
                16,
            )?;
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[nl + 2..nl + 2 + n]);
            rest = &rest[nl + 2 + n + 2..];
        }
        body = out;
    }
    Ok((status, body, header("content-encoding")))
}

fn wait_up(port: u16, path: &str, what: &str) -> Result<()> {
    let t0 = Instant::now();
    loop {
        if let Ok((200, _, _)) = http_get(port, path, false) {
            return Ok(());
        }
        if t0.elapsed() > Duration::from_secs(120) {
            bail!("{what} did not come up on port {port}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn wkt_multipolygon(mp: &geo::MultiPolygon<f64>) -> String {
    let ring = |r: &geo::LineString<f64>| {
        let pts: Vec<String> = r.0.iter().map(|c| format!("{} {}", c.x, c.y)).collect();
        format!("({})", pts.join(","))
    };
    let polys: Vec<String> =
        mp.0.iter()
            .map(|p| {
                let rings: Vec<String> = std::iter::once(p.exterior())
                    .chain(p.interiors())
                    .map(ring)
                    .collect();
                format!("({})", rings.join(","))
            })
            .collect();
    format!("MULTIPOLYGON({})", polys.join(","))
}

/// Loads the same data into PostGIS, in one transaction.
async fn import(
    url: &str,
    d: &Divisions,
    level: crate::divisions::Level,
    facs: &[Facility],
) -> Result<()> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(url)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    let mut tx = pool.begin().await?;
    for sql in [
        "CREATE EXTENSION IF NOT EXISTS postgis",
        "DROP TABLE IF EXISTS tiles_bench_divisions",
        "DROP TABLE IF EXISTS tiles_bench_facilities",
        "CREATE TABLE tiles_bench_divisions (id bigint PRIMARY KEY, code text, name text, level text, synthetic boolean, geom geometry(MultiPolygon, 3857))",
        "CREATE TABLE tiles_bench_facilities (fid bigint PRIMARY KEY, id text, name text, type text, type_zh text, status text, synthetic boolean, lon double precision, lat double precision, level text, address text, phone text, hours text, beds integer, price_min double precision, price_max double precision, geom geometry(Point, 3857))",
    ] {
        sqlx::query(sql).execute(&mut *tx).await?;
    }
    let layer = d
        .layers
        .iter()
        .find(|l| l.level == level)
        .context("no polygons")?;
    for &div in &layer.div_of_poly {
        let dv = d.tree.get(div);
        sqlx::query("INSERT INTO tiles_bench_divisions VALUES ($1,$2,$3,$4,$5, ST_Multi(ST_Transform(ST_SetSRID(ST_GeomFromText($6),4326),3857)))")
            .bind(div as i64)
            .bind(dv.code())
            .bind(&dv.name)
            .bind(dv.level.as_str())
            .bind(d.synthetic_geom.get(&div).copied().unwrap_or(false))
            .bind(wkt_multipolygon(&d.geoms[&div]))
            .execute(&mut *tx)
            .await?;
    }
    for (i, f) in facs.iter().enumerate() {
        sqlx::query("INSERT INTO tiles_bench_facilities VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16, ST_Transform(ST_SetSRID(ST_MakePoint($8,$9),4326),3857))")
            .bind(i as i64 + 1)
            .bind(&f.id)
            .bind(&f.name)
            .bind(f.kind.as_str())
            .bind(f.kind.zh())
            .bind(&f.status)
            .bind(f.synthetic)
            .bind(f.lon)
            .bind(f.lat)
            .bind(&f.level)
            .bind(&f.address)
            .bind(&f.phone)
            .bind(&f.hours)
            .bind(f.beds.map(|b| b as i32))
            .bind(f.price_min)
            .bind(f.price_max)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("CREATE INDEX ON tiles_bench_divisions USING gist (geom)")
        .execute(&mut *tx)
        .await?;
    sqlx::query("CREATE INDEX ON tiles_bench_facilities USING gist (geom)")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    sqlx::query("ANALYZE tiles_bench_divisions")
        .execute(&pool)
        .await?;
    sqlx::query("ANALYZE tiles_bench_facilities")
        .execute(&pool)
        .await?;
    Ok(())
}

struct Sizes {
    nonempty: usize,
    raw: usize,
    gz: usize,
}

fn sizes(port: u16, paths: &[String]) -> Result<Sizes> {
    let mut s = Sizes {
        nonempty: 0,
        raw: 0,
        gz: 0,
    };
    for p in paths {
        let (st, raw, _) = http_get(port, p, false)?;
        let (st2, gz, enc) = http_get(port, p, true)?;
        if !matches!(st, 200 | 204) || st != st2 {
            bail!("GET {p} on port {port} answered {st}/{st2}");
        }
        if st == 200 && !raw.is_empty() {
            s.nonempty += 1;
            s.raw += raw.len();
            // a server that does not compress is charged its raw size
            s.gz += if enc.as_deref() == Some("gzip") {
                gz.len()
            } else {
                raw.len()
            };
        }
    }
    Ok(s)
}

/// Runs wrk against the list; returns (requests/s, non-2xx count).
fn wrk(b: &TilesBench, port: u16, paths: &[String], name: &str) -> Result<(f64, u64)> {
    let script =
        std::env::temp_dir().join(format!("diming-tiles-{name}-{}.lua", std::process::id()));
    let list: Vec<String> = paths.iter().map(|p| format!("{p:?}")).collect();
    std::fs::write(
        &script,
        format!(
            "local paths = {{{}}}\nlocal i = math.random(#paths)\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format(\"GET\", paths[i], {{[\"Accept-Encoding\"] = \"gzip\"}})\nend\n",
            list.join(",")
        ),
    )?;
    let out = Command::new("wrk")
        .arg(format!("-t{}", b.threads))
        .arg(format!("-c{}", b.connections))
        .arg(format!("-d{}s", b.duration_s))
        .arg("-s")
        .arg(&script)
        .arg(format!("http://127.0.0.1:{port}"))
        .output()
        .context("running wrk (apt-get install -y wrk)")?;
    let _ = std::fs::remove_file(&script);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .with_context(|| format!("no Requests/sec in wrk output: {text}"))?;
    let non2xx = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    Ok((rps, non2xx))
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn run(b: &TilesBench) -> Result<()> {
    let t0 = Instant::now();
    let src = crate::store::load_embedded(&b.data)
        .with_context(|| format!("loading {}", b.data.display()))?;
    let divisions = Divisions::build(src)?;
    let facs = crate::facilities::load_csv(&b.facilities)?;
    let tiles = tile_list();
    let level = crate::tiles::level_for_zoom(&divisions, 10).context("no division polygons")?;
    for t in &tiles {
        if crate::tiles::level_for_zoom(&divisions, t.z) != Some(level) {
            bail!("the tile list spans several division levels; the PostGIS side has one");
        }
    }
    eprintln!(
        "data: {} {} polygons, {} facilities; {} tiles (z8–z15); importing into PostGIS…",
        divisions
            .layers
            .iter()
            .find(|l| l.level == level)
            .map(|l| l.index.len())
            .unwrap_or(0),
        level.as_str(),
        facs.len(),
        tiles.len()
    );
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(import(&b.database_url, &divisions, level, &facs))?;

    // diming, in this process
    let dport = free_port()?;
    let state = Arc::new(crate::http::AppState::new(
        divisions,
        crate::http::Config {
            bind: format!("127.0.0.1:{dport}"),
            ..Default::default()
        },
    ));
    for f in facs {
        state.facilities.upsert(f);
    }
    std::thread::spawn(move || {
        let _ = actix_web::rt::System::new().block_on(crate::http::serve(state));
    });
    wait_up(dport, "/healthz", "diming")?;

    // Martin over the same PostGIS
    let mport = free_port()?;
    let martin = Command::new(&b.martin)
        .arg(&b.database_url)
        .arg("--listen-addresses")
        .arg(format!("127.0.0.1:{mport}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting Martin ({})", b.martin.display()))?;
    let _martin = Kill(martin);
    wait_up(mport, "/health", "martin")?;

    let dpaths: Vec<String> = tiles
        .iter()
        .map(|t| format!("/tiles/divisions,facilities/{}/{}/{}.pbf", t.z, t.x, t.y))
        .collect();
    let mpaths: Vec<String> = tiles
        .iter()
        .map(|t| {
            format!(
                "/tiles_bench_divisions,tiles_bench_facilities/{}/{}/{}",
                t.z, t.x, t.y
            )
        })
        .collect();
    let ds = sizes(dport, &dpaths)?;
    let ms = sizes(mport, &mpaths)?;
    eprintln!(
        "sizes collected (both servers warmed); wrk {} s each…",
        b.duration_s
    );
    let (drps, dbad) = wrk(b, dport, &dpaths, "diming")?;
    let (mrps, mbad) = wrk(b, mport, &mpaths, "martin")?;

    let n = tiles.len();
    println!(
        "diming bench tiles — {n} tiles (z8–z13 over Shanghai, z14–z15 over 黄浦区), layers divisions+facilities, wrk -t{} -c{} -d{}s, gzip accepted",
        b.threads, b.connections, b.duration_s
    );
    println!(
        "{:<8} {:>10} {:>9} {:>10} {:>12} {:>11} {:>12} {:>11}",
        "server",
        "tiles/s",
        "non-2xx",
        "non-empty",
        "raw total B",
        "raw avg B",
        "gz total B",
        "gz avg B"
    );
    for (name, rps, bad, s) in [("diming", drps, dbad, &ds), ("martin", mrps, mbad, &ms)] {
        let ne = s.nonempty.max(1);
        println!(
            "{:<8} {:>10.0} {:>9} {:>10} {:>12} {:>11.0} {:>12} {:>11.0}",
            name,
            rps,
            bad,
            s.nonempty,
            s.raw,
            s.raw as f64 / ne as f64,
            s.gz,
            s.gz as f64 / ne as f64
        );
    }
    println!(
        "ratio diming/martin: throughput {:.2}x, raw size {:.2}, gzip size {:.2} (target: ≥ 2x throughput at ≤ 1.0 size)",
        drps / mrps,
        ds.raw as f64 / ms.raw.max(1) as f64,
        ds.gz as f64 / ms.gz.max(1) as f64
    );
    println!(
        "non-2xx are 204 empty tiles (same list for both); both servers cache tiles in memory and were warmed by the size pass. Total {:.1} s.",
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
