//! Benchmarks that print a table (`diming bench …`). Each compares against its peer on the
//! same machine in the same run.
//!
//! `diming bench reverse`: reverse geocoding on a national county layer (default: the 2,875
//! AMap county polygons, 4.2 M vertices). Reports load/build time and memory, single-thread
//! in-process points/s (`locate`; `locate` + boundary distance; the full answer with its chain),
//! points/s over HTTP (`POST /v1/reverse/batch` of 10,000 points to the actix server started
//! in-process on a loopback port), and PostGIS `ST_Covers` with a GiST index on the same points
//! (the layer is imported into a scratch schema that is dropped afterwards), with the count of
//! disagreements and the ratio.
//!
//! Points are seeded (ChaCha8, `--seed`): "uniform" over China's bounding box (73.5–135.1°E,
//! 18–53.6°N) and "inside" = a random county, then a random point of its bounding box kept only
//! if the index puts it in that county (so every point is on land in a county; the answers are
//! then checked against PostGIS).

use crate::divisions::{DivisionTree, Divisions};
use crate::store::{features, DivisionSource};
use anyhow::{bail, Context, Result};
use rand::{Rng, SeedableRng};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

pub struct ReverseBench {
    pub polygons: PathBuf,
    pub points: usize,
    pub database_url: Option<String>,
    pub postgis_points: usize,
    pub http_points: usize,
    pub seed: u64,
}

/// Resident set size of this process in bytes (Linux `/proc/self/status`), 0 elsewhere.
pub fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<usize>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

fn mb(b: usize) -> String {
    format!("{:.1} MB", b as f64 / 1e6)
}

struct Table(Vec<(String, String)>);

impl Table {
    fn row(&mut self, k: impl Into<String>, v: impl Into<String>) {
        let (k, v) = (k.into(), v.into());
        eprintln!("  {k}: {v}");
        self.0.push((k, v));
    }
    fn print(&self) {
        let w = self
            .0
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0);
        let w2 = self
            .0
            .iter()
            .map(|(_, v)| v.chars().count())
            .max()
            .unwrap_or(0);
        println!("+-{}-+-{}-+", "-".repeat(w), "-".repeat(w2));
        for (k, v) in &self.0 {
            let pad = w - k.chars().count();
            let pad2 = w2 - v.chars().count();
            println!("| {k}{} | {v}{} |", " ".repeat(pad), " ".repeat(pad2));
        }
        println!("+-{}-+-{}-+", "-".repeat(w), "-".repeat(w2));
    }
}

fn rate(n: usize, secs: f64) -> String {
    format!("{:.0} points/s", n as f64 / secs.max(1e-9))
}

