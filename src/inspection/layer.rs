//! The inspection view of the map: the lines and faults of an inspection as the
//! `boundary_lines` tile layer ([`crate::tiles::FeatureSource`]).
//!
//! At start the service inspects the division polygons it serves (the deepest level with
//! polygons) so the layer shows real shared lines (`source=served_divisions`). When an
//! inspection run through `POST /v1/inspections` finishes, its lines and faults replace them
//! (`source=inspection`, with `report_url` pointing at that run's HTML report).

use super::{Division, Report};
use crate::divisions::{Divisions, Level};
use crate::tiles::mvt::Value;
use crate::tiles::{IndexedFeatures, SourceFeature};
use geo::Geometry;

/// The polygons of one level of the served divisions, as inspection input (code = the
/// division's display code).
pub fn served_divisions(d: &Divisions, level: Level) -> Vec<Division> {
    let Some(layer) = d.layers.iter().find(|l| l.level == level) else {
        return Vec::new();
    };
    let mut seen = std::collections::HashSet::new();
    layer
        .div_of_poly
        .iter()
        .filter(|&&div| seen.insert(div))
        .filter_map(|&div| {
            let poly = d.geoms.get(&div)?.clone();
            let r = d.div_ref(div);
            Some(Division {
                code: r.code,
                name: r.name,
                poly,
            })
        })
        .collect()
}

/// Lines and faults of one inspection as a tile source (box-indexed). `source` names where
/// the lines come from; `report_url` links every feature to the report (None for the start-up
/// inspection of the served polygons).
pub fn inspection_layer(
    report: &Report,
    source: &str,
    report_url: Option<&str>,
    version: u64,
) -> IndexedFeatures {
    let mut features = Vec::with_capacity(report.lines.len() + report.faults.len());
    let link = |v: &mut Vec<(String, Value)>| {
        if let Some(u) = report_url {
            v.push(("report_url".into(), Value::from(u)));
        }
    };
    for l in &report.lines {
        let mut props = vec![
            ("kind".to_string(), Value::from("line")),
            ("source".to_string(), Value::from(source)),
            ("id".to_string(), Value::from(&l.id)),
            ("a".to_string(), Value::from(&l.a)),
            ("a_name".to_string(), Value::from(&l.a_name)),
            ("outer".to_string(), Value::from(l.is_outer())),
            ("length_m".to_string(), Value::from(l.length_m.round())),
            ("fault_count".to_string(), Value::from(l.faults)),
        ];
        if let (Some(b), Some(bn)) = (&l.b, &l.b_name) {
            props.push(("b".into(), Value::from(b)));
            props.push(("b_name".into(), Value::from(bn)));
        }
        if let Some(m) = l.markers {
            props.push(("markers".into(), Value::from(m)));
        }
        if let Some(c) = &l.change {
            props.push(("changed".into(), Value::from(c.changed)));
        }
        link(&mut props);
        features.push(SourceFeature {
            id: None,
            geometry: Geometry::MultiLineString(l.geometry.clone()),
            props,
        });
    }
    for f in &report.faults {
        let mut props = vec![
            ("kind".to_string(), Value::from("fault")),
            ("source".to_string(), Value::from(source)),
            ("fault".to_string(), Value::from(&f.kind)),
            ("id".to_string(), Value::from(&f.line_id)),
            ("divisions".to_string(), Value::from(f.divisions.join(","))),
            ("message".to_string(), Value::from(&f.message)),
            ("fault_count".to_string(), Value::Int(1)),
        ];
        if let Some(a) = f.area_m2 {
            props.push(("area_m2".into(), Value::from(a)));
        }
        link(&mut props);
        features.push(SourceFeature {
            id: None,
            geometry: f.geometry.clone(),
            props,
        });
    }
    IndexedFeatures::new(features, version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn div(code: &str, x0: f64) -> Division {
        Division {
            code: code.into(),
            name: format!("区{code}"),
            poly: geo::MultiPolygon(vec![polygon![
                (x: x0, y: 30.0), (x: x0 + 0.1, y: 30.0), (x: x0 + 0.1, y: 30.1),
                (x: x0, y: 30.1), (x: x0, y: 30.0)
            ]]),
        }
    }

    #[test]
    fn shared_line_is_a_feature_with_its_id() {
        let input = super::super::Input {
            name: "t".into(),
            divisions: vec![div("330101", 120.0), div("330102", 120.1)],
            previous: None,
            markers: None,
            crs: crate::crs::Crs::Wgs84,
            code_field: "adcode".into(),
            params: Default::default(),
        };
        let rep = super::super::inspect(&input, &|_, _| {}).unwrap();
        use crate::tiles::FeatureSource;
        let layer = inspection_layer(&rep, "inspection", Some("/r.html"), 7);
        assert_eq!(layer.version(), 7);
        // a box around the shared edge x = 120.1 only
        let f = layer.features([120.099, 30.04, 120.101, 30.06], 12);
        let shared: Vec<_> = f
            .iter()
            .filter(|f| {
                f.props
                    .iter()
                    .any(|(k, v)| k == "id" && *v == Value::from("330101-330102"))
            })
            .collect();
        assert_eq!(shared.len(), 1);
        let p = &shared[0].props;
        assert!(p
            .iter()
            .any(|(k, v)| k == "report_url" && *v == Value::from("/r.html")));
        assert!(p
            .iter()
            .any(|(k, v)| k == "b_name" && *v == Value::from("区330102")));
        // far away: nothing
        assert!(layer.features([100.0, 10.0, 100.1, 10.1], 12).is_empty());
    }
}
