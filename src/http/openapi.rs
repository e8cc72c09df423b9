//! The OpenAPI 3.0 document served at `/v1/openapi.json`, assembled from one fragment per
//! domain so that each module documents its own routes.

use actix_web::HttpResponse;
use serde_json::{json, Map, Value};

fn q(name: &str, desc: &str, required: bool, ty: &str) -> Value {
    json!({"name": name, "in": "query", "required": required, "description": desc, "schema": {"type": ty}})
}

fn crs_param() -> Value {
    json!({"name": "crs", "in": "query", "required": false,
           "description": "coordinate system of lon/lat in and out: wgs84 (default), cgcs2000, gcj02, bd09",
           "schema": {"type": "string", "enum": ["wgs84", "cgcs2000", "gcj02", "bd09"], "default": "wgs84"}})
}

fn ok(desc: &str) -> Value {
    json!({"200": {"description": desc, "content": {"application/json": {}}},
           "400": {"description": "invalid parameter", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}})
}

/// Paths of the foundation: health, metrics, divisions, reverse geocoding, transform.
fn core_paths() -> Value {
    json!({
        "/healthz": {"get": {"summary": "Liveness and loaded data", "responses": {"200": {"description": "ok"}}}},
        "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text exposition format"}}}},
        "/v1/reverse": {"get": {"summary": "Divisions containing a point (deepest level with polygons), with distance to its boundary",
            "parameters": [q("lon", "longitude", true, "number"), q("lat", "latitude", true, "number"), crs_param(),
                           q("distance", "compute boundary_distance_m (default true)", false, "boolean"),
                           q("address", "also return nearest_address (the nearest standard address and its road) and, where the book has road centre lines, nearest_road (the nearest road by its line, its closest point and distance) and nearest_intersection (the nearest junction of two roads) (default false)", false, "boolean"),
                           q("radius", "search radius of address=true in metres (default 100, max 5000)", false, "number")],
            "responses": ok("reverse-geocoding result; found=false outside every polygon")}},
        "/v1/reverse/batch": {"post": {"summary": "Reverse-geocode up to 100,000 points",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["points"],
                "properties": {"crs": {"type": "string"}, "distance": {"type": "boolean", "default": false},
                    "points": {"type": "array", "items": {"oneOf": [
                        {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
                        {"type": "object", "properties": {"id": {}, "lon": {"type": "number"}, "lat": {"type": "number"}}, "required": ["lon", "lat"]}]}}}}}}},
            "responses": {"200": {"description": "one result per point, in order"}, "400": {"description": "invalid point (field names its index)"}, "413": {"description": "too many points or body too large"}}}},
        "/v1/divisions": {"get": {"summary": "Find divisions by exact name, including retired names with their successor",
            "parameters": [q("name", "division name, e.g. 西湖区 or 江干区", true, "string"), q("level", "province|city|county|township|village", false, "string"),
                           q("within", "code of an ancestor", false, "string"), q("limit", "max results (default 50)", false, "integer")],
            "responses": ok("matches and retired names")}},
        "/v1/divisions/{code}": {"get": {"summary": "A division by code (2/4/6/9/12 digits); a retired code answers with its successor and date",
            "parameters": [{"name": "code", "in": "path", "required": true, "schema": {"type": "string"}},
                           q("geometry", "include the polygon as GeoJSON", false, "boolean"), crs_param()],
            "responses": {"200": {"description": "division"}, "400": {"description": "malformed code"}, "404": {"description": "unknown code"}}}},
        "/v1/divisions/{code}/children": {"get": {"summary": "Children of a division",
            "parameters": [{"name": "code", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "children"}, "404": {"description": "unknown code"}}}},
        "/v1/transform": {
            "get": {"summary": "Convert one coordinate between wgs84, cgcs2000, gcj02, bd09 and EPSG:<code> (PROJ)",
                "parameters": [q("from", "source system", true, "string"), q("to", "target system", true, "string"),
                               q("lon", "longitude (or x= for projected input)", true, "number"), q("lat", "latitude (or y=)", true, "number")],
                "responses": ok("converted coordinate")},
            "post": {"summary": "Convert many coordinates",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["from", "to", "coordinates"],
                    "properties": {"from": {"type": "string"}, "to": {"type": "string"}, "coordinates": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}}}}}},
                "responses": ok("converted coordinates")}}
    })
}

