//! Report files: `report.json`, `faults.geojson` (faults and changed segments),
//! `lines.geojson`, `report.csv` and a self-contained `report.html` (inline CSS and SVG).
//! Coordinates are written in the report's `crs`.

use super::{Fault, Report};
use crate::crs::Crs;
use anyhow::{Context, Result};
use geo::{BoundingRect, Geometry, MapCoords};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::Path;

fn to_crs(g: &Geometry<f64>, crs: Crs) -> Geometry<f64> {
    if matches!(crs, Crs::Wgs84 | Crs::Cgcs2000) {
        return g.clone();
    }
    g.map_coords(|c| {
        let (x, y) = crs.from_wgs84(c.x, c.y);
        geo::Coord { x, y }
    })
}

fn gj(g: &Geometry<f64>, crs: Crs) -> Value {
    serde_json::to_value(geojson::Geometry::from(&to_crs(g, crs))).unwrap_or(Value::Null)
}

fn pt(loc: [f64; 2], crs: Crs) -> [f64; 2] {
    let (x, y) = crs.from_wgs84(loc[0], loc[1]);
    [(x * 1e7).round() / 1e7, (y * 1e7).round() / 1e7]
}

/// The JSON report (faults without geometry; see faults.geojson).
pub fn report_json(r: &Report) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
    // fault and marker locations in the report's crs
    if let Some(fs) = v.get_mut("faults").and_then(|f| f.as_array_mut()) {
        for (f, src) in fs.iter_mut().zip(&r.faults) {
            f["location"] = json!(pt(src.location, r.crs));
        }
    }
    if let Some(ms) = v.get_mut("markers").and_then(|f| f.as_array_mut()) {
        for m in ms.iter_mut() {
            if let (Some(x), Some(y)) = (m["lon"].as_f64(), m["lat"].as_f64()) {
                let [x, y] = pt([x, y], r.crs);
                m["lon"] = json!(x);
                m["lat"] = json!(y);
            }
        }
    }
    v
}

fn fault_feature(f: &Fault, crs: Crs) -> Value {
    let mut props = serde_json::to_value(f).unwrap_or(json!({}));
    props["location"] = json!(pt(f.location, crs));
    props["feature"] = json!("fault");
    json!({"type": "Feature", "properties": props, "geometry": gj(&f.geometry, crs)})
}

/// GeoJSON FeatureCollection of every fault and every changed segment.
pub fn faults_geojson(r: &Report) -> Value {
    let mut feats: Vec<Value> = r.faults.iter().map(|f| fault_feature(f, r.crs)).collect();
    for s in r.changed_segments.iter().flatten() {
        feats.push(json!({"type": "Feature",
            "properties": {"feature": "changed_segment", "line_id": s.line_id, "round": s.round, "length_m": s.length_m},
            "geometry": gj(&Geometry::LineString(s.geometry.clone()), r.crs)}));
    }
    json!({"type": "FeatureCollection", "crs_name": r.crs, "features": feats})
}

/// GeoJSON FeatureCollection of every line (MultiLineString).
pub fn lines_geojson(r: &Report) -> Value {
    let feats: Vec<Value> = r
        .lines
        .iter()
        .map(|l| {
            json!({"type": "Feature", "properties": serde_json::to_value(l).unwrap_or(json!({})),
               "geometry": gj(&Geometry::MultiLineString(l.geometry.clone()), r.crs)})
        })
        .collect();
    json!({"type": "FeatureCollection", "crs_name": r.crs, "features": feats})
}

