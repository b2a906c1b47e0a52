//! XGBoost JSON models (`Booster.save_model("model.json")`, XGBoost 1.0 to 3.x).
//!
//! # What is read, and why each convention
//! - **Splits**: XGBoost sends `x < split_condition` left and compares in `f32`. Thresholds are
//!   stored as `f32` values (widened to `f64`) and the ensemble sets
//!   [`f32_inputs`](crate::model::TreeEnsemble::f32_inputs), so inputs are rounded the same way;
//!   the comparison is then bit-for-bit XGBoost's.
//! - **Missing values** follow `default_left`.
//! - **Categorical splits** (`split_type` 1): the node's `categories` are the levels sent
//!   *right*; everything else — other levels, negative or out-of-range codes — goes left, as in
//!   XGBoost's `Decision` (checked on the `xgb_german_categorical` fixture). The node therefore
//!   gets [`Node::CATEGORICAL`] without [`Node::CATEGORY_LEFT`].
//! - **Leaf values** are `split_conditions` at leaves (learning rate applied); `base_weights` are
//!   the unshrunk weights and are not used. Dart models multiply each tree's leaves by its
//!   `weight_drop`, as XGBoost's inference does.
//! - **Cover** is `sum_hessian`, which XGBoost's own Tree SHAP weighs by (the base values of the
//!   fixtures' `pred_contribs` match a hessian-weighted mean of the leaves, not a row count).
//! - **Base score**: `learner_model_param.base_score` is a string, `"5E-1"` (1.x/2.x) or a list
//!   `"[3E-1]"`, one entry per output (3.x). It is on the probability scale for `binary:logistic`
//!   and `reg:logistic` (converted to the log-odds margin, `ln(p/(1−p))`), a mean for the log-link
//!   objectives `count:poisson`, `reg:gamma`, `reg:tweedie` (margin `ln(μ)`, prediction
//!   `exp(margin)`); for every other supported objective it is already a margin. XGBoost 3.2 adds `binary:logitraw`'s base score
//!   to the margin as it is (measured: margin − tree sum = 0.3 for `base_score=0.3`); older
//!   versions may have applied the logit — unverified, so such files may be off by a constant.
//!
//! # Rejected alternatives
//! Reading `Booster.get_dump()` text was rejected: it prints thresholds with limited precision and
//! has no cover for categorical nodes. UBJSON (`.ubj`) is not read; convert with
//! `Booster.save_model("model.json")`.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::{
    check_unique_names, corrupt, output_names, set_bit, unsupported, validated, ImportError,
    ImportResult,
};
use crate::data::{Feature, FeatureKind, FeatureSchema};
use crate::model::{EnsembleSource, Link, Node, Result, Tree, TreeEnsemble};

/// Largest category code accepted in a categorical split. XGBoost itself caps codes at 2^24 (the
/// largest integer a `f32` holds exactly); the cap also bounds the bitset a hostile file can make
/// glassbox allocate.
const MAX_CATEGORY: i64 = 1 << 24;

/// Bound on a tree's category bitsets (64-bit words, 32 MiB), so that a hostile file listing huge
/// codes in many nodes cannot exhaust memory.
const MAX_TREE_WORDS: usize = 1 << 22;

/// Reads an XGBoost JSON model (the parsed content of the file at `path`, which only labels
/// errors).
///
/// Supported: `gbtree` and `dart` boosters; objectives `binary:logistic`, `binary:logitraw`,
/// `reg:logistic` (logistic link), `reg:squarederror`, `reg:linear`, `reg:squaredlogerror`,
/// `reg:pseudohubererror`, `reg:absoluteerror`, `reg:quantileerror` (identity link),
/// `count:poisson`, `reg:gamma`, `reg:tweedie` (exp link), `multi:softprob`, `multi:softmax`
/// (softmax link); several targets with one output per tree.
///
/// # Errors
/// [`ModelError::Unsupported`](crate::model::ModelError::Unsupported) for a `gblinear` booster, a
/// link glassbox lacks (survival, ranking), multi-output trees or a format
/// version other than 1.x–3.x; [`ModelError::Corrupt`](crate::model::ModelError::Corrupt) for a
/// missing or mistyped field or an inconsistent tree, naming the field, tree and node.
pub fn from_json(path: &Path, value: &Value) -> Result<TreeEnsemble> {
    parse(value).map_err(|e| e.into_model_error(path))
}

