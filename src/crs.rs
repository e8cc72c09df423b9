//! Coordinate reference systems used in China and the conversions between them.
//!
//! Stored data is CGCS2000 (EPSG:4490), which agrees with WGS84 (EPSG:4326) to a few
//! centimetres; diming treats the two as the same datum for lon/lat work and says so in the
//! API (`crs` is echoed in every answer). GCJ-02 (the obfuscated datum of AMap/Tencent web maps)
//! and BD-09 (Baidu) are converted with the standard published forward formulas; their inverses
//! are iterated until the round trip is below 1e-9 degrees (about 0.1 mm).
//! Projected systems go through the system PROJ library (`proj` crate).
//! Areas and lengths are computed on the WGS84 ellipsoid (Karney's geodesic algorithms in `geo`).

use geo::{Coord, Distance, Geodesic, GeodesicArea, LineString, MultiPolygon, Orient, Point};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Coordinate systems accepted by `crs=` parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Crs {
    #[default]
    Wgs84,
    Cgcs2000,
    Gcj02,
    Bd09,
}

impl Crs {
    pub const ALL: [Crs; 4] = [Crs::Wgs84, Crs::Cgcs2000, Crs::Gcj02, Crs::Bd09];

    /// Parses a `crs=` value: `wgs84`, `cgcs2000`, `gcj02`, `bd09` (case-insensitive), also
    /// `epsg:4326` and `epsg:4490`.
    pub fn parse(s: &str) -> Result<Crs, String> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', '_'], "")
            .as_str()
        {
            "wgs84" | "epsg:4326" | "4326" => Ok(Crs::Wgs84),
            "cgcs2000" | "epsg:4490" | "4490" => Ok(Crs::Cgcs2000),
            "gcj02" | "gcj" | "mars" => Ok(Crs::Gcj02),
            "bd09" | "bd09ll" | "baidu" => Ok(Crs::Bd09),
            _ => Err(format!(
                "unknown coordinate system '{s}': expected one of wgs84, cgcs2000, gcj02, bd09"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Crs::Wgs84 => "wgs84",
            Crs::Cgcs2000 => "cgcs2000",
            Crs::Gcj02 => "gcj02",
            Crs::Bd09 => "bd09",
        }
    }

    /// Converts a lon/lat in this system to WGS84/CGCS2000 (the storage datum).
    pub fn to_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 | Crs::Cgcs2000 => (lon, lat),
            Crs::Gcj02 => gcj02_to_wgs84(lon, lat),
            Crs::Bd09 => {
                let (g0, g1) = bd09_to_gcj02(lon, lat);
                gcj02_to_wgs84(g0, g1)
            }
        }
    }

    /// Converts a WGS84/CGCS2000 lon/lat into this system.
    pub fn from_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 | Crs::Cgcs2000 => (lon, lat),
            Crs::Gcj02 => wgs84_to_gcj02(lon, lat),
            Crs::Bd09 => {
                let (g0, g1) = wgs84_to_gcj02(lon, lat);
                gcj02_to_bd09(g0, g1)
            }
        }
    }
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Checks a lon/lat pair for range; names the offending field.
pub fn check_lon_lat(lon: f64, lat: f64) -> Result<(), (&'static str, String)> {
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        return Err(("lon", format!("longitude {lon} is outside -180..180")));
    }
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        return Err(("lat", format!("latitude {lat} is outside -90..90")));
    }
    Ok(())
}

const GCJ_A: f64 = 6378245.0;
const GCJ_EE: f64 = 0.006_693_421_622_965_943;
const X_PI: f64 = std::f64::consts::PI * 3000.0 / 180.0;

/// The classic bounding box outside which GCJ-02 applies no offset.
pub fn out_of_china(lon: f64, lat: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    ret
}

fn transform_lon(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    ret
}

/// WGS84 → GCJ-02 (forward formula, identity outside China).
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    use std::f64::consts::PI;
    if out_of_china(lon, lat) {
        return (lon, lat);
    }
    let mut dlat = transform_lat(lon - 105.0, lat - 35.0);
    let mut dlon = transform_lon(lon - 105.0, lat - 35.0);
    let radlat = lat / 180.0 * PI;
    let mut magic = radlat.sin();
    magic = 1.0 - GCJ_EE * magic * magic;
    let sqrtmagic = magic.sqrt();
    dlat = (dlat * 180.0) / ((GCJ_A * (1.0 - GCJ_EE)) / (magic * sqrtmagic) * PI);
    dlon = (dlon * 180.0) / (GCJ_A / sqrtmagic * radlat.cos() * PI);
    (lon + dlon, lat + dlat)
}

