//! The `b3lake` command: arguments in, library call, exit code out.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use b3lake::catalog::sync::{self, Scope, SyncOptions};
use b3lake::catalog::{GlueCatalog, LocalCatalog};
use b3lake::ingest::portfolio::{check_date, ingest_portfolio};
use b3lake::ingest::{IngestOptions, ingest};
use b3lake::lake::Lake;
use b3lake::quality::{self, CheckOptions};
use b3lake::report::{self, ReportOptions};
use b3lake::source::download::{DEFAULT_BASE_URL, DownloadOptions, Downloader, Period, default_cache_dir};
use b3lake::source::portfolio::{self, DEFAULT_PORTFOLIO_URL, Language, PortfolioClient, PortfolioOptions};
use b3lake::source::{self, ReaderOptions, synth};
use b3lake::telemetry::{self, LogFormat};
use b3lake::transform::trigger::{self, Target};
use b3lake::transform::watch::{WatchOptions, watch};
use b3lake::transform::{Days, Layout, Queries, TransformOptions, transform};
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
    /// Read an index's portfolio of the day (IBOV by default) from B3 into the raw_ibov table.
    IngestIbov(IngestIbovArgs),
    /// Write a realistic synthetic COTAHIST file.
    Synth(SynthArgs),
    /// Refine the raw table with the SQL of queries/transform/ (incremental by default).
    Transform(TransformArgs),
    /// Handle an S3 event notification (the JSON AWS gives a Lambda): transform its days.
    Trigger(TriggerArgs),
    /// Poll the raw table and transform each new or changed day.
    Watch(WatchArgs),
    /// Check the raw and refined tables; exit non-zero past the thresholds.
    Check(CheckArgs),
    /// Sync the lake's catalog with AWS Glue, or read Glue's definitions back.
    Catalog {
        #[command(subcommand)]
        action: CatalogAction,
    },
    /// Run SQL on the lake's tables: a REPL at a terminal, or -c, -f and standard input.
    Sql(SqlArgs),
    /// Draw a chart of the lake to a PNG or SVG file.
    Chart {
        #[command(subcommand)]
        kind: ChartKind,
    },
    /// Write one self-contained HTML page about a range of days: charts, top tables, checks.
    Report(ReportArgs),
    /// Run end to end on built-in data: generate a month, add a real B3 day, ingest, transform, query.
    Demo {
        #[command(flatten)]
        lake: LakeArg,
        /// First day of the synthetic month.
        #[arg(long, default_value = "2024-01-01")]
        month: NaiveDate,
    },
}

#[derive(Args)]
struct ChartOut {
    #[command(flatten)]
    lake: LakeArg,
    /// The picture: FILE.png or FILE.svg.
    #[arg(long)]
    out: PathBuf,
    /// Width in pixels.
    #[arg(long, default_value_t = 1200)]
    width: u32,
    /// Height in pixels.
    #[arg(long, default_value_t = 675)]
    height: u32,
}

#[derive(Args)]
struct DayRange {
    /// First day (YYYY-MM-DD).
    #[arg(long)]
    from: NaiveDate,
    /// Last day (YYYY-MM-DD).
    #[arg(long)]
    to: NaiveDate,
}

