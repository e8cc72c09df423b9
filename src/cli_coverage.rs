// Eldercare coverage subcommands (included by src/cli.rs; the work is in diming::network,
// diming::coverage and diming::facilities).

#[derive(Args)]
pub struct CoverageBenchArgs {
    /// coverage/isochrone: synthetic grid side (nodes per side; 750 → 562,500 nodes, ≈1.1 M edges)
    #[arg(long, default_value_t = 750)]
    pub side: usize,
    /// coverage: synthetic addresses
    #[arg(long = "city-addresses", id = "city_addresses", default_value_t = 5_000_000)]
    pub addresses: usize,
    /// coverage: facilities
    #[arg(long = "city-facilities", id = "city_facilities", default_value_t = 3000)]
    pub facilities: usize,
    /// coverage: streets per side of the city (streets² street divisions)
    #[arg(long, default_value_t = 15)]
    pub streets: usize,
    /// isochrone: network file instead of the synthetic grid
    #[arg(long)]
    pub network: Option<PathBuf>,
    /// isochrone: our queries
    #[arg(long = "isochrone-queries", id = "isochrone_queries", default_value_t = 2000)]
    pub queries: usize,
    /// isochrone: pgRouting queries
    #[arg(long, default_value_t = 20)]
    pub pg_queries: usize,
    #[arg(long, default_value_t = 15.0)]
    pub minutes: f64,
    #[arg(long, default_value_t = diming::network::DEFAULT_SPEED_KMH)]
    pub speed_kmh: f64,
}

fn bench_coverage(a: &BenchArgs) -> Result<()> {
    let c = &a.coverage;
    if a.what == "coverage" {
        diming::coverage::bench::coverage(&diming::coverage::bench::CoverageBench {
            side: c.side,
            addresses: c.addresses,
            facilities: c.facilities,
            streets: c.streets,
            minutes: c.minutes,
            speed_kmh: c.speed_kmh,
            seed: a.seed,
        })
    } else {
        diming::coverage::bench::isochrone(&diming::coverage::bench::IsochroneBench {
            network: c.network.clone(),
            side: c.side,
            queries: c.queries,
            pg_queries: c.pg_queries,
            minutes: c.minutes,
            speed_kmh: c.speed_kmh,
            database_url: a.database_url.clone(),
            seed: a.seed,
        })
    }
}

/// `diming serve` options for facilities and coverage.
#[derive(Args)]
pub struct ServeCoverageArgs {
    /// Walking network file (from import-network); default: network `--network-name` from
    /// PostGIS when a database is given and holds it, else the first data/network/*.bin
    #[arg(long)]
    pub network: Option<PathBuf>,
    /// Name of the network to load from PostGIS (as stored by `import-network --name`)
    #[arg(long, env = "DIMING_NETWORK_NAME", default_value = "default")]
    pub network_name: String,
    /// Demand points CSV (lon,lat,division[,id,weight,synthetic]); default: the address book
    #[arg(long)]
    pub demand: Option<PathBuf>,
    /// Facility CSV loaded at start (default data/facilities/facilities.csv when present)
    #[arg(long)]
    pub facilities: Option<PathBuf>,
    /// PostGIS for the facility registry (also DIMING_FACILITIES_DATABASE_URL; default: --database-url)
    #[arg(long, env = "DIMING_FACILITIES_DATABASE_URL")]
    pub facilities_database_url: Option<String>,
    /// Schema of the facility tables
    #[arg(long, default_value = "public")]
    pub facilities_schema: String,
}

/// The walking network: the file `--network` when named; else network `--network-name` from
/// PostGIS (the store of record) when a database is given and holds it; else the first
/// `data/network/*.bin`; else none.
fn load_network(
    state: &diming::http::AppState,
    a: &ServeCoverageArgs,
) -> Result<Option<diming::network::Network>> {
    use diming::network::Network;
    let from_db = || -> Result<Option<Network>> {
        let Some(url) = &state.config.database_url else {
            return Ok(None);
        };
        let n = diming::network::pg::load(url, &a.network_name)?;
        if n.is_none() {
            eprintln!(
                "network: PostGIS holds no network '{}' (import-network --database-url --name); using the data directory",
                a.network_name
            );
        }
        Ok(n)
    };
    let first_bin = || {
        let dir = std::fs::read_dir(state.config.data_dir.join("network")).ok()?;
        let mut bins: Vec<PathBuf> = dir
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "bin"))
            .collect();
        bins.sort();
        bins.into_iter().next()
    };
    let (origin, net) = if let Some(p) = &a.network {
        (p.display().to_string(), Network::read(p)?)
    } else if let Some(n) = from_db()? {
        (format!("PostGIS '{}'", a.network_name), n)
    } else if let Some(p) = first_bin() {
        (p.display().to_string(), Network::read(&p)?)
    } else {
        return Ok(None);
    };
    eprintln!(
        "network {origin}: {} nodes, {} arcs ({})",
        net.node_count(),
        net.arc_count(),
        net.meta["note"]
    );
    Ok(Some(net))
}

