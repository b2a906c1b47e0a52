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

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::json::{Element, List, Obj, ObjList, Scalar};
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
/// errors; see [`Document`]).
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
pub(crate) fn from_document(path: &Path, doc: &Document) -> Result<TreeEnsemble> {
    parse(doc).map_err(|e| e.into_model_error(path))
}

/// An XGBoost JSON model file as deserialised in one pass, straight into the fields glassbox reads
/// (everything else is skipped unparsed); wrong types are kept for the messages (see
/// [`super::json`]).
///
/// `format` is glassbox's own tag: it is read in the same pass so that
/// [`AnyModel::load`](crate::model::AnyModel::load) tells glassbox files from XGBoost files
/// without parsing either twice.
#[derive(Deserialize)]
pub(crate) struct Document<'a> {
    #[serde(default, borrow)]
    format: Scalar<'a>,
    #[serde(default)]
    version: List<i64>,
    #[serde(default, borrow)]
    learner: Obj<Learner<'a>>,
}

impl Document<'_> {
    /// The top-level `format` string (glassbox model files have one).
    pub(crate) fn format(&self) -> Option<&str> {
        self.format.as_str()
    }

    /// True when the file has a `learner` (of any type): an XGBoost model, or a broken one.
    pub(crate) fn has_learner(&self) -> bool {
        !matches!(self.learner, Obj::Missing)
    }
}

#[derive(Deserialize)]
struct Learner<'a> {
    #[serde(default, borrow)]
    learner_model_param: Obj<ModelParam<'a>>,
    #[serde(default, borrow)]
    objective: Obj<ObjectiveJson<'a>>,
    #[serde(default, borrow)]
    gradient_booster: Obj<Booster<'a>>,
    #[serde(default, borrow)]
    feature_names: List<Cow<'a, str>>,
    #[serde(default, borrow)]
    feature_types: List<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ModelParam<'a> {
    #[serde(default, borrow)]
    num_feature: Scalar<'a>,
    #[serde(default, borrow)]
    num_class: Scalar<'a>,
    #[serde(default, borrow)]
    num_target: Scalar<'a>,
    #[serde(default, borrow)]
    base_score: Scalar<'a>,
}

#[derive(Deserialize)]
struct ObjectiveJson<'a> {
    #[serde(default, borrow)]
    name: Scalar<'a>,
}

/// `gradient_booster`: `model` for gbtree; `gbtree.model` and `weight_drop` for dart.
#[derive(Deserialize)]
struct Booster<'a> {
    #[serde(default, borrow)]
    name: Scalar<'a>,
    #[serde(default, borrow)]
    model: Obj<Trees<'a>>,
    #[serde(default, borrow)]
    gbtree: Obj<DartInner<'a>>,
    #[serde(default)]
    weight_drop: List<f64>,
}

#[derive(Deserialize)]
struct DartInner<'a> {
    #[serde(default, borrow)]
    model: Obj<Trees<'a>>,
}

#[derive(Deserialize)]
struct Trees<'a> {
    #[serde(default, borrow)]
    trees: ObjList<TreeJson<'a>>,
    #[serde(default)]
    tree_info: List<i64>,
    #[serde(default, borrow)]
    gbtree_model_param: Obj<TreesParam<'a>>,
}

#[derive(Deserialize)]
struct TreesParam<'a> {
    #[serde(default, borrow)]
    num_trees: Scalar<'a>,
}

#[derive(Deserialize)]
struct TreeJson<'a> {
    #[serde(default, borrow)]
    tree_param: Obj<TreeParam<'a>>,
    #[serde(default)]
    left_children: List<i64>,
    #[serde(default)]
    right_children: List<i64>,
    #[serde(default)]
    split_indices: List<i64>,
    #[serde(default)]
    split_conditions: List<f64>,
    #[serde(default)]
    default_left: List<bool>,
    #[serde(default)]
    sum_hessian: List<f64>,
    #[serde(default)]
    split_type: List<i64>,
    #[serde(default)]
    categories: List<i64>,
    #[serde(default)]
    categories_nodes: List<i64>,
    #[serde(default)]
    categories_segments: List<i64>,
    #[serde(default)]
    categories_sizes: List<i64>,
}

#[derive(Deserialize)]
struct TreeParam<'a> {
    #[serde(default, borrow)]
    num_nodes: Scalar<'a>,
    #[serde(default, borrow)]
    size_leaf_vector: Scalar<'a>,
    #[serde(default, borrow)]
    num_deleted: Scalar<'a>,
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

