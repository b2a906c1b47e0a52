//! LightGBM text models (`Booster.save_model("model.txt")`, format versions v2–v4).
//!
//! # The format
//! A header of `key=value` lines (`version`, `num_class`, `num_tree_per_iteration`,
//! `max_feature_idx`, `objective`, `feature_names`, `feature_infos`, and a bare `average_output`
//! line for random forests), then one block per tree starting `Tree=<i>`, then `end of trees`,
//! feature importances and the training parameters. In a tree, internal nodes are numbered
//! `0..num_leaves-1` and a child `c < 0` is leaf `!c`; glassbox puts leaf `j` at node
//! `num_leaves - 1 + j`. Leaf values already include the learning rate (`shrinkage` is
//! informational) and the initial score (`boost_from_average` folds it into the first tree), so
//! the base score is 0.
//!
//! # Decision rules (LightGBM's `Tree::NumericalDecision` / `CategoricalDecision`)
//! `decision_type` packs bit 0 = categorical, bit 1 = default left, bits 2–3 = missing type.
//! - Numeric, missing type *None* (0): `NaN` is replaced by `0.0`, then `x <= t` →
//!   [`Node::NAN_AS_ZERO`].
//! - Numeric, missing type *Zero* (1): `NaN` becomes `0.0` and `|x| <= 1e-35f` follows the
//!   default direction → [`Node::ZERO_AS_MISSING`] (NaN then follows the default directly, the
//!   same result).
//! - Numeric, missing type *NaN* (2): `NaN` follows the default direction; `0.0` is an ordinary
//!   value.
//! - `x <= t` is stored as `x < next_up(t)`: the same test for every `f64`. LightGBM compares in
//!   `f64`, so [`TreeEnsemble::f32_inputs`] is off.
//! - Categorical: `NaN` and negative values go right; otherwise the integer code is looked up in
//!   the node's bitset (`cat_threshold[cat_boundaries[k]..cat_boundaries[k+1]]`, 32-bit words,
//!   `k = threshold`) and members go **left** → [`Node::CATEGORICAL`] | [`Node::CATEGORY_LEFT`]
//!   with default right. LightGBM truncates a fractional code (2.7 → 2) where glassbox treats it
//!   as no member; glassbox's data layer refuses fractional category codes, so this never shows.
//!
//! # Cover
//! Node covers are the row counts (`leaf_count` / `internal_count`), not the hessian sums
//! (`leaf_weight`): LightGBM's own `pred_contrib` weighs by counts (its base values in the
//! fixtures equal the count-weighted mean of the leaves, and differ from the weight-weighted one).
//!
//! # Objectives
//! `binary` / `cross_entropy` → logistic link (only with `sigmoid:1`: another sigmoid scales the
//! margin inside the link, which glassbox's [`Link`] cannot express, so it is refused rather than
//! mispredicted — the raw scores would still be right). `multiclass` → softmax;
//! `multiclassova` → a logistic link per class (LightGBM's own prediction, not renormalised).
//! The regression family (`regression`, `regression_l1`, `huber`, `fair`, `quantile`, `mape`) and
//! custom objectives → identity. Log-link objectives (`poisson`, `gamma`, `tweedie`) → exp link
//! (prediction = e^raw). `reg_sqrt`, ranking and `cross_entropy_lambda` are refused. Linear trees (`linear_tree=true`) are refused.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::str::FromStr;

use super::{
    check_unique_names, corrupt, next_up, output_names, unsupported, validated, ImportError,
    ImportResult,
};
use crate::data::{Feature, FeatureKind, FeatureSchema};
use crate::model::{EnsembleSource, Link, Node, Result, Tree, TreeEnsemble};

/// Reads a LightGBM text model (`text` is the content of the file at `path`, which only labels
/// errors).
///
/// # Errors
/// [`ModelError::Unsupported`](crate::model::ModelError::Unsupported) for an objective or feature
/// glassbox cannot represent exactly (see the module docs) or an unknown format version;
/// [`ModelError::Corrupt`](crate::model::ModelError::Corrupt) for a truncated file, a malformed
/// line or an inconsistent tree, naming the line, tree and node.
pub fn from_text(path: &Path, text: &str) -> Result<TreeEnsemble> {
    parse(text).map_err(|e| e.into_model_error(path))
}

/// `key=value` lines with their 1-based line numbers.
#[derive(Default)]
struct Fields<'a> {
    map: HashMap<&'a str, (&'a str, usize)>,
}

impl<'a> Fields<'a> {
    fn get(&self, key: &str) -> Option<(&'a str, usize)> {
        self.map.get(key).copied()
    }