/// One row per line.
pub fn report_csv(r: &Report) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "line_id",
        "a",
        "a_name",
        "b",
        "b_name",
        "length_m",
        "parts",
        "faults",
        "gap_m2",
        "overlap_m2",
        "markers",
        "change",
        "hausdorff_m",
        "gained_by_a_m2",
        "gained_by_b_m2",
    ])?;
    for l in &r.lines {
        let (mut gap, mut ov) = (0.0, 0.0);
        for f in r.faults.iter().filter(|f| f.line_id == l.id) {
            if f.kind.ends_with("gap") {
                gap += f.area_m2.unwrap_or(0.0);
            } else if f.kind.ends_with("overlap") {
                ov += f.area_m2.unwrap_or(0.0);
            }
        }
        let c = l.change.as_ref();
        w.write_record([
            l.id.clone(),
            l.a.clone(),
            l.a_name.clone(),
            l.b.clone().unwrap_or_else(|| "outer".into()),
            l.b_name.clone().unwrap_or_default(),
            format!("{:.2}", l.length_m),
            l.parts.to_string(),
            l.faults.to_string(),
            format!("{gap:.2}"),
            format!("{ov:.2}"),
            l.markers.map(|m| m.to_string()).unwrap_or_default(),
            c.map(|c| c.status.clone()).unwrap_or_default(),
            c.and_then(|c| c.hausdorff_m)
                .map(|h| format!("{h:.3}"))
                .unwrap_or_default(),
            c.map(|c| format!("{:.2}", c.gained_by_a_m2))
                .unwrap_or_default(),
            c.map(|c| format!("{:.2}", c.gained_by_b_m2))
                .unwrap_or_default(),
        ])?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An SVG of one line with its faults and changed segments.
fn svg_for(r: &Report, line_idx: usize) -> String {
    let l = &r.lines[line_idx];
    let faults: Vec<&Fault> = r.faults.iter().filter(|f| f.line_id == l.id).collect();
    let mut bb = l.geometry.bounding_rect();
    for f in &faults {
        if let Some(b) = f.geometry.bounding_rect() {
            bb = Some(match bb {
                Some(x) => super::topology::union_rect(&x, &b),
                None => b,
            });
        }
    }
    let Some(bb) = bb else { return String::new() };
    let (w, h) = (360.0, 240.0);
    let kx = (bb.center().y.to_radians()).cos();
    let sx = (bb.width() * kx).max(1e-9);
    let sy = bb.height().max(1e-9);
    let s = ((w - 20.0) / sx).min((h - 20.0) / sy);
    let tx = |x: f64, y: f64| {
        (
            10.0 + (x - bb.min().x) * kx * s,
            h - 10.0 - (y - bb.min().y) * s,
        )
    };
    let path = |ls: &geo::LineString<f64>| {
        let mut d = String::new();
        for (i, c) in ls.0.iter().enumerate() {
            let (x, y) = tx(c.x, c.y);
            let _ = write!(d, "{}{:.1},{:.1}", if i == 0 { "M" } else { "L" }, x, y);
        }
        d
    };
    let mut out = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' viewBox='0 0 {w} {h}'><rect width='100%' height='100%' fill='#f8f8f4'/>"
    );
    for ls in &l.geometry.0 {
        let _ = write!(
            out,
            "<path d='{}' fill='none' stroke='#333' stroke-width='1.5'/>",
            path(ls)
        );
    }
    for f in &faults {
        let color = if f.kind.contains("gap") {
            "#d33"
        } else if f.kind.contains("overlap") {
            "#33d"
        } else {
            "#d90"
        };
        match &f.geometry {
            Geometry::Polygon(p) => {
                let _ = write!(
                    out,
                    "<path d='{}Z' fill='{color}' fill-opacity='0.5' stroke='{color}'/>",
                    path(p.exterior())
                );
            }
            g => {
                if let Some(c) = g.bounding_rect().map(|b| b.center()) {
                    let (x, y) = tx(c.x, c.y);
                    let _ = write!(
                        out,
                        "<circle cx='{x:.1}' cy='{y:.1}' r='4' fill='{color}'/>"
                    );
                }
            }
        }
    }
    for s in r
        .changed_segments
        .iter()
        .flatten()
        .filter(|s| s.line_id == l.id)
    {
        let color = if s.round == "new" { "#0a0" } else { "#a0a" };
        let _ = write!(
            out,
            "<path d='{}' fill='none' stroke='{color}' stroke-width='2.5' stroke-dasharray='4 2'/>",
            path(&s.geometry)
        );
    }
    out.push_str("</svg>");
    out
}

