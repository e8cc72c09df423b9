//! Benchmarks that print a table (`diming bench …`). Each compares against its peer on the
//! same machine in the same run.

use anyhow::Result;
use std::path::PathBuf;

pub struct ReverseBench {
    pub polygons: PathBuf,
    pub points: usize,
    pub database_url: Option<String>,
    pub postgis_points: usize,
    pub http_points: usize,
    pub seed: u64,
}

pub fn reverse(_b: &ReverseBench) -> Result<()> {
    anyhow::bail!("not implemented yet")
}