/// How the objective maps to glassbox: link, the scale `base_score` is stored on, multiclass.
struct Objective {
    link: Link,
    base: BaseScale,
    multiclass: bool,
}

/// The scale of `learner_model_param.base_score` for an objective.
#[derive(Clone, Copy)]
enum BaseScale {
    /// Already a margin.
    Margin,
    /// A probability: the margin is its log-odds.
    Probability,
    /// A positive mean (log-link objectives): the margin is its logarithm.
    Mean,
}

fn objective(name: &str) -> ImportResult<Objective> {
    use BaseScale::{Margin, Mean, Probability};
    let o = |link, base, multiclass| {
        Ok(Objective {
            link,
            base,
            multiclass,
        })
    };
    match name {
        "binary:logistic" | "reg:logistic" => o(Link::Logistic, Probability, false),
        // The margin is log-odds as for binary:logistic (XGBoost just skips the sigmoid in
        // `predict`), so probability-space explanations stay meaningful.
        "binary:logitraw" => o(Link::Logistic, Margin, false),
        "reg:squarederror"
        | "reg:linear"
        | "reg:squaredlogerror"
        | "reg:pseudohubererror"
        | "reg:absoluteerror"
        | "reg:quantileerror" => o(Link::Identity, Margin, false),
        "multi:softprob" | "multi:softmax" => o(Link::Softmax, Margin, true),
        // Log-link objectives: prediction = exp(margin), base_score stored as a mean.
        "count:poisson" | "reg:gamma" | "reg:tweedie" => o(Link::Exp, Mean, false),
        _ => {
            unsupported!("objective '{name}' is not supported (supported: binary:logistic, binary:logitraw, reg:logistic, reg:squarederror and other identity-link reg: objectives, count:poisson, reg:gamma, reg:tweedie, multi:softprob, multi:softmax)")
        }
    }
}

fn parse(root: &Value) -> ImportResult<TreeEnsemble> {
    let version = version(root)?;
    let learner = get(root, "learner", "")?;
    let lmp = get(learner, "learner_model_param", "learner")?;
    let at_lmp = "learner.learner_model_param";
    let n_features = usize_param(
        get(lmp, "num_feature", at_lmp)?,
        "learner_model_param.num_feature",
    )?;
    let num_class = match lmp.get("num_class") {
        Some(v) => usize_param(v, "learner_model_param.num_class")?,
        None => 0,
    };
    let num_target = match lmp.get("num_target") {
        Some(v) => usize_param(v, "learner_model_param.num_target")?,
        None => 1,
    };
    let obj_name = as_str(
        get(
            get(learner, "objective", "learner")?,
            "name",
            "learner.objective",
        )?,
        "learner.objective.name",
    )?;
    let obj = objective(obj_name)?;
    let (n_outputs, prefix) = if obj.multiclass {
        if num_class < 2 {
            corrupt!("objective {obj_name} needs num_class >= 2 but learner_model_param.num_class is {num_class}");
        }
        (num_class, "class")
    } else if num_class > 1 {
        corrupt!("objective {obj_name} is not multiclass but learner_model_param.num_class is {num_class}");
    } else {
        (num_target.max(1), "output")
    };
    if n_outputs > 1 << 16 {
        corrupt!("{n_outputs} outputs is not plausible");
    }

    let base_score = base_score(get(lmp, "base_score", at_lmp)?, n_outputs, &obj)?;
    let mut schema = schema(learner, n_features)?;

    let gb = get(learner, "gradient_booster", "learner")?;
    let gb_name = as_str(
        get(gb, "name", "learner.gradient_booster")?,
        "learner.gradient_booster.name",
    )?;
    let (model, weight_drop) = match gb_name {
        "gbtree" => (get(gb, "model", "learner.gradient_booster")?, None),
        "dart" => {
            let inner = get(gb, "gbtree", "learner.gradient_booster")?;
            let model = get(inner, "model", "learner.gradient_booster.gbtree")?;
            let w = f64_list(get(gb, "weight_drop", "learner.gradient_booster")?, "learner.gradient_booster.weight_drop")?;
            (model, Some(w))
        }
        "gblinear" => unsupported!("gblinear (linear booster) models are not tree ensembles; glassbox imports gbtree and dart boosters only"),
        other => unsupported!("booster '{other}' is not supported (gbtree and dart are)"),
    };
    let at_model = "learner.gradient_booster.model";
    let trees_json = as_array(
        get(model, "trees", at_model)?,
        "gradient_booster.model.trees",
    )?;
    let tree_info = i64_list(
        get(model, "tree_info", at_model)?,
        "gradient_booster.model.tree_info",
    )?;
    if tree_info.len() != trees_json.len() {
        corrupt!(
            "gradient_booster.model.tree_info has {} entries but there are {} trees",
            tree_info.len(),
            trees_json.len()
        );
    }
    if let Some(num_trees) = model
        .get("gbtree_model_param")
        .and_then(|p| p.get("num_trees"))
    {
        let declared = usize_param(num_trees, "gbtree_model_param.num_trees")?;
        if declared != trees_json.len() {
            corrupt!("gbtree_model_param.num_trees says {declared} trees but {} are stored (is the file truncated?)", trees_json.len());
        }
    }
    if let Some(w) = &weight_drop {
        if w.len() != trees_json.len() {
            corrupt!(
                "dart weight_drop has {} weights but there are {} trees",
                w.len(),
                trees_json.len()
            );
        }
    }

    let mut trees = Vec::with_capacity(trees_json.len());
    let mut tree_output = Vec::with_capacity(trees_json.len());
    for (t, tj) in trees_json.iter().enumerate() {
        let scale = weight_drop.as_ref().map_or(1.0, |w| w[t]);
        let tree = parse_tree(tj, scale).map_err(|e| match e {
            ImportError::Corrupt(m) => ImportError::Corrupt(format!("tree {t}: {m}")),
            ImportError::Unsupported(m) => ImportError::Unsupported(format!("tree {t}: {m}")),
        })?;
        trees.push(tree);
        let k = tree_info[t];
        if k < 0 || k as usize >= n_outputs {
            corrupt!("tree {t}: tree_info assigns it to output {k} but the model has {n_outputs}");
        }
        tree_output.push(k as u32);
    }
    mark_categorical_splits(&mut schema, &trees);

    validated(TreeEnsemble {
        schema,
        target: None,
        trees,
        tree_output,
        base_score,
        link: obj.link,
        output_names: output_names(n_outputs, prefix),
        f32_inputs: true,
        source: EnsembleSource::XGBoost { version },
    })
}

