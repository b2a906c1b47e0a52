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
    let n = columns.first().map_or(0, Vec::len);
    if headers.len() != columns.len() || columns.iter().any(|c| c.len() != n) {
        return Err(std::io::Error::other(
            "table columns have different lengths",
        ));
    }
    let is_parquet = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    if is_parquet {
        let cols: Vec<Column> = headers
            .iter()
            .zip(columns)
            .map(|(h, c)| Column::new(h.as_str().into(), c.as_slice()))
            .collect();
        let mut df = DataFrame::new(cols).map_err(std::io::Error::other)?;
        return write_atomic(path, |w| {
            ParquetWriter::new(w)
                .finish(&mut df)
                .map(|_| ())
                .map_err(std::io::Error::other)
        });
    }
    write_atomic(path, |w| {
        let header: Vec<String> = headers.iter().map(|h| csv_field(h)).collect();
        writeln!(w, "{}", header.join(","))?;
        let mut line = String::new();
        for i in 0..n {
            line.clear();
            for (j, c) in columns.iter().enumerate() {
                if j > 0 {
                    line.push(',');
                }
                line.push_str(&csv_number(c[i]));
            }
            writeln!(w, "{line}")?;
        }
        Ok(())
    })
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
