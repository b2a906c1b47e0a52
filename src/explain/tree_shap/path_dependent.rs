//! Exact path-dependent Tree SHAP in `O(N·D)` per tree and row, by quadrature over a preorder
//! tree.
//!
//! # The formula
//! For one leaf `l` with value `v`, let `P` be the distinct features on its path. For feature
//! `j ∈ P`, `p_j` is the product of the cover fractions of the path's edges that split on `j`,
//! and `o_j ∈ {0, 1}` says whether `x` follows all of them. The path-dependent game of the leaf is
//! `v · Π_{j∈P} (j ∈ S ? o_j : p_j)`, a product game, whose Shapley values are (Lundberg et al.
//! 2020, Algorithm 2, written as an integral; see [`super::quadrature`])
//!
//! ```text
//! φ_i = v (o_i − p_i) ∫₀¹ Π_{j∈P∖i} g_j(t) dt,     g_j(t) = p_j + t (o_j − p_j).
//! ```
//!
//! The integrand has degree `|P| − 1`, so `Q = ⌈D/2⌉` Gauss–Legendre points make it exact, where
//! `D` is the largest number of distinct features on a path of the tree.
//!
//! # Sharing work across leaves (Linear TreeShap, Yu et al. 2022)
//! Summing that formula leaf by leaf costs `O(L·D·Q)`. Instead, values at the `Q` points are
//! pushed down and summed up the tree: a forward pass keeps `C_k(t) = Π g_j(t)` over the features
//! seen from the root to node `k` (with `g` of a repeated feature replaced, not multiplied, when it
//! reappears), and leaves set `E = v·C`; a backward pass sums `E` of children into parents. The
//! contribution of an edge `parent → k` splitting on `j` is then
//! `ψ(E_k, g_j^new) − ψ(E_k, g_j^old)` with `ψ(E, g) = Σ_q w_q E(t_q) (o − p)/g(t_q)`, where
//! `g^old` is `j`'s factor before this edge (1 if `j` is new on the path). Summed along a path the
//! old/new terms telescope to the leaf formula, so repeated features are exact too (the pointwise
//! identity holds at every quadrature node, and only the telescoped sum needs to be a polynomial).
//!
//! # Why this design
//! Everything that does not depend on the row is precomputed per edge: since `o ∈ {0, 1}` and
//! `o_new = 1` implies `o_old = 1`, each edge has three cases, and for each the ratio
//! `g^new/g^old` and the weight difference `w_q (o−p)/g` are tables of `Q` numbers. The per-row work
//! is then `Q` multiplies down and `Q` fused multiply-adds up per node, branch-free, on arrays that
//! stay in L1. Rows are processed in blocks, tree by tree, so a tree's tables are loaded once per
//! block rather than once per row.
//!
//! Rejected alternatives: the classic recursion (`O(L·D²)`, with division in `UNWIND`);
//! FastTreeSHAP v2 (Yang 2022), whose per-leaf `2^D` tables are as fast per row but need
//! `O(L·2^D)` memory per tree and do not work for deep LightGBM trees; evaluating the polynomial
//! in coefficient form (Linear TreeShap's Chebyshev basis), which needs more points and is less
//! stable than Gauss–Legendre.

use super::layout::{Preorder, NONE};
use super::quadrature::gauss_legendre_01;
use crate::model::Node;

/// The quadrature sizes we compile kernels for; a tree uses the smallest one `≥ ⌈D/2⌉` (more points
/// than needed are still exact).
pub(crate) const Q_SIZES: [usize; 13] = [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 24, 32];

/// The largest number of distinct features on one path that the kernels support.
pub(crate) const MAX_UNIQUE_FEATURES: usize = 64;

/// Everything one split needs per row, for `Q` quadrature points: the tables of its two edges
/// (index 0 = left child, 1 = right child).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SplitTab<const Q: usize> {
    /// The split itself (feature, threshold, flags), copied so the kernel reads one struct.
    split: Node,
    /// `g_new / g_old` at the quadrature nodes, by child and case: 0 = feature already off,
    /// 1 = turns off here, 2 = still on. Leaf children include the leaf value.
    r: [[[f64; Q]; 3]; 2],
    /// `w_q (o−p)/g` of the new factor minus that of the old one, by child and case (case 0 is 0).
    d: [[[f64; Q]; 3]; 2],
    node: u32,
    left: u32,
    right: u32,
    /// Preorder index of the nearest ancestor edge on the same feature, or 0 (the root, whose
    /// case is always "on") when the feature is new on the path.
    prev: u32,
}

