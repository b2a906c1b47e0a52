//! Reading CSV and Parquet files into a polars [`DataFrame`].
//!
//! Polars parses fast but reports malformed files in its own terms (byte offsets, or silently
//! renamed duplicate columns). Users need a line number and a fix, so CSV files get one cheap
//! validation pass over the raw bytes first — UTF-8, duplicate header names, ragged rows — and only
//! then go to polars. Types are inferred from every row (`infer_schema_length(None)`), not a prefix,
//! so a stray word on row 40 000 is found rather than turning into a parse error later.
//!
//! # Reading with a known schema
//! Inference runs regular expressions over every field and was most of the time `explain` spent
//! reading a 1000-row background. When a model's schema says what each column is
//! ([`read_table_with_schema`], and the chunks of [`super::chunks`]), the columns are given their
//! types instead ([`schema_dtypes`]: numbers as `Float64`, text-level categories as text) and polars
//! only parses. The typed read is a fast path, not a second set of rules: whenever polars refuses a
//! value (a word in a numeric column), or a field is blank but not empty (`" "`, `""`: polars would
//! read it as missing where inference reads it as text and reports it), the file is read again
//! the inferring way, so every message and every accepted file stay exactly as before.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::*;

use super::error::{DataError, Result};
use super::schema::{format_number, FeatureKind, FeatureSchema};

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
    read_csv_typed(path, None)
}

/// Reads a `.csv` or `.parquet` file (as [`read_table`]) whose feature columns are described by
/// `schema`: CSV columns get their types from it rather than by inference (see the module docs).
/// Other columns are read as text. The frame holds the same values, and a bad file gets the same
/// error, as with [`read_table`] — except that categorical features with text levels are always read
/// as text, as [`Dataset::chunks_with_schema`](super::Dataset::chunks_with_schema) reads them.
///
/// # Errors
/// As [`read_table`].
pub(crate) fn read_table_with_schema(path: &Path, schema: &FeatureSchema) -> Result<DataFrame> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("csv") | Some("txt") | None => read_csv_typed(path, Some(schema)),
        _ => read_table(path),
    }
}

