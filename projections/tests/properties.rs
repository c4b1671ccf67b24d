//! Properties over random logs: folding at once equals applying one by one; the order in which events of
//! different procedures were recorded does not matter; asking with an earlier `known_at` equals folding
//! only what was recorded by then; and the groups add up to the whole, exactly.
//!
//! The logs are scripts of registrations, simplifications, amendments, revisions, merges (into a new code
//! or a source), abolitions, retractions (merges retracted in every stream) and tariffs, with effective
//! dates drawn freely, so many changes are recorded late.

mod common;

use std::collections::HashMap;

use common::{HOUR, T0, code, days, hours, long, procedure, vnd, volume};
use events::event::{
    Abolition, Amendment, EstimateRevision, Merger, Programme, Retraction, Scope, Simplification, Tariff,
};
use events::value::{Agency, Applicant, Date, Fraction, Level, Name, Online, TariffApplicant, Timestamp, VndPerHour};
use events::{Change, Changes, Estimates, Event, Procedure, SCHEMA_VERSION, StreamId};
use projections::{GroupBy, LiveFigures, Moment, Money, Projection, Ratio};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use uuid::Uuid;

/// One random step of a script; the interpreter picks valid-looking targets from what is registered.
#[derive(Clone, Debug)]
struct Step {
    kind: u8,
    a: usize,
    b: usize,
    day: u16,
    flags: u8,
    numbers: [u32; 6],
}

fn step() -> impl Strategy<Value = Step> {
    (0u8..10, any::<usize>(), any::<usize>(), 0u16..1500, any::<u8>(), proptest::array::uniform6(0u32..5_000))
        .prop_map(|(kind, a, b, day, flags, numbers)| Step { kind, a, b, day, flags, numbers })
}

/// Events that must stay together and in this order (a merge's copies; a merge's retractions).
#[derive(Clone, Debug)]
struct Unit {
    copies: Vec<(StreamId, Date, Change)>,
}

const AGENCIES: [&str; 3] = ["UBND-A", "UBND-B", "SỞ-C"];
const SECTORS: [&str; 2] = ["Hộ tịch", "Đất đai"];

fn day(n: u16) -> Date {
    Date::from_inner(Date::parse("2011-01-01").unwrap().inner() + time::Duration::days(i64::from(n)))
}

fn random_procedure(c: &str, s: &Step) -> Procedure {
    let n = s.numbers;
    let level = [Level::Central, Level::Province, Level::District, Level::Commune][n[0] as usize % 4];
    let applicant = [Applicant::Citizen, Applicant::Business, Applicant::Both][n[1] as usize % 3];
    procedure(
        c,
        AGENCIES[n[2] as usize % 3],
        SECTORS[n[3] as usize % 2],
        level,
        applicant,
        &format!("{}.{:02}", n[4] % 40, n[5] % 100),
        &format!("{}.{:02}", n[5] % 30, n[4] % 100),
        u64::from(n[0]) * 10,
        u64::from(n[1] % 7) * 1_000,
        // Volumes of 0 happen: shares are then equal.
        u64::from(n[3] % 4) * u64::from(n[2] % 300),
    )
}

fn random_set(s: &Step, amend: bool) -> Changes {
    let n = s.numbers;
    let f = s.flags;
    let mut c = Changes::default();
    if f & 1 != 0 || f & 0x3f == 0 {
        c.processing_days = Some(days(&format!("{}", n[0] % 30)));
    }
    if f & 2 != 0 {
        c.applicant_hours = Some(hours(&format!("{}.5", n[1] % 20)));
    }
    if f & 4 != 0 {
        c.fee_vnd = Some(vnd(u64::from(n[2]) * 7));
    }
    if f & 8 != 0 {
        c.annual_volume = Some(volume(u64::from(n[3] % 500)));
    }
    if f & 16 != 0 {
        c.online = Some([Online::None, Online::Partial, Online::Full][n[4] as usize % 3]);
    }
    if amend && f & 32 != 0 {
        c.agency = Some(Agency::parse(AGENCIES[n[5] as usize % 3]).unwrap());
    }
    if amend && f & 64 != 0 {
        c.applicant = Some([Applicant::Citizen, Applicant::Business, Applicant::Both][n[5] as usize % 3]);
    }
    if f & 128 != 0 {
        c.name = Some(events::value::Name::parse(&format!("Tên {}", n[0])).unwrap());
    }
    c
}

