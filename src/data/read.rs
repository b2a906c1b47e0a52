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

fn io_error(path: &Path, source: std::io::Error) -> DataError {
    DataError::Io {
        path: path.into(),
        source,
    }
}

fn read_parquet(path: &Path) -> Result<DataFrame> {
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
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(None)
        .into_reader_with_file_handle(Cursor::new(bytes))
        .finish()
        .map_err(|e| DataError::Parse {
            path: path.into(),
            message: e.to_string().lines().next().unwrap_or("").to_string(),
        })?;
    if df.height() == 0 {
        return Err(DataError::NoRows { path: path.into() });
    }
    debug_assert_eq!(df.width(), header_fields);
    Ok(df)
}

/// One pass over the raw bytes: UTF-8, the header's names, and the same field count on every line
/// (quote-aware, RFC 4180 double quotes). Returns the number of header fields.
fn validate_csv_bytes(path: &Path, bytes: &[u8]) -> Result<usize> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(DataError::Empty { path: path.into() });
    }
    if let Err(e) = std::str::from_utf8(bytes) {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        return Err(DataError::NotUtf8 {
            path: path.into(),
            line,
        });
    }
    let mut expected = None;
    let mut names: Vec<String> = Vec::new();
    let mut field = Vec::new();
    let mut fields = 1usize;
    let mut in_quotes = false;
    let mut line = 1usize;
    let mut line_start = true;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_quotes {
            if b == b'"' {
                if bytes.get(i + 1) == Some(&b'"') {
                    i += 1;
                    if expected.is_none() {
                        field.push(b'"');
                    }
                } else {
                    in_quotes = false;
                }
            } else {
                if b == b'\n' {
                    line += 1;
                }
                if expected.is_none() {
                    field.push(b);
                }
            }
        } else {
            match b {
                b'"' => in_quotes = true,
                b',' => {
                    fields += 1;
                    if expected.is_none() {
                        names.push(String::from_utf8_lossy(&field).trim().to_string());
                        field.clear();
                    }
                }
                b'\n' | b'\r' => {
                    if b == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                        i += 1;
                    }
                    if !line_start {
                        end_line(path, &mut expected, &mut names, &field, fields, line)?;
                    }
                    line += 1;
                    fields = 1;
                    line_start = true;
                    i += 1;
                    continue;
                }
                _ => {
                    if expected.is_none() {
                        field.push(b);
                    }
                }
            }
        }
        line_start = false;
        i += 1;
    }
    if !line_start {
        end_line(path, &mut expected, &mut names, &field, fields, line)?;
    }
    match expected {
        Some(n) => Ok(n),
        None => Err(DataError::Empty { path: path.into() }),
    }
}

fn end_line(
    path: &Path,
    expected: &mut Option<usize>,
    names: &mut Vec<String>,
    field: &[u8],
    fields: usize,
    line: usize,
) -> Result<()> {
    match *expected {
        None => {
            names.push(String::from_utf8_lossy(field).trim().to_string());
            *expected = Some(fields);
            check_unique_names(path, names.iter().map(String::as_str))
        }
        Some(n) if n != fields => Err(DataError::Ragged {
            path: path.into(),
            line,
            expected: n,
            found: fields,
        }),
        Some(_) => Ok(()),
    }
}

fn check_unique_names<'a>(path: &Path, names: impl Iterator<Item = &'a str>) -> Result<()> {
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
