//! What the REPL and the batch mode share: the engine statements go to (the local session or
//! Athena), the variables, the output format, and how a result and its summary line are
//! written. A Ctrl-C stops the running statement, not the program.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

use super::athena::{Athena, AthenaOptions, cost_usd};
use super::print::Printer;
use super::script::{self, Vars};
use super::{Error, Result};
use crate::catalog::Catalog;
use crate::chart::data::XyStyle;
use crate::chart::{self, Error as ChartError, Figure, Size};
use crate::sql::exec::{Executed, execute_with, human_bytes};
use crate::sql::session::Session;

/// Where statements run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum EngineKind {
    /// On this machine, on the lake.
    #[default]
    Local,
    /// In Athena, on the Glue database.
    Athena,
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// From now on a Ctrl-C (SIGINT) cancels the running statement instead of ending the process
/// (tokio's handler, once installed, replaces the default action for good). Call it inside
/// the runtime.
pub fn catch_interrupts() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()) {
        Ok(mut signals) => {
            tokio::spawn(async move {
                while signals.recv().await.is_some() {
                    INTERRUPTED.store(true, Ordering::SeqCst);
                }
            });
        }
        Err(e) => tracing::warn!("Ctrl-C will end the process instead of the statement: {e}"),
    }
}

/// Completes at the next Ctrl-C.
async fn interrupted() {
    loop {
        if INTERRUPTED.swap(false, Ordering::SeqCst) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An error writing results.
fn io(e: std::io::Error) -> Error {
    Error::Io { path: "output".into(), source: e }
}

/// A session at a prompt or running scripts.
pub struct Shell {
    /// The local engine.
    pub session: Session,
    /// Where statements run.
    pub engine: EngineKind,
    /// Where Athena runs, once asked to.
    pub athena_options: AthenaOptions,
    athena: Option<Athena>,
    /// How results are written.
    pub printer: Printer,
    /// The `${name}` variables.
    pub vars: Vars,
    /// Show elapsed time and data scanned after each result.
    pub timing: bool,
    /// Summary lines go to standard error (batch), not with the results (REPL).
    pub summary_to_stderr: bool,
    out: Box<dyn Write + Send>,
    /// The last result, for `\chart`, while it is small enough to keep.
    last: Option<(SchemaRef, Vec<RecordBatch>)>,
}

/// Rows of a result kept for `\chart`; a larger result is written but not kept.
const KEEP_ROWS: usize = 100_000;

impl Shell {
    /// A shell on `session` writing results to `out`, with `${lake}` set to the lake.
    pub fn new(session: Session, out: Box<dyn Write + Send>) -> Shell {
        // `${lake}` is the lake's URL, as in the catalog's DDL files, so they run as they are.
        let mut vars = Vars::default();
        vars.set("lake", &session.catalog().lake_url());
        Shell {
            session,
            engine: EngineKind::Local,
            athena_options: AthenaOptions::default(),
            athena: None,
            printer: Printer::default(),
            vars,
            timing: true,
            summary_to_stderr: true,
            out,
            last: None,
        }
    }

    /// Runs one statement (variables already substituted) on the current engine and writes
    /// its result, as it comes, and its summary.
    pub async fn run(&mut self, sql: &str) -> Result<Executed> {
        INTERRUPTED.store(false, Ordering::SeqCst);
        let done = match self.engine {
            EngineKind::Local => {
                let Shell { session, printer, out, last, .. } = self;
                // The output starts with the first batch, which brings the result's schema.
                let mut sink = Some(out.as_mut());
                let mut output = None;
                let mut kept = Some(Vec::new());
                let mut rows = 0;
                *last = None;
                let running = execute_with(session, sql, |batch| {
                    rows += batch.num_rows();
                    let written = (|| {
                        if let Some(out) = sink.take() {
                            output = Some(printer.start(out, &batch.schema()).map_err(io)?);
                        }
                        output.as_mut().expect("started above").push(&batch).map_err(io)
                    })();
                    match &mut kept {
                        Some(k) if rows <= KEEP_ROWS => k.push(batch),
                        _ => kept = None,
                    }
                    std::future::ready(written)
                });
                let done = tokio::select! {
                    r = running => r?,
                    () = interrupted() => return Err(Error::Cancelled),
                };
                match output {
                    Some(output) => output.finish().map_err(io)?,
                    // No batch: the header of an empty result.
                    None => printer.write(sink.expect("no batch took it"), &done.schema, &[]).map_err(io)?,
                }
                *last = kept.map(|k| (done.schema.clone(), k));
                done
            }
            EngineKind::Athena => {
                if self.athena.is_none() {
                    self.athena = Some(Athena::connect(self.athena_options.clone()).await);
                }
                let athena = self.athena.as_ref().expect("connected above");
                let mut done = athena.execute(sql, interrupted()).await?;
                self.printer.write(&mut self.out, &done.schema, &done.batches).map_err(io)?;
                self.last = Some((done.schema.clone(), std::mem::take(&mut done.batches)));
                done
            }
        };
        self.summary(&done)?;
        Ok(done)
    }

    fn summary(&mut self, done: &Executed) -> Result<()> {
        self.out.flush().map_err(io)?;
        let mut line = format!("{} {}", done.rows, if done.rows == 1 { "row" } else { "rows" });
        if self.timing {
            line.push_str(&format!(" in {:.3} s", done.elapsed.as_secs_f64()));
            match self.engine {
                EngineKind::Athena => line.push_str(&format!(
                    "; data scanned: {}; cost: ${:.5}",
                    human_bytes(done.scanned.bytes),
                    cost_usd(done.scanned.bytes)
                )),
                EngineKind::Local => line.push_str(&format!("; {}", done.scanned)),
            }
        }
        if self.summary_to_stderr {
            eprintln!("{line}");
        } else {
            writeln!(self.out, "{line}\n").map_err(io)?;
        }
        Ok(())
    }

    /// Runs every statement of a script, in order; stops at the first error, which names the
    /// statement and its line and column in the script.
    pub async fn run_script(&mut self, name: &str, text: &str) -> Result<usize> {
        let script_err = |message: String| Error::Script { script: name.to_string(), message };
        let vars = self.vars.with_defaults(text);
        let statements = script::split(text).map_err(script_err)?;
        for statement in &statements {
            let sql = vars.substitute(&statement.sql).map_err(|m| {
                let position = script::position(statement, "");
                Error::Statement { script: name.to_string(), position, message: m }
            })?;
            if let Err(e) = self.run(&sql).await {
                if matches!(e, Error::Cancelled) {
                    return Err(e);
                }
                let message = crate::chain::chain(&e);
                let position = script::position(statement, &message);
                return Err(Error::Statement { script: name.to_string(), position, message });
            }
        }
        Ok(statements.len())
    }

    /// The lines `\d TABLE` adds to DESCRIBE: where the table's data is.
    pub async fn location(&self, table: &str) -> Result<Option<String>> {
        let catalog = self.session.catalog();
        Ok(catalog.table(table).await?.map(|def| def.resolved_location(&catalog.lake_url())))
    }

    /// Draws the last result's `x` against `y` to `path` (PNG or SVG).
    pub fn chart(&self, style: XyStyle, x: &str, y: &str, path: &Path) -> Result<Figure> {
        let (schema, batches) = self.last.as_ref().ok_or_else(|| {
            ChartError::Usage(format!(
                "no result to draw: run a query first (results over {KEEP_ROWS} rows are not kept)"
            ))
        })?;
        let figure = chart::data::from_result(schema, batches, x, y, style)?;
        chart::write(&figure, path, Size::default())?;
        Ok(figure)
    }

    /// Where results go.
    pub fn out(&mut self) -> &mut dyn Write {
        &mut self.out
    }
}