    fn require(&self, key: &str, within: &str) -> ImportResult<(&'a str, usize)> {
        match self.get(key) {
            Some(v) => Ok(v),
            None => corrupt!("{within} has no '{key}=' line"),
        }
    }

    fn scalar<T: FromStr>(&self, key: &str, within: &str) -> ImportResult<T> {
        let (v, line) = self.require(key, within)?;
        match v.trim().parse::<T>() {
            Ok(x) => Ok(x),
            Err(_) => corrupt!("line {line}: '{key}={v}' is not a valid {}", kind_of::<T>()),
        }
    }

    /// A whitespace-separated list that must have `len` entries.
    fn list<T: FromStr>(&self, key: &str, len: usize, within: &str) -> ImportResult<Vec<T>> {
        let (v, line) = self.require(key, within)?;
        let out = parse_list::<T>(v, key, line)?;
        if out.len() != len {
            corrupt!(
                "{within}, line {line}: '{key}' has {} values, expected {len}",
                out.len()
            );
        }
        Ok(out)
    }
}

fn kind_of<T>() -> &'static str {
    let name = std::any::type_name::<T>();
    if name.starts_with('f') {
        "number"
    } else {
        "integer"
    }
}

fn parse_list<T: FromStr>(v: &str, key: &str, line: usize) -> ImportResult<Vec<T>> {
    v.split_whitespace()
        .enumerate()
        .map(|(i, tok)| match tok.parse::<T>() {
            Ok(x) => Ok(x),
            Err(_) => corrupt!(
                "line {line}: '{key}' entry {i} '{tok}' is not a valid {}",
                kind_of::<T>()
            ),
        })
        .collect()
}

fn parse(text: &str) -> ImportResult<TreeEnsemble> {
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let mut pos = 0;
    while pos < lines.len() && lines[pos].trim().is_empty() {
        pos += 1;
    }
    if lines.get(pos).map(|l| l.trim()) != Some("tree") {
        corrupt!("line {}: expected the header line 'tree'", pos + 1);
    }
    pos += 1;

    // ---- header ----
    let mut header = Fields::default();
    let mut average_output = false;
    while pos < lines.len() {
        let l = lines[pos].trim();
        if l.starts_with("Tree=") || l == "end of trees" {
            break;
        }
        if let Some((k, v)) = l.split_once('=') {
            header.map.insert(k, (v, pos + 1));
        } else if l == "average_output" {
            average_output = true;
        }
        pos += 1;
    }
    let (version, vline) = header.require("version", "the header")?;
    if !matches!(version, "v2" | "v3" | "v4") {
        unsupported!("line {vline}: LightGBM model format version '{version}' is unknown; glassbox reads v2 to v4 (LightGBM 2.x to 4.x)");
    }
    let num_class: usize = header.scalar("num_class", "the header")?;
    let k: usize = header.scalar("num_tree_per_iteration", "the header")?;
    let max_feature_idx: usize = header.scalar("max_feature_idx", "the header")?;
    if k == 0 || num_class == 0 || k > 1 << 16 || max_feature_idx >= 1 << 24 {
        corrupt!("implausible header: num_class={num_class}, num_tree_per_iteration={k}, max_feature_idx={max_feature_idx}");
    }
    let n_features = max_feature_idx + 1;
    let (link, prefix) = objective(header.get("objective"), num_class, k)?;

    // ---- trees ----
    let mut blocks: Vec<(usize, Fields)> = Vec::new();
    let mut ended = false;
    while pos < lines.len() {
        let l = lines[pos].trim();
        if l.is_empty() {
            pos += 1;
            continue;
        }
        if l == "end of trees" {
            ended = true;
            pos += 1;
            break;
        }
        let Some(idx) = l.strip_prefix("Tree=") else {
            corrupt!(
                "line {}: expected 'Tree=<index>' or 'end of trees', found '{}'",
                pos + 1,
                shorten(l)
            );
        };
        let start = pos + 1;
        if idx.trim().parse::<usize>().ok() != Some(blocks.len()) {
            corrupt!(
                "line {start}: expected 'Tree={}', found '{}'",
                blocks.len(),
                shorten(l)
            );
        }
        pos += 1;
        let mut fields = Fields::default();
        while pos < lines.len() {
            let l = lines[pos].trim();
            if l.starts_with("Tree=") || l == "end of trees" {
                break;
            }
            if let Some((k, v)) = l.split_once('=') {
                fields.map.insert(k, (v, pos + 1));
            }
            pos += 1;
        }
        blocks.push((start, fields));
    }
    if !ended {
        corrupt!(
            "the file ends after {} tree(s) without the 'end of trees' line: it looks truncated",
            blocks.len()
        );
    }
    if let Some((sizes, line)) = header.get("tree_sizes") {
        let declared = sizes.split_whitespace().count();
        if declared != blocks.len() {
            corrupt!(
                "line {line}: tree_sizes lists {declared} trees but {} are present",
                blocks.len()
            );
        }
    }
    if blocks.len() % k != 0 {
        corrupt!(
            "{} trees is not a multiple of num_tree_per_iteration={k}",
            blocks.len()
        );
    }
    let n_iter = blocks.len() / k;
    let scale = if average_output && n_iter > 0 {
        1.0 / n_iter as f64
    } else {
        1.0
    };

    let mut trees = Vec::with_capacity(blocks.len());
    let mut categorical_used = vec![false; n_features];
    for (t, (line, fields)) in blocks.iter().enumerate() {
        let tree = parse_tree(fields, t, *line, scale, n_features)?;
        for node in &tree.nodes {
            if node.flags & Node::CATEGORICAL != 0 && (node.feature as usize) < n_features {
                categorical_used[node.feature as usize] = true;
            }
        }
        trees.push(tree);
    }

    let schema = schema(
        &header,
        &lines[pos.min(lines.len())..],
        n_features,
        &categorical_used,
    )?;
    validated(TreeEnsemble {
        schema,
        target: None,
        tree_output: (0..trees.len()).map(|t| (t % k) as u32).collect(),
        trees,
        base_score: vec![0.0; k],
        link,
        output_names: output_names(k, prefix),
        f32_inputs: false,
        source: EnsembleSource::LightGbm {
            version: version.to_string(),
        },
    })
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s.to_string()
    }
}