/// A self-contained HTML report (no external resources).
pub fn report_html(r: &Report) -> String {
    let s = &r.summary;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang='zh'><head><meta charset='utf-8'><title>{}</title><style>\
body{{font-family:sans-serif;margin:1.5em;color:#222}}table{{border-collapse:collapse;margin:1em 0}}\
td,th{{border:1px solid #bbb;padding:3px 6px;font-size:13px}}th{{background:#eee}}.bad{{background:#fdd}}\
.card{{display:inline-block;vertical-align:top;margin:6px;border:1px solid #ccc;padding:6px}}</style></head><body>",
        esc(&r.title)
    );
    let _ = write!(
        h,
        "<h1>{}</h1><p>输入 Input: {} &nbsp; 坐标系 CRS: {} &nbsp; 编码字段 code field: {} &nbsp; 生成 generated: {}</p>",
        esc(&r.title),
        esc(&r.input),
        r.crs,
        esc(&r.code_field),
        esc(&r.generated_at)
    );
    if let Some(p) = &r.previous {
        let _ = write!(h, "<p>上一轮 Previous round: {}</p>", esc(p));
    }
    let _ = write!(h, "<h2>概要 Summary</h2><table>");
    for (k, v) in [
        ("行政区 Divisions", s.divisions.to_string()),
        (
            "相邻对 Neighbour pairs (shared lines)",
            s.neighbour_pairs.to_string(),
        ),
        ("外边界 Outer lines", s.outer_lines.to_string()),
        (
            "共有界线长度 Shared length (km)",
            format!("{:.1}", s.shared_length_km),
        ),
        ("问题 Faults", s.faults.to_string()),
        ("缝隙面积 Gap area (m²)", format!("{:.1}", s.gap_area_m2)),
        (
            "重叠面积 Overlap area (m²)",
            format!("{:.1}", s.overlap_area_m2),
        ),
        ("有问题界线 Faulty lines", s.faulty_lines.to_string()),
    ] {
        let _ = write!(h, "<tr><th>{k}</th><td>{v}</td></tr>");
    }
    for (k, v) in [
        ("界桩 Markers", s.markers),
        (
            "超限界桩 Markers out of tolerance",
            s.markers_out_of_tolerance,
        ),
        (
            "错线界桩 Markers on the wrong line",
            s.markers_on_wrong_line,
        ),
        ("无界桩界线 Lines without marker", s.lines_without_marker),
        ("变动界线 Changed lines", s.changed_lines),
    ] {
        if let Some(v) = v {
            let _ = write!(h, "<tr><th>{k}</th><td>{v}</td></tr>");
        }
    }
    let _ = write!(h, "</table><h3>容差 Tolerances</h3><table>");
    for (k, v) in [
        ("min_area_m2 最小面积", r.params.min_area_m2),
        ("sliver_width_m 碎片宽度", r.params.sliver_width_m),
        ("search_m 搜索距离", r.params.search_m),
        ("marker_tolerance_m 界桩容差", r.params.marker_tolerance_m),
        ("change_tolerance_m 变动容差", r.params.change_tolerance_m),
    ] {
        let _ = write!(h, "<tr><th>{k}</th><td>{v}</td></tr>");
    }
    let _ = write!(h, "</table>");
    if !r.faults.is_empty() {
        let _ = write!(h, "<h2>问题清单 Faults</h2><table><tr><th>#</th><th>类型 kind</th><th>界线 line</th><th>面积 area m²</th><th>宽度 width m</th><th>位置 location</th><th>说明 message</th></tr>");
        for (i, f) in r.faults.iter().enumerate().take(2000) {
            let loc = pt(f.location, r.crs);
            let _ = write!(
                h,
                "<tr class='bad'><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.6}, {:.6}</td><td>{}</td></tr>",
                i + 1,
                esc(&f.kind),
                esc(&f.line_id),
                f.area_m2.map(|a| format!("{a:.1}")).unwrap_or_default(),
                f.width_m.map(|a| format!("{a:.2}")).unwrap_or_default(),
                loc[0],
                loc[1],
                esc(&f.message)
            );
        }
        let _ = write!(h, "</table>");
    }
    if let Some(ms) = &r.markers {
        let _ = write!(h, "<h2>界桩 Markers</h2><table><tr><th>编号 number</th><th>类型 type</th><th>界线 line</th><th>距离 distance m</th><th>最近界线 nearest</th><th>状态 status</th></tr>");
        for m in ms {
            let _ = write!(
                h,
                "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                if m.status == "ok" { "" } else { " class='bad'" },
                esc(&m.number),
                esc(&m.kind),
                esc(&m.line_id),
                m.distance_m.map(|d| format!("{d:.2}")).unwrap_or_default(),
                esc(m.nearest_line.as_deref().unwrap_or("")),
                esc(&m.status)
            );
        }
        let _ = write!(h, "</table>");
        if let Some(w) = &r.lines_without_marker {
            let _ = write!(
                h,
                "<p>无界桩界线 Lines without marker ({}): {}</p>",
                w.len(),
                esc(&w.join(", "))
            );
        }
    }
    let _ = write!(h, "<h2>界线 Lines</h2><table><tr><th>界线 line</th><th>甲方 side A</th><th>乙方 side B</th><th>长度 length km</th><th>问题 faults</th><th>界桩 markers</th><th>变动 change</th><th>Hausdorff m</th></tr>");
    for l in &r.lines {
        let c = l.change.as_ref();
        let bad = l.faults > 0 || c.is_some_and(|c| c.changed);
        let _ = write!(
            h,
            "<tr{}><td>{}</td><td>{} {}</td><td>{} {}</td><td>{:.3}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if bad { " class='bad'" } else { "" },
            esc(&l.id),
            esc(&l.a),
            esc(&l.a_name),
            esc(l.b.as_deref().unwrap_or("外边界 outer")),
            esc(l.b_name.as_deref().unwrap_or("")),
            l.length_m / 1000.0,
            l.faults,
            l.markers.map(|m| m.to_string()).unwrap_or_default(),
            c.map(|c| c.status.as_str()).unwrap_or(""),
            c.and_then(|c| c.hausdorff_m).map(|x| format!("{x:.2}")).unwrap_or_default()
        );
    }
    let _ = write!(h, "</table><h2>问题界线图 Maps of faulty and changed lines</h2><p>黑 line, 红 gap, 蓝 overlap, 橙 validity, 绿虚线 new segment, 紫虚线 old segment</p>");
    let mut n = 0;
    for (i, l) in r.lines.iter().enumerate() {
        if l.faults > 0 || l.change.as_ref().is_some_and(|c| c.changed) {
            n += 1;
            if n > 300 {
                let _ = write!(h, "<p>… more maps omitted (see faults.geojson)</p>");
                break;
            }
            let _ = write!(
                h,
                "<div class='card'><b>{}</b><br>{}</div>",
                esc(&l.id),
                svg_for(r, i)
            );
        }
    }
    h.push_str("</body></html>");
    h
}

/// Writes report.json, faults.geojson, lines.geojson, report.csv and report.html into `dir`.
pub fn write_all(r: &Report, dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut out = Vec::new();
    for (name, body) in [
        (
            "report.json",
            serde_json::to_string_pretty(&report_json(r))?,
        ),
        ("faults.geojson", serde_json::to_string(&faults_geojson(r))?),
        ("lines.geojson", serde_json::to_string(&lines_geojson(r))?),
        ("report.csv", report_csv(r)?),
        ("report.html", report_html(r)),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, body).with_context(|| format!("cannot write {}", p.display()))?;
        out.push(p);
    }
    Ok(out)
}
