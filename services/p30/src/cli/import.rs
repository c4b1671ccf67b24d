//! `p30 import FILE`: an inventory (kiểm kê) of procedures, as NDJSON (each line the body of
//! `POST /v1/procedures`) or CSV (a header row of the same field names; `documents` as
//! `name×copies; name×copies`). A file goes in whole or not at all: every line is parsed and decided
//! first, then all registrations are appended in one atomic append.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use events::decide::{Command, History, decide};
use events::{Change, Procedure, StreamId};
use eventstore::{Append, ExpectedVersion, Log};
use serde_json::{Map, Value};

use server::http::body;

use super::{DataDir, open_log};

/// One line that cannot go in, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub column: Option<usize>,
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.column {
            Some(c) => {
                write!(f, "line {}, column {} ({}): {}", self.line, c, self.field.trim_start_matches('/'), self.message)
            }
            None => write!(f, "line {} ({}): {}", self.line, self.field, self.message),
        }
    }
}

/// Fields whose CSV cells are numbers.
const NUMBERS: &[&str] =
    &["processing_days", "steps", "fee_vnd", "out_of_pocket_vnd", "applicant_hours", "annual_volume"];

/// Reads `Tờ khai×1; Bản sao giấy khai sinh×2` (`*` also works for ×; copies default to 1).
fn documents_cell(cell: &str) -> Value {
    let items: Vec<Value> = cell
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            let split =
                item.rfind(['×', '*']).filter(|&i| item[i..].chars().skip(1).all(|c| c.is_ascii_digit() || c == ' '));
            match split {
                Some(i) => {
                    let copies = item[i..].chars().skip(1).collect::<String>();
                    let copies: Value = copies.trim().parse::<u64>().map(Value::from).unwrap_or(Value::String(copies));
                    serde_json::json!({"name": item[..i].trim(), "copies": copies})
                }
                None => serde_json::json!({"name": item, "copies": 1}),
            }
        })
        .collect();
    Value::Array(items)
}

/// A line of the file as a JSON object, with its line number.
type Line = (usize, Map<String, Value>);

/// The lines of a file as JSON objects and, for CSV, its header.
fn read_lines(text: &str, csv_format: bool) -> Result<(Vec<Line>, Vec<String>), LineError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if !csv_format {
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(line) {
                Ok(Value::Object(map)) => out.push((i + 1, map)),
                Ok(_) => {
                    return Err(LineError {
                        line: i + 1,
                        column: None,
                        field: "/".into(),
                        message: "each line must be a JSON object".into(),
                    });
                }
                Err(e) => {
                    return Err(LineError {
                        line: i + 1,
                        column: None,
                        field: "/".into(),
                        message: format!("malformed JSON: {e}"),
                    });
                }
            }
        }
        return Ok((out, Vec::new()));
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| LineError { line: 1, column: None, field: "header".into(), message: e.to_string() })?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            LineError { line, column: None, field: "row".into(), message: e.to_string() }
        })?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let mut map = Map::new();
        for (name, cell) in header.iter().zip(record.iter()) {
            let value = if name == "documents" {
                documents_cell(cell)
            } else if NUMBERS.contains(&name.as_str()) {
                serde_json::from_str::<Value>(cell.trim())
                    .ok()
                    .filter(Value::is_number)
                    .unwrap_or(Value::String(cell.into()))
            } else {
                Value::String(cell.into())
            };
            map.insert(name.clone(), value);
        }
        out.push((line, map));
    }
    Ok((out, header))
}

