//! `p30 bench …`: speed measured side by side with a baseline in the same run (see BENCH.md), one JSON
//! line per figure: `{"name", "value", "unit", "baseline", "baseline_value", "ratio"}`.

use std::time::{Duration, Instant};

use anyhow::Context;
use events::value::{Date, LongText};
use events::{Change, Event, NewEvent, Procedure, SCHEMA_VERSION, StreamId};
use eventstore::{Append, Log, Options};

use crate::nats_server::NatsServer;

/// One measured figure and the baseline run beside it.
#[derive(Clone, Debug)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
    pub baseline: Option<String>,
    pub baseline_value: Option<f64>,
}

impl Figure {
    pub fn ratio(&self) -> Option<f64> {
        self.baseline_value.filter(|b| *b != 0.0).map(|b| self.value / b)
    }

    pub fn json_line(&self) -> String {
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        serde_json::json!({
            "name": self.name,
            "value": round(self.value),
            "unit": self.unit,
            "baseline": self.baseline,
            "baseline_value": self.baseline_value.map(round),
            "ratio": self.ratio().map(round),
        })
        .to_string()
    }
}

/// The median of a non-empty sample.
pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 { xs[n / 2] } else { (xs[n / 2 - 1] + xs[n / 2]) / 2.0 }
}

/// A plausible procedure for benchmarks: number `i` of a generated province inventory.
pub fn sample_procedure(i: u64) -> Procedure {
    let sectors = ["Hộ tịch", "Xây dựng", "Đất đai", "Thành lập và hoạt động doanh nghiệp", "Giáo dục và Đào tạo"];
    let agencies = ["STP", "SXD", "STNMT", "SKHDT", "SGDDT"];
    let k = (i % 5) as usize;
    let level = ["province", "district", "commune"][(i % 3) as usize];
    let applicant = ["citizen", "business", "both"][(i % 3) as usize];
    serde_json::from_value(serde_json::json!({
        "code": format!("{}.{:06}.H19", 1 + i % 3, i),
        "name": format!("Thủ tục số {i}: cấp giấy chứng nhận đăng ký"),
        "sector": sectors[k], "agency": agencies[k], "level": level,
        "applicant": applicant,
        "processing_days": 5 + i % 20, "steps": 3,
        "documents": [{"name": "Tờ khai theo mẫu", "copies": 1}, {"name": "Bản sao giấy tờ tùy thân", "copies": 2}],
        "fee_vnd": 50_000 + (i % 10) * 5_000, "out_of_pocket_vnd": 20_000, "applicant_hours": 6.5,
        "annual_volume": 1_000 + i % 5_000, "online": "partial",
        "legal_basis": "Nghị định 63/2010/NĐ-CP"
    }))
    .expect("generated procedures are valid")
}

fn registration(i: u64) -> NewEvent {
    let p = sample_procedure(i);
    NewEvent {
        stream: StreamId::procedure(&p.code),
        effective_on: Date::parse("2011-01-01").expect("date"),
        legal_basis: LongText::parse("Quyết định 30/QĐ-TTg").expect("text"),
        note: LongText::default(),
        change: Change::ProcedureRegistered(p),
    }
}

/// The JSON of a recorded registration, as JetStream would carry it.
fn event_json(i: u64) -> Vec<u8> {
    let new = registration(i);
    let event = Event {
        event_id: uuid::Uuid::now_v7(),
        seq: i + 1,
        stream: new.stream,
        version: 1,
        schema_version: SCHEMA_VERSION,
        recorded_at: eventstore::system_clock(),
        effective_on: new.effective_on,
        actor: "bench".into(),
        command_id: None,
        legal_basis: new.legal_basis,
        note: new.note,
        change: new.change,
    };
    event.to_json().to_string().into_bytes()
}

/// Settings of `p30 bench append`.
#[derive(Clone, Debug)]
pub struct AppendSettings {
    pub writers: usize,
    /// Commands each writer appends per round with group commit (and to JetStream).
    pub per_writer: usize,
    /// Commands each writer appends per round with one fsync per event (slower, so fewer).
    pub per_writer_fsync_each: usize,
    pub rounds: usize,
}

impl Default for AppendSettings {
    fn default() -> Self {
        Self { writers: 64, per_writer: 400, per_writer_fsync_each: 60, rounds: 5 }
    }
}

