//! Split finding against brute force: every partition of a few rows, scored from the rows.

use super::*;
use crate::model::gbdt::binning::tests::binned;
use crate::model::gbdt::histogram::{build, Stats};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn params(lambda: f64) -> SplitParams {
    SplitParams {
        lambda,
        min_child_weight: 0.0,
        min_samples_leaf: 1.0,
        min_split_gain: 0.0,
        cat: CategoricalParams::unregularised(),
    }
}

fn stats_of(rows: &[usize], gh: &[[f64; 2]]) -> Stats {
    let mut s = Stats::default();
    for &r in rows {
        s.g += gh[r][0];
        s.h += gh[r][1];
        s.n += 1.0;
    }
    s
}

fn gain_of(left: &[usize], right: &[usize], gh: &[[f64; 2]], l2: f64) -> f64 {
    let all: Vec<usize> = left.iter().chain(right).copied().collect();
    score(stats_of(left, gh), l2) + score(stats_of(right, gh), l2) - score(stats_of(&all, gh), l2)
}

/// Best gain over every subset of the distinct values (NaN included as one "value") that can be
/// sent left: thresholds for numeric features, any subset for categorical ones.
fn brute_force(col: &[f64], gh: &[[f64; 2]], categorical: bool, l2: f64) -> f64 {
    let mut keys: Vec<f64> = col.iter().copied().filter(|v| !v.is_nan()).collect();
    keys.sort_by(f64::total_cmp);
    keys.dedup();
    let has_nan = col.iter().any(|v| v.is_nan());
    let k = keys.len();
    let mut best = f64::NEG_INFINITY;
    let mut consider = |goes_left: &dyn Fn(f64) -> bool| {
        let (l, r): (Vec<usize>, Vec<usize>) = (0..col.len()).partition(|&i| goes_left(col[i]));
        if !l.is_empty() && !r.is_empty() {
            best = best.max(gain_of(&l, &r, gh, l2));
        }
    };
    for nan_left in [false, true] {
        if !has_nan && nan_left {
            continue;
        }
        if categorical {
            for mask in 0u32..(1 << k) {
                consider(&|v: f64| {
                    if v.is_nan() {
                        nan_left
                    } else {
                        let i = keys.iter().position(|&x| x == v).unwrap();
                        mask & (1 << i) != 0
                    }
                });
            }
        } else {
            for t in keys.iter().copied().chain([f64::INFINITY]) {
                consider(&|v: f64| if v.is_nan() { nan_left } else { v < t });
            }
        }
    }
    best
}

fn check_against_brute_force(seed: u64, categorical: bool) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = rng.gen_range(4..12);
    let levels = rng.gen_range(2..7);
    let x: Vec<[f64; 1]> = (0..n)
        .map(|_| {
            if rng.gen_bool(0.2) {
                [f64::NAN]
            } else {
                [rng.gen_range(0..levels) as f64]
            }
        })
        .collect();
    let gh: Vec<[f64; 2]> = (0..n)
        .map(|_| [rng.gen_range(-1.0..1.0), rng.gen_range(0.1..1.0)])
        .collect();
    let data = binned(&x, &[categorical], 255);
    let rows: Vec<u32> = (0..n as u32).collect();
    let mut hist = vec![Stats::default(); data.total_bins()];
    build(&data, &[0], &rows, &gh, &mut hist);
    let total = Stats::sum_of(&gh);
    // Sorting levels by G/H finds the optimal partition exactly when λ = 0 (Fisher 1958); with
    // λ > 0 it is LightGBM's heuristic, so categorical features are compared at λ = 0.
    let lambda = if categorical { 0.0 } else { 0.3 };
    let p = params(lambda);
    let col: Vec<f64> = x.iter().map(|r| r[0]).collect();
    let want = brute_force(&col, &gh, categorical, lambda);
    let got = best_split(&data, &[0], &hist, total, &p);
    match got {
        None => assert!(want <= 1e-12, "seed {seed}: brute force found gain {want}"),
        Some(c) => {
            assert!(
                (c.gain - want).abs() < 1e-9,
                "seed {seed}: gain {} vs {want}",
                c.gain
            );
            // the candidate's rule, applied to the rows, really has that gain and those totals
            let missing = data.mapper(0).missing_bin();
            let (l, r): (Vec<usize>, Vec<usize>) =
                (0..n).partition(|&i| c.goes_left(data.column(0)[i] as usize, missing));
            assert!(
                (gain_of(&l, &r, &gh, lambda) - c.gain).abs() < 1e-9,
                "seed {seed}"
            );
            assert_eq!(stats_of(&l, &gh).n, c.left.n);
            assert!((stats_of(&l, &gh).g - c.left.g).abs() < 1e-12);
        }
    }
}

#[test]
fn numeric_split_matches_brute_force() {
    for seed in 0..300 {
        check_against_brute_force(seed, false);
    }
}

#[test]
fn categorical_partition_matches_brute_force() {
    for seed in 0..300 {
        check_against_brute_force(seed, true);
    }
}