/// Iterates `w ← w − (f(w) − target)` until the step is below 1e-10° (≈ 0.01 mm).
fn invert(f: impl Fn(f64, f64) -> (f64, f64), lon: f64, lat: f64) -> (f64, f64) {
    let (mut x, mut y) = (lon, lat);
    for _ in 0..40 {
        let (fx, fy) = f(x, y);
        let (dx, dy) = (fx - lon, fy - lat);
        x -= dx;
        y -= dy;
        if dx.abs() < 1e-10 && dy.abs() < 1e-10 {
            break;
        }
    }
    (x, y)
}

/// GCJ-02 → WGS84, iterated inverse (round trip below 1e-9°, about 0.1 mm).
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if out_of_china(lon, lat) {
        return (lon, lat);
    }
    invert(wgs84_to_gcj02, lon, lat)
}

/// GCJ-02 → BD-09 (Baidu's published forward formula).
pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.00002 * (lat * X_PI).sin();
    let theta = lat.atan2(lon) + 0.000003 * (lon * X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// BD-09 → GCJ-02, iterated inverse of [`gcj02_to_bd09`].
pub fn bd09_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    invert(gcj02_to_bd09, lon, lat)
}

/// Geodesic distance in metres between two WGS84 lon/lat points (Karney, WGS84 ellipsoid).
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    Geodesic.distance(Point::new(a.0, a.1), Point::new(b.0, b.1))
}

/// Distance in metres between two WGS84 points of a line. Below about 5 km the ellipsoid is
/// flat to better than 1e-7 relative, so the distance is taken in the tangent frame at the
/// mid-latitude with the ellipsoid's radii of curvature (meridian M, prime vertical N), which is
/// ~30x cheaper than the geodesic inverse; longer segments use the geodesic.
pub fn segment_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dlon, dlat) = (b.0 - a.0, b.1 - a.1);
    if dlat.abs() < 0.04 && dlon.abs() < 0.04 {
        const A: f64 = 6_378_137.0;
        const E2: f64 = 6.694_379_990_141_316e-3;
        let phi = ((a.1 + b.1) * 0.5).to_radians();
        let (s, c) = phi.sin_cos();
        let w = 1.0 - E2 * s * s;
        let n = A / w.sqrt();
        let m = n * (1.0 - E2) / w;
        let dx = n * c * dlon.to_radians();
        let dy = m * dlat.to_radians();
        (dx * dx + dy * dy).sqrt()
    } else {
        distance_m(a, b)
    }
}

/// Length in metres of a WGS84 line string (sum of [`segment_m`]).
pub fn length_m(line: &LineString<f64>) -> f64 {
    line.0
        .windows(2)
        .map(|w| segment_m((w[0].x, w[0].y), (w[1].x, w[1].y)))
        .sum()
}

/// Geodesic area in square metres of a WGS84 multipolygon (holes subtracted).
pub fn area_m2(mp: &MultiPolygon<f64>) -> f64 {
    // exterior rings must run counter-clockwise for the ellipsoidal area to be the inside's
    mp.orient(geo::orient::Direction::Default)
        .geodesic_area_unsigned()
}

/// A local planar frame in metres around a reference latitude: an equirectangular projection
/// scaled on the WGS84 ellipsoid's radii of curvature. Good to well under 0.1% over tens of
/// kilometres, which is what per-point distance searches need; exact values use [`distance_m`].
#[derive(Debug, Clone, Copy)]
pub struct LocalMetric {
    pub lon0: f64,
    pub lat0: f64,
    /// metres per degree of longitude and latitude at `lat0`
    pub kx: f64,
    pub ky: f64,
}

impl LocalMetric {
    pub fn new(lon0: f64, lat0: f64) -> Self {
        let a = 6_378_137.0_f64;
        let e2 = 0.006_694_379_990_14_f64;
        let phi = lat0.to_radians();
        let s = phi.sin();
        let w = (1.0 - e2 * s * s).sqrt();
        let n = a / w; // prime vertical radius
        let m = a * (1.0 - e2) / (w * w * w); // meridional radius
        LocalMetric {
            lon0,
            lat0,
            kx: n * phi.cos() * std::f64::consts::PI / 180.0,
            ky: m * std::f64::consts::PI / 180.0,
        }
    }
    pub fn fwd(&self, lon: f64, lat: f64) -> (f64, f64) {
        ((lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky)
    }
    pub fn inv(&self, x: f64, y: f64) -> (f64, f64) {
        (self.lon0 + x / self.kx, self.lat0 + y / self.ky)
    }
}

/// A coordinate system named in `/v1/transform`: one of the lon/lat systems above or any
/// projected/geographic system PROJ knows by `EPSG:NNNN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyCrs {
    LonLat(Crs),
    Epsg(u32),
}