#[derive(Subcommand)]
enum ChartKind {
    /// The tickers with the largest traded value on a day, as bars.
    TopVolume {
        #[arg(long)]
        day: NaiveDate,
        /// How many tickers.
        #[arg(long, default_value_t = 10)]
        n: usize,
        #[command(flatten)]
        out: ChartOut,
    },
    /// Daily candles, VWAP and traded value of tickers (one panel each).
    Price {
        /// A ticker (PETR4); repeatable.
        #[arg(long = "symbol", required = true)]
        symbols: Vec<String>,
        #[command(flatten)]
        range: DayRange,
        #[command(flatten)]
        out: ChartOut,
    },
    /// The spot market's traded value per day.
    MarketVolume {
        #[command(flatten)]
        range: DayRange,
        #[command(flatten)]
        out: ChartOut,
    },
    /// Daily % change (close over open) of the most traded tickers, as a heatmap.
    ReturnsHeatmap {
        #[command(flatten)]
        range: DayRange,
        /// How many tickers.
        #[arg(long, default_value_t = 20)]
        n: usize,
        #[command(flatten)]
        out: ChartOut,
    },
    /// Options' traded value (calls and puts) by expiry date.
    ExpiryCalendar {
        #[command(flatten)]
        range: DayRange,
        /// How many expiries, nearest first.
        #[arg(long, default_value_t = 20)]
        n: usize,
        #[command(flatten)]
        out: ChartOut,
    },
    /// Any query's result: one column against another.
    Sql {
        /// The query.
        #[arg(long)]
        sql: String,
        /// The column on the x axis.
        #[arg(long)]
        x: String,
        /// The column on the y axis (numeric).
        #[arg(long)]
        y: String,
        #[arg(long, default_value = "bar")]
        kind: b3lake::chart::data::XyStyle,
        #[command(flatten)]
        out: ChartOut,
    },
}

#[derive(Args)]
struct ReportArgs {
    #[command(flatten)]
    lake: LakeArg,
    #[command(flatten)]
    range: DayRange,
    /// The page to write.
    #[arg(long, default_value = "report.html")]
    out: PathBuf,
}

#[derive(Args)]
struct SqlArgs {
    #[command(flatten)]
    lake: LakeArg,
    /// A statement to run; repeatable, run in order (after the -f files).
    #[arg(short = 'c', long = "command")]
    command: Vec<String>,
    /// A file of statements separated by ';'; repeatable.
    #[arg(short = 'f', long = "file")]
    file: Vec<PathBuf>,
    /// Output format: table, csv, tsv, json or ndjson.
    #[arg(long, default_value = "table")]
    format: b3lake::frontend::print::Format,
    /// Write results to this file instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
    /// A value for ${NAME} in the SQL: NAME=VALUE; repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = b3lake::frontend::script::Vars::parse_assignment)]
    vars: Vec<(String, String)>,
    /// Where statements run: local (this machine, on the lake) or athena.
    #[arg(long, default_value = "local")]
    engine: b3lake::frontend::shell::EngineKind,
    /// Rows a table shows at most [default: 50 in the REPL, all otherwise].
    #[arg(long)]
    max_rows: Option<usize>,
    /// Where partitions come from: the catalog's index, or a listing of the folders.
    #[arg(long, default_value = "index")]
    partitions: b3lake::sql::Partitions,
    /// Athena workgroup.
    #[arg(long, env = "B3LAKE_ATHENA_WORKGROUP", default_value = "primary")]
    workgroup: String,
    /// Athena's result location (s3://...) [default: the workgroup's].
    #[arg(long, env = "B3LAKE_ATHENA_OUTPUT")]
    athena_output: Option<String>,
    #[command(flatten)]
    glue: GlueArgs,
}

