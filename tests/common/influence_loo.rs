//! Leave-one-out ground truth for influence estimates, shared by `tests/influence.rs` and
//! `examples/influence_loo.rs`: retrain without a training row, measure the change of the
//! explained rows' losses, and correlate with the prediction.
//!
//! Losses are computed here from the models' predicted probabilities / values with their textbook
//! formulas, not through the influence code.

#![allow(dead_code)]

use glassbox::data::{Dataset, SchemaOptions};
use glassbox::explain::influence::{Influence, InfluenceTarget};
use glassbox::model::gbdt::GbdtParams;
use glassbox::model::glm::GlmParams;
use glassbox::model::Model;

/// Pearson correlation.
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    sab / (saa * sbb).sqrt()
}

fn ranks(a: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..a.len()).collect();
    idx.sort_by(|&i, &j| a[i].total_cmp(&a[j]));
    let mut r = vec![0.0; a.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && a[idx[j + 1]] == a[idx[i]] {
            j += 1;
        }
        for &k in &idx[i..=j] {
            r[k] = (i + j) as f64 / 2.0;
        }
        i = j + 1;
    }
    r
}

/// Spearman rank correlation (ties get average ranks).
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    pearson(&ranks(a), &ranks(b))
}

/// Log-loss of a probability for a 0/1 label.
pub fn log_loss(y: f64, p: f64) -> f64 {
    -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
}

/// The loss the influence code measures for a model with this link: log-loss for probabilities,
/// half the squared error otherwise.
pub fn loss(probability: bool, y: f64, pred: f64) -> f64 {
    if probability {
        log_loss(y, pred)
    } else {
        0.5 * (y - pred) * (y - pred)
    }
}

fn losses(m: &dyn Model, test: &Dataset, probability: bool) -> Vec<f64> {
    let pred = m.predict(test.x().view());
    let y = test.y().expect("test labels");
    (0..test.n_rows())
        .map(|r| loss(probability, y[r], pred[[r, 0]]))
        .collect()
}

fn without(train: &Dataset, k: usize) -> Dataset {
    let keep: Vec<usize> = (0..train.n_rows()).filter(|&i| i != k).collect();
    train.select_rows(&keep)
}

/// `out[j][r]` = loss of test row r after refitting the GLM without training row `rows[j]`,
/// minus the loss of the full fit.
pub fn glm_loo(
    params: &GlmParams,
    train: &Dataset,
    test: &Dataset,
    rows: &[usize],
) -> Vec<Vec<f64>> {
    let full = params.fit(train, None, None).expect("full fit");
    let base = losses(&full, test, true);
    rows.iter()
        .map(|&k| {
            let m = params.fit(&without(train, k), None, None).expect("LOO fit");
            losses(&m, test, true)
                .iter()
                .zip(&base)
                .map(|(a, b)| a - b)
                .collect()
        })
        .collect()
}

/// As [`glm_loo`] for a gradient-boosted model (retrained with the same seed and parameters).
pub fn gbdt_loo(
    params: &GbdtParams,
    train: &Dataset,
    test: &Dataset,
    rows: &[usize],
) -> Vec<Vec<f64>> {
    let (full, _) = params.fit(train).expect("full fit");
    let probability = full.link != glassbox::model::Link::Identity;
    let base = losses(&full, test, probability);
    rows.iter()
        .map(|&k| {
            let (m, _) = params.fit(&without(train, k)).expect("LOO fit");
            losses(&m, test, probability)
                .iter()
                .zip(&base)
                .map(|(a, b)| a - b)
                .collect()
        })
        .collect()
}

/// Evenly spread sample of `m` of `n` indices.
pub fn spread(n: usize, m: usize) -> Vec<usize> {
    (0..m).map(|j| j * n / m).collect()
}

/// As [`glm_loo`] for a GAM: `params` should fix the smoothing parameters
/// (`Smoothing::Fixed`), so that every refit uses the λ the influence function holds fixed.
pub fn gam_loo(
    params: &glassbox::model::gam::GamParams,
    train: &Dataset,
    test: &Dataset,
    rows: &[usize],
) -> Vec<Vec<f64>> {
    let full = params.fit(train).expect("full fit");
    let probability = full.link() != glassbox::model::Link::Identity;
    let base = losses(&full, test, probability);
    rows.iter()
        .map(|&k| {
            let m = params.fit(&without(train, k)).expect("LOO fit");
            losses(&m, test, probability)
                .iter()
                .zip(&base)
                .map(|(a, b)| a - b)
                .collect()
        })
        .collect()
}

