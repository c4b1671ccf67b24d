//! `p30 bench live`: how long after its commit an event reaches SSE subscribers and a NATS subscriber,
//! beside the in-process notification of the same commit (the log's durable-head watch).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;

use crate::figures::{Figure, median};
use crate::nats_server::NatsServer;

/// Settings of `p30 bench live`.
#[derive(Clone, Debug)]
pub struct LiveSettings {
    pub subscribers: usize,
    pub events_per_second: u64,
    pub events: u64,
    pub rounds: usize,
}

impl Default for LiveSettings {
    fn default() -> Self {
        Self { subscribers: 100, events_per_second: 1000, events: 2000, rounds: 3 }
    }
}

/// Arrival times by seq, for one kind of receiver (many receivers of a kind record each arrival).
type Arrivals = Arc<Mutex<Vec<(u64, Instant)>>>;

fn p99(mut xs: Vec<f64>) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.sort_by(f64::total_cmp);
    xs[((xs.len() as f64 * 0.99) as usize).min(xs.len() - 1)]
}

/// Latencies in ms from each seq's commit to each of its arrivals.
fn latencies(commits: &HashMap<u64, Instant>, arrivals: &Arrivals) -> Vec<f64> {
    let arrivals = arrivals.lock().unwrap_or_else(|p| p.into_inner());
    arrivals
        .iter()
        .filter_map(|(seq, at)| commits.get(seq).map(|c| at.saturating_duration_since(*c).as_secs_f64() * 1000.0))
        .collect()
}

/// Opens `GET /v1/subscribe?after=0` on a plain TCP connection and reads the response head; what follows
/// on the connection is the (chunked) event stream, whose frames [`FrameIds`] finds.
async fn subscribe(addr: std::net::SocketAddr) -> anyhow::Result<tokio::net::TcpStream> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut connection = tokio::net::TcpStream::connect(addr).await?;
    connection.set_nodelay(true)?;
    let request = format!("GET /v1/subscribe?after=0 HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n");
    connection.write_all(request.as_bytes()).await?;
    // The head only: nothing is written before the first event, which comes after the first commit.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        anyhow::ensure!(connection.read(&mut byte).await? == 1, "the server closed the SSE connection");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    anyhow::ensure!(head.starts_with("HTTP/1.1 200"), "GET /v1/subscribe answered {head}");
    Ok(connection)
}

/// Finds the `id` of each SSE frame in a byte stream: the lines that start with `id: ` (p30's frames
/// carry compact JSON, one `data` line, so no other line starts so). Chunks may split a line anywhere;
/// only the unfinished last line is kept for the next chunk, everything else is scanned in place.
#[derive(Default)]
struct FrameIds {
    partial: Vec<u8>,
}

impl FrameIds {
    fn read(&mut self, mut chunk: &[u8], mut found: impl FnMut(u64)) {
        if !self.partial.is_empty() {
            let Some(end) = memchr::memchr(b'\n', chunk) else {
                self.partial.extend_from_slice(chunk);
                return;
            };
            self.partial.extend_from_slice(&chunk[..end]);
            Self::line(&self.partial, &mut found);
            self.partial.clear();
            chunk = &chunk[end + 1..];
        }
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', chunk) {
            Self::line(&chunk[start..end], &mut found);
            start = end + 1;
        }
        self.partial.extend_from_slice(&chunk[start..]);
    }

    fn line(line: &[u8], found: &mut impl FnMut(u64)) {
        let Some(id) = line.strip_prefix(b"id: ") else { return };
        if let Some(seq) = std::str::from_utf8(id).ok().and_then(|d| d.trim().parse().ok()) {
            found(seq);
        }
    }
}

