//! Reading a table in chunks of rows, so memory is bounded by the chunk, not the file.
//!
//! `explain` and `interactions` run on files of millions of rows whose results are streamed to the
//! output; reading the whole input first would make the input, not the explanation, the memory
//! limit (a 1M-row × 30-feature CSV is ~300 MB as text and as much again as a polars frame).
//!
//! # CSV
//! The file is read line by line. The validation pass of [`super::read`] runs as a state machine over
//! the lines ([`CsvScanner`]), so ragged rows and bad UTF-8 are reported with the line number of the
//! whole file; a chunk ends after `rows` data records, never inside a quoted field that spans lines.
//! Each chunk — the header line followed by the chunk's lines — is parsed by polars as a file of its
//! own, and [`DatasetChunks`] encodes it with the model's schema, shifting the row numbers of errors
//! by the rows before the chunk. Column types come from the model's schema (numbers as `Float64`,
//! see [`super::read`]), with inference per chunk as the fallback for chunks the typed read refuses;
//! inference is harmless for numeric features (text is parsed as numbers either way) and for
//! categorical features whose levels are numbers written the canonical way. Categorical features
//! with other levels (`"1.50"`, `"007"`, words) are read as text in every chunk, so a chunk that
//! happens to hold only numbers-looking values cannot turn `"1.50"` into `1.5`.
//!
//! Rejected: polars' own batched CSV reader (in 0.52 its API is internal to the streaming engine,
//! which needs `lazy` and its dependency tree), and byte-range splitting without a scan (line
//! numbers in errors would be lost).
//!
//! # Parquet
//! Polars' eager reader can read a row range (`with_slice`) and then skips the row groups outside it,
//! so a Parquet file is read one row group at a time and handed out in chunks of `rows`: memory is
//! bounded by the row group (set by the writer; polars writes 512² rows per group by default).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::*;

use super::dataset::Dataset;
use super::error::{DataError, Result};
use super::read::{
    check_unique_names, io_error, parse_csv, parse_csv_typed, schema_dtypes, text_columns,
    CsvScanner,
};
use super::schema::{FeatureSchema, UnseenPolicy};

/// The chunks of a CSV or Parquet table, each with the 0-based index of its first row in the file.
#[derive(Debug)]
pub struct TableChunks {
    path: PathBuf,
    rows: usize,
    next_row: usize,
    done: bool,
    source: Source,
}

#[derive(Debug)]
enum Source {
    Csv {
        reader: BufReader<File>,
        scanner: CsvScanner,
        header: Vec<u8>,
        line: Vec<u8>,
        text_columns: Option<SchemaRef>,
        /// Column types from a model's schema (see [`TableChunks::with_schema`]).
        dtypes: Option<Arc<Vec<DataType>>>,
    },
    Parquet {
        /// Row ranges `(start, len)` of the row groups not yet read.
        groups: std::vec::IntoIter<(usize, usize)>,
        /// The rest of the current row group.
        pending: Option<DataFrame>,
    },
}

impl TableChunks {
    /// Opens `path` (`.csv` or `.parquet`, as [`super::read_table`]) to be read `rows` rows at a
    /// time; CSV columns named in `text_columns` are read as text.
    ///
    /// # Errors
    /// As [`super::read_table`] for what can be seen before the first chunk: a missing file, an
    /// empty file, a bad header.
    ///
    /// # Panics
    /// When `rows` is 0 (a programming error).
    pub fn open(path: impl AsRef<Path>, rows: usize, text_columns: &[String]) -> Result<Self> {
        assert!(rows > 0, "chunks need at least one row");
        let path = path.as_ref();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let source = match ext.as_deref() {
            Some("parquet") | Some("pq") => open_parquet(path)?,
            Some("csv") | Some("txt") | None => open_csv(path, text_columns)?,
            Some(_) => return Err(DataError::UnknownFormat { path: path.into() }),
        };
        Ok(TableChunks {
            path: path.into(),
            rows,
            next_row: 0,
            done: false,
            source,
        })
    }