/// Koh & Liang's (2017) ground truth for a NAM: `out[j][r]` = loss of test row r after
/// retraining without training row `rows[j]`, warm-started from `polished` (a model already
/// refitted to its optimum on all of `train`, see `Nam::refit_warm`), minus the loss of
/// the same refit with every row. Also returns the largest final gradient norm of the refits.
pub fn nam_loo(
    polished: &glassbox::model::nam::Nam,
    train: &Dataset,
    test: &Dataset,
    rows: &[usize],
    gtol: f64,
    max_iter: usize,
) -> (Vec<Vec<f64>>, f64) {
    let probability = polished.task() == glassbox::model::nam::NamTask::Binary;
    // The baseline is the same warm-started refit with every row, so whatever the optimiser
    // still moves from `polished` cancels.
    let (full, mut worst) = polished
        .refit_warm(train, None, gtol, max_iter)
        .expect("full refit");
    let base = losses(&full, test, probability);
    let out = rows
        .iter()
        .map(|&k| {
            let (m, g) = polished
                .refit_warm(train, Some(k), gtol, max_iter)
                .expect("LOO refit");
            worst = worst.max(g);
            losses(&m, test, probability)
                .iter()
                .zip(&base)
                .map(|(a, b)| a - b)
                .collect()
        })
        .collect();
    (out, worst)
}

pub fn german(ignore: &[&str]) -> Dataset {
    let opts = SchemaOptions {
        ignore: ignore.iter().map(|s| s.to_string()).collect(),
        ..SchemaOptions::default()
    };
    Dataset::load_training(
        concat!(env!("CARGO_MANIFEST_DIR"), "/data/german_credit.csv"),
        "bad_credit",
        &opts,
    )
    .unwrap()
}

/// A dozen design columns: the numeric features and two categorical ones.
pub fn german_small() -> Dataset {
    german(&[
        "purpose",
        "savings_status",
        "employment",
        "personal_status",
        "other_parties",
        "property_magnitude",
        "other_payment_plans",
        "housing",
        "job",
        "own_telephone",
        "foreign_worker",
    ])
}

pub fn split(ds: &Dataset, n_train: usize, n_test: usize) -> (Dataset, Dataset) {
    let train = ds.select_rows(&(0..n_train).collect::<Vec<_>>());
    let test = ds.select_rows(&(n_train..n_train + n_test).collect::<Vec<_>>());
    (train, test)
}

/// Predicted influence of training rows `rows` on the summed loss of the test rows, and on the
/// first test row alone.
pub fn predicted(est: &dyn Influence, test: &Dataset, rows: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let y = test.y().unwrap();
    let mut total = vec![0.0; rows.len()];
    let mut first = vec![0.0; rows.len()];
    for r in 0..test.n_rows() {
        let inf = est
            .influence(test.x().row(r), Some(y[r]), InfluenceTarget::Loss)
            .unwrap();
        for (j, &k) in rows.iter().enumerate() {
            total[j] += inf[k];
            if r == 0 {
                first[j] = inf[k];
            }
        }
    }
    (total, first)
}

/// Prints how well `pred` (predicted influence on the summed test loss) agrees with the measured
/// change of that loss over leave-one-out fits (`changes[k]`: per test row, for the k-th row left out).
pub fn print_agreement(name: &str, pred: &[f64], changes: &[Vec<f64>]) {
    let (total, _) = actual(changes);
    println!(
        "{name}: {} leave-one-out fits, test-set loss: Pearson {:.4}, Spearman {:.4}",
        changes.len(),
        pearson(pred, &total),
        spearman(pred, &total)
    );
}

pub fn actual(changes: &[Vec<f64>]) -> (Vec<f64>, Vec<f64>) {
    (
        changes.iter().map(|c| c.iter().sum()).collect(),
        changes.iter().map(|c| c[0]).collect(),
    )
}
