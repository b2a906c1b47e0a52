//! A fitted GAM as the penalised GLM the fit solved, in the fit's own (constrained θ)
//! parametrisation: model matrix, coefficients and penalty. Influence functions differentiate
//! this system ([`crate::explain::influence::GamInfluence`]).
//!
//! Why rebuild it rather than store it: the model file keeps the β coefficients and the raw
//! smoothing parameters, which are enough to predict; the θ model matrix (n × p) and the
//! centring constraints are functions of the training data, so they are rebuilt from the same
//! code the fit used ([`penalties`], [`centring`], [`Spec::row`]) given those data. That the
//! data are the training data is checked: every basis range must match, and the rebuilt linear
//! predictor must equal the model's on every row.

use ndarray::{Array2, ArrayView1, ArrayView2, Axis};

use super::{centring, filled_matrix, penalties, Spec, NULL_RIDGE};
use crate::model::gam::{Gam, GamError, TermKind};
use crate::model::glm::{Family, LinkFunction};
use crate::model::Model;

/// The penalised system of a fitted GAM: `θ̂` minimises
/// `Σᵢ d(yᵢ, μᵢ)/2 + ½ θᵀ S θ` over the model matrix `X` (η = Xθ), with
/// `S` = Σ λⱼ Sⱼ at the fitted smoothing parameters, plus the fixed null-space ridges and the
/// monotone penalties active at the fit.
#[derive(Clone, Debug)]
pub struct PenalisedSystem {
    specs: Vec<Spec>,
    starts: Vec<usize>,
    fills: Vec<f64>,
    /// Features with a missing-value term, in term order (their indicator columns follow the
    /// features in [`filled_matrix`]).
    flagged: Vec<usize>,
    family: Family,
    link: LinkFunction,
    design: Array2<f64>,
    theta: Vec<f64>,
    penalty: Array2<f64>,
    /// The null-space ridges, whose weight scales with ‖XᵀX‖ of their block and so moves with
    /// a training row's weight: (block start, length, `NULL_RIDGE · S θ` on the block).
    ridges: Vec<(usize, usize, Vec<f64>)>,
}

