//! What `explain` and `interactions` share: the input read in chunks of rows, and the output
//! written to a temporary file that replaces the destination only when every chunk succeeded.
//!
//! Both commands run on files of any size, so neither ever holds the whole input or the whole
//! output: memory is bounded by `--chunk-size` (see [`glassbox::data::DatasetChunks`]). An error
//! found in a late chunk (a bad value on row 900 000) still leaves no partial output file.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use glassbox::data::{Dataset, DatasetChunks, FeatureSchema, UnseenPolicy};

use super::{CliError, Context};

/// The rows of an input file, chunk by chunk, with a progress bar.
pub struct RowStream {
    chunks: DatasetChunks,
    bar: indicatif::ProgressBar,
    rows: usize,
}

impl RowStream {
    /// Opens `path` to be read `chunk_size` rows at a time, encoded with `schema`, stopping after
    /// `limit` rows when given; each chunk carries the values of `id_column` as its ids.
    ///
    /// # Errors
    /// Input errors visible on opening (missing or empty file, bad header).
    pub fn open(
        ctx: &Context,
        what: &str,
        path: &Path,
        schema: &FeatureSchema,
        unseen: UnseenPolicy,
        chunk_size: usize,
        limit: Option<usize>,
        id_column: Option<&str>,
    ) -> Result<RowStream, CliError> {
        let chunks =
            Dataset::chunks_with_ids(path, schema, unseen, chunk_size, id_column)?.limit(limit);
        let bar = match limit {
            Some(n) => super::progress(ctx, n as u64, what),
            None if ctx.quiet => indicatif::ProgressBar::hidden(),
            // The row count is unknown until the end of the file.
            None => {
                let bar = indicatif::ProgressBar::new_spinner();
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{msg:>10} {pos} rows {elapsed_precise}",
                ) {
                    bar.set_style(style);
                }
                bar.set_message(what.to_string());
                bar
            }
        };
        Ok(RowStream {
            chunks,
            bar,
            rows: 0,
        })
    }

    /// The next chunk: the index of its first row in the file and its rows.
    ///
    /// # Errors
    /// Input errors in the chunk, naming the line or row of the whole file.
    pub fn next_chunk(&mut self) -> Result<Option<(usize, Dataset)>, CliError> {
        self.bar.inc(0);
        match self.chunks.next() {
            None => {
                self.bar.finish_and_clear();
                Ok(None)
            }
            Some(Err(e)) => {
                self.bar.finish_and_clear();
                Err(e.into())
            }
            Some(Ok((first, ds))) => {
                self.rows += ds.n_rows();
                self.bar.inc(ds.n_rows() as u64);
                Ok(Some((first, ds)))
            }
        }
    }

    /// Rows handed out so far.
    pub fn rows(&self) -> usize {
        self.rows
    }
}

/// The id column of a chunk for [`glassbox::output::NumericTableWriter::write_chunk_with_text`].
pub fn id_column<'a>(name: Option<&'a str>, ds: &'a Dataset) -> Option<(&'a str, &'a [String])> {
    name.zip(ds.ids())
}

/// Writes `out` atomically with `fill`. An error from `fill` is returned as it is (an I/O error
/// gets the file's name) and leaves no file behind.
///
/// # Errors
/// `fill`'s error, or an I/O error creating, writing or renaming the file.
pub fn write_output(
    out: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let mut failure: Option<CliError> = None;
    let result = glassbox::output::write_atomic(out, |w| {
        fill(w).map_err(|e| {
            failure = Some(e);
            std::io::Error::other("stopped")
        })
    });
    match (failure, result) {
        (Some(mut f), _) => {
            if f.error.downcast_ref::<std::io::Error>().is_some() {
                f.error = f.error.context(format!("{}: cannot write", out.display()));
            }
            Err(f)
        }
        (None, Err(e)) => Err(anyhow::anyhow!("{}: {e}", out.display()).into()),
        (None, Ok(())) => Ok(()),
    }
}
