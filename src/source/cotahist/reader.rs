//! A streaming COTAHIST reader: lines in, Arrow batches out.
//!
//! Files are read line by line from any [`BufRead`] (a plain file or a ZIP member), so memory
//! stays flat however large the file is. The header, the trailer and its record count are
//! checked because a cut-off download is otherwise indistinguishable from a short trading day.

use std::fmt;
use std::io::{BufRead, Read};

use arrow::array::RecordBatch;
use tracing::warn;

use super::layout::{
    CONTROL_FILE_NAME, CONTROL_GENERATED, Field, RECORD_LEN, TIPREG, TIPREG_HEADER, TIPREG_QUOTE, TIPREG_TRAILER,
    TRAILER_TOTAL,
};
use super::record::{FieldError, QuoteBatchBuilder, digits, latin1};

/// The longest line read before giving up on finding its end: far more than a record and
/// its padding, and small enough that memory never depends on the input.
pub const MAX_LINE: usize = 4096;

/// A problem with the content of a COTAHIST file, located to the line and field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The input: a path, or a ZIP and its member.
    pub file: String,
    /// 1-based physical line; for problems found at the end of the file, the last line read.
    pub line: u64,
    /// The field, when the problem is in one.
    pub field: Option<&'static Field>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: line {}: ", self.file, self.line)?;
        if let Some(field) = self.field {
            let (from, to) = field.positions();
            write!(f, "field {} ({}, positions {from}-{to}): ", field.b3_name, field.column)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

/// How a COTAHIST file is read.
#[derive(Debug, Clone)]
pub struct ReaderOptions {
    /// Rows per Arrow batch.
    pub batch_rows: usize,
    /// Accept a trailer whose record count disagrees with the file (excerpts of real files
    /// keep the original trailer); a warning is logged instead.
    pub allow_count_mismatch: bool,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        Self { batch_rows: 8 * 1024, allow_count_mismatch: false }
    }
}

/// The header record (type 00).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// `COTAHIST.AAAA`.
    pub file_name: String,
    /// `AAAAMMDD` on which B3 generated the file.
    pub generated: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    ExpectHeader,
    Body,
    Done,
}

/// Reads the quote records of one COTAHIST file as batches of the raw schema.
pub struct CotahistReader<R> {
    src: R,
    file: String,
    opts: ReaderOptions,
    line_no: u64,
    line: Vec<u8>,
    builder: QuoteBatchBuilder,
    state: State,
    header: Option<Header>,
    quotes: u64,
    blank_lines: u64,
}

impl<R: BufRead> CotahistReader<R> {
    /// `file` names the source in error messages.
    pub fn new(src: R, file: impl Into<String>, opts: ReaderOptions) -> Self {
        let builder = QuoteBatchBuilder::with_capacity(opts.batch_rows);
        Self {
            src,
            file: file.into(),
            opts,
            line_no: 0,
            line: Vec::with_capacity(RECORD_LEN + 2),
            builder,
            state: State::ExpectHeader,
            header: None,
            quotes: 0,
            blank_lines: 0,
        }
    }

    /// The file's header record, once read.
    pub fn header(&self) -> Option<&Header> {
        self.header.as_ref()
    }

    /// Quote records read so far.
    pub fn quotes(&self) -> u64 {
        self.quotes
    }

    fn error(&self, field: Option<&'static Field>, message: impl Into<String>) -> ParseError {
        ParseError { file: self.file.clone(), line: self.line_no, field, message: message.into() }
    }

    fn field_error(&self, e: FieldError) -> ParseError {
        self.error(Some(e.field), e.problem)
    }

