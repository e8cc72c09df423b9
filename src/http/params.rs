//! Strict query-string parsing that names the field at fault.

use super::error::ApiError;
use crate::crs::Crs;
use std::collections::HashMap;

/// `(wgs84 lon/lat, lon/lat as given, crs as given)`
pub type PointArgs = ((f64, f64), (f64, f64), Crs);

/// Parsed query string (`?a=1&b=2`); a repeated key keeps its last value.
pub struct Params(pub HashMap<String, String>);

impl Params {
    pub fn from_query(q: &str) -> Result<Params, ApiError> {
        let mut m = HashMap::new();
        for pair in q.split('&').filter(|s| !s.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| {
                let s = s.replace('+', " ");
                percent_decode(&s).ok_or_else(|| {
                    ApiError::bad(
                        k.to_string(),
                        "invalid percent-encoding, or not UTF-8 once decoded \
                         (GBK/GB18030 bytes are not accepted: send UTF-8)",
                    )
                })
            };
            m.insert(dec(k)?, dec(v)?);
        }
        Ok(Params(m))
    }
    pub fn from_req(req: &actix_web::HttpRequest) -> Result<Params, ApiError> {
        Self::from_query(req.query_string())
    }
    pub fn str(&self, k: &str) -> Option<&str> {
        self.0
            .get(k)
            .map(|s| s.as_str())
            .filter(|s| !s.trim().is_empty())
    }
    pub fn req_str(&self, k: &str) -> Result<&str, ApiError> {
        self.str(k).ok_or_else(|| ApiError::missing(k))
    }
    pub fn f64(&self, k: &str) -> Result<Option<f64>, ApiError> {
        match self.str(k) {
            None => Ok(None),
            Some(s) => match s.trim().parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(Some(v)),
                _ => Err(ApiError::bad(k, format!("'{s}' is not a finite number"))),
            },
        }
    }
    pub fn req_f64(&self, k: &str) -> Result<f64, ApiError> {
        self.f64(k)?.ok_or_else(|| ApiError::missing(k))
    }
    pub fn f64_in(&self, k: &str, default: f64, lo: f64, hi: f64) -> Result<f64, ApiError> {
        let v = self.f64(k)?.unwrap_or(default);
        if v < lo || v > hi {
            return Err(ApiError::bad(
                k,
                format!("{v} is outside the allowed range {lo}..{hi}"),
            ));
        }
        Ok(v)
    }
    pub fn usize_in(
        &self,
        k: &str,
        default: usize,
        lo: usize,
        hi: usize,
    ) -> Result<usize, ApiError> {
        let v = match self.str(k) {
            None => default,
            Some(s) => s
                .trim()
                .parse::<usize>()
                .map_err(|_| ApiError::bad(k, format!("'{s}' is not a non-negative integer")))?,
        };
        if v < lo || v > hi {
            return Err(ApiError::bad(
                k,
                format!("{v} is outside the allowed range {lo}..{hi}"),
            ));
        }
        Ok(v)
    }
    pub fn bool(&self, k: &str, default: bool) -> Result<bool, ApiError> {
        match self.str(k) {
            None => Ok(default),
            Some(s) => match s.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "0" | "false" | "no" | "off" => Ok(false),
                _ => Err(ApiError::bad(
                    k,
                    format!("'{s}' is not a boolean (true/false)"),
                )),
            },
        }
    }
    /// `crs=` (default wgs84)
    pub fn crs(&self) -> Result<Crs, ApiError> {
        self.crs_named("crs")
    }
    pub fn crs_named(&self, k: &str) -> Result<Crs, ApiError> {
        match self.str(k) {
            None => Ok(Crs::Wgs84),
            Some(s) => Crs::parse(s).map_err(|e| ApiError::bad(k, e)),
        }
    }
    /// `lon=`, `lat=` in `crs=`, range-checked, converted to WGS84. Returns (wgs84, input, crs).
    pub fn point(&self) -> Result<PointArgs, ApiError> {
        let crs = self.crs()?;
        let lon = self.req_f64("lon")?;
        let lat = self.req_f64("lat")?;
        check_point(lon, lat, "")?;
        Ok((crs.to_wgs84(lon, lat), (lon, lat), crs))
    }
}

/// Range check naming the field (`prefix` e.g. `points[3].`).
pub fn check_point(lon: f64, lat: f64, prefix: &str) -> Result<(), ApiError> {
    crate::crs::check_lon_lat(lon, lat).map_err(|(f, m)| ApiError::bad(format!("{prefix}{f}"), m))
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if i + 2 >= b.len() {
                return None;
            }
            let h = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Rounds a coordinate to 7 decimals (≈ 1 cm) for output.
pub fn r7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parses_and_names_fields() {
        let p = Params::from_query("lon=120.1&lat=abc&q=%E8%A5%BF%E6%B9%96").unwrap();
        assert_eq!(p.str("q"), Some("西湖"));
        assert_eq!(p.req_f64("lon").unwrap(), 120.1);
        assert_eq!(p.req_f64("lat").unwrap_err().field.as_deref(), Some("lat"));
        assert_eq!(p.req_f64("x").unwrap_err().field.as_deref(), Some("x"));
        assert!(Params::from_query("q=%E8%A5").is_err());
        assert!(Params::from_query("q=%4").is_err());
    }
}