/// The link and output-name prefix of the `objective=` line (absent for custom objectives).
fn objective(
    line: Option<(&str, usize)>,
    num_class: usize,
    k: usize,
) -> ImportResult<(Link, &'static str)> {
    let Some((text, lno)) = line else {
        return Ok((Link::Identity, "output"));
    };
    let mut tokens = text.split_whitespace();
    let name = tokens.next().unwrap_or("custom");
    let params: HashMap<&str, &str> = tokens.filter_map(|t| t.split_once(':')).collect();
    let has_sqrt = text.split_whitespace().any(|t| t == "sqrt");
    let sigmoid_is_one = || -> ImportResult<()> {
        match params.get("sigmoid") {
            None => Ok(()),
            Some(s) if s.parse::<f64>().ok() == Some(1.0) => Ok(()),
            Some(s) => unsupported!("line {lno}: objective '{name}' with sigmoid:{s}: LightGBM's probability is 1/(1+exp(-{s}·margin)), which glassbox's logistic link cannot express; retrain with sigmoid=1 (raw scores would import fine but probabilities would be wrong)"),
        }
    };
    let single = |what: &str| -> ImportResult<()> {
        if k != 1 {
            corrupt!(
                "line {lno}: objective '{what}' has one output but num_tree_per_iteration is {k}"
            );
        }
        Ok(())
    };
    match name {
        "binary" => {
            single(name)?;
            sigmoid_is_one()?;
            Ok((Link::Logistic, "output"))
        }
        "cross_entropy" | "xentropy" => {
            single(name)?;
            Ok((Link::Logistic, "output"))
        }
        "multiclass" | "softmax" | "multiclassova" | "multiclass_ova" | "ova" | "ovr" => {
            if num_class < 2 || num_class != k {
                corrupt!("line {lno}: objective '{name}' with num_class={num_class} but num_tree_per_iteration={k}");
            }
            if matches!(name, "multiclassova" | "multiclass_ova" | "ova" | "ovr") {
                sigmoid_is_one()?;
                Ok((Link::Logistic, "class"))
            } else {
                Ok((Link::Softmax, "class"))
            }
        }
        "regression" | "regression_l2" | "l2" | "mean_squared_error" | "mse" | "regression_l1"
        | "l1" | "mean_absolute_error" | "mae" | "huber" | "fair" | "quantile" | "mape"
        | "mean_absolute_percentage_error" => {
            if has_sqrt {
                unsupported!("line {lno}: objective '{name}' with reg_sqrt: LightGBM squares the raw score to predict, which glassbox's links cannot express");
            }
            single(name)?;
            Ok((Link::Identity, "output"))
        }
        "custom" | "none" => Ok((Link::Identity, "output")),
        "poisson" | "gamma" | "tweedie" => {
            single(name)?;
            Ok((Link::Exp, "output"))
        }
        _ => unsupported!("line {lno}: objective '{name}' is not supported (supported: binary, cross_entropy, multiclass, multiclassova, regression, regression_l1, huber, fair, quantile, mape, poisson, gamma, tweedie)"),
    }
}

