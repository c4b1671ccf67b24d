//! Starts a private `nats-server` with JetStream on a free loopback port and kills it on drop (for
//! benchmarks and tests; the machine's own NATS, if any, is left alone).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};

/// A running `nats-server -js` of our own.
#[derive(Debug)]
pub struct NatsServer {
    child: Child,
    port: u16,
    _store: tempfile::TempDir,
}

/// The `nats-server` binary: `$NATS_SERVER`, else the first on `PATH`, else Debian's `/usr/sbin`.
pub fn binary() -> PathBuf {
    crate::program("NATS_SERVER", "nats-server", "/usr/sbin/nats-server")
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Spawns `nats-server -js` on `port` with its store in `store`, and waits until it says it is ready.
fn spawn(port: u16, store: &std::path::Path) -> anyhow::Result<Child> {
    let bin = binary();
    let mut child = Command::new(&bin)
        .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
        .arg(store)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {} (install Debian's nats-server)", bin.display()))?;
    let stderr = child.stderr.take().context("nats-server stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    let mut seen = Vec::new();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.contains("Server is ready") => break,
            Some(Ok(line)) => seen.push(line),
            _ => {
                let _ = child.kill();
                bail!("nats-server exited before it was ready: {}", seen.join(" | "));
            }
        }
    }
    // Keep draining its log so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Ok(child)
}

impl NatsServer {
    /// Starts the server and returns once it logs that it is ready.
    pub fn start() -> anyhow::Result<Self> {
        let store = tempfile::tempdir()?;
        let port = free_port()?;
        let child = spawn(port, store.path())?;
        Ok(Self { child, port, _store: store })
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the server with SIGKILL (an outage), keeping its port and store for [`Self::restart`].
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again on the same port with the same store.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.kill();
        self.child = spawn(self.port, self._store.path())?;
        Ok(())
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Three `nats-server -js` nodes clustered on loopback (each with its own client and route port and
/// store), as `infra/nats/cluster-*.conf` describes; killed on drop.
#[derive(Debug)]
pub struct NatsCluster {
    nodes: Vec<Option<Child>>,
    ports: Vec<u16>,
    _dir: tempfile::TempDir,
}

impl NatsCluster {
    pub fn start() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect::<anyhow::Result<_>>()?;
        let routes: Vec<u16> = (0..3).map(|_| free_port()).collect::<anyhow::Result<_>>()?;
        let route_list: Vec<String> = routes.iter().map(|p| format!("nats-route://127.0.0.1:{p}")).collect();
        let mut nodes = Vec::new();
        for i in 0..3 {
            let store = dir.path().join(format!("node-{i}"));
            let config = format!(
                "server_name: p30-test-{i}\nlisten: 127.0.0.1:{}\njetstream {{ store_dir: \"{}\" }}\n\
                 cluster {{ name: p30-test, listen: 127.0.0.1:{}, routes: [{}] }}\n",
                ports[i],
                store.display(),
                routes[i],
                route_list.join(", ")
            );
            let file = dir.path().join(format!("node-{i}.conf"));
            std::fs::write(&file, config)?;
            let bin = binary();
            let mut child = Command::new(&bin)
                .arg("-c")
                .arg(&file)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .with_context(|| format!("cannot start {}", bin.display()))?;
            let stderr = child.stderr.take().context("nats-server stderr")?;
            let mut lines = BufReader::new(stderr).lines();
            loop {
                match lines.next() {
                    Some(Ok(line)) if line.contains("Server is ready") => break,
                    Some(Ok(_)) => {}
                    _ => bail!("cluster node {i} exited before it was ready"),
                }
            }
            std::thread::spawn(move || lines.for_each(drop));
            nodes.push(Some(child));
        }
        Ok(Self { nodes, ports, _dir: dir })
    }

    /// Every node's client URL, comma-separated (what `--nats-url` takes for a cluster).
    pub fn url(&self) -> String {
        self.ports.iter().map(|p| format!("nats://127.0.0.1:{p}")).collect::<Vec<_>>().join(",")
    }

    /// One node's client URL.
    pub fn node_url(&self, i: usize) -> String {
        format!("nats://127.0.0.1:{}", self.ports[i])
    }

    /// Stops node `i` with SIGKILL.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }
}
