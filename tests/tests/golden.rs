//! Golden answers: every GET of the API and the pages, asked of a data dir written by an older p30
//! (`tests/fixtures/data-v1`, see `make-data-v1.sh`), compared byte for byte with `tests/golden/`.
//!
//! They pin behaviour across refactors and prove that old data opens and serves the same. Answers that
//! depend on the clock are asked with explicit `as_of` and `known_at` where the API takes them; where it
//! does not (defaults, pages), what the clock puts in is replaced by a placeholder before comparing.
//! `P30_BLESS=1 cargo test -p p30-tests --test golden` writes the files anew (review the diff!).

use std::path::Path;

use p30_tests::{TestServer, workspace};

/// Before the fixture's extra writes (the demo data only).
const DEMO_ONLY: &str = "2026-12-04T18:51:09.800000Z";
/// The abolition of 1.000001 known, its retraction not yet.
const ABOLITION_KNOWN: &str = "2026-12-05T01:51:10.000000%2B07:00";
/// Everything the fixture holds.
const EVERYTHING: &str = "2026-12-06";

fn requests() -> Vec<String> {
    let mut paths: Vec<String> = [
        "/healthz",
        "/openapi.json",
        "/v1/events",
        "/v1/events?after=0&limit=3",
        "/v1/events?after=495&limit=20",
        "/v1/events?after=abc",
        "/v1/events?limit=0",
        "/v1/events?after=1&bogus=2",
        "/v1/procedures",
        "/v1/procedures?limit=5",
        "/v1/procedures?after=1.000050.H99&limit=3",
        "/v1/procedures?agency=STP",
        "/v1/procedures?sector=H%E1%BB%99%20t%E1%BB%8Bch&limit=4",
        "/v1/procedures?level=commune&limit=4",
        "/v1/procedures?status=abolished",
        "/v1/procedures?status=merged&limit=5",
        "/v1/procedures?q=dang%20ky%20khai%20sinh&limit=5",
        "/v1/procedures?q=ho%20tich&limit=3",
        "/v1/procedures?q=zzzz",
        "/v1/procedures?level=galaxy",
        "/v1/procedures?status=sleeping",
        "/v1/procedures?limit=1001",
        "/v1/procedures?as_of=2013-12-31&limit=2",
        "/v1/procedures/1.000001",
        "/v1/procedures/2.000005",
        "/v1/procedures/3.000003",
        "/v1/procedures/3.000010",
        "/v1/procedures/1.000042.H99",
        "/v1/procedures/9.999999",
        "/v1/procedures/not%20a%20code",
        "/v1/procedures/1.000001/events",
        "/v1/procedures/3.000010/events",
        "/v1/procedures/9.999999/events",
        "/v1/procedures/1.000001?as_of=2013-12-31&baseline_on=2011-01-01",
        "/v1/procedures/1.000001?as_of=2010-12-31&baseline_on=2011-01-01&known_at=2026-12-06",
        "/v1/procedures/1.000001?as_of=2011-13-45",
        "/v1/reductions",
        "/v1/reductions?group_by=agency",
        "/v1/reductions?group_by=sector",
        "/v1/reductions?group_by=level",
        "/v1/reductions?group_by=planet",
        "/v1/reductions?baseline_on=2012-01-01&as_of=2011-06-01",
        "/v1/reductions?unknown=1",
        "/v1/programmes",
        "/v1/programmes/de-an-30",
        "/v1/programmes/nq-68",
        "/v1/programmes/none",
        "/v1/subscribe?bogus=1",
        // The dashboard's charts run by quarter up to `as_of`: asked as of a fixed date so they stay put.
        "/?as_of=2016-06-30",
        "/?as_of=2013-12-31&lang=en&group_by=sector",
        "/catalogue",
        "/catalogue?lang=en",
        "/catalogue?q=dang%20ky%20khai%20sinh",
        "/catalogue?q=ho%20tich&lang=en",
        "/catalogue/1.000001",
        "/catalogue/3.000010?lang=en",
        "/catalogue/2.000005",
        "/catalogue/9.999999",
        "/nowhere",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for known_at in [DEMO_ONLY, ABOLITION_KNOWN, EVERYTHING] {
        for (as_of, baseline) in
            [("2011-12-31", "2011-01-01"), ("2013-12-31", "2011-01-01"), ("2015-12-31", "2013-01-01")]
        {
            for by in ["all", "agency", "sector", "level"] {
                paths.push(format!(
                    "/v1/reductions?group_by={by}&as_of={as_of}&baseline_on={baseline}&known_at={known_at}"
                ));
            }
        }
        paths.push(format!("/v1/reductions?as_of=2013-12-31&known_at={known_at}"));
        paths.push(format!("/v1/programmes?as_of=2013-12-31&known_at={known_at}"));
        paths.push(format!("/v1/programmes/nq-68?as_of=2014-06-30&known_at={known_at}"));
        for code in ["1.000001", "2.000002", "3.000010", "3.000004", "2.000005", "1.000042.H99"] {
            paths.push(format!("/v1/procedures/{code}?as_of=2014-06-30&known_at={known_at}"));
        }
        paths.push(format!("/v1/procedures?as_of=2012-06-30&known_at={known_at}&agency=SKHDT"));
    }
    paths
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A file name for a request: its path and query with everything outside `[A-Za-z0-9._-]` as `_`.
fn file_name(path: &str) -> String {
    let slug: String =
        path.chars().map(|c| if c.is_ascii_alphanumeric() || ".-".contains(c) { c } else { '_' }).collect();
    let slug = if slug == "_" { "index".to_owned() } else { slug };
    format!("{}.txt", slug.trim_start_matches('_').chars().take(150).collect::<String>().replace("__", "_"))
}

/// What the clock puts into an answer, replaced: today's date in Vietnam (the default `as_of`, where the
/// answers and the dashboard's date field show it) and the current time (the default `known_at`). Only
/// there: the fixture's own events were recorded on a day that was once today.
fn without_the_clock(answer: &str, asked: &str) -> String {
    let mut out = answer.to_owned();
    if !asked.contains("known_at=") {
        out = replace_json_string(&out, "known_at", "(now)");
    }
    if !asked.contains("as_of=") {
        let today = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+7)).date();
        let (y, m, d) = (today.year(), today.month() as u8, today.day());
        out = replace_json_string(&out, "as_of", "(today)");
        // The dashboard's date field starts at today.
        out = out.replace(&format!(r#"name="as_of" value="{y}-{m:02}-{d:02}""#), r#"name="as_of" value="(today)""#);
    }
    out
}

/// Every `"key":"…"` with its value replaced.
fn replace_json_string(text: &str, key: &str, with: &str) -> String {
    let needle = format!("\"{key}\":\"");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&needle) {
        let (before, after) = rest.split_at(at + needle.len());
        out.push_str(before);
        out.push_str(with);
        let end = after.find('"').unwrap_or(after.len());
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_get_answers_as_the_golden_files_say() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&workspace().join("tests/fixtures/data-v1"), dir.path());
    let server = TestServer::start_on(dir.path(), |c| c).await;
    let base = server.base.clone();
    let golden = workspace().join("tests/golden");
    let bless = std::env::var_os("P30_BLESS").is_some();
    if bless {
        let _ = std::fs::remove_dir_all(&golden);
        std::fs::create_dir_all(&golden).unwrap();
    }
    let client = reqwest::Client::new();
    let mut differing = Vec::new();
    for path in requests() {
        let resp = client.get(format!("{base}{path}")).send().await.unwrap();
        let mut answer = format!("GET {path}\n{}\n", resp.status().as_u16());
        for name in ["content-type", "etag", "location", "cache-control"] {
            if let Some(v) = resp.headers().get(name) {
                answer.push_str(&format!("{name}: {}\n", v.to_str().unwrap()));
            }
        }
        answer.push('\n');
        answer.push_str(&resp.text().await.unwrap());
        let answer = without_the_clock(&answer, &path);
        let file = golden.join(file_name(&path));
        if bless {
            assert!(!file.exists(), "two requests share the file name {}", file.display());
            std::fs::write(&file, &answer).unwrap();
        } else {
            let expected = std::fs::read_to_string(&file).unwrap_or_default();
            if expected != answer {
                let first = expected.lines().zip(answer.lines()).position(|(a, b)| a != b);
                differing.push(format!("{path} ({}): first differing line {first:?}", file.display()));
            }
        }
    }
    // The live feed, caught up from the log: the frames after seq 499, up to the head (505).
    let mut resp = client.get(format!("{base}/v1/subscribe")).header("Last-Event-ID", "499").send().await.unwrap();
    let mut frames = String::new();
    while !frames.contains("id: 505\n") || !frames.ends_with("\n\n") {
        let chunk = resp.chunk().await.unwrap().expect("the feed ends only at shutdown");
        frames.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    drop(resp);
    let answer = without_the_clock(&format!("GET /v1/subscribe Last-Event-ID: 499\n\n{frames}"), "");
    let file = golden.join("v1_subscribe_last-event-id_499.txt");
    if bless {
        std::fs::write(&file, &answer).unwrap();
    } else if std::fs::read_to_string(&file).unwrap_or_default() != answer {
        differing.push(format!("/v1/subscribe with Last-Event-ID 499 ({})", file.display()));
    }
    server.stop().await;
    assert!(differing.is_empty(), "answers differ from the golden files:\n{}", differing.join("\n"));
}
