//! `sql`: statements on the lake, from a REPL at a terminal, or from -c, -f and standard input.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use b3lake::frontend::print::Format;
use b3lake::frontend::repl;
use b3lake::frontend::script::Vars;
use b3lake::frontend::shell::{EngineKind, Shell, catch_interrupts};
use b3lake::sql::Partitions;
use clap::Args;

use super::{GlueArgs, LakeArg};

#[derive(Args, Debug)]
pub struct SqlArgs {
    #[command(flatten)]
    lake: LakeArg,
    /// A statement to run; repeatable, run in order (after the -f files).
    #[arg(short = 'c', long = "command")]
    command: Vec<String>,
    /// A file of statements separated by ';'; repeatable.
    #[arg(short = 'f', long = "file")]
    file: Vec<PathBuf>,
    /// Output format.
    #[arg(long, default_value = "table", ignore_case = true)]
    format: Format,
    /// Write results to this file instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
    /// A value for ${NAME} in the SQL: NAME=VALUE; repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = Vars::parse_assignment)]
    vars: Vec<(String, String)>,
    /// Where statements run: on this machine, on the lake, or in Athena.
    #[arg(long, default_value = "local", ignore_case = true)]
    engine: EngineKind,
    /// Rows a table shows at most [default: 50 in the REPL, all otherwise].
    #[arg(long)]
    max_rows: Option<usize>,
    /// Where partitions come from.
    #[arg(long, default_value = "index")]
    partitions: Partitions,
    /// Athena workgroup.
    #[arg(long, env = "B3LAKE_ATHENA_WORKGROUP", default_value = "primary")]
    workgroup: String,
    /// Athena's result location (s3://...) [default: the workgroup's].
    #[arg(long, env = "B3LAKE_ATHENA_OUTPUT")]
    athena_output: Option<String>,
    #[command(flatten)]
    glue: GlueArgs,
}

impl SqlArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        let lake = self.lake.open().await?;
        let session = b3lake::sql::session_in(&lake, self.partitions, &self.glue.database).await?;
        let scripted = !self.command.is_empty() || !self.file.is_empty();
        let interactive = !scripted && std::io::stdin().is_terminal();
        let out: Box<dyn std::io::Write + Send> = match &self.output {
            Some(path) => Box::new(std::io::BufWriter::new(
                std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
            )),
            None => Box::new(std::io::stdout()),
        };
        let mut shell = Shell::new(session, out);
        shell.engine = self.engine;
        shell.athena_options.workgroup = self.workgroup;
        shell.athena_options.database = self.glue.database;
        shell.athena_options.output_location = self.athena_output;
        shell.printer.format = self.format;
        shell.printer.max_rows = self.max_rows;
        for (name, value) in &self.vars {
            shell.vars.set(name, value);
        }
        catch_interrupts();
        if interactive {
            shell.summary_to_stderr = false;
            shell.printer.max_rows = self.max_rows.or(Some(50));
            shell.printer.width = repl::terminal_width();
            return Ok(repl::run(&mut shell).await?);
        }
        for path in &self.file {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            shell.run_script(&path.display().to_string(), &text).await?;
        }
        for (n, sql) in self.command.iter().enumerate() {
            shell.run_script(&format!("-c #{}", n + 1), sql).await?;
        }
        if !scripted {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).context("reading standard input")?;
            shell.run_script("stdin", &text).await?;
        }
        shell.out().flush()?;
        Ok(())
    }
}