/// Loads the network, demand points and facilities into the service state.
pub fn setup_coverage(state: &diming::http::AppState, a: ServeCoverageArgs) -> Result<()> {
    let t0 = std::time::Instant::now();
    let net = load_network(state, &a)?.map(std::sync::Arc::new);
    if let Some(p) = &a.demand {
        let mut d = diming::coverage::DemandSet::read_csv(p)?;
        if let Some(n) = &net {
            d.snap(n);
        }
        eprintln!("demand {}: {} points", p.display(), d.len());
        *state.coverage.demand.write() = std::sync::Arc::new(d);
    }
    if let Some(n) = &net {
        // the base map's road layer
        state.tiles.set_source(
            diming::tiles::LayerName::Roads,
            std::sync::Arc::new(diming::network::layer::RoadLayer::new(n)),
        );
    }
    *state.coverage.network.write() = net;
    let url = a
        .facilities_database_url
        .or_else(|| state.config.database_url.clone());
    let mut from_db = vec![];
    if let Some(url) = url {
        let db = diming::facilities::db::FacilityDb::connect(&url, &a.facilities_schema)?;
        from_db = db.load_all()?;
        eprintln!(
            "facilities: {} from PostGIS (schema {})",
            from_db.len(),
            a.facilities_schema
        );
        let _ = diming::facilities::STORE.set(db);
    }
    if !from_db.is_empty() {
        state.facilities.replace_all(from_db);
    } else {
        let csv_path = a
            .facilities
            .unwrap_or_else(|| state.config.data_dir.join("facilities/facilities.csv"));
        if csv_path.exists() {
            let text = std::fs::read_to_string(&csv_path)?;
            let list = diming::facilities::csvio::parse(&text, diming::crs::Crs::Wgs84).map_err(
                |(l, c, m)| anyhow::anyhow!("{} line {l}, column {c}: {m}", csv_path.display()),
            )?;
            eprintln!("facilities: {} from {}", list.len(), csv_path.display());
            state.facilities.replace_all(list);
        }
    }
    eprintln!("coverage set-up took {:.2} s", t0.elapsed().as_secs_f64());
    Ok(())
}

#[derive(Args)]
pub struct ImportNetworkArgs {
    /// OpenStreetMap extract (.osm.pbf or .osm XML)
    #[arg(long)]
    pub input: PathBuf,
    /// Compact network file to write
    #[arg(long)]
    pub out: PathBuf,
    /// Note stored in the file and echoed in answers (e.g. "drive network as a stand-in")
    #[arg(long, default_value = "")]
    pub note: String,
    /// Also store nodes and edges in PostGIS (tables network_nodes/network_edges)
    #[arg(long)]
    pub database_url: Option<String>,
    /// Network name in PostGIS
    #[arg(long, default_value = "default")]
    pub name: String,
}

pub fn import_network(a: ImportNetworkArgs) -> Result<()> {
    let t0 = std::time::Instant::now();
    let net = diming::network::osm::import(&a.input, &a.note)?;
    net.write(&a.out)?;
    println!(
        "wrote {}: {} nodes, {} segments, {} walkable of {} ways in {:.2} s",
        a.out.display(),
        net.node_count(),
        net.arc_count() / 2,
        net.meta["walkable_ways"],
        net.meta["ways_seen"],
        t0.elapsed().as_secs_f64()
    );
    if let Some(url) = &a.database_url {
        let n = diming::network::pg::store(url, &a.name, &net)?;
        println!("stored {n} edges in PostGIS as network '{}'", a.name);
    }
    Ok(())
}

