//! Shared helpers for the integration tests: the reference fixtures in `tests/fixtures/<case>/`
//! (copied from `shared/fixtures`, see each case's PROVENANCE) and a plain reader for their
//! numeric CSV files.
//!
//! The reader is deliberately independent of glassbox's polars data layer, so that a bug there
//! cannot hide a bug in what is compared against the references.

#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};

use ndarray::Array2;

/// `tests/fixtures/<case>`.
pub fn fixture_dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(case)
}

/// A numeric CSV file: the header names and the values (rows × columns), empty field = `NaN`.
#[derive(Debug, Clone)]
pub struct Table {
    /// Column names from the header line.
    pub names: Vec<String>,
    /// Values, rows × columns.
    pub values: Array2<f64>,
}

/// Reads a numeric CSV with a header line. Fields may be quoted; an empty field is `NaN`.
///
/// # Panics
/// On a missing file, a ragged row or a non-numeric field, naming the file, line and column (these
/// are test inputs, so a panic is the right report).
pub fn read_csv(path: impl AsRef<Path>) -> Table {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines
        .next()
        .unwrap_or_else(|| panic!("{} is empty", path.display()));
    let names: Vec<String> = header.split(',').map(|s| unquote(s).to_string()).collect();
    let mut data = Vec::new();
    let mut rows = 0;
    for (i, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(
            fields.len(),
            names.len(),
            "{} line {}: {} fields, header has {}",
            path.display(),
            i + 2,
            fields.len(),
            names.len()
        );
        for (j, f) in fields.iter().enumerate() {
            let f = unquote(f);
            let v = if f.is_empty() {
                f64::NAN
            } else {
                f.parse::<f64>().unwrap_or_else(|_| {
                    panic!(
                        "{} line {} column '{}': '{f}' is not a number",
                        path.display(),
                        i + 2,
                        names[j]
                    )
                })
            };
            data.push(v);
        }
        rows += 1;
    }
    let values = Array2::from_shape_vec((rows, names.len()), data).expect("shape checked per row");
    Table { names, values }
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

/// The largest error `|a − b| / max(1, |b|)` over all entries, with its (row, column); `b` is the
/// reference. A `NaN` on either side counts as an infinite error unless both are `NaN`.
pub fn max_rel_err(a: &Array2<f64>, b: &Array2<f64>) -> (f64, (usize, usize)) {
    assert_eq!(a.dim(), b.dim(), "shape mismatch");
    let mut worst = (0.0, (0, 0));
    for ((idx, &x), &y) in a.indexed_iter().zip(b.iter()) {
        let err = if x.is_nan() && y.is_nan() {
            0.0
        } else if x.is_nan() || y.is_nan() {
            f64::INFINITY
        } else {
            (x - y).abs() / y.abs().max(1.0)
        };
        if err > worst.0 || err.is_nan() {
            worst = (err, idx);
        }
    }
    worst
}