fn estimates(n: &[u32; 6], shift: usize) -> Estimates {
    Estimates {
        annual_volume: Some(volume(u64::from(n[shift % 6] % 400))),
        applicant_hours: n[(shift + 1) % 6].is_multiple_of(2).then(|| hours(&format!("{}", n[(shift + 2) % 6] % 9))),
        out_of_pocket_vnd: None,
    }
}

/// Interprets a script into units, in the order it was written.
fn script(steps: &[Step]) -> Vec<Unit> {
    let mut units: Vec<Unit> = Vec::new();
    let mut registered: Vec<String> = Vec::new();
    let mut gone: Vec<String> = Vec::new(); // merged away or abolished
    let mut next_code = 0;
    let mut retracted: Vec<usize> = Vec::new();
    let stream = |c: &str| StreamId::procedure(&code(c));
    for s in steps {
        let on = day(s.day);
        let active: Vec<String> = registered.iter().filter(|c| !gone.contains(c)).cloned().collect();
        let pick = |list: &[String], i: usize| list[i % list.len()].clone();
        let unit = match s.kind {
            0 | 1 => {
                let c = format!("1.{next_code:06}");
                next_code += 1;
                registered.push(c.clone());
                Some(Unit { copies: vec![(stream(&c), on, Change::ProcedureRegistered(random_procedure(&c, s)))] })
            }
            2 | 3 if !active.is_empty() => {
                let c = pick(&active, s.a);
                let change = if s.kind == 2 {
                    Change::ProcedureSimplified(Simplification {
                        code: code(&c),
                        set: random_set(s, false),
                        measures: vec![],
                    })
                } else {
                    Change::ProcedureAmended(Amendment { code: code(&c), set: random_set(s, true) })
                };
                Some(Unit { copies: vec![(stream(&c), on, change)] })
            }
            4 if !registered.is_empty() => {
                let c = pick(&registered, s.a);
                let baseline = (s.flags & 1 != 0).then(|| estimates(&s.numbers, 0));
                let current = (s.flags & 2 != 0 || baseline.is_none()).then(|| estimates(&s.numbers, 3));
                let change = Change::EstimateRevised(EstimateRevision { code: code(&c), baseline, current });
                Some(Unit { copies: vec![(stream(&c), on, change)] })
            }
            5 if active.len() >= 2 => {
                let first = s.a % active.len();
                let second = (first + 1 + s.b % (active.len() - 1)) % active.len();
                let mut sources = vec![active[first].clone(), active[second].clone()];
                if s.flags & 4 != 0 && active.len() >= 3 {
                    let third = (0..active.len()).find(|&i| i != first && i != second).unwrap();
                    sources.push(active[third].clone());
                }
                let into = if s.flags & 1 != 0 {
                    sources[0].clone()
                } else {
                    let c = format!("2.{next_code:06}");
                    next_code += 1;
                    registered.push(c.clone());
                    c
                };
                gone.extend(sources.iter().filter(|c| **c != into).cloned());
                let change = Change::ProceduresMerged(Merger {
                    sources: sources.iter().map(|c| code(c)).collect(),
                    into: random_procedure(&into, s),
                });
                let mut streams: Vec<String> = sources.clone();
                if !streams.contains(&into) {
                    streams.push(into);
                }
                Some(Unit { copies: streams.iter().map(|c| (stream(c), on, change.clone())).collect() })
            }
            6 if !active.is_empty() => {
                let c = pick(&active, s.a);
                gone.push(c.clone());
                let change = Change::ProcedureAbolished(Abolition { code: code(&c), reason: long("") });
                Some(Unit { copies: vec![(stream(&c), on, change)] })
            }
            7 if !units.is_empty() => {
                let target = s.a % units.len();
                let retractable =
                    !retracted.contains(&target) && !matches!(units[target].copies[0].2, Change::EntryRetracted(_));
                retractable.then(|| {
                    retracted.push(target);
                    // Retract every copy (the decider's way) or, sometimes, only one (still the whole merge).
                    let copies = &units[target].copies;
                    let all = s.flags & 8 == 0;
                    let chosen: Vec<usize> = if all { (0..copies.len()).collect() } else { vec![s.b % copies.len()] };
                    Unit {
                        copies: chosen
                            .into_iter()
                            .map(|i| {
                                let id = event_id(target, i);
                                (
                                    copies[i].0.clone(),
                                    on,
                                    Change::EntryRetracted(Retraction { event_id: id, reason: long("") }),
                                )
                            })
                            .collect(),
                    }
                })
            }
            8 => {
                let applicant = if s.flags & 1 == 0 { TariffApplicant::Citizen } else { TariffApplicant::Business };
                let change = Change::TariffSet(Tariff {
                    applicant,
                    vnd_per_hour: VndPerHour::new(u64::from(s.numbers[0]) + 1).unwrap(),
                });
                Some(Unit { copies: vec![(StreamId::settings(), on, change)] })
            }
            9 => {
                let n = s.numbers;
                let scope = match n[0] % 4 {
                    0 => Scope::All,
                    1 => Scope::Agency(AGENCIES[n[1] as usize % 3].to_owned()),
                    2 => Scope::Sector(SECTORS[n[1] as usize % 2].to_owned()),
                    _ => Scope::Level([Level::Central, Level::Province][n[1] as usize % 2]),
                };
                let change = Change::ProgrammeDefined(Programme {
                    id: code(&format!("DA-{}", n[2] % 3)),
                    name: Name::parse("Đề án").unwrap(),
                    baseline_on: on,
                    deadline: day(s.day + (n[3] % 1000) as u16),
                    cost_reduction: Fraction::parse("0.3").unwrap(),
                    time_reduction: Fraction::parse("0.25").unwrap(),
                    scope,
                });
                Some(Unit { copies: vec![(StreamId::settings(), on, change)] })
            }
            _ => None,
        };
        units.extend(unit);
    }
    units
}

