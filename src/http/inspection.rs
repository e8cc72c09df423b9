//! Boundary-line joint inspection over HTTP: `POST /v1/inspections` starts a job, `GET
//! /v1/inspections/{id}` reports its progress and summary, `GET /v1/inspections/{id}/{file}`
//! serves report.json, faults.geojson, lines.geojson, report.csv and report.html.
//! Jobs run on a background thread; finished reports are kept in memory and, when the server
//! has a database URL, also stored in PostGIS (tables of migrations/0003_inspection.sql).

use super::error::ApiError;
use super::AppState;
use crate::crs::Crs;
use crate::inspection::{self as ins, Report};
use crate::store::features::Feature;
use actix_web::{web, HttpResponse};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

struct Job {
    status: &'static str,
    stage: String,
    progress: f64,
    crs: Crs,
    storage: String,
    report: Option<Arc<Report>>,
    error: Option<String>,
}

type Jobs = Mutex<HashMap<uuid::Uuid, Arc<Mutex<Job>>>>;

fn jobs() -> &'static Jobs {
    static J: OnceLock<Jobs> = OnceLock::new();
    J.get_or_init(Default::default)
}

/// A new version number for a `boundary_lines` source.
fn next_layer_version() -> u64 {
    static V: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    V.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
}

/// Inspects the served division polygons (their deepest level) and publishes the shared lines
/// as the `boundary_lines` tile layer. Returns the number of lines.
pub fn publish_served_lines(state: &AppState) -> anyhow::Result<usize> {
    let d = state.divisions();
    let Some(level) = d.layers.first().map(|l| l.level) else {
        return Ok(0);
    };
    let divs = ins::layer::served_divisions(&d, level);
    if divs.is_empty() {
        return Ok(0);
    }
    let input = ins::Input {
        name: format!("served {} polygons ({})", level.as_str(), d.origin),
        divisions: divs,
        previous: None,
        markers: None,
        crs: Crs::Wgs84,
        code_field: "code".into(),
        params: ins::Params::default(),
    };
    let rep = ins::inspect(&input, &|_, _| {})?;
    let layer = ins::layer::inspection_layer(&rep, "served_divisions", None, next_layer_version());
    state
        .tiles
        .set_source(crate::tiles::LayerName::BoundaryLines, Arc::new(layer));
    Ok(rep.lines.len())
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/inspections", web::post().to(start))
        .route("/v1/inspections/{id}", web::get().to(status))
        .route("/v1/inspections/{id}/{file}", web::get().to(file));
}

