//! `--id COL` on `predict`, `explain` and `reasons`: the identifier column of the input is carried
//! into the output, as text, aligned with its row whatever the chunking, and bad ids are refused.

use std::path::Path;
use std::process::Command;

use glassbox::data::read_table;

fn glassbox(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_glassbox"))
        .args(args)
        .arg("-q")
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// 40 training rows with an `app` identifier column (zero-padded, one empty), then a model trained
/// without it.
fn setup(dir: &Path) {
    let mut csv = String::from("app,income,region,y\n");
    for i in 0..40 {
        let app = if i == 5 {
            String::new()
        } else {
            format!("{i:05}")
        };
        let region = ["north", "south"][i % 2];
        csv.push_str(&format!("{app},{},{region},{}\n", 20 + 3 * i, (i / 3) % 2));
    }
    std::fs::write(dir.join("d.csv"), csv).unwrap();
    let (code, err) = glassbox(
        dir,
        &[
            "train", "--data", "d.csv", "--target", "y", "--model", "gbdt", "--ignore", "app",
            "--trees", "5", "--out", "m.json",
        ],
    );
    assert_eq!(code, 0, "{err}");
}

fn expected_ids() -> Vec<String> {
    (0..40)
        .map(|i| {
            if i == 5 {
                String::new()
            } else {
                format!("{i:05}")
            }
        })
        .collect()
}

fn csv_column(path: &Path, name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let j = header.iter().position(|h| *h == name).unwrap();
    lines
        .map(|l| l.split(',').nth(j).unwrap().to_string())
        .collect()
}

#[test]
fn predict_and_explain_carry_ids_last_in_every_chunking_and_format() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d);
    for chunk in ["7", "65536"] {
        for (command, out, header) in [
            ("predict", "p.csv", "raw,prediction,app\n"),
            ("explain", "e.csv", "income,region,base_value,app\n"),
        ] {
            let (code, err) = glassbox(
                d,
                &[
                    command,
                    "--model",
                    "m.json",
                    "--data",
                    "d.csv",
                    "--id",
                    "app",
                    "--chunk-size",
                    chunk,
                    "--out",
                    out,
                ],
            );
            assert_eq!(code, 0, "{err}");
            let text = std::fs::read_to_string(d.join(out)).unwrap();
            assert!(text.starts_with(header), "{command}: {text}");
            assert_eq!(csv_column(&d.join(out), "app"), expected_ids(), "{command}");
        }
    }
    // The attributions are those of the run without ids.
    let (code, err) = glassbox(
        d,
        &[
            "explain",
            "--model",
            "m.json",
            "--data",
            "d.csv",
            "--out",
            "plain.csv",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let with = glassbox::explain::Explanation::read(d.join("e.csv")).unwrap();
    let without = glassbox::explain::Explanation::read(d.join("plain.csv")).unwrap();
    assert_eq!(with.values(), without.values());
    assert_eq!(with.feature_names(), without.feature_names());

    // Parquet keeps the ids as text.
    let (code, err) = glassbox(
        d,
        &[
            "explain",
            "--model",
            "m.json",
            "--data",
            "d.csv",
            "--id",
            "app",
            "--out",
            "e.parquet",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let df = read_table(d.join("e.parquet")).unwrap();
    let ids: Vec<String> = df
        .column("app")
        .unwrap()
        .str()
        .unwrap()
        .into_iter()
        .map(|v| v.unwrap_or("").to_string())
        .collect();
    assert_eq!(ids, expected_ids());
}

#[test]
fn reasons_carry_ids_after_the_row_number() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d);
    let (code, err) = glassbox(
        d,
        &[
            "explain", "--model", "m.json", "--data", "d.csv", "--id", "app", "--out", "e.csv",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, err) = glassbox(
        d,
        &[
            "reasons",
            "--explanation",
            "e.csv",
            "--model",
            "m.json",
            "--data",
            "d.csv",
            "--id",
            "app",
            "--top",
            "1",
            "--out",
            "r.csv",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(d.join("r.csv")).unwrap();
    assert!(text.starts_with("row,app,score,reason_1,"), "{text}");
    assert_eq!(csv_column(&d.join("r.csv"), "app"), expected_ids());
    let rows: Vec<String> = csv_column(&d.join("r.csv"), "row");
    assert_eq!(rows, (0..40).map(|i| i.to_string()).collect::<Vec<_>>());
}

#[test]
fn bad_ids_are_refused_with_a_clear_message_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d);
    let (code, err) = glassbox(
        d,
        &[
            "predict", "--model", "m.json", "--data", "d.csv", "--id", "nope", "--out", "p.csv",
        ],
    );
    assert_eq!(
        (code, err.as_str()),
        (
            2,
            "glassbox: error: d.csv: no column named 'nope'; the columns are: app, income, region, y\n"
        )
    );
    assert!(!d.join("p.csv").exists());
    let (code, err) = glassbox(
        d,
        &[
            "explain", "--model", "m.json", "--data", "d.csv", "--id", "income", "--out", "e.csv",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("--id income is one of the model's features"),
        "{err}"
    );
    assert!(!d.join("e.csv").exists());
}

#[test]
fn report_shows_ids_with_local_explanations_and_in_its_reason_codes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d);
    let (code, err) = glassbox(
        d,
        &[
            "report", "--model", "m.json", "--data", "d.csv", "--id", "app", "--out", "rep",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(d.join("rep/index.html")).unwrap();
    let ids = expected_ids();
    let mut shown = 0;
    for part in html.split("Row ").skip(1) {
        let Some((row, rest)) = part.split_once(" (app ") else {
            continue;
        };
        let Ok(row) = row.parse::<usize>() else {
            continue;
        };
        let id = rest.split(')').next().unwrap();
        assert_eq!(id, ids[row], "row {row}");
        shown += 1;
    }
    assert!(shown >= 1, "no local explanation shows its id");
    assert_eq!(csv_column(&d.join("rep/reasons.csv"), "app"), ids);
}
