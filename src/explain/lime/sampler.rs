//! LIME's perturbation distribution and interpretable representation (tabular, as in the `lime`
//! package's `LimeTabularExplainer`).
//!
//! For each feature j the training sample gives what we need to draw perturbed values v and map
//! them to the interpretable value z that the surrogate sees:
//!
//! * **Categorical**: v is drawn from the training frequencies (a missing value is a category of
//!   its own); z = 1 when v equals the explained row's value, else 0.
//! * **Numeric, discretised** (quartiles or deciles of the training values, duplicates removed,
//!   bin = number of edges strictly below v as `numpy.searchsorted`): v is a uniformly drawn
//!   *training value* (missing included, as an extra bin); z = 1 when v falls in the explained
//!   row's bin. lime draws a bin by its training frequency and then a truncated normal inside the
//!   bin; drawing a training value does the first step exactly and replaces the second with the
//!   bin's empirical distribution, which keeps integer and bounded features valid.
//! * **Numeric, continuous**: v ~ N(mean, sd²) of the training values (or N(x_j, sd²) around the
//!   explained row), missing with the training missing rate; z = (v − mean)/sd, and a missing v
//!   maps to z = 0 (the mean) — missingness is then noise to the surrogate, a known limitation of
//!   continuous mode.
//!
//! The first fitting sample is the explained row itself, as in lime.

use ndarray::ArrayView2;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::data::{format_number, Feature, FeatureSchema};

/// Numeric discretisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Discretize {
    /// Continuous features are standardised, not binned.
    None,
    /// Bins at the 25th, 50th and 75th percentiles (lime's default).
    Quartile,
    /// Bins at the 10th, …, 90th percentiles.
    Decile,
}

/// Where continuous (non-discretised) perturbations are centred.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SampleAround {
    /// The training mean (lime's default).
    Training,
    /// The explained row.
    Instance,
}

#[derive(Clone, Debug)]
enum Column {
    Categorical {
        /// Distinct training values (NaN included) and cumulative frequencies.
        values: Vec<f64>,
        cdf: Vec<f64>,
    },
    Binned {
        edges: Vec<f64>,
        /// All training values of the feature (NaN included), drawn uniformly.
        pool: Vec<f64>,
    },
    Continuous {
        mean: f64,
        sd: f64,
        missing: f64,
    },
}

/// Per-feature training statistics.
#[derive(Clone, Debug)]
pub(crate) struct TrainingStats {
    columns: Vec<Column>,
    around: SampleAround,
}

/// Linear-interpolated percentile of sorted values (numpy's default method).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let pos = p / 100.0 * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

impl TrainingStats {
    /// Statistics of the training rows `t` (at least one row).
    pub fn new(
        t: ArrayView2<f64>,
        schema: &FeatureSchema,
        discretize: Discretize,
        around: SampleAround,
    ) -> TrainingStats {
        let columns = schema
            .features()
            .iter()
            .enumerate()
            .map(|(j, f)| {
                let col: Vec<f64> = t.column(j).to_vec();
                let mut present: Vec<f64> = col.iter().copied().filter(|v| !v.is_nan()).collect();
                present.sort_by(f64::total_cmp);
                if f.kind.is_categorical() {
                    let mut sorted = col.clone();
                    sorted.sort_by(f64::total_cmp);
                    let mut values: Vec<f64> = Vec::new();
                    let mut counts: Vec<f64> = Vec::new();
                    for v in sorted {
                        match values.last() {
                            Some(&l)
                                if l.to_bits() == v.to_bits() || (l.is_nan() && v.is_nan()) =>
                            {
                                if let Some(c) = counts.last_mut() {
                                    *c += 1.0;
                                }
                            }
                            _ => {
                                values.push(v);
                                counts.push(1.0);
                            }
                        }
                    }
                    let total: f64 = counts.iter().sum();
                    let mut acc = 0.0;
                    let cdf = counts
                        .iter()
                        .map(|c| {
                            acc += c / total;
                            acc
                        })
                        .collect();
                    return Column::Categorical { values, cdf };
                }
                let ps: &[f64] = match discretize {
                    Discretize::None => &[],
                    Discretize::Quartile => &[25.0, 50.0, 75.0],
                    Discretize::Decile => &[10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0],
                };
                if !ps.is_empty() && !present.is_empty() {
                    let mut edges: Vec<f64> = ps.iter().map(|&p| percentile(&present, p)).collect();
                    edges.dedup();
                    return Column::Binned { edges, pool: col };
                }
                let n = present.len();
                let mean = if n > 0 {
                    present.iter().sum::<f64>() / n as f64
                } else {
                    0.0
                };
                let var = if n > 0 {
                    present.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64
                } else {
                    0.0
                };
                Column::Continuous {
                    mean,
                    sd: if var > 0.0 { var.sqrt() } else { 1.0 },
                    missing: 1.0 - n as f64 / col.len() as f64,
                }
            })
            .collect();
        TrainingStats { columns, around }
    }

    /// The interpretable representation z0 of the explained row x.
    pub fn represent(&self, x: &[f64]) -> Vec<f64> {
        self.columns
            .iter()
            .zip(x)
            .map(|(c, &v)| match c {
                Column::Continuous { mean, sd, .. } => {
                    if v.is_nan() {
                        0.0
                    } else {
                        (v - mean) / sd
                    }
                }
                _ => 1.0,
            })
            .collect()
    }

