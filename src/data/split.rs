//! Seeded train/test splits of a table, optionally stratified by a column.
//!
//! Held-out evaluation is the only honest measure of a model, and a report an auditor can reproduce
//! needs the split to be reproducible too: the split is a pure function of the row count, the seed
//! and (when stratified) the column's values.

use polars::prelude::*;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Row indices `(train, test)` for a split with `test_fraction` of the rows in the test part.
///
/// With `strata` (one label per row), each stratum is split separately so class balance is kept.
/// Both index lists are sorted, so the parts keep the file's row order. Every stratum with at
/// least two rows contributes at least one row to each part.
///
/// # Example
/// ```
/// let (train, test) = glassbox::data::split_indices(10, 0.3, 7, None);
/// assert_eq!((train.len(), test.len()), (7, 3));
/// ```
pub fn split_indices(
    n: usize,
    test_fraction: f64,
    seed: u64,
    strata: Option<&[String]>,
) -> (Vec<usize>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut groups: Vec<Vec<usize>> = match strata {
        None => vec![(0..n).collect()],
        Some(labels) => {
            let mut keys: Vec<&String> = labels.iter().collect();
            keys.sort();
            keys.dedup();
            keys.iter()
                .map(|k| (0..n).filter(|&i| &labels[i] == *k).collect())
                .collect()
        }
    };
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for g in groups.iter_mut() {
        g.shuffle(&mut rng);
        let mut k = (g.len() as f64 * test_fraction).round() as usize;
        if g.len() >= 2 {
            k = k.clamp(1, g.len() - 1);
        }
        test.extend_from_slice(&g[..k]);
        train.extend_from_slice(&g[k..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

/// The rows of `df` at `rows`, in that order.
///
/// # Errors
/// A polars error if an index is out of range.
pub fn take_rows(df: &DataFrame, rows: &[usize]) -> PolarsResult<DataFrame> {
    let idx: Vec<IdxSize> = rows.iter().map(|&i| i as IdxSize).collect();
    df.take(&IdxCa::from_vec("idx".into(), idx))
}

/// Writes a frame as CSV, atomically.
///
/// # Errors
/// I/O or formatting errors.
pub fn write_csv(df: &mut DataFrame, path: &std::path::Path) -> std::io::Result<()> {
    crate::output::write_atomic(path, |w| {
        CsvWriter::new(w)
            .include_header(true)
            .finish(df)
            .map_err(std::io::Error::other)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stratified_split_keeps_balance_and_is_seeded() {
        let labels: Vec<String> = (0..100).map(|i| (i % 4 == 0).to_string()).collect();
        let (train, test) = split_indices(100, 0.2, 3, Some(&labels));
        assert_eq!(train.len() + test.len(), 100);
        let pos = test.iter().filter(|&&i| labels[i] == "true").count();
        assert_eq!((test.len(), pos), (20, 5));
        assert_eq!(split_indices(100, 0.2, 3, Some(&labels)), (train, test));
        assert_ne!(
            split_indices(100, 0.2, 4, Some(&labels)).1,
            split_indices(100, 0.2, 3, Some(&labels)).1
        );
    }
}
