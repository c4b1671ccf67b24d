//! Scale check (ignored by default): 200 000 procedures and 10 000 000 events, generated from a seed and
//! streamed into a bulk fold; then reductions as of random dates beside reductions as of today, through
//! the same code path. Not the project's benchmark (that is `p30 bench as-of`), only a guard that the
//! projection's design holds at the scale BENCH.md plans for.
//!
//! `cargo test --release -p projections --test scale -- --ignored --nocapture`
//! (`P30_SCALE_EVENTS=1000000` for a smaller run).

mod common;

use std::time::Instant;

use common::{HOUR, T0, code, days, hours, long, procedure, vnd, volume};
use events::event::{Abolition, Merger, Simplification, Tariff};
use events::value::{Applicant, Date, Level, TariffApplicant, Timestamp, VndPerHour};
use events::{Change, Changes, Event, SCHEMA_VERSION, StreamId};
use projections::{GroupBy, Moment, Projection};
use uuid::Uuid;

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const PROCEDURES: u64 = 200_000;
const FIRST_DAY: i64 = 0; // 2011-01-01
const LAST_DAY: i64 = 15 * 365; // about 2025-12-28

fn day(n: i64) -> Date {
    Date::from_inner(Date::parse("2011-01-01").unwrap().inner() + time::Duration::days(n))
}

fn code_of(i: u64) -> String {
    format!("{}.{:06}.H{:02}", 1 + i % 3, i / 63, i % 63)
}

/// The log, one event at a time: tariffs, an inventory on 2011-01-01, then changes spread over fifteen
/// years in date order (one in fifty recorded late, up to a year back), a merge in every thousand events
/// and an abolition in every two thousand.
fn log(total: u64) -> impl Iterator<Item = Event> {
    let mut rng = Rng(0x5EED_0030);
    let mut seq = 0u64;
    let mut merged = vec![false; PROCEDURES as usize];
    let mut next_new = PROCEDURES;
    let mut pending: Vec<Event> = Vec::new();
    std::iter::from_fn(move || {
        if let Some(e) = pending.pop() {
            return Some(e);
        }
        if seq >= total {
            return None;
        }
        let n = seq;
        let recorded_at = Timestamp::from_micros(T0 + n as i64 * (HOUR / 8));
        let today = FIRST_DAY + (n as i64 * (LAST_DAY - FIRST_DAY)) / total as i64;
        let mut make = |stream: StreamId, effective_on: Date, change: Change| {
            seq += 1;
            Event {
                event_id: Uuid::from_u128(u128::from(seq)),
                seq,
                stream,
                version: 0,
                schema_version: SCHEMA_VERSION,
                recorded_at,
                effective_on,
                actor: "bench".into(),
                command_id: None,
                legal_basis: long(""),
                note: long(""),
                change,
            }
        };
        if n < 2 {
            let applicant = if n == 0 { TariffApplicant::Citizen } else { TariffApplicant::Business };
            let t = Change::TariffSet(Tariff { applicant, vnd_per_hour: VndPerHour::new(25_000 * (n + 1)).unwrap() });
            return Some(make(StreamId::settings(), day(0), t));
        }
        if n < 2 + PROCEDURES {
            let i = n - 2;
            let c = code_of(i);
            let p = procedure(
                &c,
                &format!("Sở {}", i % 700),
                &format!("Lĩnh vực {}", i % 60),
                [Level::Central, Level::Province, Level::District, Level::Commune][(i % 4) as usize],
                [Applicant::Citizen, Applicant::Business, Applicant::Both][(i % 3) as usize],
                &format!("{}", 5 + i % 30),
                &format!("{}", 1 + i % 20),
                (i % 50) * 10_000,
                (i % 7) * 5_000,
                100 + (i % 5_000),
            );
            return Some(make(StreamId::procedure(&code(&c)), day(0), Change::ProcedureRegistered(p)));
        }
        let late = rng.below(50) == 0;
        let on = day((today - if late { rng.below(365) as i64 } else { 0 }).max(1));
        let i = rng.below(PROCEDURES);
        if rng.below(1000) == 0 && !merged[i as usize] && !merged[((i + 1) % PROCEDURES) as usize] {
            let (a, b) = (i, (i + 1) % PROCEDURES);
            merged[a as usize] = true;
            merged[b as usize] = true;
            let into = format!("9.{next_new:06}");
            next_new += 1;
            let change = Change::ProceduresMerged(Merger {
                sources: vec![code(&code_of(a)), code(&code_of(b))],
                into: procedure(
                    &into,
                    "Sở 1",
                    "Lĩnh vực 1",
                    Level::Province,
                    Applicant::Citizen,
                    "3",
                    "2",
                    10_000,
                    0,
                    500,
                ),
            });
            let on = day(today.max(1));
            let mut copies: Vec<Event> = [code_of(a), code_of(b), into]
                .iter()
                .map(|c| make(StreamId::procedure(&code(c)), on, change.clone()))
                .collect();
            copies.reverse();
            let first = copies.pop();
            pending = copies;
            return first;
        }
        if merged[i as usize] {
            // Keep the log plausible: a merged procedure changes no more; simplify its neighbour instead.
            let j = (i + 2) % PROCEDURES;
            let set = Changes { processing_days: Some(days(&format!("{}", 1 + rng.below(30)))), ..Changes::default() };
            let c = Change::ProcedureSimplified(Simplification { code: code(&code_of(j)), set, measures: vec![] });
            return Some(make(StreamId::procedure(&code(&code_of(j))), on, c));
        }
        let c = code(&code_of(i));
        if rng.below(2000) == 0 {
            merged[i as usize] = true;
            return Some(make(
                StreamId::procedure(&c),
                on,
                Change::ProcedureAbolished(Abolition { code: c.clone(), reason: long("") }),
            ));
        }
        let set = Changes {
            processing_days: Some(days(&format!("{}", 1 + rng.below(30)))),
            applicant_hours: (rng.below(2) == 0).then(|| hours(&format!("{}.5", rng.below(10)))),
            fee_vnd: (rng.below(3) == 0).then(|| vnd(rng.below(100) * 1_000)),
            annual_volume: (rng.below(5) == 0).then(|| volume(rng.below(10_000))),
            ..Changes::default()
        };
        Some(make(
            StreamId::procedure(&c),
            on,
            Change::ProcedureSimplified(Simplification { code: c, set, measures: vec![] }),
        ))
    })
}

