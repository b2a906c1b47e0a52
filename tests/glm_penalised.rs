//! Penalised GLMs: the solution satisfies the Karush–Kuhn–Tucker conditions of the glmnet
//! objective (a reference-free optimality certificate), cross-validation is seeded and
//! deterministic, and penalised reports carry no p-values.
//!
//! The designs are standardised here first (mean 0, population sd 1), so glassbox's internal
//! standardisation is the identity and the objective is in the columns' own units:
//! F(β) = (1/2n) Σ d(yᵢ, μᵢ) + λ Σⱼ (α|βⱼ| + (1−α)/2 βⱼ²). At the optimum, with
//! gⱼ = (1/n) Σ xᵢⱼ (yᵢ − μᵢ) / (V(μᵢ) g′(μᵢ)): gⱼ = λ(α sign βⱼ + (1−α) βⱼ) where βⱼ ≠ 0,
//! |gⱼ| ≤ λα where βⱼ = 0, and g₀ = 0 for the intercept.

use std::path::Path;

use glassbox::model::glm::{Family, GlmParams, LinkFunction, Penalty};
use ndarray::{Array1, Array2};

fn design(case: &str) -> (Array2<f64>, Array1<f64>, Vec<String>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(case)
        .join("design.csv");
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    let keep: Vec<usize> = (0..header.len() - 1)
        .filter(|&j| !header[j].starts_with("__"))
        .collect();
    let n = rows.len();
    let mut x = Array2::from_shape_fn((n, keep.len()), |(i, j)| rows[i][keep[j]]);
    for j in 1..keep.len() {
        let m = x.column(j).mean().unwrap();
        let sd = (x.column(j).iter().map(|v| (v - m).powi(2)).sum::<f64>() / n as f64).sqrt();
        x.column_mut(j).mapv_inplace(|v| (v - m) / sd);
    }
    let y = Array1::from_shape_fn(n, |i| rows[i][header.len() - 1]);
    let names = keep.iter().map(|&j| header[j].clone()).collect();
    (x, y, names)
}

fn kkt_violation(family: Family, link: LinkFunction, case: &str, l1: f64, l2: f64) -> (f64, usize) {
    let (x, y, names) = design(case);
    let fit = GlmParams::new(family)
        .link(link)
        .penalty(Penalty::Fixed { l1, l2 })
        .fit_matrix(x.view(), y.view(), None, None, &names, "y")
        .unwrap();
    assert!(fit.report.converged);
    assert!(fit
        .report
        .coefficients
        .iter()
        .all(|c| c.p_value.is_none() && c.std_err.is_none()));
    let (lambda, alpha) = (l1 + l2, l1 / (l1 + l2));
    let n = y.len() as f64;
    let mu = &fit.fitted;
    let mut worst: f64 = 0.0;
    let mut zeros = 0;
    for (j, b) in fit.coefficients.iter().enumerate() {
        let g: f64 = (0..y.len())
            .map(|i| x[[i, j]] * (y[i] - mu[i]) / (family.variance(mu[i]) * link.deriv(mu[i])))
            .sum::<f64>()
            / n;
        let v = if j == 0 {
            g.abs()
        } else if *b != 0.0 {
            (g - lambda * (alpha * b.signum() + (1.0 - alpha) * b)).abs()
        } else {
            zeros += 1;
            (g.abs() - lambda * alpha).max(0.0)
        };
        worst = worst.max(v);
    }
    (worst, zeros)
}

#[test]
fn lasso_binomial_satisfies_kkt() {
    let (v, zeros) = kkt_violation(
        Family::Binomial,
        LinkFunction::Logit,
        "glm_german_binomial",
        0.02,
        0.0,
    );
    eprintln!("lasso binomial: max KKT violation {v:.1e}, {zeros} zero coefficients");
    assert!(v < 1e-7, "{v}");
    assert!(zeros > 5, "a lasso at this λ zeroes coefficients: {zeros}");
}

#[test]
fn elastic_net_poisson_and_ridge_gaussian_satisfy_kkt() {
    let (v, _) = kkt_violation(
        Family::Poisson,
        LinkFunction::Log,
        "glm_extra_compas_poisson_weights_offset",
        0.05,
        0.05,
    );
    eprintln!("elastic net poisson: max KKT violation {v:.1e}");
    assert!(v < 1e-7, "{v}");
    let (v, zeros) = kkt_violation(
        Family::Gaussian,
        LinkFunction::Identity,
        "glm_diabetes_gaussian",
        0.0,
        3.0,
    );
    eprintln!("ridge gaussian: max KKT violation {v:.1e}");
    assert!(v < 1e-7, "{v}");
    assert_eq!(zeros, 0);
}

#[test]
fn cross_validation_is_seeded_and_deterministic() {
    let (x, y, names) = design("glm_breast_cancer_binomial");
    let fit = |seed| {
        GlmParams::new(Family::Binomial)
            .penalty(Penalty::CrossValidated {
                alpha: 1.0,
                folds: 5,
                n_lambda: 30,
                seed,
            })
            .fit_matrix(x.view(), y.view(), None, None, &names, "malignant")
            .unwrap()
    };
    let a = fit(11);
    let b = fit(11);
    assert_eq!(a.coefficients, b.coefficients, "same seed, same fit");
    let pen = a.report.penalty.as_ref().unwrap();
    let cv = pen.cv.as_ref().unwrap();
    assert!((5..=30).contains(&cv.lambdas.len()), "{}", cv.lambdas.len());
    assert!(cv.lambdas.windows(2).all(|w| w[0] > w[1]));
    assert!(cv.lambda_1se >= cv.lambda_min);
    assert_eq!(pen.lambda, cv.lambda_min);
    // The chosen λ minimises the CV curve.
    let best = cv
        .mean_deviance
        .iter()
        .cloned()
        .fold(f64::INFINITY, f64::min);
    let k = cv.lambdas.iter().position(|&l| l == cv.lambda_min).unwrap();
    assert_eq!(cv.mean_deviance[k], best);
    assert!(a.report.to_string().contains("not valid for inference"));
    assert!(a.report.aic.is_none());
}
