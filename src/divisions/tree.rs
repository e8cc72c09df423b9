//! The division tree: every division with its parent chain and children, loaded from the NBS
//! code lists (`provinces.csv`, `cities.csv`, `areas.csv`, `streets.csv`, `villages.csv[.gz]`).

use super::{display_code, level_of, parent_short, stat_code, Level};
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// One division.
#[derive(Debug, Clone, Serialize)]
pub struct Division {
    /// Short code (2/4/6/9/12 digits)
    #[serde(skip)]
    pub short: String,
    pub name: String,
    pub level: Level,
    #[serde(skip)]
    pub parent: Option<u32>,
    #[serde(skip)]
    pub children: Vec<u32>,
    /// Statistical-only zones (经济技术开发区 …) and placeholders (市辖区, 省直辖县级行政区划).
    pub statistical_only: bool,
    /// Set for records made by a generator, never for the official code lists.
    pub synthetic: bool,
}

impl Division {
    pub fn code(&self) -> String {
        display_code(&self.short)
    }
    pub fn stat_code(&self) -> String {
        stat_code(&self.short)
    }
    pub fn gb_code(&self) -> String {
        display_code(&self.short[..self.short.len().min(6)])
    }
}

/// The tree, indexed by short code and by name.
#[derive(Debug, Default)]
pub struct DivisionTree {
    pub divs: Vec<Division>,
    by_short: HashMap<String, u32>,
    by_name: HashMap<String, Vec<u32>>,
}

/// Names of city-level placeholders in the NBS lists.
pub fn is_placeholder_name(name: &str) -> bool {
    matches!(
        name,
        "市辖区" | "县" | "省直辖县级行政区划" | "自治区直辖县级行政区划"
    )
}

impl DivisionTree {
    pub fn len(&self) -> usize {
        self.divs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.divs.is_empty()
    }

    pub fn get(&self, idx: u32) -> &Division {
        &self.divs[idx as usize]
    }

    /// Looks a division up by short code.
    pub fn find(&self, short: &str) -> Option<u32> {
        self.by_short.get(short).copied()
    }

    /// Divisions with exactly this name (several: 朝阳区 is in Beijing and Changchun).
    pub fn by_name(&self, name: &str) -> &[u32] {
        self.by_name.get(name).map(|v| v.as_slice()).unwrap_or(&[])
    }

