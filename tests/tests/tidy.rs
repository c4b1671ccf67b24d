//! Tidiness of the tree itself: every Rust file opens with a `//!` line saying what it is for, and the
//! pure crates stay pure.

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "node_modules" {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_rust_file_opens_with_a_module_doc_line() {
    let mut files = Vec::new();
    rust_files(&workspace(), &mut files);
    assert!(files.len() > 10, "found only {files:?}");
    let missing: Vec<_> = files
        .iter()
        .filter(|f| !std::fs::read_to_string(f).unwrap().starts_with("//!"))
        .map(|f| f.strip_prefix(workspace()).unwrap().display().to_string())
        .collect();
    assert!(missing.is_empty(), "files without a leading `//!` line: {missing:?}");
}

#[test]
fn the_pure_crates_name_no_io_crate_among_their_dependencies() {
    for krate in ["events", "projections"] {
        let manifest = std::fs::read_to_string(workspace().join(krate).join("Cargo.toml")).unwrap();
        let deps = manifest.split("[dependencies]").nth(1).unwrap_or("").split("\n[").next().unwrap_or("");
        for forbidden in ["tokio", "fjall", "axum", "async-nats", "eventstore", "reqwest", "hyper"] {
            assert!(
                !deps.lines().any(|l| l.trim_start().starts_with(forbidden)),
                "{krate} depends on {forbidden}: the core must stay pure"
            );
        }
    }
}

/// The `[dependencies]` section of a crate's manifest (its normal dependencies), one name a line.
fn normal_dependencies(manifest: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let section = text.split("\n[dependencies]").nth(1).unwrap_or("").split("\n[").next().unwrap_or("");
    section
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split(['.', '=', ' ']).next().map(str::to_owned))
        .collect()
}

/// The source of a file up to its unit tests (`#[cfg(test)]`), where test code may do as it likes.
fn code_before_tests(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    text.split("#[cfg(test)]").next().unwrap_or("").to_owned()
}

fn service_sources() -> Vec<PathBuf> {
    let mut files = Vec::new();
    rust_files(&workspace().join("services"), &mut files);
    files.retain(|f| !f.components().any(|c| c.as_os_str() == "tests"));
    files
}

#[test]
fn the_server_crate_has_no_benchmark_or_test_dependency() {
    let deps = normal_dependencies(&workspace().join("services/server/Cargo.toml"));
    assert!(deps.len() > 10, "read no dependencies: {deps:?}");
    for forbidden in ["bench", "reqwest", "tempfile", "indicatif", "proptest", "clap", "p30-tests"] {
        assert!(!deps.iter().any(|d| d == forbidden), "the server crate depends on {forbidden}");
    }
}

#[test]
fn the_binary_installs_nothing() {
    for file in service_sources() {
        let code = code_before_tests(&file);
        for installer in ["Command::new(\"apt-get\")", "Command::new(\"apt\")", "Command::new(\"npm\")"] {
            assert!(!code.contains(installer), "{} runs an installer ({installer})", file.display());
        }
    }
}

#[test]
fn no_source_file_outside_tests_is_over_1000_lines() {
    let mut files = Vec::new();
    rust_files(&workspace(), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter(|f| !f.components().any(|c| c.as_os_str() == "tests"))
        .filter(|f| std::fs::read_to_string(f).unwrap().lines().count() > 1000)
        .map(|f| f.strip_prefix(workspace()).unwrap().display().to_string())
        .collect();
    assert!(long.is_empty(), "source files over 1000 lines: {long:?}");
}

/// Reading a typed value back out of JSON by key (`v["figures"]["cost_reduction"]`): the services pass
/// the type instead. Unit tests may read the JSON they check.
#[test]
fn the_services_read_typed_values_never_json_by_key() {
    let by_key = |line: &str| {
        line.match_indices("[\"").any(|(i, _)| {
            let before = line[..i].chars().last();
            let key: String = line[i + 2..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            !key.is_empty()
                && line[i + 2 + key.len()..].starts_with("\"]")
                && before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ')' || c == ']')
        })
    };
    let mut found = Vec::new();
    for file in service_sources() {
        let path = file.strip_prefix(workspace()).unwrap().display().to_string();
        for (n, line) in code_before_tests(&file).lines().enumerate() {
            if by_key(line) {
                found.push(format!("{path}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "JSON read by key in the services:\n{}", found.join("\n"));
}
