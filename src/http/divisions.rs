//! Divisions and reverse geocoding over HTTP.

use super::error::ApiError;
use super::params::{check_point, r7, Params};
use super::AppState;
use crate::crs::Crs;
use crate::divisions::{tree::is_placeholder_name, Divisions, Level, Reverse};
use actix_web::{web, HttpRequest, HttpResponse};
use geo::MapCoords;
use serde::Deserialize;
use serde_json::{json, Value};

/// Most points in one batch request.
pub const MAX_BATCH_POINTS: usize = 100_000;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/reverse", web::get().to(reverse))
        .route("/v1/reverse/batch", web::post().to(reverse_batch))
        .route("/v1/divisions", web::get().to(search))
        .route("/v1/divisions/{code}", web::get().to(get_division))
        .route("/v1/divisions/{code}/children", web::get().to(children));
}

fn reverse_json(d: &Divisions, r: &Reverse) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        // convenience fields by level, as AMap's regeocode does; the city of a municipality
        // is the municipality itself, as `/v1/parse` answers (the chain keeps the code lists'
        // placeholder level, 310100 市辖区)
        for (i, c) in r.chain.iter().enumerate() {
            let c = match (c.level, i.checked_sub(1).map(|p| &r.chain[p])) {
                (Level::City, Some(p)) if is_placeholder_name(&c.name) => p,
                _ => c,
            };
            m.insert(
                r.chain[i].level.as_str().to_string(),
                json!({"code": c.code, "name": c.name}),
            );
        }
        m.insert("found".into(), Value::Bool(true));
        m.insert("full_name".into(), Value::String(d.tree.full_name(r.div)));
    }
    v
}

