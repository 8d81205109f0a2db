//! How the lake's refined table is built, kept in the lake (`_b3lake/refined.json`): its
//! layout and the filter that chooses its raw records. The transform writes it; the charts and
//! checks read it, so it lives with the catalog rather than with the job.

use serde::{Deserialize, Serialize};

use super::Error;
use crate::lake::Lake;
use crate::lake::layout::META;

/// How the refined table is cut into files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// `year=/month=/day=/symbol=/part-00000.parquet`: one small file per ticker and day, the
    /// design's layout. Engines that list partitions find one ticker's files without opening
    /// any other; every engine pays a per-file cost on wide scans.
    #[default]
    Symbol,
    /// `year=/month=/day=/part-00000.parquet`: one file per day sorted by symbol, with small
    /// row groups, page statistics and a Bloom filter on `symbol`, so a symbol filter skips
    /// the rest of the file.
    Compact,
}

impl Layout {
    /// The name used on the command line and in `refined.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Symbol => "symbol",
            Layout::Compact => "compact",
        }
    }
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The raw records the refined table holds by default: the spot market.
pub const DEFAULT_FILTER: &str = "tipo_mercado = 10";

const SPEC_FILE: &str = "refined.json";

/// How the lake's refined table is built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefinedSpec {
    /// How the table is cut into files.
    pub layout: Layout,
    /// SQL predicate on raw columns choosing the instruments.
    pub filter: String,
}

impl Default for RefinedSpec {
    fn default() -> Self {
        Self { layout: Layout::default(), filter: DEFAULT_FILTER.to_string() }
    }
}

impl RefinedSpec {
    /// The lake's spec, or `None` before the first transform.
    pub async fn load(lake: &Lake) -> Result<Option<Self>, Error> {
        let path = lake.path(&format!("{META}/{SPEC_FILE}"));
        let Some(bytes) = lake.read(&path).await? else { return Ok(None) };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| Error::Invalid(format!("{path}: {e}")))
    }

    /// One PUT: atomic on every store, so a crash leaves the old spec or the new.
    pub async fn save(&self, lake: &Lake) -> Result<(), Error> {
        let path = lake.path(&format!("{META}/{SPEC_FILE}"));
        Ok(lake.write(&path, serde_json::to_vec_pretty(self).expect("a spec serializes")).await?)
    }
}