#[derive(Args)]
pub struct CoverageArgs {
    /// Division short or full code (township 9 / community 12 digits, or larger)
    #[arg(long)]
    pub division: String,
    /// Demand points CSV (lon,lat,division[,id,weight])
    #[arg(long)]
    pub demand: PathBuf,
    /// Facility CSV
    #[arg(long, default_value = "data/facilities/facilities.csv")]
    pub facilities: PathBuf,
    /// Network file; without it the straight-line fallback is used
    #[arg(long)]
    pub network: Option<PathBuf>,
    /// Facility types (comma-separated); empty = all
    #[arg(long, default_value = "")]
    pub types: String,
    #[arg(long, default_value_t = 15.0)]
    pub minutes: f64,
    #[arg(long, default_value_t = diming::network::DEFAULT_SPEED_KMH)]
    pub speed_kmh: f64,
    /// Write uncovered areas (GeoJSON)
    #[arg(long)]
    pub geojson: Option<PathBuf>,
    /// Write the uncovered addresses (CSV)
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Also suggest k new sites (from uncovered addresses)
    #[arg(long, default_value_t = 0)]
    pub suggest: usize,
}

pub fn coverage(a: CoverageArgs) -> Result<()> {
    use diming::coverage as cov;
    let division = diming::divisions::short_code(&a.division).map_err(anyhow::Error::msg)?;
    let mut types = vec![];
    for t in a.types.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        types.push(
            diming::facilities::FacilityType::parse(t)
                .with_context(|| format!("--types: '{t}' is not a facility type"))?,
        );
    }
    let net = a
        .network
        .as_deref()
        .map(diming::network::Network::read)
        .transpose()?;
    let mut d = cov::DemandSet::read_csv(&a.demand)?;
    if let Some(n) = &net {
        d.snap(n);
    }
    let text = std::fs::read_to_string(&a.facilities)
        .with_context(|| format!("reading {}", a.facilities.display()))?;
    let facs: Vec<(f64, f64)> = diming::facilities::csvio::parse(&text, diming::crs::Crs::Wgs84)
        .map_err(|(l, c, m)| {
            anyhow::anyhow!("{} line {l}, column {c}: {m}", a.facilities.display())
        })?
        .into_iter()
        .filter(|f| f.status == "open" && (types.is_empty() || types.contains(&f.kind)))
        .map(|f| (f.lon, f.lat))
        .collect();
    let q = cov::Query {
        minutes: a.minutes,
        speed_kmh: a.speed_kmh,
    };
    let rep = cov::coverage(net.as_ref(), &d, &facs, &division, &q);
    if rep.members.is_empty() {
        bail!("no demand points in division {division}");
    }
    println!(
        "coverage of {division}: {} facilities, {} min at {} km/h = {:.0} m, method {}{}",
        facs.len(),
        a.minutes,
        a.speed_kmh,
        rep.limit_m,
        rep.method.as_str(),
        if d.synthetic {
            " (synthetic demand)"
        } else {
            ""
        }
    );
    println!(
        "{:<14} {:>10} {:>10} {:>8} {:>12} {:>8}",
        "division", "addresses", "covered", "rate", "weight", "w.rate"
    );
    for r in rep.rows.iter().chain(std::iter::once(&rep.total)) {
        println!(
            "{:<14} {:>10} {:>10} {:>7.1}% {:>12.0} {:>7.1}%",
            if r.division == rep.total.division && std::ptr::eq(r, &rep.total) {
                format!("{} (all)", r.division)
            } else {
                r.division.clone()
            },
            r.addresses,
            r.covered,
            r.rate * 100.0,
            r.weight,
            r.weight_rate * 100.0
        );
    }
    let unc: Vec<usize> = rep.uncovered().collect();
    if let Some(p) = &a.csv {
        let mut w = csv::Writer::from_path(p)?;
        w.write_record(["id", "lon", "lat", "weight", "division", "synthetic"])?;
        for &i in &unc {
            w.write_record([
                d.id(i),
                format!("{:.7}", d.lon[i]),
                format!("{:.7}", d.lat[i]),
                d.weight[i].to_string(),
                d.divisions[d.div[i] as usize].clone(),
                d.synthetic.to_string(),
            ])?;
        }
        w.flush()?;
        println!("wrote {} uncovered addresses to {}", unc.len(), p.display());
    }
    if let Some(p) = &a.geojson {
        let areas = cov::uncovered_areas(&d, &unc, 100.0, 100);
        let feats: Vec<serde_json::Value> = areas
            .iter()
            .enumerate()
            .map(|(k, ar)| serde_json::json!({"type": "Feature", "properties": {"rank": k + 1, "addresses": ar.addresses, "weight": ar.weight, "area_m2": ar.area_m2.round(), "method": rep.method.as_str(), "synthetic": d.synthetic},
                "geometry": geojson::Geometry::from(&geo::Geometry::MultiPolygon(ar.polygon.clone()))}))
            .collect();
        std::fs::write(
            p,
            serde_json::to_string(
                &serde_json::json!({"type": "FeatureCollection", "features": feats}),
            )?,
        )?;
        println!("wrote {} uncovered areas to {}", areas.len(), p.display());
    }
    if a.suggest > 0 {
        let cands = cov::candidates_from_uncovered(&d, &rep, 100.0, 500);
        println!(
            "{:>4} {:>12} {:>11} {:>7} {:>9}  label",
            "rank", "lon", "lat", "gain", "rate"
        );
        for p in cov::suggest(net.as_ref(), &d, &rep, &cands, a.suggest) {
            println!(
                "{:>4} {:>12.6} {:>11.6} {:>7} {:>8.1}%  {}",
                p.rank,
                p.lon,
                p.lat,
                p.gain,
                p.rate_after * 100.0,
                p.label
            );
        }
    }
    Ok(())
}

