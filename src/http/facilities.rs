//! Facility registry over HTTP: list/bbox, nearby by walking time, CRUD (writes need the bearer
//! token) and CSV import. Every change is visible at once to coverage and tiles (registry
//! version bump) and, when the service has a database, is written to PostGIS first.

use super::error::ApiError;
use super::params::{r7, Params};
use super::AppState;
use crate::coverage::{Method, DETOUR_FACTOR};
use crate::crs::Crs;
use crate::facilities::{csvio, Facility, FacilityType, STORE};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/facilities", web::get().to(list))
        .route("/v1/facilities", web::post().to(create))
        .route("/v1/facilities/nearby", web::get().to(nearby))
        .route("/v1/facilities/import", web::post().to(import_csv))
        .route("/v1/facilities/{id}", web::get().to(get_one))
        .route("/v1/facilities/{id}", web::put().to(update))
        .route("/v1/facilities/{id}", web::delete().to(retire));
}

/// JSON card of a facility with coordinates in `crs`.
pub fn card(f: &Facility, crs: Crs) -> Value {
    let (lon, lat) = crs.from_wgs84(f.lon, f.lat);
    let mut v = serde_json::to_value(f).unwrap_or(Value::Null);
    v["lon"] = json!(r7(lon));
    v["lat"] = json!(r7(lat));
    v["type_zh"] = json!(f.kind.zh());
    v
}

/// `types=` (comma-separated English ids or Chinese names; empty = all).
pub fn parse_types(s: Option<&str>, field: &str) -> Result<Vec<FacilityType>, ApiError> {
    let mut out = vec![];
    for t in s
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        out.push(
            FacilityType::parse(t)
                .ok_or_else(|| ApiError::bad(field, format!("'{t}' is not a facility type")))?,
        );
    }
    Ok(out)
}

async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let p = Params::from_req(&req)?;
    let crs = p.crs()?;
    let types = parse_types(p.str("type").or(p.str("types")), "type")?;
    let bbox = match p.str("bbox") {
        None => None,
        Some(s) => {
            let v: Vec<f64> = s.split(',').filter_map(|x| x.trim().parse().ok()).collect();
            if v.len() != 4 || v[0] > v[2] || v[1] > v[3] {
                return Err(ApiError::bad(
                    "bbox",
                    "expected minlon,minlat,maxlon,maxlat",
                ));
            }
            let (a, b) = crs.to_wgs84(v[0], v[1]);
            let (c, d) = crs.to_wgs84(v[2], v[3]);
            Some((a, b, c, d))
        }
    };
    let status = p.str("status");
    let items: Vec<Value> = state
        .facilities
        .items
        .read()
        .values()
        .filter(|f| match status {
            Some(s) => f.status == s,
            None => f.status != "retired",
        })
        .filter(|f| types.is_empty() || types.contains(&f.kind))
        .filter(|f| {
            bbox.is_none_or(|(a, b, c, d)| f.lon >= a && f.lon <= c && f.lat >= b && f.lat <= d)
        })
        .map(|f| card(f, crs))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "crs": crs.as_str(), "count": items.len(), "version": state.facilities.version(), "facilities": items,
    })))
}

async fn get_one(
    path: web::Path<String>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let p = Params::from_req(&req)?;
    let crs = p.crs()?;
    let f = state
        .facilities
        .get(&path)
        .ok_or_else(|| ApiError::not_found("id", format!("no facility '{}'", path.as_str())))?;
    let mut v = card(&f, crs);
    v["crs"] = json!(crs.as_str());
    Ok(HttpResponse::Ok().json(v))
}

/// Walking time to facilities near a point, sorted by time.
async fn nearby(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let p = Params::from_req(&req)?;
    let ((lon, lat), _, crs) = p.point()?;
    let minutes = p.f64_in("minutes", 15.0, 0.5, 120.0)?;
    let speed = p.f64_in("speed_kmh", crate::network::DEFAULT_SPEED_KMH, 0.5, 20.0)?;
    let types = parse_types(p.str("type").or(p.str("types")), "type")?;
    let limit = minutes * speed * 1000.0 / 60.0;
    let facs = state.facilities.open_of(&types);
    let net = state.coverage.network();
    let mut out: Vec<(f64, Value)> = vec![];
    let method = match net.as_deref() {
        Some(n) => {
            let s = n
                .snap(lon, lat)
                .ok_or_else(|| ApiError::unavailable("network is empty"))?;
            let dist = n.dijkstra(&[(s.node, s.snap_m)], limit);
            for f in &facs {
                if let Some(fs) = n.snap(f.lon, f.lat) {
                    let d = dist[fs.node as usize] as f64 + fs.snap_m;
                    if d <= limit {
                        out.push((d, card(f, crs)));
                    }
                }
            }
            Method::Network
        }
        None => {
            for f in &facs {
                let d = crate::crs::distance_m((lon, lat), (f.lon, f.lat)) * DETOUR_FACTOR;
                if d <= limit {
                    out.push((d, card(f, crs)));
                }
            }
            Method::StraightLine
        }
    };
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    let list: Vec<Value> = out
        .into_iter()
        .map(|(d, mut v)| {
            v["walk_m"] = json!((d * 10.0).round() / 10.0);
            v["walk_minutes"] = json!(((d / (speed * 1000.0 / 60.0)) * 100.0).round() / 100.0);
            v
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "crs": crs.as_str(), "method": method.as_str(), "minutes": minutes, "speed_kmh": speed,
        "count": list.len(), "facilities": list,
        "network_note": net.as_ref().map(|n| n.meta["note"].clone()),
    })))
}