/// The `version` triple; only major versions 1–3 are known.
fn version(root: &Value) -> ImportResult<String> {
    let v = i64_list(get(root, "version", "")?, "version")?;
    if v.is_empty() {
        corrupt!("'version' is an empty list");
    }
    let text = v
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(".");
    if !(1..=3).contains(&v[0]) {
        unsupported!("the file was written by XGBoost {text}; glassbox reads the JSON models of XGBoost 1.x to 3.x (a newer format may change meanings silently, so it is refused)");
    }
    Ok(text)
}

/// Parses `"5E-1"`, `"[3E-1]"` or `"[a,b,c]"` (or a bare number) into one margin per output.
fn base_score(v: &Value, n_outputs: usize, obj: &Objective) -> ImportResult<Vec<f64>> {
    let at = "learner_model_param.base_score";
    let raw: Vec<f64> = match v {
        Value::Number(n) => vec![n.as_f64().unwrap_or(f64::NAN)],
        Value::String(s) => {
            let inner = s.trim().trim_start_matches('[').trim_end_matches(']');
            let mut out = Vec::new();
            for part in inner.split(',') {
                match part.trim().parse::<f64>() {
                    Ok(x) => out.push(x),
                    Err(_) => corrupt!("{at}: '{s}' is not a number or a list of numbers"),
                }
            }
            out
        }
        other => corrupt!("{at}: expected a string, found {}", type_name(other)),
    };
    let mut values = match raw.len() {
        1 => vec![raw[0]; n_outputs],
        k if k == n_outputs => raw,
        k => corrupt!("{at} has {k} values but the model has {n_outputs} outputs"),
    };
    for b in values.iter_mut() {
        // XGBoost keeps the base score as f32.
        let p = *b as f32 as f64;
        if !p.is_finite() {
            corrupt!("{at} is not finite ({b})");
        }
        *b = match obj.base {
            BaseScale::Probability => {
                if !(p > 0.0 && p < 1.0) {
                    corrupt!(
                        "{at} must be a probability in (0, 1) for a logistic objective, found {p}"
                    );
                }
                (p / (1.0 - p)).ln()
            }
            BaseScale::Mean => {
                if p <= 0.0 {
                    corrupt!("{at} must be a positive mean for a log-link objective, found {p}");
                }
                p.ln()
            }
            BaseScale::Margin => p,
        };
    }
    Ok(values)
}