/// Appends `per_writer` one-event commands from each of `writers` concurrent tasks; returns events/s.
async fn append_round(writers: usize, per_writer: usize, max_group: usize, offset: u64) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let log = Log::open(dir.path(), Options { max_group, ..Options::default() })?;
    let batches: Vec<Vec<NewEvent>> = (0..writers)
        .map(|w| (0..per_writer).map(|n| registration(offset + (w * per_writer + n) as u64)).collect())
        .collect();
    let start = Instant::now();
    let tasks: Vec<_> = batches
        .into_iter()
        .map(|events| {
            let log = log.clone();
            tokio::spawn(async move {
                for event in events {
                    let append = Append {
                        events: vec![event],
                        expected: Vec::new(),
                        actor: "bench".into(),
                        command_id: None,
                        fingerprint: [0; 32],
                    };
                    log.append_async(append).await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    let elapsed = start.elapsed();
    let head = log.head();
    anyhow::ensure!(
        head == (writers * per_writer) as u64,
        "expected {} events, the log has {head}",
        writers * per_writer
    );
    log.close();
    Ok(head as f64 / elapsed.as_secs_f64())
}

/// Publishes the same events to JetStream (file storage) from `writers` concurrent tasks, each awaiting
/// its ack before the next publish, as a log writer awaits durability; returns messages/s.
async fn jetstream_round(url: &str, writers: usize, per_writer: usize, round: usize) -> anyhow::Result<f64> {
    use async_nats::jetstream::{self, stream};
    let client = async_nats::connect(url).await?;
    let js = jetstream::new(client);
    let name = format!("BENCH_{round}");
    js.create_stream(stream::Config {
        name: name.clone(),
        subjects: vec![format!("bench{round}.>")],
        storage: stream::StorageType::File,
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    })
    .await
    .context("create the benchmark stream")?;
    let payloads: Vec<Vec<(String, bytes::Bytes)>> = (0..writers)
        .map(|w| {
            (0..per_writer)
                .map(|n| {
                    let i = (w * per_writer + n) as u64;
                    (format!("bench{round}.events.ProcedureRegistered.{i}"), event_json(i).into())
                })
                .collect()
        })
        .collect();
    let start = Instant::now();
    let tasks: Vec<_> = payloads
        .into_iter()
        .map(|msgs| {
            let js = js.clone();
            tokio::spawn(async move {
                for (subject, payload) in msgs {
                    let id = uuid::Uuid::now_v7().to_string();
                    let msg = jetstream::message::PublishMessage::build().payload(payload).message_id(id);
                    js.send_publish(subject, msg).await?.await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    let elapsed = start.elapsed();
    js.delete_stream(&name).await?;
    Ok((writers * per_writer) as f64 / elapsed.as_secs_f64())
}

/// `p30 bench append`: durable append rate with group commit, against one fsync per event and against
/// JetStream, alternating rounds in one run.
pub async fn append(settings: &AppendSettings) -> anyhow::Result<Vec<Figure>> {
    let nats = NatsServer::start()?;
    let (mut group, mut each, mut jet) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..settings.rounds {
        let offset = (round * 1_000_000) as u64;
        group.push(append_round(settings.writers, settings.per_writer, Options::default().max_group, offset).await?);
        each.push(append_round(settings.writers, settings.per_writer_fsync_each, 1, offset).await?);
        jet.push(jetstream_round(&nats.url(), settings.writers, settings.per_writer, round).await?);
        eprintln!(
            "round {}: group commit {:.0} ev/s, fsync per event {:.0} ev/s, jetstream {:.0} msg/s",
            round + 1,
            group[round],
            each[round],
            jet[round]
        );
    }
    let value = median(group);
    let name = format!("durable append, {} concurrent writers, one event per command", settings.writers);
    Ok(vec![
        Figure {
            name: name.clone(),
            value,
            unit: "events/s",
            baseline: Some("fsync per event".into()),
            baseline_value: Some(median(each)),
        },
        Figure {
            name,
            value,
            unit: "events/s",
            baseline: Some("jetstream async publish".into()),
            baseline_value: Some(median(jet)),
        },
    ])
}

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
    let wrk = crate::wrk::ensure().await?;
    let dir = tempfile::tempdir()?;
    let token = crate::access::create_token(dir.path(), crate::access::Role::Admin, vec![], Some("bench".into()))?;
    let config = crate::server::Config::on_loopback(dir.path());
    let running = crate::server::start(config, std::future::pending()).await?;
    let base = format!("http://{}", running.addr);
    // A province to read about, and procedures for the connections to simplify again and again.
    let grant = crate::access::Grant {
        token_sha256: String::new(),
        role: crate::access::Role::Admin,
        agencies: Vec::new(),
        name: "bench".into(),
    };
    let targets = settings.connections * WRITE_TARGETS;
    let mut commands = crate::demo::worked_example();
    commands.extend(crate::demo::sample_province(7, settings.procedures));
    for c in 0..targets {
        let mut p = sample_procedure(c as u64);
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
            crate::app::Recording { command, grant: grant.clone(), idempotency: None, expected: Vec::new() };
        crate::app::record(&running.log, recording).await.map_err(|e| anyhow::anyhow!("{e}"))?;
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

/// The generated data set a scale benchmark runs on (see `dataset`).
#[derive(Clone, Debug)]
pub struct ScaleData {
    pub spec: crate::dataset::Spec,
    /// Keep (and reuse) the data set here instead of a temp dir.
    pub data_dir: Option<std::path::PathBuf>,
}

impl ScaleData {
    fn describe(&self) -> String {
        format!("{} procedures / {} events", self.spec.procedures, self.spec.events)
    }
}

/// Settings of `p30 bench rebuild`.
#[derive(Clone, Debug)]
pub struct RebuildSettings {
    pub data: ScaleData,
    pub rounds: usize,
    /// Decoder threads of the parallel rebuild.
    pub decoders: usize,
    /// Also time the one-thread rebuild each round (a fourth figure).
    pub sequential: bool,
}

/// A field of `/proc/self/status` in KiB (`VmRSS`, `VmHWM`), where there is one.
pub fn proc_status_kib(field: &str) -> Option<u64> {
    status_kib("/proc/self/status", field)
}

/// A `kB` field of a `/proc` file of `field: n kB` lines (`/proc/PID/status`, `/proc/meminfo`).
fn status_kib(file: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(file).ok()?;
    let line = status.lines().find(|l| l.strip_prefix(field).is_some_and(|rest| rest.starts_with(':')))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mib(kib: Option<u64>) -> f64 {
    kib.map_or(f64::NAN, |k| k as f64 / 1024.0)
}

/// Opens the data set's log afresh, so fjall's caches start empty (the OS page cache stays warm: the
/// same for every contender, and dropping it needs root).
fn reopen(dir: &std::path::Path) -> anyhow::Result<Log> {
    Ok(Log::open(dir, Options::default())?)
}

/// What one measured round of `p30 bench rebuild` times.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Round {
    /// The raw key/value scan.
    Scan,
    /// The parallel rebuild, with this many decoders.
    Rebuild(usize),
    /// The rebuild on one thread.
    Sequential,
}

impl Round {
    /// Times this round on the log in `dir`, in this process; events/s.
    pub fn run(self, dir: &std::path::Path) -> anyhow::Result<f64> {
        match self {
            Self::Scan => raw_scan_round(dir),
            Self::Rebuild(decoders) => rebuild_round(dir, Some(decoders)),
            Self::Sequential => rebuild_round(dir, None),
        }
    }

    /// Times this round in a process of its own (`p30 bench round`, hidden), as a restarted p30 starts:
    /// no round inherits the heap that earlier rounds, or the JetStream client, left in this one.
    fn run_apart(self, dir: &std::path::Path) -> anyhow::Result<f64> {
        let (what, decoders) = match self {
            Self::Scan => ("scan", 1),
            Self::Rebuild(d) => ("rebuild", d),
            Self::Sequential => ("sequential", 1),
        };
        let out = std::process::Command::new(std::env::current_exe()?)
            .args(["bench", "round", what, "--decoders", &decoders.to_string(), "--data-dir"])
            .arg(dir)
            .stderr(std::process::Stdio::inherit())
            .output()
            .context("start a round's process")?;
        anyhow::ensure!(out.status.success(), "the {what} round's process failed ({})", out.status);
        let text = String::from_utf8_lossy(&out.stdout);
        text.trim().parse().with_context(|| format!("the {what} round printed {text:?}, not a rate"))
    }
}

/// The raw key/value scan: every stored event's bytes visited on one thread, nothing decoded; events/s.
fn raw_scan_round(dir: &std::path::Path) -> anyhow::Result<f64> {
    let log = reopen(dir)?;
    let start = Instant::now();
    let mut bytes = 0usize;
    let n = log.scan_raw(0, |_, b| bytes += b.len())?;
    let elapsed = start.elapsed().as_secs_f64();
    std::hint::black_box(bytes);
    log.close();
    Ok(n as f64 / elapsed)
}

/// One rebuild from a freshly opened log (parallel, or on one thread); events/s. The projection is
/// dropped after the clock stops.
fn rebuild_round(dir: &std::path::Path, decoders: Option<usize>) -> anyhow::Result<f64> {
    let log = reopen(dir)?;
    let start = Instant::now();
    let projection = match decoders {
        Some(d) => crate::live::rebuild_parallel(&log, d)?,
        None => crate::live::rebuild_sequential(&log)?,
    };
    let elapsed = start.elapsed().as_secs_f64();
    let n = projection.last_seq();
    log.close();
    // The round's process ends next: freeing the projection piece by piece would only delay it.
    std::mem::forget(projection);
    Ok(n as f64 / elapsed)
}

/// SPEC's NATS subject token: every byte outside `A–Z a–z 0–9 -` as `_` and two upper-case hex digits.
fn subject_token(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("_{b:02X}"));
        }
    }
    out
}

/// The stream the replay baseline reads.
const REPLAY_STREAM: &str = "P30_EVENTS";

/// Publishes every event of the log as its JSON to a JetStream file stream, once, before measuring: a
/// thread reads and encodes while this task publishes. Core publishes, with a JetStream publish (acked)
/// every few thousand messages: its ack means the stream has stored everything before it, which keeps
/// the publisher from running ahead of the server and proves at the end that nothing was lost.
async fn publish_for_replay(url: &str, dir: &std::path::Path) -> anyhow::Result<u64> {
    use async_nats::jetstream::{self, stream};
    let client = async_nats::connect(url).await?;
    let js = jetstream::new(client.clone());
    let mut st = js
        .create_stream(stream::Config {
            name: REPLAY_STREAM.into(),
            subjects: vec!["p30.events.>".into()],
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await
        .context("create the replay stream")?;
    let log = reopen(dir)?;
    let total = log.head();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<(String, bytes::Bytes)>>(8);
    let producer = std::thread::spawn(move || -> anyhow::Result<()> {
        let mut after = 0;
        loop {
            let events = log.read_after(after, 5_000)?;
            let Some(last) = events.last() else { break };
            after = last.seq;
            let batch = events
                .iter()
                .map(|e| {
                    let token =
                        e.change.subject_code().map_or_else(|| "settings".to_owned(), |c| subject_token(c.as_str()));
                    let subject = format!("p30.events.{}.{token}", e.type_name());
                    (subject, bytes::Bytes::from(e.to_json().to_string()))
                })
                .collect();
            if tx.blocking_send(batch).is_err() {
                break;
            }
        }
        log.close();
        Ok(())
    });
    let mut n = 0u64;
    let mut checkpoint: Option<jetstream::context::PublishAckFuture> = None;
    while let Some(batch) = rx.recv().await {
        for (subject, payload) in batch {
            n += 1;
            if n.is_multiple_of(4096) || n == total {
                let ack = js.publish(subject, payload).await?;
                // One checkpoint in flight: wait for the one before, then go on publishing.
                if let Some(previous) = checkpoint.replace(ack) {
                    previous.await?;
                }
            } else {
                client.publish(subject, payload).await?;
            }
        }
    }
    producer.join().map_err(|_| anyhow::anyhow!("the JSON encoder panicked"))??;
    if let Some(last) = checkpoint {
        last.await?;
    }
    let stored = st.info().await?.state.messages;
    anyhow::ensure!(stored == total, "JetStream stored {stored} of {total} events");
    Ok(total)
}

/// JetStream's ordered push consumer reading the whole stream from the start; messages/s.
async fn jetstream_replay_round(url: &str, total: u64) -> anyhow::Result<f64> {
    use async_nats::jetstream::{self, consumer};
    use futures::StreamExt;
    let client = async_nats::connect(url).await?;
    let js = jetstream::new(client.clone());
    let st = js.get_stream(REPLAY_STREAM).await?;
    let start = Instant::now();
    let ordered = st
        .create_consumer(consumer::push::OrderedConfig {
            deliver_subject: client.new_inbox(),
            deliver_policy: consumer::DeliverPolicy::All,
            ..Default::default()
        })
        .await?;
    let mut messages = ordered.messages().await?;
    let (mut n, mut bytes) = (0u64, 0usize);
    while n < total {
        let m = messages.next().await.context("the replay ended early")??;
        bytes += m.payload.len();
        n += 1;
    }
    let elapsed = start.elapsed().as_secs_f64();
    std::hint::black_box(bytes);
    Ok(n as f64 / elapsed)
}

/// Waits until process `pid` has used under a tenth of a core for a second (at most two minutes; at once
/// where `/proc` cannot tell), and says how long that took in seconds.
fn until_idle(pid: u32) -> f64 {
    let ticks = || -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // After the command's closing parenthesis: state is field 3, utime and stime fields 14 and 15.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
    };
    let start = Instant::now();
    let Some(mut last) = ticks() else { return 0.0 };
    let mut quiet = 0;
    while quiet < 2 && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(500));
        let Some(now) = ticks() else { break };
        // Clock ticks are hundredths of a second: under 5 in half a second is under a tenth of a core.
        quiet = if now - last < 5 { quiet + 1 } else { 0 };
        last = now;
    }
    start.elapsed().as_secs_f64()
}

/// `p30 bench rebuild`: rebuilding the projection from a cold(-ish) log of the generated data set,
/// against a raw scan of the same log on one thread and against JetStream replaying the same events,
/// alternating rounds in one run; and the memory the rebuilt projection holds.
pub fn rebuild(settings: &RebuildSettings) -> anyhow::Result<Vec<Figure>> {
    let data = crate::dataset::prepare(settings.data.spec, settings.data.data_dir.as_deref())?;
    let dir = data.dir.clone();
    let size = settings.data.describe();

    // Memory first, before the JetStream traffic and the other rounds leave their own garbage behind.
    let rss_before = proc_status_kib("VmRSS");
    let log = reopen(&dir)?;
    let start = Instant::now();
    let projection = crate::live::rebuild_parallel(&log, settings.decoders)?;
    let first = start.elapsed().as_secs_f64();
    let rss_after = proc_status_kib("VmRSS");
    eprintln!(
        "first rebuild: {} events in {first:.2} s; RSS {:.0} MiB before, {:.0} MiB after (peak {:.0} MiB); \
         projection's own estimate {:.0} MiB",
        projection.last_seq(),
        mib(rss_before),
        mib(rss_after),
        mib(proc_status_kib("VmHWM")),
        projection.footprint().total as f64 / 1048576.0
    );
    let total = projection.last_seq();
    log.close();
    drop(log);
    drop(projection);

    let runtime = tokio::runtime::Runtime::new()?;
    let nats = NatsServer::start()?;
    let start = Instant::now();
    let published = runtime.block_on(publish_for_replay(&nats.url(), &dir))?;
    eprintln!("published {published} events to JetStream in {:.1} s", start.elapsed().as_secs_f64());
    anyhow::ensure!(published == total, "published {published} events, the log has {total}");

    let (mut scans, mut rebuilds, mut jets, mut sequential) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // Round 0 warms up and is not counted: right after JetStream wrote its store, every contender ran
    // slower (by a fifth to a half here) for a few minutes, the rebuild most.
    for round in 0..=settings.rounds {
        // JetStream's store reaches the disk after the publishes are acknowledged, written back by the
        // kernel (and the server may tidy up after a replay): a round timed meanwhile would share the
        // cores and the disk with that.
        let synced = Instant::now();
        let _ = std::process::Command::new("sync").status();
        let waited = until_idle(nats.pid());
        eprintln!(
            "page cache written back in {:.1} s; nats-server idle after {waited:.1} s, RSS {:.0} MiB; this \
             process {:.0} MiB; memory available {:.0} MiB",
            synced.elapsed().as_secs_f64(),
            mib(status_kib(&format!("/proc/{}/status", nats.pid()), "VmRSS")),
            mib(proc_status_kib("VmRSS")),
            mib(status_kib("/proc/meminfo", "MemAvailable")),
        );
        let scan = Round::Scan.run_apart(&dir)?;
        let rebuild = Round::Rebuild(settings.decoders).run_apart(&dir)?;
        let one_thread = if settings.sequential { Some(Round::Sequential.run_apart(&dir)?) } else { None };
        let jet = runtime.block_on(jetstream_replay_round(&nats.url(), total))?;
        eprintln!(
            "{}: raw scan {scan:.0} ev/s, rebuild {rebuild:.0} ev/s{}, jetstream replay {jet:.0} msg/s",
            if round == 0 { "warm-up round (not counted)".to_owned() } else { format!("round {round}") },
            one_thread.map_or(String::new(), |s| format!(" (one thread {s:.0} ev/s)")),
        );
        if round > 0 {
            scans.push(scan);
            rebuilds.push(rebuild);
            sequential.extend(one_thread);
            jets.push(jet);
        }
    }
    drop(nats);
    let value = median(rebuilds);
    let name = format!("rebuild (decode + fold), {size}, {} decoder threads", settings.decoders);
    let mut figures = vec![
        Figure {
            name: name.clone(),
            value,
            unit: "events/s",
            baseline: Some("raw scan".into()),
            baseline_value: Some(median(scans.clone())),
        },
        Figure {
            name,
            value,
            unit: "events/s",
            baseline: Some("jetstream ordered replay".into()),
            baseline_value: Some(median(jets)),
        },
    ];
    if settings.sequential {
        figures.push(Figure {
            name: format!("rebuild on one thread (decode + fold), {size}"),
            value: median(sequential),
            unit: "events/s",
            baseline: Some("raw scan".into()),
            baseline_value: Some(median(scans)),
        });
    }
    figures.push(Figure {
        name: format!("RSS after rebuild, {size}"),
        value: mib(rss_after),
        unit: "MiB",
        baseline: None,
        baseline_value: None,
    });
    Ok(figures)
}

/// Settings of `p30 bench as-of`.
#[derive(Clone, Debug)]
pub struct AsOfSettings {
    pub data: ScaleData,
    /// Queries of each kind.
    pub samples: usize,
}

/// The `q` quantile (nearest rank) of a sample.
pub fn quantile(mut xs: Vec<f64>, q: f64) -> f64 {
    xs.sort_by(f64::total_cmp);
    let rank = ((xs.len() as f64 * q).ceil() as usize).clamp(1, xs.len().max(1));
    xs.get(rank - 1).copied().unwrap_or(f64::NAN)
}

/// The data set (generated first if need be), rebuilt as the server rebuilds it at start.
fn rebuilt(data: &ScaleData) -> anyhow::Result<projections::Projection> {
    let dataset = crate::dataset::prepare(data.spec, data.data_dir.as_deref())?;
    let log = reopen(&dataset.dir)?;
    let projection = crate::live::rebuild(&log)?;
    log.close();
    Ok(projection)
}

/// `p50 … ms p99 … ms` of a sample of milliseconds, for the progress lines.
fn p50_p99(xs: &[f64]) -> String {
    format!("p50 {:.3} ms p99 {:.3} ms", quantile(xs.to_vec(), 0.5), quantile(xs.to_vec(), 0.99))
}

/// `p30 bench as-of`: reductions of the whole data set as of a random date in 2011–2020, against the same
/// question as of today, through the same code path (`Projection::reductions`, no cache), alternating.
pub fn as_of(settings: &AsOfSettings) -> anyhow::Result<Vec<Figure>> {
    use projections::{GroupBy, Moment};
    let projection = rebuilt(&settings.data)?;
    let now = crate::live::now();
    let mut rng = crate::demo::Rng::new(settings.data.spec.seed ^ 0xA5_0F);
    let time = |as_of: Date| -> anyhow::Result<f64> {
        let start = Instant::now();
        let r = projection.reductions(GroupBy::All, Moment::new(as_of, now.known_at), None)?;
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        std::hint::black_box(r);
        Ok(ms)
    };
    // One of each first, so neither kind pays for warming the caches.
    time(now.as_of)?;
    time(crate::dataset::day(1000))?;
    let (mut past, mut today) = (Vec::new(), Vec::new());
    for i in 0..settings.samples {
        let date = crate::dataset::day(rng.below(u64::from(crate::dataset::LAST_DAY) + 1) as u16);
        // Alternate which goes first, so neither always runs right after the other.
        if i % 2 == 0 {
            past.push(time(date)?);
            today.push(time(now.as_of)?);
        } else {
            today.push(time(now.as_of)?);
            past.push(time(date)?);
        }
    }
    let size = settings.data.describe();
    eprintln!(
        "{} samples each: as of a random date {}; as of today {}",
        settings.samples,
        p50_p99(&past),
        p50_p99(&today)
    );
    Ok(vec![
        Figure {
            name: format!("reductions group_by=all as of a random date 2011–2020, p50, {size}"),
            value: quantile(past.clone(), 0.5),
            unit: "ms",
            baseline: Some("the same query as of today, p50".into()),
            baseline_value: Some(quantile(today.clone(), 0.5)),
        },
        Figure {
            name: format!("reductions group_by=all as of a random date 2011–2020, p99, {size}"),
            value: quantile(past, 0.99),
            unit: "ms",
            baseline: Some("the same query as of today, p99".into()),
            baseline_value: Some(quantile(today, 0.99)),
        },
    ])
}

/// `p30 bench live-update`: what a new event costs the live figures (reductions by every grouping and
/// every programme, as of today), kept event by event (`LiveFigures::update`, then the rows it changed),
/// against recomputing them with reductions passes after the same event (one survey for the four
/// groupings, one pass per programme), alternating on the same projection.
pub fn live_update(settings: &AsOfSettings) -> anyhow::Result<Vec<Figure>> {
    use events::event::{Simplification, derived_id};
    use events::value::{Timestamp, Vnd};
    use projections::{LiveFigures, Status};
    let mut projection = rebuilt(&settings.data)?;
    let now = crate::live::now();
    let mut figures = LiveFigures::new(&projection, now.as_of);
    let active: Vec<Procedure> =
        projection.procedures(None, now).filter(|p| p.status == Status::Active).map(|p| p.procedure).collect();
    anyhow::ensure!(!active.is_empty(), "the data set has no active procedure");
    let mut rng = crate::demo::Rng::new(settings.data.spec.seed ^ 0x11FE);
    let (mut kept, mut afresh) = (Vec::new(), Vec::new());
    for i in 0..settings.samples {
        // A fee cut of a random active procedure: today, or one time in ten a late record dated in 2011–2020.
        let p = &active[rng.below(active.len() as u64) as usize];
        let fee = Vnd::new(p.fee_vnd.get() * 9 / 10).map_err(anyhow::Error::msg)?;
        let set = events::Changes { fee_vnd: Some(fee), ..events::Changes::default() };
        let effective_on = if rng.below(10) == 0 {
            crate::dataset::day(rng.below(u64::from(crate::dataset::LAST_DAY) + 1) as u16)
        } else {
            now.as_of
        };
        let seq = projection.last_seq() + 1;
        let recorded_at = Timestamp::from_micros(now.known_at.micros() + i as i64);
        let event = Event {
            event_id: derived_id(seq, recorded_at),
            seq,
            stream: StreamId::procedure(&p.code),
            version: 0,
            schema_version: SCHEMA_VERSION,
            recorded_at,
            effective_on,
            actor: "bench".into(),
            command_id: None,
            legal_basis: LongText::default(),
            note: LongText::default(),
            change: Change::ProcedureSimplified(Simplification { code: p.code.clone(), set, measures: vec![] }),
        };
        let start = Instant::now();
        let applied = projection.apply(&event)?;
        let changed = figures.update(&projection, &applied);
        let rows: Vec<_> = changed.groups.iter().filter_map(|(by, key)| figures.group(&projection, *by, key)).collect();
        let programmes = figures.programmes(&projection, recorded_at);
        kept.push(start.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box((rows, programmes));

        let at = projections::Moment::new(now.as_of, recorded_at);
        let start = Instant::now();
        let every = projection.reductions_by_every_grouping(at, None)?;
        let programmes = projection.programmes(at);
        afresh.push(start.elapsed().as_secs_f64() * 1000.0);
        // The two must agree, or the comparison means nothing.
        let same = every.iter().all(|r| *r == figures.reductions(&projection, r.group_by, recorded_at))
            && programmes == figures.programmes(&projection, recorded_at);
        anyhow::ensure!(same, "the live figures differ from reductions passes after event {i}");
        std::hint::black_box((every, programmes));
    }
    let size = settings.data.describe();
    eprintln!("{} events: kept event by event {}; recomputed {}", settings.samples, p50_p99(&kept), p50_p99(&afresh));
    Ok(["p50", "p99"]
        .into_iter()
        .zip([0.5, 0.99])
        .map(|(name, q)| Figure {
            name: format!(
                "live figures (reductions by every grouping and programmes, as of today) after one event, {name}, {size}"
            ),
            value: quantile(kept.clone(), q),
            unit: "ms",
            baseline: Some(format!("the same figures recomputed by reductions passes, {name}")),
            baseline_value: Some(quantile(afresh.clone(), q)),
        })
        .collect())
}
