//! Argument structs and drivers of the non-serve subcommands. The work itself lives in the
//! library (`diming::store`, `diming::bench`); this file only wires arguments to it.

use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct ImportArgs {
    /// PostgreSQL URL (also DATABASE_URL)
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    /// What the files hold: `divisions` (NBS code-list CSVs or a directory of them) or `boundaries` (polygons)
    #[arg(long, default_value = "boundaries")]
    pub kind: String,
    /// Files to import (CSV, GeoJSON, FlatGeobuf); all go in one transaction
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Coordinate system of the input geometry (wgs84, cgcs2000, gcj02, bd09)
    #[arg(long, default_value = "wgs84")]
    pub crs: String,
    /// Property holding the division code in polygon files
    #[arg(long, default_value = "adcode")]
    pub code_field: String,
    /// Mark the imported rows as synthetic
    #[arg(long)]
    pub synthetic: bool,
}

#[derive(Args)]
pub struct BenchArgs {
    /// Which benchmark: `reverse`, `inspect`, `geocode`, `parse`, `roads`, `tiles`, `coverage`, `isochrone`
    #[arg(default_value = "reverse")]
    pub what: String,
    /// Polygon layer (GeoJSON[.gz]/FlatGeobuf) with an `adcode` property
    #[arg(
        long,
        default_value = "../shared/data/boundaries/county_china_wgs84.geojson.gz"
    )]
    pub polygons: PathBuf,
    /// Number of random points
    #[arg(long, default_value_t = 1_000_000)]
    pub points: usize,
    /// PostGIS URL to compare against (also DATABASE_URL); skipped when absent
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Points sent to PostGIS (it is slow; the rate is per point)
    #[arg(long, default_value_t = 100_000)]
    pub postgis_points: usize,
    /// Points sent over HTTP
    #[arg(long, default_value_t = 200_000)]
    pub http_points: usize,
    /// RNG seed
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// geocode: addresses in the synthetic city
    #[arg(long, default_value_t = 5_000_000)]
    pub addresses: usize,
    /// geocode: in-process queries
    #[arg(long, default_value_t = 200_000)]
    pub queries: usize,
    /// geocode: the shared data directory (OSM roads, cpca rows)
    #[arg(long, default_value = "../shared/data")]
    pub shared: PathBuf,
    /// geocode: Python with `cpca` installed
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// geocode: passes over the cpca rows for the parse timing (the best pass counts)
    #[arg(long, default_value_t = 20)]
    pub parse_passes: usize,
    /// tiles: the Martin binary to compare against
    #[arg(long, default_value = "martin")]
    pub martin: PathBuf,
    /// tiles: seconds of wrk load per server
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// tiles: wrk connections
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// tiles: facilities CSV
    #[arg(long, default_value = "tests/fixtures/facilities_sample.csv")]
    pub facilities: PathBuf,
    /// tiles: data directory of the divisions
    #[arg(long, default_value = "data")]
    pub data: PathBuf,
    #[command(flatten)]
    pub coverage: CoverageBenchArgs,
}

#[derive(Args)]
pub struct InspectArgs {
    /// This round's polygons (GeoJSON[.gz] or FlatGeobuf), one feature per division
    #[arg(long)]
    pub input: PathBuf,
    /// Last round's polygons, to report what moved
    #[arg(long)]
    pub previous: Option<PathBuf>,
    /// Boundary markers (界桩): CSV (number,type,line_id,lon,lat[,crs]) or GeoJSON points
    #[arg(long)]
    pub markers: Option<PathBuf>,
    /// Output directory (report.json, faults.geojson, lines.geojson, report.csv, report.html)
    #[arg(long)]
    pub out: PathBuf,
    /// Property holding each division's code
    #[arg(long, default_value = "adcode")]
    pub code_field: String,
    /// Coordinate system of the input files and of the report (wgs84, cgcs2000, gcj02, bd09)
    #[arg(long, default_value = "wgs84")]
    pub crs: String,
    /// Tolerances (defaults are stated in the report)
    #[arg(long, default_value_t = 1.0)]
    pub min_area_m2: f64,
    #[arg(long, default_value_t = 1.0)]
    pub sliver_width_m: f64,
    #[arg(long, default_value_t = 100.0)]
    pub search_m: f64,
    #[arg(long, default_value_t = 5.0)]
    pub marker_tolerance_m: f64,
    #[arg(long, default_value_t = 0.5)]
    pub change_tolerance_m: f64,
    /// Also store the result in PostGIS (also DATABASE_URL)
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(Args)]
pub struct PrepareArgs {
    /// The shared data directory
    #[arg(long, default_value = "../shared/data")]
    pub shared: PathBuf,
    /// Output directory
    #[arg(long, default_value = "data")]
    pub out: PathBuf,
}

