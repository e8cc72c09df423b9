//! Facility CSV: one facility a row, the header names the columns (any order):
//! `id,name,type,lon,lat,address,address_code,division,level,beds,nursing_beds,price_min,
//! price_max,phone,hours,operator,photo_url,status,synthetic`. Required: name, type, lon, lat.
//! `type` takes the English id or the Chinese name. Coordinates in the `crs` given to the
//! reader (WGS84 by default). Reading is all-or-nothing: the first bad cell fails the file,
//! naming line and column.

use super::{Facility, FacilityType};
use crate::crs::Crs;

pub const COLUMNS: [&str; 19] = [
    "id",
    "name",
    "type",
    "lon",
    "lat",
    "address",
    "address_code",
    "division",
    "level",
    "beds",
    "nursing_beds",
    "price_min",
    "price_max",
    "phone",
    "hours",
    "operator",
    "photo_url",
    "status",
    "synthetic",
];

/// Parses CSV text; errors are (line, column, message).
pub fn parse(text: &str, crs: Crs) -> Result<Vec<Facility>, (usize, String, String)> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let h = rdr
        .headers()
        .map_err(|e| (1, "header".to_string(), e.to_string()))?
        .clone();
    let col = |n: &str| h.iter().position(|x| x.trim() == n);
    for req in ["name", "type", "lon", "lat"] {
        if col(req).is_none() {
            return Err((1, req.to_string(), format!("missing column '{req}'")));
        }
    }
    let mut out: Vec<Facility> = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for (n, rec) in rdr.records().enumerate() {
        let line = n + 2;
        let rec = rec.map_err(|e| (line, "row".to_string(), e.to_string()))?;
        let get = |c: &str| -> Option<String> {
            col(c)
                .and_then(|i| rec.get(i))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let err = |c: &str, m: String| (line, c.to_string(), m);
        let num = |c: &str| -> Result<Option<f64>, (usize, String, String)> {
            match get(c) {
                None => Ok(None),
                Some(s) => s
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .map(Some)
                    .ok_or_else(|| err(c, format!("'{s}' is not a number"))),
            }
        };
        let int = |c: &str| -> Result<Option<u32>, (usize, String, String)> {
            match get(c) {
                None => Ok(None),
                Some(s) => s
                    .parse::<u32>()
                    .map(Some)
                    .map_err(|_| err(c, format!("'{s}' is not a non-negative integer"))),
            }
        };
        let ty = get("type").ok_or_else(|| err("type", "type is empty".into()))?;
        let kind = FacilityType::parse(&ty).ok_or_else(|| {
            err(
                "type",
                format!("'{ty}' is not a facility type (institution, service_center, day_care, meal_point, activity_room, home_care_station or the Chinese name)"),
            )
        })?;
        let lon = num("lon")?.ok_or_else(|| err("lon", "lon is empty".into()))?;
        let lat = num("lat")?.ok_or_else(|| err("lat", "lat is empty".into()))?;
        crate::crs::check_lon_lat(lon, lat).map_err(|(f, m)| err(f, m))?;
        let (lon, lat) = crs.to_wgs84(lon, lat);
        let synthetic = match get("synthetic").as_deref() {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(s) => return Err(err("synthetic", format!("'{s}' is not true/false"))),
        };
        let f = Facility {
            id: get("id").unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            name: get("name").unwrap_or_default(),
            kind,
            lon,
            lat,
            address: get("address"),
            address_code: get("address_code"),
            division: get("division"),
            level: get("level"),
            beds: int("beds")?,
            nursing_beds: int("nursing_beds")?,
            price_min: num("price_min")?,
            price_max: num("price_max")?,
            phone: get("phone"),
            hours: get("hours"),
            operator: get("operator"),
            photo_url: get("photo_url"),
            status: get("status").unwrap_or_else(|| "open".into()),
            synthetic,
        };
        f.validate().map_err(|(c, m)| err(c, m))?;
        if !ids.insert(f.id.clone()) {
            return Err(err("id", format!("duplicate id '{}'", f.id)));
        }
        out.push(f);
    }
    Ok(out)
}

/// Writes facilities as CSV text (WGS84).
pub fn write(list: &[Facility]) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(vec![]);
    w.write_record(COLUMNS)?;
    let o = |s: &Option<String>| s.clone().unwrap_or_default();
    let on = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let ou = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_default();
    for f in list {
        w.write_record([
            f.id.clone(),
            f.name.clone(),
            f.kind.as_str().to_string(),
            format!("{:.7}", f.lon),
            format!("{:.7}", f.lat),
            o(&f.address),
            o(&f.address_code),
            o(&f.division),
            o(&f.level),
            ou(f.beds),
            ou(f.nursing_beds),
            on(f.price_min),
            on(f.price_max),
            o(&f.phone),
            o(&f.hours),
            o(&f.operator),
            o(&f.photo_url),
            f.status.clone(),
            f.synthetic.to_string(),
        ])?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
