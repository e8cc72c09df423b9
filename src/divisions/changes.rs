//! History of division changes: renames, upgrades (县→市, 市→区) and merges.
//!
//! Two sources are read:
//! - `changes.txt` (jionlp `china_location_change.txt`, tab-separated names, 2002–2023);
//! - `code_changes.csv` (diming's own table, every row citing its approval): old code/name →
//!   successor code/name and date, for changes the name list lacks or where old codes are needed
//!   (临安市 330185 → 临安区 330112, 2017; 江干区 330104 → 上城区 330102 and 下城区 330103 →
//!   拱墅区 330105, 2021).

use anyhow::{Context, Result};
use serde::Serialize;
use std::path::Path;

/// One change: an old division (by name, optionally code) and its successor.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// ISO date the change took effect (approval date)
    pub date: String,
    /// 国批 (State Council) / 民批 (Ministry of Civil Affairs) or a citation
    pub approval: String,
    pub old_code: Option<String>,
    /// Old names from the province down, e.g. ["浙江省", "杭州市", "江干区"]
    pub old_names: Vec<String>,
    /// Short form of the old deepest name (江干)
    pub old_short: Option<String>,
    pub new_code: Option<String>,
    /// New names from the province down
    pub new_names: Vec<String>,
}

impl Change {
    pub fn old_name(&self) -> &str {
        self.old_names.last().map(|s| s.as_str()).unwrap_or("")
    }
    /// The old names from the province down as one name, without the placeholder levels of
    /// the code lists (上海市卢湾区, not 上海市市辖区卢湾区).
    pub fn old_full_name(&self) -> String {
        self.old_names
            .iter()
            .filter(|n| !super::tree::is_placeholder_name(n))
            .map(String::as_str)
            .collect()
    }
    pub fn new_name(&self) -> &str {
        self.new_names.last().map(|s| s.as_str()).unwrap_or("")
    }
}

#[derive(Debug, Default, Clone)]
pub struct ChangeLog {
    pub changes: Vec<Change>,
}

impl ChangeLog {
    /// Reads `changes.txt` and `code_changes.csv` from `dir` (each optional).
    pub fn load_dir(dir: &Path) -> Result<ChangeLog> {
        let mut log = ChangeLog::default();
        let txt = dir.join("changes.txt");
        if txt.exists() {
            let s = std::fs::read_to_string(&txt)?;
            for (n, line) in s.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let c = parse_jionlp_line(line)
                    .with_context(|| format!("{} line {}: cannot parse", txt.display(), n + 1))?;
                log.changes.push(c);
            }
        }
        let csvp = dir.join("code_changes.csv");
        if csvp.exists() {
            let mut rdr = csv::Reader::from_path(&csvp)?;
            for (n, rec) in rdr.deserialize::<CodeChangeRow>().enumerate() {
                let r = rec.with_context(|| format!("{} row {}", csvp.display(), n + 2))?;
                // prefer the coded row over a name-only row for the same old name and date
                log.changes.retain(|c| {
                    !(c.old_code.is_none() && c.old_name() == r.old_name && c.date == r.date)
                });
                log.changes.push(Change {
                    date: r.date,
                    approval: r.approval,
                    old_code: Some(r.old_code),
                    old_names: r.old_path.split('/').map(String::from).collect(),
                    old_short: None,
                    new_code: Some(r.new_code),
                    new_names: r.new_path.split('/').map(String::from).collect(),
                });
            }
        }
        Ok(log)
    }

    /// Changes whose old deepest name (or its short form) equals `name`, newest first.
    pub fn by_old_name(&self, name: &str) -> Vec<&Change> {
        let mut v: Vec<&Change> = self
            .changes
            .iter()
            .filter(|c| c.old_name() == name || c.old_short.as_deref() == Some(name))
            .collect();
        v.sort_by(|a, b| b.date.cmp(&a.date));
        v
    }

    /// The change that retired an old code, if known.
    pub fn by_old_code(&self, display_code: &str) -> Option<&Change> {
        self.changes
            .iter()
            .filter(|c| c.old_code.as_deref() == Some(display_code))
            .max_by(|a, b| a.date.cmp(&b.date))
    }
}

#[derive(serde::Deserialize)]
struct CodeChangeRow {
    old_code: String,
    old_name: String,
    old_path: String,
    new_code: String,
    new_path: String,
    date: String,
    approval: String,
}

/// Parses one line of jionlp `changes.txt` (also used by the PostGIS importer).
pub fn parse_jionlp_line(line: &str) -> Option<Change> {
    let (old, new) = line.split_once("=>")?;
    let f: Vec<&str> = old.split('\t').collect();
    if f.len() < 6 {
        return None;
    }
    let date = f[0].to_string();
    let approval = f[1].to_string();
    // fields: prov, prov_short, city, city_short, [county, county_short]
    let mut old_names = vec![f[2].to_string(), f[4].to_string()];
    let mut old_short = Some(f[5].to_string());
    if f.len() >= 8 && !f[6].is_empty() {
        old_names.push(f[6].to_string());
        old_short = Some(f[7].to_string());
    }
    let new_names: Vec<String> = new
        .split('\t')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if new_names.is_empty() {
        return None;
    }
    Some(Change {
        date,
        approval,
        old_code: None,
        old_names,
        old_short,
        new_code: None,
        new_names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parses_a_merge() {
        let c = parse_jionlp_line(
            "2021-04-09\t民批\t浙江省\t浙江\t杭州市\t杭州\t江干区\t江干=>浙江省\t杭州市\t上城区",
        )
        .unwrap();
        assert_eq!(c.old_name(), "江干区");
        assert_eq!(c.old_short.as_deref(), Some("江干"));
        assert_eq!(c.new_name(), "上城区");
        let c = parse_jionlp_line("2010-11-26\t国批\t湖北省\t湖北\t襄樊市\t襄樊=>湖北省\t襄阳市")
            .unwrap();
        assert_eq!(c.old_name(), "襄樊市");
        assert_eq!(c.new_name(), "襄阳市");
    }
}