/// Feature names (`f0..` when absent, as XGBoost names them) and kinds (`"c"` = categorical).
fn schema(learner: &Value, n_features: usize) -> ImportResult<FeatureSchema> {
    let names = match learner.get("feature_names") {
        Some(v) if !is_empty_list(v) => {
            let names = string_list(v, "learner.feature_names")?;
            if names.len() != n_features {
                corrupt!(
                    "learner.feature_names has {} names but num_feature is {n_features}",
                    names.len()
                );
            }
            names
        }
        _ => (0..n_features).map(|j| format!("f{j}")).collect(),
    };
    check_unique_names(&names)?;
    let types = match learner.get("feature_types") {
        Some(v) if !is_empty_list(v) => {
            let types = string_list(v, "learner.feature_types")?;
            if types.len() != n_features {
                corrupt!(
                    "learner.feature_types has {} entries but num_feature is {n_features}",
                    types.len()
                );
            }
            types
        }
        _ => vec![String::new(); n_features],
    };
    let features = names
        .into_iter()
        .zip(types)
        .map(|(name, ty)| Feature {
            name,
            kind: if ty == "c" {
                FeatureKind::CategoryCode
            } else {
                FeatureKind::Numeric
            },
        })
        .collect();
    Ok(FeatureSchema::new(features))
}

/// A feature used in a categorical split takes category codes, even when `feature_types` is
/// absent (older files): the data layer must then refuse fractional or negative values.
fn mark_categorical_splits(schema: &mut FeatureSchema, trees: &[Tree]) {
    let mut features = schema.features().to_vec();
    let mut changed = false;
    for node in trees.iter().flat_map(|t| &t.nodes) {
        if node.flags & Node::CATEGORICAL != 0 {
            if let Some(f) = features.get_mut(node.feature as usize) {
                if !matches!(f.kind, FeatureKind::CategoryCode) {
                    f.kind = FeatureKind::CategoryCode;
                    changed = true;
                }
            }
        }
    }
    if changed {
        *schema = FeatureSchema::new(features);
    }
}

