//! Test support: a log recorded by hand (envelopes and all, as the event store writes them), the
//! procedures of the SPEC's worked example, and helpers to read figures.

#![allow(dead_code)] // Each test file uses its own part of this module.

use events::event::{
    Abolition, Amendment, EstimateRevision, Merger, Programme, Retraction, Scope, Simplification, Tariff,
};
use events::value::{
    Agency, AnnualVolume, Applicant, Date, Fraction, Hours, Level, LongText, Name, Online, ProcedureCode, Sector,
    Steps, TariffApplicant, Timestamp, Vnd, VndPerHour, WorkingDays,
};
use events::{Change, Changes, Estimates, Event, Procedure, SCHEMA_VERSION, StreamId};
use projections::{Group, Moment, Money, Ratio};
use uuid::Uuid;

pub const HOUR: i64 = 3_600_000_000;
/// 2011-01-01T00:00:00Z: the log starts recording here, an hour per event unless told otherwise.
pub const T0: i64 = 1_293_840_000_000_000;

pub fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}

pub fn code(s: &str) -> ProcedureCode {
    ProcedureCode::parse(s).unwrap()
}

pub fn days(s: &str) -> WorkingDays {
    WorkingDays::parse(s).unwrap()
}

pub fn hours(s: &str) -> Hours {
    Hours::parse(s).unwrap()
}

pub fn vnd(n: u64) -> Vnd {
    Vnd::new(n).unwrap()
}

pub fn volume(n: u64) -> AnnualVolume {
    AnnualVolume::new(n).unwrap()
}

pub fn long(s: &str) -> LongText {
    LongText::parse(s).unwrap()
}

/// A procedure with the worked example's defaults: 3 steps, no documents, not online, no legal basis.
#[allow(clippy::too_many_arguments)]
pub fn procedure(
    code_: &str,
    agency: &str,
    sector: &str,
    level: Level,
    applicant: Applicant,
    processing_days: &str,
    applicant_hours: &str,
    fee: u64,
    out_of_pocket: u64,
    annual_volume: u64,
) -> Procedure {
    Procedure {
        code: code(code_),
        name: Name::parse(&format!("Thủ tục {code_}")).unwrap(),
        sector: Sector::parse(sector).unwrap(),
        agency: Agency::parse(agency).unwrap(),
        level,
        applicant,
        processing_days: days(processing_days),
        steps: Steps::new(3).unwrap(),
        documents: vec![],
        fee_vnd: vnd(fee),
        out_of_pocket_vnd: vnd(out_of_pocket),
        applicant_hours: hours(applicant_hours),
        annual_volume: volume(annual_volume),
        online: Online::None,
        legal_basis: LongText::default(),
    }
}

/// A citizen procedure of agency `STP` (Hộ tịch, commune) with the given days, hours, fee and volume.
pub fn ho_tich(code_: &str, processing_days: &str, applicant_hours: &str, fee: u64, annual_volume: u64) -> Procedure {
    procedure(
        code_,
        "STP",
        "Hộ tịch",
        Level::Commune,
        Applicant::Citizen,
        processing_days,
        applicant_hours,
        fee,
        0,
        annual_volume,
    )
}

pub fn set() -> Changes {
    Changes::default()
}

pub fn register(p: Procedure) -> Change {
    Change::ProcedureRegistered(p)
}

pub fn simplify(code_: &str, set: Changes) -> Change {
    Change::ProcedureSimplified(Simplification { code: code(code_), set, measures: vec![] })
}

pub fn amend(code_: &str, set: Changes) -> Change {
    Change::ProcedureAmended(Amendment { code: code(code_), set })
}

pub fn abolish(code_: &str) -> Change {
    Change::ProcedureAbolished(Abolition { code: code(code_), reason: long("Bãi bỏ") })
}

pub fn revise(code_: &str, baseline: Option<Estimates>, current: Option<Estimates>) -> Change {
    Change::EstimateRevised(EstimateRevision { code: code(code_), baseline, current })
}

pub fn tariff(applicant: TariffApplicant, vnd_per_hour: u64) -> Change {
    Change::TariffSet(Tariff { applicant, vnd_per_hour: VndPerHour::new(vnd_per_hour).unwrap() })
}

