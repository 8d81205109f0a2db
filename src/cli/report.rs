//! `report`: one self-contained HTML page about a range of days.

use std::path::PathBuf;

use b3lake::report::{self, ReportOptions};
use clap::Args;

use super::{DayRange, LakeArg};

#[derive(Args, Debug)]
pub struct ReportArgs {
    #[command(flatten)]
    lake: LakeArg,
    #[command(flatten)]
    range: DayRange,
    /// The page to write.
    #[arg(long, default_value = "report.html")]
    out: PathBuf,
}

impl ReportArgs {
    pub async fn run(self, progress: bool) -> anyhow::Result<()> {
        let lake = self.lake.open().await?;
        let opts = ReportOptions { progress, ..ReportOptions::new(self.range.from, self.range.to) };
        let report = report::write(&lake, &opts, &self.out).await?;
        println!(
            "wrote {}: {} trading {} to {}, {} charts, {} checks failed",
            self.out.display(),
            report.days,
            if report.days == 1 { "day" } else { "days" },
            report.last_day,
            report.charts.len(),
            report.checks_failed
        );
        for why in &report.skipped {
            println!("no chart of {why}");
        }
        Ok(())
    }
}
