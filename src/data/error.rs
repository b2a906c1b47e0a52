//! Errors of the data layer.
//!
//! Every variant carries the facts a user needs to find and fix the problem: the file, the column,
//! the 1-based data row (the header is not counted; a file's line is `row + 1`) and what was found.
//! Messages end with the fix where there is an obvious one.

use std::path::PathBuf;

/// Result alias of the data layer.
pub type Result<T> = std::result::Result<T, DataError>;

/// What went wrong while reading a table or applying a schema to it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{path}: cannot read the file: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file has no content at all.
    #[error("{path}: the file is empty; expected a header row and at least one data row")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The file has a header but no data rows.
    #[error("{path}: the file has a header but no data rows")]
    NoRows {
        /// The file.
        path: PathBuf,
    },
    /// The file is not valid UTF-8 text.
    #[error("{path}: line {line} is not valid UTF-8; re-save the file as UTF-8")]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// 1-based line of the first invalid byte.
        line: usize,
    },
    /// A row has a different number of fields than the header.
    #[error("{path}: line {line} has {found} fields but the header has {expected}; check for an unquoted comma or a missing field")]
    Ragged {
        /// The file.
        path: PathBuf,
        /// 1-based line in the file.
        line: usize,
        /// Number of fields in the header.
        expected: usize,
        /// Number of fields on that line.
        found: usize,
    },
    /// Two columns have the same name.
    #[error(
        "{path}: column name '{column}' appears more than once in the header; rename one of them"
    )]
    DuplicateColumn {
        /// The file.
        path: PathBuf,
        /// The repeated name.
        column: String,
    },
    /// A column the caller asked for is not in the table.
    #[error("{path}: no column named '{column}'{hint}")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The missing column.
        column: String,
        /// Suggestion text (a close name, or the available columns), starting with "; ".
        hint: String,
    },
    /// A column in which no row has a value.
    #[error("{path}: column '{column}' has no values (every row is missing); drop it or fill it")]
    AllMissing {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
    },
    /// A numeric column with a value that is not a number.
    #[error("{path}: column '{column}' is numeric but row {row} holds '{value}'; fix the value, leave the field empty for missing, or declare the column categorical")]
    NotNumeric {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
        /// 1-based data row.
        row: usize,
        /// The offending text.
        value: String,
    },
    /// NaN or an infinity written out in a numeric column.
    #[error("{path}: column '{column}' row {row} holds {value}; leave the field empty to mark a missing value, or replace the infinity with a finite number")]
    NonFinite {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
        /// 1-based data row.
        row: usize,
        /// The value as text (`NaN`, `inf`, `-inf`).
        value: String,
    },
    /// The target column has a missing value.
    #[error(
        "{path}: target column '{column}' is missing at row {row}; every row needs a target value"
    )]
    MissingTarget {
        /// The file.
        path: PathBuf,
        /// The target column.
        column: String,
        /// 1-based data row.
        row: usize,
    },
    /// The target takes a single value: there is nothing to learn.
    #[error("{path}: target column '{column}' has the single value '{value}' in every row; a model needs at least two distinct values")]
    ConstantTarget {
        /// The file.
        path: PathBuf,
        /// The target column.
        column: String,
        /// The only value.
        value: String,
    },
    /// The target's values do not fit the requested task.
    #[error("{path}: target column '{column}': {reason}")]
    BadTarget {
        /// The file.
        path: PathBuf,
        /// The target column.
        column: String,
        /// What does not fit.
        reason: String,
    },
    /// A categorical value that the model never saw in training.
    #[error("{path}: column '{column}' row {row} has the category '{value}', which the model did not see in training (known: {known}); fix the value or pass --unseen missing to treat it as missing")]
    UnseenCategory {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
        /// 1-based data row.
        row: usize,
        /// The unseen value.
        value: String,
        /// A short list of the known levels.
        known: String,
    },
    /// A column whose type glassbox cannot use as a feature.
    #[error("{path}: column '{column}' has type {dtype}, which glassbox cannot use as a feature; convert it to a number or text, or drop it")]
    UnsupportedType {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
        /// The polars type.
        dtype: String,
    },
    /// The file's extension names no format glassbox reads.
    #[error("{path}: unknown table format; use a .csv or .parquet file")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// The table could not be parsed.
    #[error("{path}: cannot parse the table: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A table could not be written.
    #[error("{path}: cannot write: {message}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// A request that does not fit the data (for example, no feature columns left).
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the fix.
        message: String,
    },
}

impl DataError {
    /// The same error with its data-row number moved down by `rows`: a table read in chunks
    /// reports rows within the chunk, and the reader shifts them by the rows before it so the
    /// message names the row of the whole file.
    pub(crate) fn shift_rows(mut self, rows: usize) -> DataError {
        match &mut self {
            DataError::NotNumeric { row, .. }
            | DataError::NonFinite { row, .. }
            | DataError::MissingTarget { row, .. }
            | DataError::UnseenCategory { row, .. } => *row += rows,
            _ => {}
        }
        self
    }
}

/// A hint for a missing column: the closest available name, or the list of names.
pub(crate) fn column_hint(wanted: &str, available: &[String]) -> String {
    let lower = wanted.to_lowercase();
    if let Some(close) = available.iter().find(|c| c.to_lowercase() == lower) {
        return format!("; did you mean '{close}'?");
    }
    let shown: Vec<&str> = available.iter().take(12).map(String::as_str).collect();
    let more = if available.len() > 12 { ", …" } else { "" };
    format!("; the columns are: {}{more}", shown.join(", "))
}
