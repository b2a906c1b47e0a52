//! Provenance: what produced a report, so that it can be reproduced and its inputs verified.
//!
//! Files are identified by SHA-256 of their bytes (not by name or timestamp): anyone holding the
//! model and data files can check that a report describes exactly them. Dates are UTC, computed
//! from the system clock without a time-zone database (Hinnant's `civil_from_days`).

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

/// What produced a report.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Provenance {
    /// glassbox's version (`env!("CARGO_PKG_VERSION")` of the producing build).
    pub glassbox_version: String,
    /// The model file's name, as given.
    pub model_file: Option<String>,
    /// SHA-256 of the model file, hex.
    pub model_sha256: Option<String>,
    /// The data file's name, as given.
    pub data_file: Option<String>,
    /// SHA-256 of the data file, hex.
    pub data_sha256: Option<String>,
    /// The seed of every random step (explainer sampling, plot subsampling).
    pub seed: Option<u64>,
    /// The explanation method.
    pub method: String,
    /// When the report was generated, `YYYY-MM-DD HH:MM:SS UTC`.
    pub generated_utc: String,
    /// The command line, when run from the CLI.
    pub command: Option<String>,
    /// Other input files that shaped the report — background rows of an interventional or
    /// sampling explainer, the reference rows of reason codes — as (role, file, SHA-256 hex).
    pub other_inputs: Vec<(String, String, String)>,
}

/// SHA-256 of a file's bytes, as lowercase hex.
///
/// # Errors
/// When the file cannot be read.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let k = file.read(&mut buf)?;
        if k == 0 {
            break;
        }
        hasher.update(&buf[..k]);
    }
    Ok(hex(&hasher.finalize()))
}

/// SHA-256 of bytes, as lowercase hex.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Formats seconds since the Unix epoch as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn format_utc(unix_seconds: i64) -> String {
    let days = unix_seconds.div_euclid(86_400);
    let secs = unix_seconds.rem_euclid(86_400);
    // civil_from_days, Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms".
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// The current time, formatted by [`format_utc`].
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    format_utc(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates_match_known_instants() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        // `date -u -d @951782400` → Tue Feb 29 00:00:00 UTC 2000 (a leap day).
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00:00 UTC");
        // `date -u -d @1700000000` → Tue Nov 14 22:13:20 UTC 2023.
        assert_eq!(format_utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(format_utc(-1), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn sha256_of_known_input() {
        // FIPS 180-2 example: SHA-256("abc").
        assert_eq!(
            sha256_bytes(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(sha256_file(&p).unwrap(), sha256_bytes(b"abc"));
    }
}
