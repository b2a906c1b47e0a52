//! A feature's term of a fitted GLM over a range of values, with pointwise standard errors: what a
//! shape-function plot draws.
//!
//! The term of feature j is the same centred function the additive explanation uses,
//! gⱼ(v) = Σ_{c ∈ cols(j)} β_c (d_c(v) − mean_c), so a shape-function plot and the attributions
//! of an explained row agree exactly. Its standard error is the delta method, exact here because
//! gⱼ is linear in β: with a = (d_c(v) − mean_c)_c, Var gⱼ(v) = aᵀ Σ a, where Σ is the block of the
//! coefficient covariance for feature j's columns (the training column means are constants, not
//! estimates of β). A numeric term's band is therefore |v − mean|·se(β), zero at the mean; a
//! categorical term's band needs the covariance between its dummies, which is why the fit report
//! stores the full covariance rather than only the standard errors. Penalised fits have no
//! covariance (glmnet-style penalties give no valid inference), so they have no band.

use ndarray::Array1;

use super::Glm;

/// One feature's GLM term at a list of values.
#[derive(Clone, Debug, PartialEq)]
pub struct TermEffect {
    /// gⱼ(v) at each value: the contribution to the linear predictor relative to the training
    /// mean, exactly the additive attribution of a row with that value.
    pub value: Vec<f64>,
    /// The standard error of each value, when the fit has a coefficient covariance.
    pub std_error: Option<Vec<f64>>,
}

impl Glm {
    /// The term of feature `feature` (schema index) at encoded `values` (numbers, or level
    /// indices for a categorical feature; `NaN` takes the training fill), with standard errors
    /// when the fit stored a covariance (unpenalised fits). See the module docs.
    ///
    /// # Panics
    /// When `feature` is not a feature of the model's schema.
    pub fn term_effect(&self, feature: usize, values: &[f64]) -> TermEffect {
        let m = self.schema.len();
        assert!(feature < m, "feature {feature} of {m}");
        let cols: Vec<usize> = self
            .design
            .terms()
            .iter()
            .enumerate()
            .filter(|(_, t)| t.feature() == Some(feature))
            .map(|(c, _)| c)
            .collect();
        let cov = self.report.covariance.as_ref();
        let mut row = Array1::<f64>::zeros(m);
        let mut value = Vec::with_capacity(values.len());
        let mut se = Vec::with_capacity(values.len());
        let mut a = vec![0.0; cols.len()];
        for &v in values {
            row[feature] = v;
            for (k, &c) in cols.iter().enumerate() {
                a[k] = self.design.term_value(&self.design.terms()[c], row.view())
                    - self.column_means[c];
            }
            value.push(
                cols.iter()
                    .zip(&a)
                    .map(|(&c, ak)| self.coefficients[c] * ak)
                    .sum(),
            );
            if let Some(cov) = cov {
                let mut var = 0.0;
                for (k, &c) in cols.iter().enumerate() {
                    for (l, &d) in cols.iter().enumerate() {
                        var += a[k] * cov[c][d] * a[l];
                    }
                }
                se.push(var.max(0.0).sqrt());
            }
        }
        TermEffect {
            value,
            std_error: cov.map(|_| se),
        }
    }
}