fn read_csv_typed(path: &Path, schema: Option<&FeatureSchema>) -> Result<DataFrame> {
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    let (scanner, header_fields) = validate_csv_bytes(path, &bytes)?;
    let typed = schema.and_then(|schema| {
        let names = scanner.header()?;
        let dtypes = schema_dtypes(names, schema, &text_columns(schema))?;
        parse_csv_typed(&bytes, &scanner, dtypes)
    });
    let df = match typed {
        Some(df) => df,
        None => parse_csv(path, &bytes, None)?,
    };
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
    bytes: &[u8],
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

/// Below this size (bytes) a typed CSV read is parsed on one thread: splitting a small file between
/// polars' threads cost more than it saved (1000 rows × 61 columns, 130 kB: 1.7 ms on one thread,
/// 2.1 ms on two).
const SMALL_CSV: usize = 1 << 20;

/// Parses validated CSV bytes with the column types `dtypes` (one per header field, in order), or
/// `None` when the typed read cannot stand in for inference: polars refused a value, or `scanner`
/// (which has checked every byte parsed here) saw a blank field. The caller then reads the bytes
/// with [`parse_csv`], which gives the error or the values inference would.
pub(crate) fn parse_csv_typed(
    bytes: &[u8],
    scanner: &CsvScanner,
    dtypes: Arc<Vec<DataType>>,
) -> Option<DataFrame> {
    if scanner.has_blank_fields() {
        return None;
    }
    CsvReadOptions::default()
        .with_has_header(true)
        .with_n_threads((bytes.len() < SMALL_CSV).then_some(1))
        // No row is looked at for types: every column starts as text, then takes its dtype.
        .with_infer_schema_length(Some(0))
        .with_dtype_overwrite(Some(dtypes))
        .into_reader_with_file_handle(Cursor::new(bytes))
        .finish()
        .ok()
}

/// The type of each column of a CSV file with header `names` for reading it with `schema`:
/// numeric features and category codes are `Float64` (what inference gives them once encoded,
/// integers included), `text_columns` (categorical features with text levels) and columns the model
/// does not use are text. `None` when a feature has no type that reads every value as inference
/// does: categorical features with number or `true`/`false` levels.
pub(crate) fn schema_dtypes(
    names: &[String],
    schema: &FeatureSchema,
    text_columns: &[String],
) -> Option<Arc<Vec<DataType>>> {
    let kinds: std::collections::HashMap<&str, &FeatureKind> = schema
        .features()
        .iter()
        .map(|f| (f.name.as_str(), &f.kind))
        .collect();
    names
        .iter()
        .map(|name| {
            if text_columns.contains(name) {
                return Some(DataType::String);
            }
            match kinds.get(name.as_str()) {
                None => Some(DataType::String),
                Some(FeatureKind::Numeric | FeatureKind::CategoryCode) => Some(DataType::Float64),
                // Text levels are in `text_columns`. Number levels are matched by the number
                // inference reads ("1.0" is level "1", "+1" is not): no type reads them the same.
                Some(FeatureKind::Categorical { .. }) => None,
            }
        })
        .collect::<Option<Vec<_>>>()
        .map(Arc::new)
}

/// A level written as [`format_number`] writes numbers, so a number read from the data matches it.
fn is_canonical_number(level: &str) -> bool {
    level
        .parse::<f64>()
        .is_ok_and(|v| format_number(v) == level)
}

/// Categorical features whose levels are not all numbers in canonical form (or `true`/`false`):
/// these must be read as text (see [`super::chunks`]).
pub(crate) fn text_columns(schema: &FeatureSchema) -> Vec<String> {
    schema
        .features()
        .iter()
        .filter(|f| match &f.kind {
            FeatureKind::Categorical { levels } => levels
                .iter()
                .any(|l| !is_canonical_number(l) && l != "true" && l != "false"),
            _ => false,
        })
        .map(|f| f.name.clone())
        .collect()
}

/// One pass over the raw bytes: UTF-8, the header's names, and the same field count on every line
/// (quote-aware, RFC 4180 double quotes). Returns the scanner that made it and the number of
/// header fields.
fn validate_csv_bytes(path: &Path, bytes: &[u8]) -> Result<(CsvScanner, usize)> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(DataError::Empty { path: path.into() });
    }
    let mut scanner = CsvScanner::new(path);
    scanner.feed(bytes)?;
    let fields = scanner.finish()?;
    Ok((scanner, fields))
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
    /// The current field has a byte other than spaces, tabs and quotes.
    field_filled: bool,
    /// The current field has a byte.
    field_started: bool,
    /// A data field so far was blank but not empty (see [`CsvScanner::has_blank_fields`]).
    blank_fields: bool,
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
            field_filled: false,
            field_started: false,
            blank_fields: false,
        }
    }

    /// True when a data field fed so far is not empty but holds only spaces, tabs and quotes
    /// (`" "`, `""`): polars reads such a field as missing when it is given a numeric type, but
    /// inference reads it as text, so [`parse_csv_typed`] must not be used.
    pub(crate) fn has_blank_fields(&self) -> bool {
        self.blank_fields
    }

    /// Ends a field: notes whether it was blank.
    fn end_field(&mut self) {
        if self.field_started && !self.field_filled && self.expected.is_some() {
            self.blank_fields = true;
        }
        self.field_started = false;
        self.field_filled = false;
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
                self.field_started = true;
                self.field_filled |= !matches!(b, b'"' | b' ' | b'\t');
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
                    b'"' => {
                        self.in_quotes = true;
                        self.field_started = true;
                    }
                    b',' => {
                        self.end_field();
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
                            self.end_field();
                            self.end_line()?;
                        }
                        self.line += 1;
                        self.fields = 1;
                        self.line_start = true;
                        i += 1;
                        continue;
                    }
                    _ => {
                        self.field_started = true;
                        self.field_filled |= !matches!(b, b' ' | b'\t');
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
            self.end_field();
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
        validate_csv_bytes(Path::new("t.csv"), text.as_bytes()).map(|(_, fields)| fields)
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
