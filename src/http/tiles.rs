//! Vector tiles (`/tiles/{layers}/{z}/{x}/{y}[.pbf|.mvt]`), TileJSON (`/tiles/{layers}.json`)
//! and the map page (`/`, assets under `/map/`), all thin over [`crate::tiles`].

use super::{error::ApiError, params::Params, AppState};
use crate::tiles::{self, math::TileId, Inputs, LayerName};
use actix_web::{http::header, web, HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

/// The map page: `tiles/public/` of the repository (HTML/JS/CSS + vendored MapLibre GL JS;
/// `tiles/package.json` only serves to vendor MapLibre and run the e2e test).
#[derive(RustEmbed)]
#[folder = "tiles/public/"]
struct MapAssets;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/tiles/{layers}/{z}/{x}/{y}", web::get().to(tile))
        .route("/tiles/{spec}", web::get().to(tilejson))
        .route("/", web::get().to(index))
        .route("/map/{file:.*}", web::get().to(asset));
}

fn layers_of(s: &str) -> Result<Vec<LayerName>, ApiError> {
    tiles::parse_layers(s).map_err(|m| ApiError::bad("layers", m))
}

/// Tiles are Web Mercator over WGS84/CGCS2000 (the two agree to centimetres); the shifted
/// GCJ-02/BD-09 systems are refused rather than silently misplaced.
fn tile_crs(p: &Params) -> Result<crate::crs::Crs, ApiError> {
    let crs = p.crs()?;
    match crs {
        crate::crs::Crs::Wgs84 | crate::crs::Crs::Cgcs2000 => Ok(crs),
        other => Err(ApiError::bad(
            "crs",
            format!(
                "tiles are served in Web Mercator on wgs84/cgcs2000, not {}",
                other.as_str()
            ),
        )),
    }
}

fn int(field: &'static str, s: &str) -> Result<u32, ApiError> {
    s.parse::<u32>()
        .map_err(|_| ApiError::bad(field, format!("'{s}' is not a non-negative integer")))
}

fn accepts_gzip(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| {
            let mut it = e.split(';');
            let name = it.next().unwrap_or("").trim();
            let q0 = it.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !q0
        })
}