    /// Reads CSV columns with the types `schema` gives them instead of inferring them (see
    /// [`super::read`]); the values read and the errors are the same. `text_columns` must be
    /// those given to [`TableChunks::open`].
    pub(crate) fn with_schema(mut self, schema: &FeatureSchema, text_columns: &[String]) -> Self {
        if let Source::Csv {
            scanner, dtypes, ..
        } = &mut self.source
        {
            *dtypes = scanner
                .header()
                .and_then(|names| schema_dtypes(names, schema, text_columns));
        }
        self
    }

    fn next_frame(&mut self) -> Result<Option<DataFrame>> {
        let path = &self.path;
        match &mut self.source {
            Source::Csv {
                reader,
                scanner,
                header,
                line,
                text_columns,
                dtypes,
            } => {
                let mut bytes = header.clone();
                let first_record = scanner.records();
                loop {
                    line.clear();
                    let n = reader
                        .read_until(b'\n', line)
                        .map_err(|e| io_error(path, e))?;
                    if n == 0 {
                        scanner.finish()?;
                        self.done = true;
                        break;
                    }
                    scanner.feed(line)?;
                    bytes.extend_from_slice(line);
                    if scanner.records() - first_record >= self.rows && scanner.at_record_boundary()
                    {
                        break;
                    }
                }
                if scanner.records() == first_record {
                    return Ok(None);
                }
                if let Some(df) = dtypes
                    .clone()
                    .and_then(|d| parse_csv_typed(&bytes, scanner, d))
                {
                    return Ok(Some(df));
                }
                parse_csv(path, &bytes, text_columns.clone()).map(Some)
            }
            Source::Parquet { groups, pending } => {
                if pending.as_ref().map_or(true, |p| p.height() == 0) {
                    let Some((start, len)) = groups.next() else {
                        self.done = true;
                        return Ok(None);
                    };
                    let file = File::open(path.as_path()).map_err(|e| io_error(path, e))?;
                    let df = ParquetReader::new(file)
                        .with_slice(Some((start, len)))
                        .finish()
                        .map_err(|e| DataError::Parse {
                            path: path.clone(),
                            message: e.to_string(),
                        })?;
                    *pending = Some(df);
                }
                let Some(rest) = pending.take() else {
                    return Ok(None);
                };
                let take = self.rows.min(rest.height());
                *pending = Some(rest.slice(take as i64, rest.height() - take));
                Ok(Some(rest.slice(0, take)))
            }
        }
    }
}

impl Iterator for TableChunks {
    type Item = Result<(usize, DataFrame)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_frame() {
            Ok(Some(df)) if df.height() > 0 => {
                let first = self.next_row;
                self.next_row += df.height();
                Some(Ok((first, df)))
            }
            Ok(_) => {
                self.done = true;
                if let Source::Parquet { pending, .. } = &mut self.source {
                    *pending = None;
                }
                (self.next_row == 0).then(|| {
                    Err(DataError::NoRows {
                        path: self.path.clone(),
                    })
                })
            }
            Err(e) => {
                self.done = true;
                if let Source::Parquet { pending, .. } = &mut self.source {
                    *pending = None;
                }
                Some(Err(e))
            }
        }
    }
}

fn open_csv(path: &Path, text_columns: &[String]) -> Result<Source> {
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut scanner = CsvScanner::new(path);
    let mut header = Vec::new();
    let mut line = Vec::new();
    while scanner.header().is_none() {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| io_error(path, e))?;
        if n == 0 {
            if header.iter().all(|b: &u8| b.is_ascii_whitespace()) {
                return Err(DataError::Empty { path: path.into() });
            }
            scanner.finish()?;
            break;
        }
        scanner.feed(&line)?;
        header.extend_from_slice(&line);
    }
    if header.iter().all(|b: &u8| b.is_ascii_whitespace()) {
        return Err(DataError::Empty { path: path.into() });
    }
    if !header.ends_with(b"\n") {
        header.push(b'\n');
    }
    let names = scanner.header().unwrap_or_default();
    let fields: Vec<Field> = text_columns
        .iter()
        .filter(|c| names.contains(c))
        .map(|c| Field::new(c.as_str().into(), DataType::String))
        .collect();
    let text_columns = (!fields.is_empty()).then(|| Arc::new(Schema::from_iter(fields)));
    Ok(Source::Csv {
        reader,
        scanner,
        header,
        line,
        text_columns,
        dtypes: None,
    })
}

