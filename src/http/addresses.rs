//! Geocoding, batch geocoding, structured parsing and the nearest-address hook of reverse
//! geocoding, over HTTP. Thin: the work is in [`crate::addresses`].

use super::error::ApiError;
use super::params::{r7, Params};
use super::AppState;
use crate::addresses::geocode::Candidate;
use crate::addresses::parse::ParseScratch;
use crate::addresses::AddressBook;
use crate::crs::Crs;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use std::sync::Arc;

/// Most rows in one batch request.
pub const MAX_BATCH_ROWS: usize = 100_000;
/// Longest query text (characters).
pub const MAX_QUERY_CHARS: usize = 500;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/geocode", web::get().to(geocode))
        .service(
            web::resource("/v1/geocode/batch")
                .app_data(web::PayloadConfig::new(super::MAX_JSON_BYTES))
                .route(web::post().to(batch))
                .default_service(web::to(super::not_found)),
        )
        .route("/v1/parse", web::get().to(parse))
        .route("/v1/addresses/{code}", web::get().to(by_code));
}

/// A record of the book as JSON: its standard text, code, elements, division, coordinates in
/// `crs`, status and successor (code and text), aliases.
fn address_json(b: &AddressBook, ri: u32, crs: Crs) -> Value {
    let a = b.address(ri);
    let node = &b.parser.nodes[b.node_of(ri) as usize];
    let (x, y) = crs.from_wgs84(a.lon, a.lat);
    json!({
        "address": b.full_text(ri),
        "code": a.code,
        "division": {"code": node.code, "name": node.name, "level": node.level},
        "road": a.road,
        "number": a.number,
        "compound": a.compound,
        "building": a.building,
        "lon": r7(x), "lat": r7(y),
        "status": a.status,
        "successor": b.successor_of(ri).map(|s| json!({
            "code": b.code_of(s),
            "address": b.full_text(s),
        })),
        "aliases": b.aliases_of(ri).collect::<Vec<_>>(),
        "synthetic": a.synthetic,
    })
}

/// `GET /v1/addresses/{code}?crs=`: the standard address with this code (a retired one too,
/// with its successor). 400 for a code that cannot be one (digits: a 6-, 9- or 12-digit
/// division code and a 12-digit serial), 404 for one the book does not hold.
async fn by_code(
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let p = Params::from_req(&req)?;
    let crs = p.crs()?;
    let code = path.into_inner();
    if !code.bytes().all(|c| c.is_ascii_digit()) || ![18, 21, 24].contains(&code.len()) {
        return Err(ApiError::bad(
            "code",
            format!(
                "'{code}' is not a standard address code (a 6-, 9- or 12-digit division code and a 12-digit serial: 18, 21 or 24 digits)"
            ),
        ));
    }
    let b = book(&state);
    let ri = b
        .find_code(&code)
        .ok_or_else(|| ApiError::not_found("code", format!("no address with code {code}")))?;
    let mut v = address_json(&b, ri, crs);
    v["crs"] = json!(crs);
    Ok(HttpResponse::Ok().json(v))
}

fn book(state: &AppState) -> Arc<AddressBook> {
    state.addresses.read().clone()
}

/// Resolves `city=` (a code or a name such as 上海市/黄浦区) to a division node.
fn within(b: &AddressBook, p: &Params) -> Result<Option<u32>, ApiError> {
    let Some(c) = p.str("city") else {
        return Ok(None);
    };
    let c = c.trim();
    if c.bytes().all(|x| x.is_ascii_digit()) {
        let short = crate::divisions::short_code(c).map_err(|e| ApiError::bad("city", e))?;
        let want = crate::divisions::display_code(&short);
        return b
            .parser
            .nodes
            .iter()
            .position(|n| n.code.as_deref() == Some(want.as_str()))
            .map(|i| Some(i as u32))
            .ok_or_else(|| ApiError::bad("city", format!("no division with code {c}")));
    }
    let (t, _) = crate::addresses::normalize::normalize(c);
    let m = b.parser.parse(&t, None);
    if m.hypotheses.is_empty() || !m.detail.is_empty() {
        return Err(ApiError::bad(
            "city",
            format!("'{c}' is not a known division name"),
        ));
    }
    if m.hypotheses.len() > 1 && m.level.is_none() {
        return Err(ApiError::bad(
            "city",
            format!("'{c}' is ambiguous: give a code"),
        ));
    }
    Ok(Some(m.hypotheses[0]))
}

