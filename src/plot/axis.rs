//! Linear scales, "nice" ticks, number formatting, and drawing axes on a [`Canvas`].
//!
//! Ticks follow the 1-2-5 rule (Heckbert, "Nice numbers for graph labels", Graphics Gems, 1990):
//! the step is 1, 2 or 5 times a power of ten, chosen so that about `n` ticks cover the range.
//! Tick labels get exactly as many decimals as the step needs, so labels never disagree in
//! precision and never print float noise such as `0.30000000000000004`.

use super::canvas::{Canvas, TextSpec};
use super::color;
use super::theme;

/// A linear map from data values to pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    /// Data interval (d0 maps to p0).
    pub d0: f64,
    /// Data interval (d1 maps to p1).
    pub d1: f64,
    /// Pixel interval.
    pub p0: f64,
    /// Pixel interval.
    pub p1: f64,
}

impl Scale {
    /// A scale mapping `[d0, d1]` to `[p0, p1]`; a degenerate domain is widened by ±0.5 (or ±10%).
    pub fn new(d0: f64, d1: f64, p0: f64, p1: f64) -> Self {
        let (mut d0, mut d1) = (d0, d1);
        if !(d0.is_finite() && d1.is_finite()) {
            d0 = -1.0;
            d1 = 1.0;
        }
        if d1 - d0 <= f64::EPSILON * d0.abs().max(d1.abs()).max(1.0) {
            let pad = if d0 == 0.0 { 0.5 } else { d0.abs() * 0.1 };
            d0 -= pad;
            d1 += pad;
        }
        Scale { d0, d1, p0, p1 }
    }

    /// The pixel position of data value `v`.
    pub fn map(&self, v: f64) -> f64 {
        self.p0 + (v - self.d0) / (self.d1 - self.d0) * (self.p1 - self.p0)
    }
}

/// The smallest and largest finite values, or `None`.
pub fn finite_range(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for v in values {
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    (lo <= hi).then_some((lo, hi))
}

/// `[lo, hi]` widened by `frac` of its width on each side (and by ±0.5 when it is a point).
pub fn pad(lo: f64, hi: f64, frac: f64) -> (f64, f64) {
    let w = hi - lo;
    if w <= 0.0 {
        let p = if lo == 0.0 { 0.5 } else { lo.abs() * 0.1 };
        return (lo - p, hi + p);
    }
    (lo - w * frac, hi + w * frac)
}

fn nice_step(range: f64, n: usize) -> f64 {
    let raw = range / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f < 1.5 {
        1.0
    } else if f < 3.0 {
        2.0
    } else if f < 7.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// About `n` round tick values inside `[lo, hi]`, and the step between them.
pub fn ticks(lo: f64, hi: f64, n: usize) -> (Vec<f64>, f64) {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return (vec![lo], 1.0);
    }
    let step = nice_step(hi - lo, n);
    // A hair of slack so that 0.3 / 0.1 = 2.9999999999999996 still counts as the tick 3.
    let first = (lo / step - 1e-9).ceil();
    let last = (hi / step + 1e-9).floor();
    let mut out = Vec::new();
    let mut k = first;
    while k <= last && out.len() < 100 {
        // k * step, then snapped to the step's precision to avoid 0.30000000000000004.
        let v = k * step;
        out.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
        k += 1.0;
    }
    (out, step)
}

/// Decimals needed to print multiples of `step` exactly.
pub fn decimals_for(step: f64) -> usize {
    if step <= 0.0 || !step.is_finite() {
        return 2;
    }
    let d = -(step.log10() + 1e-9).floor();
    d.clamp(0.0, 12.0) as usize
}

/// Inserts thousands separators into the integer part of a formatted number.
fn group_thousands(s: &str) -> String {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", s),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if int.len() <= 3 || !int.bytes().all(|b| b.is_ascii_digit()) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + int.len() / 3);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{sign}{out}{frac}")
}