fn open_parquet(path: &Path) -> Result<Source> {
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    if file.metadata().map(|m| m.len()).unwrap_or(0) == 0 {
        return Err(DataError::Empty { path: path.into() });
    }
    let parse = |e: PolarsError| DataError::Parse {
        path: path.into(),
        message: e.to_string(),
    };
    let mut reader = ParquetReader::new(file);
    let schema = reader.schema().map_err(parse)?;
    check_unique_names(path, schema.iter_names().map(|s| s.as_str()))?;
    let mut start = 0;
    let groups: Vec<(usize, usize)> = reader
        .get_metadata()
        .map_err(parse)?
        .row_groups
        .iter()
        .map(|rg| {
            let g = (start, rg.num_rows());
            start += rg.num_rows();
            g
        })
        .filter(|&(_, len)| len > 0)
        .collect();
    Ok(Source::Parquet {
        groups: groups.into_iter(),
        pending: None,
    })
}

/// A table read in chunks and encoded with a model's schema: each item is the 0-based index of the
/// chunk's first row in the file and the chunk's [`Dataset`]. Errors name the row of the whole
/// file.
#[derive(Debug)]
pub struct DatasetChunks {
    tables: TableChunks,
    schema: FeatureSchema,
    unseen: UnseenPolicy,
    remaining: Option<usize>,
    id_column: Option<String>,
}

impl DatasetChunks {
    /// Stops after `n` rows in all (the last chunk is cut short).
    pub fn limit(mut self, n: Option<usize>) -> Self {
        self.remaining = n;
        self
    }
}

impl Iterator for DatasetChunks {
    type Item = Result<(usize, Dataset)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == Some(0) {
            return None;
        }
        let (first, df) = match self.tables.next()? {
            Ok(c) => c,
            Err(e) => return Some(Err(e)),
        };
        let df = match self.remaining {
            Some(n) if n < df.height() => df.slice(0, n),
            _ => df,
        };
        if let Some(n) = &mut self.remaining {
            *n -= df.height();
        }
        let path = self.tables.path.clone();
        let encoded = Dataset::from_frame_with_schema(&df, &path, &self.schema, None, self.unseen)
            .and_then(|mut ds| {
                if let Some(column) = &self.id_column {
                    ds.attach_ids(&df, &path, column)?;
                }
                Ok((first, ds))
            });
        Some(encoded.map_err(|e| e.shift_rows(first)))
    }
}

impl Dataset {
    /// Reads new data for an existing model `rows` rows at a time: the chunked counterpart of
    /// [`Dataset::load_with_schema`] (no target is read). Memory is bounded by the chunk (CSV) or
    /// the row group (Parquet), and error messages name lines and rows of the whole file.
    ///
    /// # Errors
    /// What can be seen when opening (see [`TableChunks::open`]); each item can fail as
    /// [`Dataset::load_with_schema`].
    ///
    /// # Panics
    /// When `rows` is 0 (a programming error).
    ///
    /// # Example
    /// ```
    /// use glassbox::data::{Dataset, FeatureSchema, UnseenPolicy};
    /// let schema = FeatureSchema::numeric(["age", "duration"]);
    /// let chunks = Dataset::chunks_with_schema("data/german_credit.csv", &schema, UnseenPolicy::Error, 300)?;
    /// let sizes: Vec<(usize, usize)> = chunks.map(|c| c.map(|(first, ds)| (first, ds.n_rows()))).collect::<Result<_, _>>()?;
    /// assert_eq!(sizes, [(0, 300), (300, 300), (600, 300), (900, 100)]);
    /// # Ok::<(), glassbox::data::DataError>(())
    /// ```
    pub fn chunks_with_schema(
        path: impl AsRef<Path>,
        schema: &FeatureSchema,
        unseen: UnseenPolicy,
        rows: usize,
    ) -> Result<DatasetChunks> {
        Self::chunks_with_ids(path, schema, unseen, rows, None)
    }