#[derive(Args)]
pub struct FacilitiesArgs {
    /// `import` (CSV into PostGIS, one transaction) or `generate` (synthetic sample CSV)
    pub action: String,
    /// CSV file to import
    pub file: Option<PathBuf>,
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    #[arg(long, default_value = "public")]
    pub schema: String,
    /// Coordinate system of the CSV
    #[arg(long, default_value = "wgs84")]
    pub crs: String,
    /// generate: OSM extract whose roads the facilities are placed on
    #[arg(long, default_value = "../shared/data/osm/shanghai_huangpu_drive.osm")]
    pub osm: PathBuf,
    /// generate: output
    #[arg(long, default_value = "data/facilities/facilities.csv")]
    pub out: PathBuf,
    #[arg(long, default_value_t = 90)]
    pub count: usize,
    #[arg(long, default_value_t = 20251124)]
    pub seed: u64,
}

pub fn facilities(a: FacilitiesArgs) -> Result<()> {
    match a.action.as_str() {
        "generate" => {
            let tree = diming::divisions::DivisionTree::load_dir(
                std::path::Path::new("data/divisions"),
                None,
            )?;
            let _ = &tree;
            let text = std::fs::read_to_string("data/divisions/streets.csv")?;
            let streets: Vec<String> = text
                .lines()
                .filter(|l| l.starts_with("310101"))
                .filter_map(|l| l.split(',').nth(1).map(|s| s.trim_matches('"').to_string()))
                .collect();
            let list = diming::facilities::generate::huangpu(&a.osm, &streets, a.count, a.seed)?;
            if let Some(p) = a.out.parent() {
                std::fs::create_dir_all(p)?;
            }
            std::fs::write(&a.out, diming::facilities::csvio::write(&list)?)?;
            println!(
                "wrote {} synthetic facilities to {} (seed {})",
                list.len(),
                a.out.display(),
                a.seed
            );
            Ok(())
        }
        "import" => {
            let file = a.file.context("facilities import: give the CSV file")?;
            let url = a
                .database_url
                .context("facilities import: --database-url (or DATABASE_URL) is required")?;
            let crs = diming::crs::Crs::parse(&a.crs).map_err(anyhow::Error::msg)?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let list = diming::facilities::csvio::parse(&text, crs).map_err(|(l, c, m)| {
                anyhow::anyhow!(
                    "{} line {l}, column {c}: {m}; nothing was imported",
                    file.display()
                )
            })?;
            let db = diming::facilities::db::FacilityDb::connect(&url, &a.schema)?;
            let n = list.len();
            tokio::runtime::Runtime::new()?.block_on(db.upsert_many(list))?;
            println!(
                "imported {n} facilities into {} (now {} rows)",
                a.schema,
                db.count()?
            );
            Ok(())
        }
        other => bail!("unknown action '{other}' (expected import or generate)"),
    }
}
