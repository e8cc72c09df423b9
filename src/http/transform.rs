//! `/v1/transform`: coordinate conversion between WGS84, CGCS2000, GCJ-02, BD-09 and any EPSG
//! system PROJ knows.

use super::error::ApiError;
use super::params::Params;
use crate::crs::{transform, AnyCrs};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

pub const MAX_TRANSFORM_POINTS: usize = 100_000;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/transform", web::get().to(get))
        .route("/v1/transform", web::post().to(post));
}

fn parse_crs(p: Option<&str>, field: &str) -> Result<AnyCrs, ApiError> {
    match p {
        None => Err(ApiError::missing(field)),
        Some(s) => AnyCrs::parse(s).map_err(|e| ApiError::bad(field, e)),
    }
}

fn check_input(c: &AnyCrs, x: f64, y: f64, prefix: &str) -> Result<(), ApiError> {
    if let AnyCrs::LonLat(_) = c {
        super::params::check_point(x, y, prefix)?;
    }
    Ok(())
}

async fn get(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let p = Params::from_req(&req)?;
    let from = parse_crs(p.str("from"), "from")?;
    let to = parse_crs(p.str("to"), "to")?;
    let (xk, yk) = if matches!(from, AnyCrs::Epsg(_)) && p.str("x").is_some() {
        ("x", "y")
    } else {
        ("lon", "lat")
    };
    let x = p.req_f64(xk)?;
    let y = p.req_f64(yk)?;
    check_input(&from, x, y, "")?;
    let (ox, oy) = transform(&from, &to, x, y).map_err(|e| ApiError::bad("to", e))?;
    Ok(HttpResponse::Ok().json(json!({
        "from": from.name(), "to": to.name(),
        "input": [x, y], "output": [ox, oy],
        "lon": ox, "lat": oy,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Batch {
    from: String,
    to: String,
    coordinates: Vec<[f64; 2]>,
}

async fn post(body: web::Json<Batch>) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let from = parse_crs(Some(&b.from), "from")?;
    let to = parse_crs(Some(&b.to), "to")?;
    if b.coordinates.len() > MAX_TRANSFORM_POINTS {
        return Err(ApiError::too_large(
            "coordinates",
            format!("more than {MAX_TRANSFORM_POINTS} coordinates"),
        ));
    }
    let mut out = Vec::with_capacity(b.coordinates.len());
    for (i, [x, y]) in b.coordinates.iter().enumerate() {
        check_input(&from, *x, *y, &format!("coordinates[{i}]."))?;
        let r = transform(&from, &to, *x, *y)
            .map_err(|e| ApiError::bad(format!("coordinates[{i}]"), e))?;
        out.push([r.0, r.1]);
    }
    Ok(HttpResponse::Ok().json(json!({"from": from.name(), "to": to.name(), "coordinates": out})))
}