macro_rules! q_tables {
    ($($q:literal => $v:ident),*) => {
        /// Per-edge tables of a tree, typed by its quadrature size.
        #[derive(Clone, Debug)]
        pub(crate) enum Tables { $($v(Vec<SplitTab<$q>>)),* }

        impl Tables {
            fn build(q: usize, pre: &Preorder, info: &[EdgeInfo]) -> Tables {
                match q {
                    $($q => Tables::$v(build_tabs::<$q>(pre, info)),)*
                    _ => unreachable!("quadrature size {q} is rounded up to a supported one"),
                }
            }

            fn run(&self, pre: &Preorder, rows: &[f64], m: usize, out: &mut [f64], stride: usize, offset: usize) {
                match self {
                    $(Tables::$v(t) => run_rows::<$q>(pre, t, rows, m, out, stride, offset),)*
                }
            }
        }
    };
}

q_tables!(1 => Q1, 2 => Q2, 3 => Q3, 4 => Q4, 5 => Q5, 6 => Q6, 7 => Q7, 8 => Q8, 10 => Q10,
          12 => Q12, 16 => Q16, 24 => Q24, 32 => Q32);

/// Row-independent facts of one edge, used to build its tables.
#[derive(Clone, Copy, Debug)]
struct EdgeInfo {
    /// Merged cover fraction of the edge's feature before this edge (1 when new).
    p_old: f64,
    /// Merged cover fraction including this edge.
    p_new: f64,
    /// This edge's own cover fraction.
    frac: f64,
    /// Leaf value folded into the tables of leaf edges (1 for internal nodes).
    scale: f64,
    prev: u32,
}

/// One tree prepared for path-dependent Tree SHAP.
#[derive(Clone, Debug)]
pub(crate) struct PdTree {
    pre: Preorder,
    /// `None` for a lone leaf (no features, contributes only to the base value).
    tables: Option<Tables>,
    /// The tree's expected value under its covers: `Σ_l v_l Π fractions`.
    pub expected: f64,
}

impl PdTree {
    /// Prepares one validated tree.
    ///
    /// # Errors
    /// A message when a path has more than [`MAX_UNIQUE_FEATURES`] distinct features.
    pub fn new(pre: Preorder) -> Result<PdTree, String> {
        let n = pre.len();
        let d = pre.max_unique_features();
        if d > MAX_UNIQUE_FEATURES {
            return Err(format!(
                "a path has {d} distinct features; exact Tree SHAP here supports at most {MAX_UNIQUE_FEATURES}"
            ));
        }
        let mut info = vec![
            EdgeInfo {
                p_old: 1.0,
                p_new: 1.0,
                frac: 1.0,
                scale: 1.0,
                prev: 0
            };
            n
        ];
        let mut reach = vec![1.0f64; n];
        let mut expected = 0.0;
        for k in 1..n {
            let p = pre.parent[k] as usize;
            let feature = pre.nodes[p].feature;
            let mut prev = NONE;
            let mut c = p;
            while c != 0 {
                let cp = pre.parent[c] as usize;
                if pre.nodes[cp].feature == feature {
                    prev = c as u32;
                    break;
                }
                c = cp;
            }
            let frac = pre.cover_fraction(k);
            let p_old = if prev == NONE {
                1.0
            } else {
                info[prev as usize].p_new
            };
            reach[k] = reach[p] * frac;
            let leaf = pre.nodes[k].is_leaf();
            info[k] = EdgeInfo {
                p_old,
                p_new: p_old * frac,
                frac,
                scale: if leaf { pre.nodes[k].value } else { 1.0 },
                prev: if prev == NONE { 0 } else { prev },
            };
            if leaf {
                expected += pre.nodes[k].value * reach[k];
            }
        }
        if n == 1 {
            expected = pre.nodes[0].value;
        }
        let tables = (d > 0).then(|| {
            let q = Q_SIZES
                .iter()
                .copied()
                .find(|&q| 2 * q >= d)
                .unwrap_or(MAX_UNIQUE_FEATURES / 2);
            Tables::build(q, &pre, &info)
        });
        Ok(PdTree {
            pre,
            tables,
            expected,
        })
    }

    /// Adds this tree's attributions of the rows in `rows` (row-major, `m` features each) to
    /// `out[r * stride + offset + feature]`.
    pub fn add_rows(&self, rows: &[f64], m: usize, out: &mut [f64], stride: usize, offset: usize) {
        if let Some(t) = &self.tables {
            t.run(&self.pre, rows, m, out, stride, offset);
        }
    }
}