pub fn import(a: ImportArgs) -> Result<()> {
    let crs = diming::crs::Crs::parse(&a.crs).map_err(anyhow::Error::msg)?;
    let rt = tokio::runtime::Runtime::new()?;
    let report = rt.block_on(diming::store::postgis::import(
        &a.database_url,
        &a.kind,
        &a.files,
        crs,
        &a.code_field,
        a.synthetic,
    ))?;
    println!("{report}");
    Ok(())
}

pub fn bench(a: BenchArgs) -> Result<()> {
    match a.what.as_str() {
        "reverse" => diming::bench::reverse(&diming::bench::ReverseBench {
            polygons: a.polygons,
            points: a.points,
            database_url: a.database_url,
            postgis_points: a.postgis_points,
            http_points: a.http_points,
            seed: a.seed,
        }),
        "inspect" => diming::inspection::bench::run(&a.polygons, a.database_url.as_deref()),
        "geocode" => diming::addresses::bench::run(&diming::addresses::bench::GeocodeBench {
            data: PathBuf::from("data"),
            shared: a.shared.clone(),
            count: a.addresses,
            queries: a.queries,
            http_queries: a.http_points,
            seed: a.seed,
            python: a.python.clone(),
            parse_passes: a.parse_passes.max(1),
        }),
        "roads" => {
            println!("diming bench roads — the embedded sample's road centre lines");
            println!("| measure | value |");
            println!("|---|---|");
            diming::addresses::bench::road_lines(&a.data, a.seed)
        }
        "parse" => diming::addresses::bench::run_parse(
            &a.data,
            &a.shared,
            &a.python,
            a.parse_passes.max(1),
        ),
        "tiles" => diming::tiles::bench::run(&diming::tiles::bench::TilesBench {
            data: a.data,
            facilities: a.facilities,
            database_url: a
                .database_url
                .context("bench tiles needs --database-url (PostGIS for Martin)")?,
            martin: a.martin,
            duration_s: a.duration,
            connections: a.connections,
            threads: 2,
        }),
        "coverage" | "isochrone" => bench_coverage(&a),
        other => bail!("unknown benchmark '{other}' (expected: reverse, inspect, geocode, parse, roads, tiles, coverage, isochrone)"),
    }
}