async fn tile(
    req: HttpRequest,
    path: web::Path<(String, String, String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (layers, z, x, y) = path.into_inner();
    let p = Params::from_req(&req)?;
    let crs = tile_crs(&p)?;
    let layers = layers_of(&layers)?;
    let y = y
        .strip_suffix(".pbf")
        .or_else(|| y.strip_suffix(".mvt"))
        .unwrap_or(&y);
    let t = TileId::new(int("z", &z)?, int("x", &x)?, int("y", y)?)
        .map_err(|(f, m)| ApiError::bad(f, m))?;
    let inp = Inputs {
        divisions: state.divisions(),
        addresses: state.addresses.read().clone(),
        facilities: &state.facilities,
    };
    let r = state.tiles.tile(&inp, &layers, t);
    let (Some(raw), Some(gz)) = (&r.raw, &r.gz) else {
        return Ok(HttpResponse::NoContent()
            .insert_header((header::CACHE_CONTROL, "public, max-age=0, must-revalidate"))
            .finish());
    };
    let etag_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(',').any(|e| e.trim() == r.etag || e.trim() == "*"))
        .unwrap_or(false);
    let mut b = if etag_match {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    b.insert_header((header::ETAG, r.etag.as_str()))
        // tiles change when a facility or division changes: always revalidate (cheap with ETag)
        .insert_header((header::CACHE_CONTROL, "public, max-age=0, must-revalidate"))
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header(("X-Crs", crs.as_str()));
    if etag_match {
        return Ok(b.finish());
    }
    b.content_type("application/vnd.mapbox-vector-tile");
    if accepts_gzip(&req) {
        b.insert_header((header::CONTENT_ENCODING, "gzip"));
        Ok(b.body(gz.clone()))
    } else {
        // identity: keeps the compression middleware from encoding the tile again
        b.insert_header((header::CONTENT_ENCODING, "identity"));
        Ok(b.body(raw.clone()))
    }
}

async fn tilejson(
    req: HttpRequest,
    spec: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let spec = spec.into_inner();
    let Some(names) = spec.strip_suffix(".json") else {
        return Err(ApiError::not_found(
            "path",
            format!("no route for GET /tiles/{spec}: expected /tiles/{{layers}}.json"),
        ));
    };
    let p = Params::from_req(&req)?;
    let crs = p.crs()?;
    let layers = layers_of(names)?;
    let d = state.divisions();
    // bounds of the loaded division polygons
    let mut bb = [180.0f64, 90.0f64, -180.0f64, -90.0f64];
    for g in d.geoms.values() {
        if let Some(r) = geo::BoundingRect::bounding_rect(g) {
            bb = [
                bb[0].min(r.min().x),
                bb[1].min(r.min().y),
                bb[2].max(r.max().x),
                bb[3].max(r.max().y),
            ];
        }
    }
    if bb[0] > bb[2] {
        bb = [-180.0, -85.0511, 180.0, 85.0511];
    }
    let (w, s) = crs.from_wgs84(bb[0], bb[1]);
    let (e, n) = crs.from_wgs84(bb[2], bb[3]);
    let (cx, cy) = crs.from_wgs84((bb[0] + bb[2]) / 2.0, (bb[1] + bb[3]) / 2.0);
    let conn = req.connection_info();
    let base = format!("{}://{}", conn.scheme(), conn.host());
    let vector_layers: Vec<serde_json::Value> = layers
        .iter()
        .map(|l| {
            let (minz, maxz) = l.zooms();
            let fields = match l {
                LayerName::Divisions => serde_json::json!({
                    "code": "String", "name": "String", "level": "String", "synthetic": "Boolean"}),
                LayerName::BoundaryLines => serde_json::json!({
                    "kind": "String (line, fault)", "source": "String (served_divisions, inspection, division_outline)",
                    "id": "String (line id, low-high code)", "a": "String", "a_name": "String",
                    "b": "String", "b_name": "String", "outer": "Boolean", "length_m": "Number",
                    "fault_count": "Number", "fault": "String", "area_m2": "Number",
                    "report_url": "String"}),
                LayerName::Facilities => serde_json::json!({
                    "id": "String", "name": "String", "type": "String", "type_zh": "String",
                    "status": "String", "synthetic": "Boolean", "level": "String", "beds": "Number",
                    "price_min": "Number", "price_max": "Number", "address": "String",
                    "phone": "String", "hours": "String", "photo_url": "String"}),
                LayerName::Coverage => serde_json::json!({
                    "kind": "String (service_area, division_share)", "minutes": "Number",
                    "method": "String (network, straight_line)", "division": "String",
                    "level": "String", "name": "String", "covered_share": "Number",
                    "division_addresses": "Number", "division_covered": "Number",
                    "cell_addresses": "Number", "cell_covered": "Number", "synthetic": "Boolean"}),
                LayerName::Roads => serde_json::json!({"kind": "String", "source": "String"}),
                LayerName::Addresses => serde_json::json!({
                    "code": "String", "address": "String", "number": "String", "synthetic": "Boolean"}),
            };
            serde_json::json!({"id": l.as_str(), "description": l.description(),
                "minzoom": minz, "maxzoom": maxz, "fields": fields,
                "available": state.tiles.has_source(*l)})
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "tilejson": "3.0.0",
        "name": format!("diming {names}"),
        "description": "Mapbox Vector Tiles 2.1 from diming's in-memory data (extent 4096, buffer 64)",
        "tiles": [format!("{base}/tiles/{names}/{{z}}/{{x}}/{{y}}.pbf")],
        "minzoom": 0,
        "maxzoom": tiles::math::MAX_ZOOM,
        "bounds": [w, s, e, n],
        "center": [cx, cy, 9],
        "crs": crs.as_str(),
        "scheme": "xyz",
        "vector_layers": vector_layers,
    })))
}

fn serve_asset(name: &str) -> Result<HttpResponse, ApiError> {
    let Some(f) = MapAssets::get(name) else {
        return Err(ApiError::not_found(
            "path",
            format!("no map asset '{name}'"),
        ));
    };
    let mime = mime_guess::from_path(name).first_or_octet_stream();
    let etag = format!("\"{}\"", hex::encode(&f.metadata.sha256_hash()[..16]));
    Ok(HttpResponse::Ok()
        .content_type(mime.as_ref())
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(f.data.into_owned()))
}

async fn index() -> Result<HttpResponse, ApiError> {
    serve_asset("index.html")
}

async fn asset(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    serve_asset(&file.into_inner())
}
