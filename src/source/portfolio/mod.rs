//! B3's index portfolios ("carteira do dia"): the members of IBOV, IBXX, SMLL, IDIV... with
//! their theoretical quantities and weights, from B3's `GetPortfolioDay` API.
//!
//! The API answers text, not numbers: `18.553.794,87445950` in Portuguese and
//! `18,553,794.87445950` in English, dates as `dd/mm/yy` or `mm/dd/yy`. Every number is read
//! exactly into a DECIMAL (a float would turn a weight of 0,070 into 0.07000000000000001),
//! and an answer is checked as a whole (pages, weights summing to 100, quantities summing to
//! the header's total) before anything reaches the lake. B3 lost the accents of some names
//! before publishing them (`Minera��o`); that text is kept as published and flagged.

mod fetch;
mod parse;

use std::fmt;
use std::sync::{Arc, LazyLock};

use arrow::array::{ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use chrono::{Datelike, NaiveDate};

pub use fetch::{DEFAULT_PORTFOLIO_URL, PortfolioClient, PortfolioOptions, read_answer, read_file};
pub use parse::{parse_date, parse_decimal};

use crate::source::cotahist::record::UNIX_EPOCH_DAYS_FROM_CE;

/// The language B3 answers in, which decides number and date formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Language {
    /// `18.553.794,87`, `08/12/22` (day first).
    #[default]
    PtBr,
    /// `18,553,794.87`, `12/08/22` (month first).
    EnUs,
}

