//! The REPL's backslash commands, parsed from a line into what they ask for.

use std::path::PathBuf;
use std::str::FromStr;

use clap::ValueEnum;

use crate::chart::data::XyStyle;
use crate::frontend::print::Format;
use crate::frontend::shell::EngineKind;

/// A backslash command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `\\?`: the commands.
    Help,
    /// `\\q`: leave.
    Quit,
    /// `\\dt`: the tables.
    Tables,
    /// `\\d TABLE`: its columns, partition keys and location.
    Describe(String),
    /// `\\dp TABLE`: its partitions.
    Partitions(String),
    /// Toggle, or set, the elapsed time and data scanned after each result.
    Timing(Option<bool>),
    /// `\\format FORMAT`: the output format from now on.
    Format(Format),
    /// `\\i FILE`: run a file's statements.
    Include(PathBuf),
    /// `\\engine local|athena`: where statements run from now on.
    Engine(EngineKind),
    /// `\set NAME VALUE`, or `\set` alone to list the variables.
    Set(Option<(String, String)>),
    /// `\chart bar|line|scatter X Y FILE`: draw the last result.
    Chart {
        /// How the points are drawn.
        style: XyStyle,
        /// The column on the x axis.
        x: String,
        /// The column on the y axis.
        y: String,
        /// The picture: FILE.png or FILE.svg.
        file: PathBuf,
    },
}

/// The commands and what they do, for `\?`.
pub const HELP: &[(&str, &str)] = &[
    ("\\?", "this help"),
    ("\\q", "quit (or Ctrl-D)"),
    ("\\dt", "list tables"),
    ("\\d TABLE", "columns, types, partition keys and location of a table"),
    ("\\dp TABLE", "partitions of a table"),
    ("\\timing [on|off]", "show elapsed time and data scanned after each result"),
    ("\\format table|csv|tsv|json|ndjson", "output format"),
    ("\\i FILE", "run the statements of a file"),
    ("\\engine local|athena", "run statements here or in Athena"),
    ("\\set [NAME VALUE]", "set a ${NAME} variable, or list them"),
    ("\\chart bar|line|scatter X Y FILE", "draw the last result's column X against Y to FILE.png or FILE.svg"),
];

impl FromStr for Command {
    type Err = String;

    fn from_str(line: &str) -> Result<Self, String> {
        let line = line.trim().trim_end_matches(';').trim();
        let (name, arg) = match line.split_once(char::is_whitespace) {
            Some((n, a)) => (n, Some(a.trim())),
            None => (line, None),
        };
        let needs = |what: &str| arg.map(str::to_string).ok_or_else(|| format!("{name} needs {what}"));
        Ok(match name {
            "\\?" | "\\h" | "\\help" => Command::Help,
            "\\q" | "\\quit" => Command::Quit,
            "\\dt" => Command::Tables,
            "\\d" => Command::Describe(needs("a table name")?),
            "\\dp" => Command::Partitions(needs("a table name")?),
            "\\timing" => Command::Timing(match arg {
                None => None,
                Some("on") => Some(true),
                Some("off") => Some(false),
                Some(other) => return Err(format!("\\timing takes on or off, not {other:?}")),
            }),
            "\\format" => Command::Format(choice(name, &needs("table, csv, tsv, json or ndjson")?)?),
            "\\i" => Command::Include(PathBuf::from(needs("a file")?)),
            "\\engine" => Command::Engine(choice(name, &needs("local or athena")?)?),
            "\\set" => Command::Set(match arg {
                None => None,
                Some(a) => {
                    let (n, v) = a.split_once(char::is_whitespace).ok_or("\\set needs NAME VALUE")?;
                    Some((n.to_string(), v.trim().to_string()))
                }
            }),
            "\\chart" => {
                let args = needs("bar|line|scatter X Y FILE")?;
                let parts: Vec<&str> = args.split_whitespace().collect();
                let [style, x, y, file] = parts[..] else {
                    return Err("\\chart needs bar|line|scatter X Y FILE".into());
                };
                Command::Chart { style: choice(name, style)?, x: x.into(), y: y.into(), file: PathBuf::from(file) }
            }
            other => return Err(format!("unknown command {other}; \\? lists them")),
        })
    }
}

/// One of a closed set of values, spelt as on the command line, in any case (`\\format CSV`).
fn choice<T: ValueEnum>(command: &str, value: &str) -> Result<T, String> {
    T::from_str(value, true).map_err(|_| {
        let mut names: Vec<String> =
            T::value_variants().iter().filter_map(T::to_possible_value).map(|v| v.get_name().to_string()).collect();
        let last = names.pop().unwrap_or_default();
        format!("{command} takes {} or {last}, not {value:?}", names.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands() {
        assert_eq!("\\dt".parse(), Ok(Command::Tables));
        assert_eq!("\\d cotacoes_b3_refined;".parse(), Ok(Command::Describe("cotacoes_b3_refined".into())));
        assert_eq!("\\timing off".parse(), Ok(Command::Timing(Some(false))));
        assert_eq!("\\format CSV".parse(), Ok(Command::Format(Format::Csv)));
        assert_eq!("\\engine athena".parse(), Ok(Command::Engine(EngineKind::Athena)));
        assert_eq!("\\set day 2022-02-04".parse(), Ok(Command::Set(Some(("day".into(), "2022-02-04".into())))));
        assert!("\\d".parse::<Command>().unwrap_err().contains("needs a table name"));
        let xml = "\\format xml".parse::<Command>().unwrap_err();
        assert_eq!(xml, "\\format takes table, csv, tsv, json or ndjson, not \"xml\"");
        assert_eq!(
            "\\chart line dia v out.svg".parse(),
            Ok(Command::Chart { style: XyStyle::Line, x: "dia".into(), y: "v".into(), file: "out.svg".into() })
        );
        assert!("\\chart pie a b f.png".parse::<Command>().unwrap_err().contains("bar, line or scatter"));
        assert!("\\chart bar a f.png".parse::<Command>().unwrap_err().contains("needs"));
        assert!("\\x".parse::<Command>().unwrap_err().contains("unknown command"));
    }
}
