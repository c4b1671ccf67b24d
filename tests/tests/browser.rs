//! The dashboard and the public catalogue in a real browser: a server with the demo data on a free port,
//! and `tests/browser/p30.mjs` (playwright-core driving Debian's headless chromium) against it. The script
//! compares the headline figures with the API's, records a simplification and waits for the page to follow
//! it live, finds a procedure by a query without diacritics with the keyboard, and saves screenshots at
//! 1280 and 390 px under `target/browser-artifacts/`. What it needs is installed by `./infra/test.sh`;
//! without it this test fails, saying so.

use std::path::{Path, PathBuf};
use std::time::Instant;

use p30_tests::{TestServer, workspace};
use server::access::Role;

/// What the browser test needs and this machine lacks, each with where it should be.
fn missing_parts(root: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    let chromium = std::env::var_os("P30_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if !chromium.is_file() {
        missing.push(format!("chromium ({})", chromium.display()));
    }
    if std::process::Command::new("node").arg("--version").output().is_err() {
        missing.push("node".into());
    }
    let playwright = root.join("tests/browser/node_modules/playwright-core/package.json");
    if !playwright.is_file() {
        missing.push(format!("playwright-core ({})", playwright.display()));
    }
    missing
}

#[tokio::test]
async fn the_dashboard_and_the_catalogue_work_in_a_real_browser() {
    let root = workspace();
    let missing = missing_parts(&root);
    assert!(
        missing.is_empty(),
        "the browser test needs {}: run ./infra/test.sh once (it installs Debian's chromium and runs `npm ci` in \
         tests/browser), or by hand `apt-get install chromium` and `npm ci --prefix tests/browser`",
        missing.join(", ")
    );
    let running = TestServer::start_with(|c| server::Config { demo: true, ..c }).await;
    let (base, admin) = (running.base.clone(), running.token(Role::Admin, &[], "browser test"));
    let artifacts = root.join("target/browser-artifacts");

    let started = Instant::now();
    let output = tokio::process::Command::new("node")
        .arg(root.join("tests/browser/p30.mjs"))
        .arg(&base)
        .arg(&admin)
        .arg(&artifacts)
        .current_dir(&root)
        .kill_on_drop(true)
        .output()
        .await
        .expect("node starts");
    println!("{}", String::from_utf8_lossy(&output.stdout));
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    println!("browser test: {:.1} s; screenshots in {}", started.elapsed().as_secs_f64(), artifacts.display());
    assert!(output.status.success(), "tests/browser/p30.mjs failed ({}): see its output above", output.status);
    running.stop().await;
}
