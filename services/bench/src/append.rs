//! `p30 bench append`: the durable append rate of concurrent writers (group commit), against one fsync
//! per event and against JetStream.

use crate::dataset::numbered_procedure;
use crate::figures::{Figure, median};
use crate::nats_server::NatsServer;

use std::time::{Duration, Instant};

use anyhow::Context;
use events::value::{Date, LongText};
use events::{Change, Event, NewEvent, SCHEMA_VERSION, StreamId};
use eventstore::{Append, Log, Options};

fn registration(i: u64) -> NewEvent {
    let p = numbered_procedure(i);
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