/// Builds `data/` from the shared real data: the national code lists (villages of Zhejiang,
/// Shanghai and Yichang only), the change list, and the 119 county polygons as FlatGeobuf.
pub fn prepare_data(a: PrepareArgs) -> Result<()> {
    let div_out = a.out.join("divisions");
    let b_out = a.out.join("boundaries");
    std::fs::create_dir_all(&div_out)?;
    std::fs::create_dir_all(&b_out)?;
    let sd = a.shared.join("divisions");
    for f in [
        "provinces.csv",
        "cities.csv",
        "areas.csv",
        "streets.csv",
        "changes.txt",
    ] {
        std::fs::copy(sd.join(f), div_out.join(f)).with_context(|| format!("copying {f}"))?;
    }
    // villages of the sample region
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(sd.join("villages.csv.gz"))?);
    let mut rdr = csv::Reader::from_reader(gz);
    let mut w = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Necessary)
        .from_path(div_out.join("villages.csv"))?;
    w.write_record(rdr.headers()?)?;
    let mut n = 0;
    for rec in rdr.records() {
        let rec = rec?;
        let code = &rec[0];
        if code.starts_with("33") || code.starts_with("31") || code.starts_with("4205") {
            w.write_record(&rec)?;
            n += 1;
        }
    }
    w.flush()?;
    let feats = diming::store::features::read_features(
        &a.shared.join("boundaries/county_zj_sh_yc_wgs84.geojson"),
    )?;
    diming::store::features::write_fgb(
        &b_out.join("county.fgb"),
        "county",
        &["adcode", "name", "province", "city"],
        &feats,
        4490,
    )?;
    let centres = write_centres(&a.shared.join("boundaries"), &div_out.join("centres.csv"))?;
    // the centre lines of 黄浦区's numbered roads (the roads of the address sample)
    let d = diming::divisions::Divisions::build(diming::store::load_embedded(&a.out)?)?;
    let road_rows = diming::addresses::roads::county_lines_from_osm(
        &d,
        &a.shared.join("osm/shanghai_huangpu_drive.osm"),
        "310101",
    )?;
    let a_out = a.out.join("addresses");
    std::fs::create_dir_all(&a_out)?;
    diming::addresses::roads::write_fgb(&a_out.join("huangpu_roads.fgb"), &road_rows)?;
    println!(
        "wrote {} ({} villages, {} division centres), {} ({} county polygons) and {} ({} roads)",
        div_out.display(),
        n,
        centres,
        b_out.join("county.fgb").display(),
        feats.len(),
        a_out.join("huangpu_roads.fgb").display(),
        road_rows.len()
    );
    Ok(())
}

/// `divisions/centres.csv`: a point inside each province, city and county polygon of the
/// China-wide files (`geo`'s interior point of the multipolygon, WGS84), for the division-level
/// answers of the geocoder where the book has no addresses. Returns the number of rows.
fn write_centres(boundaries: &std::path::Path, out: &std::path::Path) -> Result<usize> {
    use geo::InteriorPoint;
    let mut w = csv::Writer::from_path(out)?;
    w.write_record(["code", "lon", "lat"])?;
    let mut n = 0;
    // (a municipality is its own city, Taiwan its own county: one row a code)
    let mut seen = std::collections::HashSet::new();
    for f in [
        "province_china_wgs84.geojson.gz",
        "city_china_wgs84.geojson.gz",
        "county_china_wgs84.geojson.gz",
    ] {
        let feats = diming::store::features::read_features(&boundaries.join(f))?;
        for feat in &feats {
            let (Some(code), Some(p)) = (feat.prop("adcode"), feat.geometry.interior_point())
            else {
                continue;
            };
            if !seen.insert(code.clone()) {
                continue;
            }
            w.write_record([code, format!("{:.7}", p.x()), format!("{:.7}", p.y())])?;
            n += 1;
        }
    }
    w.flush()?;
    Ok(n)
}

/// `diming inspect`: boundary-line joint inspection (界线联检) of a polygon file.
pub fn inspect(a: InspectArgs) -> Result<()> {
    use diming::inspection as ins;
    let crs = diming::crs::Crs::parse(&a.crs).map_err(anyhow::Error::msg)?;
    let params = ins::Params {
        min_area_m2: a.min_area_m2,
        sliver_width_m: a.sliver_width_m,
        search_m: a.search_m,
        marker_tolerance_m: a.marker_tolerance_m,
        change_tolerance_m: a.change_tolerance_m,
    };
    params
        .check()
        .map_err(|(k, m)| anyhow::anyhow!("--{}: {m}", k.replace('_', "-")))?;
    let t0 = std::time::Instant::now();
    eprintln!("reading {}", a.input.display());
    let divisions = ins::load_divisions(&a.input, &a.code_field, crs)?;
    let previous = match &a.previous {
        Some(p) => {
            eprintln!("reading {}", p.display());
            Some((
                p.display().to_string(),
                ins::load_divisions(p, &a.code_field, crs)?,
            ))
        }
        None => None,
    };
    let markers = match &a.markers {
        Some(p) => Some(ins::markers::read_markers(p, crs)?),
        None => None,
    };
    eprintln!(
        "read {} divisions in {:.1} s",
        divisions.len(),
        t0.elapsed().as_secs_f64()
    );
    let input = ins::Input {
        name: a.input.display().to_string(),
        divisions,
        previous,
        markers,
        crs,
        code_field: a.code_field.clone(),
        params,
    };
    let last = std::sync::Mutex::new((String::new(), -1i32));
    let progress = |stage: &str, f: f64| {
        let pct = (f * 100.0) as i32;
        let mut l = last.lock().unwrap();
        if l.0 != stage || pct / 10 != l.1 / 10 {
            eprintln!("[{:>6.1} s] {stage}: {pct}%", t0.elapsed().as_secs_f64());
            *l = (stage.to_string(), pct);
        }
    };
    let report = ins::inspect(&input, &progress)?;
    let files = ins::output::write_all(&report, &a.out)?;
    if let Some(url) = &a.database_url {
        let rt = tokio::runtime::Runtime::new()?;
        let id = rt.block_on(ins::store::save(url, &report, "cli"))?;
        eprintln!("stored as inspection {id}");
    }
    let s = &report.summary;
    println!(
        "{} divisions, {} neighbour pairs, {} outer lines, {} faults ({:?}), {:.1} s",
        s.divisions, s.neighbour_pairs, s.outer_lines, s.faults, s.faults_by_kind, s.seconds
    );
    for f in files {
        println!("wrote {}", f.display());
    }
    Ok(())
}