    /// The next batch, `None` after the trailer. I/O errors are reported as parse errors of
    /// the line being read, since for a ZIP member they mean a corrupt or cut-off archive.
    pub fn next_batch(&mut self) -> Result<Option<RecordBatch>, ParseError> {
        loop {
            self.line.clear();
            // At most MAX_LINE bytes: a file with no line breaks must not be buffered whole.
            let n =
                (&mut self.src).take(MAX_LINE as u64).read_until(b'\n', &mut self.line).map_err(|e| ParseError {
                    file: self.file.clone(),
                    line: self.line_no + 1,
                    field: None,
                    message: format!("read failed (corrupt or cut-off file?): {e}"),
                })?;
            if n == 0 {
                return self.end_of_input();
            }
            self.line_no += 1;
            if n == MAX_LINE && self.line.last() != Some(&b'\n') {
                return Err(self.error(
                    None,
                    format!(
                        "no line break in the first {MAX_LINE} bytes of the line; a record is {RECORD_LEN} bytes (not a COTAHIST file?)"
                    ),
                ));
            }
            let mut rec = self.line.as_slice();
            if let Some(r) = rec.strip_suffix(b"\n") {
                rec = r;
            }
            if let Some(r) = rec.strip_suffix(b"\r") {
                rec = r;
            }
            // Blank lines, and the DOS end-of-file mark some old files carry.
            if rec.iter().all(|&b| b == b' ' || b == b'\t' || b == 0x1a) {
                self.blank_lines += 1;
                warn!(file = %self.file, line = self.line_no, "skipping blank line");
                continue;
            }
            if self.state == State::Done {
                return Err(self.error(None, "record after the trailer (record 99)"));
            }
            if rec.len() != RECORD_LEN {
                return Err(self.error(
                    None,
                    format!(
                        "record is {} bytes long, expected {RECORD_LEN} (truncated or not a COTAHIST file?)",
                        rec.len()
                    ),
                ));
            }
            let tipreg: [u8; 2] = [rec[0], rec[1]];
            match (self.state, &tipreg) {
                (State::ExpectHeader, TIPREG_HEADER) => {
                    self.header = Some(Header {
                        file_name: latin1(rec[CONTROL_FILE_NAME.range.clone()].trim_ascii()),
                        generated: latin1(&rec[CONTROL_GENERATED.range.clone()]),
                    });
                    self.state = State::Body;
                }
                (State::ExpectHeader, _) => {
                    return Err(self.error(
                        Some(&TIPREG),
                        format!("expected the header record 00, found {:?}: missing header", latin1(&tipreg)),
                    ));
                }
                (_, TIPREG_QUOTE) => {
                    self.builder.push(rec).map_err(|e| self.field_error(e))?;
                    self.quotes += 1;
                    if self.builder.len() >= self.opts.batch_rows {
                        return Ok(Some(self.builder.finish()));
                    }
                }
                (_, TIPREG_TRAILER) => {
                    self.check_trailer(rec)?;
                    self.state = State::Done;
                }
                (_, TIPREG_HEADER) => return Err(self.error(Some(&TIPREG), "a second header record 00")),
                (_, other) => {
                    return Err(self.error(
                        Some(&TIPREG),
                        format!("unknown record type {:?} (expected 00, 01 or 99)", latin1(other)),
                    ));
                }
            }
        }
    }

    fn check_trailer(&self, rec: &[u8]) -> Result<(), ParseError> {
        let total = digits(&TRAILER_TOTAL, &rec[TRAILER_TOTAL.range.clone()]).map_err(|e| self.field_error(e))?;
        let actual = self.quotes + 2;
        if total != actual {
            let message =
                format!("trailer says the file has {total} records, but it has {actual} (header and trailer included)");
            if !self.opts.allow_count_mismatch {
                return Err(
                    self.error(Some(&TRAILER_TOTAL), format!("{message}; pass --allow-count-mismatch to accept it"))
                );
            }
            warn!(file = %self.file, line = self.line_no, "{message}; accepted");
        }
        Ok(())
    }

    fn end_of_input(&mut self) -> Result<Option<RecordBatch>, ParseError> {
        match self.state {
            // Line 1 of an empty file is where its header should have been.
            State::ExpectHeader => {
                let mut e = self.error(None, "empty file: no header record 00");
                e.line = e.line.max(1);
                Err(e)
            }
            State::Body => Err(self.error(None, "file ends without the trailer record 99 (cut-off file or download?)")),
            State::Done if !self.builder.is_empty() => Ok(Some(self.builder.finish())),
            State::Done => Ok(None),
        }
    }
}

impl<R: BufRead> Iterator for CotahistReader<R> {
    type Item = Result<RecordBatch, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().transpose()
    }
}