fn check_q(q: &str, field: &str) -> Result<(), ApiError> {
    if q.trim().is_empty() {
        return Err(ApiError::bad(field, "query text is empty"));
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad(
            field,
            format!("query text longer than {MAX_QUERY_CHARS} characters"),
        ));
    }
    Ok(())
}

pub fn candidate_json(c: &Candidate, crs: Crs) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
    if let (Some(lon), Some(lat)) = (c.lon, c.lat) {
        let (x, y) = crs.from_wgs84(lon, lat);
        v["lon"] = json!(r7(x));
        v["lat"] = json!(r7(y));
    }
    v
}

fn geocode_json(b: &AddressBook, q: &str, within: Option<u32>, limit: usize, crs: Crs) -> Value {
    let g = b.geocode(q, within, limit);
    json!({
        "query": g.query,
        "crs": crs,
        "normalized": g.normalized,
        "candidates": g.candidates.iter().map(|c| candidate_json(c, crs)).collect::<Vec<_>>(),
    })
}

async fn geocode(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let p = Params::from_req(&req)?;
    let q = p.req_str("q")?;
    check_q(q, "q")?;
    let crs = p.crs()?;
    let limit = p.usize_in("limit", 5, 1, 50)?;
    let b = book(&state);
    let w = within(&b, &p)?;
    Ok(HttpResponse::Ok().json(geocode_json(&b, q, w, limit, crs)))
}

async fn parse(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let p = Params::from_req(&req)?;
    let q = p.req_str("q")?;
    check_q(q, "q")?;
    let b = book(&state);
    let w = within(&b, &p)?;
    Ok(HttpResponse::Ok().json(parse_json(&b, q, w, None)))
}

/// The structured parse of one text (divisions with codes, elements, corrections), inside the
/// division `within` when given (`city=`); `sc`: the parser's working sets, kept by a caller
/// that parses many texts (None: the per-thread ones). An ambiguous text (西湖区: of Hangzhou
/// and of Nanchang) lists the divisions it may name under `alternatives`.
pub fn parse_json(
    b: &AddressBook,
    q: &str,
    within: Option<u32>,
    sc: Option<&mut ParseScratch>,
) -> Value {
    let (t, mut corr) = crate::addresses::normalize::normalize(q);
    let m = match sc {
        Some(sc) => b.parser.parse_with(&t, within, sc),
        None => b.parser.parse(&t, within),
    };
    let ambiguous = m.hypotheses.len() > 1 && m.level.is_none();
    let alternatives: Vec<Value> = if ambiguous {
        m.hypotheses
            .iter()
            .map(|&n| {
                let node = &b.parser.nodes[n as usize];
                json!({
                    "code": node.code,
                    "name": node.name,
                    "level": node.level,
                    "full_name": b.parser.full_name(n),
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let detail = m.road_detail();
    let e = crate::addresses::parse::parse_elements(detail, None);
    corr.extend(m.corrections());
    json!({
        "query": q,
        "normalized": t,
        "province": m.province(),
        "city": m.city(),
        "county": m.county(),
        "town": m.town(),
        "village": m.village(),
        "level": m.level,
        "ambiguous": ambiguous,
        "alternatives": alternatives,
        "detail": detail,
        "elements": e,
        "corrections": corr,
    })
}

/// One row of a batch: id (optional) and text.
struct Row {
    id: Value,
    q: Result<String, ApiError>,
    /// where the query text is, for an error about it (`queries[3]`, `line 4.address`)
    field: String,
}

/// (rows, crs, city, parse_only)
type JsonRows = (Vec<Row>, Option<String>, Option<String>, bool);

fn rows_from_json(body: &[u8]) -> Result<JsonRows, ApiError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad("body", format!("invalid JSON: {e}")))?;
    let obj = v
        .as_object()
        .ok_or_else(|| ApiError::bad("body", "expected a JSON object with 'queries'"))?;
    for k in obj.keys() {
        if !matches!(
            k.as_str(),
            "queries" | "crs" | "city" | "parse_only" | "limit"
        ) {
            return Err(ApiError::bad(k.clone(), "unknown field"));
        }
    }
    let qs = obj
        .get("queries")
        .and_then(|q| q.as_array())
        .ok_or_else(|| ApiError::bad("queries", "missing or not an array"))?;
    let s = |k: &str| -> Result<Option<String>, ApiError> {
        match obj.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::bad(k, "must be a string")),
        }
    };
    let parse_only = match obj.get("parse_only") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(ApiError::bad("parse_only", "must be true or false")),
    };
    let rows = qs
        .iter()
        .enumerate()
        .map(|(i, q)| match q {
            Value::String(s) => Row {
                id: json!(i),
                q: Ok(s.clone()),
                field: format!("queries[{i}]"),
            },
            Value::Object(o) => {
                let field = format!("queries[{i}].q");
                Row {
                    id: o.get("id").cloned().unwrap_or(json!(i)),
                    q: o.get("q")
                        .and_then(|x| x.as_str())
                        .map(String::from)
                        .ok_or_else(|| ApiError::bad(field.clone(), "missing or not a string")),
                    field,
                }
            }
            _ => {
                let field = format!("queries[{i}]");
                Row {
                    id: json!(i),
                    q: Err(ApiError::bad(field.clone(), "must be a string or {id, q}")),
                    field,
                }
            }
        })
        .collect();
    Ok((rows, s("crs")?, s("city")?, parse_only))
}