    /// Fills `z` and `v` (n × M, row-major) with `n` perturbations of x; with `include_x` the
    /// first is x itself.
    pub fn draw(
        &self,
        x: &[f64],
        n: usize,
        include_x: bool,
        rng: &mut ChaCha8Rng,
        z: &mut [f64],
        v: &mut [f64],
    ) {
        let m = self.columns.len();
        let z0 = self.represent(x);
        // Feature-major draws would vectorise better, but row-major keeps one stream order that
        // does not depend on M's layout; the cost is negligible next to the model evaluations.
        for i in 0..n {
            let zr = &mut z[i * m..(i + 1) * m];
            let vr = &mut v[i * m..(i + 1) * m];
            if include_x && i == 0 {
                zr.copy_from_slice(&z0);
                vr.copy_from_slice(x);
                continue;
            }
            for (j, c) in self.columns.iter().enumerate() {
                let (val, rep) = match c {
                    Column::Categorical { values, cdf } => {
                        let u: f64 = rng.gen();
                        let k = cdf.iter().position(|&p| u < p).unwrap_or(values.len() - 1);
                        let val = values[k];
                        (val, f64::from(same(val, x[j])))
                    }
                    Column::Binned { edges, pool } => {
                        let val = pool[rng.gen_range(0..pool.len())];
                        (val, f64::from(bin(edges, val) == bin(edges, x[j])))
                    }
                    Column::Continuous { mean, sd, missing } => {
                        if *missing > 0.0 && rng.gen::<f64>() < *missing {
                            (f64::NAN, 0.0)
                        } else {
                            let centre = match self.around {
                                SampleAround::Instance if !x[j].is_nan() => x[j],
                                _ => *mean,
                            };
                            let val = centre + sd * normal(rng);
                            (val, (val - mean) / sd)
                        }
                    }
                };
                vr[j] = val;
                zr[j] = rep;
            }
        }
    }
}

impl TrainingStats {
    /// lime's readable condition for feature `j` at the explained value `v` (its `as_list()`
    /// label): `a < name <= b` (or `name <= a`, `name > b`) for a binned feature — the bin the
    /// surrogate's weight is about — `name = level` for a category, `name = v` for a continuous
    /// feature, and `name is missing` for a missing value.
    pub fn condition(&self, j: usize, feature: &Feature, v: f64) -> String {
        let name = &feature.name;
        if v.is_nan() {
            return format!("{name} is missing");
        }
        match &self.columns[j] {
            Column::Categorical { .. } => format!("{name} = {}", feature.display_value(v)),
            Column::Binned { edges, .. } => {
                let b = bin(edges, v);
                let f = |e: f64| format_number(e);
                match (b.checked_sub(1).and_then(|i| edges.get(i)), edges.get(b)) {
                    (None, Some(&hi)) => format!("{name} <= {}", f(hi)),
                    (Some(&lo), None) => format!("{name} > {}", f(lo)),
                    (Some(&lo), Some(&hi)) => format!("{} < {name} <= {}", f(lo), f(hi)),
                    (None, None) => format!("{name} = {}", f(v)),
                }
            }
            Column::Continuous { .. } => format!("{name} = {}", format_number(v)),
        }
    }
}

/// Equal values, with missing equal to missing.
fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// Bin index: the number of edges strictly below v; missing is the extra last bin.
fn bin(edges: &[f64], v: f64) -> usize {
    if v.is_nan() {
        edges.len() + 1
    } else {
        edges.partition_point(|&e| e < v)
    }
}

/// A standard normal draw (Box–Muller; one of the pair is discarded to keep the stream simple).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.gen::<f64>(); // (0, 1]
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use rand::SeedableRng;

    #[test]
    fn quartile_bins_follow_numpy_searchsorted() {
        let t = Array2::from_shape_fn((101, 1), |(i, _)| i as f64);
        let s = TrainingStats::new(
            t.view(),
            &FeatureSchema::numeric(["a"]),
            Discretize::Quartile,
            SampleAround::Training,
        );
        let Column::Binned { edges, .. } = &s.columns[0] else {
            panic!()
        };
        assert_eq!(edges, &vec![25.0, 50.0, 75.0]);
        assert_eq!(bin(edges, 25.0), 0); // searchsorted(left): x ≤ q25 is bin 0
        assert_eq!(bin(edges, 25.5), 1);
        assert_eq!(bin(edges, 100.0), 3);
        assert_eq!(bin(edges, f64::NAN), 4);
    }

    #[test]
    fn draws_match_training_frequencies() {
        // Categorical column: 70% level 0, 30% level 1; numeric column binned.
        let t = Array2::from_shape_fn(
            (100, 2),
            |(i, j)| {
                if j == 0 {
                    f64::from(i >= 70)
                } else {
                    i as f64
                }
            },
        );
        let schema = FeatureSchema::new(vec![
            crate::data::Feature {
                name: "c".into(),
                kind: crate::data::FeatureKind::Categorical {
                    levels: vec!["a".into(), "b".into()],
                },
            },
            crate::data::Feature::numeric("n"),
        ]);
        let s = TrainingStats::new(
            t.view(),
            &schema,
            Discretize::Quartile,
            SampleAround::Training,
        );
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let n = 20_000;
        let (mut z, mut v) = (vec![0.0; n * 2], vec![0.0; n * 2]);
        let x = [0.0, 10.0];
        s.draw(&x, n, true, &mut rng, &mut z, &mut v);
        assert_eq!(&v[..2], &x);
        let level0 = (1..n).filter(|&i| v[2 * i] == 0.0).count() as f64 / (n - 1) as f64;
        assert!((level0 - 0.7).abs() < 0.02, "{level0}");
        // x = 10 is in the first quartile bin (≤ 24.75): about a quarter of draws match.
        let same_bin = (1..n).filter(|&i| z[2 * i + 1] == 1.0).count() as f64 / (n - 1) as f64;
        assert!((same_bin - 0.25).abs() < 0.02, "{same_bin}");
    }
}