/// Event ids belong to a unit and a copy, not to a place in the log: the same event keeps its id
/// whatever order the log records it in.
fn event_id(unit: usize, copy: usize) -> Uuid {
    Uuid::from_u128(((unit as u128 + 1) << 16) | copy as u128)
}

/// The units recorded in `order`: seqs from 1, an hour apart, a unit's copies at consecutive seqs with
/// one `recorded_at`.
fn record(units: &[Unit], order: &[usize]) -> Vec<Event> {
    let mut events = Vec::new();
    let mut versions: HashMap<StreamId, u64> = HashMap::new();
    for (position, &u) in order.iter().enumerate() {
        let recorded_at = Timestamp::from_micros(T0 + position as i64 * HOUR);
        for (i, (stream, on, change)) in units[u].copies.iter().enumerate() {
            let version = versions.entry(stream.clone()).or_default();
            *version += 1;
            events.push(Event {
                event_id: event_id(u, i),
                seq: events.len() as u64 + 1,
                stream: stream.clone(),
                version: *version,
                schema_version: SCHEMA_VERSION,
                recorded_at,
                effective_on: *on,
                actor: "x".into(),
                command_id: None,
                legal_basis: long(""),
                note: long(""),
                change: change.clone(),
            });
        }
    }
    events
}

