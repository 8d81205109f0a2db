//! Output formats of a result: a table for a person, CSV/TSV for a spreadsheet, JSON and
//! NDJSON for a program. Every format writes values as Athena shows them
//! ([`text`]), and decimals exactly as stored (`32.63`, never `32.629999`), JSON included,
//! where they are written as numbers.

use std::fmt;
use std::io::{self, Write};

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Schema};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table};

use crate::sql::dialect::text::{self, Double};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// A boxed table, for people.
    #[default]
    Table,
    /// Comma-separated values with a header row.
    Csv,
    /// Tab-separated values with a header row.
    Tsv,
    /// One JSON array of row objects.
    Json,
    /// One JSON object per line.
    Ndjson,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
        })
    }
}

/// Rows of a table drawn at once when every row is asked for (a file or a pipe): a result of
/// any size is written as tables of this many rows, never held whole.
pub const TABLE_BLOCK: usize = 4096;

/// How results are written.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    /// The output format.
    pub format: Format,
    /// Rows a table shows at most (the rest are counted); the other formats write every row.
    pub max_rows: Option<usize>,
    /// The width a table fits in, if it must.
    pub width: Option<u16>,
}

impl Default for Printer {
    fn default() -> Self {
        Printer { format: Format::Table, max_rows: None, width: None }
    }
}

impl Printer {
    /// Writes a whole result with its header.
    pub fn write(&self, out: &mut dyn Write, schema: &Schema, batches: &[RecordBatch]) -> io::Result<()> {
        let mut output = self.start(out, schema)?;
        for batch in batches {
            output.push(batch)?;
        }
        output.finish()
    }

    /// Starts writing a result: rows then go out batch by batch as they arrive (a table, which
    /// needs every row's width, is drawn at the end, from at most `max_rows` rows).
    pub fn start<'a>(&self, out: &'a mut dyn Write, schema: &Schema) -> io::Result<Output<'a>> {
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let numeric: Vec<bool> = schema.fields().iter().map(|f| f.data_type().is_numeric()).collect();
        let boolean: Vec<bool> = schema.fields().iter().map(|f| f.data_type() == &DataType::Boolean).collect();
        let mut output = Output { printer: *self, out, names, numeric, boolean, kept: Vec::new(), drawn: 0, total: 0 };
        if !output.names.is_empty() {
            match self.format {
                Format::Csv | Format::Tsv => {
                    let header: Vec<Option<String>> = output.names.iter().cloned().map(Some).collect();
                    output.delimited(&header)?;
                }
                Format::Json => write!(output.out, "[")?,
                Format::Table | Format::Ndjson => {}
            }
        }
        Ok(output)
    }
}

/// A result being written.
pub struct Output<'a> {
    printer: Printer,
    out: &'a mut dyn Write,
    names: Vec<String>,
    numeric: Vec<bool>,
    boolean: Vec<bool>,
    /// The rows a table will show.
    kept: Vec<Vec<Option<String>>>,
    /// Rows of a table already drawn.
    drawn: usize,
    total: usize,
}

