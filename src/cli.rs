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
    /// Which benchmark: `reverse`
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
    #[command(flatten)]
    pub coverage: CoverageBenchArgs,
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
        "coverage" | "isochrone" => bench_coverage(&a),
        other => bail!("unknown benchmark '{other}' (expected: reverse, coverage, isochrone)"),
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
    println!(
        "wrote {} ({} villages) and {} ({} county polygons)",
        div_out.display(),
        n,
        b_out.join("county.fgb").display(),
        feats.len()
    );
    Ok(())
}

include!("cli_coverage.rs");
