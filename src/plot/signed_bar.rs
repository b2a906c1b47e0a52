//! One horizontal bar per labelled signed value, drawn from zero, coloured by sign, with the value
//! printed at the bar's end: the layout shared by the LIME bar chart and the influence top-k chart.

use super::axis::{self, Scale};
use super::canvas::{text_width, truncate, Canvas, TextSpec};
use super::color;
use super::{theme, PlotOptions};

/// Lays out `values` (in the order given) as horizontal bars labelled by `labels`, under
/// `title`/`subtitle`, with `x_label` under the axis. The caller checks that the values are
/// finite and as many as the labels.
pub(super) fn signed_bars(
    title: &str,
    subtitle: &str,
    labels: &[&str],
    values: &[f64],
    x_label: &str,
    opts: &PlotOptions,
) -> Canvas {
    let width = opts.width.unwrap_or(theme::WIDTH).max(400) as f64;
    let row_h = 28.0;
    let name_w = labels
        .iter()
        .map(|l| text_width(l, theme::NAME, false))
        .fold(0.0, f64::max)
        .min(theme::MAX_NAME_WIDTH + 60.0);
    let x0 = theme::MARGIN + name_w + 14.0;
    let x1 = width - theme::MARGIN - 10.0;
    let header_h = theme::MARGIN + theme::TITLE + 6.0 + theme::SUBTITLE + 6.0 + 8.0;
    let height = (header_h + values.len() as f64 * row_h + 8.0 + 62.0 + theme::MARGIN).ceil();
    let mut c = Canvas::new(width as u32, height as u32);
    let y_top = c.header(title, subtitle);
    let y_bottom = y_top + values.len() as f64 * row_h + 8.0;
    let (lo, hi) = axis::finite_range(values.iter().copied().chain([0.0])).unwrap_or((-1.0, 1.0));
    let (lo, hi) = axis::pad(lo, hi, 0.15);
    let scale = Scale::new(lo, hi, x0, x1);
    axis::x_axis(&mut c, &scale, y_bottom, Some(y_top), x_label, 7);
    let zero = scale.map(0.0);
    for (r, (&label, &v)) in labels.iter().zip(values).enumerate() {
        let yc = y_top + 4.0 + (r as f64 + 0.5) * row_h;
        c.text(
            x0 - 10.0,
            yc,
            truncate(label, theme::NAME, false, name_w),
            TextSpec::new(theme::NAME).end(),
        );
        let col = color::sign_color(v);
        let xv = scale.map(v);
        c.rect(zero, yc - 9.0, xv, yc + 9.0, col);
        let text = axis::format_signed(v);
        if v >= 0.0 {
            c.text(xv + 5.0, yc, text, TextSpec::new(theme::VALUE).color(col));
        } else {
            c.text(
                xv - 5.0,
                yc,
                text,
                TextSpec::new(theme::VALUE).color(col).end(),
            );
        }
    }
    c.line(vec![(zero, y_top), (zero, y_bottom)], color::AXIS, 1);
    c
}