#[derive(Args)]
pub struct GenerateAddressesArgs {
    /// The shared data directory (OSM roads)
    #[arg(long, default_value = "../shared/data")]
    pub shared: PathBuf,
    /// Data directory with the division lists and boundaries
    #[arg(long, default_value = "data")]
    pub data: PathBuf,
    /// Output CSV
    #[arg(long, default_value = "data/addresses/huangpu_addresses.csv")]
    pub out: PathBuf,
    #[arg(long, default_value_t = 20261124)]
    pub seed: u64,
    /// Generate a synthetic city of this many addresses instead of the Huangpu sample
    #[arg(long)]
    pub city: Option<usize>,
    /// With --city: also write the city's road centre lines here (FlatGeobuf, for
    /// `import-addresses --roads`)
    #[arg(long, requires = "city")]
    pub roads_out: Option<PathBuf>,
}

pub fn generate_addresses(a: GenerateAddressesArgs) -> Result<()> {
    let d = diming::divisions::Divisions::build(diming::store::load_embedded(&a.data)?)?;
    let osm = a.shared.join("osm/shanghai_huangpu_drive.osm");
    let (addrs, roads) = match a.city {
        Some(n) => {
            let c = diming::addresses::generate::generate_city(&d, &osm, a.seed, n)?;
            (c.addresses, c.roads)
        }
        None => (
            diming::addresses::generate::generate_huangpu(&d, &osm, a.seed)?,
            Vec::new(),
        ),
    };
    if let Some(p) = a.out.parent() {
        std::fs::create_dir_all(p)?;
    }
    diming::addresses::generate::write_csv(&a.out, &addrs)?;
    println!(
        "wrote {} synthetic addresses to {} (seed {}, generator version {})",
        addrs.len(),
        a.out.display(),
        a.seed,
        diming::addresses::generate::GENERATOR_VERSION
    );
    if let Some(r) = &a.roads_out {
        diming::addresses::roads::write_fgb(r, &roads)?;
        println!(
            "wrote {} synthetic road lines to {}",
            roads.len(),
            r.display()
        );
    }
    Ok(())
}

#[derive(Args)]
pub struct ImportAddressesArgs {
    /// PostgreSQL URL (also DATABASE_URL)
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    /// Files (CSV, GeoJSON, FlatGeobuf); all go in one transaction
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Coordinate system of the input (wgs84, cgcs2000, gcj02, bd09)
    #[arg(long, default_value = "wgs84")]
    pub crs: String,
    /// Schema of the `addresses` table (created if missing)
    #[arg(long, default_value = "public")]
    pub schema: String,
    /// Data directory with the division lists (to validate division codes)
    #[arg(long, default_value = "data")]
    pub data: PathBuf,
    /// Text encoding of CSV files (utf-8; gb18030, gbk or gb2312 for what Excel writes on
    /// Chinese Windows; big5)
    #[arg(long, default_value = "utf-8")]
    pub encoding: String,
    /// The files hold road centre lines (GeoJSON/FlatGeobuf LineString or MultiLineString
    /// features with `name` and `county` properties) for the `roads` table, not addresses
    #[arg(long)]
    pub roads: bool,
}