#[test]
fn missing_direction_is_learned() {
    // Missing rows behave like the high values: they must go right with them.
    let x = [[1.0], [2.0], [3.0], [10.0], [11.0], [f64::NAN], [f64::NAN]];
    let gh = [
        [-1.0, 1.0],
        [-1.0, 1.0],
        [-1.0, 1.0],
        [1.0, 1.0],
        [1.0, 1.0],
        [1.0, 1.0],
        [1.0, 1.0],
    ];
    let data = binned(&x, &[false], 255);
    let rows: Vec<u32> = (0..7).collect();
    let mut hist = vec![Stats::default(); data.total_bins()];
    build(&data, &[0], &rows, &gh, &mut hist);
    let c = best_split(&data, &[0], &hist, Stats::sum_of(&gh), &params(0.0)).unwrap();
    assert!(!c.default_left);
    assert_eq!(c.rule, SplitRule::Numeric { last_left: 2 });
    assert_eq!(data.mapper(0).threshold_after(2), 6.5);
    assert_eq!((c.left.n, c.right.n), (3.0, 4.0));
    // ...and left when they behave like the low values.
    let gh2: Vec<[f64; 2]> = gh
        .iter()
        .enumerate()
        .map(|(i, &[g, h])| if i >= 5 { [-g, h] } else { [g, h] })
        .collect();
    build(&data, &[0], &rows, &gh2, &mut hist);
    let c = best_split(&data, &[0], &hist, Stats::sum_of(&gh2), &params(0.0)).unwrap();
    assert!(c.default_left);
    assert_eq!((c.left.n, c.right.n), (5.0, 2.0));
}

#[test]
fn present_versus_missing_split() {
    // A constant feature whose only signal is missingness.
    let x = [[5.0], [5.0], [f64::NAN], [f64::NAN]];
    let gh = [[-1.0, 1.0], [-1.0, 1.0], [1.0, 1.0], [1.0, 1.0]];
    let data = binned(&x, &[false], 255);
    let mut hist = vec![Stats::default(); data.total_bins()];
    build(&data, &[0], &[0, 1, 2, 3], &gh, &mut hist);
    let c = best_split(&data, &[0], &hist, Stats::sum_of(&gh), &params(0.0)).unwrap();
    assert_eq!(c.rule, SplitRule::Numeric { last_left: 0 });
    assert!(!c.default_left);
    assert_eq!(data.mapper(0).threshold_after(0), f64::MAX);
}

#[test]
fn constraints_are_respected() {
    let x: Vec<[f64; 1]> = (0..10).map(|i| [i as f64]).collect();
    let gh: Vec<[f64; 2]> = (0..10)
        .map(|i| [if i == 0 { -5.0 } else { 0.5 }, 1.0])
        .collect();
    let data = binned(&x, &[false], 255);
    let rows: Vec<u32> = (0..10).collect();
    let mut hist = vec![Stats::default(); data.total_bins()];
    build(&data, &[0], &rows, &gh, &mut hist);
    let total = Stats::sum_of(&gh);
    let free = best_split(&data, &[0], &hist, total, &params(0.0)).unwrap();
    assert_eq!(
        free.left.n, 1.0,
        "isolating row 0 is best without constraints"
    );
    let mut p = params(0.0);
    p.min_samples_leaf = 3.0;
    let c = best_split(&data, &[0], &hist, total, &p).unwrap();
    assert!(c.left.n >= 3.0 && c.right.n >= 3.0);
    p.min_split_gain = 1e6;
    assert!(best_split(&data, &[0], &hist, total, &p).is_none());
    let mut p = params(0.0);
    p.min_child_weight = 6.0;
    assert!(best_split(&data, &[0], &hist, total, &p).is_none());
}

#[test]
fn rare_levels_go_right_and_smoothing_orders_levels() {
    // level 0: 50 rows with gradient -1; level 1: 50 rows with +1; level 2: 2 rows with -10
    let mut x = Vec::new();
    let mut gh = Vec::new();
    for (level, count, g) in [
        (0.0, 50, -1.0),
        (1.0, 50, 1.0),
        (2.0, 2, -10.0),
        (3.0, 30, 0.0),
        (4.0, 30, 0.5),
    ] {
        for _ in 0..count {
            x.push([level]);
            gh.push([g, 1.0]);
        }
    }
    let data = binned(&x, &[true], 255);
    let rows: Vec<u32> = (0..x.len() as u32).collect();
    let mut hist = vec![Stats::default(); data.total_bins()];
    build(&data, &[0], &rows, &gh, &mut hist);
    let mut p = params(0.0);
    p.cat = CategoricalParams {
        min_data_per_group: 20,
        ..CategoricalParams::default()
    };
    let c = best_split(&data, &[0], &hist, Stats::sum_of(&gh), &p).unwrap();
    let SplitRule::Categorical { left } = &c.rule else {
        panic!("expected a categorical split")
    };
    // level 2 has fewer than min_data_per_category rows: never in the sorted set
    assert!(!bit(left, 2));
    // the most negative level (0) and the most positive (1) end up on different sides
    assert_ne!(bit(left, 0), bit(left, 1));
}
