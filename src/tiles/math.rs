//! Tile math: XYZ tiles in Web Mercator (EPSG:3857), as used by MVT and MapLibre.

use std::f64::consts::PI;

/// Highest zoom served.
pub const MAX_ZOOM: u8 = 22;
/// Tile extent in MVT units (spec 2.1 default).
pub const EXTENT: u32 = 4096;
/// Clipping buffer around the tile, in MVT units.
pub const BUFFER: f64 = 64.0;
/// Web Mercator latitude limit.
pub const MAX_LAT: f64 = 85.051_128_779_806_59;

/// A tile address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileId {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

impl TileId {
    /// Validates z/x/y; the error names the field at fault.
    pub fn new(z: u32, x: u32, y: u32) -> Result<TileId, (&'static str, String)> {
        if z > MAX_ZOOM as u32 {
            return Err(("z", format!("zoom {z} is outside 0..{MAX_ZOOM}")));
        }
        let n = 1u64 << z;
        if x as u64 >= n {
            return Err(("x", format!("x {x} is outside 0..{} at zoom {z}", n - 1)));
        }
        if y as u64 >= n {
            return Err(("y", format!("y {y} is outside 0..{} at zoom {z}", n - 1)));
        }
        Ok(TileId { z: z as u8, x, y })
    }

    /// Tile bounds in lon/lat: (west, south, east, north).
    pub fn bounds(&self) -> [f64; 4] {
        let n = (1u64 << self.z) as f64;
        let lon = |x: f64| x / n * 360.0 - 180.0;
        let lat = |y: f64| (PI * (1.0 - 2.0 * y / n)).sinh().atan().to_degrees();
        [
            lon(self.x as f64),
            lat(self.y as f64 + 1.0),
            lon(self.x as f64 + 1.0),
            lat(self.y as f64),
        ]
    }

    /// Bounds grown by the clipping buffer (lon/lat), for selecting candidate features.
    pub fn buffered_bounds(&self) -> [f64; 4] {
        let [w, s, e, n] = self.bounds();
        let f = BUFFER / EXTENT as f64;
        let dx = (e - w) * f;
        let dy = (n - s) * f;
        [
            w - dx,
            (s - dy).max(-MAX_LAT),
            e + dx,
            (n + dy).min(MAX_LAT),
        ]
    }

    /// Projects lon/lat to tile coordinates (0..EXTENT, y down), unrounded.
    pub fn project(&self, lon: f64, lat: f64) -> (f64, f64) {
        let (mx, my) = mercator_unit(lon, lat);
        let n = (1u64 << self.z) as f64;
        let e = EXTENT as f64;
        ((mx * n - self.x as f64) * e, (my * n - self.y as f64) * e)
    }

    /// Tiles at zoom `z` covering a lon/lat box.
    pub fn covering(z: u8, bbox: [f64; 4]) -> Vec<TileId> {
        let n = 1u64 << z;
        let (x0, y1) = mercator_unit(bbox[0], bbox[1]);
        let (x1, y0) = mercator_unit(bbox[2], bbox[3]);
        let c = |v: f64| ((v * n as f64).floor().max(0.0) as u64).min(n - 1) as u32;
        let mut out = Vec::new();
        for x in c(x0)..=c(x1) {
            for y in c(y0)..=c(y1) {
                out.push(TileId { z, x, y });
            }
        }
        out
    }
}

/// lon/lat → Web Mercator in unit square (0..1, y down).
pub fn mercator_unit(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-MAX_LAT, MAX_LAT);
    let x = (lon + 180.0) / 360.0;
    let s = lat.to_radians().sin();
    let y = 0.5 - ((1.0 + s) / (1.0 - s)).ln() / (4.0 * PI);
    (x, y)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn tile_of_shanghai_and_validation() {
        // 人民广场 (121.475, 31.232) is in tile 14/13720/6694 (standard slippy-map formula)
        let t = TileId::covering(14, [121.475, 31.232, 121.475, 31.232]);
        assert_eq!(
            t,
            vec![TileId {
                z: 14,
                x: 13720,
                y: 6694
            }]
        );
        let (px, py) = t[0].project(121.475, 31.232);
        assert!((0.0..4096.0).contains(&px) && (0.0..4096.0).contains(&py));
        let b = t[0].bounds();
        assert!(b[0] < 121.475 && b[2] > 121.475 && b[1] < 31.232 && b[3] > 31.232);
        assert_eq!(TileId::new(23, 0, 0).unwrap_err().0, "z");
        assert_eq!(TileId::new(2, 4, 0).unwrap_err().0, "x");
        assert_eq!(TileId::new(2, 0, 4).unwrap_err().0, "y");
    }
}
