//! Gradient-boosted decision trees, trained into the shared [`TreeEnsemble`](crate::model::TreeEnsemble).
//!
//! # Algorithm
//! Second-order gradient boosting (Friedman 2001; Chen & Guestrin 2016, XGBoost) with histogram
//! split finding and leaf-wise growth (Ke et al. 2017, LightGBM):
//!
//! 1. `binning`: numeric features are cut into at most `max_bin` quantile bins, categorical
//!    features keep their level codes, and every feature has a dedicated missing bin.
//! 2. Each round computes per-row gradients and hessians of the [`Objective`] at the current raw
//!    scores, starting from the best constant (mean, log-odds, log class frequencies).
//! 3. `grow` builds one tree per output: per-leaf histograms of (gradient, hessian, count)
//!    (`histogram`, with the subtraction trick), the best split per feature (`split`: missing
//!    values tried on both sides, categorical levels sorted by gradient ratio), best-first
//!    growth up to `max_leaves` / `max_depth`, leaf values `−G / (H + λ)` times the learning rate.
//! 4. Optional: rows and features are subsampled per round / per tree, and a held-out
//!    validation split stops training when its loss stops improving.
//!
//! # Why histograms and not exact greedy search
//! Exact search sorts every feature at every node; histograms make a node cost one pass over its
//! rows plus one over ≤ 256 bins per feature, and the subtraction trick halves the row passes. On
//! tabular data the accuracy loss of 255 quantile bins is negligible (LightGBM's and XGBoost's
//! default). Random forests ([`crate::model::forest`]) reuse the same binning, histograms, split
//! finder and grower.
//!
//! # What the model file records
//! Trees use the shared [`Node`](crate::model::Node) rule: numeric thresholds are the bin cuts
//! (`x < cut` goes left, exactly as training partitioned rows), categorical splits store the left
//! levels as a bitset with `CATEGORY_LEFT`, missing values follow `DEFAULT_LEFT`. Unseen
//! categories are encoded as missing by the data layer (or refused), so they follow the default
//! direction too. Covers are row counts: children's covers sum exactly to their parent's, and they mean the same
//! for every objective (XGBoost's hessian sums would make them objective-dependent weights).
//!
//! # Determinism
//! Every random step draws from one `ChaCha8Rng` seeded with `seed`, in a fixed order. Parallel
//! work (histograms per feature, gradients and predictions per row) writes disjoint outputs and
//! never reduces in thread order, so the same seed gives the same model at any thread count.

mod binning;
mod boost;
pub(crate) mod grow;
mod histogram;
mod objective;
mod params;
pub(crate) mod split;

pub use boost::GbdtReport;
pub use objective::Objective;
pub use params::{GbdtParams, GbdtValidParams};
pub use split::CategoricalParams;

pub(crate) use binning::{BinMapper, BinnedData};
pub(crate) use boost::training_target;
pub(crate) use histogram::Stats;
pub(crate) use params::{check_at_least, check_fraction, check_max_bin, check_tree_size};