pub fn reverse(b: &ReverseBench) -> Result<()> {
    let mut t = Table(Vec::new());
    let rss0 = rss_bytes();
    t.row("polygon layer", b.polygons.display().to_string());
    // 1. load
    let t0 = Instant::now();
    let feats = features::read_features(&b.polygons)
        .with_context(|| format!("reading {}", b.polygons.display()))?;
    let t_read = t0.elapsed().as_secs_f64();
    let mut polygons = Vec::with_capacity(feats.len());
    for (n, f) in feats.into_iter().enumerate() {
        let code = f
            .prop("adcode")
            .or_else(|| f.prop("code"))
            .with_context(|| format!("feature {n}: no adcode"))?;
        let short =
            crate::divisions::short_code(&code).map_err(|e| anyhow::anyhow!("feature {n}: {e}"))?;
        let mp = features::to_multipolygon(f.geometry)
            .with_context(|| format!("feature {n} ({code})"))?;
        polygons.push((short, mp, false));
    }
    let nfeat = polygons.len();
    let tree_dir = std::path::Path::new("data/divisions");
    let tree = if tree_dir.join("areas.csv").exists() {
        DivisionTree::load_dir(tree_dir, Some(&[]))?
    } else {
        DivisionTree::default()
    };
    // keep a copy of the polygons for PostGIS
    let pg_polys: Vec<(String, geo::MultiPolygon<f64>)> = if b.database_url.is_some() {
        polygons
            .iter()
            .map(|(c, m, _)| (c.clone(), m.clone()))
            .collect()
    } else {
        Vec::new()
    };
    let rss_read = rss_bytes();
    let t1 = Instant::now();
    let divisions = Divisions::build(DivisionSource {
        tree,
        changes: Default::default(),
        polygons,
        origin: b.polygons.display().to_string(),
    })?;
    let t_build = t1.elapsed().as_secs_f64();
    let (npoly, nvert, index_bytes) = divisions.stats();
    let geom_bytes: usize = divisions
        .geoms
        .values()
        .map(|mp| {
            mp.0.iter()
                .map(|p| geo::CoordsIter::coords_count(p) * 16)
                .sum::<usize>()
        })
        .sum();
    let rss_built = rss_bytes();
    t.row(
        "features / polygons / vertices",
        format!("{nfeat} / {npoly} / {nvert}"),
    );
    t.row("read + parse file", format!("{t_read:.2} s"));
    t.row("build index", format!("{t_build:.2} s"));
    t.row("index memory (Divisions::stats)", mb(index_bytes));
    t.row("polygons kept for answers (geo)", mb(geom_bytes));
    t.row(
        "process RSS before / after read / after build",
        format!("{} / {} / {}", mb(rss0), mb(rss_read), mb(rss_built)),
    );
    let layer = divisions
        .layers
        .first()
        .context("the layer has no polygons")?;

    // 2. points
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(b.seed);
    let n = b.points.max(1);
    let uniform: Vec<(f64, f64)> = (0..n)
        .map(|_| (rng.gen_range(73.5..135.1), rng.gen_range(18.0..53.6)))
        .collect();
    let bboxes: Vec<geo::Rect<f64>> = layer
        .div_of_poly
        .iter()
        .map(|d| geo::BoundingRect::bounding_rect(&divisions.geoms[d]).expect("non-empty"))
        .collect();
    let mut inside = Vec::with_capacity(n);
    while inside.len() < n {
        let p = rng.gen_range(0..bboxes.len());
        let r = bboxes[p];
        for _ in 0..1000 {
            let (x, y) = (
                rng.gen_range(r.min().x..=r.max().x),
                rng.gen_range(r.min().y..=r.max().y),
            );
            if layer.index.locate(x, y) == Some(p as u32) {
                inside.push((x, y));
                break;
            }
        }
    }
    t.row(
        "points (seed)",
        format!(
            "{n} uniform over China's bbox + {n} inside random counties ({})",
            b.seed
        ),
    );

    // 3. in-process, one thread
    let mut inproc = |name: &str, pts: &[(f64, f64)]| {
        let t0 = Instant::now();
        let mut found = 0usize;
        for &(x, y) in pts {
            if layer.index.locate(x, y).is_some() {
                found += 1;
            }
        }
        let s = t0.elapsed().as_secs_f64();
        t.row(
            format!("in-process locate, 1 thread, {name}"),
            format!("{} ({found} found)", rate(pts.len(), s)),
        );
        let m = pts.len().min(200_000);
        let t0 = Instant::now();
        let mut dsum = 0.0;
        for &(x, y) in &pts[..m] {
            if let Some(p) = layer.index.locate(x, y) {
                dsum += layer
                    .index
                    .boundary_distance(p, x, y)
                    .map(|d| d.0)
                    .unwrap_or(0.0);
            }
        }
        let s = t0.elapsed().as_secs_f64();
        t.row(
            format!("in-process locate + boundary distance, {name}"),
            format!("{} (mean {:.0} m)", rate(m, s), dsum / m as f64),
        );
        let t0 = Instant::now();
        let mut chain = 0usize;
        for &(x, y) in &pts[..m] {
            if let Some(r) = divisions.reverse(x, y, false) {
                chain += r.chain.len();
            }
        }
        let s = t0.elapsed().as_secs_f64();
        t.row(
            format!("in-process full answer (division + chain), {name}"),
            format!("{} ({chain} chain entries)", rate(m, s)),
        );
    };
    inproc("uniform", &uniform);
    inproc("inside", &inside);
    let t0 = Instant::now();
    let mut found = 0;
    for &(x, y) in &inside {
        if layer.index.locate(x, y).is_some() {
            found += 1;
        }
    }
    let inproc_rate = inside.len() as f64 / t0.elapsed().as_secs_f64();
    debug_assert_eq!(found, inside.len());

    // answers for the comparison with PostGIS (short codes)
    let ours = |pts: &[(f64, f64)]| -> Vec<Option<String>> {
        pts.iter()
            .map(|&(x, y)| {
                layer.index.locate(x, y).map(|p| {
                    divisions
                        .tree
                        .get(layer.div_of_poly[p as usize])
                        .short
                        .clone()
                })
            })
            .collect()
    };
    let pgn = b.postgis_points.min(n);
    let ours_uniform = ours(&uniform[..pgn]);
    let ours_inside = ours(&inside[..pgn]);

    // 4. HTTP
    let state = Arc::new(crate::http::AppState::new(
        divisions,
        crate::http::Config {
            bind: format!("127.0.0.1:{}", free_port()?),
            ..Default::default()
        },
    ));
    let bind = state.config.bind.clone();
    let st = state.clone();
    std::thread::spawn(move || {
        let _ = actix_web::rt::System::new().block_on(crate::http::serve(st));
    });
    wait_port(&bind)?;
    let hn = b.http_points.min(n);
    for (name, pts) in [("uniform", &uniform[..hn]), ("inside", &inside[..hn])] {
        let mut client = HttpClient::connect(&bind)?;
        let t0 = Instant::now();
        let mut found = 0usize;
        for chunk in pts.chunks(10_000) {
            let mut body = String::with_capacity(chunk.len() * 40);
            body.push_str("{\"points\":[");
            for (i, (x, y)) in chunk.iter().enumerate() {
                if i > 0 {
                    body.push(',');
                }
                body.push_str(&format!("[{x:.7},{y:.7}]"));
            }
            body.push_str("]}");
            // actix closes idle keep-alive connections after 5 s: reconnect once on error
            let resp = match client.post("/v1/reverse/batch", &body) {
                Ok(r) => r,
                Err(_) => {
                    client = HttpClient::connect(&bind)?;
                    client.post("/v1/reverse/batch", &body)?
                }
            };
            let v: serde_json::Value = serde_json::from_slice(&resp)?;
            let res = v["results"]
                .as_array()
                .context("no results in the answer")?;
            if res.len() != chunk.len() {
                bail!(
                    "HTTP answer has {} results for {} points",
                    res.len(),
                    chunk.len()
                );
            }
            found += res.iter().filter(|r| r["found"] == true).count();
        }
        let s = t0.elapsed().as_secs_f64();
        t.row(
            format!("HTTP POST /v1/reverse/batch (10,000/request, 1 client), {name}"),
            format!("{} ({found} found)", rate(pts.len(), s)),
        );
    }

    // 5. PostGIS
    if let Some(url) = &b.database_url {
        let schema = format!("bench_reverse_{}", std::process::id());
        let sep = if url.contains('?') { '&' } else { '?' };
        let surl = format!("{url}{sep}options=-csearch_path%3D{schema}%2Cpublic");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let res: Result<()> = rt.block_on(async {
            let pool = crate::store::postgis::connect(&surl).await?;
            let secs = crate::store::postgis::load_layer_for_bench(&pool, &pg_polys).await?;
            t.row(
                "PostGIS import of the layer (scratch schema, GiST)",
                format!("{secs:.1} s"),
            );
            for (name, pts, ours) in [
                ("uniform", &uniform[..pgn], &ours_uniform),
                ("inside", &inside[..pgn], &ours_inside),
            ] {
                let t0 = Instant::now();
                let mut theirs = Vec::with_capacity(pts.len());
                for chunk in pts.chunks(5_000) {
                    let xs: Vec<f64> = chunk.iter().map(|p| p.0).collect();
                    let ys: Vec<f64> = chunk.iter().map(|p| p.1).collect();
                    theirs.extend(crate::store::postgis::covers(&pool, &xs, &ys).await?);
                }
                let s = t0.elapsed().as_secs_f64();
                let pg_rate = pts.len() as f64 / s;
                let disagree = theirs
                    .iter()
                    .zip(ours.iter())
                    .filter(|(a, b)| a != b)
                    .count();
                t.row(
                    format!("PostGIS ST_Covers + GiST, {name}"),
                    format!(
                        "{} ({} points, {disagree} disagreements)",
                        rate(pts.len(), s),
                        pts.len()
                    ),
                );
                if name == "inside" {
                    t.row(
                        "ratio in-process locate (1 thread) / PostGIS, inside",
                        format!("{:.0}x", inproc_rate / pg_rate),
                    );
                }
            }
            sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                .execute(&pool)
                .await?;
            Ok(())
        });
        res?;
    } else {
        t.row("PostGIS", "skipped (no --database-url)");
    }
    t.row("process RSS at the end", mb(rss_bytes()));
    println!("\ndiming bench reverse");
    t.print();
    Ok(())
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn wait_port(addr: &str) -> Result<()> {
    let t0 = Instant::now();
    while t0.elapsed().as_secs() < 30 {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    bail!("the HTTP server did not start on {addr}")
}

/// A minimal HTTP/1.1 keep-alive client (the benchmark must not depend on dev-dependencies).
struct HttpClient {
    host: String,
    r: BufReader<std::net::TcpStream>,
}

impl HttpClient {
    fn connect(addr: &str) -> Result<HttpClient> {
        let s = std::net::TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        Ok(HttpClient {
            host: addr.to_string(),
            r: BufReader::with_capacity(1 << 16, s),
        })
    }

    fn post(&mut self, path: &str, body: &str) -> Result<Vec<u8>> {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.host,
            body.len()
        );
        let s = self.r.get_mut();
        s.write_all(head.as_bytes())?;
        s.write_all(body.as_bytes())?;
        let mut line = String::new();
        self.r.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .with_context(|| format!("bad HTTP status line '{}'", line.trim()))?;
        let mut len = None;
        let mut chunked = false;
        loop {
            line.clear();
            self.r.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let k = k.trim().to_ascii_lowercase();
                if k == "content-length" {
                    len = v.trim().parse::<usize>().ok();
                } else if k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked") {
                    chunked = true;
                }
            }
        }
        let mut out = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.r.read_line(&mut line)?;
                let n = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .context("bad chunk size")?;
                let start = out.len();
                out.resize(start + n, 0);
                self.r.read_exact(&mut out[start..])?;
                line.clear();
                self.r.read_line(&mut line)?;
                if n == 0 {
                    break;
                }
            }
        } else {
            let n = len.context("HTTP answer without Content-Length")?;
            out.resize(n, 0);
            self.r.read_exact(&mut out)?;
        }
        if status != 200 {
            bail!("HTTP {status}: {}", String::from_utf8_lossy(&out));
        }
        Ok(out)
    }
}
