//! Isochrones, service areas, coverage and siting over HTTP (thin: the work is in
//! `crate::network` and `crate::coverage`).
//!
//! Demand points: the `--demand` CSV loaded at start when given, otherwise the current
//! addresses of the address book. A division with no demand points answers 404 naming
//! `division`, with the reason.

use super::error::ApiError;
use super::facilities::parse_types;
use super::params::{r7, Params};
use super::AppState;
use crate::coverage::{self as cov, DemandSet, Method, Query, DETOUR_FACTOR};
use crate::crs::Crs;
use crate::network::{Network, DEFAULT_SPEED_KMH};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/isochrone", web::get().to(isochrone))
        .route("/v1/service-areas", web::get().to(service_areas))
        .route("/v1/coverage", web::get().to(coverage))
        .route("/v1/coverage/suggest", web::post().to(suggest));
}

fn geom_json(g: geo::Geometry<f64>, crs: Crs) -> Value {
    use geo::MapCoords;
    let g = g.map_coords(|c| {
        let (x, y) = crs.from_wgs84(c.x, c.y);
        geo::Coord { x: r7(x), y: r7(y) }
    });
    serde_json::to_value(geojson::Geometry::from(&g)).unwrap_or(Value::Null)
}

fn minutes_speed(p: &Params) -> Result<(f64, f64), ApiError> {
    Ok((
        p.f64_in("minutes", 15.0, 0.5, 120.0)?,
        p.f64_in("speed_kmh", DEFAULT_SPEED_KMH, 0.5, 20.0)?,
    ))
}

fn net_note(net: &Option<Arc<Network>>) -> Value {
    match net {
        Some(n) => {
            json!({"source": n.meta["source"], "note": n.meta["note"], "nodes": n.node_count()})
        }
        None => json!(null),
    }
}

/// Reachable area (and network) from a set of sources, as GeoJSON features.
fn area_features(
    net: Option<&Network>,
    sources: &[(f64, f64)],
    limit: f64,
    crs: Crs,
    props: Value,
    with_network: bool,
) -> Vec<Value> {
    let a = cov::service_area(net, sources, limit);
    let mut p = props.clone();
    p["kind"] = json!("area");
    p["area_m2"] = json!(crate::crs::area_m2(&a.polygon).round());
    if a.method == Method::Network {
        p["buffer_m"] = json!(cov::BUFFER_M);
    }
    let mut out = vec![json!({"type": "Feature", "properties": p,
        "geometry": geom_json(geo::Geometry::MultiPolygon(a.polygon), crs)})];
    if with_network && a.method == Method::Network {
        let mut p = props;
        p["kind"] = json!("network");
        p["segments"] = json!(a.segments.len());
        out.push(json!({"type": "Feature", "properties": p,
            "geometry": geom_json(geo::Geometry::MultiLineString(Network::segments_mls(&a.segments)), crs)}));
    }
    out
}

