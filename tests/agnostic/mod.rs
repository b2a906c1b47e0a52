//! Shared by the model-agnostic explainer tests: a model built from small terms with interactions,
//! and brute-force interventional Shapley values written independently of the library.
#![allow(dead_code)]

use glassbox::data::FeatureSchema;
use glassbox::model::{Link, Model};
use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One additive term of a [`TermModel`]; each depends on at most three features.
#[derive(Clone, Debug)]
pub enum Term {
    /// c · x_a
    Linear(usize, f64),
    /// c · x_a · x_b
    Product(usize, usize, f64),
    /// c · tanh(x_a + x_b − x_c)
    Tanh(usize, usize, usize, f64),
    /// c · max(x_a, x_b)
    Max(usize, usize, f64),
}

impl Term {
    fn vars(&self) -> Vec<usize> {
        match *self {
            Term::Linear(a, _) => vec![a],
            Term::Product(a, b, _) | Term::Max(a, b, _) => vec![a, b],
            Term::Tanh(a, b, c, _) => vec![a, b, c],
        }
    }

    fn eval(&self, x: &[f64]) -> f64 {
        match *self {
            Term::Linear(a, c) => c * x[a],
            Term::Product(a, b, c) => c * x[a] * x[b],
            Term::Tanh(a, b, d, c) => c * (x[a] + x[b] - x[d]).tanh(),
            Term::Max(a, b, c) => c * x[a].max(x[b]),
        }
    }
}

/// f_k(x) = intercept_k + Σ terms of output k; raw scores, mapped by `link`.
pub struct TermModel {
    pub schema: FeatureSchema,
    pub outputs: Vec<String>,
    pub link: Link,
    pub intercept: Vec<f64>,
    pub terms: Vec<Vec<Term>>,
}

impl Model for TermModel {
    fn schema(&self) -> &FeatureSchema {
        &self.schema
    }
    fn output_names(&self) -> &[String] {
        &self.outputs
    }
    fn link(&self) -> Link {
        self.link
    }
    fn predict_raw_into(&self, x: ArrayView2<f64>, mut out: ArrayViewMut2<f64>) {
        let mut buf = Vec::new();
        for (i, row) in x.rows().into_iter().enumerate() {
            buf.clear();
            buf.extend(row.iter().copied());
            for k in 0..self.outputs.len() {
                out[[i, k]] =
                    self.intercept[k] + self.terms[k].iter().map(|t| t.eval(&buf)).sum::<f64>();
            }
        }
    }
}

/// A random single-output model on `m` features: every feature gets a linear term, plus
/// `m` random interaction terms of each kind.
pub fn random_model(m: usize, link: Link, seed: u64) -> TermModel {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut terms = Vec::new();
    for a in 0..m {
        terms.push(Term::Linear(a, rng.gen_range(-1.0..1.0)));
    }
    let pick = |rng: &mut ChaCha8Rng| rng.gen_range(0..m);
    for _ in 0..m {
        let (a, b, c) = (pick(&mut rng), pick(&mut rng), pick(&mut rng));
        if a != b {
            terms.push(Term::Product(a, b, rng.gen_range(-0.5..0.5)));
            terms.push(Term::Max(a, b, rng.gen_range(-1.0..1.0)));
        }
        if a != b && b != c && a != c {
            terms.push(Term::Tanh(a, b, c, rng.gen_range(-1.5..1.5)));
        }
    }
    TermModel {
        schema: FeatureSchema::numeric((0..m).map(|j| format!("x{j}"))),
        outputs: vec!["y".into()],
        link,
        intercept: vec![0.3],
        terms: vec![terms],
    }
}

/// Standard normal-ish data (sum of uniforms), n × m, seeded.
pub fn random_data(n: usize, m: usize, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((n, m), |_| {
        (0..4).map(|_| rng.gen_range(-1.0..1.0)).sum::<f64>() * 0.866
    })
}

/// Shapley values of a game on `p` players given v for every bit pattern (brute force).
fn shapley(p: usize, v: &[f64]) -> Vec<f64> {
    let fact = |n: usize| (1..=n).map(|i| i as f64).product::<f64>();
    let mut phi = vec![0.0; p];
    for s in 0..(1usize << p) {
        let size = s.count_ones() as usize;
        if size == p {
            continue;
        }
        let w = fact(size) * fact(p - size - 1) / fact(p);
        for (j, ph) in phi.iter_mut().enumerate() {
            if s & (1 << j) == 0 {
                *ph += w * (v[s | (1 << j)] - v[s]);
            }
        }
    }
    phi
}