/// GeoJSON features from a request field; errors name the field and the feature.
fn features(v: &Value, field: &str) -> Result<Vec<Feature>, ApiError> {
    let fc: geojson::FeatureCollection = serde_json::from_value(v.clone())
        .map_err(|e| ApiError::bad(field, format!("not a GeoJSON FeatureCollection: {e}")))?;
    let mut out = Vec::with_capacity(fc.features.len());
    for (n, f) in fc.features.into_iter().enumerate() {
        let props = f
            .properties
            .as_ref()
            .map(|p| {
                p.iter()
                    .map(|(k, v)| {
                        let s = match v {
                            Value::String(s) => s.clone(),
                            Value::Null => String::new(),
                            o => o.to_string(),
                        };
                        (k.clone(), s)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let g = f.geometry.ok_or_else(|| {
            ApiError::bad(format!("{field}.features[{n}]"), "feature has no geometry")
        })?;
        let geometry: geo::Geometry<f64> = g.try_into().map_err(|e| {
            ApiError::bad(
                format!("{field}.features[{n}]"),
                format!("bad geometry: {e}"),
            )
        })?;
        out.push(Feature { props, geometry });
    }
    Ok(out)
}

fn divisions(
    v: &Value,
    field: &str,
    code_field: &str,
    crs: Crs,
) -> Result<Vec<ins::Division>, ApiError> {
    let feats = features(v, field)?;
    ins::divisions_from_features(feats, field, code_field, crs)
        .map_err(|e| ApiError::bad(field, format!("{e:#}")))
}

fn markers(v: &Value, crs: Crs) -> Result<Vec<ins::markers::Marker>, ApiError> {
    let mut out = Vec::new();
    if v.get("type").and_then(Value::as_str) == Some("FeatureCollection") {
        for (n, f) in features(v, "markers")?.into_iter().enumerate() {
            let field = format!("markers.features[{n}]");
            let geo::Geometry::Point(p) = f.geometry else {
                return Err(ApiError::bad(field, "a marker must be a Point"));
            };
            let c = match f.prop("crs") {
                Some(c) => Crs::parse(&c).map_err(|e| ApiError::bad(format!("{field}.crs"), e))?,
                None => crs,
            };
            let line = f
                .prop("line_id")
                .ok_or_else(|| ApiError::bad(format!("{field}.line_id"), "missing line_id"))?;
            out.push(
                ins::markers::make(
                    &f.prop("number").unwrap_or_else(|| format!("#{n}")),
                    &f.prop("type").unwrap_or_default(),
                    &line,
                    p.x(),
                    p.y(),
                    c,
                )
                .map_err(|e| ApiError::bad(field, e.to_string()))?,
            );
        }
        return Ok(out);
    }
    let arr = v
        .as_array()
        .ok_or_else(|| ApiError::bad("markers", "expected a FeatureCollection of points or an array of {number, type, line_id, lon, lat, crs}"))?;
    for (n, m) in arr.iter().enumerate() {
        let field = format!("markers[{n}]");
        let s = |k: &str| {
            m.get(k).and_then(|x| {
                x.as_str()
                    .map(str::to_string)
                    .or_else(|| x.as_i64().map(|i| i.to_string()))
            })
        };
        let f = |k: &str| {
            m.get(k)
                .and_then(Value::as_f64)
                .ok_or_else(|| ApiError::bad(format!("{field}.{k}"), "missing or not a number"))
        };
        let c = match s("crs") {
            Some(c) => Crs::parse(&c).map_err(|e| ApiError::bad(format!("{field}.crs"), e))?,
            None => crs,
        };
        let line = s("line_id")
            .ok_or_else(|| ApiError::bad(format!("{field}.line_id"), "missing line_id"))?;
        let (lon, lat) = (f("lon")?, f("lat")?);
        out.push(
            ins::markers::make(
                &s("number").unwrap_or_else(|| format!("#{n}")),
                &s("type").unwrap_or_default(),
                &line,
                lon,
                lat,
                c,
            )
            .map_err(|e| ApiError::bad(field, e.to_string()))?,
        );
    }
    Ok(out)
}

const KNOWN: [&str; 7] = [
    "polygons",
    "previous",
    "markers",
    "code_field",
    "crs",
    "tolerances",
    "name",
];

async fn start(
    state: web::Data<AppState>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let obj = body
        .as_object()
        .ok_or_else(|| ApiError::bad("body", "expected a JSON object"))?;
    if let Some(k) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ApiError::bad(
            k.clone(),
            format!("unknown field (expected one of {})", KNOWN.join(", ")),
        ));
    }
    let crs = match obj.get("crs") {
        None => Crs::Wgs84,
        Some(v) => Crs::parse(v.as_str().unwrap_or("?")).map_err(|e| ApiError::bad("crs", e))?,
    };
    let code_field = match obj.get("code_field") {
        None => "adcode".to_string(),
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(_) => return Err(ApiError::bad("code_field", "expected a non-empty string")),
    };
    let params: ins::Params = match obj.get("tolerances") {
        None => ins::Params::default(),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| ApiError::bad("tolerances", format!("{e}")))?,
    };
    params
        .check()
        .map_err(|(k, m)| ApiError::bad(format!("tolerances.{k}"), m))?;
    let polys = obj
        .get("polygons")
        .ok_or_else(|| ApiError::missing("polygons"))?;
    let divs = divisions(polys, "polygons", &code_field, crs)?;
    let previous = match obj.get("previous") {
        Some(v) => Some((
            "previous".to_string(),
            divisions(v, "previous", &code_field, crs)?,
        )),
        None => None,
    };
    let marks = match obj.get("markers") {
        Some(v) => Some(markers(v, crs)?),
        None => None,
    };
    let name = obj
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("request body")
        .to_string();
    let id = uuid::Uuid::new_v4();
    let db = state.config.database_url.clone();
    let job = Arc::new(Mutex::new(Job {
        status: "running",
        stage: "queued".into(),
        progress: 0.0,
        crs,
        storage: if db.is_some() {
            "postgis".into()
        } else {
            "memory (no database configured: results are lost on restart)".into()
        },
        report: None,
        error: None,
    }));
    jobs().lock().insert(id, job.clone());
    let input = ins::Input {
        name,
        divisions: divs,
        previous,
        markers: marks,
        crs,
        code_field,
        params,
    };
    let st = state.clone();
    std::thread::spawn(move || {
        let j2 = job.clone();
        let progress = move |stage: &str, f: f64| {
            let mut j = j2.lock();
            j.stage = stage.to_string();
            j.progress = f;
        };
        let res = ins::inspect(&input, &progress);
        let mut stored = Ok(());
        if let (Ok(r), Some(url)) = (&res, &db) {
            stored = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(anyhow::Error::from)
                .and_then(|rt| {
                    rt.block_on(async {
                        let pool = ins::store::connect(url).await?;
                        ins::store::save_with(&pool, id, r, "http").await
                    })
                });
        }
        let mut j = job.lock();
        match res {
            Ok(r) => {
                j.status = "done";
                j.progress = 1.0;
                j.stage = "done".into();
                if let Err(e) = stored {
                    j.storage = format!("memory (storing in PostGIS failed: {e:#})");
                }
                // the inspection view of the map shows the latest finished inspection
                let layer = ins::layer::inspection_layer(
                    &r,
                    "inspection",
                    Some(&format!("/v1/inspections/{id}/report.html")),
                    next_layer_version(),
                );
                st.tiles
                    .set_source(crate::tiles::LayerName::BoundaryLines, Arc::new(layer));
                j.report = Some(Arc::new(r));
            }
            Err(e) => {
                j.status = "failed";
                j.error = Some(format!("{e:#}"));
            }
        }
    });
    Ok(HttpResponse::Accepted()
        .insert_header(("Location", format!("/v1/inspections/{id}")))
        .json(json!({"id": id, "status": "running", "crs": crs, "href": format!("/v1/inspections/{id}")})))
}

fn parse_id(s: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(s)
        .map_err(|_| ApiError::bad("id", format!("'{s}' is not an inspection id (UUID)")))
}

fn get_job(id: uuid::Uuid) -> Result<Arc<Mutex<Job>>, ApiError> {
    jobs().lock().get(&id).cloned().ok_or_else(|| {
        ApiError::not_found("id", format!("no inspection {id} in this server's memory"))
    })
}

async fn stored(state: &AppState, id: uuid::Uuid) -> Option<(String, Option<Value>)> {
    let url = state.config.database_url.as_deref()?;
    let pool = ins::store::connect(url).await.ok()?;
    ins::store::load(&pool, id).await.ok().flatten()
}

async fn status(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    let job = match get_job(id) {
        Ok(j) => j,
        Err(e) => {
            if let Some((st, rep)) = stored(&state, id).await {
                return Ok(HttpResponse::Ok().json(
                    json!({"id": id, "status": st, "storage": "postgis",
                    "summary": rep.as_ref().map(|r| r["summary"].clone()),
                    "files": ["report.json"]}),
                ));
            }
            return Err(e);
        }
    };
    let j = job.lock();
    let files: Vec<String> = if j.report.is_some() {
        FILES
            .iter()
            .map(|f| format!("/v1/inspections/{id}/{f}"))
            .collect()
    } else {
        vec![]
    };
    Ok(HttpResponse::Ok().json(json!({
        "id": id, "status": j.status, "stage": j.stage, "progress": j.progress, "crs": j.crs,
        "storage": j.storage, "error": j.error,
        "summary": j.report.as_ref().map(|r| serde_json::to_value(&r.summary).unwrap_or(Value::Null)),
        "params": j.report.as_ref().map(|r| serde_json::to_value(&r.params).unwrap_or(Value::Null)),
        "files": files,
    })))
}

const FILES: [&str; 5] = [
    "report.json",
    "faults.geojson",
    "lines.geojson",
    "report.csv",
    "report.html",
];

async fn file(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, name) = path.into_inner();
    let id = parse_id(&id)?;
    if !FILES.contains(&name.as_str()) {
        return Err(ApiError::not_found(
            "file",
            format!("no file '{name}' (expected one of {})", FILES.join(", ")),
        ));
    }
    let job = match get_job(id) {
        Ok(j) => j,
        Err(e) => {
            if name == "report.json" {
                if let Some((_, Some(rep))) = stored(&state, id).await {
                    return Ok(HttpResponse::Ok().json(rep));
                }
            }
            return Err(e);
        }
    };
    let report = {
        let j = job.lock();
        match &j.report {
            Some(r) => r.clone(),
            None => {
                return Err(ApiError::conflict(
                    "id",
                    format!(
                        "inspection {id} is {} ({})",
                        j.status,
                        j.error.clone().unwrap_or_else(|| j.stage.clone())
                    ),
                ))
            }
        }
    };
    let out = web::block(move || -> Result<(String, &'static str), String> {
        Ok(match name.as_str() {
            "report.json" => (
                ins::output::report_json(&report).to_string(),
                "application/json",
            ),
            "faults.geojson" => (
                ins::output::faults_geojson(&report).to_string(),
                "application/geo+json",
            ),
            "lines.geojson" => (
                ins::output::lines_geojson(&report).to_string(),
                "application/geo+json",
            ),
            "report.csv" => (
                ins::output::report_csv(&report).map_err(|e| e.to_string())?,
                "text/csv; charset=utf-8",
            ),
            _ => (
                ins::output::report_html(&report),
                "text/html; charset=utf-8",
            ),
        })
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?
    .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().content_type(out.1).body(out.0))
}

/// OpenAPI paths of this module.
pub fn openapi() -> Value {
    json!({
        "/v1/inspections": {"post": {"summary": "Start a boundary-line joint inspection (界线联检) job",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["polygons"],
                "properties": {"polygons": {"description": "GeoJSON FeatureCollection of (Multi)Polygons, one per division"},
                    "previous": {"description": "last round's polygons (FeatureCollection) for the comparison"},
                    "markers": {"description": "boundary markers: FeatureCollection of points or array of {number, type, line_id, lon, lat, crs}"},
                    "code_field": {"type": "string", "default": "adcode"},
                    "crs": {"type": "string", "enum": ["wgs84", "cgcs2000", "gcj02", "bd09"], "default": "wgs84"},
                    "tolerances": {"type": "object", "properties": {"min_area_m2": {"type": "number", "default": 1.0},
                        "sliver_width_m": {"type": "number", "default": 1.0}, "search_m": {"type": "number", "default": 100.0},
                        "marker_tolerance_m": {"type": "number", "default": 5.0}, "change_tolerance_m": {"type": "number", "default": 0.5}}}}}}}},
            "responses": {"202": {"description": "job started: {id, status, href}"}, "400": {"description": "invalid input (field names the part at fault)"}}}},
        "/v1/inspections/{id}": {"get": {"summary": "Status, progress and summary of an inspection job",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}],
            "responses": {"200": {"description": "job"}, "404": {"description": "unknown id"}}}},
        "/v1/inspections/{id}/{file}": {"get": {"summary": "A report file of a finished inspection",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                           {"name": "file", "in": "path", "required": true, "schema": {"type": "string", "enum": FILES}}],
            "responses": {"200": {"description": "the file"}, "404": {"description": "unknown id or file"}, "409": {"description": "job not finished"}}}}
    })
}
