//! The `b3lake` command: arguments in, library call, exit code out. Each command's arguments
//! and its `run` are in [`cli`].

mod cli;

use std::process::ExitCode;

use b3lake::chain::Chain;
use b3lake::telemetry::{self, LogFormat};
use clap::{Parser, Subcommand};

use cli::catalog::CatalogAction;
use cli::chart::ChartKind;
use cli::check::CheckArgs;
use cli::demo::{DemoArgs, SynthArgs};
use cli::ingest::{IngestArgs, IngestIbovArgs};
use cli::report::ReportArgs;
use cli::serve::ServeArgs;
use cli::sql::SqlArgs;
use cli::transform::{TransformArgs, TriggerArgs, WatchArgs};

#[derive(Parser, Debug)]
#[command(name = "b3lake", version, about = "B3 market data into a queryable Parquet data lake, on a laptop or on AWS")]
struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, default_value = "text")]
    log_format: LogFormat,
    /// Log level (RUST_LOG overrides it): error, warn, info, debug, trace.
    #[arg(long, global = true, default_value = "warn")]
    log_level: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
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
    /// Serve Amazon Athena's API on a local port, so that boto3, PyAthena, awswrangler or dbt
    /// run their Athena code on the lake.
    Serve(ServeArgs),
    /// Draw a chart of the lake to a PNG or SVG file.
    Chart {
        #[command(subcommand)]
        kind: ChartKind,
    },
    /// Write one self-contained HTML page about a range of days: charts, top tables, checks.
    Report(ReportArgs),
    /// Run end to end on built-in data: generate a month, add a real B3 day, ingest, transform, query.
    Demo(DemoArgs),
}

/// Stack of every thread that plans or evaluates SQL.
const STACK: usize = b3lake::deadline::STACK;

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
            // The same one-line chain as every error the library prints or logs.
            eprintln!("error: {}", Chain(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    // Progress bars only for a person watching.
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    match command {
        Command::Ingest(args) => args.run(progress).await,
        Command::IngestIbov(args) => args.run().await,
        Command::Synth(args) => args.run(),
        Command::Transform(args) => args.run(progress).await,
        Command::Trigger(args) => args.run(progress).await,
        Command::Watch(args) => args.run().await,
        Command::Check(args) => args.run().await,
        Command::Catalog { action } => action.run().await,
        Command::Sql(args) => args.run().await,
        Command::Serve(args) => args.run().await,
        Command::Chart { kind } => kind.run().await,
        Command::Report(args) => args.run(progress).await,
        Command::Demo(args) => args.run(progress).await,
    }
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
        assert!(refused.contains("[possible values: symbol, compact]"), "{refused}");
        // A script variable is NAME=VALUE; a bare name is refused before anything runs.
        assert!(Cli::try_parse_from(["b3lake", "sql", "--var", "day=2022-02-04", "-c", "SELECT 1"]).is_ok());
        assert!(Cli::try_parse_from(["b3lake", "sql", "--var", "day", "-c", "SELECT 1"]).is_err());
    }
}