    /// As [`Dataset::chunks_with_schema`], and each chunk also carries the values of `id_column`
    /// (read as text, so `007` stays `007`) as its [`Dataset::ids`].
    ///
    /// # Errors
    /// As [`Dataset::chunks_with_schema`]; a missing `id_column` is reported with the first chunk.
    ///
    /// # Example
    /// ```
    /// use glassbox::data::{Dataset, FeatureSchema, UnseenPolicy};
    /// let schema = FeatureSchema::numeric(["age"]);
    /// let mut chunks = Dataset::chunks_with_ids("data/german_credit.csv", &schema, UnseenPolicy::Error, 2, Some("duration"))?;
    /// let (_, first) = chunks.next().unwrap()?;
    /// assert_eq!(first.ids().unwrap(), ["6", "48"]);
    /// # Ok::<(), glassbox::data::DataError>(())
    /// ```
    pub fn chunks_with_ids(
        path: impl AsRef<Path>,
        schema: &FeatureSchema,
        unseen: UnseenPolicy,
        rows: usize,
        id_column: Option<&str>,
    ) -> Result<DatasetChunks> {
        let mut text = text_columns(schema);
        text.extend(id_column.map(str::to_string));
        let tables = TableChunks::open(path, rows, &text)?.with_schema(schema, &text);
        Ok(DatasetChunks {
            tables,
            schema: schema.clone(),
            unseen,
            remaining: None,
            id_column: id_column.map(str::to_string),
        })
    }
}

