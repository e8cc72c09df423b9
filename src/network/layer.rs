//! The `roads` tile layer of the base map: the segments of the loaded walking network
//! ([`crate::tiles::FeatureSource`]), so the map needs no external tile service.

use super::Network;
use crate::tiles::mvt::Value;
use crate::tiles::{box_query, box_tree, BoxTree, FeatureSource, SourceFeature};
use geo::{Geometry, LineString, MultiLineString};

pub struct RoadLayer {
    /// undirected segments (u < v) in lon/lat
    segs: Vec<[(f64, f64); 2]>,
    tree: BoxTree,
    source: String,
}

impl RoadLayer {
    pub fn new(net: &Network) -> RoadLayer {
        let mut segs = Vec::new();
        for u in 0..net.node_count() {
            for k in net.offsets[u] as usize..net.offsets[u + 1] as usize {
                let v = net.targets[k] as usize;
                if u < v {
                    segs.push([(net.lon[u], net.lat[u]), (net.lon[v], net.lat[v])]);
                }
            }
        }
        let tree = box_tree(segs.iter().map(|s| {
            [
                s[0].0.min(s[1].0),
                s[0].1.min(s[1].1),
                s[0].0.max(s[1].0),
                s[0].1.max(s[1].1),
            ]
        }));
        let source = net.meta["source"].as_str().unwrap_or("network").to_string();
        RoadLayer { segs, tree, source }
    }

    pub fn len(&self) -> usize {
        self.segs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.segs.is_empty()
    }
}

impl FeatureSource for RoadLayer {
    fn features(&self, bbox: [f64; 4], _z: u8) -> Vec<SourceFeature> {
        let idx = box_query(&self.tree, bbox);
        if idx.is_empty() {
            return Vec::new();
        }
        // one multi-line per tile: a feature per segment would repeat the properties
        let lines: Vec<LineString<f64>> = idx
            .into_iter()
            .map(|i| {
                let s = self.segs[i as usize];
                LineString::from(vec![s[0], s[1]])
            })
            .collect();
        vec![SourceFeature {
            id: Some(1),
            geometry: Geometry::MultiLineString(MultiLineString(lines)),
            props: vec![
                ("kind".into(), Value::from("road")),
                ("source".into(), Value::from(self.source.as_str())),
            ],
        }]
    }
    fn version(&self) -> u64 {
        self.segs.len() as u64
    }
}
