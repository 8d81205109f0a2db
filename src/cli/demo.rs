//! `demo` and `synth`: the job end to end on built-in data, and the generator behind it.

use std::path::PathBuf;

use anyhow::Context;
use b3lake::source::synth;
use chrono::NaiveDate;
use clap::Args;

use super::LakeArg;

#[derive(Args, Debug)]
pub struct DemoArgs {
    #[command(flatten)]
    lake: LakeArg,
    /// First day of the synthetic month.
    #[arg(long, default_value = "2024-01-01")]
    month: NaiveDate,
}

impl DemoArgs {
    pub async fn run(self, progress: bool) -> anyhow::Result<()> {
        let report = b3lake::demo::run(&self.lake.lake, self.month, progress).await?;
        println!("ingested into {}: {}", self.lake.lake, report.ingest);
        println!("transformed: {}\n", report.transform);
        for (title, table) in report.results {
            println!("{title}\n{table}\n");
        }
        Ok(())
    }
}

#[derive(Args, Debug)]
pub struct SynthArgs {
    /// Output file; a name ending in .zip writes a ZIP.
    #[arg(long)]
    out: PathBuf,
    /// First calendar day (YYYY-MM-DD).
    #[arg(long)]
    from: NaiveDate,
    /// Last calendar day (YYYY-MM-DD).
    #[arg(long)]
    to: NaiveDate,
    /// The generator's seed: the same seed and days write the same file.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

impl SynthArgs {
    pub fn run(self) -> anyhow::Result<()> {
        anyhow::ensure!(self.from <= self.to, "--from {} is after --to {}", self.from, self.to);
        let summary = synth::write_file(&self.out, self.from, self.to, self.seed)
            .with_context(|| format!("writing {}", self.out.display()))?;
        println!(
            "wrote {}: {} trading days, {} records, {:.1} MB",
            self.out.display(),
            summary.days,
            summary.records,
            summary.bytes as f64 / 1e6
        );
        Ok(())
    }
}