impl AnyCrs {
    pub fn parse(s: &str) -> Result<AnyCrs, String> {
        if let Ok(c) = Crs::parse(s) {
            return Ok(AnyCrs::LonLat(c));
        }
        let t = s.trim().to_ascii_lowercase();
        let num = t.strip_prefix("epsg:").unwrap_or(&t);
        match num.parse::<u32>() {
            Ok(n) if n > 0 => Ok(AnyCrs::Epsg(n)),
            _ => Err(format!(
                "unknown coordinate system '{s}': expected wgs84, cgcs2000, gcj02, bd09 or EPSG:<code>"
            )),
        }
    }
    pub fn name(&self) -> String {
        match self {
            AnyCrs::LonLat(c) => c.as_str().to_string(),
            AnyCrs::Epsg(n) => format!("EPSG:{n}"),
        }
    }
}

thread_local! {
    static PROJ_CACHE: std::cell::RefCell<Vec<((u32, u32), proj::Proj)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs a PROJ transformation between two EPSG codes (axis order lon/lat, easting/northing).
fn proj_convert(from: u32, to: u32, x: f64, y: f64) -> Result<(f64, f64), String> {
    if from == to {
        return Ok((x, y));
    }
    PROJ_CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if !cache.iter().any(|(k, _)| *k == (from, to)) {
            let p = proj::Proj::new_known_crs(&format!("EPSG:{from}"), &format!("EPSG:{to}"), None)
                .map_err(|e| format!("PROJ cannot build EPSG:{from} → EPSG:{to}: {e}"))?;
            if cache.len() > 32 {
                cache.remove(0);
            }
            cache.push(((from, to), p));
        }
        let p = &cache.iter().find(|(k, _)| *k == (from, to)).unwrap().1;
        let out = p
            .convert(Coord { x, y })
            .map_err(|e| format!("PROJ transformation failed: {e}"))?;
        if !out.x.is_finite() || !out.y.is_finite() {
            return Err(
                "PROJ transformation gave no finite result (point outside the area of use?)".into(),
            );
        }
        Ok((out.x, out.y))
    })
}

/// Transforms a coordinate between any two supported systems. Lon/lat systems go through
/// WGS84; EPSG systems through PROJ with EPSG:4326 (lon/lat order) as the pivot.
pub fn transform(from: &AnyCrs, to: &AnyCrs, x: f64, y: f64) -> Result<(f64, f64), String> {
    let (lon, lat) = match from {
        AnyCrs::LonLat(c) => c.to_wgs84(x, y),
        AnyCrs::Epsg(4326) | AnyCrs::Epsg(4490) => (x, y),
        AnyCrs::Epsg(n) => proj_convert(*n, 4326, x, y)?,
    };
    match to {
        AnyCrs::LonLat(c) => Ok(c.from_wgs84(lon, lat)),
        AnyCrs::Epsg(4326) | AnyCrs::Epsg(4490) => Ok((lon, lat)),
        AnyCrs::Epsg(n) => proj_convert(4326, *n, lon, lat),
    }
}

#[cfg(test)]
mod segment_tests {
    use super::*;

