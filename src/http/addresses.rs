//! Geocoding, batch geocoding, structured parsing and the nearest-address hook of reverse
//! geocoding, over HTTP. Thin: the work is in [`crate::addresses`].

use super::error::ApiError;
use super::params::{r7, Params};
use super::AppState;
use crate::addresses::geocode::Candidate;
use crate::addresses::normalize::Correction;
use crate::addresses::parse::{Elements, ParseScratch, Part};
use crate::addresses::{AddressBook, Depth};
use crate::crs::Crs;
use crate::divisions::Level;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt as _;
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

/// The answer of a geocode, serialised as it is. Fields in alphabetical order, as the keys of
/// a `serde_json` map come out (the answer had been built as one).
#[derive(serde::Serialize)]
struct GeocodeAnswer<'a> {
    candidates: Vec<CandidateAnswer<'a>>,
    crs: Crs,
    /// a batch row's id (its index or CSV line when it was given none)
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a Value>,
    normalized: &'a str,
    query: &'a str,
    /// a batch row's index
    #[serde(skip_serializing_if = "Option::is_none")]
    row: Option<usize>,
}

/// A [`Candidate`] with its coordinates in the answer's CRS, rounded to 7 decimals (1 cm);
/// fields in alphabetical order, as above.
#[derive(serde::Serialize)]
struct CandidateAnswer<'a> {
    address: &'a str,
    code: Option<&'a str>,
    confidence: f64,
    corrections: &'a [Correction],
    division: Option<&'a crate::addresses::geocode::DivRef>,
    interpolated: bool,
    lat: Option<f64>,
    level: &'a str,
    lon: Option<f64>,
    status: Option<&'a str>,
    successor: Option<&'a str>,
    synthetic: bool,
}