/// One round: a fresh server publishing to `nats`, `subscribers` SSE clients, one NATS subscriber and
/// the in-process watch; `events` commits paced at `events_per_second`. Returns p99s (SSE, NATS, watch).
async fn round(settings: &LiveSettings, nats: &NatsServer) -> anyhow::Result<(f64, f64, f64)> {
    let dir = tempfile::tempdir()?;
    let publish_to = Some(server::nats::Config { url: nats.url(), replicas: 1 });
    let config = server::Config { nats: publish_to, ..server::Config::new(dir.path()) };
    let running = crate::serve_on_loopback(config).await?;
    let (sse, nats_arrivals, watch): (Arrivals, Arrivals, Arrivals) = Default::default();

    // In-process: the durable-head watch, as the projector and the publisher see commits.
    let mut heads = running.log.subscribe();
    let watch_task = {
        let watch = watch.clone();
        let total = settings.events;
        tokio::spawn(async move {
            let mut seen = 0;
            while seen < total && heads.changed().await.is_ok() {
                let head = *heads.borrow();
                let now = Instant::now();
                let mut w = watch.lock().unwrap_or_else(|p| p.into_inner());
                w.extend((seen + 1..=head).map(|s| (s, now)));
                seen = head;
            }
        })
    };
    // NATS: a plain subscriber on the events' subjects.
    let client = async_nats::connect(nats.url()).await?;
    let mut subscription = client.subscribe("p30.events.>").await?;
    client.flush().await?;
    let nats_task = {
        let arrivals = nats_arrivals.clone();
        let total = settings.events;
        tokio::spawn(async move {
            let mut n = 0;
            while n < total {
                let Some(m) = subscription.next().await else { break };
                let now = Instant::now();
                let seq = m.headers.as_ref().and_then(|h| h.get("P30-Seq")).and_then(|v| v.as_str().parse().ok());
                if let Some(seq) = seq {
                    arrivals.lock().unwrap_or_else(|p| p.into_inner()).push((seq, now));
                    n += 1;
                }
            }
        })
    };
    // SSE: subscribers that note each frame's `id` as it arrives and look at nothing else: a plain TCP
    // connection each (one task, no HTTP client library), since on two cores the clients' own work
    // would otherwise be what is measured.
    let mut sse_tasks = Vec::new();
    for _ in 0..settings.subscribers {
        let mut connection = subscribe(running.addr).await?;
        let arrivals = sse.clone();
        let total = settings.events;
        sse_tasks.push(tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let (mut ids, mut buffer) = (FrameIds::default(), vec![0u8; 1 << 16]);
            let mut seen = Vec::with_capacity(total as usize);
            while (seen.len() as u64) < total {
                let n = connection.read(&mut buffer).await?;
                anyhow::ensure!(n > 0, "the SSE connection closed after {} events", seen.len());
                let now = Instant::now();
                ids.read(&buffer[..n], |seq| seen.push((seq, now)));
            }
            arrivals.lock().unwrap_or_else(|p| p.into_inner()).extend(seen);
            anyhow::Ok(())
        }));
    }
    // Commits, paced: one registration each tick, timed when the log acknowledges it.
    let grant = server::access::Grant {
        token_sha256: String::new(),
        role: server::access::Role::Admin,
        agencies: Vec::new(),
        name: "bench".into(),
    };
    let mut commits = HashMap::new();
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / settings.events_per_second as f64));
    for i in 0..settings.events {
        ticks.tick().await;
        let procedure = crate::dataset::numbered_procedure(i);
        let command = events::decide::Command {
            change: events::Change::ProcedureRegistered(procedure),
            effective_on: events::value::Date::parse("2011-01-01").map_err(anyhow::Error::msg)?,
            legal_basis: events::value::LongText::default(),
            note: events::value::LongText::default(),
        };
        let recording =
            server::record::Recording { command, grant: grant.clone(), idempotency: None, expected: Vec::new() };
        let appended = server::record::record(&running.log, recording).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let now = Instant::now();
        for e in appended.events {
            commits.insert(e.seq, now);
        }
    }
    // Every receiver has had every event long before this; one that has not lost some (a NATS core
    // subscriber cut off as a slow consumer, say): the round fails and says so instead of hanging.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let waited = |what: &'static str, arrivals: &Arrivals| {
        let got = arrivals.lock().unwrap_or_else(|p| p.into_inner()).len();
        anyhow::anyhow!("{what} had {got} arrivals of {} events 30 s after the last commit", settings.events)
    };
    for t in sse_tasks {
        tokio::time::timeout_at(deadline, t).await.map_err(|_| waited("the SSE subscribers", &sse))???;
    }
    tokio::time::timeout_at(deadline, nats_task).await.map_err(|_| waited("the NATS subscriber", &nats_arrivals))??;
    tokio::time::timeout_at(deadline, watch_task).await.map_err(|_| waited("the in-process watch", &watch))??;
    running.stop().await?;
    let (sse, nats, watch) =
        (latencies(&commits, &sse), latencies(&commits, &nats_arrivals), latencies(&commits, &watch));
    let p50 = |xs: &[f64]| crate::figures::quantile(xs.to_vec(), 0.5);
    eprintln!("  p50 SSE {:.3} ms, NATS {:.3} ms, in-process {:.3} ms", p50(&sse), p50(&nats), p50(&watch));
    Ok((p99(sse), p99(nats), p99(watch)))
}

/// `p30 bench live`: p99 from commit to SSE and to NATS, beside commit to in-process notification.
pub async fn live(settings: &LiveSettings) -> anyhow::Result<Vec<Figure>> {
    let (mut sse, mut nats_p99, mut watch) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..settings.rounds {
        // A fresh nats-server (and store) each round, as the server is fresh: a stream left by the round
        // before would say its events were already published, and the new server would publish none.
        let nats = NatsServer::start()?;
        let (s, n, w) = round(settings, &nats).await?;
        eprintln!("round {}: p99 SSE {s:.3} ms, NATS {n:.3} ms, in-process {w:.3} ms", r + 1);
        sse.push(s);
        nats_p99.push(n);
        watch.push(w);
    }
    let baseline = Some("commit → in-process notification p99".to_owned());
    let rate = format!("{} events/s", settings.events_per_second);
    Ok(vec![
        Figure {
            name: format!("commit → SSE event p99, {} subscribers, {rate}", settings.subscribers),
            value: median(sse),
            unit: "ms",
            baseline: baseline.clone(),
            baseline_value: Some(median(watch.clone())),
        },
        Figure {
            name: format!("commit → NATS subscriber p99, {rate}"),
            value: median(nats_p99),
            unit: "ms",
            baseline,
            baseline_value: Some(median(watch)),
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::FrameIds;

    #[test]
    fn frame_ids_are_found_whatever_the_chunks() {
        let stream = b"id: 1\nevent: ProcedureRegistered\ndata: {\"seq\":1,\"note\":\"id: 9\"}\n\n:\n\nid: 22\nevent: ProcedureSimplified\ndata: {}\n\nid: 333\nevent: X\ndata: {}\n\n";
        for size in [1, 2, 3, 5, 7, 64, stream.len()] {
            let mut ids = FrameIds::default();
            let mut seen = Vec::new();
            for chunk in stream.chunks(size) {
                ids.read(chunk, |seq| seen.push(seq));
            }
            assert_eq!(seen, [1, 22, 333], "chunks of {size} bytes");
        }
    }
}
