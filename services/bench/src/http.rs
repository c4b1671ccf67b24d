//! `p30 bench http`: HTTP writes and reads against `GET /healthz` on the same server, the load from
//! `wrk` out of process.

use crate::dataset::numbered_procedure;
use crate::figures::{Figure, median};

use events::Change;
use events::value::{Date, LongText};

/// Procedures each write connection simplifies in turn.
const WRITE_TARGETS: usize = 50;

/// Settings of `p30 bench http`.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    pub connections: usize,
    /// How long each measured run lasts (whole seconds: `wrk`'s unit).
    pub seconds: f64,
    pub rounds: usize,
    /// Procedures in the generated province the reads are asked about.
    pub procedures: u64,
    /// `wrk`'s threads (the client's share of the cores).
    pub client_threads: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self { connections: 64, seconds: 2.0, rounds: 3, procedures: 2_000, client_threads: 2 }
    }
}

/// `p30 bench http`: writes (`POST …/simplifications`) and reads (`GET /v1/reductions?group_by=agency`)
/// against `GET /healthz` on the same server, alternating, over `connections` concurrent connections of
/// `wrk` (out of process, see `wrk`); the server runs in this process, which does nothing else meanwhile.
pub async fn http(settings: &HttpSettings) -> anyhow::Result<Vec<Figure>> {
    let wrk = crate::wrk::ensure()?;
    let dir = tempfile::tempdir()?;
    let token = server::access::create_token(dir.path(), server::access::Role::Admin, vec![], Some("bench".into()))?;
    let running = crate::serve_on_loopback(server::Config::new(dir.path())).await?;
    let base = format!("http://{}", running.addr);
    // A province to read about, and procedures for the connections to simplify again and again.
    let grant = server::access::Grant {
        token_sha256: String::new(),
        role: server::access::Role::Admin,
        agencies: Vec::new(),
        name: "bench".into(),
    };
    let targets = settings.connections * WRITE_TARGETS;
    let mut commands = server::demo::worked_example();
    commands.extend(server::demo::sample_province(7, settings.procedures));
    for c in 0..targets {
        let mut p = numbered_procedure(c as u64);
        p.code = events::value::ProcedureCode::parse(&format!("bench.{c}")).map_err(anyhow::Error::msg)?;
        p.processing_days = events::value::WorkingDays::parse("3650").map_err(anyhow::Error::msg)?;
        commands.push(events::decide::Command {
            change: Change::ProcedureRegistered(p),
            effective_on: Date::parse("2011-01-01").expect("date"),
            legal_basis: LongText::default(),
            note: LongText::default(),
        });
    }
    for command in commands {
        let recording =
            server::record::Recording { command, grant: grant.clone(), idempotency: None, expected: Vec::new() };
        server::record::record(&running.log, recording).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let (n, secs, threads) = (settings.connections, settings.seconds, settings.client_threads.max(1));
    let health = crate::wrk::fixed("GET", "/healthz", &[]);
    let reads = crate::wrk::fixed("GET", "/v1/reductions?group_by=agency", &[]);
    // Thread `id` of `threads` simplifies its share of the procedures round robin, so each stream grows
    // slowly, as in real use; every write lowers the procedure by another hundredth of a day, dated a day
    // later than the write before it to that procedure, and each round starts below the lowest value of
    // the round before. A thread's connections may answer out of order: a write that arrives after a later
    // one to the same procedure is then a back-dated change that still lowers the burden as of its date.
    let per_thread = targets / threads;
    let auth = format!("Bearer {token}");
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
    let writes = |start: u64| {
        crate::wrk::numbered(
            &headers,
            &format!(
                r#"  local target = id + {threads} * (counter % {per_thread})
  local step = {start} + math.floor(counter / {per_thread}) + 1
  local days = 365000 - step
  local on = os.date("!%Y-%m-%d", 1325376000 + step * 86400)
  method = "POST"
  path = "/v1/procedures/bench." .. target .. "/simplifications"
  body = string.format('{{"set":{{"processing_days":%d.%02d}},"effective_on":"%s"}}', math.floor(days / 100), days % 100, on)"#
            ),
        )
    };
    let mut start = 0u64;
    let run = |script: String| {
        let (wrk, base) = (wrk.clone(), base.clone());
        async move { crate::wrk::run(&wrk, &base, &script, n, threads, secs).await }
    };
    let (mut h_w, mut w, mut h_r, mut r) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..settings.rounds {
        h_w.push(run(health.clone()).await?);
        let written = run(writes(start)).await?;
        start += written.most_built / per_thread as u64 + 1;
        w.push(written);
        h_r.push(run(health.clone()).await?);
        r.push(run(reads.clone()).await?);
        eprintln!(
            "round {}: healthz {:.0} rps, writes {:.0} rps (p99 {:.2} ms), healthz {:.0} rps, reads {:.0} rps (p99 \
             {:.2} ms); log head {}",
            round + 1,
            h_w[round].rps(),
            w[round].rps(),
            w[round].p99_ms,
            h_r[round].rps(),
            r[round].rps(),
            r[round].p99_ms,
            running.log.head()
        );
    }
    running.stop().await?;
    let rps = |v: &[crate::wrk::Run]| median(v.iter().map(crate::wrk::Run::rps).collect());
    let p99 = |v: &[crate::wrk::Run]| median(v.iter().map(|l| l.p99_ms).collect());
    Ok(vec![
        Figure {
            name: format!("POST simplifications, {n} connections"),
            value: rps(&w),
            unit: "requests/s",
            baseline: Some("GET /healthz".into()),
            baseline_value: Some(rps(&h_w)),
        },
        Figure {
            name: format!("POST simplifications p99, {n} connections"),
            value: p99(&w),
            unit: "ms",
            baseline: Some("GET /healthz p99".into()),
            baseline_value: Some(p99(&h_w)),
        },
        Figure {
            name: format!("GET /v1/reductions?group_by=agency, {n} connections"),
            value: rps(&r),
            unit: "requests/s",
            baseline: Some("GET /healthz".into()),
            baseline_value: Some(rps(&h_r)),
        },
        Figure {
            name: format!("GET /v1/reductions?group_by=agency p99, {n} connections"),
            value: p99(&r),
            unit: "ms",
            baseline: Some("GET /healthz p99".into()),
            baseline_value: Some(p99(&h_r)),
        },
    ])
}
