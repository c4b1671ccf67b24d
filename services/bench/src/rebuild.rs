//! `p30 bench rebuild`: the rebuild rate from a cold log of the generated data set, against a raw scan
//! and JetStream's ordered replay of the same events; and the memory it takes.

use crate::figures::{Figure, median, mib, proc_status_kib, status_kib};
use crate::nats_server::NatsServer;

use std::time::{Duration, Instant};

use anyhow::Context;
use eventstore::{Log, Options};

/// The generated data set a scale benchmark runs on (see `dataset`).
#[derive(Clone, Debug)]
pub struct ScaleData {
    pub spec: crate::dataset::Spec,
    /// Keep (and reuse) the data set here instead of a temp dir.
    pub data_dir: Option<std::path::PathBuf>,
}

impl ScaleData {
    pub(crate) fn describe(&self) -> String {
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

/// Opens the data set's log afresh, so fjall's caches start empty (the OS page cache stays warm: the
/// same for every contender, and dropping it needs root).
pub(crate) fn reopen(dir: &std::path::Path) -> anyhow::Result<Log> {
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
        Some(d) => server::live::rebuild_parallel(&log, d)?,
        None => server::live::rebuild_sequential(&log)?,
    };
    let elapsed = start.elapsed().as_secs_f64();
    let n = projection.last_seq();
    log.close();
    // The round's process ends next: freeing the projection piece by piece would only delay it.
    std::mem::forget(projection);
    Ok(n as f64 / elapsed)
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
                .map(|e| (server::nats::subject(e), bytes::Bytes::from(e.to_json().to_string())))
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
    let projection = server::live::rebuild_parallel(&log, settings.decoders)?;
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