/// Facility card in a request body. Coordinates in `crs` (default wgs84).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacilityIn {
    pub id: Option<String>,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub lon: f64,
    pub lat: f64,
    pub crs: Option<String>,
    pub address: Option<String>,
    pub address_code: Option<String>,
    pub division: Option<String>,
    pub level: Option<String>,
    pub beds: Option<u32>,
    pub nursing_beds: Option<u32>,
    pub price_min: Option<f64>,
    pub price_max: Option<f64>,
    pub phone: Option<String>,
    pub hours: Option<String>,
    pub operator: Option<String>,
    pub photo_url: Option<String>,
    pub status: Option<String>,
    pub synthetic: Option<bool>,
}

impl FacilityIn {
    fn into_facility(self, id: String) -> Result<(Facility, Crs), ApiError> {
        let crs = match &self.crs {
            None => Crs::Wgs84,
            Some(s) => Crs::parse(s).map_err(|e| ApiError::bad("crs", e))?,
        };
        let kind = FacilityType::parse(&self.kind).ok_or_else(|| {
            ApiError::bad("type", format!("'{}' is not a facility type", self.kind))
        })?;
        super::params::check_point(self.lon, self.lat, "")?;
        let (lon, lat) = crs.to_wgs84(self.lon, self.lat);
        let f = Facility {
            id,
            name: self.name,
            kind,
            lon,
            lat,
            address: self.address,
            address_code: self.address_code,
            division: self.division,
            level: self.level,
            beds: self.beds,
            nursing_beds: self.nursing_beds,
            price_min: self.price_min,
            price_max: self.price_max,
            phone: self.phone,
            hours: self.hours,
            operator: self.operator,
            photo_url: self.photo_url,
            status: self.status.unwrap_or_else(|| "open".into()),
            synthetic: self.synthetic.unwrap_or(false),
        };
        f.validate().map_err(|(k, m)| ApiError::bad(k, m))?;
        Ok((f, crs))
    }
}

/// Writes to PostGIS (if configured), then to the registry.
async fn save(state: &AppState, list: Vec<Facility>) -> Result<u64, ApiError> {
    if let Some(db) = STORE.get() {
        db.upsert_many(list.clone())
            .await
            .map_err(|e| ApiError::unavailable(format!("database write failed: {e:#}")))?;
    }
    let mut v = state.facilities.version();
    for f in list {
        v = state.facilities.upsert(f);
    }
    super::coverage::refresh_tiles(state);
    Ok(v)
}

async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<FacilityIn>,
) -> Result<HttpResponse, ApiError> {
    state.check_token(&req)?;
    let body = body.into_inner();
    let id = body
        .id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    if state.facilities.get(&id).is_some() {
        return Err(ApiError::conflict(
            "id",
            format!("facility '{id}' exists; use PUT"),
        ));
    }
    let (f, crs) = body.into_facility(id)?;
    let mut v = card(&f, crs);
    let version = save(&state, vec![f]).await?;
    v["crs"] = json!(crs.as_str());
    v["version"] = json!(version);
    Ok(HttpResponse::Created().json(v))
}

async fn update(
    path: web::Path<String>,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<FacilityIn>,
) -> Result<HttpResponse, ApiError> {
    state.check_token(&req)?;
    let id = path.into_inner();
    if state.facilities.get(&id).is_none() {
        return Err(ApiError::not_found("id", format!("no facility '{id}'")));
    }
    let body = body.into_inner();
    if body.id.as_deref().is_some_and(|b| b != id) {
        return Err(ApiError::bad("id", "body id differs from the path id"));
    }
    let (f, crs) = body.into_facility(id)?;
    let mut v = card(&f, crs);
    let version = save(&state, vec![f]).await?;
    v["crs"] = json!(crs.as_str());
    v["version"] = json!(version);
    Ok(HttpResponse::Ok().json(v))
}

/// Retires a facility (kept for history, no longer counted).
async fn retire(
    path: web::Path<String>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    state.check_token(&req)?;
    let mut f = state
        .facilities
        .get(&path)
        .ok_or_else(|| ApiError::not_found("id", format!("no facility '{}'", path.as_str())))?;
    f.status = "retired".into();
    let version = save(&state, vec![f]).await?;
    Ok(HttpResponse::Ok()
        .json(json!({"id": path.as_str(), "status": "retired", "version": version})))
}

/// CSV import (body = CSV text, `?crs=`), all-or-nothing.
async fn import_csv(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    state.check_token(&req)?;
    let p = Params::from_req(&req)?;
    let crs = p.crs()?;
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::bad("body", "CSV is not UTF-8"))?;
    let list = csvio::parse(text, crs).map_err(|(line, col, m)| {
        ApiError::bad(
            col.clone(),
            format!("line {line}, column '{col}': {m}; nothing was imported"),
        )
    })?;
    let n = list.len();
    let version = save(&state, list).await?;
    Ok(HttpResponse::Ok().json(json!({"imported": n, "version": version})))
}
