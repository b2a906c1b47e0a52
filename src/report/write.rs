//! Assembling the report: figures, tables and text, then the files.

use std::path::Path;

use super::html::Page;
use super::metrics::{performance, Performance};
use super::reasons::{reason_codes, write_reasons_csv, ReferenceQuantiles, RowReasons};
use super::{ReportError, ReportFiles, ReportInput, Result};
use crate::data::TargetKind;
use crate::explain::OutputSpace;
use crate::model::Link;
use crate::output::{csv_field, csv_number, write_atomic};
use crate::plot::{self, format_value, PlotOptions};

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.into(),
        source,
    }
}

/// What the attributions of output `k` are of, in words, e.g. `log-odds of bad_credit = 1`.
fn output_words(input: &ReportInput, k: usize) -> String {
    let e = input.explanation;
    let target = input.model.target_name.as_deref().unwrap_or("the target");
    match (&input.model.task, e.meta().output_space) {
        (TargetKind::Binary { classes }, space) => {
            let pos = classes.get(1).map_or("1", String::as_str);
            match (space, input.model.link) {
                (OutputSpace::Probability, _) => format!("probability of {target} = {pos}"),
                (OutputSpace::Raw, Link::Logistic) => format!("log-odds of {target} = {pos}"),
                (OutputSpace::Raw, _) => format!("score of {target} = {pos}"),
            }
        }
        (TargetKind::Multiclass { .. }, space) => {
            let class = e.output_names().get(k).map_or("?", String::as_str);
            match space {
                OutputSpace::Probability => format!("probability of class {class}"),
                OutputSpace::Raw => format!("raw score of class {class}"),
            }
        }
        (_, OutputSpace::Raw) if input.model.link == Link::Identity => {
            format!("predicted {target}")
        }
        _ => plot::output_label(e, k, None),
    }
}

