//! The training rows that most helped and most hurt one explained row's loss, as a bar chart.
//!
//! Takes the rows of `glassbox influence`'s long-form table for one explained row (training row
//! index and influence = predicted loss without the row minus loss with it; positive = it helped).
//! The most helpful rows are drawn first (positive bars), then the most harmful (negative bars),
//! so an auditor reads "who drove this decision" top to bottom.

use super::signed_bar::signed_bars;
use super::{Canvas, PlotError, PlotOptions, Result};

/// Influence of training rows on one explained row, in plain arrays.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct InfluenceRows {
    /// The explained row (0-based), for the title.
    pub row: usize,
    /// 0-based indices into the training file.
    pub train_rows: Vec<usize>,
    /// Influence of each training row (positive = removing it would raise the loss).
    pub influence: Vec<f64>,
    /// What the influence is on, e.g. `log loss`, for the axis label.
    pub on: String,
}

/// Lays out the top `top_k` helpful and top `top_k` harmful training rows.
///
/// # Errors
/// [`PlotError::Invalid`] for no rows, lengths that differ, or a non-finite influence.
pub fn influence_bar(rows: &InfluenceRows, top_k: usize, opts: &PlotOptions) -> Result<Canvas> {
    let bad = |reason: String| PlotError::Invalid {
        what: "an influence chart".into(),
        reason,
    };
    if rows.influence.is_empty() {
        return Err(bad(format!(
            "there are no training rows for row {}",
            rows.row
        )));
    }
    if rows.train_rows.len() != rows.influence.len() {
        return Err(bad(format!(
            "{} training rows but {} influence values",
            rows.train_rows.len(),
            rows.influence.len()
        )));
    }
    if let Some(i) = rows.influence.iter().position(|v| !v.is_finite()) {
        return Err(bad(format!(
            "the influence of training row {} is {}",
            rows.train_rows[i], rows.influence[i]
        )));
    }
    let k = top_k.max(1);
    let mut order: Vec<usize> = (0..rows.influence.len()).collect();
    // Most helpful first; ties by training row so the chart is deterministic.
    order.sort_by(|&a, &b| {
        rows.influence[b]
            .total_cmp(&rows.influence[a])
            .then(rows.train_rows[a].cmp(&rows.train_rows[b]))
    });
    let helpful: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&i| rows.influence[i] > 0.0)
        .take(k)
        .collect();
    let harmful: Vec<usize> = order
        .iter()
        .rev()
        .copied()
        .filter(|&i| rows.influence[i] < 0.0)
        .take(k)
        .collect();
    let shown: Vec<usize> = helpful
        .iter()
        .chain(harmful.iter().rev())
        .copied()
        .collect();
    if shown.is_empty() {
        return Err(bad(format!(
            "every training row has zero influence on row {}",
            rows.row
        )));
    }
    let labels: Vec<String> = shown
        .iter()
        .map(|&i| format!("training row {}", rows.train_rows[i]))
        .collect();
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    let values: Vec<f64> = shown.iter().map(|&i| rows.influence[i]).collect();
    let title = opts
        .title
        .clone()
        .unwrap_or_else(|| format!("Influence of training rows on row {}", rows.row));
    let subtitle = format!(
        "{} most helpful (removing them raises the loss) and {} most harmful, of {} listed for this row",
        helpful.len(),
        harmful.len(),
        rows.influence.len()
    );
    Ok(signed_bars(
        &title,
        &subtitle,
        &labels,
        &values,
        &format!(
            "influence on {} (loss without the row − loss with it)",
            rows.on
        ),
        opts,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> InfluenceRows {
        InfluenceRows {
            row: 3,
            train_rows: vec![10, 11, 12, 13, 14],
            influence: vec![0.5, -0.2, 0.1, -0.7, 0.0],
            on: "log loss".into(),
        }
    }

    #[test]
    fn helpful_first_then_harmful_most_harmful_last() {
        let c = influence_bar(&rows(), 2, &PlotOptions::default()).unwrap();
        let svg = crate::plot::to_svg(&c).unwrap();
        let at = |s: &str| svg.find(s).unwrap_or_else(|| panic!("{s} missing"));
        // Helpful: 10 (0.5) then 12 (0.1); harmful: 11 (−0.2) then 13 (−0.7); 14 (0) not drawn.
        assert!(at("training row 10") < at("training row 12"));
        assert!(at("training row 12") < at("training row 11"));
        assert!(at("training row 11") < at("training row 13"));
        assert!(!svg.contains("training row 14"));
        assert!(svg.contains("Influence of training rows on row 3"));
    }

    #[test]
    fn bad_input_is_an_error() {
        let mut r = rows();
        r.influence[1] = f64::NAN;
        assert!(influence_bar(&r, 3, &PlotOptions::default()).is_err());
        r.influence.pop();
        assert!(influence_bar(&r, 3, &PlotOptions::default()).is_err());
        let z = InfluenceRows {
            influence: vec![0.0],
            train_rows: vec![1],
            ..rows()
        };
        assert!(influence_bar(&z, 3, &PlotOptions::default()).is_err());
    }
}
