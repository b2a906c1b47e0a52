//! Sizes shared by every plot, in pixels (a font size is the line height; the cap height is about
//! 0.6 of it). Chosen so that a 900-pixel-wide figure stays readable when a report scales it down
//! to a laptop column, and checked by eye on the rendered PNGs.

/// Title.
pub const TITLE: f64 = 20.0;
/// Subtitle and captions.
pub const SUBTITLE: f64 = 14.0;
/// Axis titles.
pub const LABEL: f64 = 15.0;
/// Tick labels.
pub const TICK: f64 = 13.0;
/// Feature names on a categorical axis.
pub const NAME: f64 = 14.0;
/// Value labels next to bars.
pub const VALUE: f64 = 13.0;
/// Outer margin.
pub const MARGIN: f64 = 16.0;
/// Default figure width.
pub const WIDTH: u32 = 900;
/// Widest feature-name column before names are truncated.
pub const MAX_NAME_WIDTH: f64 = 240.0;
