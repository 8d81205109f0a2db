//! The `b3lake` command: arguments in, library call, exit code out.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use b3lake::ingest::{IngestOptions, ingest};
use b3lake::lake::Lake;
use b3lake::source::download::{DEFAULT_BASE_URL, DownloadOptions, Downloader, Period, default_cache_dir};
use b3lake::source::{self, ReaderOptions, synth};
use b3lake::telemetry::{self, LogFormat};
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "b3lake", version, about = "B3 market data into a queryable Parquet data lake, on a laptop or on AWS")]
struct Cli {
    /// Log format on stderr: text or json.
    #[arg(long, global = true, default_value = "text")]
    log_format: LogFormat,
    /// Log level (RUST_LOG overrides it): error, warn, info, debug, trace.
    #[arg(long, global = true, default_value = "warn")]
    log_level: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read COTAHIST files (TXT, ZIP, folders) or downloads from B3 into the raw table.
    Ingest(IngestArgs),
    /// Write a realistic synthetic COTAHIST file.
    Synth(SynthArgs),
    /// Run end to end on built-in data: generate a month, add a real B3 day, ingest, query.
    Demo {
        #[command(flatten)]
        lake: LakeArg,
        /// First day of the synthetic month.
        #[arg(long, default_value = "2024-01-01")]
        month: NaiveDate,
    },
}

#[derive(Args)]
struct LakeArg {
    /// Lake location: a local folder or s3://bucket/prefix.
    #[arg(long, env = "B3LAKE_LAKE", default_value = "./lake")]
    lake: String,
}

#[derive(Args)]
struct IngestArgs {
    /// COTAHIST .TXT or .ZIP files, or folders of them.
    sources: Vec<PathBuf>,
    /// Download B3's daily file for a trading day (YYYY-MM-DD); repeatable.
    #[arg(long, value_parser = parse_period)]
    day: Vec<Period>,
    /// Download B3's monthly file (YYYY-MM); repeatable.
    #[arg(long, value_parser = parse_period)]
    month: Vec<Period>,
    /// Download B3's yearly file (YYYY); repeatable.
    #[arg(long, value_parser = parse_period)]
    year: Vec<Period>,
    #[command(flatten)]
    lake: LakeArg,
    /// Where downloads come from: B3, or a mirror with the same file names.
    #[arg(long, env = "B3LAKE_BASE_URL", default_value = DEFAULT_BASE_URL)]
    base_url: String,
    /// Download cache folder [default: ~/.cache/b3lake].
    #[arg(long, env = "B3LAKE_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Download attempts, the first included.
    #[arg(long, default_value_t = 5)]
    attempts: u32,
    /// Delay before the first download retry, in milliseconds; doubled each retry.
    #[arg(long, default_value_t = 500)]
    backoff_ms: u64,
    /// Accept a trailer whose record count disagrees with the file (for excerpts).
    #[arg(long)]
    allow_count_mismatch: bool,
}

#[derive(Args)]
struct SynthArgs {
    /// Output file; a name ending in .zip writes a ZIP.
    #[arg(long)]
    out: PathBuf,
    /// First calendar day (YYYY-MM-DD).
    #[arg(long)]
    from: NaiveDate,
    /// Last calendar day (YYYY-MM-DD).
    #[arg(long)]
    to: NaiveDate,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn parse_period(s: &str) -> Result<Period, String> {
    Period::parse(s)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format, &cli.log_level);
    let runtime = tokio::runtime::Runtime::new().expect("a Tokio runtime");
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    match command {
        Command::Ingest(args) => {
            let periods: Vec<Period> = args.day.iter().chain(&args.month).chain(&args.year).copied().collect();
            if args.sources.is_empty() && periods.is_empty() {
                anyhow::bail!("nothing to ingest: name files or folders, or --day/--month/--year to download");
            }
            let mut paths = args.sources.clone();
            if !periods.is_empty() {
                let downloader = Downloader::new(DownloadOptions {
                    base_url: args.base_url.clone(),
                    cache_dir: args.cache_dir.clone().unwrap_or_else(default_cache_dir),
                    attempts: args.attempts.max(1),
                    backoff: Duration::from_millis(args.backoff_ms),
                    ..Default::default()
                })?;
                for period in periods {
                    paths.push(downloader.fetch(period).await?);
                }
            }
            let inputs = source::resolve(&paths)?;
            let lake = Lake::open(&args.lake.lake).await?;
            let opts = IngestOptions {
                reader: ReaderOptions { allow_count_mismatch: args.allow_count_mismatch, ..Default::default() },
                progress,
            };
            let report = ingest(&lake, &inputs, &opts).await?;
            println!("ingested into {lake}: {report}");
        }
        Command::Synth(args) => {
            anyhow::ensure!(args.from <= args.to, "--from {} is after --to {}", args.from, args.to);
            let summary = synth::write_file(&args.out, args.from, args.to, args.seed)
                .with_context(|| format!("writing {}", args.out.display()))?;
            println!(
                "wrote {}: {} trading days, {} records, {:.1} MB",
                args.out.display(),
                summary.days,
                summary.records,
                summary.bytes as f64 / 1e6
            );
        }
        Command::Demo { lake, month } => {
            let report = b3lake::demo::run(&lake.lake, month, progress).await?;
            println!("ingested into {}: {}\n", lake.lake, report.ingest);
            for (title, table) in report.results {
                println!("{title}\n{table}\n");
            }
        }
    }
    Ok(())
}