fn parse(doc: &Document) -> ImportResult<TreeEnsemble> {
    let version = version(doc)?;
    let learner = object(&doc.learner, "learner", "")?;
    let lmp = object(
        &learner.learner_model_param,
        "learner_model_param",
        "learner",
    )?;
    let at_lmp = "learner.learner_model_param";
    let n_features = usize_param(
        scalar(&lmp.num_feature, "num_feature", at_lmp)?,
        "learner_model_param.num_feature",
    )?;
    let num_class = match &lmp.num_class {
        Scalar::Missing => 0,
        v => usize_param(v, "learner_model_param.num_class")?,
    };
    let num_target = match &lmp.num_target {
        Scalar::Missing => 1,
        v => usize_param(v, "learner_model_param.num_target")?,
    };
    let obj_name = as_str(
        scalar(
            &object(&learner.objective, "objective", "learner")?.name,
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

    let base_score = base_score(
        scalar(&lmp.base_score, "base_score", at_lmp)?,
        n_outputs,
        &obj,
    )?;
    let mut schema = schema(learner, n_features)?;

    let gb = object(&learner.gradient_booster, "gradient_booster", "learner")?;
    let gb_name = as_str(
        scalar(&gb.name, "name", "learner.gradient_booster")?,
        "learner.gradient_booster.name",
    )?;
    let (model, weight_drop) = match gb_name {
        "gbtree" => (object(&gb.model, "model", "learner.gradient_booster")?, None),
        "dart" => {
            let inner = object(&gb.gbtree, "gbtree", "learner.gradient_booster")?;
            let model = object(&inner.model, "model", "learner.gradient_booster.gbtree")?;
            let w = list(&gb.weight_drop, "weight_drop", "learner.gradient_booster", "learner.gradient_booster.weight_drop")?;
            (model, Some(w))
        }
        "gblinear" => unsupported!("gblinear (linear booster) models are not tree ensembles; glassbox imports gbtree and dart boosters only"),
        other => unsupported!("booster '{other}' is not supported (gbtree and dart are)"),
    };
    let at_model = "learner.gradient_booster.model";
    let trees_json = match &model.trees {
        ObjList::Is(trees) => trees,
        ObjList::Missing => corrupt!("no 'trees' field in '{at_model}'"),
        ObjList::Not(k) => corrupt!(
            "'gradient_booster.model.trees': expected a list, found {}",
            k.name()
        ),
    };
    let tree_info = list(
        &model.tree_info,
        "tree_info",
        at_model,
        "gradient_booster.model.tree_info",
    )?;
    if tree_info.len() != trees_json.len() {
        corrupt!(
            "gradient_booster.model.tree_info has {} entries but there are {} trees",
            tree_info.len(),
            trees_json.len()
        );
    }
    if let Obj::Is(param) = &model.gbtree_model_param {
        let num_trees = &param.num_trees;
        if !matches!(num_trees, Scalar::Missing) {
            let declared = usize_param(num_trees, "gbtree_model_param.num_trees")?;
            if declared != trees_json.len() {
                corrupt!("gbtree_model_param.num_trees says {declared} trees but {} are stored (is the file truncated?)", trees_json.len());
            }
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
fn version(doc: &Document) -> ImportResult<String> {
    let v = list(&doc.version, "version", "", "version")?;
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
fn base_score(v: &Scalar, n_outputs: usize, obj: &Objective) -> ImportResult<Vec<f64>> {
    let at = "learner_model_param.base_score";
    let raw: Vec<f64> = match v {
        Scalar::Int(_) | Scalar::UInt(_) | Scalar::Float(_) => {
            vec![v.as_f64().unwrap_or(f64::NAN)]
        }
        Scalar::Str(s) => {
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
        other => corrupt!("{at}: expected a string, found {}", other.kind_name()),
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
fn schema(learner: &Learner, n_features: usize) -> ImportResult<FeatureSchema> {
    let names = match &learner.feature_names {
        List::Missing => (0..n_features).map(|j| format!("f{j}")).collect(),
        List::Is(v, None) if v.is_empty() => (0..n_features).map(|j| format!("f{j}")).collect(),
        v => {
            let names = list(v, "feature_names", "learner", "learner.feature_names")?;
            if names.len() != n_features {
                corrupt!(
                    "learner.feature_names has {} names but num_feature is {n_features}",
                    names.len()
                );
            }
            names.iter().map(|n| n.to_string()).collect::<Vec<String>>()
        }
    };
    check_unique_names(&names)?;
    let types: &[Cow<str>] = match &learner.feature_types {
        List::Missing => &[],
        List::Is(v, None) if v.is_empty() => &[],
        v => {
            let types = list(v, "feature_types", "learner", "learner.feature_types")?;
            if types.len() != n_features {
                corrupt!(
                    "learner.feature_types has {} entries but num_feature is {n_features}",
                    types.len()
                );
            }
            types
        }
    };
    let features = names
        .into_iter()
        .enumerate()
        .map(|(j, name)| Feature {
            name,
            kind: if types.get(j).is_some_and(|t| t == "c") {
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
fn parse_tree(tj: &Obj<TreeJson>, scale: f64) -> ImportResult<Tree> {
    let tj = match tj {
        Obj::Is(t) => t,
        Obj::Missing => corrupt!("no tree"),
        Obj::Not(k) => corrupt!("'tree' should be an object but is {}", k.name()),
    };
    let param = object(&tj.tree_param, "tree_param", "tree")?;
    let n = usize_param(
        scalar(&param.num_nodes, "num_nodes", "tree_param")?,
        "tree_param.num_nodes",
    )?;
    if n == 0 {
        corrupt!("tree_param.num_nodes is 0");
    }
    if !matches!(param.size_leaf_vector, Scalar::Missing) {
        let s = usize_param(&param.size_leaf_vector, "tree_param.size_leaf_vector")?;
        if s > 1 {
            unsupported!("multi-output trees (size_leaf_vector = {s}, multi_strategy=multi_output_tree) are not supported; train with multi_strategy=one_output_per_tree");
        }
    }
    let num_deleted = match &param.num_deleted {
        Scalar::Missing => 0,
        v => usize_param(v, "tree_param.num_deleted")?,
    };
    let left = sized(&tj.left_children, "left_children", n)?;
    let right = sized(&tj.right_children, "right_children", n)?;
    let feature = sized(&tj.split_indices, "split_indices", n)?;
    let cond = sized(&tj.split_conditions, "split_conditions", n)?;
    let default_left = sized(&tj.default_left, "default_left", n)?;
    let hess = sized(&tj.sum_hessian, "sum_hessian", n)?;
    let zeros;
    let split_type = match &tj.split_type {
        List::Missing => {
            zeros = vec![0; n];
            &zeros[..]
        }
        v => sized(v, "split_type", n)?,
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
fn categories(tj: &TreeJson) -> ImportResult<HashMap<usize, Vec<i64>>> {
    let optional = |v: &'_ List<i64>, key: &str| -> ImportResult<Vec<i64>> {
        match v {
            List::Missing => Ok(Vec::new()),
            v => list(v, key, "tree", key).map(<[i64]>::to_vec),
        }
    };
    let cats = optional(&tj.categories, "categories")?;
    let nodes = optional(&tj.categories_nodes, "categories_nodes")?;
    let segments = optional(&tj.categories_segments, "categories_segments")?;
    let sizes = optional(&tj.categories_sizes, "categories_sizes")?;
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

// ---- typed JSON access with locations in the messages ----

/// `'{within}'`, or "the top level".
fn place(within: &str) -> String {
    if within.is_empty() {
        "the top level".to_string()
    } else {
        format!("'{within}'")
    }
}

/// The object in field `key` of the object at `within` ("" for the top level).
fn object<'v, T>(field: &'v Obj<T>, key: &str, within: &str) -> ImportResult<&'v T> {
    match field {
        Obj::Is(t) => Ok(t),
        Obj::Missing => corrupt!("no '{key}' field in {}", place(within)),
        Obj::Not(kind) => {
            let at = if within.is_empty() {
                key.to_string()
            } else {
                format!("{within}.{key}")
            };
            corrupt!("'{at}' should be an object but is {}", kind.name())
        }
    }
}

/// The scalar in field `key` of the object at `within`, which must be present.
fn scalar<'v, 'a>(field: &'v Scalar<'a>, key: &str, within: &str) -> ImportResult<&'v Scalar<'a>> {
    match field {
        Scalar::Missing => corrupt!("no '{key}' field in {}", place(within)),
        v => Ok(v),
    }
}

/// The list in field `key` of the object at `within`, every element an `E`; `at` names it in
/// messages about its content.
fn list<'v, 'a, E: Element<'a>>(
    field: &'v List<E>,
    key: &str,
    within: &str,
    at: &str,
) -> ImportResult<&'v [E]> {
    match field {
        List::Missing => corrupt!("no '{key}' field in {}", place(within)),
        List::Not(kind) => corrupt!("'{at}': expected a list, found {}", kind.name()),
        List::Is(_, Some(bad)) => corrupt!(
            "'{at}'[{}]: expected {}, found {}",
            bad.index,
            E::EXPECTED,
            E::found(bad)
        ),
        List::Is(values, None) => Ok(values),
    }
}

/// A per-node list of a tree, which must have one entry per node (checked before its content).
fn sized<'v, 'a, E: Element<'a>>(field: &'v List<E>, key: &str, n: usize) -> ImportResult<&'v [E]> {
    match field {
        List::Is(values, _) if values.len() != n => {
            corrupt!("'{key}' has {} entries but num_nodes is {n}", values.len())
        }
        v => list(v, key, "tree", key),
    }
}

fn as_str<'v>(v: &'v Scalar, at: &str) -> ImportResult<&'v str> {
    match v.as_str() {
        Some(s) => Ok(s),
        None => corrupt!("'{at}': expected a string, found {}", v.kind_name()),
    }
}

/// A non-negative integer written as a string (`"61"`, XGBoost's habit) or a number.
fn usize_param(v: &Scalar, at: &str) -> ImportResult<usize> {
    let parsed = match v {
        Scalar::Str(s) => s.trim().parse::<u64>().ok(),
        v => v.as_u64(),
    };
    match parsed {
        Some(x) if x <= u32::MAX as u64 => Ok(x as usize),
        _ => corrupt!(
            "'{at}': expected a non-negative integer, found {}",
            v.describe()
        ),
    }
}