fn build_tabs<const Q: usize>(pre: &Preorder, info: &[EdgeInfo]) -> Vec<SplitTab<Q>> {
    let (t, w) = gauss_legendre_01(Q);
    let g1 = |p: f64, t: f64| p + t * (1.0 - p);
    let g0 = |p: f64, t: f64| p * (1.0 - t);
    // ψ weights of a factor: w (o − p) / g(t); the o = 0 factor is p(1−t), so its weight is
    // −w/(1−t) whenever p ≠ 0 (and 0 when p = 0: then o = p and the factor contributes nothing).
    let w1 = |p: f64, q: usize| w[q] * (1.0 - p) / g1(p, t[q]);
    let w0 = |p: f64, q: usize| if p != 0.0 { -w[q] / (1.0 - t[q]) } else { 0.0 };
    let mut tabs = Vec::new();
    for (k, node) in pre.nodes.iter().enumerate() {
        if node.is_leaf() {
            continue;
        }
        let mut tab = SplitTab::<Q> {
            split: *node,
            r: [[[0.0; Q]; 3]; 2],
            d: [[[0.0; Q]; 3]; 2],
            node: k as u32,
            left: node.left,
            right: node.right,
            prev: info[node.left as usize].prev,
        };
        for (side, child) in [node.left, node.right].into_iter().enumerate() {
            let e = &info[child as usize];
            for q in 0..Q {
                let old_on = g1(e.p_old, t[q]);
                // Case 0 (off before and after): the factor p(1−t) scales by this edge's fraction.
                tab.r[side][0][q] = e.frac * e.scale;
                tab.r[side][1][q] = g0(e.p_new, t[q]) / old_on * e.scale;
                tab.r[side][2][q] = g1(e.p_new, t[q]) / old_on * e.scale;
                tab.d[side][1][q] = w0(e.p_new, q) - w1(e.p_old, q);
                tab.d[side][2][q] = w1(e.p_new, q) - w1(e.p_old, q);
            }
        }
        tabs.push(tab);
    }
    tabs
}

/// The per-row kernel. Forward over splits in preorder: the row's direction, each child's case
/// (feature off before / turns off here / still on) and prefix product. Backward over splits in
/// reverse preorder: both edges' contributions to the split's feature, and the subtree sum.
fn run_rows<const Q: usize>(
    pre: &Preorder,
    tabs: &[SplitTab<Q>],
    rows: &[f64],
    m: usize,
    out: &mut [f64],
    stride: usize,
    offset: usize,
) {
    let n = pre.len();
    let mut buf = vec![[0.0f64; Q]; n];
    // Per node (edge into it): 0 = its feature was off above, 1 = turns off here, 2 = on.
    let mut case = vec![2u8; n];
    let words = &pre.words;
    for (r, x) in rows.chunks_exact(m).enumerate() {
        let phi = &mut out[r * stride + offset..r * stride + offset + m];
        buf[0] = [1.0; Q];
        for s in tabs {
            let goes_left = s.split.goes_left(x[s.split.feature as usize], words);
            let old = case[s.prev as usize] >> 1;
            let cl = old + (old & goes_left as u8);
            let cr = old + (old & !goes_left as u8);
            case[s.left as usize] = cl;
            case[s.right as usize] = cr;
            let c = buf[s.node as usize];
            let (rl, rr) = (&s.r[0][cl as usize], &s.r[1][cr as usize]);
            let mut bl = [0.0; Q];
            let mut br = [0.0; Q];
            for q in 0..Q {
                bl[q] = c[q] * rl[q];
                br[q] = c[q] * rr[q];
            }
            buf[s.left as usize] = bl;
            buf[s.right as usize] = br;
        }
        for s in tabs.iter().rev() {
            let (l, rt) = (s.left as usize, s.right as usize);
            let (el, er) = (buf[l], buf[rt]);
            let (dl, dr) = (&s.d[0][case[l] as usize], &s.d[1][case[rt] as usize]);
            let mut sum = 0.0;
            let mut e = [0.0; Q];
            for q in 0..Q {
                sum += el[q] * dl[q] + er[q] * dr[q];
                e[q] = el[q] + er[q];
            }
            phi[s.split.feature as usize] += sum;
            buf[s.node as usize] = e;
        }
    }
}