/// One `Tree=` block, `t` its index and `line` the line of its `Tree=`.
fn parse_tree(
    f: &Fields,
    t: usize,
    line: usize,
    scale: f64,
    n_features: usize,
) -> ImportResult<Tree> {
    let within = format!("tree {t} (line {line})");
    let w = within.as_str();
    let in_tree = |e: ImportError| match e {
        ImportError::Corrupt(m) if !m.starts_with("tree ") => {
            ImportError::Corrupt(format!("tree {t}: {m}"))
        }
        other => other,
    };
    if let Some((v, lno)) = f.get("is_linear") {
        if v.trim() != "0" {
            unsupported!("tree {t}, line {lno}: linear trees (linear_tree=true) are not supported");
        }
    }
    let num_leaves: usize = f.scalar("num_leaves", w).map_err(in_tree)?;
    if num_leaves == 0 || num_leaves > 1 << 24 {
        corrupt!("{w}: num_leaves={num_leaves} is not plausible");
    }
    let leaf_value: Vec<f64> = f.list("leaf_value", num_leaves, w).map_err(in_tree)?;
    for (j, v) in leaf_value.iter().enumerate() {
        if !v.is_finite() {
            corrupt!("{w}: leaf {j} has a non-finite value {v}");
        }
    }
    let leaf_count: Vec<f64> = match f.get("leaf_count") {
        Some((v, _)) if num_leaves == 1 && v.trim().is_empty() => vec![1.0],
        _ => f.list("leaf_count", num_leaves, w).map_err(in_tree)?,
    };
    if num_leaves == 1 {
        return Ok(Tree {
            nodes: vec![Node::leaf(leaf_value[0] * scale, leaf_count[0])],
            category_words: Vec::new(),
        });
    }
    let n_int = num_leaves - 1;
    let split_feature: Vec<i64> = f.list("split_feature", n_int, w).map_err(in_tree)?;
    let threshold: Vec<f64> = f.list("threshold", n_int, w).map_err(in_tree)?;
    let decision_type: Vec<i64> = f.list("decision_type", n_int, w).map_err(in_tree)?;
    let left_child: Vec<i64> = f.list("left_child", n_int, w).map_err(in_tree)?;
    let right_child: Vec<i64> = f.list("right_child", n_int, w).map_err(in_tree)?;
    let internal_count: Vec<f64> = f.list("internal_count", n_int, w).map_err(in_tree)?;
    let num_cat: usize = match f.get("num_cat") {
        Some(_) => f.scalar("num_cat", w).map_err(in_tree)?,
        None => 0,
    };
    let (cat_boundaries, cat_threshold): (Vec<usize>, Vec<u32>) = if num_cat > 0 {
        let b: Vec<usize> = f.list("cat_boundaries", num_cat + 1, w).map_err(in_tree)?;
        let (tv, tl) = f.require("cat_threshold", w)?;
        let th: Vec<u32> = parse_list(tv, "cat_threshold", tl).map_err(in_tree)?;
        if b[0] != 0 || b.windows(2).any(|p| p[0] > p[1]) || b[num_cat] != th.len() {
            corrupt!(
                "{w}: cat_boundaries {b:?} do not split the {} cat_threshold words",
                th.len()
            );
        }
        (b, th)
    } else {
        (Vec::new(), Vec::new())
    };

    let child = |c: i64, i: usize, side: &str| -> ImportResult<u32> {
        if c >= 0 {
            if c as usize >= n_int {
                corrupt!("tree {t}: node {i} has {side} child {c} but the tree has {n_int} internal nodes");
            }
            Ok(c as u32)
        } else {
            let leaf = !c; // c = ~leaf
            if leaf as usize >= num_leaves {
                corrupt!("tree {t}: node {i} has {side} child {c} (leaf {leaf}) but the tree has {num_leaves} leaves");
            }
            Ok((n_int + leaf as usize) as u32)
        }
    };

    let mut tree = Tree {
        nodes: Vec::with_capacity(n_int + num_leaves),
        category_words: Vec::new(),
    };
    for i in 0..n_int {
        let (l, r) = (
            child(left_child[i], i, "left")?,
            child(right_child[i], i, "right")?,
        );
        let feature = split_feature[i];
        if feature < 0 || feature as usize >= n_features {
            corrupt!("tree {t}: node {i} splits on feature index {feature} but the model has {n_features} features (max_feature_idx={})", n_features - 1);
        }
        let dt = decision_type[i];
        if !(0..16).contains(&dt) {
            corrupt!("tree {t}: node {i} has decision_type {dt}, outside 0..15");
        }
        let cover = internal_count[i];
        let node = if dt & 1 != 0 {
            let k = threshold[i];
            if !(k >= 0.0 && k.fract() == 0.0 && (k as usize) < num_cat) {
                corrupt!("tree {t}: categorical node {i} refers to category set {k} but the tree has {num_cat}");
            }
            let k = k as usize;
            let words32 = &cat_threshold[cat_boundaries[k]..cat_boundaries[k + 1]];
            let start = tree.category_words.len();
            for pair in words32.chunks(2) {
                let lo = pair[0] as u64;
                let hi = pair.get(1).map_or(0, |&h| h as u64);
                tree.category_words.push(lo | (hi << 32));
            }
            let mut node = Node::numeric_split(feature as u32, 0.0, l, r, false, cover);
            // Members go left; NaN and negative codes are never members and go right.
            node.flags = Node::CATEGORICAL | Node::CATEGORY_LEFT;
            node.cat_start = start as u32;
            node.cat_len = (tree.category_words.len() - start) as u32;
            node
        } else {
            let th = threshold[i];
            if th.is_nan() {
                corrupt!("tree {t}: node {i} has a NaN threshold");
            }
            let mut node =
                Node::numeric_split(feature as u32, next_up(th), l, r, dt & 2 != 0, cover);
            match (dt >> 2) & 3 {
                0 => node.flags |= Node::NAN_AS_ZERO,
                1 => node.flags |= Node::ZERO_AS_MISSING,
                2 => {}
                m => corrupt!("tree {t}: node {i} has missing type {m} (decision_type {dt}); LightGBM knows 0 None, 1 Zero, 2 NaN"),
            }
            node
        };
        tree.nodes.push(node);
    }
    for (v, c) in leaf_value.iter().zip(&leaf_count) {
        tree.nodes.push(Node::leaf(v * scale, *c));
    }
    Ok(tree)
}