/// One tree. `scale` is the dart weight (1 for gbtree).
fn parse_tree(tj: &Value, scale: f64) -> ImportResult<Tree> {
    let param = get(tj, "tree_param", "tree")?;
    let n = usize_param(
        get(param, "num_nodes", "tree_param")?,
        "tree_param.num_nodes",
    )?;
    if n == 0 {
        corrupt!("tree_param.num_nodes is 0");
    }
    if let Some(s) = param.get("size_leaf_vector") {
        let s = usize_param(s, "tree_param.size_leaf_vector")?;
        if s > 1 {
            unsupported!("multi-output trees (size_leaf_vector = {s}, multi_strategy=multi_output_tree) are not supported; train with multi_strategy=one_output_per_tree");
        }
    }
    let num_deleted = match param.get("num_deleted") {
        Some(v) => usize_param(v, "tree_param.num_deleted")?,
        None => 0,
    };
    let sized = |key: &str| -> ImportResult<&Value> {
        let v = get(tj, key, "tree")?;
        match v.as_array() {
            Some(a) if a.len() == n => Ok(v),
            Some(a) => corrupt!("'{key}' has {} entries but num_nodes is {n}", a.len()),
            None => corrupt!("'{key}': expected a list, found {}", type_name(v)),
        }
    };
    let left = i64_list(sized("left_children")?, "left_children")?;
    let right = i64_list(sized("right_children")?, "right_children")?;
    let feature = i64_list(sized("split_indices")?, "split_indices")?;
    let cond = f64_list(sized("split_conditions")?, "split_conditions")?;
    let default_left = bool_list(sized("default_left")?, "default_left")?;
    let hess = f64_list(sized("sum_hessian")?, "sum_hessian")?;
    let split_type = match tj.get("split_type") {
        Some(_) => i64_list(sized("split_type")?, "split_type")?,
        None => vec![0; n],
    };
    let categories = categories(tj)?;

    let mut tree = Tree {
        nodes: Vec::with_capacity(n),
        category_words: Vec::new(),
    };
    for i in 0..n {
        let child = |c: i64, side: &str| -> ImportResult<u32> {
            if c == -1 {
                Ok(crate::model::tree::NO_CHILD)
            } else if c < 0 || c >= n as i64 {
                corrupt!("node {i} has {side} child {c} but the tree has {n} nodes")
            } else {
                Ok(c as u32)
            }
        };
        let (l, r) = (child(left[i], "left")?, child(right[i], "right")?);
        if (l == crate::model::tree::NO_CHILD) != (r == crate::model::tree::NO_CHILD) {
            corrupt!(
                "node {i} has one child only (left {}, right {})",
                left[i],
                right[i]
            );
        }
        if l == crate::model::tree::NO_CHILD {
            let value = (cond[i] as f32 as f64) * scale;
            if !value.is_finite() {
                corrupt!("leaf {i} has a non-finite value {}", cond[i]);
            }
            tree.nodes.push(Node::leaf(value, hess[i]));
            continue;
        }
        let f = feature[i];
        if f < 0 || f > u32::MAX as i64 {
            corrupt!("node {i} splits on feature index {f}");
        }
        match split_type[i] {
            0 => {
                if cond[i].is_nan() {
                    corrupt!("node {i} has a NaN threshold");
                }
                let t = cond[i] as f32 as f64;
                tree.nodes.push(Node::numeric_split(
                    f as u32,
                    t,
                    l,
                    r,
                    default_left[i],
                    hess[i],
                ));
            }
            1 => {
                let Some(cats) = categories.get(&i) else {
                    corrupt!(
                        "node {i} is a categorical split but categories_nodes does not list it"
                    );
                };
                let start = tree.category_words.len();
                let mut words = Vec::new();
                for &c in cats {
                    if !(0..MAX_CATEGORY).contains(&c) {
                        corrupt!("node {i} lists category {c}, outside 0..{MAX_CATEGORY}");
                    }
                    set_bit(&mut words, c as usize);
                }
                if tree.category_words.len() + words.len() > MAX_TREE_WORDS {
                    corrupt!("node {i}: the tree's category sets exceed {MAX_TREE_WORDS} words");
                }
                let mut node = Node::numeric_split(f as u32, 0.0, l, r, default_left[i], hess[i]);
                // Listed categories go right: CATEGORY_LEFT stays unset.
                node.flags |= Node::CATEGORICAL;
                node.cat_start = start as u32;
                node.cat_len = words.len() as u32;
                tree.category_words.extend(words);
                tree.nodes.push(node);
            }
            s => corrupt!("node {i} has split_type {s} (expected 0 numeric or 1 categorical)"),
        }
    }
    if num_deleted > 0 {
        drop_unreachable(&mut tree);
    }
    Ok(tree)
}

/// The category set of each categorical node: `categories_nodes[k]` owns
/// `categories[categories_segments[k] .. + categories_sizes[k]]`.
fn categories(tj: &Value) -> ImportResult<HashMap<usize, Vec<i64>>> {
    let list = |key: &str| -> ImportResult<Vec<i64>> {
        match tj.get(key) {
            Some(v) => i64_list(v, key),
            None => Ok(Vec::new()),
        }
    };
    let cats = list("categories")?;
    let nodes = list("categories_nodes")?;
    let segments = list("categories_segments")?;
    let sizes = list("categories_sizes")?;
    if nodes.len() != segments.len() || nodes.len() != sizes.len() {
        corrupt!(
            "categories_nodes, categories_segments and categories_sizes differ in length ({}, {}, {})",
            nodes.len(),
            segments.len(),
            sizes.len()
        );
    }
    let mut out = HashMap::new();
    for k in 0..nodes.len() {
        let (start, size) = (segments[k], sizes[k]);
        let end = start.checked_add(size).unwrap_or(i64::MAX);
        if start < 0 || size < 0 || end as u64 > cats.len() as u64 || nodes[k] < 0 {
            corrupt!("categorical node entry {k} (node {}) points outside 'categories' (segment {start}, size {size}, {} categories)", nodes[k], cats.len());
        }
        out.insert(
            nodes[k] as usize,
            cats[start as usize..end as usize].to_vec(),
        );
    }
    Ok(out)
}