pub fn import_addresses(a: ImportAddressesArgs) -> Result<()> {
    let crs = diming::crs::Crs::parse(&a.crs).map_err(|e| anyhow::anyhow!("--crs: {e}"))?;
    let enc = diming::addresses::import::encoding_for(&a.encoding)
        .map_err(|e| anyhow::anyhow!("--encoding: {e}"))?;
    let d = diming::divisions::Divisions::build(diming::store::load_embedded(&a.data)?)?;
    let rt = tokio::runtime::Runtime::new()?;
    let r = if a.roads {
        rt.block_on(diming::addresses::import::import_roads_postgis(
            &a.database_url,
            &a.schema,
            &d,
            &a.files,
            crs,
        ))?
    } else {
        rt.block_on(diming::addresses::import::import_postgis(
            &a.database_url,
            &a.schema,
            &d,
            &a.files,
            crs,
            enc,
        ))?
    };
    print!("{r}");
    if !r.committed {
        bail!("{} rows rejected; nothing imported", r.rejected.len());
    }
    Ok(())
}

#[derive(Args)]
pub struct ParseArgs {
    /// Addresses (else one per line on stdin)
    pub texts: Vec<String>,
    /// Geocode against the embedded address sample instead of parsing only
    #[arg(long)]
    pub geocode: bool,
    #[arg(long, default_value = "data")]
    pub data: PathBuf,
    /// Text encoding of stdin (utf-8, gb18030, gbk, gb2312, big5)
    #[arg(long, default_value = "utf-8")]
    pub encoding: String,
    /// How deep to parse: `village` (the divisions to the village and the address elements)
    /// or `county` (province, city, county and the rest of the text, as cpca reads)
    #[arg(long, default_value = "village", conflicts_with = "geocode")]
    pub depth: String,
}

pub fn parse(a: ParseArgs) -> Result<()> {
    use std::io::{Read, Write};
    let enc = diming::addresses::import::encoding_for(&a.encoding)
        .map_err(|e| anyhow::anyhow!("--encoding: {e}"))?;
    let depth =
        diming::addresses::Depth::parse(&a.depth).map_err(|e| anyhow::anyhow!("--depth: {e}"))?;
    let d = diming::divisions::Divisions::build(diming::store::load_embedded(&a.data)?)?;
    let book = if a.geocode {
        diming::addresses::AddressBook::load_embedded(&d, &a.data)?
    } else {
        diming::addresses::AddressBook::empty(&d)
    };
    let texts: Vec<String> = if a.texts.is_empty() {
        let mut raw = Vec::new();
        std::io::stdin().lock().read_to_end(&mut raw)?;
        let text = diming::addresses::import::to_utf8(&raw, enc)
            .map_err(|e| anyhow::anyhow!("stdin: {e}"))?;
        let text = std::str::from_utf8(&text).map_err(|e| {
            anyhow::anyhow!(
                "stdin line {}: not valid UTF-8 (a GBK/GB18030 file needs --encoding gb18030)",
                diming::addresses::import::line_at(&text, e.valid_up_to())
            )
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        text.lines().map(String::from).collect()
    } else {
        a.texts
    };
    let mut sc = diming::addresses::parse::ParseScratch::default();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut line = Vec::new();
    for t in texts.iter().filter(|t| !t.trim().is_empty()) {
        line.clear();
        if a.geocode {
            serde_json::to_writer(&mut line, &serde_json::to_value(book.geocode(t, None, 3))?)?;
        } else {
            diming::http::addresses::write_parse(
                &book,
                t,
                None,
                depth,
                Some(&mut sc),
                None,
                &mut line,
            );
        }
        line.push(b'\n');
        out.write_all(&line)?;
    }
    out.flush()?;
    Ok(())
}
include!("cli_coverage.rs");
