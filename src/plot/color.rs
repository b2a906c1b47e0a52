//! Colours: the blue→red feature-value scale and the few fixed colours of every plot.
//!
//! The scale follows the convention shap made familiar (blue = low feature value, red = high;
//! red = pushes the output up, blue = pushes it down), so readers who know those plots read ours
//! without a legend lesson. It is interpolated in linear-light RGB rather than sRGB, which keeps
//! the midpoint a clear purple instead of a muddy grey-violet.

use plotters::style::RGBAColor;

/// Text and axes.
pub const TEXT: RGBAColor = RGBAColor(33, 33, 33, 1.0);
/// Secondary text (captions, tick labels).
pub const MUTED: RGBAColor = RGBAColor(100, 100, 100, 1.0);
/// Grid lines.
pub const GRID: RGBAColor = RGBAColor(230, 230, 230, 1.0);
/// Axis lines and the zero line.
pub const AXIS: RGBAColor = RGBAColor(120, 120, 120, 1.0);
/// Positive attributions (push the output up); the high end of the value scale.
pub const RED: RGBAColor = RGBAColor(255, 0, 81, 1.0);
/// Negative attributions (push the output down); the low end of the value scale.
pub const BLUE: RGBAColor = RGBAColor(0, 139, 251, 1.0);
/// Text on coloured bars.
pub const WHITE: RGBAColor = RGBAColor(255, 255, 255, 1.0);
/// Missing feature values.
pub const MISSING: RGBAColor = RGBAColor(165, 165, 165, 1.0);
/// Neutral bars (importance, totals).
pub const NEUTRAL: RGBAColor = RGBAColor(0, 139, 251, 1.0);
/// Light fill (confidence bands, histograms).
pub const BAND: RGBAColor = RGBAColor(0, 139, 251, 0.18);

fn to_linear(c: u8) -> f64 {
    let c = c as f64 / 255.0;
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

fn to_srgb(l: f64) -> u8 {
    let c = if l <= 0.003_130_8 {
        l * 12.92
    } else {
        1.055 * l.powf(1.0 / 2.4) - 0.055
    };
    (c * 255.0).round().clamp(0.0, 255.0) as u8
}

/// The feature-value colour for `t` in 0 (low, blue) ..= 1 (high, red); clamped.
pub fn value_color(t: f64) -> RGBAColor {
    let t = if t.is_nan() { 0.5 } else { t.clamp(0.0, 1.0) };
    let mix = |a: u8, b: u8| to_srgb(to_linear(a) * (1.0 - t) + to_linear(b) * t);
    RGBAColor(
        mix(BLUE.0, RED.0),
        mix(BLUE.1, RED.1),
        mix(BLUE.2, RED.2),
        1.0,
    )
}

/// Colours for up to ten unordered categories (matplotlib's `tab10`, with its grey replaced by a
/// dark grey-blue so that it cannot be confused with the grey of missing values).
pub const CATEGORICAL: [RGBAColor; 10] = [
    RGBAColor(31, 119, 180, 1.0),
    RGBAColor(255, 127, 14, 1.0),
    RGBAColor(44, 160, 44, 1.0),
    RGBAColor(214, 39, 40, 1.0),
    RGBAColor(148, 103, 189, 1.0),
    RGBAColor(140, 86, 75, 1.0),
    RGBAColor(227, 119, 194, 1.0),
    RGBAColor(52, 62, 80, 1.0),
    RGBAColor(188, 189, 34, 1.0),
    RGBAColor(23, 190, 207, 1.0),
];

/// The same colour with another opacity.
pub fn with_alpha(c: RGBAColor, alpha: f64) -> RGBAColor {
    RGBAColor(c.0, c.1, c.2, alpha)
}

/// Red for positive values, blue for negative (and zero).
pub fn sign_color(v: f64) -> RGBAColor {
    if v > 0.0 {
        RED
    } else {
        BLUE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_ends_are_blue_and_red() {
        assert_eq!(value_color(0.0), BLUE);
        assert_eq!(value_color(1.0), RED);
        assert_eq!(value_color(-3.0), BLUE);
        let mid = value_color(0.5);
        assert!(mid.0 > 100 && mid.2 > 100, "{mid:?}");
    }
}
