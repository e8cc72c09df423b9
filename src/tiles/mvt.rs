//! A Mapbox Vector Tile 2.1 encoder (protobuf written by hand: the format is small).
//!
//! Geometry is given in tile coordinates (integers, y down, 0..extent plus buffer); the
//! encoder writes command integers and zigzag deltas. Polygon rings must already be oriented
//! (exterior positive area in tile coordinates, holes negative): see [`super::clip`].

use std::collections::HashMap;

/// A property value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Double(f64),
    Int(i64),
    Bool(bool),
}

impl From<usize> for Value {
    fn from(v: usize) -> Value {
        Value::Int(v as i64)
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::Str(s.clone())
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Double(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Value {
        Value::Int(v as i64)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}

/// Geometry in integer tile coordinates.
#[derive(Debug, Clone, PartialEq)]
pub enum TileGeom {
    Points(Vec<(i32, i32)>),
    /// one or more lines
    Lines(Vec<Vec<(i32, i32)>>),
    /// rings in order: each exterior followed by its holes (open rings: last != first)
    Polygons(Vec<Vec<(i32, i32)>>),
}

/// One layer under construction.
pub struct LayerBuilder {
    name: String,
    extent: u32,
    keys: Vec<String>,
    key_idx: HashMap<String, u32>,
    values: Vec<Value>,
    val_idx: HashMap<String, u32>,
    features: Vec<u8>,
    count: usize,
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}
fn key(out: &mut Vec<u8>, field: u32, wire: u32) {
    varint(out, ((field << 3) | wire) as u64);
}
fn bytes_field(out: &mut Vec<u8>, field: u32, b: &[u8]) {
    key(out, field, 2);
    varint(out, b.len() as u64);
    out.extend_from_slice(b);
}
fn zigzag(n: i32) -> u32 {
    ((n << 1) ^ (n >> 31)) as u32
}
fn command(id: u32, count: u32) -> u32 {
    (id & 7) | (count << 3)
}

/// Encodes geometry commands; returns None when nothing valid is left.
fn encode_geom(g: &TileGeom) -> Option<(u32, Vec<u32>)> {
    let mut cmds = Vec::new();
    let (mut cx, mut cy) = (0i32, 0i32);
    let mut push = |cmds: &mut Vec<u32>, (x, y): (i32, i32)| {
        cmds.push(zigzag(x - cx));
        cmds.push(zigzag(y - cy));
        cx = x;
        cy = y;
    };
    let ty = match g {
        TileGeom::Points(pts) => {
            if pts.is_empty() {
                return None;
            }
            cmds.push(command(1, pts.len() as u32));
            for &p in pts {
                push(&mut cmds, p);
            }
            1
        }
        TileGeom::Lines(lines) => {
            for l in lines.iter().filter(|l| l.len() >= 2) {
                cmds.push(command(1, 1));
                push(&mut cmds, l[0]);
                cmds.push(command(2, (l.len() - 1) as u32));
                for &p in &l[1..] {
                    push(&mut cmds, p);
                }
            }
            2
        }
        TileGeom::Polygons(rings) => {
            for r in rings.iter().filter(|r| r.len() >= 3) {
                cmds.push(command(1, 1));
                push(&mut cmds, r[0]);
                cmds.push(command(2, (r.len() - 1) as u32));
                for &p in &r[1..] {
                    push(&mut cmds, p);
                }
                cmds.push(command(7, 1));
            }
            3
        }
    };
    if cmds.is_empty() {
        None
    } else {
        Some((ty, cmds))
    }
}

impl LayerBuilder {
    pub fn new(name: &str, extent: u32) -> Self {
        LayerBuilder {
            name: name.to_string(),
            extent,
            keys: Vec::new(),
            key_idx: HashMap::new(),
            values: Vec::new(),
            val_idx: HashMap::new(),
            features: Vec::new(),
            count: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.count
    }
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn key_id(&mut self, k: &str) -> u32 {
        if let Some(&i) = self.key_idx.get(k) {
            return i;
        }
        let i = self.keys.len() as u32;
        self.keys.push(k.to_string());
        self.key_idx.insert(k.to_string(), i);
        i
    }
    fn value_id(&mut self, v: &Value) -> u32 {
        let tag = match v {
            Value::Str(s) => format!("s{s}"),
            Value::Double(d) => format!("d{}", d.to_bits()),
            Value::Int(i) => format!("i{i}"),
            Value::Bool(b) => format!("b{b}"),
        };
        if let Some(&i) = self.val_idx.get(&tag) {
            return i;
        }
        let i = self.values.len() as u32;
        self.values.push(v.clone());
        self.val_idx.insert(tag, i);
        i
    }

    /// Adds a feature; returns false (and adds nothing) when the geometry is empty.
    pub fn add(&mut self, id: Option<u64>, geom: &TileGeom, props: &[(&str, Value)]) -> bool {
        let Some((ty, cmds)) = encode_geom(geom) else {
            return false;
        };
        let mut tags = Vec::with_capacity(props.len() * 2);
        for (k, v) in props {
            tags.push(self.key_id(k));
            tags.push(self.value_id(v));
        }
        let mut f = Vec::with_capacity(cmds.len() * 2 + 16);
        if let Some(id) = id {
            key(&mut f, 1, 0);
            varint(&mut f, id);
        }
        if !tags.is_empty() {
            let mut p = Vec::new();
            for t in tags {
                varint(&mut p, t as u64);
            }
            bytes_field(&mut f, 2, &p);
        }
        key(&mut f, 3, 0);
        varint(&mut f, ty as u64);
        let mut p = Vec::with_capacity(cmds.len() * 2);
        for c in cmds {
            varint(&mut p, c as u64);
        }
        bytes_field(&mut f, 4, &p);
        bytes_field(&mut self.features, 2, &f);
        self.count += 1;
        true
    }

    /// The encoded `Layer` message.
    fn finish(&self) -> Vec<u8> {
        let mut l = Vec::with_capacity(self.features.len() + 256);
        key(&mut l, 15, 0);
        varint(&mut l, 2);
        bytes_field(&mut l, 1, self.name.as_bytes());
        l.extend_from_slice(&self.features);
        for k in &self.keys {
            bytes_field(&mut l, 3, k.as_bytes());
        }
        for v in &self.values {
            let mut m = Vec::new();
            match v {
                Value::Str(s) => bytes_field(&mut m, 1, s.as_bytes()),
                Value::Double(d) => {
                    key(&mut m, 3, 1);
                    m.extend_from_slice(&d.to_le_bytes());
                }
                Value::Int(i) => {
                    // sint64 (zigzag)
                    key(&mut m, 6, 0);
                    varint(&mut m, ((i << 1) ^ (i >> 63)) as u64);
                }
                Value::Bool(b) => {
                    key(&mut m, 7, 0);
                    varint(&mut m, *b as u64);
                }
            }
            bytes_field(&mut l, 4, &m);
        }
        key(&mut l, 5, 0);
        varint(&mut l, self.extent as u64);
        l
    }
}

/// Encodes the non-empty layers as a tile; None when every layer is empty.
pub fn encode_tile(layers: &[LayerBuilder]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for l in layers.iter().filter(|l| !l.is_empty()) {
        bytes_field(&mut out, 3, &l.finish());
    }
    if out.is_empty() {
        None
    } else {
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn spec_example_point_and_commands() {
        // spec 2.1 §4.3.5: a point at (25, 17) is [9, 50, 34]
        let (ty, c) = encode_geom(&TileGeom::Points(vec![(25, 17)])).unwrap();
        assert_eq!((ty, c), (1, vec![9, 50, 34]));
        // spec linestring example: (2,2) (2,10) (10,10) → [9,4,4,18,0,16,16,0]
        let (ty, c) = encode_geom(&TileGeom::Lines(vec![vec![(2, 2), (2, 10), (10, 10)]])).unwrap();
        assert_eq!((ty, c), (2, vec![9, 4, 4, 18, 0, 16, 16, 0]));
        // spec polygon example: (3,6) (8,12) (20,34) → [9,6,12,18,10,12,24,44,15]
        let (ty, c) =
            encode_geom(&TileGeom::Polygons(vec![vec![(3, 6), (8, 12), (20, 34)]])).unwrap();
        assert_eq!((ty, c), (3, vec![9, 6, 12, 18, 10, 12, 24, 44, 15]));
        assert!(encode_tile(&[LayerBuilder::new("x", 4096)]).is_none());
    }
}