fn rows_from_csv(body: &[u8]) -> Result<Vec<Row>, ApiError> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(body);
    let headers = rdr
        .headers()
        .map_err(|e| ApiError::bad("body", format!("invalid CSV header: {e}")))?
        .clone();
    let qcol = headers
        .iter()
        .position(|h| matches!(h.trim(), "q" | "address" | "原始地址"))
        .ok_or_else(|| ApiError::bad("body", "CSV needs a column named q, address or 原始地址"))?;
    let idcol = headers.iter().position(|h| h.trim() == "id");
    let mut rows = Vec::new();
    // where the last record starts: a quote left open there runs to the end of the body, which
    // the reader takes as one field holding every line after it
    let mut last_start = None;
    let mut prev_line = 1;
    for r in rdr.records() {
        // the line a record starts on (a quoted field may span lines): the reader gives where
        // it began to look, before the blank lines it skips
        let pos = match &r {
            Ok(r) => r.position(),
            Err(e) => e.position(),
        };
        let (line, start) = match pos {
            Some(p) => {
                let from = (p.byte() as usize).min(body.len());
                let skip = body[from..]
                    .iter()
                    .take_while(|&&c| c == b'\n' || c == b'\r')
                    .count();
                let nl = body[from..from + skip]
                    .iter()
                    .filter(|&&c| c == b'\n')
                    .count();
                (p.line() as usize + nl, Some(from + skip))
            }
            None => (prev_line + 1, None),
        };
        prev_line = line;
        last_start = if r.is_ok() { start } else { None };
        match r {
            Ok(r) => {
                let field = format!("line {line}.{}", &headers[qcol]);
                rows.push(Row {
                    id: idcol
                        .and_then(|c| r.get(c))
                        .map(|s| json!(s))
                        .unwrap_or(json!(line)),
                    q: r.get(qcol)
                        .map(String::from)
                        .ok_or_else(|| ApiError::bad(field.clone(), "missing column")),
                    field,
                })
            }
            Err(e) => {
                let field = format!("line {line}");
                rows.push(Row {
                    id: json!(line),
                    q: Err(ApiError::bad(field.clone(), e.to_string())),
                    field,
                })
            }
        }
    }
    // (quotes come in pairs in a well-formed record: open, close and doubled ones)
    if let (Some(at), Some(row)) = (last_start, rows.last_mut()) {
        if body
            .get(at..)
            .is_some_and(|b| b.iter().filter(|&&c| c == b'"').count() % 2 == 1)
        {
            row.q = Err(ApiError::bad(
                row.field.clone(),
                "a quoted field is not closed: it runs to the end of the body",
            ));
        }
    }
    Ok(rows)
}