async fn isochrone(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let p = Params::from_req(&req)?;
    let ((lon, lat), _, crs) = p.point()?;
    let (minutes, speed) = minutes_speed(&p)?;
    let with_net = p.bool("network", true)?;
    let net = state.coverage.network();
    let method = if net.is_some() {
        Method::Network
    } else {
        Method::StraightLine
    };
    let limit = minutes * speed * 1000.0 / 60.0;
    let props = json!({"minutes": minutes, "speed_kmh": speed, "limit_m": limit.round(), "method": method.as_str(),
        "crs": crs.as_str(), "network": net_note(&net)});
    let feats = web::block(move || {
        area_features(net.as_deref(), &[(lon, lat)], limit, crs, props, with_net)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(HttpResponse::Ok().json(json!({"type": "FeatureCollection", "crs_name": crs.as_str(),
        "properties": {"minutes": minutes, "speed_kmh": speed, "method": method.as_str(), "crs": crs.as_str()},
        "features": feats})))
}

/// Multi-facility service area of the open facilities of `types`.
async fn service_areas(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let p = Params::from_req(&req)?;
    let crs = p.crs()?;
    let (minutes, speed) = minutes_speed(&p)?;
    let types = parse_types(p.str("types").or(p.str("type")), "types")?;
    let facs: Vec<(f64, f64)> = state
        .facilities
        .open_of(&types)
        .iter()
        .map(|f| (f.lon, f.lat))
        .collect();
    let net = state.coverage.network();
    let method = if net.is_some() {
        Method::Network
    } else {
        Method::StraightLine
    };
    let limit = minutes * speed * 1000.0 / 60.0;
    let props = json!({"minutes": minutes, "speed_kmh": speed, "method": method.as_str(), "crs": crs.as_str(),
        "facilities": facs.len(), "network": net_note(&net)});
    let with_net = p.bool("network", false)?;
    let feats =
        web::block(move || area_features(net.as_deref(), &facs, limit, crs, props, with_net))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(HttpResponse::Ok().json(json!({"type": "FeatureCollection",
        "properties": {"minutes": minutes, "speed_kmh": speed, "method": method.as_str(), "crs": crs.as_str()},
        "features": feats})))
}

/// The demand set the service uses (see module docs).
/// What a coverage computation reads, taken at one moment: the network, the open facilities of
/// `types` (lon/lat), the registry version they came from, and the demand points.
type Snapshot = (Option<Arc<Network>>, Vec<(f64, f64)>, u64, Arc<DemandSet>);

fn snapshot(state: &AppState, types: &[crate::facilities::FacilityType]) -> Snapshot {
    let net = state.coverage.network();
    let facs = state
        .facilities
        .open_of(types)
        .iter()
        .map(|f| (f.lon, f.lat))
        .collect();
    let version = state.facilities.version();
    let d = demand(state, net.as_deref());
    (net, facs, version, d)
}

/// Rebuilds the `coverage` tile layer (service areas and covered share per community of all
/// open facilities, default minutes and speed) from the current state. Called at start and
/// after every facility write, so tiles show a change at once.
pub fn refresh_tiles(state: &AppState) -> usize {
    let (net, facs, version, d) = snapshot(state, &[]);
    let divs = state.divisions();
    let names = |code: &str| {
        divs.find_code(code)
            .ok()
            .flatten()
            .map(|i| divs.tree.get(i).name.clone())
    };
    let q = Query {
        minutes: 15.0,
        speed_kmh: DEFAULT_SPEED_KMH,
    };
    let layer = cov::layer::CoverageLayer::build(net.as_deref(), &d, &facs, &q, version, &names);
    let n = layer.len();
    state
        .tiles
        .set_source(crate::tiles::LayerName::Coverage, Arc::new(layer));
    n
}

fn demand(state: &AppState, net: Option<&Network>) -> Arc<DemandSet> {
    let d = state.coverage.demand.read().clone();
    if !d.is_empty() {
        return d;
    }
    Arc::new(cov::demand_from_addresses(&state.addresses.read(), net))
}

fn division_code(s: &str) -> Result<String, ApiError> {
    crate::divisions::short_code(s).map_err(|e| ApiError::bad("division", e))
}

fn no_demand(division: &str, d: &DemandSet) -> ApiError {
    ApiError::not_found(
        "division",
        if d.is_empty() {
            format!("no addresses to measure in division {division}: the address book is empty (load addresses, or start the service with --demand FILE)")
        } else {
            format!("no addresses in division {division}")
        },
    )
}

fn row_json(r: &cov::Row, names: &crate::divisions::Divisions) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
    v["name"] = json!(names
        .tree
        .find(&r.division)
        .map(|i| names.tree.full_name(i)));
    v
}

async fn coverage(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let p = Params::from_req(&req)?;
    let crs = p.crs()?;
    let division = division_code(p.req_str("division")?)?;
    let (minutes, speed) = minutes_speed(&p)?;
    let types = parse_types(p.str("types").or(p.str("type")), "types")?;
    let max_unc = p.usize_in("uncovered_limit", 1000, 0, 1_000_000)?;
    let top = p.usize_in("areas", 20, 0, 1000)?;
    let cell = p.f64_in("cell_m", 100.0, 10.0, 2000.0)?;
    let (net, facs, version, d) = snapshot(&state, &types);
    let q = Query {
        minutes,
        speed_kmh: speed,
    };
    let (rep, d) = web::block(move || (cov::coverage(net.as_deref(), &d, &facs, &division, &q), d))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let division = rep.total.division.clone();
    if rep.members.is_empty() {
        return Err(no_demand(&division, &d));
    }
    let unc: Vec<usize> = rep.uncovered().collect();
    let areas = cov::uncovered_areas(&d, &unc, cell, top);
    let divs = state.divisions();
    let uncovered: Vec<Value> = unc
        .iter()
        .take(max_unc)
        .map(|&i| {
            let (x, y) = crs.from_wgs84(d.lon[i], d.lat[i]);
            json!({"id": d.id(i), "lon": r7(x), "lat": r7(y), "weight": d.weight[i], "division": d.divisions[d.div[i] as usize]})
        })
        .collect();
    let area_feats: Vec<Value> = areas
        .into_iter()
        .enumerate()
        .map(|(k, a)| json!({"type": "Feature", "properties": {"rank": k + 1, "addresses": a.addresses, "weight": a.weight,
            "area_m2": a.area_m2.round(), "sample_ids": a.sample_ids}, "geometry": geom_json(geo::Geometry::MultiPolygon(a.polygon), crs)}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "division": division,
        "name": divs.tree.find(&division).map(|i| divs.tree.full_name(i)),
        "crs": crs.as_str(), "method": rep.method.as_str(),
        "detour_factor": (rep.method == Method::StraightLine).then_some(DETOUR_FACTOR),
        "minutes": minutes, "speed_kmh": speed, "limit_m": rep.limit_m.round(),
        "types": types.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        "facilities_version": version,
        "synthetic_demand": d.synthetic,
        "total": row_json(&rep.total, &divs),
        "rows": rep.rows.iter().map(|r| row_json(r, &divs)).collect::<Vec<_>>(),
        "uncovered_count": unc.len(),
        "uncovered": uncovered,
        "uncovered_areas": {"type": "FeatureCollection", "features": area_feats},
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuggestIn {
    pub division: String,
    #[serde(default)]
    pub types: Vec<String>,
    pub k: usize,
    pub candidates: Option<Vec<CandidateIn>>,
    pub minutes: Option<f64>,
    pub speed_kmh: Option<f64>,
    pub crs: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandidateIn {
    pub lon: f64,
    pub lat: f64,
    pub label: Option<String>,
}

/// Greedy maximal covering: k new sites from candidates (or from uncovered addresses).
async fn suggest(
    state: web::Data<AppState>,
    body: web::Json<SuggestIn>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let crs = match &b.crs {
        None => Crs::Wgs84,
        Some(s) => Crs::parse(s).map_err(|e| ApiError::bad("crs", e))?,
    };
    let division = division_code(&b.division)?;
    if b.k == 0 || b.k > 100 {
        return Err(ApiError::bad("k", "k must be 1..100"));
    }
    let minutes = b.minutes.unwrap_or(15.0);
    if !(0.5..=120.0).contains(&minutes) {
        return Err(ApiError::bad("minutes", "minutes must be 0.5..120"));
    }
    let speed = b.speed_kmh.unwrap_or(DEFAULT_SPEED_KMH);
    if !(0.5..=20.0).contains(&speed) {
        return Err(ApiError::bad("speed_kmh", "speed_kmh must be 0.5..20"));
    }
    let mut types = vec![];
    for (i, t) in b.types.iter().enumerate() {
        types.push(crate::facilities::FacilityType::parse(t).ok_or_else(|| {
            ApiError::bad(
                format!("types[{i}]"),
                format!("'{t}' is not a facility type"),
            )
        })?);
    }
    let given = match &b.candidates {
        None => None,
        Some(c) => {
            if c.len() > 5000 {
                return Err(ApiError::too_large("candidates", "at most 5000 candidates"));
            }
            let mut v = vec![];
            for (i, x) in c.iter().enumerate() {
                super::params::check_point(x.lon, x.lat, &format!("candidates[{i}]."))?;
                let (lon, lat) = crs.to_wgs84(x.lon, x.lat);
                v.push((
                    lon,
                    lat,
                    x.label.clone().unwrap_or_else(|| format!("candidate {i}")),
                ));
            }
            Some(v)
        }
    };
    let (net, facs, version, d) = snapshot(&state, &types);
    let q = Query {
        minutes,
        speed_kmh: speed,
    };
    let k = b.k;
    let from_given = given.is_some();
    let res = web::block(move || {
        let rep = cov::coverage(net.as_deref(), &d, &facs, &division, &q);
        if rep.members.is_empty() {
            return Err(no_demand(&division, &d));
        }
        let cands = given.unwrap_or_else(|| cov::candidates_from_uncovered(&d, &rep, 100.0, 500));
        let picks = cov::suggest(net.as_deref(), &d, &rep, &cands, k);
        Ok((rep, picks, cands.len(), d.synthetic))
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    let (rep, picks, ncand, synthetic) = res;
    let sites: Vec<Value> = picks
        .iter()
        .map(|p| {
            let (x, y) = crs.from_wgs84(p.lon, p.lat);
            let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
            v["lon"] = json!(r7(x));
            v["lat"] = json!(r7(y));
            v
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "division": rep.total.division, "crs": crs.as_str(), "method": rep.method.as_str(),
        "minutes": minutes, "speed_kmh": speed, "k": k, "facilities_version": version,
        "candidates": ncand, "candidates_from": if from_given { "given" } else { "uncovered addresses (one per 100 m cell, at most 500)" },
        "algorithm": "greedy maximal covering (weight first, then address count)",
        "synthetic_demand": synthetic,
        "before": {"addresses": rep.total.addresses, "covered": rep.total.covered, "rate": rep.total.rate, "weight_rate": rep.total.weight_rate},
        "sites": sites,
    })))
}

/// OpenAPI fragment: facilities, isochrones, service areas, coverage, suggest.
pub fn openapi() -> Value {
    let q = |n: &str, d: &str, r: bool, t: &str| json!({"name": n, "in": "query", "required": r, "description": d, "schema": {"type": t}});
    let crs = q(
        "crs",
        "wgs84 (default), cgcs2000, gcj02, bd09; echoed",
        false,
        "string",
    );
    let mins = q("minutes", "walking minutes (default 15)", false, "number");
    let speed = q(
        "speed_kmh",
        "walking speed (default 3.6 km/h = 1.0 m/s, older pedestrians)",
        false,
        "number",
    );
    let types = q("types", "facility types, comma-separated (institution, service_center, day_care, meal_point, activity_room, home_care_station or Chinese names)", false, "string");
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}});
    let body = json!({"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["name", "type", "lon", "lat"]}}}});
    let w = json!({"200": {"description": "ok"}, "400": {"description": "invalid field"}, "401": {"description": "missing/invalid bearer token"}, "404": {"description": "unknown id"}});
    json!({
        "/v1/facilities": {
            "get": {"summary": "Facilities (not retired) in a bbox/of a type", "parameters": [q("bbox", "minlon,minlat,maxlon,maxlat", false, "string"), q("type", "facility type(s)", false, "string"), q("status", "open|planned|closed|retired", false, "string"), crs.clone()], "responses": {"200": {"description": "{crs,count,facilities}"}}},
            "post": {"summary": "Create a facility (bearer token)", "requestBody": body.clone(), "responses": {"201": {"description": "created"}, "400": {"description": "invalid field"}, "401": {"description": "no token"}, "409": {"description": "id exists"}}}},
        "/v1/facilities/{id}": {
            "get": {"summary": "A facility", "parameters": [id.clone(), crs.clone()], "responses": {"200": {"description": "card"}, "404": {"description": "unknown id"}}},
            "put": {"summary": "Replace a facility (bearer token)", "parameters": [id.clone()], "requestBody": body, "responses": w.clone()},
            "delete": {"summary": "Retire a facility (bearer token)", "parameters": [id], "responses": w}},
        "/v1/facilities/import": {"post": {"summary": "CSV import, all-or-nothing (bearer token); body text/csv", "parameters": [crs.clone()], "responses": {"200": {"description": "imported"}, "400": {"description": "line and column at fault"}, "401": {"description": "no token"}}}},
        "/v1/facilities/nearby": {"get": {"summary": "Facilities within N walking minutes, sorted by walking time", "parameters": [q("lon", "longitude", true, "number"), q("lat", "latitude", true, "number"), mins.clone(), speed.clone(), q("type", "facility type(s)", false, "string"), crs.clone()], "responses": {"200": {"description": "{crs,method,facilities[walk_minutes,walk_m]}"}}}},
        "/v1/isochrone": {"get": {"summary": "Walking isochrone (GeoJSON FeatureCollection: area polygon following the network + reachable network)", "parameters": [q("lon", "longitude", true, "number"), q("lat", "latitude", true, "number"), mins.clone(), speed.clone(), q("network", "include the reachable network (default true)", false, "boolean"), crs.clone()], "responses": {"200": {"description": "GeoJSON"}}}},
        "/v1/service-areas": {"get": {"summary": "Multi-facility service area of open facilities (GeoJSON)", "parameters": [types.clone(), mins.clone(), speed.clone(), crs.clone()], "responses": {"200": {"description": "GeoJSON"}}}},
        "/v1/coverage": {"get": {"summary": "Share of addresses/population within N minutes of a facility, per child division; uncovered addresses and areas", "parameters": [q("division", "division code (township or community)", true, "string"), types, mins, speed, q("uncovered_limit", "max uncovered addresses listed", false, "integer"), q("areas", "max uncovered areas", false, "integer"), crs], "responses": {"200": {"description": "coverage"}, "404": {"description": "no addresses in the division (reason given)"}}}},
        "/v1/coverage/suggest": {"post": {"summary": "k new sites that add the most coverage (greedy maximal covering)", "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["division", "k"], "properties": {"division": {"type": "string"}, "types": {"type": "array", "items": {"type": "string"}}, "k": {"type": "integer"}, "candidates": {"type": "array", "items": {"type": "object", "properties": {"lon": {"type": "number"}, "lat": {"type": "number"}, "label": {"type": "string"}}}}, "minutes": {"type": "number"}, "speed_kmh": {"type": "number"}, "crs": {"type": "string"}}}}}}, "responses": {"200": {"description": "sites with gain"}, "404": {"description": "no addresses"}}}},
    })
}
