//! A tree copied into preorder, the one layout every Tree SHAP kernel walks.
//!
//! Preorder (parent, then the whole left subtree, then the right subtree) turns the recursive
//! algorithms into two flat loops: a forward pass visits every parent before its children, and a
//! backward pass visits every child before its parent, with the right child of each node seen
//! first. Kernels keep per-node state in arrays indexed by preorder position, so a row's work on a
//! tree touches a few contiguous kilobytes and no recursion stack.

use crate::model::tree::{Node, Tree};

/// Sentinel for "no node".
pub(crate) const NONE: u32 = u32::MAX;

/// A tree in preorder with parent links. Child indices of the copied nodes are preorder indices.
#[derive(Clone, Debug)]
pub(crate) struct Preorder {
    /// Nodes in preorder; `left`/`right` point into this vector.
    pub nodes: Vec<Node>,
    /// Parent of each node ([`NONE`] for the root).
    pub parent: Vec<u32>,
    /// The tree's category bitsets (referenced by categorical nodes).
    pub words: Vec<u64>,
}

impl Preorder {
    /// Copies a validated tree into preorder.
    pub fn new(tree: &Tree) -> Preorder {
        let n = tree.nodes.len();
        let mut nodes = Vec::with_capacity(n);
        let mut parent = Vec::with_capacity(n);
        // (original index, parent's preorder index, is the left child)
        let mut stack = vec![(0usize, NONE, false)];
        while let Some((orig, par, is_left)) = stack.pop() {
            let pos = nodes.len() as u32;
            let node = tree.nodes[orig];
            nodes.push(node);
            parent.push(par);
            if par != NONE {
                let p = &mut nodes[par as usize];
                if is_left {
                    p.left = pos;
                } else {
                    p.right = pos;
                }
            }
            if !node.is_leaf() {
                stack.push((node.right as usize, pos, false));
                stack.push((node.left as usize, pos, true));
            }
        }
        Preorder {
            nodes,
            parent,
            words: tree.category_words.clone(),
        }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether node `k` is the left child of its parent.
    #[inline]
    pub fn is_left_child(&self, k: usize) -> bool {
        let p = self.parent[k];
        p != NONE && self.nodes[p as usize].left == k as u32
    }

    /// The fraction of the parent's cover that reached node `k` (the probability of taking this
    /// branch when its feature is unknown). Degenerate covers (zero, negative, non-finite parent
    /// or child) fall back to an even split, so the path-dependent game stays well defined; the base
    /// value uses the same fractions, so attributions still add up.
    pub fn cover_fraction(&self, k: usize) -> f64 {
        let p = self.parent[k] as usize;
        let pc = self.nodes[p].cover;
        let cc = self.nodes[k].cover;
        let f = cc / pc;
        if pc > 0.0 && cc >= 0.0 && f.is_finite() {
            f
        } else {
            0.5
        }
    }

    /// Writes, for every internal node, whether `x` goes left (leaves get `false`).
    #[inline]
    pub fn directions(&self, x: &[f64], out: &mut [bool]) {
        for (d, node) in out.iter_mut().zip(&self.nodes) {
            *d = !node.is_leaf() && node.goes_left(x[node.feature as usize], &self.words);
        }
    }

    /// The leaf `x` reaches, as a preorder index.
    #[cfg(test)]
    pub fn leaf_of(&self, x: &[f64]) -> usize {
        let mut k = 0usize;
        loop {
            let node = &self.nodes[k];
            if node.is_leaf() {
                return k;
            }
            k = node.next(x[node.feature as usize], &self.words) as usize;
        }
    }

    /// Depth of the deepest leaf (0 for a lone leaf).
    pub fn max_depth(&self) -> usize {
        let mut depth = vec![0usize; self.len()];
        for k in 1..self.len() {
            depth[k] = depth[self.parent[k] as usize] + 1;
        }
        depth.into_iter().max().unwrap_or(0)
    }

    /// Largest number of distinct features on a root-to-leaf path (0 for a lone leaf).
    pub fn max_unique_features(&self) -> usize {
        let mut best = 0;
        let mut path: Vec<u32> = Vec::new();
        // Preorder lets us keep the current path as a stack of (depth, feature).
        let mut depth = vec![0usize; self.len()];
        for k in 0..self.len() {
            if k > 0 {
                depth[k] = depth[self.parent[k] as usize] + 1;
            }
            path.truncate(depth[k]);
            if self.nodes[k].is_leaf() {
                let mut f = path.clone();
                f.sort_unstable();
                f.dedup();
                best = best.max(f.len());
            } else {
                path.push(self.nodes[k].feature);
            }
        }
        best
    }
}

/// One distinct feature on one leaf's path.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PathFeature {
    pub feature: u32,
    /// Product of the cover fractions of the path's edges on this feature.
    pub p: f64,
}