/// Another order of the same units that keeps every stream's own order: a random merge of the streams.
fn reordered(units: &[Unit], choices: &[usize]) -> Vec<usize> {
    let streams_of = |u: usize| units[u].copies.iter().map(|c| c.0.clone()).collect::<Vec<_>>();
    let mut queue: HashMap<StreamId, Vec<usize>> = HashMap::new();
    for u in 0..units.len() {
        for s in streams_of(u) {
            queue.entry(s).or_default().push(u);
        }
    }
    let mut placed = vec![false; units.len()];
    let mut order = Vec::new();
    let mut choice = choices.iter().cycle();
    while order.len() < units.len() {
        let ready: Vec<usize> = (0..units.len())
            .filter(|&u| !placed[u])
            .filter(|&u| streams_of(u).iter().all(|s| queue[s].iter().find(|&&x| !placed[x]) == Some(&u)))
            .collect();
        let u = ready[choice.next().copied().unwrap_or(0) % ready.len()];
        placed[u] = true;
        order.push(u);
    }
    order
}

const FAR_FUTURE: i64 = T0 + 200 * 365 * 24 * HOUR;

fn moments() -> Vec<Moment> {
    [0u16, 200, 700, 1200, 2000].iter().map(|&d| Moment::new(day(d), Timestamp::from_micros(FAR_FUTURE))).collect()
}

/// Everything a caller can ask, as comparable values: reductions by every grouping (default and an
/// explicit baseline), the tariffs, programmes aside, and each procedure's view.
fn answers(p: &Projection, at: Moment, codes: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for group_by in [GroupBy::All, GroupBy::Agency, GroupBy::Sector, GroupBy::Level] {
        for baseline_on in [None, Some(day(100))] {
            out.push(match p.reductions(group_by, at, baseline_on) {
                Ok(r) => format!("{:?} {:?} {:?}", r.baseline_on, r.tariffs, r.groups),
                Err(e) => format!("{e:?}"),
            });
        }
    }
    for c in codes {
        out.push(match p.procedure(c, at, None) {
            Ok(v) => format!("{v:?}"),
            Err(_) => "absent".to_owned(),
        });
        out.push(format!("{:?}", p.catalogue_entry(c, at)));
    }
    out
}

fn codes_of(events: &[Event]) -> Vec<String> {
    let mut codes: Vec<String> = events.iter().filter_map(|e| e.stream.code()).map(|c| c.to_string()).collect();
    codes.sort();
    codes.dedup();
    codes
}