impl Dataset {
    /// The values of one column of a table, as text (`007` stays `007`; missing values are empty
    /// strings): the row identifiers of [`Dataset::ids`] for a whole file, read in chunks.
    ///
    /// # Errors
    /// As [`Dataset::chunks_with_ids`], e.g. a missing column (named, with the file's columns).
    pub fn read_ids(path: impl AsRef<Path>, column: &str) -> Result<Vec<String>> {
        let none = FeatureSchema::new(Vec::new());
        let mut ids = Vec::new();
        for chunk in Self::chunks_with_ids(path, &none, UnseenPolicy::Error, 1 << 16, Some(column))?
        {
            let (_, ds) = chunk?;
            ids.extend_from_slice(ds.ids().unwrap_or_default());
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    fn sizes(text: &str, rows: usize) -> Result<Vec<(usize, usize)>> {
        let f = file(text);
        TableChunks::open(f.path(), rows, &[])?
            .map(|c| c.map(|(first, df)| (first, df.height())))
            .collect()
    }

    #[test]
    fn chunks_cover_every_row_once() {
        // Chunks end after 2 non-blank records; polars reads the blank line as a row of missing
        // values, as it does when it reads the whole file, so row indices stay those of a
        // whole-file read.
        let text = "a,b\n1,2\n3,4\n\n5,6\n7,8\n9,10";
        assert_eq!(sizes(text, 2).unwrap(), [(0, 2), (2, 3), (5, 1)]);
        assert_eq!(sizes(text, 10).unwrap(), [(0, 6)]);
        let whole = super::super::read_table(file(text).path()).unwrap();
        assert_eq!(whole.height(), 6);
    }

    #[test]
    fn quoted_newline_stays_in_one_chunk() {
        let text = "a,b\n1,\"x\ny\"\n2,z\n";
        assert_eq!(sizes(text, 1).unwrap(), [(0, 1), (1, 1)]);
    }

    #[test]
    fn ragged_line_in_a_later_chunk_names_the_file_line() {
        let f = file("a,b\n1,2\n3,4\n5,6\n7\n");
        let err = TableChunks::open(f.path(), 2, &[])
            .unwrap()
            .find_map(|c| c.err())
            .unwrap();
        match err {
            DataError::Ragged { line, .. } => assert_eq!(line, 5),
            other => panic!("expected a ragged-row error, got {other:?}"),
        }
    }

    #[test]
    fn header_only_is_no_rows() {
        assert!(matches!(sizes("a,b\n", 2), Err(DataError::NoRows { .. })));
        assert!(matches!(
            TableChunks::open(file("  \n").path(), 2, &[]),
            Err(DataError::Empty { .. })
        ));
    }

    #[test]
    fn errors_name_the_row_of_the_whole_file() {
        let f = file("x\n1\n2\n3\nabc\n5\n");
        let schema = FeatureSchema::numeric(["x"]);
        let err = Dataset::chunks_with_schema(f.path(), &schema, UnseenPolicy::Error, 2)
            .unwrap()
            .find_map(|c| c.err())
            .unwrap();
        match err {
            DataError::NotNumeric { row, value, .. } => {
                assert_eq!((row, value.as_str()), (4, "abc"))
            }
            other => panic!("expected a not-numeric error, got {other:?}"),
        }
    }

    #[test]
    fn text_levels_survive_chunks_that_look_numeric() {
        use super::super::schema::Feature;
        let f = file("c\n1.50\n2\nabc\n");
        let schema = FeatureSchema::new(vec![Feature {
            name: "c".into(),
            kind: super::super::schema::FeatureKind::Categorical {
                levels: vec!["1.50".into(), "2".into(), "abc".into()],
            },
        }]);
        let values: Vec<f64> =
            Dataset::chunks_with_schema(f.path(), &schema, UnseenPolicy::Error, 1)
                .unwrap()
                .map(|c| c.unwrap().1.x()[[0, 0]])
                .collect();
        assert_eq!(values, [0.0, 1.0, 2.0]);
    }

    type Read = std::result::Result<Vec<u64>, String>;

    /// The bits of a value read, with `-0` as `0`: inference reads `-0` as the integer 0 when its
    /// column holds only integers and as `-0.0` otherwise; the typed read always gives `-0.0`,
    /// which compares equal to 0 in every model.
    fn zero_bits(v: f64) -> u64 {
        if v == 0.0 {
            0
        } else {
            v.to_bits()
        }
    }

    /// The typed and the inferring read agree — except where inference alone fails: a column
    /// whose integers are all beyond i64 is inferred as i64, which polars then cannot parse; the
    /// typed read reads them as the numbers they are.
    fn same_or_inference_fails(typed: Read, inferred: Read, what: &str) {
        match (&typed, &inferred) {
            (Ok(_), Err(e)) if e.contains("could not parse") && e.contains("as dtype `i64`") => {}
            _ => assert_eq!(typed, inferred, "{what}"),
        }
    }

    /// The typed read (column types from the schema) is a fast path only: on every input, tricky
    /// ones included, it must give what the inferring read gives — the same values bit for bit, or
    /// the same error — both for whole files and in chunks.
    #[test]
    fn typed_read_matches_inference() {
        use super::super::read::{read_table_with_schema, text_columns};
        use super::super::schema::{Feature, FeatureKind};
        let cat = |levels: &[&str]| FeatureKind::Categorical {
            levels: levels.iter().map(|l| l.to_string()).collect(),
        };
        // `k` (number levels) has no exact type: with it the file is read the inferring way.
        let typed_schema = FeatureSchema::new(vec![
            Feature {
                name: "x".into(),
                kind: FeatureKind::Numeric,
            },
            Feature {
                name: "c".into(),
                kind: FeatureKind::CategoryCode,
            },
            Feature {
                name: "t".into(),
                kind: cat(&["a", "b", "1.50"]),
            },
        ]);
        let mut features = typed_schema.features().to_vec();
        features.insert(
            2,
            Feature {
                name: "k".into(),
                kind: cat(&["1", "2", "3"]),
            },
        );
        let full_schema = FeatureSchema::new(features);
        let header: Vec<String> = ["x", "c", "k", "t", "id"].map(String::from).to_vec();
        let typed_header = schema_dtypes(&header, &typed_schema, &text_columns(&typed_schema));
        assert!(
            typed_header.is_some(),
            "the test must exercise the typed read"
        );
        assert!(schema_dtypes(&header, &full_schema, &text_columns(&full_schema)).is_none());
        let good = "1.5,0,1,a,r1\n2,1,2,b,r2\n";
        let fields = [
            "0",
            "17",
            "-3",
            "+5",
            ".5",
            "5.",
            "1e3",
            "1E-3",
            "\"2.5\"",
            " 5",
            "\t5",
            "5 ",
            " ",
            "\"\"",
            "\" \"",
            "",
            "NaN",
            "nan",
            "inf",
            "-inf",
            "Infinity",
            "abc",
            "true",
            "0x10",
            "1_000",
            "\"1,000\"",
            "12345678901234567890",
            "1e400",
            "4.0",
            "1.0",
            "-1",
            "0.5",
            "1.50",
            "c",
            "-0",
            "-0.0",
            "007",
        ];
        let mut cases = vec![
            good.to_string(),
            format!("{good}\n3,2,3,a,r3\n"),
            good.replace('\n', "\r\n"),
        ];
        for v in fields {
            for col in 0..4 {
                let mut row = vec!["1", "1", "2", "b", "id"];
                row[col] = v;
                cases.push(format!("{good}{}\n", row.join(",")));
            }
        }
        // Columns in another order, a missing feature, an extra column only.
        cases.push("t,id,k,c,x\na,1,2,0,3.5\n".into());
        cases.push("x,c,t\n1,2,a\n".into());
        for (body, schema) in cases
            .iter()
            .flat_map(|b| [(b, &typed_schema), (b, &full_schema)])
        {
            let text = if body.starts_with('t') || body.starts_with("x,c,t\n") {
                body.clone()
            } else {
                format!("x,c,k,t,id\n{body}")
            };
            let f = file(&text);
            let describe = |r: Result<Dataset>| match r {
                Ok(ds) => Ok(ds.x().iter().map(|&v| zero_bits(v)).collect::<Vec<_>>()),
                Err(e) => Err(e.to_string()),
            };
            let inferred = describe(super::super::read_table(f.path()).and_then(|df| {
                Dataset::from_frame_with_schema(&df, f.path(), schema, None, UnseenPolicy::Error)
            }));
            let typed = describe(read_table_with_schema(f.path(), schema).and_then(|df| {
                Dataset::from_frame_with_schema(&df, f.path(), schema, None, UnseenPolicy::Error)
            }));
            same_or_inference_fails(typed, inferred, &text);
            let text_cols = text_columns(schema);
            let chunked = |typed: bool| {
                let mut tables = TableChunks::open(f.path(), 2, &text_cols).unwrap();
                if typed {
                    tables = tables.with_schema(schema, &text_cols);
                }
                let chunks = DatasetChunks {
                    tables,
                    schema: schema.clone(),
                    unseen: UnseenPolicy::Error,
                    remaining: None,
                    id_column: None,
                };
                let mut bits = Vec::new();
                for c in chunks {
                    match c {
                        Ok((_, ds)) => bits.extend(ds.x().iter().map(|&v| zero_bits(v))),
                        Err(e) => return Err(e.to_string()),
                    }
                }
                Ok(bits)
            };
            same_or_inference_fails(chunked(true), chunked(false), &format!("chunks of {text}"));
        }
    }
}