/// One condition of a leaf's path: node `node` must send the row `left`-wards for the feature
/// at position `slot` of the leaf's features to count as followed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cond {
    pub node: u32,
    pub left: bool,
    pub slot: u16,
}

/// One leaf and where its features and conditions are stored in [`LeafPaths`].
#[derive(Clone, Debug)]
pub(crate) struct LeafPath {
    pub value: f64,
    pub feats: std::ops::Range<usize>,
    pub conds: std::ops::Range<usize>,
}

/// Every leaf's root-to-leaf path with repeated features merged: the view of a tree the
/// per-leaf algorithms (interactions, interventional tables) need.
#[derive(Clone, Debug, Default)]
pub(crate) struct LeafPaths {
    pub leaves: Vec<LeafPath>,
    pub feats: Vec<PathFeature>,
    pub conds: Vec<Cond>,
}

impl LeafPaths {
    /// Collects the paths of all leaves (none for a lone leaf: it has no features).
    pub fn new(pre: &Preorder) -> LeafPaths {
        let mut lp = LeafPaths::default();
        let n = pre.len();
        for k in 0..n {
            if !pre.nodes[k].is_leaf() || n == 1 {
                continue;
            }
            let f0 = lp.feats.len();
            let c0 = lp.conds.len();
            let mut c = k;
            while c != 0 {
                let p = pre.parent[c] as usize;
                let feature = pre.nodes[p].feature;
                let slot = match lp.feats[f0..].iter().position(|f| f.feature == feature) {
                    Some(s) => s,
                    None => {
                        lp.feats.push(PathFeature { feature, p: 1.0 });
                        lp.feats.len() - 1 - f0
                    }
                };
                lp.feats[f0 + slot].p *= pre.cover_fraction(c);
                lp.conds.push(Cond {
                    node: p as u32,
                    left: pre.is_left_child(c),
                    slot: slot as u16,
                });
                c = p;
            }
            lp.leaves.push(LeafPath {
                value: pre.nodes[k].value,
                feats: f0..lp.feats.len(),
                conds: c0..lp.conds.len(),
            });
        }
        lp
    }

    /// Bit mask (bit `i` = feature at position `i` of the leaf) of the features whose every
    /// condition the row with directions `dirs` satisfies. Leaves have at most 64 features
    /// (checked by the callers that use masks).
    #[inline]
    pub fn satisfied(&self, leaf: &LeafPath, dirs: &[bool]) -> u64 {
        let d = leaf.feats.len();
        let mut mask = if d == 64 { u64::MAX } else { (1u64 << d) - 1 };
        for c in &self.conds[leaf.conds.clone()] {
            if dirs[c.node as usize] != c.left {
                mask &= !(1u64 << c.slot);
            }
        }
        mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preorder_remaps_children_and_parents() {
        // Root splits into a right-first stored layout to check remapping.
        let tree = Tree {
            nodes: vec![
                Node::numeric_split(0, 0.5, 2, 1, true, 10.0),
                Node::leaf(1.0, 4.0),
                Node::numeric_split(1, 0.5, 3, 4, false, 6.0),
                Node::leaf(2.0, 3.0),
                Node::leaf(3.0, 3.0),
            ],
            category_words: vec![],
        };
        let p = Preorder::new(&tree);
        let values: Vec<f64> = p.nodes.iter().map(|n| n.value).collect();
        assert_eq!(values, vec![0.0, 0.0, 2.0, 3.0, 1.0]);
        assert_eq!(p.parent, vec![NONE, 0, 1, 1, 0]);
        assert!(p.is_left_child(1) && !p.is_left_child(4) && p.is_left_child(2));
        assert_eq!(p.cover_fraction(1), 0.6);
        assert_eq!(p.max_unique_features(), 2);
        for x in [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0]] {
            assert_eq!(p.nodes[p.leaf_of(&x)].value, tree.predict_row(&x));
        }
    }
}