/// 96 cases by default; `PROPTEST_CASES=5000` for a longer hunt.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(96)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn folding_at_once_equals_applying_one_by_one(steps in proptest::collection::vec(step(), 0..40), cut in any::<usize>()) {
        let events = record(&script(&steps), &(0..script(&steps).len()).collect::<Vec<_>>());
        let folded = Projection::fold(&events).unwrap();
        let mut applied = Projection::new();
        for e in &events {
            applied.apply(e).unwrap();
        }
        prop_assert_eq!(&folded, &applied);
        // Half folded, half applied; and half folded, half extended.
        let cut = if events.is_empty() { 0 } else { cut % events.len() };
        let mut mixed = Projection::fold(&events[..cut]).unwrap();
        let mut extended = mixed.clone();
        for e in &events[cut..] {
            mixed.apply(e).unwrap();
        }
        extended.extend(&events[cut..]).unwrap();
        prop_assert_eq!(&folded, &mixed);
        prop_assert_eq!(&folded, &extended);
    }

    #[test]
    fn the_order_events_of_different_procedures_were_recorded_in_does_not_matter(
        steps in proptest::collection::vec(step(), 0..40),
        choices in proptest::collection::vec(any::<usize>(), 1..60),
    ) {
        let units = script(&steps);
        let canonical = record(&units, &(0..units.len()).collect::<Vec<_>>());
        let shuffled = record(&units, &reordered(&units, &choices));
        let (a, b) = (Projection::fold(&canonical).unwrap(), Projection::fold(&shuffled).unwrap());
        let codes = codes_of(&canonical);
        // Passes split over three threads, however few the procedures, answer alike.
        let mut split = a.clone();
        split.set_query_split(3, 1);
        for at in moments() {
            prop_assert_eq!(answers(&a, at, &codes), answers(&b, at, &codes));
            prop_assert_eq!(answers(&a, at, &codes), answers(&split, at, &codes));
        }
    }

    #[test]
    fn asking_with_an_earlier_known_at_equals_folding_only_what_was_recorded_by_then(
        steps in proptest::collection::vec(step(), 1..40),
        cut in any::<usize>(),
    ) {
        let units = script(&steps);
        let events = record(&units, &(0..units.len()).collect::<Vec<_>>());
        prop_assume!(!events.is_empty());
        let known_at = events[cut % events.len()].recorded_at;
        let prefix: Vec<Event> = events.iter().filter(|e| e.recorded_at <= known_at).cloned().collect();
        let (full, then) = (Projection::fold(&events).unwrap(), Projection::fold(&prefix).unwrap());
        let codes = codes_of(&events);
        for far in moments() {
            let past = Moment::new(far.as_of, known_at);
            prop_assert_eq!(answers(&full, past, &codes), answers(&then, far, &codes));
        }
    }

    #[test]
    fn the_groups_add_up_to_the_whole_exactly(steps in proptest::collection::vec(step(), 0..40)) {
        let units = script(&steps);
        let events = record(&units, &(0..units.len()).collect::<Vec<_>>());
        let p = Projection::fold(&events).unwrap();
        for at in moments() {
            for baseline_on in [None, Some(day(100))] {
                let Ok(whole) = p.reductions(GroupBy::All, at, baseline_on) else { continue };
                let all = &whole.groups[0];
                // One survey for every grouping answers as the four passes do.
                let every = p.reductions_by_every_grouping(at, baseline_on).unwrap();
                let one_by_one: Vec<_> = [GroupBy::All, GroupBy::Agency, GroupBy::Sector, GroupBy::Level]
                    .into_iter()
                    .map(|g| p.reductions(g, at, baseline_on).unwrap())
                    .collect();
                prop_assert_eq!(every, one_by_one);
                for group_by in [GroupBy::Agency, GroupBy::Sector, GroupBy::Level] {
                    let groups = p.reductions(group_by, at, baseline_on).unwrap().groups;
                    prop_assert_eq!(groups.iter().map(|g| g.roots).sum::<u64>(), all.roots);
                    prop_assert_eq!(groups.iter().map(|g| g.introduced).sum::<u64>(), all.introduced);
                    prop_assert_eq!(groups.iter().map(|g| g.baseline_volume).sum::<u128>(), all.baseline_volume);
                    for (part, whole) in [
                        (groups.iter().map(|g| g.baseline_annual_cost_vnd.clone()).collect::<Vec<_>>(), &all.baseline_annual_cost_vnd),
                        (groups.iter().map(|g| g.current_annual_cost_vnd.clone()).collect::<Vec<_>>(), &all.current_annual_cost_vnd),
                    ] {
                        let sum = part.iter().try_fold(Money::zero(), |acc, m| m.as_ref().map(|m| acc.add(m)));
                        prop_assert_eq!(sum.as_ref(), whole.as_ref(), "a gap in a group is a gap in the whole");
                    }
                    // Average days weigh by baseline volume: Σ avg × volume is the whole's.
                    for days_of in [|g: &projections::Group| g.baseline_avg_days.clone(), |g: &projections::Group| g.current_avg_days.clone()] {
                        let weighted = |g: &projections::Group| {
                            days_of(g).map_or(Ratio::zero(), |d| d.mul(&Ratio::from_int(g.baseline_volume as i128)))
                        };
                        let sum = groups.iter().fold(Ratio::zero(), |acc, g| acc.add(&weighted(g)));
                        prop_assert_eq!(sum, weighted(all));
                    }
                }
            }
        }
    }

    #[test]
    fn live_figures_kept_event_by_event_equal_the_reductions_and_programmes_asked_afresh(
        steps in proptest::collection::vec(step(), 0..40),
    ) {
        let units = script(&steps);
        let events = record(&units, &(0..units.len()).collect::<Vec<_>>());
        let every = [GroupBy::All, GroupBy::Agency, GroupBy::Sector, GroupBy::Level];
        let known = Timestamp::from_micros(FAR_FUTURE);
        let mut p = Projection::new();
        let mut live: Vec<LiveFigures> = moments().iter().map(|at| LiveFigures::new(&p, at.as_of)).collect();
        let mut explicit: Vec<_> = moments().iter().filter_map(|at| p.tally(at.as_of, Some(day(100))).ok()).collect();
        for e in &events {
            let before: Vec<_> = moments()
                .iter()
                .map(|&at| (every.map(|g| p.reductions(g, at, None).unwrap().groups), p.programmes(at)))
                .collect();
            let applied = p.apply(e).unwrap();
            for ((figures, at), (groups_before, programmes_before)) in live.iter_mut().zip(moments()).zip(before) {
                let changed = figures.update(&p, &applied);
                for (g, was) in every.into_iter().zip(groups_before) {
                    let fresh = p.reductions(g, at, None).unwrap();
                    prop_assert_eq!(&figures.reductions(&p, g, known), &fresh, "{:?} after #{}", g, e.seq);
                    for group in &fresh.groups {
                        prop_assert_eq!(figures.group(&p, g, &group.key), Some(group.clone()));
                        let moved = !was.contains(group);
                        prop_assert!(!moved || changed.groups.contains(&(g, group.key.clone())), "{:?} {} moved unsaid", g, group.key);
                    }
                    for gone in was.iter().filter(|w| !fresh.groups.iter().any(|f| f.key == w.key)) {
                        prop_assert!(changed.groups.contains(&(g, gone.key.clone())), "{:?} {} left unsaid", g, gone.key);
                    }
                }
                let programmes = p.programmes(at);
                prop_assert_eq!(&figures.programmes(&p, known), &programmes);
                for now in programmes.iter().filter(|n| !programmes_before.contains(n)) {
                    prop_assert!(changed.programmes.contains(&now.id.to_string()), "programme {} moved unsaid", now.id);
                }
            }
            for tally in &mut explicit {
                tally.update(&p, &applied);
                let at = Moment::new(tally.as_of(), known);
                for g in every {
                    prop_assert_eq!(tally.reductions(&p, g, known), p.reductions(g, at, Some(day(100))).unwrap());
                }
            }
        }
    }
}

/// The generator is worth its name only if its logs hold the cases the properties are about.
#[test]
fn the_random_logs_hold_merges_retractions_and_late_records() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut merges, mut retractions, mut late) = (0, 0, 0);
    for _ in 0..50 {
        let steps = proptest::collection::vec(step(), 30..40).new_tree(&mut runner).unwrap().current();
        let units = script(&steps);
        let events = record(&units, &(0..units.len()).collect::<Vec<_>>());
        merges += events.iter().filter(|e| matches!(e.change, Change::ProceduresMerged(_))).count();
        retractions += events.iter().filter(|e| matches!(e.change, Change::EntryRetracted(_))).count();
        let mut last: HashMap<&StreamId, Date> = HashMap::new();
        for e in &events {
            if last.get(&e.stream).is_some_and(|d| *d > e.effective_on) {
                late += 1;
            }
            last.insert(&e.stream, e.effective_on);
        }
    }
    assert!(merges > 50 && retractions > 50 && late > 50, "merges {merges}, retractions {retractions}, late {late}");
}
