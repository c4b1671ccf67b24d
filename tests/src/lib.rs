//! What the end-to-end tests share: a real server on a free loopback port with a fresh data dir
//! (`TestServer`), real `nats-server`s (`NatsServer`, `NatsCluster`), the `p30` binary as users run it,
//! and sample procedures and events as a reform office would enter them.

use std::path::{Path, PathBuf};

use events::value::{Date, LongText};
use events::{Change, NewEvent, Procedure, StreamId};
use server::access::{Role, create_token};

pub use bench::nats_server::{NatsCluster, NatsServer};

/// A p30 server for one test: its own data dir (removed afterwards), an admin token, a free port.
#[derive(Debug)]
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// A token with the admin role.
    pub admin: String,
    running: Option<server::Running>,
    dir: Dir,
}

/// The data dir of a test server: its own temp dir, or one the test keeps across restarts.
#[derive(Debug)]
enum Dir {
    Own(tempfile::TempDir),
    Borrowed(PathBuf),
}

impl Dir {
    fn path(&self) -> &Path {
        match self {
            Self::Own(dir) => dir.path(),
            Self::Borrowed(path) => path,
        }
    }
}

impl TestServer {
    /// A public server on an empty data dir.
    pub async fn start() -> Self {
        Self::start_with(|config| config).await
    }

    /// A server on an empty data dir, configured by `configure` (demo data, private reads, NATS).
    pub async fn start_with(configure: impl FnOnce(server::Config) -> server::Config) -> Self {
        let dir = tempfile::tempdir().expect("a temp dir");
        let config = configure(server::Config::new(dir.path()));
        Self::serve(Dir::Own(dir), config).await
    }

    /// A server on `dir`, which the test keeps (to restart on it), configured by `configure`.
    pub async fn start_on(dir: &Path, configure: impl FnOnce(server::Config) -> server::Config) -> Self {
        Self::serve(Dir::Borrowed(dir.to_owned()), configure(server::Config::new(dir))).await
    }

    async fn serve(dir: Dir, config: server::Config) -> Self {
        let admin = create_token(dir.path(), Role::Admin, vec![], Some("admin".into())).expect("an admin token");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let running = server::run(listener, config, std::future::pending()).await.expect("the server starts");
        Self { base: format!("http://{}", running.addr), admin, running: Some(running), dir }
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// A new token for this server's data dir (it takes it without a restart).
    pub fn token(&self, role: Role, agencies: &[&str], name: &str) -> String {
        let agencies = agencies.iter().map(|a| a.to_string()).collect();
        create_token(self.dir.path(), role, agencies, Some(name.into())).expect("a token")
    }

    pub fn running(&self) -> &server::Running {
        self.running.as_ref().expect("running until stopped")
    }

    pub fn log(&self) -> &eventstore::Log {
        &self.running().log
    }

    /// Stops the server the way a signal does, and waits until its log is closed.
    pub async fn stop(mut self) {
        self.running.take().expect("running until stopped").stop().await.expect("a clean stop");
    }
}

/// The `p30` binary as users run it, built first if need be (a test package cannot name another
/// package's binary, so it asks cargo, which builds nothing when it is up to date).
pub fn p30_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let workspace = workspace();
            let status = std::process::Command::new(cargo)
                .args(["build", "--quiet", "--bin", "p30"])
                .current_dir(&workspace)
                .status()
                .expect("cargo runs");
            assert!(status.success(), "cargo build --bin p30 failed");
            // The test runs from `target/debug/deps/`; the binary is beside that folder.
            let exe = std::env::current_exe().expect("the test's own path");
            let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>/deps/<test>");
            profile_dir.join("p30")
        })
        .clone()
}

/// The workspace's root folder.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is in the workspace").to_owned()
}

/// A valid procedure with this code, filed by citizens at commune level.
pub fn procedure(code: &str) -> Procedure {
    serde_json::from_value(serde_json::json!({
        "code": code, "name": "Đăng ký khai sinh", "sector": "Hộ tịch", "agency": "STP", "level": "commune",
        "applicant": "citizen", "processing_days": 3, "steps": 3,
        "documents": [{"name": "Tờ khai", "copies": 1}], "fee_vnd": 8000,
        "out_of_pocket_vnd": 20000, "applicant_hours": 4, "annual_volume": 5000, "online": "none",
        "legal_basis": "Luật Hộ tịch 2014"
    }))
    .expect("a valid procedure")
}

/// The registration of [`procedure`]`(code)`, effective 2011-01-01.
pub fn registration(code: &str) -> NewEvent {
    let p = procedure(code);
    NewEvent {
        stream: StreamId::procedure(&p.code),
        effective_on: Date::parse("2011-01-01").expect("a date"),
        legal_basis: LongText::default(),
        note: LongText::default(),
        change: Change::ProcedureRegistered(p),
    }
}
