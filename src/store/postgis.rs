//! PostGIS: the store of record in production. Schema in `migrations/` (sqlx).
//! Loading from PostGIS produces the same [`super::DivisionSource`] as the embedded files.

use super::DivisionSource;
use anyhow::Result;

/// Connects, runs pending migrations and loads the current divisions and their polygons.
pub async fn load_divisions(_url: &str) -> Result<DivisionSource> {
    anyhow::bail!("PostGIS loading is not implemented yet")
}

/// Imports files into PostGIS in one transaction; returns a printable report.
pub async fn import(
    _url: &str,
    _kind: &str,
    _files: &[std::path::PathBuf],
    _crs: crate::crs::Crs,
    _code_field: &str,
    _synthetic: bool,
) -> Result<String> {
    anyhow::bail!("PostGIS import is not implemented yet")
}