impl Language {
    /// The code B3's API takes: `pt-br`, `en-us`.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::PtBr => "pt-br",
            Language::EnUs => "en-us",
        }
    }

    /// The thousands and decimal separators.
    fn separators(self) -> (char, char) {
        match self {
            Language::PtBr => ('.', ','),
            Language::EnUs => (',', '.'),
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Errors of a portfolio answer; `origin` names the URL or file, and a bad value names its
/// result row, ticker and field.
#[derive(Debug, thiserror::Error)]
pub enum PortfolioError {
    /// An HTTP error, after the retries it deserved.
    #[error("{url}: HTTP {status} after {attempts} attempts")]
    Status {
        /// The URL asked.
        url: String,
        /// The last HTTP status.
        status: u16,
        /// Attempts made.
        attempts: u32,
    },
    /// No answer (connection, timeout), every attempt.
    #[error("{url}: no answer after {attempts} attempts")]
    Network {
        /// The URL asked.
        url: String,
        /// The last attempt's error.
        source: reqwest::Error,
        /// Attempts made.
        attempts: u32,
    },
    /// An answer cut short, every attempt.
    #[error("{url}: answer cut off after {attempts} attempts: {detail}")]
    Truncated {
        /// The URL asked.
        url: String,
        /// What was wrong with the last one.
        detail: String,
        /// Attempts made.
        attempts: u32,
    },
    /// A web page where JSON was expected.
    #[error("{origin}: B3 answered an HTML page instead of the portfolio JSON")]
    Html {
        /// The URL or file.
        origin: String,
    },
    /// JSON that is not a `GetPortfolioDay` answer.
    #[error("{origin}: not a GetPortfolioDay answer: {detail}")]
    Malformed {
        /// The URL or file.
        origin: String,
        /// What is wrong.
        detail: String,
    },
    /// An answer without members.
    #[error("{origin}: B3 answered no members for index {index} (unknown index, or no portfolio published)")]
    Empty {
        /// The URL or file.
        origin: String,
        /// The index asked for.
        index: String,
    },
    /// A bad value in the answer's header.
    #[error("{origin}: header, field {field}: {detail}")]
    Header {
        /// The URL or file.
        origin: String,
        /// The header's field.
        field: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// A bad value in a member's row.
    #[error("{origin}: result {row}{ticker}, field {field}: {detail}")]
    Field {
        /// The URL or file.
        origin: String,
        /// The row, from 1.
        row: usize,
        /// The row's ticker, when it has one (` (PETR4)`).
        ticker: String,
        /// The field.
        field: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// An answer whose parts disagree (pages, weights or quantities that do not add up).
    #[error("{origin}: {detail}")]
    Inconsistent {
        /// The URL or file.
        origin: String,
        /// What disagrees.
        detail: String,
    },
    /// The portfolio of another day than the one asked for.
    #[error(
        "{origin}: B3 answered the {index} portfolio of {got}, not of {expected} (GetPortfolioDay serves the current day's portfolio only)"
    )]
    OtherDate {
        /// The URL or file.
        origin: String,
        /// The index.
        index: String,
        /// The day asked for.
        expected: NaiveDate,
        /// The day B3 answered.
        got: NaiveDate,
    },
    /// Reading a saved answer failed.
    #[error("{path}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Decimal types of the portfolio table: what B3 publishes, exactly.
pub const QUANTITY: (u8, i8) = (20, 0);
/// Of weights in percent (`2,728`).
pub const WEIGHT: (u8, i8) = (9, 3);
/// Of the index's reducer.
pub const REDUCER: (u8, i8) = (28, 8);

/// One member of an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The economic segment B3 groups it under.
    pub segment: Option<String>,
    /// The ticker (PETR4).
    pub code: String,
    /// The company's short name, as B3 writes it.
    pub asset: Option<String>,
    /// The kind of share (ON, PN NM...).
    pub kind: Option<String>,
    /// Theoretical quantity, in shares (scale 0).
    pub quantity: i128,
    /// Weight in percent, scale 3 (`2,728` is 2728).
    pub weight: i128,
    /// The segment's accumulated weight, scale 3, when B3 gives it.
    pub weight_accumulated: Option<i128>,
    /// A text field holds U+FFFD: characters B3 lost before publishing.
    pub replaced_text: bool,
}

/// A whole portfolio: every page of one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Portfolio {
    /// The index: IBOV, SMLL...
    pub index: String,
    /// The language B3 answered in.
    pub language: Language,
    /// The header's date: the day the portfolio is for.
    pub date: NaiveDate,
    /// The header's total theoretical quantity (scale 0).
    pub total_quantity: i128,
    /// The index reducer (scale 8).
    pub reducer: i128,
    /// The members, in B3's order.
    pub members: Vec<Member>,
}

impl Portfolio {
    /// Members whose text holds U+FFFD.
    pub fn replaced_text(&self) -> usize {
        self.members.iter().filter(|m| m.replaced_text).count()
    }

    /// The portfolio as the table's rows (see [`portfolio_schema`]).
    pub fn to_batch(&self) -> RecordBatch {
        let n = self.members.len();
        let decimal = |(p, s): (u8, i8)| Decimal128Builder::with_capacity(n).with_precision_and_scale(p, s).unwrap();
        let (mut date, mut index, mut language) =
            (Date32Builder::with_capacity(n), StringBuilder::new(), StringBuilder::new());
        let (mut segment, mut code, mut asset, mut kind) =
            (StringBuilder::new(), StringBuilder::new(), StringBuilder::new(), StringBuilder::new());
        let (mut quantity, mut weight, mut accumulated) = (decimal(QUANTITY), decimal(WEIGHT), decimal(WEIGHT));
        let (mut total, mut reducer, mut replaced) = (decimal(QUANTITY), decimal(REDUCER), BooleanBuilder::new());
        let days = self.date.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE;
        for m in &self.members {
            date.append_value(days);
            index.append_value(&self.index);
            language.append_value(self.language.as_str());
            segment.append_option(m.segment.as_deref());
            code.append_value(&m.code);
            asset.append_option(m.asset.as_deref());
            kind.append_option(m.kind.as_deref());
            quantity.append_value(m.quantity);
            weight.append_value(m.weight);
            accumulated.append_option(m.weight_accumulated);
            total.append_value(self.total_quantity);
            reducer.append_value(self.reducer);
            replaced.append_value(m.replaced_text);
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(date.finish()),
            Arc::new(index.finish()),
            Arc::new(segment.finish()),
            Arc::new(code.finish()),
            Arc::new(asset.finish()),
            Arc::new(kind.finish()),
            Arc::new(quantity.finish()),
            Arc::new(weight.finish()),
            Arc::new(accumulated.finish()),
            Arc::new(total.finish()),
            Arc::new(reducer.finish()),
            Arc::new(replaced.finish()),
            Arc::new(language.finish()),
        ];
        RecordBatch::try_new(portfolio_schema(), columns).expect("columns match the schema")
    }
}

/// The portfolio table's columns (`catalog/carteira_b3_raw.sql`), partition keys aside.
pub fn portfolio_schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        let decimal = |(p, s): (u8, i8)| DataType::Decimal128(p, s);
        Arc::new(Schema::new(vec![
            Field::new("data_carteira", DataType::Date32, false),
            Field::new("indice", DataType::Utf8, false),
            Field::new("segmento", DataType::Utf8, true),
            Field::new("codigo", DataType::Utf8, false),
            Field::new("acao", DataType::Utf8, true),
            Field::new("tipo", DataType::Utf8, true),
            Field::new("qtd_teorica", decimal(QUANTITY), false),
            Field::new("participacao_pct", decimal(WEIGHT), false),
            Field::new("participacao_acumulada_pct", decimal(WEIGHT), true),
            Field::new("qtd_teorica_total", decimal(QUANTITY), false),
            Field::new("redutor", decimal(REDUCER), false),
            Field::new("texto_substituido", DataType::Boolean, false),
            Field::new("idioma", DataType::Utf8, false),
        ]))
    });
    SCHEMA.clone()
}

/// `IBOV`, `SMLL`: B3's index codes are letters and digits.
pub fn check_index(index: &str) -> Result<String, String> {
    let upper = index.trim().to_ascii_uppercase();
    if upper.is_empty() || upper.len() > 12 || !upper.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!("{index:?} is not a B3 index code (IBOV, IBXX, SMLL, IDIV, ...)"));
    }
    Ok(upper)
}