/// Paths of the address database: geocoding, batch geocoding, structured parsing.
fn addresses_paths() -> Value {
    json!({
        "/v1/geocode": {"get": {"summary": "Geocode a free-text Chinese address against the standard address database: ranked candidates with code, coordinates, match level (province … road, intersection, house_number, building; interpolated flag), confidence and corrections (old name, Traditional, fuzzy, other_township, road_context …)",
            "parameters": [q("q", "address text", true, "string"), q("city", "division context (name or code), e.g. 上海市 or 310101", false, "string"),
                           crs_param(), q("limit", "max candidates (1-50, default 5)", false, "integer")],
            "responses": ok("{query, crs, normalized, candidates:[{address, code, lon, lat, level, confidence, corrections, interpolated, synthetic, division, status, successor}]}")}},
        "/v1/geocode/batch": {"post": {"summary": "Geocode (or parse) many addresses; streams NDJSON, one line per row in order; a bad row gets an error line",
            "parameters": [crs_param(), q("city", "division context (CSV bodies)", false, "string"), q("parse_only", "parse instead of geocode (CSV bodies)", false, "boolean"), q("depth", "with parse_only: village (default, the whole parse) or county (province, city and county only, the rest as detail, elements null) (CSV bodies)", false, "string"), q("encoding", "text encoding of a CSV body (utf-8 default; gb18030, gbk, gb2312, big5); also read from the Content-Type charset", false, "string")],
            "requestBody": {"required": true, "content": {
                "application/json": {"schema": {"type": "object", "required": ["queries"], "properties": {
                    "queries": {"type": "array", "items": {"oneOf": [{"type": "string"}, {"type": "object", "properties": {"id": {}, "q": {"type": "string"}}}]}},
                    "crs": {"type": "string"}, "city": {"type": "string"}, "parse_only": {"type": "boolean"}, "depth": {"type": "string", "enum": ["village", "county"]}}}},
                "text/csv": {"schema": {"type": "string", "description": "header with an address column (q, address, 地址, 详细地址 or 原始地址) and an optional id (id, 编号 or 序号); UTF-8 unless a charset (gb18030, gbk, big5) is given"}}}},
            "responses": {"200": {"description": "application/x-ndjson"}, "400": {"description": "malformed body (field named)"}, "413": {"description": "too many rows"}}}},
        "/v1/parse": {"get": {"summary": "Structured parse only: divisions with codes (province … village), functional zone (a development zone, new area or park that the code lists do not have), road, cross_road (a road named as crossing it), number, compound, building, floor, unit, room; an ambiguous text lists the divisions it may name under alternatives",
            "parameters": [q("q", "address text", true, "string"),
                           q("city", "division context: a name or code the text lies in (杭州, 330100)", false, "string"),
                           q("depth", "village (default: the divisions to the village and the elements) or county (province, city and county only, the rest of the text as detail, elements null: what cpca reads)", false, "string")],
            "responses": ok("parsed elements")}},
        "/v1/addresses/{code}": {"get": {"summary": "A standard address by its code (a retired one too, with its successor's code and text): text, elements, division, coordinates, status, aliases",
            "parameters": [{"name": "code", "in": "path", "required": true, "schema": {"type": "string"}}, crs_param()],
            "responses": {"200": {"description": "address"}, "400": {"description": "not an address code (18, 21 or 24 digits)"}, "404": {"description": "unknown code"}}}}
    })
}

