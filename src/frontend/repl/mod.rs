//! `b3lake sql` at a terminal: statements typed over several lines, run on Enter after their
//! `;`, with history, completion and backslash commands.

pub mod command;
pub mod helper;

use std::path::PathBuf;

use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{Config, Editor};

use self::command::{Command, HELP};
use self::helper::{ReplHelper, Words};
use super::shell::{EngineKind, Shell};
use super::{Error, Result};

/// Where the history is kept: `$B3LAKE_HISTORY`, else `~/.b3lake_history`.
pub fn history_file() -> Option<PathBuf> {
    std::env::var_os("B3LAKE_HISTORY")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".b3lake_history")))
}

/// The width of the terminal on standard output, if it is one.
pub fn terminal_width() -> Option<u16> {
    let size = rustix::termios::tcgetwinsize(std::io::stdout()).ok()?;
    (size.ws_col > 0).then_some(size.ws_col)
}

/// Reads statements and commands until `\q` or Ctrl-D. A failed statement prints its error
/// and the REPL goes on; Ctrl-C at the prompt clears the line, during a query cancels it.
pub async fn run(shell: &mut Shell) -> Result<()> {
    let words: Words = Default::default();
    refresh_words(shell, &words).await;
    let config = Config::builder().auto_add_history(false).build();
    let mut editor: Editor<ReplHelper, FileHistory> =
        Editor::with_config(config).map_err(|e| Error::Usage(format!("cannot start the line editor: {e}")))?;
    editor.set_helper(Some(ReplHelper { words: words.clone() }));
    let history = history_file();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    println!("b3lake {} on {}; \\? for help, \\q to quit.", env!("CARGO_PKG_VERSION"), shell.session.catalog().lake());
    loop {
        let prompt = match shell.engine {
            EngineKind::Local => "b3lake> ",
            EngineKind::Athena => "athena> ",
        };
        let line = match tokio::task::block_in_place(|| editor.readline(prompt)) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(Error::Usage(format!("reading a line: {e}"))),
        };
        let input = line.trim();
        if input.is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(input);
        if let Some(path) = &history {
            let _ = editor.save_history(path);
        }
        let outcome = if input.starts_with('\\') {
            match input.parse::<Command>() {
                Ok(Command::Quit) => break,
                Ok(command) => command_run(shell, command).await,
                Err(e) => Err(Error::Usage(e)),
            }
        } else {
            match shell.vars.substitute(input) {
                Ok(sql) => shell.run(&sql).await.map(|_| ()),
                Err(e) => Err(Error::Usage(e)),
            }
        };
        match outcome {
            Ok(()) => {}
            Err(Error::Cancelled) => println!("^C query cancelled\n"),
            Err(e) => println!("error: {}\n", crate::chain::Chain(&e)),
        }
        refresh_words(shell, &words).await;
    }
    Ok(())
}

async fn command_run(shell: &mut Shell, command: Command) -> Result<()> {
    match command {
        Command::Help => {
            for (c, what) in HELP {
                println!("  {c:<38} {what}");
            }
            println!("  Statements end with ';' and may span lines; Ctrl-C cancels a running query.\n");
        }
        Command::Quit => {}
        Command::Tables => {
            shell.run("SHOW TABLES").await?;
        }
        Command::Describe(table) => {
            shell.run(&format!("DESCRIBE {table}")).await?;
            if shell.engine == EngineKind::Local
                && let Some(location) = shell.location(&table).await?
            {
                println!("location: {location}\n");
            }
        }
        Command::Partitions(table) => {
            shell.run(&format!("SHOW PARTITIONS {table}")).await?;
        }
        Command::Timing(on) => {
            shell.timing = on.unwrap_or(!shell.timing);
            println!("timing is {}\n", if shell.timing { "on" } else { "off" });
        }
        Command::Format(format) => {
            shell.printer.format = format;
            println!("format is {format}\n");
        }
        Command::Include(path) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Error::Io { path: path.display().to_string(), source: e })?;
            shell.run_script(&path.display().to_string(), &text).await?;
        }
        Command::Engine(engine) => {
            shell.engine = engine;
            let o = &shell.athena_options;
            match engine {
                EngineKind::Local => println!("engine is local ({})\n", shell.session.catalog().lake()),
                EngineKind::Athena => {
                    println!("engine is athena (workgroup {}, database {})\n", o.workgroup, o.database)
                }
            }
        }
        Command::Set(None) => {
            for (name, value) in shell.vars.iter() {
                println!("{name} = {value}");
            }
            println!();
        }
        Command::Set(Some((name, value))) => shell.vars.set(&name, &value),
        Command::Chart { style, x, y, file } => {
            let figure = shell.chart(style, &x, &y, &file)?;
            println!("wrote {}: {}\n", file.display(), figure.title);
        }
    }
    Ok(())
}

/// Tables, their columns and the session's functions, for completion.
async fn refresh_words(shell: &Shell, words: &Words) {
    let mut names = shell.session.function_names();
    if let Some(schema) = shell.session.schema() {
        for table in schema.table_names() {
            if let Ok(Some(provider)) = schema.table(&table).await {
                names.extend(provider.schema().fields().iter().map(|f| f.name().clone()));
            }
            names.push(table);
        }
    }
    // Views are planned when first read, so they may not be in the schema yet.
    names.extend(shell.session.view_names());
    names.sort();
    names.dedup();
    if let Ok(mut w) = words.write() {
        *w = names;
    }
}