/// A tick label for `v` on a scale with this step.
pub fn format_tick(v: f64, step: f64) -> String {
    if v.abs() >= 1e7 || (v != 0.0 && v.abs() < 1e-4) {
        return format!("{v:.1e}");
    }
    let s = format!("{:.*}", decimals_for(step), v);
    let s = if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    };
    group_thousands(&s).replace('-', "−")
}

/// A value for people: about 3 significant digits, thousands separators, no float noise.
/// `15945.0` → `15,945`; `0.04321` → `0.0432`; `-1.5` → `−1.5`.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        return "missing".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-4..1e9).contains(&a) {
        return format!("{v:.2e}").replace('-', "−");
    }
    let s = if a >= 100.0 {
        format!("{:.0}", v)
    } else {
        let digits = (2 - a.log10().floor() as i64).clamp(0, 8) as usize;
        let s = format!("{:.*}", digits, v);
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    group_thousands(&s).replace('-', "−")
}

/// An attribution with its sign: `+0.43`, `−1.20`, `+0.0041`.
pub fn format_signed(v: f64) -> String {
    if v.is_nan() {
        return "n/a".into();
    }
    let a = v.abs();
    let body = if a == 0.0 {
        "0.00".to_string()
    } else if a >= 100.0 {
        group_thousands(&format!("{a:.0}"))
    } else if a >= 0.01 {
        format!("{a:.2}")
    } else {
        format_value(a)
    };
    let sign = if v > 0.0 {
        "+"
    } else if v < 0.0 {
        "−"
    } else {
        ""
    };
    format!("{sign}{body}")
}

/// Draws a horizontal axis along `y` spanning the scale's pixel range: ticks, labels, vertical grid
/// lines up to `grid_top` (when given), and a title under the labels.
pub(crate) fn x_axis(
    canvas: &mut Canvas,
    scale: &Scale,
    y: f64,
    grid_top: Option<f64>,
    title: &str,
    n_ticks: usize,
) {
    let (lo, hi) = (scale.d0.min(scale.d1), scale.d0.max(scale.d1));
    let (ts, step) = ticks(lo, hi, n_ticks);
    for &t in &ts {
        let x = scale.map(t);
        if let Some(top) = grid_top {
            canvas.line(vec![(x, top), (x, y)], color::GRID, 1);
        }
        canvas.line(vec![(x, y), (x, y + 4.0)], color::AXIS, 1);
        canvas.text(
            x,
            y + 6.0 + theme::TICK / 2.0,
            format_tick(t, step),
            TextSpec::new(theme::TICK).color(color::MUTED).middle(),
        );
    }
    canvas.line(
        vec![(scale.p0.min(scale.p1), y), (scale.p0.max(scale.p1), y)],
        color::AXIS,
        1,
    );
    if !title.is_empty() {
        let mid = (scale.p0 + scale.p1) / 2.0;
        canvas.text(
            mid,
            y + 10.0 + theme::TICK + theme::LABEL / 2.0 + 2.0,
            title,
            TextSpec::new(theme::LABEL).middle(),
        );
    }
}

/// Draws a vertical axis along `x`: ticks, labels, horizontal grid lines to `grid_right` (when
/// given), and a rotated title at `title_x`.
pub(crate) fn y_axis(
    canvas: &mut Canvas,
    scale: &Scale,
    x: f64,
    grid_right: Option<f64>,
    title: &str,
    title_x: f64,
    n_ticks: usize,
) {
    let (lo, hi) = (scale.d0.min(scale.d1), scale.d0.max(scale.d1));
    let (ts, step) = ticks(lo, hi, n_ticks);
    for &t in &ts {
        let y = scale.map(t);
        if let Some(right) = grid_right {
            canvas.line(vec![(x, y), (right, y)], color::GRID, 1);
        }
        canvas.line(vec![(x - 4.0, y), (x, y)], color::AXIS, 1);
        canvas.text(
            x - 7.0,
            y,
            format_tick(t, step),
            TextSpec::new(theme::TICK).color(color::MUTED).end(),
        );
    }
    canvas.line(
        vec![(x, scale.p0.min(scale.p1)), (x, scale.p0.max(scale.p1))],
        color::AXIS,
        1,
    );
    if !title.is_empty() {
        let mid = (scale.p0 + scale.p1) / 2.0;
        canvas.vtext(title_x, mid, title, TextSpec::new(theme::LABEL));
    }
}

