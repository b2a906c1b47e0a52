//! Command-line interface.
//!
//! Two stages, as in ripgrep: clap structs only parse; each subcommand's `run` does the I/O and
//! calls the library. `main` prints one error line and exits with a documented code:
//! 0 success, 1 failure, 2 usage or input error (bad file, bad flag, bad data).

mod explain;
mod explain_sampling;
mod influence;
mod interactions;
mod plot;
mod plot_influence;
mod plot_lime;
mod predict;
mod reasons;
mod report;
mod shape;
mod split;
mod stream;
mod summary;
mod train;
mod train_gam;
mod train_glm;
mod train_nam;

use clap::{Parser, Subcommand};

/// Exit code for success.
pub const EXIT_OK: i32 = 0;
/// Exit code for a failure that is not the input's fault.
pub const EXIT_FAILURE: i32 = 1;
/// Exit code for a usage or input error.
pub const EXIT_INPUT: i32 = 2;

const AFTER_HELP: &str = "\
Examples:
  glassbox train --data data/german_credit.csv --target bad_credit --model gbdt --seed 7 --out model.json
  glassbox predict --model model.json --data data/german_credit.csv --out pred.csv
  glassbox explain --model model.json --data data/german_credit.csv --method tree-shap --out shap.csv
  glassbox explain --model xgb_model.json --data rows.csv --method tree-shap-interventional --background bg.csv --out shap.csv
  glassbox train --data data/german_credit.csv --target bad_credit --model glm --family binomial --out glm.json
  glassbox summary --model glm.json --out coef.csv
  glassbox plot summary --explanation shap.csv --model model.json --data data/german_credit.csv --out summary.svg
  glassbox plot waterfall --explanation shap.csv --data data/german_credit.csv --row 3 --out row3.png
  glassbox reasons --explanation shap.csv --model model.json --data data/german_credit.csv --out reasons.csv
  glassbox influence --model glm.json --train data/german_credit.csv --data rows.csv --top 5 --out influence.csv
  glassbox report --model model.json --data data/german_credit.csv --out report/

Exit codes: 0 success, 1 failure, 2 usage or input error.";

/// Faithful explanations for tabular models.
#[derive(Parser, Debug)]
#[command(name = "glassbox", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
    /// No progress bars or summaries on stderr.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a model on a table and save it with its feature schema.
    Train(train::TrainArgs),
    /// Predict with a glassbox, XGBoost or LightGBM model.
    Predict(predict::PredictArgs),
    /// Explain a model's predictions row by row.
    Explain(explain::ExplainArgs),
    /// Exact SHAP interaction values of a tree ensemble (top pairs or chosen features).
    Interactions(interactions::InteractionsArgs),
    /// Which training rows helped or hurt each row (influence functions, BoostIn).
    Influence(influence::InfluenceArgs),
    /// Split a table into seeded train and test parts.
    Split(split::SplitArgs),
    /// Print a GLM's coefficient table and fit statistics (statsmodels-style).
    Summary(summary::SummaryArgs),
    /// Plot an explanation (summary, bar, dependence, waterfall, LIME) or an additive model's shape
    /// functions, to SVG or PNG.
    Plot(plot::PlotArgs),
    /// Reason codes: the features pushing each row's score towards the adverse outcome.
    Reasons(reasons::ReasonsArgs),
    /// Write a self-contained HTML audit report with its tables as CSV.
    Report(report::ReportArgs),
}

/// Shared context of a run.
pub struct Context {
    /// Suppress progress output.
    pub quiet: bool,
}

/// An error with its exit code.
pub struct CliError {
    code: i32,
    error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for CliError {
    fn from(e: E) -> Self {
        let error: anyhow::Error = e.into();
        let code = if error.downcast_ref::<glassbox::data::DataError>().is_some()
            || error
                .downcast_ref::<glassbox::model::ModelError>()
                .is_some()
            || error.downcast_ref::<UsageError>().is_some()
        {
            EXIT_INPUT
        } else if let Some(e) = error.downcast_ref::<glassbox::explain::ExplainError>() {
            match e {
                glassbox::explain::ExplainError::Data(_)
                | glassbox::explain::ExplainError::Model(_)
                | glassbox::explain::ExplainError::Unsupported(_)
                | glassbox::explain::ExplainError::InvalidParam { .. } => EXIT_INPUT,
                _ => EXIT_FAILURE,
            }
        } else {
            EXIT_FAILURE
        };
        CliError { code, error }
    }
}

/// A flag combination that makes no sense.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Parses arguments, runs, and returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_INPUT } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
    match run(cli) {
        Ok(()) => EXIT_OK,
        Err(CliError { code, error }) => {
            if is_broken_pipe(&error) {
                return EXIT_OK;
            }
            eprintln!("glassbox: error: {}", error_message(&error));
            code
        }
    }
}

/// The error and its causes, `: `-separated, leaving out a cause whose text the message already
/// shows (the library's error types print their source inside their own message, so anyhow's `{:#}`
/// would repeat it: "x.csv: No such file (os error 2): No such file (os error 2)").
fn error_message(e: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if message.is_empty() {
            message = text;
        } else if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
    }
    message
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli) -> Result<(), CliError> {
    if let Some(n) = cli.threads {
        if n == 0 {
            return Err(UsageError("--threads must be at least 1".into()).into());
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(anyhow::Error::from)?;
    }
    let ctx = Context { quiet: cli.quiet };
    match cli.command {
        Command::Train(a) => train::run(&ctx, a),
        Command::Predict(a) => predict::run(&ctx, a),
        Command::Explain(a) => explain::run(&ctx, a),
        Command::Split(a) => split::run(&ctx, a),
        Command::Influence(a) => influence::run(&ctx, a),
        Command::Interactions(a) => interactions::run(&ctx, a),
        Command::Summary(a) => summary::run(&ctx, a),
        Command::Plot(a) => plot::run(&ctx, a),
        Command::Reasons(a) => reasons::run(&ctx, a),
        Command::Report(a) => report::run(&ctx, a),
    }
}

/// A progress bar on stderr, hidden when quiet or when stderr is not a terminal.
pub fn progress(ctx: &Context, len: u64, what: &str) -> indicatif::ProgressBar {
    if ctx.quiet {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    let style = indicatif::ProgressStyle::with_template(
        "{msg:>10} [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(what.to_string());
    bar
}

/// Prints a status line on stderr unless quiet.
pub fn status(ctx: &Context, msg: impl std::fmt::Display) {
    if !ctx.quiet {
        eprintln!("{msg}");
    }
}
