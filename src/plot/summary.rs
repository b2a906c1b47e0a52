//! The summary (beeswarm) plot: one row per feature, ranked by mean |attribution|, one dot per
//! explained row at its attribution, coloured by the feature's value.
//!
//! Dots are stacked into a swarm: each row's dots are binned by pixel column (one dot diameter per
//! bin) and stacked alternately above and below the row's centre line, in a seeded random order so
//! that no colour systematically hides another; rows whose tallest stack would overflow are
//! compressed. This is the layout shap's `beeswarm` popularised; ours bins in pixels, so the swarm
//! looks the same at any data scale.
//!
//! Colour: numeric values map to blue (low) → red (high) between the 5th and 95th percentiles of
//! the drawn values (so a few outliers do not wash out the scale); categorical values by level
//! index; missing values are grey and drawn underneath. With more rows than
//! [`SummaryOptions::max_dots`], a seeded random sample of rows is drawn, and the subtitle says so.
//! When there are more features than shown, the rest are summed into one last row.

use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::axis::{self, Scale};
use super::canvas::{legend_swatch, text_width, truncate, Canvas, TextSpec};
use super::color;
use super::labels::{self, count};
use super::{check_output, ranked_features, sample_rows, theme, PlotError, PlotOptions, Result};
use crate::explain::Explanation;

/// Options of [`summary`].
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryOptions {
    /// Features shown (the rest are summed into one row). Default 20.
    pub top_n: usize,
    /// Rows drawn at most; beyond it a seeded random sample is drawn. Default 2000.
    pub max_dots: usize,
    /// Seed of the row sample and of the swarm's stacking order. Default 0.
    pub seed: u64,
    /// Shared options.
    pub common: PlotOptions,
}

impl Default for SummaryOptions {
    fn default() -> Self {
        SummaryOptions {
            top_n: 20,
            max_dots: 2000,
            seed: 0,
            common: PlotOptions::default(),
        }
    }
}

struct Row {
    label: String,
    /// Attribution per drawn row.
    values: Vec<f64>,
    /// Colour position in 0..=1 per drawn row; `None` = missing (grey).
    color: Vec<Option<f64>>,
}

/// Position of each value on the colour scale: 5th–95th percentile for numbers, level index for
/// categories, `None` for missing values.
pub(crate) fn color_positions(feature: &crate::data::Feature, x: &[f64]) -> Vec<Option<f64>> {
    if let Some(k) = labels::n_levels(feature, x.iter().copied()) {
        let denom = (k.max(2) - 1) as f64;
        return x
            .iter()
            .map(|&v| (!v.is_nan()).then(|| (v / denom).clamp(0.0, 1.0)))
            .collect();
    }
    let mut finite: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return vec![None; x.len()];
    }
    finite.sort_by(f64::total_cmp);
    let q = |p: f64| finite[((finite.len() - 1) as f64 * p).round() as usize];
    let (mut lo, mut hi) = (q(0.05), q(0.95));
    if hi <= lo {
        lo = finite[0];
        hi = finite[finite.len() - 1];
    }
    x.iter()
        .map(|&v| {
            if v.is_nan() {
                None
            } else if hi > lo {
                Some(((v - lo) / (hi - lo)).clamp(0.0, 1.0))
            } else {
                Some(0.5)
            }
        })
        .collect()
}

/// Vertical offsets (in units of one stacking step) of dots at pixel positions `xs`, stacked per
/// bin of width `bin` in the order `order`.
pub(crate) fn swarm_offsets(xs: &[f64], bin: f64, order: &[usize]) -> Vec<f64> {
    let mut counts: std::collections::HashMap<i64, u32> = std::collections::HashMap::new();
    let mut out = vec![0.0; xs.len()];
    for &i in order {
        let b = (xs[i] / bin).floor() as i64;
        let c = counts.entry(b).or_insert(0);
        let level = ((*c + 1) / 2) as f64;
        out[i] = if *c % 2 == 1 { -level } else { level };
        *c += 1;
    }
    out
}