/// The widest tick label a y axis over `[lo, hi]` will draw, in pixels.
pub(crate) fn y_tick_width(lo: f64, hi: f64, n_ticks: usize) -> f64 {
    let (ts, step) = ticks(lo.min(hi), lo.max(hi), n_ticks);
    ts.iter()
        .map(|&t| super::canvas::text_width(&format_tick(t, step), theme::TICK, false))
        .fold(0.0, f64::max)
}

/// A vertical blue→red colour bar from `top` to `bottom` at `x` (12 px wide) with `high` and `low`
/// labels at its ends and a rotated `title` to its right. Returns the x right of everything drawn.
pub(crate) fn color_bar(
    canvas: &mut Canvas,
    x: f64,
    top: f64,
    bottom: f64,
    (high, low): (&str, &str),
    title: &str,
) -> f64 {
    const STEPS: usize = 48;
    let w = 12.0;
    let h = (bottom - top) / STEPS as f64;
    for i in 0..STEPS {
        let t = 1.0 - (i as f64 + 0.5) / STEPS as f64;
        let y0 = top + i as f64 * h;
        canvas.rect(x, y0, x + w, y0 + h + 0.6, color::value_color(t));
    }
    let small = TextSpec::new(theme::TICK).color(color::MUTED);
    canvas.text(x + w / 2.0, top - 10.0, high, small.middle());
    canvas.text(x + w / 2.0, bottom + 10.0, low, small.middle());
    let tx = x + w + 6.0 + theme::LABEL / 2.0;
    canvas.vtext(tx, (top + bottom) / 2.0, title, TextSpec::new(theme::LABEL));
    tx + theme::LABEL / 2.0
}

/// The width [`color_bar`] needs, including margins.
pub(crate) const COLOR_BAR_WIDTH: f64 = 12.0 + 6.0 + theme::LABEL + 8.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_inside() {
        let (t, step) = ticks(-0.37, 1.92, 5);
        assert_eq!(step, 0.5);
        assert_eq!(t, vec![0.0, 0.5, 1.0, 1.5]);
        let (t, step) = ticks(0.0, 0.3, 3);
        assert_eq!(step, 0.1);
        assert_eq!(
            t.iter().map(|&v| format_tick(v, step)).collect::<Vec<_>>(),
            ["0.0", "0.1", "0.2", "0.3"]
        );
        let (t, _) = ticks(250.0, 18424.0, 5);
        assert_eq!(t, vec![5000.0, 10000.0, 15000.0]);
    }

    #[test]
    fn numbers_read_like_a_person_wrote_them() {
        assert_eq!(format_value(15945.0), "15,945");
        assert_eq!(format_value(0.04321), "0.0432");
        assert_eq!(format_value(-1.5), "−1.5");
        assert_eq!(format_value(67.0), "67");
        assert_eq!(format_value(1234567.8), "1,234,568");
        assert_eq!(format_signed(0.4312), "+0.43");
        assert_eq!(format_signed(-1.2), "−1.20");
        assert_eq!(format_signed(0.00412), "+0.00412");
        assert_eq!(format_tick(-0.0, 0.5), "0.0");
        assert_eq!(format_tick(-2.0, 1.0), "−2");
        assert_eq!(format_tick(10000.0, 5000.0), "10,000");
    }

    #[test]
    fn scale_maps_ends_and_survives_a_point_domain() {
        let s = Scale::new(0.0, 10.0, 100.0, 200.0);
        assert_eq!(s.map(0.0), 100.0);
        assert_eq!(s.map(10.0), 200.0);
        let p = Scale::new(3.0, 3.0, 0.0, 1.0);
        assert!(p.map(3.0) > 0.0 && p.map(3.0) < 1.0);
    }
}
