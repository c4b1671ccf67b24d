//! `wrk` (Debian's HTTP load generator, named by BENCH.md) as the out-of-process client of `p30 bench
//! http`: a lean C client leaves the cores to the server, where a client in the server's own process
//! took about as much CPU as the handlers it measured. Each run gets a Lua script that builds its
//! requests and prints one machine-readable line at the end.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};

/// The `wrk` binary: `$WRK`, else the first on `PATH`, else Debian's `/usr/bin/wrk`.
pub fn binary() -> PathBuf {
    crate::program("WRK", "wrk", "/usr/bin/wrk")
}

/// Finds `wrk`; the binary installs nothing (`./infra/test.sh` installs Debian's package for the tests).
pub fn ensure() -> anyhow::Result<PathBuf> {
    let bin = binary();
    if !bin.is_file() {
        bail!("wrk is not installed: apt-get install wrk (./infra/test.sh does), or set WRK to its path");
    }
    Ok(bin)
}

/// What one `wrk` run measured.
#[derive(Clone, Copy, Debug)]
pub struct Run {
    pub requests: u64,
    pub seconds: f64,
    pub p99_ms: f64,
    /// The most requests one thread's script built (its `counter`), for scripts that number them.
    pub most_built: u64,
}

impl Run {
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

/// The `done` hook every script ends with: one line `P30 requests µs p99µs errors… most_built`. `wrk`
/// counts an answer outside 2xx/3xx as a `status` error; any error fails the run.
const DONE: &str = r#"
local p30_threads = {}
function setup(thread)
  thread:set("id", #p30_threads)
  table.insert(p30_threads, thread)
end
function done(summary, latency, requests)
  local most = 0
  for _, t in ipairs(p30_threads) do
    local c = t:get("counter") or 0
    if c > most then most = c end
  end
  local e = summary.errors
  io.write(string.format("P30 %d %d %d %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(99), e.connect, e.read, e.write, e.status, e.timeout, most))
end
"#;

/// A script that sends `method path` with these headers and no body, again and again.
pub fn fixed(method: &str, path: &str, headers: &[(&str, &str)]) -> String {
    let mut s = format!("wrk.method = {method:?}\nwrk.path = {path:?}\n");
    for (k, v) in headers {
        s.push_str(&format!("wrk.headers[{k:?}] = {v:?}\n"));
    }
    s.push_str(DONE);
    s
}

/// A script whose `request` builds each request from the thread's `id` (0‥threads) and its own `counter`
/// (0, 1, 2, …); `build` is Lua that sets `method`, `path` and `body` from them.
pub fn numbered(headers: &[(&str, &str)], build: &str) -> String {
    let mut s = String::from("counter = 0\n");
    for (k, v) in headers {
        s.push_str(&format!("wrk.headers[{k:?}] = {v:?}\n"));
    }
    s.push_str(&format!(
        "function request()\n{build}\n  counter = counter + 1\n  return wrk.format(method, path, nil, body)\nend\n"
    ));
    s.push_str(DONE);
    s
}

/// Runs `wrk` against `url` with `script` for `seconds` (whole seconds, at least one) over `connections`
/// connections on `threads` threads; any failed request fails the run.
pub async fn run(
    wrk: &std::path::Path,
    url: &str,
    script: &str,
    connections: usize,
    threads: usize,
    seconds: f64,
) -> anyhow::Result<Run> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("bench.lua");
    std::fs::write(&file, script)?;
    let seconds = Duration::from_secs_f64(seconds.max(1.0)).as_secs();
    let out = tokio::process::Command::new(wrk)
        .arg(format!("-t{}", threads.clamp(1, connections.max(1))))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{seconds}s"))
        .args(["--timeout", "10s", "-s"])
        .arg(&file)
        .arg(url)
        .output()
        .await
        .with_context(|| format!("cannot run {}", wrk.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let Some(line) = stdout.lines().find_map(|l| l.strip_prefix("P30 ")) else {
        bail!("wrk printed no result ({}): {stdout} {}", out.status, String::from_utf8_lossy(&out.stderr));
    };
    let n: Vec<u64> = line.split_whitespace().map(str::parse).collect::<Result<_, _>>()?;
    let [requests, micros, p99, connect, read, write, status, timeout, most_built] = n[..] else {
        bail!("wrk's result line has {} numbers: {line}", n.len());
    };
    if connect + read + write + status + timeout > 0 {
        bail!(
            "{url}: {status} answers outside 2xx/3xx, {timeout} timeouts, {connect} connect, {read} read, {write} \
             write errors in {requests} requests"
        );
    }
    Ok(Run { requests, seconds: micros as f64 / 1e6, p99_ms: p99 as f64 / 1000.0, most_built })
}