    #[test]
    fn short_segments_match_the_geodesic() {
        // 1 m to 4 km, every direction, equator to 53°N
        for lat in [0.0, 18.0, 31.2, 45.0, 53.5] {
            for k in 0..16 {
                let ang = k as f64 * std::f64::consts::TAU / 16.0;
                for d in [1e-5, 1e-3, 0.01, 0.035] {
                    let a = (121.0, lat);
                    let b = (121.0 + d * ang.cos(), lat + d * ang.sin());
                    let g = distance_m(a, b);
                    let f = segment_m(a, b);
                    assert!((f - g).abs() <= 1e-6 * g + 1e-6, "{a:?} {b:?}: {f} vs {g}");
                }
            }
        }
        // long: the geodesic itself
        assert_eq!(
            segment_m((100.0, 30.0), (101.0, 31.0)),
            distance_m((100.0, 30.0), (101.0, 31.0))
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcj_test_vector_from_shared_readme() {
        // shared/data/README.md: GCJ (121.470387, 31.191271) → WGS (121.4658424, 31.1932104)
        let (lon, lat) = gcj02_to_wgs84(121.470387, 31.191271);
        assert!((lon - 121.4658424).abs() < 1e-7, "{lon}");
        assert!((lat - 31.1932104).abs() < 1e-7, "{lat}");
    }

    #[test]
    fn round_trips_below_one_centimetre() {
        for &(lon, lat) in &[
            (120.15, 30.28),
            (121.47, 31.23),
            (111.29, 30.70),
            (87.6, 43.8),
        ] {
            for crs in Crs::ALL {
                let (x, y) = crs.from_wgs84(lon, lat);
                let (lon2, lat2) = crs.to_wgs84(x, y);
                assert!(
                    distance_m((lon, lat), (lon2, lat2)) < 0.01,
                    "{crs} {lon},{lat}"
                );
            }
        }
        // GCJ offset is hundreds of metres in Hangzhou, BD-09 more
        let d = distance_m((120.15, 30.28), wgs84_to_gcj02(120.15, 30.28));
        assert!(d > 300.0 && d < 700.0, "{d}");
    }

    #[test]
    fn bd09_known_value() {
        // the widely used coordtransform example: BD-09 (116.404, 39.915) ↔ GCJ-02
        // (116.39762729119315, 39.90865673957631) (its inverse is the one-step approximation,
        // so agreement is to ~1e-5°)
        let (x, y) = gcj02_to_bd09(116.39762729119315, 39.90865673957631);
        assert!(
            (x - 116.404).abs() < 2e-5 && (y - 39.915).abs() < 2e-5,
            "{x},{y}"
        );
        let (x, y) = bd09_to_gcj02(116.404, 39.915);
        assert!(
            (x - 116.397627).abs() < 2e-5 && (y - 39.908657).abs() < 2e-5,
            "{x},{y}"
        );
        // and ours is exact: forward of the inverse returns the input
        let (bx, by) = gcj02_to_bd09(x, y);
        assert!((bx - 116.404).abs() < 1e-9 && (by - 39.915).abs() < 1e-9);
    }

    #[test]
    fn proj_cgcs2000_gauss_kruger() {
        // EPSG:4549 = CGCS2000 / 3-degree Gauss-Kruger CM 120E: false easting 500 km on the CM.
        let (e, n) = transform(
            &AnyCrs::LonLat(Crs::Wgs84),
            &AnyCrs::Epsg(4549),
            120.0,
            30.0,
        )
        .unwrap();
        assert!((e - 500_000.0).abs() < 0.01, "{e}");
        // meridian arc of the CGCS2000 ellipsoid from the equator to 30°N: 3,320,113.4 m
        assert!((n - 3_320_113.4).abs() < 1.0, "{n}");
        let (lon, lat) = transform(&AnyCrs::Epsg(4549), &AnyCrs::LonLat(Crs::Wgs84), e, n).unwrap();
        assert!((lon - 120.0).abs() < 1e-9 && (lat - 30.0).abs() < 1e-9);
    }

    #[test]
    fn parse_names() {
        assert_eq!(Crs::parse("GCJ-02").unwrap(), Crs::Gcj02);
        assert_eq!(Crs::parse("EPSG:4490").unwrap(), Crs::Cgcs2000);
        assert!(Crs::parse("utm").is_err());
        assert_eq!(AnyCrs::parse("epsg:3857").unwrap(), AnyCrs::Epsg(3857));
    }

    #[test]
    fn area_of_one_degree_cell() {
        let mp: MultiPolygon<f64> =
            geo::wkt!(MULTIPOLYGON(((120. 30.,121. 30.,121. 31.,120. 31.,120. 30.))));
        let a = area_m2(&mp);
        let cw = MultiPolygon(vec![geo::Polygon::new(
            LineString(mp.0[0].exterior().0.iter().rev().cloned().collect()),
            vec![],
        )]);
        assert!(
            (area_m2(&cw) - a).abs() < 1.0,
            "orientation must not matter"
        );
        // 1°×1° at 30°N ≈ 96.3 km × 110.9 km ≈ 1.068e10 m²
        assert!((a - 1.0683e10).abs() / 1.0683e10 < 0.005, "{a}");
    }
}