/// The rows shown as local explanations, with why each was chosen.
fn local_rows(input: &ReportInput) -> Vec<(usize, String)> {
    let n = input.explanation.n_rows();
    if let Some(rows) = &input.options.local_rows {
        return rows
            .iter()
            .filter(|&&r| r < n)
            .map(|&r| (r, "chosen".to_string()))
            .collect();
    }
    if n == 0 {
        return Vec::new();
    }
    let pred = input.predictions;
    // One number per row: the prediction, or the top class probability.
    let score: Vec<f64> = (0..n)
        .map(|i| {
            pred.row(i)
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .collect();
    let mut order: Vec<usize> = (0..n).filter(|&i| score[i].is_finite()).collect();
    order.sort_by(|&a, &b| score[a].total_cmp(&score[b]).then(a.cmp(&b)));
    let what = match input.model.task {
        TargetKind::Binary { .. } => "predicted risk",
        _ => "prediction",
    };
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut add = |r: usize, why: String| {
        if !out.iter().any(|(x, _)| *x == r) {
            out.push((r, why));
        }
    };
    if let (Some(&hi), Some(&lo)) = (order.last(), order.first()) {
        add(hi, format!("highest {what}"));
        add(order[order.len() / 2], format!("median {what}"));
        add(lo, format!("lowest {what}"));
    }
    let random = plot_sample(n, input.options.seed);
    add(random, format!("random row (seed {})", input.options.seed));
    out
}

fn plot_sample(n: usize, seed: u64) -> usize {
    use rand::{Rng, SeedableRng};
    rand_chacha::ChaCha8Rng::seed_from_u64(seed).gen_range(0..n)
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// Writes the report for `input` into `dir` (created if needed): `index.html` and the CSV tables.
/// Every file is written atomically.
///
/// # Errors
/// [`ReportError::Invalid`] when the predictions, targets or model output do not have one row
/// per explained row, or the explanation has no rows; [`ReportError::Plot`] when a figure fails;
/// [`ReportError::Io`] when a file cannot be written.
pub fn write_report(dir: &Path, input: &ReportInput) -> Result<ReportFiles> {
    let e = input.explanation;
    let opts = &input.options;
    let n = e.n_rows();
    let bad = |reason: String| ReportError::Invalid {
        what: "report".into(),
        reason,
    };
    if n == 0 || e.n_features() == 0 {
        return Err(bad(format!(
            "the explanation has {n} rows and {} features",
            e.n_features()
        )));
    }
    if input.predictions.nrows() != n {
        return Err(bad(format!(
            "{} predictions for {n} explained rows",
            input.predictions.nrows()
        )));
    }
    if let Some(t) = &input.targets {
        if t.len() != n {
            return Err(bad(format!("{} targets for {n} explained rows", t.len())));
        }
    }
    if let Some(o) = &input.model_output {
        if o.dim() != e.base_values().dim() {
            return Err(bad(format!(
                "model output is {:?}, the explanation has {:?}",
                o.dim(),
                e.base_values().dim()
            )));
        }
    }
    let k = opts.output;
    if k >= e.n_outputs() {
        return Err(bad(format!("output {k} of {}", e.n_outputs())));
    }
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;

    let out_words = output_words(input, k);
    let common = PlotOptions {
        output: k,
        output_label: Some(out_words.clone()),
        ..PlotOptions::default()
    };
    let features = e.schema().features();
    let importance = e.mean_abs();
    let ranked: Vec<usize> = {
        let mut r: Vec<usize> = (0..e.n_features()).collect();
        r.sort_by(|&a, &b| {
            importance[[k, b]]
                .total_cmp(&importance[[k, a]])
                .then(a.cmp(&b))
        });
        r
    };
    let perf: Option<std::result::Result<Performance, ReportError>> = input
        .targets
        .map(|t| performance(&input.model.task, input.predictions, t));
    let perf = match perf {
        Some(Ok(p)) => Some(p),
        Some(Err(err)) => return Err(err),
        None => None,
    };
    let reference = match (&input.reference, e.data()) {
        (Some(r), _) => Some(r.clone()),
        (None, Some(d)) => Some(ReferenceQuantiles::from_data(d.view(), e.schema())),
        (None, None) => None,
    };
    let reasons: Option<Vec<RowReasons>> = match e.data() {
        Some(_) => Some(reason_codes(e, reference.as_ref(), &opts.reasons)?),
        None => None,
    };
    let additivity = input.model_output.map(|o| {
        let recon = e.reconstructed_output();
        let mut worst = (0.0f64, 0usize, 0usize, true);
        for ((i, j), &r) in recon.indexed_iter() {
            let err = (r - o[[i, j]]).abs();
            let within = err <= opts.additivity_tolerance * o[[i, j]].abs().max(1.0);
            if err > worst.0 || err.is_nan() {
                worst.0 = err;
                worst.1 = i;
                worst.2 = j;
            }
            worst.3 &= within;
        }
        worst
    });

    let prov = &input.provenance;
    let method = plot::method_label(&e.meta().method);
    let mut page = Page::new(&input.title);

    // Key numbers.
    page.h2("overview", "Overview");
    let mut cards = vec![
        (format_value(n as f64), "rows explained".to_string()),
        (e.n_features().to_string(), "features".to_string()),
        (method.clone(), "method".to_string()),
    ];
    if let Some(p) = &perf {
        if let Some(m) = p.metrics.iter().find(|m| m.name == "auc" || m.name == "r2") {
            cards.push((format!("{:.3}", m.value), m.name.to_uppercase()));
        }
    }
    if let Some((err, ..)) = additivity {
        cards.push((format!("{err:.1e}"), "max additivity error".into()));
    }
    page.cards(&cards);
    let top3: Vec<&str> = ranked
        .iter()
        .take(3)
        .map(|&j| features[j].name.as_str())
        .collect();
    page.p(&format!(
        "{} model “{}” explained with {} on {} rows. Attributions are in {}. The most important features are {}.",
        input.model.kind,
        input.model.name,
        method,
        format_value(n as f64),
        out_words,
        top3.join(", ")
    ));
    let mut all_warnings = input.data.warnings.clone();
    if input.targets.is_none() {
        all_warnings.push("the data have no target column: performance is not reported".into());
    }
    if e.data().is_none() {
        all_warnings.push(
            "the explanation has no feature values: summary colours, dependence plots and reason codes are missing"
                .into(),
        );
    }
    if let Some((err, row, _, false)) = additivity {
        all_warnings.push(format!(
            "attributions do not add up to the model output (max error {err:.2e} at row {row}): do not trust them"
        ));
    }
    page.warnings("Warnings", &all_warnings);

    // Data.
    page.h2("data", "Data");
    let missing_total: usize = input.data.columns.iter().map(|c| c.missing).sum();
    page.p(&format!(
        "{} rows × {} features ({} numeric, {} categorical); {} missing values in total.",
        format_value(input.data.rows as f64),
        input.data.columns.len(),
        input
            .data
            .columns
            .iter()
            .filter(|c| c.kind == "numeric")
            .count(),
        input
            .data
            .columns
            .iter()
            .filter(|c| c.kind != "numeric")
            .count(),
        format_value(missing_total as f64),
    ));
    page.warnings("Data-quality warnings", &input.data.warnings);
    let rows: Vec<Vec<String>> = input
        .data
        .columns
        .iter()
        .map(|c| {
            let dist = match (&c.min_median_max, &c.top_value) {
                (Some((a, b, z)), _) => format!(
                    "min {} · median {} · max {}",
                    format_value(*a),
                    format_value(*b),
                    format_value(*z)
                ),
                (None, Some((v, s))) => format!("most frequent: {v} ({})", pct(*s)),
                _ => String::new(),
            };
            vec![
                c.name.clone(),
                c.kind.to_string(),
                c.missing.to_string(),
                if input.data.rows > 0 {
                    pct(c.missing as f64 / input.data.rows as f64)
                } else {
                    String::new()
                },
                c.distinct.to_string(),
                dist,
            ]
        })
        .collect();
    page.table(
        &[
            "feature",
            "kind",
            "#missing",
            "#missing %",
            "#distinct",
            "distribution",
        ],
        &rows,
    );

    // Performance.
    page.h2("performance", "Model performance");
    match &perf {
        Some(p) => {
            page.p(&format!(
                "Measured on the {} rows given. If these rows were used for training, the numbers are optimistic; use held-out data to judge the model.",
                format_value(n as f64)
            ));
            let rows: Vec<Vec<String>> = p
                .metrics
                .iter()
                .map(|m| {
                    vec![
                        m.name.to_string(),
                        format!("{:.4}", m.value),
                        m.description.to_string(),
                    ]
                })
                .collect();
            page.table(&["metric", "#value", "meaning"], &rows);
            if !p.calibration.is_empty() {
                page.h3("Calibration by decile of the prediction");
                if let TargetKind::Binary { classes } = &input.model.task {
                    let bins = plot::CalibrationBins {
                        mean_predicted: p.calibration.iter().map(|c| c.mean_prediction).collect(),
                        observed_rate: p.calibration.iter().map(|c| c.mean_target).collect(),
                        counts: p.calibration.iter().map(|c| c.n).collect(),
                        event: format!(
                            "{} = {}",
                            input.model.target_name.as_deref().unwrap_or("the target"),
                            classes.get(1).map_or("1", String::as_str)
                        ),
                    };
                    let fig = plot::calibration(&bins, &PlotOptions::default())?;
                    page.figure(
                        &plot::to_svg(&fig)?,
                        "Each point is a tenth of the rows, sorted by prediction: its mean predicted probability against the share that had the event. On the dashed diagonal the predictions mean what they say; a bar that crosses the diagonal is consistent with calibration at this sample size. The expected calibration error is the row-weighted mean distance from the diagonal.",
                    );
                }
                let rows: Vec<Vec<String>> = p
                    .calibration
                    .iter()
                    .enumerate()
                    .map(|(b, c)| {
                        vec![
                            (b + 1).to_string(),
                            c.n.to_string(),
                            format!(
                                "{} – {}",
                                format_value(c.min_prediction),
                                format_value(c.max_prediction)
                            ),
                            format!("{:.4}", c.mean_prediction),
                            format!("{:.4}", c.mean_target),
                            format!("{:+.4}", c.mean_target - c.mean_prediction),
                        ]
                    })
                    .collect();
                page.table(
                    &[
                        "#decile",
                        "#rows",
                        "prediction range",
                        "#mean predicted",
                        "#mean observed",
                        "#observed − predicted",
                    ],
                    &rows,
                );
            }
        }
        None => page.p("The data have no target column, so performance cannot be measured."),
    }

    // Global importance.
    page.h2("importance", "Global importance");
    let bar = plot::bar(
        e,
        &plot::BarOptions {
            top_n: opts.top_features,
            common: common.clone(),
        },
    )?;
    page.figure(
        &plot::to_svg(&bar)?,
        &format!(
            "Mean |attribution| over the {} explained rows: how far a feature moves the output on average. Importance says what the model uses, not whether it is right to use it.",
            format_value(n as f64)
        ),
    );

    page.h2("summary", "Summary plot");
    let summary = plot::summary(
        e,
        &plot::SummaryOptions {
            top_n: opts.top_features,
            max_dots: opts.max_dots,
            seed: opts.seed,
            common: common.clone(),
        },
    )?;
    page.figure(
        &plot::to_svg(&summary)?,
        "One dot per row and feature at its attribution; colour is the feature's value (blue low, red high, grey missing). Features are ranked by mean |attribution|.",
    );

    // Dependence.
    if e.data().is_some() && opts.dependence_plots > 0 {
        page.h2("dependence", "Dependence plots");
        page.p("How each of the most important features' attribution changes with its value. Colour shows the feature that best explains the remaining vertical spread (an interaction).");
        for &j in ranked.iter().take(opts.dependence_plots) {
            let d = plot::dependence(
                e,
                &plot::DependenceOptions {
                    feature: j,
                    max_dots: opts.max_dots,
                    seed: opts.seed,
                    common: common.clone(),
                    ..Default::default()
                },
            )?;
            page.figure(&plot::to_svg(&d)?, "");
        }
    }

    // Shape functions.
    if !input.shape_functions.is_empty() {
        page.h2("shape", "Shape functions");
        // In importance order, as the other sections; terms of features the explanation does not
        // name go last, in the order given.
        let rank = |name: &str| {
            ranked
                .iter()
                .position(|&j| features[j].name == name)
                .unwrap_or(usize::MAX)
        };
        let mut shapes: Vec<&plot::ShapeFunction> = input.shape_functions.iter().collect();
        shapes.sort_by_key(|sf| rank(&sf.name));
        let shown = shapes.len().min(opts.top_features.max(1));
        let more = if shown < shapes.len() {
            format!(
                " The {shown} most important of {} terms are shown.",
                shapes.len()
            )
        } else {
            String::new()
        };
        page.p(&format!("The additive model's term for each feature: its exact contribution over the feature's range (the same numbers as the feature's attribution), with a pointwise 95% confidence band where the fit has a coefficient covariance; ticks along the bottom show where the data are, and categorical terms show each level's share of rows.{more}"));
        for sf in shapes.into_iter().take(shown) {
            let c = plot::shape_function(sf, &PlotOptions::default())?;
            page.figure(&plot::to_svg(&c)?, "");
        }
    }

    // Local explanations.
    page.h2("local", "Local explanations");
    let chosen = local_rows(input);
    let adverse = match (&input.model.task, opts.reasons.direction) {
        (TargetKind::Binary { classes }, super::Direction::Up) => format!(
            "towards {} = {}",
            input.model.target_name.as_deref().unwrap_or("the target"),
            classes.get(1).map_or("1", String::as_str)
        ),
        (_, super::Direction::Up) => "upwards".to_string(),
        (_, super::Direction::Down) => "downwards".to_string(),
    };
    page.p(&format!(
        "Waterfalls start at the base value and add each feature's attribution until they reach the model's output for the row. Reason codes list the features that push the output most {adverse}; high and low compare the value with the reference distribution (25th and 75th percentiles)."
    ));
    for (row, why) in &chosen {
        let row = *row;
        let kk = match input.model.task {
            TargetKind::Multiclass { .. } => {
                let p = input.predictions.row(row);
                (0..p.len())
                    .fold(0, |b, c| if p[c] > p[b] { c } else { b })
                    .min(e.n_outputs() - 1)
            }
            _ => k,
        };
        let prediction = input
            .predictions
            .row(row)
            .iter()
            .map(|&v| format_value(v))
            .collect::<Vec<_>>()
            .join(", ");
        let observed = input.targets.map(|t| {
            let v = t[row];
            match &input.model.task {
                TargetKind::Binary { classes } | TargetKind::Multiclass { classes } => classes
                    .get(v as usize)
                    .cloned()
                    .unwrap_or_else(|| format_value(v)),
                _ => format_value(v),
            }
        });
        page.raw("<div class=\"local\">");
        let id = input
            .row_ids
            .as_ref()
            .and_then(|(name, ids)| ids.get(row).map(|v| format!(" ({name} {v})")))
            .unwrap_or_default();
        page.h3(&format!(
            "Row {row}{id} — {why}: prediction {prediction}{}",
            observed
                .map(|o| format!(", observed {o}"))
                .unwrap_or_default()
        ));
        let w = plot::waterfall(
            e,
            &plot::WaterfallOptions {
                row,
                top_n: 10,
                show_probability: input.model.link == Link::Logistic
                    && e.meta().output_space == OutputSpace::Raw,
                common: PlotOptions {
                    output: kk,
                    output_label: Some(output_words(input, kk)),
                    ..PlotOptions::default()
                },
            },
        )?;
        page.figure(&plot::to_svg(&w)?, "");
        if let Some(rs) = &reasons {
            let r = &rs[row];
            if r.reasons.is_empty() {
                page.p(&format!("No feature pushes this row {adverse}."));
            } else {
                let items: Vec<String> = r
                    .reasons
                    .iter()
                    .map(|x| {
                        format!(
                            "<li>{} <span class=\"sub\">({})</span></li>",
                            super::html::escape(&x.text),
                            super::html::escape(&plot::format_signed(x.contribution))
                        )
                    })
                    .collect();
                page.raw(&format!(
                    "<p><b>Reason codes</b></p><ol>{}</ol>",
                    items.join("")
                ));
            }
        }
        page.raw("</div>");
    }

    // Explanation quality.
    page.h2("quality", "Explanation quality");
    match additivity {
        Some((err, row, out, true)) => page.status(
            "ok",
            &format!(
                "Additivity holds: base value + Σ attributions equals the model output for every row (max |error| {err:.2e}, row {row}, output {}; tolerance {:.0e} relative).",
                e.output_names().get(out).map_or("", String::as_str),
                opts.additivity_tolerance
            ),
        ),
        Some((err, row, _, false)) => page.status(
            "bad",
            &format!("Additivity FAILS: max |base + Σ attributions − model output| = {err:.3e} at row {row}. The attributions do not explain this model's output."),
        ),
        None if e.meta().method == "lime" => page.status(
            "ok",
            "Additivity does not apply to LIME: its values add up to the local surrogate's prediction, not to the model's output. How well the surrogate matches the model is its fidelity, below.",
        ),
        None => page.status("warn", "Additivity not checked: the model's output was not supplied."),
    }
    if let Some(se) = e.std_errors() {
        page.p("Standard errors of the sampled attributions (Kernel SHAP): how much the estimate would move with another seed. Compare them with the attributions themselves.");
        let rows: Vec<Vec<String>> = ranked
            .iter()
            .take(opts.top_features)
            .map(|&j| {
                let col: Vec<f64> = (0..n)
                    .map(|i| se[[i, k, j]])
                    .filter(|v| v.is_finite())
                    .collect();
                let mean = col.iter().sum::<f64>() / col.len().max(1) as f64;
                let max = col.iter().copied().fold(0.0, f64::max);
                vec![
                    features[j].name.clone(),
                    format_value(importance[[k, j]]),
                    format_value(mean),
                    format_value(max),
                ]
            })
            .collect();
        page.table(
            &["feature", "#mean |attribution|", "#mean SE", "#max SE"],
            &rows,
        );
    }
    if let Some(fid) = &input.lime_fidelity {
        let f: Vec<f64> = fid.iter().copied().filter(|v| v.is_finite()).collect();
        if !f.is_empty() {
            let mean = f.iter().sum::<f64>() / f.len() as f64;
            let min = f.iter().copied().fold(f64::INFINITY, f64::min);
            let low = f.iter().filter(|&&v| v < 0.5).count();
            page.status(
                if low * 10 > f.len() { "warn" } else { "ok" },
                &format!(
                    "LIME fidelity (weighted R² of the local surrogate): mean {mean:.3}, minimum {min:.3}; {low} of {} rows below 0.5, where the surrogate explains itself more than the model.",
                    f.len()
                ),
            );
        }
    }
    if let Some(crate::explain::Diagnostics::Lime(d)) = &e.meta().diagnostics {
        let mean = |v: &[f64]| {
            let f: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
            (!f.is_empty()).then(|| f.iter().sum::<f64>() / f.len() as f64)
        };
        let mut parts = Vec::new();
        if let Some(h) = mean(&d.r2_holdout) {
            parts.push(format!("held-out R² {h:.3} on fresh perturbations"));
        }
        if let Some(w) = mean(&d.kernel_width) {
            parts.push(format!("kernel width {w:.3}"));
        }
        if d.repeats >= 2 {
            for (name, v) in [
                ("VSI", &d.vsi),
                ("CSI", &d.csi),
                ("top-k Jaccard", &d.top_k_jaccard),
            ] {
                if let Some(m) = mean(v) {
                    parts.push(format!("{name} {m:.3}"));
                }
            }
            page.p(&format!(
                "LIME, means over rows: {}. Stability over {} runs with different seeds: VSI (same features chosen) and CSI (coefficients agree) from Visani et al. (2022), and the Jaccard index of the top {} features; 1 is perfectly stable.",
                parts.join(", "),
                d.repeats,
                d.top_k
            ));
        } else {
            page.p(&format!(
                "LIME, means over rows: {}. Stability across seeds was not measured (run with --lime-repeats 2 or more).",
                parts.join(", ")
            ));
        }
    }
    if !e.meta().history.is_empty() {
        page.p(&format!(
            "Operations applied to the explanation: {}.",
            e.meta().history.join(", ")
        ));
    }

    // Provenance.
    page.h2("provenance", "Provenance");
    let mut prow = vec![
        vec![
            "glassbox version".to_string(),
            prov.glassbox_version.clone(),
        ],
        vec!["generated".to_string(), prov.generated_utc.clone()],
        vec![
            "method".to_string(),
            format!("{} ({})", method, prov.method),
        ],
        vec!["output space".to_string(), out_words.clone()],
        vec![
            "seed".to_string(),
            prov.seed.map_or("none".into(), |s| s.to_string()),
        ],
    ];
    for (label, file, hash) in [
        ("model", &prov.model_file, &prov.model_sha256),
        ("data", &prov.data_file, &prov.data_sha256),
    ] {
        if let Some(f) = file {
            prow.push(vec![format!("{label} file"), f.clone()]);
        }
        prow.push(vec![
            format!("{label} SHA-256"),
            hash.clone().unwrap_or_else(|| "not recorded".into()),
        ]);
    }
    for (role, file, hash) in &prov.other_inputs {
        prow.push(vec![format!("{role} file"), file.clone()]);
        prow.push(vec![format!("{role} SHA-256"), hash.clone()]);
    }
    if let Some(c) = &prov.command {
        prow.push(vec!["command".to_string(), c.clone()]);
    }
    page.table(&["", ""], &prow);
    page.raw("<p>Tables: <a href=\"importance.csv\">importance.csv</a> · <a href=\"reasons.csv\">reasons.csv</a> · <a href=\"performance.csv\">performance.csv</a> · <a href=\"calibration.csv\">calibration.csv</a></p>");

    // Files.
    let mut tables = Vec::new();
    let imp = dir.join("importance.csv");
    let se_mean = e.std_errors().map(|se| {
        ndarray::Array2::from_shape_fn((e.n_outputs(), e.n_features()), |(o, j)| {
            let ss: f64 = (0..n)
                .map(|i| se[[i, o, j]].powi(2))
                .filter(|v| v.is_finite())
                .sum();
            ss.sqrt() / n as f64
        })
    });
    write_atomic(&imp, |w| {
        use std::io::Write;
        let se_head = if se_mean.is_some() { ",se_of_mean" } else { "" };
        writeln!(w, "output,rank,feature,mean_abs,share{se_head}")?;
        for o in 0..e.n_outputs() {
            let total: f64 = importance.row(o).sum();
            let mut order: Vec<usize> = (0..e.n_features()).collect();
            order.sort_by(|&a, &b| {
                importance[[o, b]]
                    .total_cmp(&importance[[o, a]])
                    .then(a.cmp(&b))
            });
            for (rank, &j) in order.iter().enumerate() {
                write!(
                    w,
                    "{},{},{},{},{}",
                    csv_field(&e.output_names()[o]),
                    rank + 1,
                    csv_field(&features[j].name),
                    csv_number(importance[[o, j]]),
                    csv_number(if total > 0.0 {
                        importance[[o, j]] / total
                    } else {
                        f64::NAN
                    })
                )?;
                if let Some(s) = &se_mean {
                    write!(w, ",{}", csv_number(s[[o, j]]))?;
                }
                writeln!(w)?;
            }
        }
        Ok(())
    })
    .map_err(io_err(&imp))?;
    tables.push(imp);
    let rpath = dir.join("reasons.csv");
    match &reasons {
        Some(rs) => write_reasons_csv(
            &rpath,
            rs,
            e.schema(),
            opts.reasons.top_n,
            input
                .row_ids
                .as_ref()
                .map(|(name, ids)| (name.as_str(), ids.as_slice())),
        ),
        None => write_atomic(&rpath, |w| {
            use std::io::Write;
            writeln!(w, "row,score")
        }),
    }
    .map_err(io_err(&rpath))?;
    tables.push(rpath);
    let ppath = dir.join("performance.csv");
    write_atomic(&ppath, |w| {
        use std::io::Write;
        writeln!(w, "metric,value,description")?;
        if let Some(p) = &perf {
            for m in &p.metrics {
                writeln!(
                    w,
                    "{},{},{}",
                    m.name,
                    csv_number(m.value),
                    csv_field(m.description)
                )?;
            }
        }
        if let Some((err, ..)) = additivity {
            writeln!(
                w,
                "max_additivity_error,{},{}",
                csv_number(err),
                csv_field("max |base + sum of attributions - model output|")
            )?;
        }
        Ok(())
    })
    .map_err(io_err(&ppath))?;
    tables.push(ppath);
    let cpath = dir.join("calibration.csv");
    write_atomic(&cpath, |w| {
        use std::io::Write;
        writeln!(
            w,
            "decile,n,min_prediction,max_prediction,mean_prediction,mean_target"
        )?;
        if let Some(p) = &perf {
            for (b, c) in p.calibration.iter().enumerate() {
                writeln!(
                    w,
                    "{},{},{},{},{},{}",
                    b + 1,
                    c.n,
                    csv_number(c.min_prediction),
                    csv_number(c.max_prediction),
                    csv_number(c.mean_prediction),
                    csv_number(c.mean_target)
                )?;
            }
        }
        Ok(())
    })
    .map_err(io_err(&cpath))?;
    tables.push(cpath);

    let subtitle = format!(
        "{} · {} · generated {} · glassbox {}",
        input.model.kind, method, prov.generated_utc, prov.glassbox_version
    );
    let html = page.finish(&input.title, &subtitle);
    let index = dir.join("index.html");
    write_atomic(&index, |w| std::io::Write::write_all(w, html.as_bytes()))
        .map_err(io_err(&index))?;
    Ok(ReportFiles { index, tables })
}