pub fn programme(id: &str, baseline_on: &str, deadline: &str, cost: &str, time: &str, scope: &str) -> Change {
    Change::ProgrammeDefined(Programme {
        id: code(id),
        name: Name::parse(&format!("Chương trình {id}")).unwrap(),
        baseline_on: date(baseline_on),
        deadline: date(deadline),
        cost_reduction: Fraction::parse(cost).unwrap(),
        time_reduction: Fraction::parse(time).unwrap(),
        scope: Scope::parse(scope).unwrap(),
    })
}

/// The log as the event store writes it: gap-free seqs, versions per stream, `recorded_at` never
/// decreasing (an hour per event unless the test moves the clock on).
#[derive(Clone, Default)]
pub struct Log {
    pub events: Vec<Event>,
    /// Micros since the epoch of the next event's `recorded_at`, once `T0` is added.
    clock: i64,
}

impl Log {
    pub fn new() -> Self {
        Self::default()
    }

    /// The `recorded_at` the next event gets.
    pub fn now(&self) -> Timestamp {
        Timestamp::from_micros(T0 + self.clock)
    }

    /// The `recorded_at` of the last event.
    pub fn last_recorded(&self) -> Timestamp {
        self.events.last().map_or(Timestamp::from_micros(T0), |e| e.recorded_at)
    }

    /// Moves the clock so the next event is recorded at `at` (`YYYY-MM-DDTHH:MM:SSZ` or a date, read as
    /// midnight UTC); never backwards.
    pub fn record_from(&mut self, at: &str) {
        let t = if at.len() == 10 { Timestamp::parse(&format!("{at}T00:00:00Z")) } else { Timestamp::parse(at) };
        let micros = t.unwrap().micros() - T0;
        assert!(micros >= self.clock, "the clock only moves forward");
        self.clock = micros;
    }

    fn push(&mut self, stream: StreamId, effective_on: &str, change: Change, recorded_at: Timestamp) -> Event {
        let seq = self.events.len() as u64 + 1;
        let version = self.events.iter().filter(|e| e.stream == stream).count() as u64 + 1;
        let event = Event {
            event_id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + u128::from(seq)),
            seq,
            stream,
            version,
            schema_version: SCHEMA_VERSION,
            recorded_at,
            effective_on: date(effective_on),
            actor: "can-bo".into(),
            command_id: None,
            legal_basis: long("Quyết định 30/QĐ-TTg"),
            note: LongText::default(),
            change,
        };
        self.events.push(event.clone());
        event
    }

    /// Records one change in its stream: the procedure's, or `settings` for tariffs and programmes.
    pub fn record(&mut self, effective_on: &str, change: Change) -> Event {
        let stream = match change.subject_code() {
            Some(c) => StreamId::procedure(c),
            None => StreamId::settings(),
        };
        let at = self.now();
        self.clock += HOUR;
        self.push(stream, effective_on, change, at)
    }

    /// Records a merge: one event per stream it touches, consecutive seqs, one `recorded_at`.
    pub fn merge(&mut self, effective_on: &str, sources: &[&str], into: Procedure) -> Vec<Event> {
        let mut streams: Vec<StreamId> = sources.iter().map(|c| StreamId::procedure(&code(c))).collect();
        let into_stream = StreamId::procedure(&into.code);
        if !streams.contains(&into_stream) {
            streams.push(into_stream);
        }
        let change = Change::ProceduresMerged(Merger { sources: sources.iter().map(|c| code(c)).collect(), into });
        let at = self.now();
        self.clock += HOUR;
        let command = format!("merge-{}", self.events.len() + 1);
        streams
            .into_iter()
            .map(|s| {
                let mut e = self.push(s, effective_on, change.clone(), at);
                e.command_id = Some(command.clone());
                self.events.last_mut().unwrap().command_id = Some(command.clone());
                e
            })
            .collect()
    }

    /// Retracts `target` as the decider writes it: for a merge, one retraction per copy (pass all copies);
    /// otherwise one in the target's stream. All share one `recorded_at`.
    pub fn retract(&mut self, targets: &[Event]) -> Vec<Event> {
        let at = self.now();
        self.clock += HOUR;
        let on = at.date_in_vietnam().to_string();
        targets
            .iter()
            .map(|t| {
                let change = Change::EntryRetracted(Retraction { event_id: t.event_id, reason: long("Nhập nhầm") });
                self.push(t.stream.clone(), &on, change, at)
            })
            .collect()
    }
}

/// The inventory with tariffs from 2011-01-01: citizen 25 000 đ/h, business 50 000 đ/h.
pub fn worked_example_inventory() -> Log {
    worked_example_inventory_with(&[(TariffApplicant::Citizen, 25_000), (TariffApplicant::Business, 50_000)])
}