#[derive(Subcommand)]
enum CatalogAction {
    /// Make the Glue Data Catalog match the lake's catalog: tables and partitions.
    Sync {
        #[command(flatten)]
        lake: LakeArg,
        #[command(flatten)]
        glue: GlueArgs,
        /// Print the changes without making them.
        #[arg(long)]
        dry_run: bool,
        /// Compare every partition with Glue, not only the days changed since the last sync.
        #[arg(long)]
        full: bool,
    },
    /// Read the table definitions of a Glue database into the lake's catalog (or --out).
    Pull {
        #[command(flatten)]
        lake: LakeArg,
        #[command(flatten)]
        glue: GlueArgs,
        /// Write one DDL file per table into this folder instead (e.g. catalog/).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Args)]
struct GlueArgs {
    /// Glue database.
    #[arg(long, env = "B3LAKE_GLUE_DATABASE", default_value = "default")]
    database: String,
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
    /// Then sync the days written with this Glue database.
    #[arg(long, value_name = "DATABASE", num_args = 0..=1, default_missing_value = "default")]
    sync_glue: Option<String>,
}

#[derive(Args)]
struct IngestIbovArgs {
    /// The day the portfolio must be of (YYYY-MM-DD); B3 serves the current day's portfolio
    /// only, so another day is an error [default: whatever day B3 answers].
    #[arg(long)]
    date: Option<NaiveDate>,
    /// The index: IBOV, IBXX, IBXL, SMLL, IDIV, ...
    #[arg(long, default_value = "IBOV", value_parser = portfolio::check_index)]
    index: String,
    /// Language of B3's answer, which sets its number and date formats: pt-br or en-us.
    #[arg(long, default_value = "pt-br")]
    language: Language,
    #[command(flatten)]
    lake: LakeArg,
    /// B3's index API (GetPortfolioDay/... is appended), or a mirror of it.
    #[arg(long, env = "B3LAKE_PORTFOLIO_URL", default_value = DEFAULT_PORTFOLIO_URL)]
    base_url: String,
    /// Read a saved GetPortfolioDay answer instead of calling B3.
    #[arg(long)]
    file: Option<PathBuf>,
    /// Attempts per request, the first included.
    #[arg(long, default_value_t = 5)]
    attempts: u32,
    /// Delay before the first retry, in milliseconds; doubled each retry.
    #[arg(long, default_value_t = 500)]
    backoff_ms: u64,
    /// Members per page asked of B3 (B3's site asks for 9999: one page).
    #[arg(long, default_value_t = 9999, value_parser = clap::value_parser!(u32).range(1..))]
    page_size: u32,
    /// Then sync the day's partition with this Glue database.
    #[arg(long, value_name = "DATABASE", num_args = 0..=1, default_missing_value = "default")]
    sync_glue: Option<String>,
}

#[derive(Args, Clone)]
struct JobArgs {
    /// Refined layout: symbol (year/month/day/symbol folders) or compact (one file a day).
    /// Changing a lake's layout needs --all.
    #[arg(long)]
    layout: Option<Layout>,
    /// SQL predicate on raw columns choosing the instruments [default: the lake's, or tipo_mercado = 10].
    #[arg(long)]
    filter: Option<String>,
    /// Run the transform SQL files of this folder instead of the built-in ones.
    #[arg(long)]
    queries: Option<PathBuf>,
    /// Trading days transformed at once [default: one per core].
    #[arg(long)]
    parallelism: Option<usize>,
    /// Then sync the days written with this Glue database.
    #[arg(long, value_name = "DATABASE", num_args = 0..=1, default_missing_value = "default")]
    sync_glue: Option<String>,
}

impl JobArgs {
    fn options(&self, days: Days, progress: bool) -> anyhow::Result<TransformOptions> {
        let mut opts = TransformOptions {
            days,
            layout: self.layout,
            filter: self.filter.clone(),
            progress,
            sync_glue: self.sync_glue.clone(),
            ..Default::default()
        };
        if let Some(dir) = &self.queries {
            opts.queries = Queries::from_dir(dir)?;
        }
        if let Some(n) = self.parallelism {
            opts.parallelism = n.max(1);
        }
        Ok(opts)
    }
}

#[derive(Args)]
struct TransformArgs {
    #[command(flatten)]
    lake: LakeArg,
    /// Transform this trading day (YYYY-MM-DD), even if up to date; repeatable.
    #[arg(long, conflicts_with_all = ["from", "all"])]
    day: Vec<NaiveDate>,
    /// First day of a range (with --to).
    #[arg(long, requires = "to", conflicts_with = "all")]
    from: Option<NaiveDate>,
    /// Last day of a range (with --from).
    #[arg(long, requires = "from")]
    to: Option<NaiveDate>,
    /// Transform every raw day again.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    job: JobArgs,
}

#[derive(Args)]
struct TriggerArgs {
    /// The S3 event notification JSON ("-" for standard input).
    event: PathBuf,
    /// Start this Glue job (one run per trading day) instead of transforming here.
    #[arg(long)]
    glue_job: Option<String>,
    /// Transform this lake instead of the one the event names (local runs only).
    #[arg(long, conflicts_with = "glue_job")]
    lake: Option<String>,
    /// StartJobRun attempts when Glue throttles.
    #[arg(long, default_value_t = 6)]
    attempts: u32,
    /// Delay before the first retry, in milliseconds; doubled each retry.
    #[arg(long, default_value_t = 500)]
    backoff_ms: u64,
    #[command(flatten)]
    job: JobArgs,
}

#[derive(Args)]
struct WatchArgs {
    #[command(flatten)]
    lake: LakeArg,
    /// Seconds between polls.
    #[arg(long, default_value_t = 60)]
    interval: u64,
    /// Stop after this many polls [default: never].
    #[arg(long)]
    polls: Option<u64>,
    #[command(flatten)]
    job: JobArgs,
}

#[derive(Args)]
struct CheckArgs {
    #[command(flatten)]
    lake: LakeArg,
    /// Check only this trading day (YYYY-MM-DD); repeatable [default: every day].
    #[arg(long)]
    day: Vec<NaiveDate>,
    /// Output: table or json.
    #[arg(long, default_value = "table")]
    format: CheckFormat,
    /// Violations allowed for one check: CHECK=N or TABLE.CHECK=N; repeatable.
    #[arg(long, value_parser = parse_threshold)]
    threshold: Vec<(String, u64)>,
    /// Violations allowed for the checks without --threshold.
    #[arg(long, default_value_t = 0)]
    max_violations: u64,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum CheckFormat {
    Table,
    Json,
}

fn parse_threshold(s: &str) -> Result<(String, u64), String> {
    let (name, n) = s.split_once('=').ok_or("expected CHECK=N")?;
    Ok((name.to_string(), n.parse().map_err(|e| format!("{n:?}: {e}"))?))
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

/// Stack of every thread that plans or evaluates SQL. Statements may nest up to
/// `b3lake::sql::depth::MAX_DEPTH` levels, and evaluating them recurses once per level; the
/// memory is only reserved, and touched as deep statements need it.
const STACK: usize = 64 << 20;

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format, &cli.log_level);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(STACK)
        .build()
        .expect("a Tokio runtime");
    // The command itself runs on a thread of that size too, not on the main thread's.
    let command = cli.command;
    let outcome = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || runtime.block_on(run(command)))
        .expect("a thread for the command")
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    match outcome {
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
                sync_glue: args.sync_glue.clone(),
            };
            let report = ingest(&lake, &inputs, &opts).await?;
            println!("ingested into {lake}: {report}");
        }
        Command::IngestIbov(args) => {
            let (portfolio, origin) = match &args.file {
                Some(path) => (portfolio::read_file(path, &args.index, args.language)?, path.display().to_string()),
                None => {
                    let client = PortfolioClient::new(PortfolioOptions {
                        base_url: args.base_url.clone(),
                        attempts: args.attempts.max(1),
                        backoff: Duration::from_millis(args.backoff_ms),
                        page_size: args.page_size,
                        ..Default::default()
                    })?;
                    let origin = client.url(&args.index, args.language, 1);
                    (client.fetch(&args.index, args.language).await?, origin)
                }
            };
            check_date(&portfolio, args.date, &origin)?;
            let lake = Lake::open(&args.lake.lake).await?;
            let report = ingest_portfolio(&lake, &portfolio, args.sync_glue.as_deref()).await?;
            println!("ingested into {lake}: {report}");
        }
        Command::Transform(args) => {
            let days = if args.all {
                Days::All
            } else if let (Some(from), Some(to)) = (args.from, args.to) {
                anyhow::ensure!(from <= to, "--from {from} is after --to {to}");
                Days::Range(from, to)
            } else if !args.day.is_empty() {
                Days::Only(args.day.clone())
            } else {
                Days::Incremental
            };
            let lake = Lake::open(&args.lake.lake).await?;
            let report = transform(&lake, &args.job.options(days, progress)?).await?;
            println!("{lake}: {report}");
        }
        Command::Trigger(args) => {
            let json = if args.event.as_os_str() == "-" {
                let mut buf = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)?;
                buf
            } else {
                std::fs::read(&args.event).with_context(|| format!("reading {}", args.event.display()))?
            };
            let target = match args.glue_job {
                Some(job) => Target::Glue {
                    job,
                    attempts: args.attempts.max(1),
                    backoff: Duration::from_millis(args.backoff_ms),
                },
                None => Target::Local { lake: args.lake, options: args.job.options(Days::Incremental, progress)? },
            };
            let report = trigger::handle_event(&json, &target)
                .await
                .with_context(|| format!("event {}", args.event.display()))?;
            print!("{report}");
        }
        Command::Watch(args) => {
            let lake = Lake::open(&args.lake.lake).await?;
            let opts = WatchOptions {
                interval: Duration::from_secs(args.interval),
                polls: args.polls,
                transform: args.job.options(Days::Incremental, false)?,
            };
            watch(&lake, &opts, |report| println!("{lake}: {report}")).await;
        }
        Command::Check(args) => {
            let lake = Lake::open(&args.lake.lake).await?;
            let opts = CheckOptions {
                days: args.day,
                thresholds: args.threshold.into_iter().collect(),
                default_threshold: args.max_violations,
            };
            let results = quality::check(&lake, &opts).await?;
            match args.format {
                CheckFormat::Table => print!("{}", quality::format_table(&results)),
                CheckFormat::Json => println!("{}", serde_json::to_string_pretty(&results)?),
            }
            let failed: Vec<String> =
                results.iter().filter(|r| !r.passed).map(|r| format!("{}.{}", r.table, r.check)).collect();
            anyhow::ensure!(failed.is_empty(), "{} checks over their threshold: {}", failed.len(), failed.join(", "));
        }
        Command::Catalog { action: CatalogAction::Sync { lake, glue, dry_run, full } } => {
            let lake = Lake::open(&lake.lake).await?;
            let started = std::time::Instant::now();
            let local = LocalCatalog::new(&lake);
            let remote = GlueCatalog::for_lake(&local, &glue.database).await;
            let plan = sync::sync_glue(&local, &remote, &Scope::All, SyncOptions { dry_run, full }).await?;
            print!("{plan}");
            let (added, updated, dropped) = plan.partition_counts();
            if dry_run {
                println!("dry run: nothing changed");
            } else {
                println!(
                    "synced in {:.1} s: {added} partitions added, {updated} updated, {dropped} dropped; {} Glue API calls",
                    started.elapsed().as_secs_f64(),
                    remote.calls()
                );
            }
        }
        Command::Catalog { action: CatalogAction::Pull { lake, glue, out } } => {
            let lake = Lake::open(&lake.lake).await?;
            let local = LocalCatalog::new(&lake);
            let remote = GlueCatalog::for_lake(&local, &glue.database).await;
            let tables = sync::pull(&remote, &local, out.as_deref()).await?;
            let to = out.map_or_else(|| format!("the catalog of {lake}"), |d| d.display().to_string());
            println!(
                "pulled {} tables from the Glue database {} into {to}: {}",
                tables.len(),
                glue.database,
                tables.join(", ")
            );
        }
        Command::Sql(args) => sql(args).await?,
        Command::Chart { kind } => chart(kind).await?,
        Command::Report(args) => {
            let lake = Lake::open(&args.lake.lake).await?;
            let opts = ReportOptions { progress, ..ReportOptions::new(args.range.from, args.range.to) };
            let report = report::write(&lake, &opts, &args.out).await?;
            println!(
                "wrote {}: {} trading {} to {}, {} charts, {} checks failed",
                args.out.display(),
                report.days,
                if report.days == 1 { "day" } else { "days" },
                report.last_day,
                report.charts.len(),
                report.checks_failed
            );
            for why in &report.skipped {
                println!("no chart of {why}");
            }
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
            println!("ingested into {}: {}", lake.lake, report.ingest);
            println!("transformed: {}\n", report.transform);
            for (title, table) in report.results {
                println!("{title}\n{table}\n");
            }
        }
    }
    Ok(())
}