impl Gam {
    /// The penalised system this GAM solved, rebuilt from its training features `x` (encoded,
    /// in the model's schema order; missing values are filled as in training).
    ///
    /// # Errors
    /// [`GamError::NotTrainingData`] when `x` are not the training features (a basis range or
    /// the rebuilt linear predictor differs).
    pub fn penalised_system(&self, x: ArrayView2<f64>) -> Result<PenalisedSystem, GamError> {
        let n = x.nrows();
        let fills: Vec<f64> = self.imputations().iter().map(|i| i.fill).collect();
        let flagged: Vec<usize> = self
            .terms()
            .iter()
            .filter_map(|t| match t.kind {
                TermKind::Missing { feature } => Some(feature),
                _ => None,
            })
            .collect();
        let xf = filled_matrix(x, &fills, &flagged);
        let mut n_missing = 0;
        let mismatch = |term: &str, problem: String| GamError::NotTrainingData {
            term: term.to_string(),
            problem,
        };
        // The stored basis (knots included) with its centring rebuilt from the data; the data
        // range must be the training range.
        let basis_of = |term: &str, f: usize, want: &crate::model::gam::BSpline| {
            let col = xf.column(f);
            let lo = col.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = col.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if lo != want.lo || hi != want.hi {
                return Err(mismatch(
                    term,
                    format!(
                        "the data range [{lo}, {hi}] differs from the training range [{}, {}]",
                        want.lo, want.hi
                    ),
                ));
            }
            let (z, c) = centring(want, col);
            Ok((want.clone(), z, c))
        };
        let mut specs = Vec::new();
        let mut theta = vec![self.intercept()];
        for t in self.terms() {
            match &t.kind {
                TermKind::Smooth {
                    feature,
                    basis,
                    monotone,
                } => {
                    let (basis, z, _) = basis_of(&t.name, *feature, basis)?;
                    let w = basis.k - 1;
                    // β = Zθ with orthonormal Z (Householder): θ = Zᵀβ.
                    theta.extend(
                        (0..w).map(|j| (0..basis.k).map(|a| z[a * w + j] * t.coef[a]).sum::<f64>()),
                    );
                    specs.push(Spec::Smooth {
                        feature: *feature,
                        basis,
                        z,
                        monotone: *monotone,
                    });
                }
                TermKind::Linear { feature } => {
                    theta.push(t.coef[0]);
                    specs.push(Spec::Linear { feature: *feature });
                }
                TermKind::Missing { feature } => {
                    theta.push(t.coef[0]);
                    specs.push(Spec::Missing {
                        feature: *feature,
                        column: fills.len() + n_missing,
                    });
                    n_missing += 1;
                }
                TermKind::Factor { feature } => {
                    theta.extend_from_slice(&t.coef[1..]);
                    specs.push(Spec::Factor {
                        feature: *feature,
                        levels: t.coef.len(),
                        // The fit stores a λ exactly when the ridge was REML-chosen.
                        reml: !t.lambda.is_empty(),
                    });
                }
                TermKind::Tensor {
                    features, bases, ..
                } => {
                    let (b0, z0, c0) = basis_of(&t.name, features[0], &bases[0])?;
                    let (b1, z1, c1) = basis_of(&t.name, features[1], &bases[1])?;
                    let (k1, k2) = (b0.k, b1.k);
                    let (w1, w2) = (k1 - 1, k2 - 1);
                    // Θ = Z₁ᵀ Γ Z₂.
                    for a in 0..w1 {
                        for b in 0..w2 {
                            let mut s = 0.0;
                            for i in 0..k1 {
                                for j in 0..k2 {
                                    s += z0[i * w1 + a] * t.coef[i * k2 + j] * z1[j * w2 + b];
                                }
                            }
                            theta.push(s);
                        }
                    }
                    specs.push(Spec::Tensor {
                        features: *features,
                        bases: [b0, b1],
                        z: [z0, z1],
                        means: [c0, c1],
                    });
                }
            }
        }
        let mut starts = Vec::with_capacity(specs.len());
        let mut p = 1;
        for s in &specs {
            starts.push(p);
            p += s.width();
        }
        let mut design = Array2::<f64>::zeros((n, p));
        for (mut out, row) in design.axis_iter_mut(Axis(0)).zip(xf.axis_iter(Axis(0))) {
            out[0] = 1.0;
            let o = out.as_slice_mut().expect("standard layout");
            for (s, &st) in specs.iter().zip(&starts) {
                s.row(row, &mut o[st..st + s.width()]);
            }
        }
        // The rebuilt η must be the model's.
        let eta = design.dot(&ArrayView1::from(&theta[..]));
        let raw = self.predict_raw(x);
        for i in 0..n {
            let (a, b) = (eta[i], raw[[i, 0]]);
            if (a - b).abs() > 1e-6 * (1.0 + b.abs()) {
                return Err(mismatch(
                    "all",
                    format!(
                        "row {}: rebuilt linear predictor {a} differs from the model's {b}",
                        i + 1
                    ),
                ));
            }
        }
        let xtx = design.t().dot(&design);
        let (pens, monos) = penalties(&specs, &starts, &xtx);
        let mut penalty = Array2::<f64>::zeros((p, p));
        let mut ridges = Vec::new();
        for (t, term) in self.terms().iter().enumerate() {
            let own: Vec<_> = pens.iter().filter(|pn| pn.term == t && !pn.null).collect();
            if own.len() != term.lambda.len() {
                return Err(mismatch(
                    &term.name,
                    format!(
                        "{} smoothing parameters stored, {} penalties rebuilt",
                        term.lambda.len(),
                        own.len()
                    ),
                ));
            }
        }
        let mut lam_of_term = vec![0usize; self.terms().len()];
        for pn in &pens {
            // Stored λ is on the unscaled penalty (λ_internal · norm); S_normalised = norm · S_raw.
            let weight = if pn.null {
                NULL_RIDGE
            } else {
                let q = lam_of_term[pn.term];
                lam_of_term[pn.term] += 1;
                self.terms()[pn.term].lambda[q] / pn.norm
            };
            let len = pn.len;
            for i in 0..len {
                for j in 0..len {
                    penalty[[pn.start + i, pn.start + j]] += weight * pn.s[i * len + j];
                }
            }
            if pn.null {
                let v: Vec<f64> = (0..len)
                    .map(|i| {
                        (0..len)
                            .map(|j| NULL_RIDGE * pn.s[i * len + j] * theta[pn.start + j])
                            .sum()
                    })
                    .collect();
                ridges.push((pn.start, len, v));
            }
        }
        // Monotone penalties active at the fit: the wrong-signed (or zero) differences.
        for m in &monos {
            let w = m.len;
            for row in 0..m.dz.len() / w {
                let d: f64 = (0..w).map(|j| m.dz[row * w + j] * theta[m.start + j]).sum();
                if m.sign * d <= 1e-12 {
                    for i in 0..w {
                        for j in 0..w {
                            penalty[[m.start + i, m.start + j]] +=
                                m.kappa * m.dz[row * w + i] * m.dz[row * w + j];
                        }
                    }
                }
            }
        }
        Ok(PenalisedSystem {
            specs,
            starts,
            fills,
            flagged,
            family: self.report().family,
            link: self.report().link,
            design,
            theta,
            penalty,
            ridges,
        })
    }
}