/// Removes nodes not reachable from the root (XGBoost's deleted nodes) and renumbers the rest.
/// A cycle or shared child is left in place for [`Tree::validate`] to report.
fn drop_unreachable(tree: &mut Tree) {
    let n = tree.nodes.len();
    let mut new_index = vec![u32::MAX; n];
    let mut order = Vec::new();
    let mut stack = vec![0usize];
    while let Some(i) = stack.pop() {
        if i >= n || new_index[i] != u32::MAX {
            return; // malformed: let validate() name the problem
        }
        new_index[i] = order.len() as u32;
        order.push(i);
        let node = tree.nodes[i];
        if !node.is_leaf() {
            stack.push(node.right as usize);
            stack.push(node.left as usize);
        }
    }
    let nodes = order
        .iter()
        .map(|&i| {
            let mut node = tree.nodes[i];
            if !node.is_leaf() {
                node.left = new_index[node.left as usize];
                node.right = new_index[node.right as usize];
            }
            node
        })
        .collect();
    tree.nodes = nodes;
}

// ---- JSON access with locations in the messages ----

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A value for an error message: scalars as written (shortened), containers by kind.
fn describe(v: &Value) -> String {
    match v {
        Value::Array(_) | Value::Object(_) => type_name(v).to_string(),
        _ => {
            let text = v.to_string();
            if text.chars().count() > 40 {
                format!("{}…", text.chars().take(40).collect::<String>())
            } else {
                text
            }
        }
    }
}

fn get<'v>(obj: &'v Value, key: &str, at: &str) -> ImportResult<&'v Value> {
    let within = if at.is_empty() {
        "the top level".to_string()
    } else {
        format!("'{at}'")
    };
    match obj {
        Value::Object(map) => match map.get(key) {
            Some(v) => Ok(v),
            None => corrupt!("no '{key}' field in {within}"),
        },
        other => corrupt!("{within} should be an object but is {}", type_name(other)),
    }
}

fn as_str<'v>(v: &'v Value, at: &str) -> ImportResult<&'v str> {
    match v {
        Value::String(s) => Ok(s),
        other => corrupt!("'{at}': expected a string, found {}", type_name(other)),
    }
}

fn as_array<'v>(v: &'v Value, at: &str) -> ImportResult<&'v Vec<Value>> {
    match v {
        Value::Array(a) => Ok(a),
        other => corrupt!("'{at}': expected a list, found {}", type_name(other)),
    }
}

fn is_empty_list(v: &Value) -> bool {
    matches!(v, Value::Array(a) if a.is_empty())
}

/// A non-negative integer written as a string (`"61"`, XGBoost's habit) or a number.
fn usize_param(v: &Value, at: &str) -> ImportResult<usize> {
    let parsed = match v {
        Value::String(s) => s.trim().parse::<u64>().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    };
    match parsed {
        Some(x) if x <= u32::MAX as u64 => Ok(x as usize),
        _ => corrupt!(
            "'{at}': expected a non-negative integer, found {}",
            describe(v)
        ),
    }
}

fn i64_list(v: &Value, at: &str) -> ImportResult<Vec<i64>> {
    let a = as_array(v, at)?;
    a.iter()
        .enumerate()
        .map(|(i, x)| match x.as_i64() {
            Some(k) => Ok(k),
            None => corrupt!("'{at}'[{i}]: expected an integer, found {}", describe(x)),
        })
        .collect()
}

fn f64_list(v: &Value, at: &str) -> ImportResult<Vec<f64>> {
    let a = as_array(v, at)?;
    a.iter()
        .enumerate()
        .map(|(i, x)| match x.as_f64() {
            Some(k) => Ok(k),
            None => corrupt!("'{at}'[{i}]: expected a number, found {}", describe(x)),
        })
        .collect()
}

/// 0/1 integers (JSON) or booleans (some converters).
fn bool_list(v: &Value, at: &str) -> ImportResult<Vec<bool>> {
    let a = as_array(v, at)?;
    a.iter()
        .enumerate()
        .map(|(i, x)| match x {
            Value::Bool(b) => Ok(*b),
            Value::Number(n) if n.as_i64() == Some(0) => Ok(false),
            Value::Number(n) if n.as_i64() == Some(1) => Ok(true),
            other => corrupt!("'{at}'[{i}]: expected 0 or 1, found {}", describe(other)),
        })
        .collect()
}

fn string_list(v: &Value, at: &str) -> ImportResult<Vec<String>> {
    let a = as_array(v, at)?;
    a.iter()
        .enumerate()
        .map(|(i, x)| match x {
            Value::String(s) => Ok(s.clone()),
            other => corrupt!("'{at}'[{i}]: expected a string, found {}", type_name(other)),
        })
        .collect()
}
