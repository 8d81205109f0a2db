//! `check`: the data quality checks, as a table or JSON, failing past their thresholds.

use b3lake::quality::{self, CheckOptions};
use chrono::NaiveDate;
use clap::{Args, ValueEnum};

use super::LakeArg;

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    lake: LakeArg,
    /// Check only this trading day (YYYY-MM-DD); repeatable [default: every day].
    #[arg(long)]
    day: Vec<NaiveDate>,
    /// Output.
    #[arg(long, default_value = "table")]
    format: CheckFormat,
    /// Violations allowed for one check: CHECK=N or TABLE.CHECK=N; repeatable.
    #[arg(long, value_parser = parse_threshold)]
    threshold: Vec<(String, u64)>,
    /// Violations allowed for the checks without --threshold.
    #[arg(long, default_value_t = 0)]
    max_violations: u64,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum CheckFormat {
    Table,
    Json,
}

fn parse_threshold(s: &str) -> Result<(String, u64), String> {
    let (name, n) = s.split_once('=').ok_or("expected CHECK=N")?;
    Ok((name.to_string(), n.parse().map_err(|e| format!("{n:?}: {e}"))?))
}

impl CheckArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        let lake = self.lake.open().await?;
        let opts = CheckOptions {
            days: self.day,
            thresholds: self.threshold.into_iter().collect(),
            default_threshold: self.max_violations,
        };
        let results = quality::check(&lake, &opts).await?;
        match self.format {
            CheckFormat::Table => print!("{}", quality::format_table(&results)),
            CheckFormat::Json => println!("{}", serde_json::to_string_pretty(&results)?),
        }
        let failed: Vec<String> =
            results.iter().filter(|r| !r.passed).map(|r| format!("{}.{}", r.table, r.check)).collect();
        anyhow::ensure!(failed.is_empty(), "{} checks over their threshold: {}", failed.len(), failed.join(", "));
        Ok(())
    }
}