async fn chart(kind: ChartKind) -> anyhow::Result<()> {
    use b3lake::chart::{Kind, Size};

    let (kind, out) = match kind {
        ChartKind::TopVolume { day, n, out } => (Kind::TopVolume { day, n }, out),
        ChartKind::Price { symbols, range, out } => (Kind::Price { symbols, from: range.from, to: range.to }, out),
        ChartKind::MarketVolume { range, out } => (Kind::MarketVolume { from: range.from, to: range.to }, out),
        ChartKind::ReturnsHeatmap { range, n, out } => {
            (Kind::ReturnsHeatmap { from: range.from, to: range.to, n }, out)
        }
        ChartKind::ExpiryCalendar { range, n, out } => {
            (Kind::ExpiryCalendar { from: range.from, to: range.to, n }, out)
        }
        ChartKind::Sql { sql, x, y, kind, out } => (Kind::Sql { sql, x, y, style: kind }, out),
    };
    let size = Size { width: out.width, height: out.height }.check()?;
    b3lake::chart::Format::of(&out.out)?;
    let lake = Lake::open(&out.lake.lake).await?;
    let session = b3lake::sql::session(&lake).await?;
    let figure = b3lake::chart::figure(&session, &kind).await?;
    b3lake::chart::write(&figure, &out.out, size)?;
    println!("wrote {} ({}x{}): {}", out.out.display(), size.width, size.height, figure.title);
    Ok(())
}

