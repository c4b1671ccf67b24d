//! `p30 export`: the log for analysts, as NDJSON (one event a line, as the API shows it) or CSV (the
//! envelope as columns, the payload as a JSON cell), for pandas, DuckDB or a spreadsheet.

use std::io::Write;

use eventstore::Log;

/// The output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Ndjson,
    Csv,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ndjson" => Ok(Self::Ndjson),
            "csv" => Ok(Self::Csv),
            other => Err(format!("no format {other:?}: ndjson or csv")),
        }
    }
}

const COLUMNS: &[&str] = &[
    "seq",
    "event_id",
    "stream",
    "version",
    "type",
    "schema_version",
    "recorded_at",
    "effective_on",
    "actor",
    "command_id",
    "legal_basis",
    "note",
    "payload",
];

/// Calls `visit` with every event after `after`, in batches read from the log.
fn each_event(
    log: &Log,
    after: u64,
    mut visit: impl FnMut(serde_json::Value) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let (mut next, mut count) = (after, 0u64);
    loop {
        let events = log.read_after(next, 10_000)?;
        let Some(last) = events.last() else { return Ok(count) };
        next = last.seq;
        for e in &events {
            visit(e.to_json())?;
            count += 1;
        }
    }
}

/// Writes every event after `after` to `out`; returns how many.
pub fn export(log: &Log, format: Format, after: u64, out: impl Write) -> anyhow::Result<u64> {
    let mut out = std::io::BufWriter::new(out);
    let count = match format {
        Format::Ndjson => each_event(log, after, |json| {
            serde_json::to_writer(&mut out, &json)?;
            out.write_all(b"\n")?;
            Ok(())
        })?,
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(COLUMNS)?;
            let count = each_event(log, after, |json| {
                let cell = |k: &str| match &json[k] {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                };
                w.write_record(COLUMNS.iter().map(|c| cell(c)))?;
                Ok(())
            })?;
            w.flush()?;
            count
        }
    };
    out.flush()?;
    Ok(count)
}
