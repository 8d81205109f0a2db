//! The built-in end-to-end run: what a new user sees first, with no AWS and no download.
//!
//! It generates a month of realistic COTAHIST data, adds the real B3 session of 2022-02-04
//! that ships with b3lake, ingests both into a local lake, refines them with the transform
//! job and queries the result.

use std::path::PathBuf;

use arrow::util::pretty::pretty_format_batches;
use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::ingest::{IngestOptions, IngestReport, ingest};
use crate::lake::Lake;
use crate::source::{self, synth};
use crate::transform::{TransformOptions, TransformReport, transform};

/// B3's complete COTAHIST file for the session of 2022-02-04.
const REAL_DAY: &[u8] = include_bytes!("../tests/data/COTAHIST_D04022022.TXT");
const REAL_DAY_NAME: &str = "COTAHIST_D04022022.TXT";

/// The demo's queries, shown with their answers.
pub const QUERIES: &[(&str, &str)] = &[
    (
        "Trading days: raw records, spot tickers, traded value, advancers and decliners",
        "SELECT r.data_pregao, r.registros, s.numero_tickers, s.vol_financeiro_total, s.altas, s.baixas, \
         s.maior_alta, round(s.maior_alta_pct, 2) AS maior_alta_pct \
         FROM (SELECT data_pregao, count(*) AS registros FROM cotacoes_b3_raw GROUP BY data_pregao) r \
         JOIN cotacoes_b3_resumo_diario s ON s.data_pregao = r.data_pregao ORDER BY r.data_pregao",
    ),
    (
        "Most traded spot stocks on 2022-02-04 (real B3 data, refined)",
        "SELECT symbol, nome_empresa, preco_abertura, preco_fechamento, preco_medio_ponderado, \
         numero_negocios, vol_financeiro_total, round(variacao_percentual_dia, 2) AS variacao_pct \
         FROM cotacoes_b3_refined WHERE year = 2022 AND month = 2 AND day = 4 \
         ORDER BY vol_financeiro_total DESC LIMIT 5",
    ),
];

/// What the demo did and found.
pub struct DemoReport {
    /// The ingest of the generated month and the real day.
    pub ingest: IngestReport,
    /// The transform of every day ingested.
    pub transform: TransformReport,
    /// Each query's title and its result as a table.
    pub results: Vec<(String, String)>,
}

/// Runs the demo into the lake at `location`; `month` is the synthetic month's first day.
pub async fn run(location: &str, month: NaiveDate, progress: bool) -> Result<DemoReport> {
    let work = std::env::temp_dir().join(format!("b3lake-demo-{}", std::process::id()));
    let io = |e: std::io::Error| Error::Usage(format!("demo inputs in {}: {e}", work.display()));
    std::fs::create_dir_all(&work).map_err(io)?;
    let last = month
        .checked_add_months(chrono::Months::new(1))
        .and_then(|d| d.pred_opt())
        .ok_or_else(|| Error::Usage(format!("no month after {month}")))?;
    let synthetic: PathBuf = work.join(format!("COTAHIST_M{}.TXT", month.format("%m%Y")));
    synth::write_file(&synthetic, month, last, 42).map_err(io)?;
    let real = work.join(REAL_DAY_NAME);
    std::fs::write(&real, REAL_DAY).map_err(io)?;

    let result = async {
        let lake = Lake::open(location).await?;
        let inputs = source::resolve(&[synthetic.clone(), real.clone()])?;
        let report = ingest(&lake, &inputs, &IngestOptions { progress, ..Default::default() }).await?;
        let refined = transform(&lake, &TransformOptions { progress, ..Default::default() }).await?;
        let session = crate::sql::session(&lake).await?;
        let mut results = Vec::new();
        for (title, sql) in QUERIES {
            let batches = session.plan(sql).await?.collect().await?;
            let table = pretty_format_batches(&batches).map_err(datafusion::error::DataFusionError::from)?;
            results.push((title.to_string(), table.to_string()));
        }
        Ok(DemoReport { ingest: report, transform: refined, results })
    }
    .await;
    let _ = std::fs::remove_dir_all(&work);
    result
}