/// The inventory with only these tariffs (from 2011-01-01).
pub fn worked_example_inventory_with(tariffs: &[(TariffApplicant, u64)]) -> Log {
    let mut log = Log::new();
    for &(applicant, vnd_per_hour) in tariffs {
        log.record("2011-01-01", tariff(applicant, vnd_per_hour));
    }
    let xd = "Xây dựng";
    let dn = "Thành lập và hoạt động doanh nghiệp";
    let ht = "Hộ tịch";
    use Applicant::{Business, Citizen};
    let inventory = [
        procedure("1.000001", "SXD", xd, Level::District, Citizen, "20", "16", 75_000, 100_000, 1_200),
        procedure("2.000002", "SKHDT", dn, Level::Province, Business, "5", "8", 100_000, 50_000, 800),
        procedure("3.000003", "STP", ht, Level::Commune, Citizen, "3", "4", 8_000, 20_000, 5_000),
        procedure("3.000004", "STP", ht, Level::Commune, Citizen, "5", "5", 15_000, 20_000, 3_000),
        procedure("2.000005", "SKHDT", dn, Level::Province, Business, "5", "6", 100_000, 30_000, 600),
    ];
    for p in inventory {
        log.record("2011-01-01", register(p));
    }
    log
}

/// The merged procedure of change 2: `3.000010`.
pub fn ho_tich_lien_thong() -> Procedure {
    Procedure {
        steps: Steps::new(2).unwrap(),
        online: Online::Partial,
        ..procedure("3.000010", "STP", "Hộ tịch", Level::Commune, Applicant::Citizen, "3", "3", 10_000, 10_000, 8_000)
    }
}

/// The worked example's whole log: the inventory, then changes 1–4, each recorded on its effective date.
pub fn worked_example() -> Log {
    worked_example_changes(worked_example_inventory())
}

/// Changes 1–4 of the worked example, recorded after `log`.
pub fn worked_example_changes(mut log: Log) -> Log {
    log.record_from("2011-07-01");
    log.record(
        "2011-07-01",
        simplify(
            "1.000001",
            Changes { processing_days: Some(days("12")), applicant_hours: Some(hours("10")), ..set() },
        ),
    );
    log.record_from("2012-01-01");
    log.merge("2012-01-01", &["3.000003", "3.000004"], ho_tich_lien_thong());
    log.record_from("2012-06-01");
    log.record("2012-06-01", abolish("2.000005"));
    log.record_from("2013-01-01");
    log.record(
        "2013-01-01",
        simplify(
            "2.000002",
            Changes {
                processing_days: Some(days("3")),
                fee_vnd: Some(vnd(50_000)),
                applicant_hours: Some(hours("4")),
                online: Some(Online::Full),
                ..set()
            },
        ),
    );
    log
}

/// Asked as of `as_of`, knowing everything recorded so far (and ten years more).
pub fn as_of(s: &str) -> Moment {
    Moment::new(date(s), Timestamp::from_micros(T0 + 100 * 365 * 24 * HOUR))
}

/// Asked as of `as_of`, knowing only what was recorded by `known_at`.
pub fn known(as_of_: &str, known_at: Timestamp) -> Moment {
    Moment::new(date(as_of_), known_at)
}

/// A money figure's exact value, in đồng, when it is whole; panics otherwise.
#[track_caller]
pub fn dong(m: &Option<Money>) -> u128 {
    let m = m.as_ref().expect("a money figure, not null");
    assert_eq!(m.as_ratio(), &Ratio::from_int(m.rounded_dong() as i128), "{m:?} is not a whole number of đồng");
    m.rounded_dong()
}

/// A ratio as the SPEC prints it: six decimals.
#[track_caller]
pub fn six(r: &Option<Ratio>) -> String {
    format!("{:.6}", r.as_ref().expect("a ratio, not null").to_f64())
}

/// `expected` (a decimal as the SPEC prints it) to six decimals.
pub fn six_of(expected: &str) -> String {
    format!("{:.6}", expected.parse::<f64>().unwrap())
}

/// The group with this key; panics if there is none.
#[track_caller]
pub fn group<'a>(groups: &'a [Group], key: &str) -> &'a Group {
    groups.iter().find(|g| g.key == key).unwrap_or_else(|| panic!("no group {key} in {groups:#?}"))
}
