//! The `diming` command: `serve`, `import`, `bench`, `prepare-data` and the domain commands.

/// mimalloc instead of glibc malloc: geocoding allocates many short strings per query, and the
/// benchmark showed about a quarter of the time in malloc/free (see README, "Measured").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

mod cli;

#[derive(Parser)]
#[command(
    name = "diming",
    version,
    about = "地名: place names, divisions, boundary inspection and eldercare coverage"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the HTTP service on the embedded data (default) or on PostGIS.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
        #[arg(long, default_value = "./data")]
        data: PathBuf,
        /// Load from PostGIS instead of the data directory (also DATABASE_URL)
        #[arg(long, env = "DATABASE_URL")]
        database_url: Option<String>,
        /// Schema of the `addresses` table read at start when a database is given (default:
        /// found through the URL's search_path)
        #[arg(long)]
        addresses_schema: Option<String>,
        #[command(flatten)]
        eldercare: cli::ServeCoverageArgs,
    },
    /// Import divisions (CSV code lists) or boundary polygons (GeoJSON/FlatGeobuf) into PostGIS, in one transaction.
    Import(cli::ImportArgs),
    /// Benchmarks that print a table (reverse geocoding vs PostGIS, …).
    Bench(cli::BenchArgs),
    /// Boundary-line joint inspection (界线联检): lines, faults, markers, round comparison.
    Inspect(cli::InspectArgs),
    /// Build the embedded data/ directory from ../shared/data (real sources, filtered).
    PrepareData(cli::PrepareArgs),
    /// Generate the synthetic Huangpu house-number sample (or a big synthetic city).
    GenerateAddresses(cli::GenerateAddressesArgs),
    /// Import standard addresses (CSV, GeoJSON, FlatGeobuf) into PostGIS, in one transaction.
    ImportAddresses(cli::ImportAddressesArgs),
    /// Parse or geocode addresses from the command line (one per argument or stdin line).
    Parse(cli::ParseArgs),
    /// Build a walking network from OpenStreetMap (.osm.pbf / .osm) into a compact file (and PostGIS).
    ImportNetwork(cli::ImportNetworkArgs),
    /// Coverage of a division by eldercare facilities within N minutes' walk (table, GeoJSON, CSV).
    Coverage(cli::CoverageArgs),
    /// Facility registry: `import` a CSV into PostGIS, `generate` the synthetic sample.
    Facilities(cli::FacilitiesArgs),
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Serve {
            bind,
            data,
            database_url,
            addresses_schema,
            eldercare,
        } => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let t0 = Instant::now();
            let src = match &database_url {
                Some(url) => rt.block_on(diming::store::postgis::load_divisions(url))?,
                None => diming::store::load_embedded(&data)
                    .with_context(|| format!("loading {}", data.display()))?,
            };
            let divisions = diming::divisions::Divisions::build(src)?;
            let (polys, verts, mem) = divisions.stats();
            eprintln!(
                "loaded {} divisions, {polys} polygons ({verts} vertices, index {:.1} MB) from {} in {:.2} s",
                divisions.tree.len(),
                mem as f64 / 1e6,
                divisions.origin,
                t0.elapsed().as_secs_f64()
            );
            let config = diming::http::Config {
                bind,
                data_dir: data,
                database_url,
                api_token: std::env::var("DIMING_API_TOKEN")
                    .ok()
                    .filter(|s| !s.is_empty()),
            };
            // addresses: from PostGIS (the store of record) when a database is given and its
            // table exists; otherwise the embedded sample
            let from_db = match &config.database_url {
                Some(url) => rt.block_on(diming::addresses::import::load_postgis(
                    url,
                    addresses_schema.as_deref(),
                ))?,
                None => None,
            };
            let book = match from_db {
                Some(rows) => {
                    let n = rows.len();
                    let (mut book, errs) = diming::addresses::AddressBook::build(
                        &divisions,
                        rows,
                        "PostGIS addresses",
                    );
                    book.load_centres(&config.data_dir)?;
                    eprintln!(
                        "addresses: {} of {n} from PostGIS ({} not valid against the division tree)",
                        book.len(),
                        errs.len()
                    );
                    // the road lines of the same schema, when imported
                    if let Some(url) = &config.database_url {
                        let roads = rt.block_on(diming::addresses::import::load_roads_postgis(
                            url,
                            addresses_schema.as_deref(),
                        ))?;
                        if let Some(rows) = roads {
                            book.set_lines(diming::addresses::roads::RoadLines::build(rows));
                            eprintln!("road lines: {} roads from PostGIS", book.lines.len());
                        }
                    }
                    book
                }
                None => {
                    diming::addresses::AddressBook::load_embedded(&divisions, &config.data_dir)?
                }
            };
            let state = Arc::new(diming::http::AppState::new(divisions, config));
            *state.addresses.write() = Arc::new(book);
            cli::setup_coverage(&state, eldercare)?;
            let t1 = std::time::Instant::now();
            let n = diming::http::coverage::refresh_tiles(&state);
            eprintln!(
                "coverage tile layer: {n} features in {:.2} s",
                t1.elapsed().as_secs_f64()
            );
            // the served polygons' shared lines for the map's inspection view (background)
            let st = state.clone();
            std::thread::spawn(move || {
                let t = std::time::Instant::now();
                match diming::http::inspection::publish_served_lines(&st) {
                    Ok(n) => eprintln!(
                        "boundary lines: {n} lines of the served polygons in {:.2} s",
                        t.elapsed().as_secs_f64()
                    ),
                    Err(e) => {
                        eprintln!("boundary lines: inspection of the served polygons failed: {e:#}")
                    }
                }
            });
            eprintln!("start-up took {:.2} s", t0.elapsed().as_secs_f64());
            actix_web::rt::System::new().block_on(diming::http::serve(state))?;
            Ok(())
        }
        Cmd::Import(a) => cli::import(a),
        Cmd::Bench(a) => cli::bench(a),
        Cmd::PrepareData(a) => cli::prepare_data(a),
        Cmd::Inspect(a) => cli::inspect(a),
        Cmd::GenerateAddresses(a) => cli::generate_addresses(a),
        Cmd::ImportAddresses(a) => cli::import_addresses(a),
        Cmd::Parse(a) => cli::parse(a),
        Cmd::ImportNetwork(a) => cli::import_network(a),
        Cmd::Coverage(a) => cli::coverage(a),
        Cmd::Facilities(a) => cli::facilities(a),
    }
}
