//! Reading CSV and Parquet files into a polars [`DataFrame`].
//!
//! Polars parses fast but reports malformed files in its own terms (byte offsets, or silently
//! renamed duplicate columns). Users need a line number and a fix, so CSV files get one cheap
//! validation pass over the raw bytes first — UTF-8, duplicate header names, ragged rows — and only
//! then go to polars. Types are inferred from every row (`infer_schema_length(None)`), not a prefix,
//! so a stray word on row 40 000 is found rather than turning into a parse error later.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::error::{DataError, Result};

/// Reads a `.csv` or `.parquet` file (decided by the extension) into a [`DataFrame`].
///
/// # Errors
/// A [`DataError`] naming the file and the line or column for: a missing or unreadable file, an
/// empty file, a header without rows, non-UTF-8 text, duplicate column names and ragged rows.
///
/// # Example
/// ```
/// let df = glassbox::data::read_table("data/german_credit.csv").unwrap();
/// assert_eq!(df.height(), 1000);
/// ```
pub fn read_table(path: impl AsRef<Path>) -> Result<DataFrame> {
    let path = path.as_ref();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("parquet") | Some("pq") => read_parquet(path),
        Some("csv") | Some("txt") | None => read_csv(path),
        Some(_) => Err(DataError::UnknownFormat { path: path.into() }),
    }
}

pub(crate) fn io_error(path: &Path, source: std::io::Error) -> DataError {
    DataError::Io {
        path: path.into(),
        source,
    }
}

pub(crate) fn read_parquet(path: &Path) -> Result<DataFrame> {
    let file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    if file.metadata().map(|m| m.len()).unwrap_or(0) == 0 {
        return Err(DataError::Empty { path: path.into() });
    }
    let df = ParquetReader::new(file)
        .finish()
        .map_err(|e| DataError::Parse {
            path: path.into(),
            message: e.to_string(),
        })?;
    if df.height() == 0 {
        return Err(DataError::NoRows { path: path.into() });
    }
    check_unique_names(path, df.get_column_names().iter().map(|s| s.as_str()))?;
    Ok(df)
}

fn read_csv(path: &Path) -> Result<DataFrame> {
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    let header_fields = validate_csv_bytes(path, &bytes)?;
    let df = parse_csv(path, bytes, None)?;
    if df.height() == 0 {
        return Err(DataError::NoRows { path: path.into() });
    }
    debug_assert_eq!(df.width(), header_fields);
    Ok(df)
}

/// Parses validated CSV bytes (header included) with polars, inferring types from every row.
/// `text_columns` are read as text whatever they look like.
pub(crate) fn parse_csv(
    path: &Path,
    bytes: Vec<u8>,
    text_columns: Option<SchemaRef>,
) -> Result<DataFrame> {
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(None)
        .with_schema_overwrite(text_columns)
        .into_reader_with_file_handle(Cursor::new(bytes))
        .finish()
        .map_err(|e| DataError::Parse {
            path: path.into(),
            message: e.to_string().lines().next().unwrap_or("").to_string(),
        })
}

/// One pass over the raw bytes: UTF-8, the header's names, and the same field count on every line
/// (quote-aware, RFC 4180 double quotes). Returns the number of header fields.
fn validate_csv_bytes(path: &Path, bytes: &[u8]) -> Result<usize> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(DataError::Empty { path: path.into() });
    }
    let mut scanner = CsvScanner::new(path);
    scanner.feed(bytes)?;
    scanner.finish()
}

/// The validation pass as a state machine, so a file can be checked piece by piece as it is read
/// (see [`super::chunks`]) with line numbers that count from the start of the file.
///
/// Pieces must end at a line end (or the end of the file): the only look-ahead, for `""` inside
/// quotes and for `\r\n`, then stays within one piece.
#[derive(Debug)]
pub(crate) struct CsvScanner {
    path: PathBuf,
    /// Header fields, once the header line is complete.
    expected: Option<usize>,
    names: Vec<String>,
    field: Vec<u8>,
    fields: usize,
    in_quotes: bool,
    /// 1-based line of the next byte.
    line: usize,
    line_start: bool,
    /// Data records completed so far (blank lines are not records).
    records: usize,
}

impl CsvScanner {
    pub(crate) fn new(path: &Path) -> CsvScanner {
        CsvScanner {
            path: path.into(),
            expected: None,
            names: Vec::new(),
            field: Vec::new(),
            fields: 1,
            in_quotes: false,
            line: 1,
            line_start: true,
            records: 0,
        }
    }