async fn reverse(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let p = Params::from_req(&req)?;
    let ((lon, lat), (ilon, ilat), crs) = p.point()?;
    let with_distance = p.bool("distance", true)?;
    let d = state.divisions();
    let mut body = match d.reverse(lon, lat, with_distance) {
        Some(r) => reverse_json(&d, &r),
        None => json!({"found": false, "division": null, "chain": []}),
    };
    body["crs"] = json!(crs);
    body["lon"] = json!(ilon);
    body["lat"] = json!(ilat);
    if crs != Crs::Wgs84 {
        body["wgs84"] = json!([r7(lon), r7(lat)]);
    }
    for (k, v) in super::addresses::reverse_hook(&state, &p, lon, lat, crs)? {
        body[k] = v;
    }
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum BatchPoint {
    Pair([f64; 2]),
    Obj {
        id: Option<Value>,
        lon: f64,
        lat: f64,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchReq {
    #[serde(default)]
    crs: Option<String>,
    #[serde(default)]
    distance: Option<bool>,
    points: Vec<BatchPoint>,
}

async fn reverse_batch(
    state: web::Data<AppState>,
    body: web::Json<BatchReq>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let crs = match &b.crs {
        None => Crs::Wgs84,
        Some(s) => Crs::parse(s).map_err(|e| ApiError::bad("crs", e))?,
    };
    if b.points.len() > MAX_BATCH_POINTS {
        return Err(ApiError::too_large(
            "points",
            format!(
                "{} points exceed the batch limit of {MAX_BATCH_POINTS}",
                b.points.len()
            ),
        ));
    }
    let with_distance = b.distance.unwrap_or(false);
    let mut pts = Vec::with_capacity(b.points.len());
    for (i, p) in b.points.iter().enumerate() {
        let (id, lon, lat) = match p {
            BatchPoint::Pair([x, y]) => (None, *x, *y),
            BatchPoint::Obj { id, lon, lat } => (id.clone(), *lon, *lat),
        };
        check_point(lon, lat, &format!("points[{i}]."))?;
        pts.push((id, lon, lat));
    }
    let d = state.divisions();
    let results: Vec<Value> = pts
        .into_iter()
        .map(|(id, lon, lat)| {
            let (x, y) = crs.to_wgs84(lon, lat);
            let mut v = match d.reverse(x, y, with_distance) {
                Some(r) => {
                    let mut o = json!({"found": true, "division": r.division, "chain": r.chain});
                    if let Some(dist) = r.boundary_distance_m {
                        o["boundary_distance_m"] = json!(dist);
                    }
                    if r.synthetic {
                        o["synthetic"] = json!(true);
                    }
                    o
                }
                None => json!({"found": false, "division": null, "chain": []}),
            };
            if let Some(id) = id {
                v["id"] = id;
            }
            v["lon"] = json!(lon);
            v["lat"] = json!(lat);
            v
        })
        .collect();
    state
        .metrics
        .add("reverse_batch_points", results.len() as u64);
    Ok(HttpResponse::Ok().json(json!({"crs": crs, "count": results.len(), "results": results})))
}

fn division_json(d: &Divisions, idx: u32, geometry: bool, crs: Crs) -> Value {
    let div = d.tree.get(idx);
    let mut v = json!({
        "code": div.code(),
        "stat_code": div.stat_code(),
        "gb_code": div.gb_code(),
        "name": div.name,
        "full_name": d.tree.full_name(idx),
        "level": div.level,
        "status": "current",
        "statistical_only": div.statistical_only,
        "parent": div.parent.map(|p| d.div_ref(p)),
        "chain": d.tree.chain(idx).into_iter().map(|i| d.div_ref(i)).collect::<Vec<_>>(),
        "children_count": div.children.len(),
        "has_polygon": d.geoms.contains_key(&idx),
    });
    if let Some(g) = d.geoms.get(&idx) {
        v["area_km2"] = json!((crate::crs::area_m2(g) / 1e4).round() / 100.0);
        if d.synthetic_geom.get(&idx).copied().unwrap_or(false) {
            v["synthetic_polygon"] = json!(true);
        }
        if geometry {
            let g2 = g.map_coords(|c| {
                let (x, y) = crs.from_wgs84(c.x, c.y);
                geo::Coord { x: r7(x), y: r7(y) }
            });
            v["geometry"] =
                serde_json::to_value(geojson::Geometry::from(&g2)).unwrap_or(Value::Null);
            v["crs"] = json!(crs);
        }
    }
    v
}

async fn get_division(
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let p = Params::from_req(&req)?;
    let geometry = p.bool("geometry", false)?;
    let crs = p.crs()?;
    let code = path.into_inner();
    let d = state.divisions();
    let short = crate::divisions::short_code(&code).map_err(|e| ApiError::bad("code", e))?;
    if let Some(idx) = d.tree.find(&short) {
        return Ok(HttpResponse::Ok().json(division_json(&d, idx, geometry, crs)));
    }
    // a retired code: answer with its successor and the date
    let disp = crate::divisions::display_code(&short);
    if let Some(ch) = d.changes.by_old_code(&disp) {
        let successor = ch
            .new_code
            .as_deref()
            .and_then(|c| d.find_code(c).ok().flatten())
            .map(|i| division_json(&d, i, false, crs));
        return Ok(HttpResponse::Ok().json(json!({
            "code": disp,
            "name": ch.old_name(),
            "status": "retired",
            "retired_on": ch.date,
            "approval": ch.approval,
            "old_full_name": ch.old_full_name(),
            "successor": successor,
        })));
    }
    Err(ApiError::not_found(
        "code",
        format!("no division with code {code}"),
    ))
}

async fn children(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = path.into_inner();
    let d = state.divisions();
    let idx = d
        .find_code(&code)
        .map_err(|e| ApiError::bad("code", e))?
        .ok_or_else(|| ApiError::not_found("code", format!("no division with code {code}")))?;
    let kids: Vec<Value> = d
        .tree
        .get(idx)
        .children
        .iter()
        .map(|&c| {
            let k = d.tree.get(c);
            json!({"code": k.code(), "name": k.name, "level": k.level, "has_polygon": d.geoms.contains_key(&c)})
        })
        .collect();
    Ok(HttpResponse::Ok()
        .json(json!({"code": d.tree.get(idx).code(), "count": kids.len(), "children": kids})))
}

/// `GET /v1/divisions?name=西湖区&level=county&within=330000` — by exact name, including names
/// retired by a change (answered with the successor).
async fn search(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let p = Params::from_req(&req)?;
    let name = p.req_str("name")?.trim().to_string();
    let level = match p.str("level") {
        None => None,
        Some(s) => Some(Level::parse(s).ok_or_else(|| {
            ApiError::bad(
                "level",
                format!("'{s}' is not one of province, city, county, township, village"),
            )
        })?),
    };
    let d = state.divisions();
    let within = match p.str("within") {
        None => None,
        Some(c) => Some(
            d.find_code(c)
                .map_err(|e| ApiError::bad("within", e))?
                .ok_or_else(|| {
                    ApiError::not_found("within", format!("no division with code {c}"))
                })?,
        ),
    };
    let limit = p.usize_in("limit", 50, 1, 1000)?;
    let matches: Vec<Value> = d
        .tree
        .by_name(&name)
        .iter()
        .copied()
        .filter(|&i| level.is_none_or(|l| d.tree.get(i).level == l))
        .filter(|&i| within.is_none_or(|w| d.tree.is_within(i, w)))
        .take(limit)
        .map(|i| division_json(&d, i, false, Crs::Wgs84))
        .collect();
    let retired: Vec<Value> = d
        .changes
        .by_old_name(&name)
        .into_iter()
        .map(|ch| {
            // successor: by code when known, else by the new names
            let succ = ch
                .new_code
                .as_deref()
                .and_then(|c| d.find_code(c).ok().flatten())
                .or_else(|| {
                    d.tree.by_name(ch.new_name()).iter().copied().find(|&i| {
                        let full: String = d
                            .tree
                            .chain(i)
                            .iter()
                            .map(|&j| d.tree.get(j).name.as_str())
                            .collect();
                        ch.new_names.iter().all(|n| full.contains(n.as_str()))
                    })
                });
            json!({
                "name": ch.old_name(),
                "old_full_name": ch.old_full_name(),
                "code": ch.old_code,
                "status": "retired",
                "retired_on": ch.date,
                "approval": ch.approval,
                "successor": succ.map(|i| d.div_ref(i)),
                "successor_full_name": ch.new_names.concat(),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(
        json!({"name": name, "count": matches.len(), "results": matches, "retired": retired}),
    ))
}
