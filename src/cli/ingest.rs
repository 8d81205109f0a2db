//! `ingest` and `ingest-ibov`: B3's files into the raw tables.

use std::path::PathBuf;

use b3lake::ingest::portfolio::{check_date, ingest_portfolio};
use b3lake::ingest::{IngestOptions, ingest};
use b3lake::source::download::{DEFAULT_BASE_URL, DownloadOptions, Downloader, Period, default_cache_dir};
use b3lake::source::portfolio::{self, DEFAULT_PORTFOLIO_URL, Language, PortfolioClient, PortfolioOptions};
use b3lake::source::{self, ReaderOptions};
use chrono::NaiveDate;
use clap::Args;

use super::{LakeArg, RetryArgs, SyncGlueArg};

#[derive(Args, Debug)]
pub struct IngestArgs {
    /// COTAHIST .TXT or .ZIP files, or folders of them.
    sources: Vec<PathBuf>,
    /// Download B3's daily file for a trading day (YYYY-MM-DD); repeatable.
    #[arg(long, value_parser = Period::parse)]
    day: Vec<Period>,
    /// Download B3's monthly file (YYYY-MM); repeatable.
    #[arg(long, value_parser = Period::parse)]
    month: Vec<Period>,
    /// Download B3's yearly file (YYYY); repeatable.
    #[arg(long, value_parser = Period::parse)]
    year: Vec<Period>,
    #[command(flatten)]
    lake: LakeArg,
    /// Where downloads come from: B3, or a mirror with the same file names.
    #[arg(long, env = "B3LAKE_BASE_URL", default_value = DEFAULT_BASE_URL)]
    base_url: String,
    /// Download cache folder [default: ~/.cache/b3lake].
    #[arg(long, env = "B3LAKE_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    #[command(flatten)]
    retry: RetryArgs,
    /// Accept a trailer whose record count disagrees with the file (for excerpts).
    #[arg(long)]
    allow_count_mismatch: bool,
    #[command(flatten)]
    sync: SyncGlueArg,
}

impl IngestArgs {
    pub async fn run(self, progress: bool) -> anyhow::Result<()> {
        let periods: Vec<Period> = self.day.iter().chain(&self.month).chain(&self.year).copied().collect();
        if self.sources.is_empty() && periods.is_empty() {
            anyhow::bail!("nothing to ingest: name files or folders, or --day/--month/--year to download");
        }
        let mut paths = self.sources;
        if !periods.is_empty() {
            let downloader = Downloader::new(DownloadOptions {
                base_url: self.base_url,
                cache_dir: self.cache_dir.unwrap_or_else(default_cache_dir),
                retry: self.retry.config(),
                ..Default::default()
            })?;
            for period in periods {
                paths.push(downloader.fetch(period).await?);
            }
        }
        let inputs = source::resolve(&paths)?;
        let lake = self.lake.open().await?;
        let opts = IngestOptions {
            reader: ReaderOptions { allow_count_mismatch: self.allow_count_mismatch, ..Default::default() },
            progress,
            sync_glue: self.sync.sync_glue,
        };
        let report = ingest(&lake, &inputs, &opts).await?;
        println!("ingested into {lake}: {report}");
        Ok(())
    }
}

#[derive(Args, Debug)]
pub struct IngestIbovArgs {
    /// The day the portfolio must be of (YYYY-MM-DD); B3 serves the current day's portfolio
    /// only, so another day is an error [default: whatever day B3 answers].
    #[arg(long)]
    date: Option<NaiveDate>,
    /// The index: IBOV, IBXX, IBXL, SMLL, IDIV, ...
    #[arg(long, default_value = "IBOV", value_parser = portfolio::check_index)]
    index: String,
    /// Language of B3's answer, which sets its number and date formats.
    #[arg(long, default_value = "pt-br", ignore_case = true)]
    language: Language,
    #[command(flatten)]
    lake: LakeArg,
    /// B3's index API (GetPortfolioDay/... is appended), or a mirror of it.
    #[arg(long, env = "B3LAKE_PORTFOLIO_URL", default_value = DEFAULT_PORTFOLIO_URL)]
    base_url: String,
    /// Read a saved GetPortfolioDay answer instead of calling B3.
    #[arg(long)]
    file: Option<PathBuf>,
    #[command(flatten)]
    retry: RetryArgs,
    /// Members per page asked of B3 (B3's site asks for 9999: one page).
    #[arg(long, default_value_t = 9999, value_parser = clap::value_parser!(u32).range(1..))]
    page_size: u32,
    #[command(flatten)]
    sync: SyncGlueArg,
}

impl IngestIbovArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        let (portfolio, origin) = match &self.file {
            Some(path) => (portfolio::read_file(path, &self.index, self.language)?, path.display().to_string()),
            None => {
                let client = PortfolioClient::new(PortfolioOptions {
                    base_url: self.base_url,
                    retry: self.retry.config(),
                    page_size: self.page_size,
                    ..Default::default()
                })?;
                let origin = client.url(&self.index, self.language, 1);
                (client.fetch(&self.index, self.language).await?, origin)
            }
        };
        check_date(&portfolio, self.date, &origin)?;
        let lake = self.lake.open().await?;
        let report = ingest_portfolio(&lake, &portfolio, self.sync.sync_glue.as_deref()).await?;
        println!("ingested into {lake}: {report}");
        Ok(())
    }
}