impl Output<'_> {
    /// Writes (or, for a table, keeps) a batch's rows.
    pub fn push(&mut self, batch: &RecordBatch) -> io::Result<()> {
        let format = self.printer.format;
        for i in 0..batch.num_rows() {
            self.total += 1;
            if format == Format::Table {
                match self.printer.max_rows {
                    Some(max) if self.kept.len() >= max => continue,
                    // Every row asked for: drawn a block at a time, so memory stays flat.
                    None if self.kept.len() >= TABLE_BLOCK => self.draw()?,
                    _ => {}
                }
            }
            let row: Vec<Option<String>> = text::row(batch, i, Double::Shown).collect();
            match format {
                Format::Table => self.kept.push(row),
                Format::Csv | Format::Tsv => self.delimited(&row)?,
                Format::Json | Format::Ndjson => self.json(&row)?,
            }
        }
        Ok(())
    }

    /// Ends the result.
    pub fn finish(self) -> io::Result<()> {
        if self.names.is_empty() {
            return Ok(());
        }
        match self.printer.format {
            Format::Table => self.table(),
            Format::Json => writeln!(self.out, "]"),
            Format::Csv | Format::Tsv | Format::Ndjson => Ok(()),
        }
    }

    fn table(mut self) -> io::Result<()> {
        if self.drawn > 0 && self.kept.is_empty() {
            return Ok(());
        }
        self.draw()?;
        if self.drawn < self.total {
            writeln!(self.out, "({} of {} rows shown; \\format csv or --format csv for all)", self.drawn, self.total)?;
        }
        Ok(())
    }

    /// Draws the kept rows as one table and forgets them.
    fn draw(&mut self) -> io::Result<()> {
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED);
        if let Some(width) = self.printer.width {
            table.set_content_arrangement(ContentArrangement::Dynamic).set_width(width);
        }
        table.set_header(self.names.iter().map(Cell::new));
        for row in &self.kept {
            table.add_row(row.iter().zip(&self.numeric).map(|(v, &n)| {
                let cell = Cell::new(v.as_deref().unwrap_or("NULL"));
                if n { cell.set_alignment(CellAlignment::Right) } else { cell }
            }));
        }
        writeln!(self.out, "{table}")?;
        self.drawn += self.kept.len();
        self.kept.clear();
        Ok(())
    }

    fn delimited(&mut self, row: &[Option<String>]) -> io::Result<()> {
        let csv = self.printer.format == Format::Csv;
        let field = |s: &str| -> String {
            if csv {
                if s.contains([',', '"', '\n', '\r']) {
                    format!("\"{}\"", s.replace('"', "\"\""))
                } else {
                    s.to_string()
                }
            } else {
                s.replace('\\', "\\\\").replace('\t', "\\t").replace('\n', "\\n").replace('\r', "\\r")
            }
        };
        let line: Vec<String> = row.iter().map(|v| v.as_deref().map(field).unwrap_or_default()).collect();
        writeln!(self.out, "{}", line.join(if csv { "," } else { "\t" }))
    }

    fn json(&mut self, row: &[Option<String>]) -> io::Result<()> {
        let lines = self.printer.format == Format::Ndjson;
        if !lines && self.total > 1 {
            write!(self.out, ",")?;
        }
        write!(self.out, "{{")?;
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                write!(self.out, ",")?;
            }
            write!(self.out, "{}:", serde_json::Value::from(self.names[i].as_str()))?;
            match v {
                None => write!(self.out, "null")?,
                // Numbers are written as stored: a decimal keeps every digit.
                Some(text) if self.numeric[i] && text.parse::<f64>().is_ok_and(f64::is_finite) => {
                    write!(self.out, "{text}")?
                }
                Some(text) if self.boolean[i] => write!(self.out, "{text}")?,
                Some(text) => write!(self.out, "{}", serde_json::Value::from(text.as_str()))?,
            }
        }
        write!(self.out, "}}")?;
        if lines {
            writeln!(self.out)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Decimal128Array, Int64Array, StringArray};
    use arrow::datatypes::Field;

    use super::*;

    fn sample() -> (Arc<Schema>, Vec<RecordBatch>) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("symbol", DataType::Utf8, true),
            Field::new("preco", DataType::Decimal128(13, 2), true),
            Field::new("n", DataType::Int64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec![Some("PETR4"), Some("a,\"b\"\tc"), None])),
                Arc::new(
                    Decimal128Array::from(vec![Some(3263), None, Some(-5)]).with_precision_and_scale(13, 2).unwrap(),
                ),
                Arc::new(Int64Array::from(vec![1, 2, 3])),
            ],
        )
        .unwrap();
        (schema, vec![batch])
    }

    fn render(format: Format, max_rows: Option<usize>) -> String {
        let (schema, batches) = sample();
        let mut out = Vec::new();
        Printer { format, max_rows, width: None }.write(&mut out, &schema, &batches).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_format_keeps_decimals_exact() {
        assert_eq!(render(Format::Csv, None), "symbol,preco,n\nPETR4,32.63,1\n\"a,\"\"b\"\"\tc\",,2\n,-0.05,3\n");
        assert_eq!(render(Format::Tsv, None), "symbol\tpreco\tn\nPETR4\t32.63\t1\na,\"b\"\\tc\t\t2\n\t-0.05\t3\n");
        assert_eq!(
            render(Format::Ndjson, None),
            "{\"symbol\":\"PETR4\",\"preco\":32.63,\"n\":1}\n{\"symbol\":\"a,\\\"b\\\"\\tc\",\"preco\":null,\"n\":2}\n\
             {\"symbol\":null,\"preco\":-0.05,\"n\":3}\n"
        );
        let json: serde_json::Value = serde_json::from_str(&render(Format::Json, None)).unwrap();
        assert_eq!(json[0]["preco"].to_string(), "32.63");
        assert_eq!(json.as_array().unwrap().len(), 3);
    }

    #[test]
    fn tables_cap_rows() {
        let table = render(Format::Table, Some(2));
        assert!(table.contains("PETR4") && table.contains("32.63"), "{table}");
        assert!(!table.contains("-0.05"), "{table}");
        assert!(table.contains("(2 of 3 rows shown"), "{table}");
    }

    #[test]
    fn a_whole_table_is_drawn_a_block_at_a_time() {
        let (schema, batches) = sample();
        let mut out = Vec::new();
        let mut output = Printer::default().start(&mut out, &schema).unwrap();
        let blocks = 3;
        for _ in 0..blocks * TABLE_BLOCK / 3 {
            output.push(&batches[0]).unwrap();
        }
        assert!(output.kept.len() <= TABLE_BLOCK, "rows are not held past a block");
        assert_eq!(output.drawn, (blocks - 1) * TABLE_BLOCK, "drawn before the end");
        output.push(&batches[0]).unwrap();
        output.finish().unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("PETR4").count(), blocks * TABLE_BLOCK / 3 + 1);
        assert_eq!(text.matches("│ symbol").count(), blocks + 1, "one header a block");
        assert!(!text.contains("rows shown"), "every row is shown");
    }
}
