//! Batched evaluation of the interventional value function
//!
//!   v(S) = Σ_b w_b · g(f(x_S, b_{−S}))
//!
//! where b runs over the (weighted) background rows and g is the identity (raw space) or the
//! model's link (probability space: the link is applied to each hybrid row *before* averaging,
//! which is what makes probability-space values different from linked raw-space values).
//!
//! For a block of coalitions the hybrid rows (coalitions × background rows) are written into one
//! flat buffer and the model is called once for the whole block; blocks hold about
//! `batch_rows` hybrid rows so the buffer stays in cache-friendly megabytes whatever M and the
//! background size are. Buffers are reused across blocks and rows.
//!
//! Tree ensembles skip the hybrid rows: their value function is evaluated through per-row lookup
//! tables (`tree_game.rs`), with the same values.

use ndarray::{s, Array2, ArrayView2, ArrayViewMut2};

use super::background::Background;
use super::tree_game::{TreeBackground, TreeGame};
use crate::explain::OutputSpace;
use crate::model::{Link, Model};

/// The value function of one model, background and output space.
pub(crate) struct ValueFunction<'a> {
    model: &'a dyn Model,
    bg: ArrayView2<'a, f64>,
    weights: &'a [f64],
    link: Option<Link>,
    k: usize,
    /// Coalitions per model call.
    block: usize,
    /// The trees and the background's directions in them, when the model is an ensemble and
    /// table evaluation is on.
    trees: Option<TreeBackground<'a>>,
}

/// Reusable buffers of one worker.
pub(crate) struct Scratch<'a> {
    hybrid: Vec<f64>,
    pred: Array2<f64>,
    /// The tree game of the last explained row (its bits, and the game).
    game: Option<(Vec<u64>, TreeGame<'a>)>,
    acc: Vec<f64>,
}

impl<'a> ValueFunction<'a> {
    pub fn new(
        model: &'a dyn Model,
        bg: &'a Background,
        space: OutputSpace,
        batch_rows: usize,
        tree_tables: bool,
    ) -> ValueFunction<'a> {
        let nb = bg.len();
        ValueFunction {
            model,
            bg: bg.x(),
            weights: bg.weights(),
            link: match space {
                OutputSpace::Raw => None,
                OutputSpace::Probability => Some(model.link()),
            },
            k: model.n_outputs(),
            block: (batch_rows / nb).max(1),
            trees: match model.as_tree_ensemble() {
                Some(ens) if tree_tables && bg.x().ncols() > 0 => {
                    Some(TreeBackground::new(ens, bg.x()))
                }
                _ => None,
            },
        }
    }

    /// Buffers for [`ValueFunction::eval`].
    pub fn scratch<'s>(&'s self) -> Scratch<'s> {
        let rows = if self.trees.is_some() {
            0
        } else {
            self.block * self.bg.nrows()
        };
        Scratch {
            hybrid: vec![0.0; rows * self.bg.ncols()],
            pred: Array2::zeros((rows, self.k)),
            game: None,
            acc: Vec::new(),
        }
    }

    /// [`ValueFunction::eval`] through the tree tables.
    fn eval_trees<'s>(
        &'s self,
        tb: &'s TreeBackground<'s>,
        x: &[f64],
        masks: &[u8],
        out: &mut [f64],
        s: &mut Scratch<'s>,
    ) {
        let m = self.bg.ncols();
        let k = self.k;
        let bits: Vec<u64> = x.iter().map(|v| v.to_bits()).collect();
        if s.game.as_ref().map_or(true, |(b, _)| *b != bits) {
            // Raw space is linear in the raw score: the background rows are summed into one group.
            let game = TreeGame::new(tb, x, self.weights, self.link.is_none());
            s.game = Some((bits, game));
        }
        let Some((_, game)) = &s.game else {
            unreachable!("the game was just built")
        };
        s.acc.resize(game.groups() * k, 0.0);
        for (mask, o) in masks.chunks_exact(m).zip(out.chunks_exact_mut(k)) {
            game.eval(mask, &mut s.acc);
            match self.link {
                None => o.copy_from_slice(&s.acc[..k]),
                Some(link) => {
                    o.fill(0.0);
                    for (g, w) in s.acc.chunks_exact_mut(k).zip(self.weights) {
                        link.apply(g);
                        for (d, v) in o.iter_mut().zip(g.iter()) {
                            *d += w * v;
                        }
                    }
                }
            }
        }
    }

    /// Applies g to model outputs (rows × K), in place.
    pub fn transform(&self, mut out: ArrayViewMut2<f64>) {
        if let Some(link) = self.link {
            for mut row in out.rows_mut() {
                if let Some(r) = row.as_slice_mut() {
                    link.apply(r);
                } else {
                    let mut v = row.to_vec();
                    link.apply(&mut v);
                    row.iter_mut().zip(v).for_each(|(d, s)| *d = s);
                }
            }
        }
    }

    /// v(∅): the weighted mean of g(f(b)) over the background, per output.
    pub fn empty_value(&self) -> Vec<f64> {
        let mut pred = self.model.predict_raw(self.bg);
        self.transform(pred.view_mut());
        let mut v = vec![0.0; self.k];
        for (row, w) in pred.rows().into_iter().zip(self.weights) {
            for (o, p) in v.iter_mut().zip(row) {
                *o += w * p;
            }
        }
        v
    }

    /// Writes v(S) for each coalition of `masks` (L × M, 0/1, row-major) into `out` (L × K).
    pub fn eval<'s>(&'s self, x: &[f64], masks: &[u8], out: &mut [f64], s: &mut Scratch<'s>) {
        if let Some(tb) = &self.trees {
            self.eval_trees(tb, x, masks, out, s);
            return;
        }
        let m = self.bg.ncols();
        let nb = self.bg.nrows();
        let k = self.k;
        let total = if m == 0 { 0 } else { masks.len() / m };
        // Invariant: the background is in standard layout (Background::weighted makes it so).
        let bg = self
            .bg
            .as_slice()
            .unwrap_or_else(|| unreachable!("background must be contiguous"));
        let mut start = 0;
        while start < total {
            let end = (start + self.block).min(total);
            let rows = (end - start) * nb;
            let h = &mut s.hybrid[..rows * m];
            for (li, mask) in masks[start * m..end * m].chunks_exact(m).enumerate() {
                for b in 0..nb {
                    let dst = &mut h[(li * nb + b) * m..(li * nb + b + 1) * m];
                    let src = &bg[b * m..(b + 1) * m];
                    for j in 0..m {
                        dst[j] = if mask[j] != 0 { x[j] } else { src[j] };
                    }
                }
            }
            // Invariant: h holds exactly rows × m values.
            let hv = ArrayView2::from_shape((rows, m), &*h)
                .unwrap_or_else(|_| unreachable!("hybrid buffer shape"));
            let mut pv = s.pred.slice_mut(s![..rows, ..]);
            self.model.predict_raw_into(hv, pv.view_mut());
            self.transform(pv.view_mut());
            for li in 0..end - start {
                let o = &mut out[(start + li) * k..(start + li + 1) * k];
                o.fill(0.0);
                for (b, w) in self.weights.iter().enumerate() {
                    let p = pv.row(li * nb + b);
                    for (d, v) in o.iter_mut().zip(p) {
                        *d += w * v;
                    }
                }
            }
            start = end;
        }
    }
}