/// Parses and decides every line against the log; returns the registrations or every error found.
fn check(log: &Log, text: &str, csv_format: bool) -> Result<Vec<Command>, Vec<LineError>> {
    let (lines, header) = read_lines(text, csv_format).map_err(|e| vec![e])?;
    let column = |field: &str| {
        let name = field.trim_start_matches('/').split('/').next().unwrap_or("");
        header.iter().position(|h| h == name).map(|i| i + 1)
    };
    let (mut commands, mut errors, mut seen) = (Vec::new(), Vec::new(), HashSet::new());
    for (line, mut map) in lines {
        let parsed = body::envelope(&mut map, true, true).and_then(|env| {
            let procedure: Procedure = body::parse(Value::Object(map), "")?;
            Ok((env, procedure))
        });
        let (env, procedure) = match parsed {
            Ok(x) => x,
            Err(p) => {
                for e in &p.errors {
                    let col = if csv_format { column(&e.field) } else { None };
                    errors.push(LineError { line, column: col, field: e.field.clone(), message: e.message.clone() });
                }
                continue;
            }
        };
        let code = procedure.code.clone();
        let command = Command {
            change: Change::ProcedureRegistered(procedure),
            effective_on: env.effective_on.unwrap_or_else(|| eventstore::system_clock().date_in_vietnam()),
            legal_basis: env.legal_basis,
            note: env.note,
        };
        let refused = |message: String| LineError {
            line,
            column: if csv_format { column("code") } else { None },
            field: "/code".into(),
            message,
        };
        if !seen.insert(code.clone()) {
            errors.push(refused(format!("procedure {code} appears twice in this file")));
            continue;
        }
        let stream = StreamId::procedure(&code);
        let history = match log.read_stream(&stream) {
            Ok(events) => {
                let mut history = History::new();
                history.insert_stream(stream, events);
                history
            }
            Err(e) => {
                errors.push(refused(e.to_string()));
                continue;
            }
        };
        match decide(&command, &history) {
            Ok(_) => commands.push(command),
            Err(e) => errors.push(refused(e.to_string())),
        }
    }
    if errors.is_empty() { Ok(commands) } else { Err(errors) }
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    data_dir: DataDir,
    /// The inventory file (.csv, or .ndjson with one POST /v1/procedures body a line).
    file: PathBuf,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let log = open_log(&self.data_dir.path)?;
        let file = self.file;
        let actor = format!("import:{}", file.file_name().map(|f| f.to_string_lossy()).unwrap_or_default());
        let n = import(&log, &file, &actor)?;
        log.close();
        println!("imported {n} procedures from {}", file.display());
        Ok(())
    }
}

/// Imports a file into the log: all of it, or nothing. Returns how many procedures were registered.
fn import(log: &Log, path: &Path, actor: &str) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let csv_format = match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("csv") => true,
        Some("ndjson" | "jsonl" | "json") => false,
        _ => !text.trim_start_matches('\u{feff}').trim_start().starts_with('{'),
    };
    let bar = indicatif::ProgressBar::new(text.lines().count() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} lines")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("checking");
    let commands = check(log, &text, csv_format).map_err(|errors| {
        bar.finish_and_clear();
        let shown: Vec<String> = errors.iter().take(20).map(ToString::to_string).collect();
        let more = if errors.len() > 20 { format!(" (and {} more)", errors.len() - 20) } else { String::new() };
        anyhow::anyhow!("nothing imported: {}{more}", shown.join("; "))
    })?;
    bar.set_position(bar.length().unwrap_or(0));
    bar.set_message("writing");
    let mut events = Vec::with_capacity(commands.len());
    let mut expected = Vec::with_capacity(commands.len());
    for command in &commands {
        let new = decide(command, &History::new()).map_err(|e| anyhow::anyhow!("{e}"))?;
        for n in new {
            expected.push((n.stream.clone(), ExpectedVersion::NoStream));
            events.push(n);
        }
    }
    if events.is_empty() {
        bar.finish_and_clear();
        return Ok(0);
    }
    let count = events.len() as u64;
    log.append(Append { events, expected, actor: actor.to_owned(), command_id: None, fingerprint: [0; 32] })
        .map_err(|e| anyhow::anyhow!("nothing imported: {e}"))?;
    bar.finish_and_clear();
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_cells_read_names_and_copies() {
        assert_eq!(
            documents_cell("Tờ khai×1; Bản sao giấy khai sinh×2"),
            serde_json::json!([{"name": "Tờ khai", "copies": 1}, {"name": "Bản sao giấy khai sinh", "copies": 2}])
        );
        assert_eq!(documents_cell(""), serde_json::json!([]));
        assert_eq!(documents_cell("Ảnh 4x6"), serde_json::json!([{"name": "Ảnh 4x6", "copies": 1}]));
    }
}
