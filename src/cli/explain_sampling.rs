//! `glassbox explain` flags of the sampling explainers (Kernel SHAP, LIME).
//!
//! The flags only parse; defaults live in the library (`KernelShapParams`, `LimeParams`) and a
//! flag that is not given leaves the library default in place. A flag meant for the other
//! method is a usage error rather than silently ignored.

use clap::{Args, ValueEnum};
use glassbox::explain::kernel_shap::KernelShapParams;
use glassbox::explain::lime::{Discretize, FeatureSelection, KernelWidth, LimeParams};
use glassbox::explain::{ExplainOptions, Method};

use super::UsageError;

/// Numeric discretisation for LIME.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DiscretizeArg {
    /// Quartile bins (lime's default).
    Quartile,
    /// Decile bins.
    Decile,
    /// Standardised continuous values.
    None,
}

/// LIME feature selection.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SelectionArg {
    /// Forward selection up to 6 features, else highest weights (lime's default).
    Auto,
    /// Greedy forward selection.
    Forward,
    /// Least-penalised lasso-path point with at most --num-features features.
    LassoPath,
    /// Largest |coefficient × value| of a ridge on all features.
    HighestWeights,
    /// All features.
    None,
}

/// Settings of the sampling explainers.
#[derive(Args, Debug, Default)]
pub struct SamplingArgs {
    /// Kernel SHAP: coalitions per row (model-evaluation budget; each costs one evaluation per
    /// background row; default 2·features + 2048; the cap under --target-se, default 65536).
    /// LIME: perturbation samples per row (default 5000).
    #[arg(long, value_name = "N")]
    pub samples: Option<usize>,
    /// Kernel SHAP: keep sampling until every attribution's standard error is at most X (output
    /// units) or the --samples cap is spent.
    #[arg(long, value_name = "X")]
    pub target_se: Option<f64>,
    /// Kernel SHAP: summarise a larger background to K weighted k-prototypes centres (default
    /// 100).
    #[arg(long, value_name = "K")]
    pub background_size: Option<usize>,
    /// Kernel SHAP: enumerate all 2^M coalitions (exact values) when the model has at most N
    /// features (default 12; 0 always samples; at most 20).
    #[arg(long, value_name = "N")]
    pub exact_max_features: Option<usize>,
    /// Kernel SHAP: evaluate a tree ensemble hybrid row by hybrid row instead of through its
    /// per-row lookup tables (same values to rounding, slower; for benchmarks).
    #[arg(long)]
    pub row_evaluation: bool,
    /// LIME: a fixed kernel width instead of the per-row tuned one.
    #[arg(long, value_name = "W", conflicts_with = "target_r2")]
    pub kernel_width: Option<f64>,
    /// LIME: the held-out R² the tuned kernel width must keep (default 0.9; see the docs of
    /// `glassbox::explain::lime` for the rule).
    #[arg(long, value_name = "R2")]
    pub target_r2: Option<f64>,
    /// LIME: features in the surrogate (default 10).
    #[arg(long, value_name = "K")]
    pub num_features: Option<usize>,
    /// LIME: how the surrogate's features are chosen (default auto).
    #[arg(long, value_enum)]
    pub feature_selection: Option<SelectionArg>,
    /// LIME: discretisation of numeric features (default quartile).
    #[arg(long, value_enum)]
    pub discretize: Option<DiscretizeArg>,
    /// LIME: runs per row with different seeds; 2 or more adds the stability indices (VSI, CSI,
    /// top-5 Jaccard) to --diagnostics (default 1).
    #[arg(long, value_name = "R")]
    pub lime_repeats: Option<usize>,
}

impl SamplingArgs {
    /// Builds the explainers' parameters into `options` for `method`.
    ///
    /// # Errors
    /// A [`UsageError`] naming a flag given for the other method.
    pub fn apply(&self, method: Method, options: &mut ExplainOptions) -> Result<(), UsageError> {
        let kernel_flags = [
            ("--target-se", self.target_se.is_some()),
            ("--background-size", self.background_size.is_some()),
            ("--exact-max-features", self.exact_max_features.is_some()),
            ("--row-evaluation", self.row_evaluation),
        ];
        let lime_flags = [
            ("--kernel-width", self.kernel_width.is_some()),
            ("--target-r2", self.target_r2.is_some()),
            ("--num-features", self.num_features.is_some()),
            ("--feature-selection", self.feature_selection.is_some()),
            ("--discretize", self.discretize.is_some()),
            ("--lime-repeats", self.lime_repeats.is_some()),
        ];
        let misplaced = |flags: &[(&str, bool)], owner: &str| -> Result<(), UsageError> {
            match flags.iter().find(|(_, given)| *given) {
                Some((flag, _)) => Err(UsageError(format!(
                    "{flag} applies to --method {owner}, not --method {}",
                    method.name()
                ))),
                None => Ok(()),
            }
        };
        match method {
            Method::KernelShap => {
                misplaced(&lime_flags, "lime")?;
                let mut p = KernelShapParams::default()
                    .samples(self.samples)
                    .target_se(self.target_se);
                if let Some(k) = self.background_size {
                    p = p.background_size(k);
                }
                if let Some(m) = self.exact_max_features {
                    p = p.exact_max_features(m);
                }
                if self.row_evaluation {
                    p = p.tree_tables(false);
                }
                options.kernel_shap = p;
            }
            Method::Lime => {
                misplaced(&kernel_flags, "kernel-shap")?;
                let mut p = LimeParams::default();
                if let Some(n) = self.samples {
                    p = p.samples(n);
                }
                if let Some(w) = self.kernel_width {
                    p = p.kernel_width(KernelWidth::Fixed(w));
                }
                if let Some(r2) = self.target_r2 {
                    p = p.kernel_width(KernelWidth::Tuned { target_r2: r2 });
                }
                if let Some(k) = self.num_features {
                    p = p.num_features(k);
                }
                if let Some(s) = self.feature_selection {
                    p = p.feature_selection(match s {
                        SelectionArg::Auto => FeatureSelection::Auto,
                        SelectionArg::Forward => FeatureSelection::Forward,
                        SelectionArg::LassoPath => FeatureSelection::LassoPath,
                        SelectionArg::HighestWeights => FeatureSelection::HighestWeights,
                        SelectionArg::None => FeatureSelection::None,
                    });
                }
                if let Some(d) = self.discretize {
                    p = p.discretize(match d {
                        DiscretizeArg::Quartile => Discretize::Quartile,
                        DiscretizeArg::Decile => Discretize::Decile,
                        DiscretizeArg::None => Discretize::None,
                    });
                }
                if let Some(r) = self.lime_repeats {
                    p = p.repeats(r);
                }
                options.lime = p;
            }
            _ => {
                misplaced(&kernel_flags, "kernel-shap")?;
                misplaced(&lime_flags, "lime")?;
                if self.samples.is_some() {
                    return Err(UsageError(format!(
                        "--samples applies to --method kernel-shap or lime, not --method {}",
                        method.name()
                    )));
                }
            }
        }
        Ok(())
    }
}