/// Names from `feature_names`; a feature is a category code when `feature_infos` lists its
/// categories (not a `[min:max]` range), when the training parameters name it in
/// `categorical_feature`, or when a categorical split uses it.
fn schema(
    header: &Fields,
    after_trees: &[&str],
    n_features: usize,
    categorical_used: &[bool],
) -> ImportResult<FeatureSchema> {
    let (names_text, nline) = header.require("feature_names", "the header")?;
    let names: Vec<String> = names_text.split_whitespace().map(str::to_string).collect();
    if names.len() != n_features {
        corrupt!("line {nline}: feature_names has {} names but max_feature_idx={} means {n_features} features", names.len(), n_features - 1);
    }
    check_unique_names(&names)?;
    let mut categorical = categorical_used.to_vec();
    if let Some((infos, iline)) = header.get("feature_infos") {
        let infos: Vec<&str> = infos.split_whitespace().collect();
        if infos.len() != n_features {
            corrupt!(
                "line {iline}: feature_infos has {} entries but there are {n_features} features",
                infos.len()
            );
        }
        for (j, info) in infos.iter().enumerate() {
            if !info.starts_with('[') && *info != "none" {
                categorical[j] = true;
            }
        }
    }
    let declared = after_trees
        .iter()
        .find_map(|l| l.trim().strip_prefix("[categorical_feature:"))
        .map(|s| s.trim().trim_end_matches(']').trim());
    if let Some(list) = declared {
        if let Some(by_name) = list.strip_prefix("name:") {
            let wanted: HashSet<&str> = by_name.split(',').map(str::trim).collect();
            for (j, name) in names.iter().enumerate() {
                if wanted.contains(name.as_str()) {
                    categorical[j] = true;
                }
            }
        } else {
            // Indices; entries that are not indices of this model are ignored (the parameter is
            // a training input, already checked by LightGBM; the trees are authoritative).
            for tok in list.split(',') {
                if let Ok(j) = tok.trim().parse::<usize>() {
                    if j < n_features {
                        categorical[j] = true;
                    }
                }
            }
        }
    }
    let features = names
        .into_iter()
        .zip(categorical)
        .map(|(name, cat)| Feature {
            name,
            kind: if cat {
                FeatureKind::CategoryCode
            } else {
                FeatureKind::Numeric
            },
        })
        .collect();
    Ok(FeatureSchema::new(features))
}
