//! `p30 bench …`: speed measured side by side with a baseline in the same run (see BENCH.md), one JSON
//! line per figure: `{"name", "value", "unit", "baseline", "baseline_value", "ratio"}`.

use std::sync::Arc;
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
    /// How long each measured run lasts.
    pub seconds: f64,
    pub rounds: usize,
    /// Procedures in the generated province the reads are asked about.
    pub procedures: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self { connections: 64, seconds: 2.0, rounds: 3, procedures: 2_000 }
    }
}

/// Requests per second and the 99th percentile latency of one run.
#[derive(Clone, Copy, Debug)]
struct Load {
    rps: f64,
    p99_ms: f64,
}

/// Runs `connections` loops of `request(connection, n)` for `seconds`; every answer must be `expect`.
async fn load<F, Fut>(connections: usize, seconds: f64, expect: u16, request: F) -> anyhow::Result<Load>
where
    F: Fn(usize, u64) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = anyhow::Result<u16>> + Send,
{
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|c| {
            let request = request.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut n = 0;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let status = request(c, n).await?;
                    anyhow::ensure!(status == expect, "expected {expect}, got {status}");
                    latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                    n += 1;
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    let p99 = all.get(((all.len() as f64) * 0.99) as usize).or(all.last()).copied().unwrap_or(0.0);
    Ok(Load { rps: all.len() as f64 / elapsed, p99_ms: p99 })
}

/// `p30 bench http`: writes (`POST …/simplifications`) and reads (`GET /v1/reductions?group_by=agency`)
/// against `GET /healthz` on the same server, alternating, over `connections` concurrent connections.
pub async fn http(settings: &HttpSettings) -> anyhow::Result<Vec<Figure>> {
    let dir = tempfile::tempdir()?;
    let token = crate::access::create_token(dir.path(), crate::access::Role::Admin, vec![], Some("bench".into()))?;
    let config = crate::server::Config {
        data_dir: dir.path().to_owned(),
        listen: "127.0.0.1:0".into(),
        private: false,
        demo: false,
    };
    let running = crate::server::start(config, std::future::pending()).await?;
    let base = format!("http://{}", running.addr);
    // A province to read about, and one procedure per connection to simplify again and again.
    let grant = crate::access::Grant {
        token_sha256: String::new(),
        role: crate::access::Role::Admin,
        agencies: Vec::new(),
        name: "bench".into(),
    };
    let mut commands = crate::demo::worked_example();
    commands.extend(crate::demo::sample_province(7, settings.procedures));
    for c in 0..settings.connections * WRITE_TARGETS {
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
    let client = reqwest::Client::builder().pool_max_idle_per_host(settings.connections).build()?;
    let health = {
        let (client, base) = (client.clone(), base.clone());
        move |_c: usize, _n: u64| {
            let (client, base) = (client.clone(), base.clone());
            async move { Ok(client.get(format!("{base}/healthz")).send().await?.status().as_u16()) }
        }
    };
    let writes = {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        // Each write lowers its connection's procedure by another hundredth of a day, across rounds too.
        let done: Arc<Vec<std::sync::atomic::AtomicU64>> =
            Arc::new((0..settings.connections).map(|_| std::sync::atomic::AtomicU64::new(0)).collect());
        move |c: usize, _n: u64| {
            let (client, base, token) = (client.clone(), base.clone(), token.clone());
            // Round robin over the connection's procedures, so each stream grows slowly, as in real use.
            let n = done[c].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let (target, step) = (c * WRITE_TARGETS + (n as usize % WRITE_TARGETS), n / WRITE_TARGETS as u64 + 1);
            async move {
                let days = 365_000u64.saturating_sub(step);
                let body =
                    serde_json::json!({"set": {"processing_days": days as f64 / 100.0}, "effective_on": "2012-01-01"});
                let url = format!("{base}/v1/procedures/bench.{target}/simplifications");
                Ok(client.post(url).bearer_auth(&token).json(&body).send().await?.status().as_u16())
            }
        }
    };
    let reads = {
        let (client, base) = (client.clone(), base.clone());
        move |_c: usize, _n: u64| {
            let (client, base) = (client.clone(), base.clone());
            async move { Ok(client.get(format!("{base}/v1/reductions?group_by=agency")).send().await?.status().as_u16()) }
        }
    };
    let (n, secs) = (settings.connections, settings.seconds);
    let (mut h_w, mut w, mut h_r, mut r) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..settings.rounds {
        h_w.push(load(n, secs, 200, health.clone()).await?);
        w.push(load(n, secs, 201, writes.clone()).await?);
        h_r.push(load(n, secs, 200, health.clone()).await?);
        r.push(load(n, secs, 200, reads.clone()).await?);
        eprintln!(
            "round {}: healthz {:.0} rps, writes {:.0} rps (p99 {:.2} ms), reads {:.0} rps (p99 {:.2} ms)",
            round + 1,
            h_w[round].rps,
            w[round].rps,
            w[round].p99_ms,
            r[round].rps,
            r[round].p99_ms
        );
    }
    running.stop().await?;
    let rps = |v: &[Load]| median(v.iter().map(|l| l.rps).collect());
    let p99 = |v: &[Load]| median(v.iter().map(|l| l.p99_ms).collect());
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
