//! The global importance bar chart: mean |attribution| per feature, largest first.
//!
//! When the explainer estimated standard errors (Kernel SHAP), each bar gets a 95% error bar for
//! the *estimation* error of its mean, `1.96 · sqrt(Σᵢ seᵢ²) / n`, treating the rows' estimation
//! errors as independent. That is the uncertainty the explainer adds; it is not the spread of the
//! attributions across rows (which the summary plot shows). Features beyond the top N are summed
//! into one grey bar, as the sum of their mean |attribution|, so the chart accounts for the whole
//! total.

use super::axis::{self, Scale};
use super::canvas::{text_width, truncate, Canvas, TextSpec};
use super::color;
use super::labels::{self, count};
use super::{check_output, ranked_features, theme, PlotError, PlotOptions, Result};
use crate::explain::Explanation;

/// Options of [`bar`].
#[derive(Clone, Debug, PartialEq)]
pub struct BarOptions {
    /// Features shown (the rest are summed into one bar). Default 20.
    pub top_n: usize,
    /// Shared options.
    pub common: PlotOptions,
}

impl Default for BarOptions {
    fn default() -> Self {
        BarOptions {
            top_n: 20,
            common: PlotOptions::default(),
        }
    }
}

/// Mean |attribution| per feature of `output` and, when standard errors exist, the standard error
/// of each mean's estimation (`sqrt(Σᵢ seᵢ²) / n`).
pub(crate) fn importance_with_se(e: &Explanation, output: usize) -> (Vec<f64>, Option<Vec<f64>>) {
    let mean = e.mean_abs().row(output).to_vec();
    let n = e.n_rows().max(1) as f64;
    let se = e.std_errors().map(|se| {
        (0..e.n_features())
            .map(|j| {
                let ss: f64 = (0..e.n_rows())
                    .map(|i| se[[i, output, j]].powi(2))
                    .filter(|v| v.is_finite())
                    .sum();
                ss.sqrt() / n
            })
            .collect()
    });
    (mean, se)
}

/// Lays out the importance bar chart of `e`.
///
/// # Errors
/// [`PlotError::OutputOutOfRange`]; [`PlotError::Invalid`] without rows or features.
pub fn bar(e: &Explanation, opts: &BarOptions) -> Result<Canvas> {
    let k = opts.common.output;
    check_output(e, k)?;
    let (n, m) = (e.n_rows(), e.n_features());
    if n == 0 || m == 0 {
        return Err(PlotError::Invalid {
            what: "a bar plot".into(),
            reason: format!("the explanation has {n} rows and {m} features"),
        });
    }
    let ranked = ranked_features(e, k);
    let (_, se) = importance_with_se(e, k);
    let top = opts.top_n.max(1).min(m);
    let features = e.schema().features();
    // (label, value, error half-width, is_rest)
    let mut bars: Vec<(String, f64, Option<f64>, bool)> = ranked[..top]
        .iter()
        .map(|&(j, v)| {
            (
                features[j].name.clone(),
                v,
                se.as_ref().map(|s| 1.96 * s[j]),
                false,
            )
        })
        .collect();
    if m > top {
        let rest: f64 = ranked[top..].iter().map(|&(_, v)| v).sum();
        bars.push((
            format!("sum of {} other features", m - top),
            rest,
            None,
            true,
        ));
    }

    let method = &e.meta().method;
    let noun = labels::attribution_noun(method);
    let out_label = labels::output_label(e, k, opts.common.output_label.as_deref());
    let title = opts
        .common
        .title
        .clone()
        .unwrap_or_else(|| format!("Global importance: mean |{noun}|"));
    let mut subtitle = format!(
        "{} · {} rows · {}",
        labels::method_label(method),
        count(n),
        out_label
    );
    if se.is_some() {
        subtitle.push_str(" · error bars: 95% interval of the estimation error");
    }

    let width = opts.common.width.unwrap_or(theme::WIDTH).max(400) as f64;
    let row_h = 28.0;
    let name_w = bars
        .iter()
        .map(|b| text_width(&b.0, theme::NAME, false))
        .fold(0.0, f64::max)
        .min(theme::MAX_NAME_WIDTH);
    let x0 = theme::MARGIN + name_w + 14.0;
    let x1 = width - theme::MARGIN - 70.0;
    let header_h = theme::MARGIN + theme::TITLE + 6.0 + theme::SUBTITLE + 6.0 + 8.0;
    let height = (header_h + bars.len() as f64 * row_h + 8.0 + 62.0 + theme::MARGIN).ceil();
    let mut c = Canvas::new(width as u32, height as u32);
    let y_top = c.header(&title, &subtitle);
    let y_bottom = y_top + bars.len() as f64 * row_h + 8.0;
    let hi = bars
        .iter()
        .map(|b| b.1 + b.2.unwrap_or(0.0))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let scale = Scale::new(0.0, if hi > 0.0 { hi * 1.02 } else { 1.0 }, x0, x1);
    axis::x_axis(
        &mut c,
        &scale,
        y_bottom,
        Some(y_top),
        &format!("mean |{noun}| (average impact on {out_label})"),
        6,
    );
    for (i, (label, v, err, rest)) in bars.iter().enumerate() {
        let yc = y_top + 4.0 + (i as f64 + 0.5) * row_h;
        let label = truncate(label, theme::NAME, false, name_w);
        let spec = TextSpec::new(theme::NAME).end();
        c.text(
            x0 - 10.0,
            yc,
            label,
            if *rest {
                spec.color(color::MUTED)
            } else {
                spec
            },
        );
        let fill = if *rest {
            color::MISSING
        } else {
            color::NEUTRAL
        };
        let xv = scale.map(v.max(0.0));
        c.rect(x0, yc - 8.0, xv, yc + 8.0, fill);
        let mut label_x = xv;
        if let Some(h) = err {
            let (a, b) = (scale.map((v - h).max(0.0)), scale.map(v + h));
            c.line(vec![(a, yc), (b, yc)], color::TEXT, 1);
            c.line(vec![(a, yc - 5.0), (a, yc + 5.0)], color::TEXT, 1);
            c.line(vec![(b, yc - 5.0), (b, yc + 5.0)], color::TEXT, 1);
            label_x = label_x.max(b);
        }
        c.text(
            label_x + 6.0,
            yc,
            axis::format_value(*v),
            TextSpec::new(theme::VALUE).color(color::MUTED),
        );
    }
    c.line(vec![(x0, y_top), (x0, y_bottom)], color::AXIS, 1);
    Ok(c)
}