    /// The header's names, once the header line has been fed.
    pub(crate) fn header(&self) -> Option<&[String]> {
        self.expected.map(|_| self.names.as_slice())
    }

    /// Data records completed so far.
    pub(crate) fn records(&self) -> usize {
        self.records
    }

    /// True between records (not inside a quoted field that spans lines).
    pub(crate) fn at_record_boundary(&self) -> bool {
        !self.in_quotes && self.line_start
    }

    /// Checks the next piece of the file.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Result<()> {
        if let Err(e) = std::str::from_utf8(bytes) {
            let line = self.line
                + bytes[..e.valid_up_to()]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
            return Err(DataError::NotUtf8 {
                path: self.path.clone(),
                line,
            });
        }
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if self.in_quotes {
                if b == b'"' {
                    if bytes.get(i + 1) == Some(&b'"') {
                        i += 1;
                        if self.expected.is_none() {
                            self.field.push(b'"');
                        }
                    } else {
                        self.in_quotes = false;
                    }
                } else {
                    if b == b'\n' {
                        self.line += 1;
                    }
                    if self.expected.is_none() {
                        self.field.push(b);
                    }
                }
            } else {
                match b {
                    b'"' => self.in_quotes = true,
                    b',' => {
                        self.fields += 1;
                        if self.expected.is_none() {
                            self.names
                                .push(String::from_utf8_lossy(&self.field).trim().to_string());
                            self.field.clear();
                        }
                    }
                    b'\n' | b'\r' => {
                        if b == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                            i += 1;
                        }
                        if !self.line_start {
                            self.end_line()?;
                        }
                        self.line += 1;
                        self.fields = 1;
                        self.line_start = true;
                        i += 1;
                        continue;
                    }
                    _ => {
                        if self.expected.is_none() {
                            self.field.push(b);
                        }
                    }
                }
            }
            self.line_start = false;
            i += 1;
        }
        Ok(())
    }

    /// Ends the file: checks a last line without a line end. Returns the number of header
    /// fields.
    ///
    /// # Errors
    /// [`DataError::Empty`] when there was no header line.
    pub(crate) fn finish(&mut self) -> Result<usize> {
        if !self.line_start {
            self.end_line()?;
            self.line_start = true;
        }
        self.expected.ok_or_else(|| DataError::Empty {
            path: self.path.clone(),
        })
    }

    fn end_line(&mut self) -> Result<()> {
        match self.expected {
            None => {
                self.names
                    .push(String::from_utf8_lossy(&self.field).trim().to_string());
                self.expected = Some(self.fields);
                check_unique_names(&self.path, self.names.iter().map(String::as_str))
            }
            Some(n) if n != self.fields => Err(DataError::Ragged {
                path: self.path.clone(),
                line: self.line,
                expected: n,
                found: self.fields,
            }),
            Some(_) => {
                self.records += 1;
                Ok(())
            }
        }
    }
}

pub(crate) fn check_unique_names<'a>(
    path: &Path,
    names: impl Iterator<Item = &'a str>,
) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for name in names {
        if !seen.insert(name) {
            return Err(DataError::DuplicateColumn {
                path: PathBuf::from(path),
                column: name.to_string(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<usize> {
        validate_csv_bytes(Path::new("t.csv"), text.as_bytes())
    }

    #[test]
    fn counts_fields_with_quotes_and_crlf() {
        assert_eq!(check("a,b\r\n1,\"x,y\"\r\n2,\"q\"\"\"\n").unwrap(), 2);
    }

    #[test]
    fn ragged_line_is_named() {
        match check("a,b\n1,2\n3\n") {
            Err(DataError::Ragged {
                line,
                expected,
                found,
                ..
            }) => assert_eq!((line, expected, found), (3, 2, 1)),
            other => panic!("expected a ragged-row error, got {other:?}"),
        }
    }

    #[test]
    fn quoted_newline_keeps_line_numbers() {
        match check("a,b\n1,\"two\nlines\"\n3,4,5\n") {
            Err(DataError::Ragged { line, .. }) => assert_eq!(line, 4),
            other => panic!("expected a ragged-row error, got {other:?}"),
        }
    }

    #[test]
    fn duplicate_header_is_named() {
        match check("a,b,a\n1,2,3\n") {
            Err(DataError::DuplicateColumn { column, .. }) => assert_eq!(column, "a"),
            other => panic!("expected a duplicate-column error, got {other:?}"),
        }
    }
}
