//! Sizes shared by every plot, in pixels. A font size is plotters' size: the rasteriser draws glyphs
//! with that line height (em ≈ 0.86 × size for DejaVu Sans), while the SVG writer emits
//! `font-size = size / 1.24`, so a tick label of 15 is a 12-pixel font in a browser. Chosen by
//! looking at both the PNGs and the report in headless Chromium.

/// Title.
pub const TITLE: f64 = 22.0;
/// Subtitle and captions.
pub const SUBTITLE: f64 = 15.5;
/// Axis titles.
pub const LABEL: f64 = 16.5;
/// Tick labels.
pub const TICK: f64 = 15.0;
/// Feature names on a categorical axis.
pub const NAME: f64 = 16.0;
/// Value labels next to bars.
pub const VALUE: f64 = 15.0;
/// Outer margin.
pub const MARGIN: f64 = 16.0;
/// Default figure width.
pub const WIDTH: u32 = 900;
/// Widest feature-name column before names are truncated.
pub const MAX_NAME_WIDTH: f64 = 240.0;