async fn sql(args: SqlArgs) -> anyhow::Result<()> {
    use std::io::IsTerminal;

    use b3lake::frontend::shell::{Shell, catch_interrupts};

    let lake = Lake::open(&args.lake.lake).await?;
    let session = b3lake::sql::session_in(&lake, args.partitions, &args.glue.database).await?;
    let interactive = args.command.is_empty() && args.file.is_empty() && std::io::stdin().is_terminal();
    let out: Box<dyn std::io::Write + Send> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout()),
    };
    let mut shell = Shell::new(session, out);
    shell.engine = args.engine;
    shell.athena_options.workgroup = args.workgroup;
    shell.athena_options.database = args.glue.database;
    shell.athena_options.output_location = args.athena_output;
    shell.printer.format = args.format;
    shell.printer.max_rows = args.max_rows;
    for (name, value) in &args.vars {
        shell.vars.set(name, value);
    }
    catch_interrupts();
    if interactive {
        shell.summary_to_stderr = false;
        shell.printer.max_rows = args.max_rows.or(Some(50));
        shell.printer.width = b3lake::frontend::repl::terminal_width();
        return Ok(b3lake::frontend::repl::run(&mut shell).await?);
    }
    for path in &args.file {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        shell.run_script(&path.display().to_string(), &text).await?;
    }
    for (n, sql) in args.command.iter().enumerate() {
        shell.run_script(&format!("-c #{}", n + 1), sql).await?;
    }
    if args.command.is_empty() && args.file.is_empty() {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).context("reading standard input")?;
        shell.run_script("stdin", &text).await?;
    }
    shell.out().flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn tricky_flags_parse_as_documented() {
        // A layout and a period of days, and an unknown layout refused with the choices.
        let cli = Cli::try_parse_from(["b3lake", "transform", "--lake", "l", "--all", "--layout", "compact"]).unwrap();
        assert!(matches!(cli.command, Command::Transform(_)));
        let refused = Cli::try_parse_from(["b3lake", "transform", "--layout", "wide"]).err().unwrap().to_string();
        assert!(refused.contains("symbol or compact"), "{refused}");
        // A script variable is NAME=VALUE; a bare name is refused before anything runs.
        assert!(Cli::try_parse_from(["b3lake", "sql", "--var", "day=2022-02-04", "-c", "SELECT 1"]).is_ok());
        assert!(Cli::try_parse_from(["b3lake", "sql", "--var", "day", "-c", "SELECT 1"]).is_err());
    }
}