/// Paths of the vector tiles and the map page.
fn tiles_paths() -> Value {
    let layers = json!({"name": "layers", "in": "path", "required": true,
        "description": "one layer or several joined by commas: divisions, boundary_lines, facilities, coverage, addresses",
        "schema": {"type": "string"}});
    let zxy =
        |n: &str| json!({"name": n, "in": "path", "required": true, "schema": {"type": "integer"}});
    json!({
        "/tiles/{layers}/{z}/{x}/{y}": {"get": {"summary": "Mapbox Vector Tile 2.1 (y may end in .pbf or .mvt); gzip when accepted, ETag/If-None-Match",
            "parameters": [layers, zxy("z"), zxy("x"), zxy("y"),
                {"name": "crs", "in": "query", "required": false, "description": "wgs84 (default) or cgcs2000: tiles are Web Mercator", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "tile", "content": {"application/vnd.mapbox-vector-tile": {}}},
                "204": {"description": "empty tile"}, "304": {"description": "not modified"},
                "400": {"description": "bad layer or z/x/y out of range", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}},
        "/tiles/{layers}.json": {"get": {"summary": "TileJSON 3.0 of a layer set",
            "parameters": [layers, crs_param()], "responses": ok("TileJSON")}},
        "/": {"get": {"summary": "养老地图: the map page (MapLibre GL JS, served offline)", "responses": {"200": {"description": "HTML"}}}}
    })
}

/// Every domain's fragment; a new domain adds its function here.
fn fragments() -> Vec<Value> {
    vec![
        core_paths(),
        super::inspection::openapi(),
        addresses_paths(),
        tiles_paths(),
        super::coverage::openapi(),
    ]
}

pub fn document() -> Value {
    let mut paths = Map::new();
    for f in fragments() {
        if let Value::Object(m) = f {
            paths.extend(m);
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "diming (地名) API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Place names, divisions, reverse geocoding, boundary inspection and eldercare coverage. Every coordinate names its system (crs)."},
        "paths": paths,
        "components": {"schemas": {"Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
            "status": {"type": "integer"}, "code": {"type": "string"}, "field": {"type": "string"}, "message": {"type": "string"}}}}}}}
    })
}

/// Does the path template (`/v1/divisions/{code}`, `/tiles/{layers}.json`) match `path`?
fn template_matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| match (t.find('{'), t.find('}')) {
                (Some(a), Some(b)) if a < b => {
                    let (pre, post) = (&t[..a], &t[b + 1..]);
                    p.len() > pre.len() + post.len() && p.starts_with(pre) && p.ends_with(post)
                }
                _ => t == p,
            })
}

/// The methods the API documents for `path` (upper case), if it documents the path at all.
pub fn methods_for(path: &str) -> Option<Vec<String>> {
    static DOC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    let paths = DOC.get_or_init(document)["paths"].as_object()?;
    let methods = |ops: &Value| -> Vec<String> {
        ops.as_object()
            .map(|o| o.keys().map(|m| m.to_uppercase()).collect())
            .unwrap_or_default()
    };
    // a literal path before the templates it also matches (/v1/facilities/import)
    paths.get(path).map(methods).or_else(|| {
        paths
            .iter()
            .find(|(t, _)| template_matches(t, path))
            .map(|(_, ops)| methods(ops))
    })
}

pub async fn handler() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_methods_by_path() {
        assert_eq!(methods_for("/v1/geocode"), Some(vec!["GET".to_string()]));
        assert_eq!(
            methods_for("/v1/geocode/batch"),
            Some(vec!["POST".to_string()])
        );
        assert_eq!(
            methods_for("/v1/divisions/330106"),
            Some(vec!["GET".to_string()])
        );
        assert_eq!(
            methods_for("/tiles/divisions.json"),
            Some(vec!["GET".to_string()])
        );
        assert_eq!(methods_for("/v1/divisions/330106/parents"), None);
        assert_eq!(
            methods_for("/v1/facilities/import"),
            Some(vec!["POST".to_string()])
        );
        assert_eq!(methods_for("/tiles/.json"), None);
        assert_eq!(methods_for("/v1/nothing"), None);
    }
}