impl PenalisedSystem {
    /// The family.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The link.
    pub fn link(&self) -> LinkFunction {
        self.link
    }

    /// The training rows' model matrix (n × p, intercept column first).
    pub fn design(&self) -> ArrayView2<'_, f64> {
        self.design.view()
    }

    /// The coefficients θ̂.
    pub fn theta(&self) -> &[f64] {
        &self.theta
    }

    /// The penalty `S` (p × p): the Hessian of the penalty term.
    pub fn penalty(&self) -> ArrayView2<'_, f64> {
        self.penalty.view()
    }

    /// The model-matrix row of an encoded row (missing values filled as in training).
    pub fn row(&self, x: ArrayView1<f64>) -> Vec<f64> {
        let xf = filled_matrix(x.insert_axis(Axis(0)), &self.fills, &self.flagged);
        let p = self.theta.len();
        let mut out = vec![0.0; p];
        out[0] = 1.0;
        for (s, &st) in self.specs.iter().zip(&self.starts) {
            s.row(xf.row(0), &mut out[st..st + s.width()]);
        }
        out
    }

    /// `∂(Sθ̂)/∂w_k` for every training row k (n × p): how the penalty's gradient moves when row
    /// k's weight changes, with the smoothing parameters held fixed. Only the null-space
    /// ridges move: each is scaled to ‖XᵀX‖_F of its block, whose derivative in w_k is
    /// `x_kᵀ B x_k / ‖B‖_F` (x_k the row's block, B = XᵀX on the block). The centring
    /// constraints and knot ranges are held fixed (a removed row moves them by O(1/n)).
    pub fn penalty_removal(&self) -> Array2<f64> {
        let (n, p) = self.design.dim();
        let mut out = Array2::<f64>::zeros((n, p));
        for (st, len, v) in &self.ridges {
            let xb = self.design.slice(ndarray::s![.., *st..*st + *len]);
            let b = xb.t().dot(&xb);
            let bn2: f64 = b.iter().map(|v| v * v).sum();
            if bn2 == 0.0 {
                continue;
            }
            for (k, mut o) in out.axis_iter_mut(Axis(0)).enumerate() {
                let xk = xb.row(k);
                let c = xk.dot(&b.dot(&xk)) / bn2;
                for i in 0..*len {
                    o[*st + i] += c * v[i];
                }
            }
        }
        out
    }
}