/// Lays out the summary plot of `e`.
///
/// # Errors
/// [`PlotError::OutputOutOfRange`], or [`PlotError::Invalid`] for an explanation without rows or
/// features. Without attached feature values the dots are drawn in one colour and the plot says so.
pub fn summary(e: &Explanation, opts: &SummaryOptions) -> Result<Canvas> {
    let k = opts.common.output;
    check_output(e, k)?;
    let (n, m) = (e.n_rows(), e.n_features());
    if n == 0 || m == 0 {
        return Err(PlotError::Invalid {
            what: "a summary plot".into(),
            reason: format!("the explanation has {n} rows and {m} features"),
        });
    }
    let values = e.output_values(k);
    let ranked = ranked_features(e, k);
    let top = opts.top_n.max(1).min(m);
    let drawn = sample_rows(n, opts.max_dots.max(1), opts.seed);
    let data = e.data();
    let features = e.schema().features();

    let mut rows: Vec<Row> = ranked[..top]
        .iter()
        .map(|&(j, _)| {
            let vals: Vec<f64> = drawn.iter().map(|&i| values[[i, j]]).collect();
            let color = match data {
                Some(d) => {
                    let x: Vec<f64> = drawn.iter().map(|&i| d[[i, j]]).collect();
                    color_positions(&features[j], &x)
                }
                None => vec![Some(0.5); drawn.len()],
            };
            Row {
                label: features[j].name.clone(),
                values: vals,
                color,
            }
        })
        .collect();
    if m > top {
        let rest: Vec<usize> = ranked[top..].iter().map(|&(j, _)| j).collect();
        let vals = drawn
            .iter()
            .map(|&i| rest.iter().map(|&j| values[[i, j]]).sum())
            .collect();
        rows.push(Row {
            label: format!("sum of {} other features", m - top),
            values: vals,
            color: vec![None; drawn.len()],
        });
    }

    // Layout.
    let width = opts.common.width.unwrap_or(theme::WIDTH).max(400) as f64;
    let row_h = 30.0;
    let name_w = rows
        .iter()
        .map(|r| text_width(&r.label, theme::NAME, false))
        .fold(0.0, f64::max)
        .min(theme::MAX_NAME_WIDTH);
    let method = &e.meta().method;
    let noun = labels::attribution_noun(method);
    let out_label = labels::output_label(e, k, opts.common.output_label.as_deref());
    let title = opts.common.title.clone().unwrap_or_else(|| {
        format!(
            "{} summary: impact on {}",
            labels::method_label(method),
            out_label
        )
    });
    let shown = if top == m {
        format!("all {m} features")
    } else {
        format!("top {top} of {m} features")
    };
    let mut subtitle = format!("{} rows · {shown}, ranked by mean |{noun}|", count(n));
    if drawn.len() < n {
        subtitle.push_str(&format!(
            " · {} rows drawn (random sample, seed {})",
            count(drawn.len()),
            opts.seed
        ));
    }
    if data.is_none() {
        subtitle.push_str(" · feature values not attached");
    }
    let bar_w = if data.is_some() {
        axis::COLOR_BAR_WIDTH + 12.0
    } else {
        0.0
    };
    let x0 = theme::MARGIN + name_w + 14.0;
    let x1 = width - theme::MARGIN - bar_w - 8.0;
    let height_wo_header = rows.len() as f64 * row_h + 62.0 + theme::MARGIN;
    let header_h = theme::MARGIN + theme::TITLE + 6.0 + theme::SUBTITLE + 6.0 + 8.0;
    let height = (header_h + height_wo_header).ceil();
    let (lo, hi, clipped) = x_range(&rows);
    if clipped > 0 {
        subtitle.push_str(&format!(
            " · {} outlying dots clipped to the axis edges",
            count(clipped)
        ));
    }
    let mut c = Canvas::new(width as u32, height as u32);
    let y_top = c.header(&title, &subtitle);
    let y_bottom = y_top + rows.len() as f64 * row_h;

    let scale = Scale::new(lo, hi, x0, x1);
    axis::x_axis(
        &mut c,
        &scale,
        y_bottom,
        None,
        &format!("{noun} (impact on {out_label})"),
        7,
    );
    let zero = scale.map(0.0);
    c.line(vec![(zero, y_top), (zero, y_bottom)], color::AXIS, 1);

    let r: u32 = if drawn.len() > 1000 { 2 } else { 3 };
    let diameter = 2.0 * r as f64;
    let mut order: Vec<usize> = (0..drawn.len()).collect();
    order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(
        opts.seed ^ 0x5eed,
    ));
    let mut any_missing = false;
    for (ri, row) in rows.iter().enumerate() {
        let yc = y_top + (ri as f64 + 0.5) * row_h;
        c.line(vec![(x0, yc), (x1, yc)], color::GRID, 1);
        let label = truncate(&row.label, theme::NAME, false, name_w);
        c.text(x0 - 10.0, yc, label, TextSpec::new(theme::NAME).end());
        let xs: Vec<f64> = row
            .values
            .iter()
            .map(|&v| scale.map(v.clamp(lo, hi)))
            .collect();
        let offsets = swarm_offsets(&xs, diameter, &order);
        let max_level = offsets.iter().fold(0.0f64, |a, b| a.max(b.abs()));
        let step = if max_level > 0.0 {
            (diameter * 0.75).min(row_h * 0.42 / max_level)
        } else {
            0.0
        };
        // Missing (grey) first, underneath.
        for pass in [true, false] {
            for &i in &order {
                let v = row.values[i];
                if !v.is_finite() {
                    continue;
                }
                let missing = row.color[i].is_none();
                if missing != pass {
                    continue;
                }
                let col = match row.color[i] {
                    Some(t) if data.is_some() => color::value_color(t),
                    Some(_) => color::NEUTRAL,
                    None => color::MISSING,
                };
                any_missing |= missing && ri < top;
                c.dot(
                    xs[i],
                    yc + offsets[i] * step,
                    r,
                    color::with_alpha(col, 0.85),
                );
            }
        }
    }
    if data.is_some() {
        let bx = x1 + 20.0;
        let span = (y_bottom - y_top).min(360.0);
        let mid = (y_top + y_bottom) / 2.0;
        let (bt, bb) = (mid - span / 2.0 + 14.0, mid + span / 2.0 - 14.0);
        axis::color_bar(&mut c, bx, bt, bb, ("high", "low"), "feature value");
        if any_missing {
            legend_swatch(&mut c, bx + 6.0, bb + 30.0, color::MISSING);
            c.text(
                bx + 6.0,
                bb + 44.0,
                "missing",
                TextSpec::new(theme::TICK).color(color::MUTED).middle(),
            );
        }
    }
    Ok(c)
}

