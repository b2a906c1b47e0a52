//! Calibration (reliability) diagram of a probability model: mean predicted probability against
//! the observed event rate, per bin of the prediction, with the diagonal of perfect calibration.
//!
//! Takes plain arrays (the report computes the bins) so the plot layer stays free of metrics. Each
//! bin's observed rate carries a 95 % Wilson score interval (Wilson 1927), which — unlike the
//! normal approximation — stays inside [0, 1] and is sensible for the small bins and rare events
//! of credit data: a point off the diagonal whose interval still crosses it is not evidence of
//! miscalibration. Both axes share one range, so the diagonal is at 45° and distances are honest.

use super::axis::{self, Scale};
use super::canvas::{Canvas, TextSpec};
use super::color;
use super::{theme, PlotError, PlotOptions, Result};

/// Binned predictions and outcomes, in plain arrays (one entry per bin).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct CalibrationBins {
    /// Mean predicted probability per bin.
    pub mean_predicted: Vec<f64>,
    /// Observed event rate per bin, in [0, 1].
    pub observed_rate: Vec<f64>,
    /// Rows per bin.
    pub counts: Vec<usize>,
    /// What is predicted, e.g. `bad_credit = 1`.
    pub event: String,
}

/// Φ⁻¹(0.975).
const Z: f64 = 1.959_963_984_540_054;

/// The 95 % Wilson score interval of a proportion `p` observed in `n` trials.
pub fn wilson_interval(p: f64, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let n = n as f64;
    let z2 = Z * Z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Lays out the calibration diagram.
///
/// # Errors
/// [`PlotError::Invalid`] for no bins, arrays of different lengths, or values outside [0, 1].
pub fn calibration(bins: &CalibrationBins, opts: &PlotOptions) -> Result<Canvas> {
    let bad = |reason: String| PlotError::Invalid {
        what: "a calibration diagram".into(),
        reason,
    };
    let k = bins.mean_predicted.len();
    if k == 0 {
        return Err(bad("there are no bins".into()));
    }
    if bins.observed_rate.len() != k || bins.counts.len() != k {
        return Err(bad(format!(
            "{k} predicted means, {} observed rates and {} counts",
            bins.observed_rate.len(),
            bins.counts.len()
        )));
    }
    if let Some(v) = bins
        .mean_predicted
        .iter()
        .chain(&bins.observed_rate)
        .find(|v| !(0.0..=1.0).contains(*v))
    {
        return Err(bad(format!("{v} is not a probability")));
    }
    let n: usize = bins.counts.iter().sum();
    let ece: f64 = (0..k)
        .map(|b| bins.counts[b] as f64 * (bins.observed_rate[b] - bins.mean_predicted[b]).abs())
        .sum::<f64>()
        / n.max(1) as f64;
    let intervals: Vec<(f64, f64)> = (0..k)
        .map(|b| wilson_interval(bins.observed_rate[b], bins.counts[b]))
        .collect();

    let title = opts
        .title
        .clone()
        .unwrap_or_else(|| "Calibration: predicted vs observed".to_string());
    let subtitle = format!(
        "{k} bins of {} rows · bars: 95% Wilson interval · expected calibration error {:.3}",
        super::labels::count(n),
        ece
    );
    let width = opts.width.unwrap_or(640).max(360) as f64;
    // Square plot area: as tall as it is wide.
    let hi = bins
        .mean_predicted
        .iter()
        .copied()
        .chain(intervals.iter().map(|i| i.1))
        .fold(0.0f64, f64::max);
    let hi = axis::pad(0.0, hi, 0.05).1.min(1.0);
    let x0 = theme::MARGIN + theme::LABEL + 10.0 + axis::y_tick_width(0.0, hi, 6) + 10.0;
    let side = width - theme::MARGIN - 10.0 - x0;
    let header = theme::MARGIN + theme::TITLE + 6.0 + theme::SUBTITLE + 6.0 + 8.0;
    let height = (header + 10.0 + side + 62.0 + theme::MARGIN).ceil();
    let mut c = Canvas::new(width as u32, height as u32);
    let y_top = c.header(&title, &subtitle) + 10.0;
    let y_bottom = y_top + side;
    let x1 = x0 + side;
    let xs = Scale::new(0.0, hi, x0, x1);
    let ys = Scale::new(0.0, hi, y_bottom, y_top);
    axis::y_axis(
        &mut c,
        &ys,
        x0,
        Some(x1),
        &format!("observed rate of {}", bins.event),
        theme::MARGIN + theme::LABEL / 2.0,
        6,
    );
    axis::x_axis(
        &mut c,
        &xs,
        y_bottom,
        Some(y_top),
        "mean predicted probability",
        6,
    );
    // The diagonal of perfect calibration, dashed.
    let dashes = 40;
    for d in (0..dashes).step_by(2) {
        let (a, b) = (
            hi * d as f64 / dashes as f64,
            hi * (d + 1) as f64 / dashes as f64,
        );
        c.line(
            vec![(xs.map(a), ys.map(a)), (xs.map(b), ys.map(b))],
            color::MUTED,
            1,
        );
    }
    c.text(
        xs.map(hi * 0.97),
        ys.map(hi * 0.97) + 14.0,
        "perfect calibration",
        TextSpec::new(theme::TICK - 1.0).color(color::MUTED).end(),
    );
    let pts: Vec<(f64, f64)> = (0..k)
        .map(|b| {
            (
                xs.map(bins.mean_predicted[b]),
                ys.map(bins.observed_rate[b]),
            )
        })
        .collect();
    c.line(pts.clone(), color::with_alpha(color::NEUTRAL, 0.5), 1);
    for (b, &(px, py)) in pts.iter().enumerate() {
        let (lo, up) = intervals[b];
        let (a, z) = (ys.map(lo), ys.map(up));
        c.line(vec![(px, a), (px, z)], color::NEUTRAL, 2);
        c.line(vec![(px - 4.0, a), (px + 4.0, a)], color::NEUTRAL, 2);
        c.line(vec![(px - 4.0, z), (px + 4.0, z)], color::NEUTRAL, 2);
        c.dot(px, py, 5, color::NEUTRAL);
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_a_published_value() {
        // Newcombe (1998), Table I: 81/263 → 0.2553 to 0.3662.
        let (lo, hi) = wilson_interval(81.0 / 263.0, 263);
        assert!((lo - 0.2553).abs() < 5e-5, "{lo}");
        assert!((hi - 0.3662).abs() < 5e-5, "{hi}");
        // 0/10 → 0 to 0.2775 (Newcombe, Table I, method 3).
        let (lo, hi) = wilson_interval(0.0, 10);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.2775).abs() < 5e-5, "{hi}");
    }

    #[test]
    fn draws_one_point_per_bin_and_refuses_non_probabilities() {
        let bins = CalibrationBins {
            mean_predicted: vec![0.1, 0.3, 0.6],
            observed_rate: vec![0.12, 0.25, 0.7],
            counts: vec![50, 50, 50],
            event: "y = 1".into(),
        };
        let c = calibration(&bins, &PlotOptions::default()).unwrap();
        assert_eq!(c.n_dots(), 3);
        assert!(c
            .texts()
            .iter()
            .any(|t| t.contains("calibration error 0.057")));
        let bad = CalibrationBins {
            observed_rate: vec![0.1, 1.5, 0.2],
            ..bins
        };
        assert!(calibration(&bad, &PlotOptions::default()).is_err());
    }
}