/// `POST /v1/geocode/batch`: JSON `{"queries": ["…" | {"id", "q"}], "crs", "city", "parse_only"}`
/// or CSV (`Content-Type: text/csv`, a `q`/`address` column, optional `id`; `?crs=&city=&parse_only=`).
/// Streams NDJSON, one line per row in order; a bad row gets an `error` line, never fails the batch.
async fn batch(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let p = Params::from_req(&req)?;
    let ct = req
        .headers()
        .get("content-type")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let (rows, crs_s, city_s, parse_only) =
        if ct.starts_with("text/csv") || ct.starts_with("application/csv") {
            (
                rows_from_csv(&body)?,
                p.str("crs").map(String::from),
                p.str("city").map(String::from),
                p.bool("parse_only", false)?,
            )
        } else {
            rows_from_json(&body)?
        };
    if rows.len() > MAX_BATCH_ROWS {
        return Err(ApiError::too_large(
            "queries",
            format!(
                "{} rows exceed the batch limit of {MAX_BATCH_ROWS}",
                rows.len()
            ),
        ));
    }
    let crs = match crs_s.as_deref() {
        None => Crs::Wgs84,
        Some(s) => Crs::parse(s).map_err(|e| ApiError::bad("crs", e))?,
    };
    let b = book(&state);
    let mut pp = Params(Default::default());
    if let Some(c) = city_s {
        pp.0.insert("city".into(), c);
    }
    let w = within(&b, &pp)?;
    state.metrics.add("geocode_batch_rows", rows.len() as u64);
    // stream in chunks of 200 rows, computed lazily
    let rows = Arc::new(rows);
    let n = rows.len();
    let chunks = (0..n).step_by(200).map(move |start| {
        let b = b.clone();
        let rows = rows.clone();
        let mut out = Vec::new();
        let mut sc = ParseScratch::default();
        for (i, r) in rows.iter().enumerate().skip(start).take(200) {
            let line = match r
                .q
                .as_ref()
                .map_err(|e| e.clone())
                .and_then(|q| check_q(q, &r.field).map(|_| q))
            {
                Ok(q) => {
                    let mut v = if parse_only {
                        parse_json(&b, q, w, Some(&mut sc))
                    } else {
                        geocode_json(&b, q, w, 1, crs)
                    };
                    v["row"] = json!(i);
                    v["id"] = r.id.clone();
                    v
                }
                Err(e) => {
                    json!({"row": i, "id": r.id, "error": {"field": e.field, "message": e.message}})
                }
            };
            let _ = serde_json::to_writer(&mut out, &line);
            out.push(b'\n');
        }
        Ok::<_, actix_web::Error>(web::Bytes::from(out))
    });
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .insert_header(("x-rows", n.to_string()))
        .streaming(futures_util::stream::iter(chunks)))
}

/// Hook for `GET /v1/reverse?address=true&radius=`: the nearest standard address (and its
/// road) within `radius` metres (default 100, max 5000). `None` when not asked for.
pub fn reverse_hook(
    state: &AppState,
    p: &Params,
    lon: f64,
    lat: f64,
    crs: Crs,
) -> Result<Option<Value>, ApiError> {
    if !p.bool("address", false)? {
        return Ok(None);
    }
    let radius = p.f64_in("radius", 100.0, 0.0, 5000.0)?;
    let b = book(state);
    Ok(Some(match b.nearest(lon, lat, radius) {
        Some((ri, dist)) => {
            let mut v = address_json(&b, ri, crs);
            v["found"] = json!(true);
            v["distance_m"] = json!((dist * 10.0).round() / 10.0);
            v["radius_m"] = json!(radius);
            v
        }
        None => json!({"found": false, "radius_m": radius}),
    }))
}
