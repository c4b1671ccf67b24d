//! `p30 bench live-update`: what a new event costs the live figures, kept event by event, against
//! recomputing them.

use crate::as_of::{AsOfSettings, rebuilt};
use crate::figures::{Figure, p50_p99, quantile};

use std::time::Instant;

use events::value::LongText;
use events::{Change, Event, Procedure, SCHEMA_VERSION, StreamId};

/// `p30 bench live-update`: what a new event costs the live figures (reductions by every grouping and
/// every programme, as of today), kept event by event (`LiveFigures::update`, then the rows it changed),
/// against recomputing them with reductions passes after the same event (one survey for the four
/// groupings, one pass per programme), alternating on the same projection.
pub fn live_update(settings: &AsOfSettings) -> anyhow::Result<Vec<Figure>> {
    use events::event::{Simplification, derived_id};
    use events::value::{Timestamp, Vnd};
    use projections::{LiveFigures, Status};
    let mut projection = rebuilt(&settings.data)?;
    let now = server::live::now();
    let mut figures = LiveFigures::new(&projection, now.as_of);
    let active: Vec<Procedure> =
        projection.procedures(None, now).filter(|p| p.status == Status::Active).map(|p| p.procedure).collect();
    anyhow::ensure!(!active.is_empty(), "the data set has no active procedure");
    let mut rng = server::demo::Rng::new(settings.data.spec.seed ^ 0x11FE);
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
