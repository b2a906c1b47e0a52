//! The waterfall plot of one row: from the base value, each feature's attribution moves the
//! output until it reaches the model's output for that row.
//!
//! The largest |attributions| are drawn one per line at the top, the remaining features summed
//! into one "N other features" line at the bottom, so the arrows always add up exactly to
//! `f(x) − base` — the plot shows the explanation's own additivity. Each line is labelled
//! `feature = value` (level names for categories) and each arrow with its signed value.

use super::axis::{self, Scale};
use super::canvas::{text_width, truncate, Canvas, TextSpec};
use super::color;
use super::labels;
use super::{check_output, theme, PlotError, PlotOptions, Result};
use crate::explain::Explanation;
use crate::model::sigmoid;

/// Options of [`waterfall`].
#[derive(Clone, Debug, PartialEq)]
pub struct WaterfallOptions {
    /// The row to explain (0-based).
    pub row: usize,
    /// Features drawn one per line (the rest are summed). Default 10.
    pub top_n: usize,
    /// The raw score is log-odds: also print the output as a probability. Default false.
    pub show_probability: bool,
    /// Shared options.
    pub common: PlotOptions,
}

impl Default for WaterfallOptions {
    fn default() -> Self {
        WaterfallOptions {
            row: 0,
            top_n: 10,
            show_probability: false,
            common: PlotOptions::default(),
        }
    }
}