/// Exact interventional Shapley values of a single-output [`TermModel`]'s raw score with an
/// equally weighted background: by linearity and the dummy axiom, the sum over terms of each
/// term's Shapley values in the game of its own (≤ 3) features. Scales to any M.
pub fn term_shapley(model: &TermModel, x: ArrayView1<f64>, bg: ArrayView2<f64>) -> Vec<f64> {
    let m = x.len();
    let mut phi = vec![0.0; m];
    let mut hybrid = vec![0.0; m];
    for t in &model.terms[0] {
        let vars = t.vars();
        let p = vars.len();
        let v: Vec<f64> = (0..(1usize << p))
            .map(|s| {
                let mut acc = 0.0;
                for b in bg.rows() {
                    hybrid.iter_mut().zip(b.iter()).for_each(|(h, v)| *h = *v);
                    for (q, &j) in vars.iter().enumerate() {
                        if s & (1 << q) != 0 {
                            hybrid[j] = x[j];
                        }
                    }
                    acc += t.eval(&hybrid);
                }
                acc / bg.nrows() as f64
            })
            .collect();
        for (q, ph) in shapley(p, &v).into_iter().enumerate() {
            phi[vars[q]] += ph;
        }
    }
    phi
}

/// Exact interventional Shapley values of any model by enumerating all 2^M coalitions, in raw
/// space or with the link applied per hybrid row before averaging (`linked`), equal background
/// weights. Returns outputs × features.
pub fn brute_force(
    model: &dyn Model,
    x: ArrayView1<f64>,
    bg: ArrayView2<f64>,
    linked: bool,
) -> Vec<Vec<f64>> {
    let m = x.len();
    let k = model.n_outputs();
    let nb = bg.nrows();
    let mut v = vec![vec![0.0; 1 << m]; k];
    for s in 0..(1usize << m) {
        let mut hybrid = bg.to_owned();
        for mut row in hybrid.rows_mut() {
            for j in 0..m {
                if s & (1 << j) != 0 {
                    row[j] = x[j];
                }
            }
        }
        let out = if linked {
            model.predict(hybrid.view())
        } else {
            model.predict_raw(hybrid.view())
        };
        for (o, vo) in v.iter_mut().enumerate() {
            vo[s] = out.column(o).sum() / nb as f64;
        }
    }
    v.iter().map(|vo| shapley(m, vo)).collect()
}

/// How [`mixed_five`] turns a row's linear predictor η into its target.
#[derive(Clone, Copy, Debug)]
pub enum Response {
    /// y ~ Bernoulli(1 / (1 + e^−η)), a binary target with classes "0" and "1".
    Bernoulli,
    /// y = ⌊e^η · U(0, 2)⌋, a non-negative count.
    Count,
    /// y = η + scale · U(−1, 1).
    UniformNoise(f64),
}

/// The mixed-type rows several test files share: 5 features — `age` (number), `region` (3 levels),
/// `income` (number, missing every 7th row), `owner` (2 levels, missing every 11th row), `score`
/// (number) — and a target drawn from `eta(row)` as `response` says. Seeded; the random stream is
/// drawn row by row (features, then target), so every caller with the same seed sees the same
/// features.
pub fn mixed_five(
    n: usize,
    seed: u64,
    eta: impl Fn(&[f64]) -> f64,
    response: Response,
) -> glassbox::data::Dataset {
    use glassbox::data::{Dataset, Feature, FeatureKind, TargetKind, TargetSpec};
    let categorical = |name: &str, levels: &[&str]| Feature {
        name: name.into(),
        kind: FeatureKind::Categorical {
            levels: levels.iter().map(|l| l.to_string()).collect(),
        },
    };
    let schema = FeatureSchema::new(vec![
        Feature::numeric("age"),
        categorical("region", &["east", "north", "west"]),
        Feature::numeric("income"),
        categorical("owner", &["no", "yes"]),
        Feature::numeric("score"),
    ]);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut x = Array2::<f64>::zeros((n, 5));
    let mut y = ndarray::Array1::<f64>::zeros(n);
    for i in 0..n {
        x[[i, 0]] = rng.gen_range(20.0..70.0);
        x[[i, 1]] = (i % 3) as f64;
        x[[i, 2]] = if i % 7 == 3 {
            f64::NAN
        } else {
            rng.gen_range(1.0..5.0)
        };
        x[[i, 3]] = if i % 11 == 5 {
            f64::NAN
        } else {
            (i % 2) as f64
        };
        x[[i, 4]] = rng.gen_range(-1.0..1.0);
        let e = eta(x
            .row(i)
            .as_slice()
            .expect("rows of a standard-layout array are contiguous"));
        y[i] = match response {
            Response::Bernoulli => f64::from(rng.gen::<f64>() < 1.0 / (1.0 + (-e).exp())),
            Response::Count => (e.exp() * rng.gen_range(0.0..2.0)).floor(),
            Response::UniformNoise(scale) => e + scale * rng.gen_range(-1.0..1.0),
        };
    }
    let kind = match response {
        Response::Bernoulli => TargetKind::Binary {
            classes: vec!["0".into(), "1".into()],
        },
        _ => TargetKind::Continuous,
    };
    let target = TargetSpec {
        name: "y".into(),
        kind,
    };
    Dataset::from_parts(x, Some(y), schema, Some(target)).expect("a consistent synthetic data set")
}