/// The x range: every value and 0, padded — unless a few extreme values would squeeze the rest
/// into a sliver (the full span more than 4× the 0.5–99.5th percentile span, as a diverging GLM
/// level or one huge attribution does). Then the axis covers the percentiles (and 0) plus half
/// their span on each side, and the dots beyond are drawn at its edges and counted in the
/// subtitle. Returns (lo, hi, clipped).
fn x_range(rows: &[Row]) -> (f64, f64, usize) {
    let mut all: Vec<f64> = rows
        .iter()
        .flat_map(|r| r.values.iter().copied())
        .filter(|v| v.is_finite())
        .collect();
    if all.is_empty() {
        return (-1.0, 1.0, 0);
    }
    all.sort_by(f64::total_cmp);
    let q = |p: f64| all[((all.len() - 1) as f64 * p).round() as usize];
    let (full_lo, full_hi) = (all[0].min(0.0), all[all.len() - 1].max(0.0));
    let (rob_lo, rob_hi) = (q(0.005).min(0.0), q(0.995).max(0.0));
    let span = rob_hi - rob_lo;
    if span > 0.0 && (full_hi - full_lo) > 4.0 * span {
        // Keep a margin of half the span beyond the percentiles: the tail of a real
        // distribution stays on the axis, only far-away values are clipped.
        let (lo, hi) = axis::pad(
            full_lo.max(rob_lo - 0.5 * span),
            full_hi.min(rob_hi + 0.5 * span),
            0.04,
        );
        let clipped = all.iter().filter(|&&v| v < lo || v > hi).count();
        (lo, hi, clipped)
    } else {
        let (lo, hi) = axis::pad(full_lo, full_hi, 0.04);
        (lo, hi, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extreme_values_clip_the_axis_and_are_counted() {
        let row = |values: Vec<f64>| Row {
            label: "f".into(),
            color: vec![None; values.len()],
            values,
        };
        // 1000 values in [-1, 1] and two at -40: clipped, both counted.
        let mut v: Vec<f64> = (0..1000).map(|i| (i as f64 / 500.0) - 1.0).collect();
        v.extend([-40.0, -40.0]);
        let (lo, hi, clipped) = x_range(&[row(v)]);
        assert!(lo > -2.2 && lo < -2.0 && hi > 1.0 && hi < 2.2, "{lo} {hi}");
        assert_eq!(clipped, 2);
        // A wide but even spread is not clipped.
        let v: Vec<f64> = (0..1000).map(|i| i as f64 - 500.0).collect();
        let (lo, hi, clipped) = x_range(&[row(v)]);
        assert_eq!(clipped, 0);
        assert!(lo < -500.0 && hi > 499.0);
    }

    #[test]
    fn swarm_alternates_and_stacks_per_bin() {
        let xs = [10.0, 10.5, 11.0, 50.0];
        let off = swarm_offsets(&xs, 6.0, &[0, 1, 2, 3]);
        assert_eq!(off, vec![0.0, -1.0, 1.0, 0.0]);
    }
}