impl<'a> CandidateAnswer<'a> {
    fn new(c: &'a Candidate, crs: Crs) -> CandidateAnswer<'a> {
        let (lon, lat) = match (c.lon, c.lat) {
            (Some(lon), Some(lat)) => {
                let (x, y) = crs.from_wgs84(lon, lat);
                (Some(r7(x)), Some(r7(y)))
            }
            other => other,
        };
        CandidateAnswer {
            address: &c.address,
            code: c.code.as_deref(),
            confidence: c.confidence,
            corrections: &c.corrections,
            division: c.division.as_ref(),
            interpolated: c.interpolated,
            lat,
            level: c.level,
            lon,
            status: c.status.as_deref(),
            successor: c.successor.as_deref(),
            synthetic: c.synthetic,
        }
    }
}

/// A geocode of `q` written as JSON to `out`, with the `row` and `id` of a batch row when
/// given.
fn write_geocode(
    b: &AddressBook,
    q: &str,
    within: Option<u32>,
    limit: usize,
    crs: Crs,
    row: Option<(usize, &Value)>,
    out: &mut Vec<u8>,
) {
    let g = b.geocode(q, within, limit);
    let a = GeocodeAnswer {
        candidates: g
            .candidates
            .iter()
            .map(|c| CandidateAnswer::new(c, crs))
            .collect(),
        crs,
        id: row.map(|r| r.1),
        normalized: &g.normalized,
        query: &g.query,
        row: row.map(|r| r.0),
    };
    // (writing to a Vec fails only for a serialiser error, which these types do not have)
    let _ = serde_json::to_writer(out, &a);
}

async fn geocode(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let p = Params::from_req(&req)?;
    let q = p.req_str("q")?;
    check_q(q, "q")?;
    let crs = p.crs()?;
    let limit = p.usize_in("limit", 5, 1, 50)?;
    let b = book(&state);
    let w = within(&b, &p)?;
    let mut out = Vec::new();
    write_geocode(&b, q, w, limit, crs, None, &mut out);
    Ok(json_body(out))
}

async fn parse(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let p = Params::from_req(&req)?;
    let q = p.req_str("q")?;
    check_q(q, "q")?;
    let depth = depth_param(p.str("depth"))?.unwrap_or_default();
    let b = book(&state);
    let w = within(&b, &p)?;
    let mut out = Vec::new();
    write_parse(&b, q, w, depth, None, None, &mut out);
    Ok(json_body(out))
}

/// A 200 answer of JSON already written.
fn json_body(out: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(out)
}

/// The structured parse of one text (divisions with codes, elements, corrections), inside the
/// division `within` when given (`city=`), to `depth` (`Depth::County`: the divisions to the
/// county, the rest of the text as `detail`, `elements` null), written as JSON to `out`, with
/// the `row` and `id` of a batch row when given; `sc`: the parser's working sets, kept by a
/// caller that parses many texts (None: the per-thread ones). An ambiguous text (西湖区: of
/// Hangzhou and of Nanchang) lists the divisions it may name under `alternatives`.
pub fn write_parse(
    b: &AddressBook,
    q: &str,
    within: Option<u32>,
    depth: Depth,
    sc: Option<&mut ParseScratch>,
    row: Option<(usize, &Value)>,
    out: &mut Vec<u8>,
) {
    let (t, mut corr) = crate::addresses::normalize::normalize(q);
    let parser = b.parser_for(depth);
    let m = match sc {
        Some(sc) => parser.parse_with(&t, within, sc),
        None => parser.parse(&t, within),
    };
    let ambiguous = m.hypotheses.len() > 1 && m.level.is_none();
    let alternatives = if ambiguous {
        m.hypotheses
            .iter()
            .map(|&n| {
                let node = &parser.nodes[n as usize];
                Alternative {
                    code: node.code.as_deref(),
                    full_name: parser.full_name(n),
                    level: node.level,
                    name: &node.name,
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let detail = m.road_detail();
    let elements =
        (depth == Depth::Village).then(|| crate::addresses::parse::parse_elements(detail, None));
    corr.extend(m.corrections());
    let a = ParseAnswer {
        alternatives,
        ambiguous,
        city: m.city(),
        corrections: corr,
        county: m.county(),
        detail,
        elements,
        id: row.map(|r| r.1),
        level: m.level,
        normalized: &t,
        province: m.province(),
        query: q,
        row: row.map(|r| r.0),
        town: m.town(),
        village: m.village(),
    };
    // (writing to a Vec fails only for a serialiser error, which these types do not have)
    let _ = serde_json::to_writer(out, &a);
}

/// The answer of a structured parse, serialised as it is. Fields in alphabetical order, as
/// the keys of a `serde_json` map come out (the answer had been built as one).
#[derive(serde::Serialize)]
struct ParseAnswer<'a> {
    alternatives: Vec<Alternative<'a>>,
    ambiguous: bool,
    city: Option<Part<'a>>,
    corrections: Vec<Correction>,
    county: Option<Part<'a>>,
    detail: &'a str,
    /// (null in a parse to county depth)
    elements: Option<Elements<'a>>,
    /// a batch row's id (its index or CSV line when it was given none)
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a Value>,
    level: Option<Level>,
    normalized: &'a str,
    province: Option<Part<'a>>,
    query: &'a str,
    /// a batch row's index
    #[serde(skip_serializing_if = "Option::is_none")]
    row: Option<usize>,
    town: Option<Part<'a>>,
    village: Option<Part<'a>>,
}

/// A division an ambiguous text may name.
#[derive(serde::Serialize)]
struct Alternative<'a> {
    code: Option<&'a str>,
    full_name: String,
    level: Level,
    name: &'a str,
}

/// One row of a batch: id (optional) and text.
struct Row {
    id: Value,
    q: Result<String, ApiError>,
    /// where the query text is, for an error about it (`queries[3]`, `line 4.address`)
    field: String,
}

/// (rows, crs, city, a parse only to this depth instead of geocoding)
type JsonRows = (Vec<Row>, Option<String>, Option<String>, Option<Depth>);

fn rows_from_json(body: &[u8]) -> Result<JsonRows, ApiError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad("body", format!("invalid JSON: {e}")))?;
    let obj = v
        .as_object()
        .ok_or_else(|| ApiError::bad("body", "expected a JSON object with 'queries'"))?;
    for k in obj.keys() {
        if !matches!(
            k.as_str(),
            "queries" | "crs" | "city" | "parse_only" | "depth" | "limit"
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
    let parse_only = parse_depth(parse_only, s("depth")?.as_deref())?;
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

/// The depth of a batch's parse (`parse_only` and `depth`); `depth` without `parse_only` is
/// refused (a geocode reads the whole address).
fn parse_depth(parse_only: bool, depth: Option<&str>) -> Result<Option<Depth>, ApiError> {
    match (parse_only, depth_param(depth)?) {
        (false, Some(_)) => Err(ApiError::bad("depth", "only with parse_only")),
        (false, None) => Ok(None),
        (true, d) => Ok(Some(d.unwrap_or_default())),
    }
}

/// The `depth` parameter, when given (a 400 naming it when it is not a depth).
fn depth_param(depth: Option<&str>) -> Result<Option<Depth>, ApiError> {
    depth
        .map(Depth::parse)
        .transpose()
        .map_err(|e| ApiError::bad("depth", e))
}

/// Names of the address column of a CSV batch (the first found is taken): ours, and those of
/// spreadsheets kept by bureaus and of the cpca sample.
const ADDRESS_COLUMNS: [&str; 5] = ["q", "address", "地址", "详细地址", "原始地址"];
/// Names of the optional id column.
const ID_COLUMNS: [&str; 3] = ["id", "编号", "序号"];

fn rows_from_csv(body: &[u8]) -> Result<Vec<Row>, ApiError> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(body);
    let headers = rdr
        .headers()
        .map_err(|e| ApiError::bad("body", format!("invalid CSV header: {e}")))?
        .clone();
    let qcol = headers
        .iter()
        .position(|h| ADDRESS_COLUMNS.contains(&h.trim()))
        .ok_or_else(|| {
            ApiError::bad(
                "body",
                format!("CSV needs a column named {}", ADDRESS_COLUMNS.join(", ")),
            )
        })?;
    let idcol = headers.iter().position(|h| ID_COLUMNS.contains(&h.trim()));
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
                let mut msg = e.to_string();
                if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    msg.push_str(
                        " (a GBK/GB18030 file, as Excel writes on Chinese Windows, needs \
                         Content-Type: text/csv; charset=gb18030)",
                    );
                }
                rows.push(Row {
                    id: json!(line),
                    q: Err(ApiError::bad(field.clone(), msg)),
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
            // the text encoding: `?encoding=` or the content type's charset, else UTF-8
            let (field, label) = match p.str("encoding") {
                Some(e) => ("encoding", e),
                None => ("charset", csv_charset(&ct).unwrap_or("utf-8")),
            };
            let enc = crate::addresses::import::encoding_for(label)
                .map_err(|e| ApiError::bad(field, e))?;
            let text = crate::addresses::import::to_utf8(&body, enc)
                .map_err(|e| ApiError::bad("body", e))?;
            (
                rows_from_csv(&text)?,
                p.str("crs").map(String::from),
                p.str("city").map(String::from),
                parse_depth(p.bool("parse_only", false)?, p.str("depth"))?,
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
    // stream in chunks of BATCH_CHUNK rows, in order; each chunk is computed on the blocking
    // pool (not on the connection's event loop, which other requests share), as many at once
    // as the machine has cores
    let rows = Arc::new(rows);
    let n = rows.len();
    let chunks = (0..n).step_by(BATCH_CHUNK).map(move |start| {
        let (b, rows) = (b.clone(), rows.clone());
        web::block(move || batch_chunk(&b, &rows, start, w, crs, parse_only))
    });
    let chunks = futures_util::stream::iter(chunks)
        .buffered(batch_parallelism())
        .map(|r| r.map(web::Bytes::from).map_err(actix_web::Error::from));
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .insert_header(("x-rows", n.to_string()))
        .streaming(chunks))
}

/// The `charset` parameter of a (lowercased) content type, unquoted.
fn csv_charset(ct: &str) -> Option<&str> {
    ct.split(';')
        .skip(1)
        .find_map(|p| p.trim().strip_prefix("charset="))
        .map(|v| v.trim().trim_matches('"'))
}

/// Rows of a batch computed together (one task of the blocking pool).
const BATCH_CHUNK: usize = 64;

/// Chunks of one batch computed at once: the cores of the machine (asked once: on Linux the
/// answer reads the cgroup's files).
fn batch_parallelism() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The NDJSON lines of rows `start .. start + BATCH_CHUNK` of a batch.
fn batch_chunk(
    b: &AddressBook,
    rows: &[Row],
    start: usize,
    w: Option<u32>,
    crs: Crs,
    parse_only: Option<Depth>,
) -> Vec<u8> {
    // (about 650 bytes a row: one allocation)
    let mut out = Vec::with_capacity(BATCH_CHUNK * 1024);
    let mut sc = ParseScratch::default();
    for (i, r) in rows.iter().enumerate().skip(start).take(BATCH_CHUNK) {
        match r
            .q
            .as_ref()
            .map_err(|e| e.clone())
            .and_then(|q| check_q(q, &r.field).map(|_| q))
        {
            Ok(q) => match parse_only {
                Some(depth) => {
                    write_parse(b, q, w, depth, Some(&mut sc), Some((i, &r.id)), &mut out)
                }
                None => write_geocode(b, q, w, 1, crs, Some((i, &r.id)), &mut out),
            },
            Err(e) => {
                let v = json!({"row": i, "id": r.id, "error": {"field": e.field, "message": e.message}});
                let _ = serde_json::to_writer(&mut out, &v);
            }
        }
        out.push(b'\n');
    }
    out
}

/// Hook for `GET /v1/reverse?address=true&radius=`: the nearest standard address (and its
/// road) within `radius` metres (default 100, max 5000), and the nearest road by its centre
/// line and the nearest junction of two roads (where the book has road lines, as AMap's
/// `roads` and `roadinters`): the fields to add to the answer, none when not asked for.
pub fn reverse_hook(
    state: &AppState,
    p: &Params,
    lon: f64,
    lat: f64,
    crs: Crs,
) -> Result<Vec<(&'static str, Value)>, ApiError> {
    if !p.bool("address", false)? {
        return Ok(Vec::new());
    }
    let radius = p.f64_in("radius", 100.0, 0.0, 5000.0)?;
    let b = book(state);
    // what was found within the radius, at its distance; or that nothing was
    let found = |mut v: Value, dist: f64| {
        v["found"] = json!(true);
        v["distance_m"] = json!((dist * 10.0).round() / 10.0);
        v["radius_m"] = json!(radius);
        v
    };
    let none = || json!({"found": false, "radius_m": radius});
    let mut out = vec![(
        "nearest_address",
        b.nearest(lon, lat, radius)
            .map_or_else(none, |(ri, dist)| found(address_json(&b, ri, crs), dist)),
    )];
    if !b.lines.is_empty() {
        out.push((
            "nearest_road",
            b.lines.nearest(lon, lat, radius).map_or_else(none, |r| {
                // (the road's closest point to the one asked)
                let (x, y) = crs.from_wgs84(r.lon, r.lat);
                let v = json!({"name": r.name, "county": r.county, "lon": r7(x), "lat": r7(y),
                    "synthetic": r.synthetic});
                found(v, r.distance_m)
            }),
        ));
        out.push((
            "nearest_intersection",
            b.lines
                .nearest_junction(lon, lat, radius)
                .map_or_else(none, |j| {
                    let (x, y) = crs.from_wgs84(j.lon, j.lat);
                    let v = json!({"roads": j.roads, "county": j.county, "lon": r7(x),
                        "lat": r7(y)});
                    found(v, j.distance_m)
                }),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The answers are serialised from typed structs whose fields are declared in alphabetical
    /// order, so that they come out as they did when built as `serde_json` maps (which sort
    /// their keys). A field added out of order fails here.
    #[test]
    fn answers_are_written_with_their_keys_sorted() {
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
        let d = crate::divisions::Divisions::build(crate::store::load_embedded(&data).unwrap())
            .unwrap();
        let b = AddressBook::load_embedded(&d, &data).unwrap();
        let sorted = |out: &[u8]| {
            let v: Value = serde_json::from_slice(out).unwrap();
            assert_eq!(serde_json::to_string(&v).unwrap().as_bytes(), out);
            v
        };
        let id = json!("a-1");
        // divisions, elements and a Traditional-character correction; an ambiguous text
        // with its alternatives; a batch row's row and id
        let mut out = Vec::new();
        write_parse(
            &b,
            "青浦區(qū)盈浦街道城中东路12号",
            None,
            Depth::Village,
            None,
            None,
            &mut out,
        );
        let v = sorted(&out);
        assert_eq!(v["county"]["code"], "310118");
        assert_eq!(v["elements"]["number"], 12);
        assert_eq!(v["corrections"][0]["kind"], "traditional");
        out.clear();
        write_parse(
            &b,
            "西湖区",
            None,
            Depth::Village,
            None,
            Some((7, &id)),
            &mut out,
        );
        let v = sorted(&out);
        assert_eq!(v["alternatives"].as_array().unwrap().len(), 2);
        assert_eq!((v["row"].clone(), v["id"].clone()), (json!(7), id.clone()));
        // a house number of the sample book: coordinates in GCJ-02, its division
        out.clear();
        let q = "上海市黄浦区中山东一路3号";
        write_geocode(&b, q, None, 3, Crs::Gcj02, Some((0, &id)), &mut out);
        let v = sorted(&out);
        let c = &v["candidates"][0];
        assert_eq!(c["level"], "house_number");
        assert_eq!(c["division"]["level"], "township");
        let (lon, lat) = (c["lon"].as_f64().unwrap(), c["lat"].as_f64().unwrap());
        let g = b.geocode(q, None, 1);
        let (x, y) =
            Crs::Gcj02.from_wgs84(g.candidates[0].lon.unwrap(), g.candidates[0].lat.unwrap());
        assert_eq!((lon, lat), (r7(x), r7(y)));
        assert!(
            (lon - g.candidates[0].lon.unwrap()).abs() > 1e-3,
            "GCJ-02 is shifted"
        );
    }
}
