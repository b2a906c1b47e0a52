//! Writing output files atomically, and numeric tables as CSV or Parquet.
//!
//! Every file glassbox writes goes through [`write_atomic`]: the content is written to a temporary
//! file in the destination's directory and renamed over the destination only when complete. A run
//! that fails half-way (bad input found late, a full disk, Ctrl-C) therefore leaves either the old
//! file or none — never a truncated one that a later step would trust.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use polars::prelude::*;

/// Writes a file atomically: `fill` writes into a buffered temporary file beside `path`, which is
/// renamed to `path` only if `fill` succeeds.
///
/// # Errors
/// Any I/O error from creating, writing or renaming the file, or returned by `fill`.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".glassbox-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    let mut writer = BufWriter::new(tmp.reopen()?);
    fill(&mut writer)?;
    writer.flush()?;
    writer.get_ref().sync_all()?;
    drop(writer);
    // Temp files are created private (0600); the result is an ordinary output file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Formats a value for CSV: the shortest text that reads back to the same `f64`; empty for `NaN`.
pub fn csv_number(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else {
        format!("{v}")
    }
}

/// Quotes a CSV field when it needs it.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes named numeric columns (all the same length) to `path`: Parquet when the extension is
/// `.parquet`, CSV otherwise. Atomic.
///
/// # Errors
/// I/O errors, or columns of different lengths.
pub fn write_numeric_table(
    path: &Path,
    headers: &[String],
    columns: &[Vec<f64>],
) -> std::io::Result<()> {
    write_atomic(path, |w| {
        let mut table = NumericTableWriter::new(w, is_parquet(path));
        table.write_chunk(headers, columns)?;
        table.finish()
    })
}

/// True when `path` ends in `.parquet` (case-insensitive): the output format rule of every command.
pub fn is_parquet(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// A numeric table written chunk by chunk — CSV lines, or one Parquet row group per chunk — so a
/// command that streams its results never holds the whole table. Every chunk must have the same
/// headers; the CSV header line is written with the first chunk.
///
/// # Example
/// ```
/// use glassbox::output::NumericTableWriter;
/// let mut buf = Vec::new();
/// let mut table = NumericTableWriter::new(&mut buf, false);
/// let headers = ["a".to_string(), "b".to_string()];
/// table.write_chunk(&headers, &[vec![1.0], vec![0.5]])?;
/// table.write_chunk(&headers, &[vec![2.0], vec![f64::NAN]])?;
/// table.finish()?;
/// assert_eq!(String::from_utf8(buf).unwrap(), "a,b\n1,0.5\n2,\n");
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct NumericTableWriter<W: Write> {
    inner: TableInner<W>,
}

enum TableInner<W: Write> {
    Csv {
        w: W,
        header_written: bool,
        line: String,
    },
    Parquet {
        w: Option<W>,
        batched: Option<polars::io::parquet::write::BatchedWriter<W>>,
    },
}

impl<W: Write> NumericTableWriter<W> {
    /// A writer of CSV, or of Parquet when `parquet` is true, into `w`.
    pub fn new(w: W, parquet: bool) -> Self {
        let inner = if parquet {
            TableInner::Parquet {
                w: Some(w),
                batched: None,
            }
        } else {
            TableInner::Csv {
                w,
                header_written: false,
                line: String::new(),
            }
        };
        NumericTableWriter { inner }
    }

    /// Appends rows given as columns.
    ///
    /// # Errors
    /// I/O errors, or columns of different lengths.
    pub fn write_chunk(&mut self, headers: &[String], columns: &[Vec<f64>]) -> std::io::Result<()> {
        self.write_chunk_with_text(headers, columns, None)
    }

    /// Appends rows given as columns, followed by one text column `(header, values)` when given
    /// (row identifiers: last, so that the numeric layout readers rely on is unchanged).
    ///
    /// # Errors
    /// I/O errors, or columns of different lengths.
    pub fn write_chunk_with_text(
        &mut self,
        headers: &[String],
        columns: &[Vec<f64>],
        text: Option<(&str, &[String])>,
    ) -> std::io::Result<()> {
        let n = columns
            .first()
            .map_or_else(|| text.map_or(0, |(_, t)| t.len()), Vec::len);
        if headers.len() != columns.len()
            || columns.iter().any(|c| c.len() != n)
            || text.is_some_and(|(_, t)| t.len() != n)
        {
            return Err(std::io::Error::other(
                "table columns have different lengths",
            ));
        }
        match &mut self.inner {
            TableInner::Csv {
                w,
                header_written,
                line,
            } => {
                if !*header_written {
                    let header: Vec<String> = headers
                        .iter()
                        .map(String::as_str)
                        .chain(text.map(|(h, _)| h))
                        .map(csv_field)
                        .collect();
                    writeln!(w, "{}", header.join(","))?;
                    *header_written = true;
                }
                for i in 0..n {
                    line.clear();
                    for (j, c) in columns.iter().enumerate() {
                        if j > 0 {
                            line.push(',');
                        }
                        line.push_str(&csv_number(c[i]));
                    }
                    if let Some((_, t)) = text {
                        if !columns.is_empty() {
                            line.push(',');
                        }
                        line.push_str(&csv_field(&t[i]));
                    }
                    writeln!(w, "{line}")?;
                }
                Ok(())
            }
            TableInner::Parquet { w, batched } => {
                let mut cols: Vec<Column> = headers
                    .iter()
                    .zip(columns)
                    .map(|(h, c)| Column::new(h.as_str().into(), c.as_slice()))
                    .collect();
                if let Some((h, t)) = text {
                    cols.push(Column::new(h.into(), t));
                }
                let df = DataFrame::new(cols).map_err(std::io::Error::other)?;
                if batched.is_none() {
                    let Some(w) = w.take() else {
                        return Err(std::io::Error::other("parquet writer already finished"));
                    };
                    *batched = Some(
                        ParquetWriter::new(w)
                            .batched(df.schema())
                            .map_err(std::io::Error::other)?,
                    );
                }
                match batched {
                    Some(b) => b.write_batch(&df).map_err(std::io::Error::other),
                    None => Ok(()),
                }
            }
        }
    }

    /// Ends the table (the Parquet footer).
    ///
    /// # Errors
    /// I/O errors.
    pub fn finish(self) -> std::io::Result<()> {
        match self.inner {
            TableInner::Csv { mut w, .. } => w.flush(),
            TableInner::Parquet { batched, .. } => match batched {
                Some(b) => b.finish().map(|_| ()).map_err(std::io::Error::other),
                None => Err(std::io::Error::other(
                    "an empty parquet table has no columns",
                )),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let err = write_atomic(&path, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("boom"))
        });
        assert!(err.is_err());
        assert!(!path.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn numbers_round_trip() {
        for v in [0.1, -1e-300, 12345.678901234567, 1.0 / 3.0] {
            assert_eq!(csv_number(v).parse::<f64>().unwrap(), v);
        }
        assert_eq!(csv_number(f64::NAN), "");
    }
}