/// Lays out the waterfall plot of one row of `e`.
///
/// # Errors
/// [`PlotError::RowOutOfRange`], [`PlotError::OutputOutOfRange`], or [`PlotError::Invalid`] for
/// an explanation without features or with non-finite attributions in that row.
pub fn waterfall(e: &Explanation, opts: &WaterfallOptions) -> Result<Canvas> {
    let k = opts.common.output;
    check_output(e, k)?;
    let (row, n, m) = (opts.row, e.n_rows(), e.n_features());
    if row >= n {
        return Err(PlotError::RowOutOfRange { row, n_rows: n });
    }
    if m == 0 {
        return Err(PlotError::Invalid {
            what: "a waterfall plot".into(),
            reason: "the explanation has no features".into(),
        });
    }
    let phi: Vec<f64> = (0..m).map(|j| e.values()[[row, k, j]]).collect();
    if let Some(j) = phi.iter().position(|v| !v.is_finite()) {
        return Err(PlotError::Invalid {
            what: format!("the waterfall of row {row}"),
            reason: format!(
                "the attribution of '{}' is {}",
                e.schema().features()[j].name,
                phi[j]
            ),
        });
    }
    let base = e.base_values()[[row, k]];
    let fx = base + phi.iter().sum::<f64>();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| phi[b].abs().total_cmp(&phi[a].abs()).then(a.cmp(&b)));
    let top = opts.top_n.max(1).min(m);
    let features = e.schema().features();
    // Lines from top to bottom: (label, value label, contribution, is_rest).
    let mut lines: Vec<(String, f64, bool)> = order[..top]
        .iter()
        .map(|&j| {
            let v = e.data().map(|d| d[[row, j]]);
            (labels::name_value(&features[j], v), phi[j], false)
        })
        .collect();
    if m > top {
        let rest: f64 = order[top..].iter().map(|&j| phi[j]).sum();
        lines.push((format!("{} other features", m - top), rest, true));
    }

    let method = &e.meta().method;
    let out_label = labels::output_label(e, k, opts.common.output_label.as_deref());
    let prob = |v: f64| {
        if opts.show_probability {
            format!(" (p = {})", axis::format_value(sigmoid(v)))
        } else {
            String::new()
        }
    };
    let title = opts.common.title.clone().unwrap_or_else(|| {
        format!(
            "Row {row}: why the model outputs {}",
            axis::format_value(fx)
        )
    });
    let subtitle = format!(
        "{} · {} · base value {}{} → f(x) = {}{}",
        labels::method_label(method),
        out_label,
        axis::format_value(base),
        prob(base),
        axis::format_value(fx),
        prob(fx)
    );

    let width = opts.common.width.unwrap_or(theme::WIDTH).max(400) as f64;
    let row_h = 30.0;
    let name_w = lines
        .iter()
        .map(|l| text_width(&l.0, theme::NAME, false))
        .fold(0.0, f64::max)
        .min(theme::MAX_NAME_WIDTH + 60.0);
    let x0 = theme::MARGIN + name_w + 14.0;
    let x1 = width - theme::MARGIN - 10.0;
    let header_h = theme::MARGIN + theme::TITLE + 6.0 + theme::SUBTITLE + 6.0 + 8.0;
    let fx_band = 30.0;
    let height =
        (header_h + fx_band + lines.len() as f64 * row_h + 10.0 + 62.0 + theme::MARGIN).ceil();
    let mut c = Canvas::new(width as u32, height as u32);
    let y_header = c.header(&title, &subtitle);
    let y_top = y_header + fx_band;
    let y_bottom = y_top + lines.len() as f64 * row_h + 10.0;

    // Cumulative positions from the bottom line (starting at base) upwards.
    let mut ends = vec![0.0; lines.len()];
    let mut starts = vec![0.0; lines.len()];
    let mut acc = base;
    for i in (0..lines.len()).rev() {
        starts[i] = acc;
        acc += lines[i].1;
        ends[i] = acc;
    }
    let (lo, hi) = axis::finite_range(starts.iter().chain(&ends).copied().chain([base, fx]))
        .unwrap_or((base - 1.0, base + 1.0));
    // Room for value labels outside the arrows.
    let (lo, hi) = axis::pad(lo, hi, 0.12);
    let scale = Scale::new(lo, hi, x0, x1);
    axis::x_axis(&mut c, &scale, y_bottom, Some(y_top - 6.0), &out_label, 7);

    // f(x) marker at the top, base value marker at the bottom.
    let xf = scale.map(fx);
    c.line(vec![(xf, y_top - 6.0), (xf, y_top + 2.0)], color::AXIS, 1);

    let xb = scale.map(base);
    c.line(vec![(xb, y_bottom - 8.0), (xb, y_bottom)], color::AXIS, 1);
    // Centred under the base value, but kept inside the figure.
    let base_text = format!("base value = {}{}", axis::format_value(base), prob(base));
    let half = text_width(&base_text, theme::VALUE, false) / 2.0;
    c.text(
        xb.clamp(theme::MARGIN + half, width - theme::MARGIN - half),
        y_bottom + 44.0 + theme::LABEL,
        base_text,
        TextSpec::new(theme::VALUE).color(color::MUTED).middle(),
    );
    let f_text = format!("f(x) = {}{}", axis::format_value(fx), prob(fx));
    let half_f = text_width(&f_text, theme::VALUE, true) / 2.0;
    c.text(
        xf.clamp(theme::MARGIN + half_f, width - theme::MARGIN - half_f),
        y_top - 16.0,
        f_text,
        TextSpec::new(theme::VALUE).bold().middle(),
    );

    for (i, (label, v, rest)) in lines.iter().enumerate() {
        let yc = y_top + (i as f64 + 0.5) * row_h;
        let spec = TextSpec::new(theme::NAME).end();
        c.text(
            x0 - 10.0,
            yc,
            truncate(label, theme::NAME, false, name_w),
            if *rest {
                spec.color(color::MUTED)
            } else {
                spec
            },
        );
        c.line(vec![(x0, yc), (x1, yc)], color::GRID, 1);
        let (xa, xb) = (scale.map(starts[i]), scale.map(ends[i]));
        let col = color::sign_color(*v);
        let h = 10.0;
        let len = (xb - xa).abs();
        let tip = len.min(8.0);
        let dir = if xb >= xa { 1.0 } else { -1.0 };
        if len < 1.0 {
            c.line(vec![(xa, yc - h), (xa, yc + h)], col, 2);
        } else {
            c.polygon(
                vec![
                    (xa, yc - h),
                    (xb - dir * tip, yc - h),
                    (xb, yc),
                    (xb - dir * tip, yc + h),
                    (xa, yc + h),
                ],
                col,
            );
        }
        // Connector to the next line down (where this arrow started).
        if i + 1 < lines.len() {
            c.line(
                vec![(xa, yc + h), (xa, yc + row_h - h)],
                color::with_alpha(color::AXIS, 0.6),
                1,
            );
        }
        let text = axis::format_signed(*v);
        let tw = text_width(&text, theme::VALUE, false);
        if tw + 12.0 < len - tip {
            c.text(
                (xa + xb - dir * tip) / 2.0,
                yc,
                text,
                TextSpec::new(theme::VALUE).color(color::WHITE).middle(),
            );
        } else if dir > 0.0 {
            c.text(
                xb.max(xa) + 5.0,
                yc,
                text,
                TextSpec::new(theme::VALUE).color(col),
            );
        } else {
            c.text(
                xb.min(xa) - 5.0,
                yc,
                text,
                TextSpec::new(theme::VALUE).color(col).end(),
            );
        }
    }
    Ok(c)
}