    /// Iterates over all names (for building text indexes).
    pub fn names(&self) -> impl Iterator<Item = (&str, &[u32])> {
        self.by_name.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Adds a division (parent looked up by code structure; missing intermediate parents are
    /// tolerated so that partial lists load). Re-adding a code updates its name.
    pub fn insert(
        &mut self,
        short: &str,
        name: &str,
        statistical_only: bool,
        synthetic: bool,
    ) -> Result<u32> {
        let level = level_of(short).with_context(|| format!("bad division code '{short}'"))?;
        if let Some(&i) = self.by_short.get(short) {
            let d = &mut self.divs[i as usize];
            if d.name != name {
                let old = std::mem::replace(&mut d.name, name.to_string());
                if let Some(v) = self.by_name.get_mut(&old) {
                    v.retain(|&x| x != i);
                }
                self.by_name.entry(name.to_string()).or_default().push(i);
            }
            return Ok(i);
        }
        let mut parent = None;
        let mut p = parent_short(short);
        while let Some(ps) = p {
            if let Some(&pi) = self.by_short.get(ps) {
                parent = Some(pi);
                break;
            }
            p = parent_short(ps);
        }
        let idx = self.divs.len() as u32;
        self.divs.push(Division {
            short: short.to_string(),
            name: name.to_string(),
            level,
            parent,
            children: Vec::new(),
            statistical_only,
            synthetic,
        });
        if let Some(pi) = parent {
            self.divs[pi as usize].children.push(idx);
        }
        self.by_short.insert(short.to_string(), idx);
        self.by_name.entry(name.to_string()).or_default().push(idx);
        Ok(idx)
    }

    /// Ancestors from the province down to and including `idx`.
    pub fn chain(&self, idx: u32) -> Vec<u32> {
        let mut v = vec![idx];
        let mut cur = self.divs[idx as usize].parent;
        while let Some(p) = cur {
            v.push(p);
            cur = self.divs[p as usize].parent;
        }
        v.reverse();
        v
    }

    /// The ancestor (or self) at `level`, if any.
    pub fn ancestor_at(&self, idx: u32, level: Level) -> Option<u32> {
        self.chain(idx)
            .into_iter()
            .find(|&i| self.divs[i as usize].level == level)
    }

    /// Whether `idx` lies under (or is) `ancestor`.
    pub fn is_within(&self, idx: u32, ancestor: u32) -> bool {
        let mut cur = Some(idx);
        while let Some(c) = cur {
            if c == ancestor {
                return true;
            }
            cur = self.divs[c as usize].parent;
        }
        false
    }

    /// Full name from the province down, skipping placeholders (浙江省杭州市西湖区).
    pub fn full_name(&self, idx: u32) -> String {
        self.chain(idx)
            .into_iter()
            .map(|i| &self.divs[i as usize])
            .filter(|d| !is_placeholder_name(&d.name))
            .map(|d| d.name.as_str())
            .collect()
    }

    /// Loads the NBS lists from a directory. `villages.csv` (or `.csv.gz`) is optional; a
    /// `village_filter` keeps only villages whose code starts with one of the prefixes.
    pub fn load_dir(dir: &Path, village_filter: Option<&[String]>) -> Result<DivisionTree> {
        let mut t = DivisionTree::default();
        let files = [
            ("provinces.csv", Level::Province),
            ("cities.csv", Level::City),
            ("areas.csv", Level::County),
            ("streets.csv", Level::Township),
            ("villages.csv", Level::Village),
        ];
        for (file, level) in files {
            let path = dir.join(file);
            let gz = dir.join(format!("{file}.gz"));
            let reader: Box<dyn Read> = if path.exists() {
                Box::new(std::fs::File::open(&path)?)
            } else if gz.exists() {
                Box::new(flate2::read::GzDecoder::new(std::fs::File::open(&gz)?))
            } else if level == Level::Village {
                continue;
            } else {
                bail!("missing division list {}", path.display());
            };
            let shown = if path.exists() {
                path.clone()
            } else {
                gz.clone()
            };
            let mut rdr =
                csv::Reader::from_reader(std::io::BufReader::with_capacity(1 << 20, reader));
            for (row, rec) in rdr.records().enumerate() {
                let rec = rec.with_context(|| format!("{} row {}", shown.display(), row + 2))?;
                let code = rec.get(0).unwrap_or("").trim();
                let name = rec.get(1).unwrap_or("").trim();
                if code.len() != level.short_len() || !code.bytes().all(|b| b.is_ascii_digit()) {
                    bail!(
                        "{} row {}: code '{code}' is not a {}-digit {} code",
                        shown.display(),
                        row + 2,
                        level.short_len(),
                        level.as_str()
                    );
                }
                if name.is_empty() {
                    bail!("{} row {}: empty name", shown.display(), row + 2);
                }
                if level == Level::Village {
                    if let Some(f) = village_filter {
                        if !f.iter().any(|p| code.starts_with(p.as_str())) {
                            continue;
                        }
                    }
                }
                let stat_only = is_placeholder_name(name)
                    || (level == Level::County && is_functional_zone(code, name));
                t.insert(code, name, stat_only, false)?;
            }
        }
        Ok(t)
    }
}

/// NBS statistical-only functional zones (经济技术开发区, 高新区, 新区 …) at county level: their
/// fifth digit is 7 (`xxxx71`-`xxxx79`); they have no GB/T 2260 code and no polygon.
pub fn is_functional_zone(code: &str, _name: &str) -> bool {
    code.len() == 6 && code.as_bytes()[4] == b'7'
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn insert_and_chain() {
        let mut t = DivisionTree::default();
        t.insert("33", "浙江省", false, false).unwrap();
        t.insert("3301", "杭州市", false, false).unwrap();
        let x = t.insert("330106", "西湖区", false, false).unwrap();
        let s = t.insert("330106001", "北山街道", false, false).unwrap();
        assert_eq!(t.chain(s).len(), 4);
        assert_eq!(t.full_name(x), "浙江省杭州市西湖区");
        assert_eq!(t.get(x).code(), "330106");
        assert_eq!(t.get(t.find("3301").unwrap()).code(), "330100");
        assert!(t.is_within(s, t.find("33").unwrap()));
        assert_eq!(t.ancestor_at(s, Level::City), t.find("3301"));
    }
}