/// Resident memory now, in MiB (Linux only).
fn rss_mib() -> Option<u64> {
    status_mib("VmRSS:")
}

/// The most resident memory so far, in MiB (Linux only).
fn peak_mib() -> Option<u64> {
    status_mib("VmHWM:")
}

fn status_mib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? / 1024)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

#[test]
#[ignore = "a scale check: run with --release -- --ignored"]
fn reductions_at_any_date_at_full_scale() {
    let total: u64 = std::env::var("P30_SCALE_EVENTS").ok().and_then(|n| n.parse().ok()).unwrap_or(10_000_000);
    let started = Instant::now();
    let generated = log(total).count();
    let generation = started.elapsed();
    println!("generating {generated} events alone: {:.1} s", generation.as_secs_f64());
    let rss_before = rss_mib();
    let started = Instant::now();
    let projection = Projection::fold(log(total)).unwrap();
    let fold = started.elapsed();
    println!(
        "folded {total} events, {} procedures, in {:.1} s ({:.0} k events/s, {:.0} k/s without generating them); \
         RSS {:?} MiB → {:?} MiB",
        projection.procedure_count(),
        fold.as_secs_f64(),
        total as f64 / fold.as_secs_f64() / 1000.0,
        total as f64 / (fold - generation).as_secs_f64() / 1000.0,
        rss_before,
        rss_mib()
    );
    println!("peak RSS while folding {:?} MiB; footprint: {:?}", peak_mib(), projection.footprint());

    let far = Timestamp::from_micros(i64::MAX);
    let today = Moment::new(day(LAST_DAY + 30), far);
    let mut rng = Rng(7);
    let (mut random_ms, mut today_ms, mut agency_ms) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..15 {
        let at = Moment::new(day(1 + rng.below(LAST_DAY as u64) as i64), far);
        let t = Instant::now();
        let r = projection.reductions(GroupBy::All, at, None).unwrap();
        random_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(r.groups[0].roots, PROCEDURES);
        let t = Instant::now();
        projection.reductions(GroupBy::All, today, None).unwrap();
        today_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        projection.reductions(GroupBy::Agency, at, None).unwrap();
        agency_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let (random, today) = (median(random_ms), median(today_ms));
    println!(
        "reductions p50: random as_of {random:.1} ms, as of today {today:.1} ms (ratio {:.2}); by agency {:.1} ms",
        random / today,
        median(agency_ms)
    );
    // A past `known_at` (half-way through the log's recording) replays only what was recorded later.
    let half = Timestamp::from_micros(T0 + (total as i64 / 2) * (HOUR / 8));
    let t = Instant::now();
    projection.reductions(GroupBy::All, Moment::new(day(LAST_DAY / 3), half), None).unwrap();
    println!("reductions known at mid-log: {:.1} ms", t.elapsed().as_secs_f64() * 1000.0);
    let t = Instant::now();
    let view = projection.procedure(&code_of(12_345), today_moment(), None).unwrap();
    println!("one procedure view: {:.3} ms (version {})", t.elapsed().as_secs_f64() * 1000.0, view.version);
}

fn today_moment() -> Moment {
    Moment::new(day(LAST_DAY + 30), Timestamp::from_micros(i64::MAX))
}
