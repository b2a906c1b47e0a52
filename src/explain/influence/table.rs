//! The result tables: per explained row the top-K helpful and harmful training rows (long form),
//! and the self-influence ranking.

use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;

use super::{Influence, InfluenceTarget};
use crate::explain::{ExplainError, Result};

/// One line of an [`InfluenceTable`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InfluenceRow {
    /// 0-based index of the explained row.
    pub row: usize,
    /// 0-based index of the training row.
    pub train_row: usize,
    /// Predicted `loss(without train_row) − loss(with it)` on `row` (positive: it helped).
    pub influence: f64,
}

/// Long-form influence table: for each explained row, its selected training rows in decreasing
/// order of influence (most helpful first, most harmful last).
#[derive(Clone, Debug, PartialEq)]
pub struct InfluenceTable {
    rows: Vec<InfluenceRow>,
    method: &'static str,
    target: InfluenceTarget,
    top: usize,
}

impl InfluenceTable {
    /// The lines, grouped by explained row in input order.
    pub fn rows(&self) -> &[InfluenceRow] {
        &self.rows
    }

    /// The estimator's name.
    pub fn method(&self) -> &'static str {
        self.method
    }

    /// What the influence is measured on.
    pub fn target(&self) -> InfluenceTarget {
        self.target
    }

    /// K: training rows kept per side (0: all).
    pub fn top(&self) -> usize {
        self.top
    }
}

/// Self-influence of every training row, ranked.
#[derive(Clone, Debug, PartialEq)]
pub struct SelfInfluence {
    values: Vec<f64>,
    order: Vec<usize>,
}

impl SelfInfluence {
    /// Ranks the self-influence of `est`'s training rows, highest first (ties by row index).
    ///
    /// # Errors
    /// As [`Influence::self_influence`].
    pub fn compute(est: &dyn Influence) -> Result<SelfInfluence> {
        let values = est.self_influence()?;
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
        Ok(SelfInfluence { values, order })
    }

    /// Self-influence by training row.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Training rows from the highest self-influence (most suspicious) down.
    pub fn ranking(&self) -> &[usize] {
        &self.order
    }
}

/// The indices of the K largest and K smallest values (all when `top` is 0 or `2·top ≥ len`),
/// in decreasing order of value, ties by index.
fn select(values: &[f64], top: usize) -> Vec<usize> {
    let n = values.len();
    let cmp = |a: &usize, b: &usize| values[*b].total_cmp(&values[*a]).then(a.cmp(b));
    let mut idx: Vec<usize> = (0..n).collect();
    if top == 0 || 2 * top >= n {
        idx.sort_by(cmp);
        return idx;
    }
    // Partial selection: the K largest, then the K smallest among the rest.
    idx.select_nth_unstable_by(top - 1, cmp);
    let (head, tail) = idx.split_at_mut(top);
    head.sort_by(cmp);
    let m = tail.len();
    tail.select_nth_unstable_by(m - top, cmp);
    let low = &mut tail[m - top..];
    low.sort_by(cmp);
    let mut out = head.to_vec();
    out.extend_from_slice(low);
    out
}

/// Influence of the training rows on each explained row of `x` (encoded features in the model's
/// schema) with labels `y`: the `top` most helpful and `top` most harmful training rows per
/// explained row (`top` = 0: all), rows processed in parallel, each writing its own slot.
///
/// # Errors
/// [`ExplainError::Shape`] when `y` and `x` differ in rows; otherwise as [`Influence::influence`].
pub fn influence_table(
    est: &dyn Influence,
    x: ArrayView2<f64>,
    y: Option<ArrayView1<f64>>,
    target: InfluenceTarget,
    top: usize,
) -> Result<InfluenceTable> {
    if y.is_some_and(|y| y.len() != x.nrows()) {
        return Err(ExplainError::Shape(format!(
            "{} explained rows but {} labels",
            x.nrows(),
            y.map_or(0, |y| y.len())
        )));
    }
    let per_row: Vec<Result<Vec<InfluenceRow>>> = (0..x.nrows())
        .into_par_iter()
        .map(|r| {
            let inf = est.influence(x.row(r), y.map(|y| y[r]), target)?;
            Ok(select(&inf, top)
                .into_iter()
                .map(|k| InfluenceRow {
                    row: r,
                    train_row: k,
                    influence: inf[k],
                })
                .collect())
        })
        .collect();
    let mut rows = Vec::new();
    for r in per_row {
        rows.extend(r?);
    }
    Ok(InfluenceTable {
        rows,
        method: est.method(),
        target,
        top,
    })
}

#[cfg(test)]
mod tests {
    use super::select;

    #[test]
    fn select_keeps_both_ends_in_order() {
        let v = [0.5, -2.0, 3.0, 0.0, -1.0, 2.0, 0.1];
        assert_eq!(select(&v, 2), vec![2, 5, 4, 1]);
        assert_eq!(select(&v, 0), vec![2, 5, 0, 6, 3, 4, 1]);
        assert_eq!(select(&v, 4), vec![2, 5, 0, 6, 3, 4, 1]);
        assert_eq!(select(&[1.0, 1.0, 1.0, 0.0, 0.0], 1), vec![0, 4]);
    }
}
