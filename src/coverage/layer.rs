//! The `coverage` tile layer ([`crate::tiles::FeatureSource`]): the service areas of the open
//! facilities and the covered share per community, rebuilt whenever the facility registry
//! changes (its version is the registry's version).
//!
//! The embedded data has no community (村/社区) or street polygons, so the choropleth is drawn on
//! a grid: every cell of [`CELL_M`] metres that holds demand points is one square feature
//! (`kind=division_share`) carrying the covered share of the division most of its points belong
//! to (`covered_share`; the points' own division: community, or street where the address only
//! names the street), plus the cell's own counts. Service areas are `kind=service_area`.

use super::{service_area, DemandSet, Method, Query};
use crate::crs::LocalMetric;
use crate::network::Network;
use crate::tiles::mvt::Value;
use crate::tiles::{FeatureSource, IndexedFeatures, SourceFeature};
use geo::{Coord, Geometry, LineString, Polygon};
use std::collections::HashMap;

/// Side of a choropleth cell (metres).
pub const CELL_M: f64 = 100.0;

pub struct CoverageLayer {
    features: IndexedFeatures,
    pub method: Method,
}

impl CoverageLayer {
    /// `names` maps a division code to its name (for the feature properties).
    pub fn build(
        net: Option<&Network>,
        demand: &DemandSet,
        facilities: &[(f64, f64)],
        q: &Query,
        version: u64,
        names: &dyn Fn(&str) -> Option<String>,
    ) -> CoverageLayer {
        let limit = q.limit_m();
        let mut features = Vec::new();
        let area = service_area(net, facilities, limit);
        let method = area.method;
        let area_dist = area.node_dist;
        for p in area.polygon.0 {
            features.push(SourceFeature {
                id: None,
                geometry: Geometry::Polygon(p),
                props: vec![
                    ("kind".into(), Value::from("service_area")),
                    ("minutes".into(), Value::from(q.minutes)),
                    ("speed_kmh".into(), Value::from(q.speed_kmh)),
                    ("method".into(), Value::from(method.as_str())),
                ],
            });
        }
        if !demand.is_empty() {
            // the service area's node distances serve the demand points too (one Dijkstra)
            let dist = match (&area_dist, demand.snaps.as_deref()) {
                (Some(nd), Some(snaps)) => super::distances_from_nodes(nd, snaps, limit),
                _ => super::demand_distances(net, demand, facilities, limit).0,
            };
            // per community (the demand point's own division)
            let nd = demand.divisions.len();
            let (mut tot, mut cov) = (vec![0usize; nd], vec![0usize; nd]);
            for (i, d) in dist.iter().enumerate() {
                let k = demand.div[i] as usize;
                tot[k] += 1;
                cov[k] += d.is_finite() as usize;
            }
            // cells: (ix, iy) → per-division counts
            let m = LocalMetric::new(demand.lon[0], demand.lat[0]);
            let mut cells: HashMap<(i64, i64), HashMap<u32, (usize, usize)>> = HashMap::new();
            for (i, d) in dist.iter().enumerate() {
                let (x, y) = m.fwd(demand.lon[i], demand.lat[i]);
                let key = ((x / CELL_M).floor() as i64, (y / CELL_M).floor() as i64);
                let e = cells
                    .entry(key)
                    .or_default()
                    .entry(demand.div[i])
                    .or_default();
                e.0 += 1;
                e.1 += d.is_finite() as usize;
            }
            let mut keys: Vec<_> = cells.keys().copied().collect();
            keys.sort_unstable();
            for (ix, iy) in keys {
                let per = &cells[&(ix, iy)];
                let (&div, _) = per
                    .iter()
                    .max_by_key(|(d, c)| (c.0, std::cmp::Reverse(**d)))
                    .expect("a cell has points");
                let (n, c) = per.values().fold((0, 0), |a, v| (a.0 + v.0, a.1 + v.1));
                let (x0, y0) = (ix as f64 * CELL_M, iy as f64 * CELL_M);
                let ring: Vec<Coord<f64>> =
                    [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]
                        .iter()
                        .map(|&(a, b)| {
                            let (lon, lat) = m.inv(x0 + a * CELL_M, y0 + b * CELL_M);
                            Coord { x: lon, y: lat }
                        })
                        .collect();
                let code = &demand.divisions[div as usize];
                let k = div as usize;
                features.push(SourceFeature {
                    id: None,
                    geometry: Geometry::Polygon(Polygon::new(LineString(ring), vec![])),
                    props: vec![
                        ("kind".into(), Value::from("division_share")),
                        ("division".into(), Value::from(code)),
                        (
                            "level".into(),
                            Value::from(if code.len() >= 12 {
                                "village"
                            } else {
                                "township"
                            }),
                        ),
                        ("name".into(), Value::from(names(code).unwrap_or_default())),
                        (
                            "covered_share".into(),
                            Value::from(
                                (cov[k] as f64 / tot[k].max(1) as f64 * 1000.0).round() / 1000.0,
                            ),
                        ),
                        ("division_addresses".into(), Value::from(tot[k])),
                        ("division_covered".into(), Value::from(cov[k])),
                        ("cell_addresses".into(), Value::from(n)),
                        ("cell_covered".into(), Value::from(c)),
                        ("method".into(), Value::from(method.as_str())),
                        ("synthetic".into(), Value::from(demand.synthetic)),
                    ],
                });
            }
        }
        CoverageLayer {
            features: IndexedFeatures::new(features, version),
            method,
        }
    }

    pub fn len(&self) -> usize {
        self.features.len()
    }

    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }
}

impl FeatureSource for CoverageLayer {
    fn features(&self, bbox: [f64; 4], z: u8) -> Vec<SourceFeature> {
        self.features.features(bbox, z)
    }
    fn version(&self) -> u64 {
        self.features.version()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_carry_their_division_share() {
        // community A: 3 points next to the facility; community B: 1 point 5 km away
        let mut d = DemandSet::default();
        for k in 0..3 {
            d.push(
                format!("a{k}"),
                121.48 + k as f64 * 1e-5,
                31.23,
                1.0,
                "310101002001",
            );
        }
        d.push("b".into(), 121.53, 31.23, 1.0, "310101002002");
        let q = Query {
            minutes: 15.0,
            speed_kmh: 3.6,
        };
        let l = CoverageLayer::build(None, &d, &[(121.48, 31.23)], &q, 3, &|c| {
            Some(format!("社区{c}"))
        });
        assert_eq!(l.version(), 3);
        assert_eq!(l.method, Method::StraightLine);
        let all = l.features([121.0, 31.0, 122.0, 32.0], 14);
        let share = |code: &str| {
            all.iter()
                .find(|f| {
                    f.props
                        .iter()
                        .any(|(k, v)| k == "division" && *v == Value::from(code))
                })
                .and_then(|f| {
                    f.props
                        .iter()
                        .find(|(k, _)| k == "covered_share")
                        .and_then(|(_, v)| match v {
                            Value::Double(x) => Some(*x),
                            _ => None,
                        })
                })
        };
        assert_eq!(share("310101002001"), Some(1.0));
        assert_eq!(share("310101002002"), Some(0.0));
        // one service-area polygon (a circle of 900 m / 1.3 around the facility)
        let areas = all
            .iter()
            .filter(|f| {
                f.props
                    .iter()
                    .any(|(k, v)| k == "kind" && *v == Value::from("service_area"))
            })
            .count();
        assert_eq!(areas, 1);
    }
}
