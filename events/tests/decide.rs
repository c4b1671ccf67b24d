//! The decider, rule by rule: given these recorded events, when this command, then these new events or
//! this refusal. Recorded events are built by hand, envelope and all, as the log would hold them.

use events::decide::{current_agency, procedure_state};
use events::event::{
    Abolition, Amendment, EstimateRevision, Merger, Programme, Retraction, Scope, Simplification, Tariff,
};
use events::value::{
    Agency, AnnualVolume, Applicant, Copies, Date, Fraction, Hours, Level, LongText, Name, Online, ProcedureCode,
    Sector, Steps, Tag, TariffApplicant, Timestamp, Vnd, VndPerHour, WorkingDays,
};
use events::{
    Change, Changes, Command, Document, Estimates, Event, History, NewEvent, Procedure, Refusal, RuleBroken,
    SCHEMA_VERSION, Status, StreamId, decide,
};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------------------
// The procedures of these stories.

/// Đăng ký khai sinh (birth registration).
const KHAI_SINH: &str = "1.001193";
/// Đăng ký thường trú (permanent residence registration).
const THUONG_TRU: &str = "1.004194";
/// Cấp thẻ bảo hiểm y tế cho trẻ em (health insurance card for children).
const BHYT: &str = "1.004227";
/// The joined-up procedure the three above are merged into (liên thông).
const LIEN_THONG: &str = "2.000986";

const BASIS: &str = "Nghị quyết 30c/NQ-CP";

/// Every procedure starts alike: 5 working days, 4 steps, 2 documents (3 copies), 8 000 đ fee,
/// 20 000 đ out of pocket, 6.5 hours, 120 000 filings a year, partly online.
fn procedure(code: &str, name: &str) -> Procedure {
    Procedure {
        code: ProcedureCode::parse(code).unwrap(),
        name: Name::parse(name).unwrap(),
        sector: Sector::parse("Hộ tịch").unwrap(),
        agency: Agency::parse("UBND cấp xã").unwrap(),
        level: Level::Commune,
        applicant: Applicant::Citizen,
        processing_days: days("5"),
        steps: steps(4),
        documents: docs(&[("Tờ khai", 1), ("Giấy chứng sinh", 2)]),
        fee_vnd: vnd(8_000),
        out_of_pocket_vnd: vnd(20_000),
        applicant_hours: hours("6.5"),
        annual_volume: volume(120_000),
        online: Online::Partial,
        legal_basis: LongText::parse("Luật Hộ tịch 2014").unwrap(),
    }
}

fn khai_sinh() -> Procedure {
    procedure(KHAI_SINH, "Đăng ký khai sinh")
}

fn thuong_tru() -> Procedure {
    procedure(THUONG_TRU, "Đăng ký thường trú")
}

fn bhyt() -> Procedure {
    procedure(BHYT, "Cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi")
}

fn lien_thong() -> Procedure {
    Procedure {
        processing_days: days("3"),
        documents: docs(&[("Tờ khai liên thông", 1)]),
        online: Online::Full,
        ..procedure(LIEN_THONG, "Liên thông khai sinh, thường trú, cấp thẻ BHYT")
    }
}

// Values.

fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn code(s: &str) -> ProcedureCode {
    ProcedureCode::parse(s).unwrap()
}

fn stream(code_: &str) -> StreamId {
    StreamId::procedure(&code(code_))
}

fn days(s: &str) -> WorkingDays {
    WorkingDays::parse(s).unwrap()
}

fn hours(s: &str) -> Hours {
    Hours::parse(s).unwrap()
}

fn vnd(n: u64) -> Vnd {
    Vnd::new(n).unwrap()
}

fn steps(n: u64) -> Steps {
    Steps::new(n).unwrap()
}

fn volume(n: u64) -> AnnualVolume {
    AnnualVolume::new(n).unwrap()
}

fn docs(items: &[(&str, u64)]) -> Vec<Document> {
    items
        .iter()
        .map(|&(name, c)| Document { name: Name::parse(name).unwrap(), copies: Copies::new(c).unwrap() })
        .collect()
}

fn long(s: &str) -> LongText {
    LongText::parse(s).unwrap()
}

/// A `set` that changes nothing yet: `Changes { fee_vnd: Some(vnd(0)), ..set() }`.
fn set() -> Changes {
    Changes::default()
}

// Changes.

fn register(p: Procedure) -> Change {
    Change::ProcedureRegistered(p)
}

fn simplify(code_: &str, set: Changes) -> Change {
    Change::ProcedureSimplified(Simplification {
        code: code(code_),
        set,
        measures: vec![Tag::parse("cắt giảm thời hạn").unwrap()],
    })
}

fn amend(code_: &str, set: Changes) -> Change {
    Change::ProcedureAmended(Amendment { code: code(code_), set })
}

fn revise(code_: &str, baseline: Option<Estimates>, current: Option<Estimates>) -> Change {
    Change::EstimateRevised(EstimateRevision { code: code(code_), baseline, current })
}

fn merge(sources: &[&str], into: Procedure) -> Change {
    Change::ProceduresMerged(Merger { sources: sources.iter().map(|s| code(s)).collect(), into })
}

fn abolish(code_: &str) -> Change {
    Change::ProcedureAbolished(Abolition { code: code(code_), reason: long("Bãi bỏ theo Nghị định 63/2010") })
}

fn retract(event_id: Uuid) -> Change {
    Change::EntryRetracted(Retraction { event_id, reason: long("Nhập nhầm") })
}

fn tariff(applicant: TariffApplicant, vnd_per_hour: u64) -> Change {
    Change::TariffSet(Tariff { applicant, vnd_per_hour: VndPerHour::new(vnd_per_hour).unwrap() })
}

fn programme(baseline_on: &str, deadline: &str) -> Change {
    Change::ProgrammeDefined(Programme {
        id: code("de-an-30"),
        name: Name::parse("Đề án 30").unwrap(),
        baseline_on: date(baseline_on),
        deadline: date(deadline),
        cost_reduction: Fraction::parse("0.3").unwrap(),
        time_reduction: Fraction::parse("0.333").unwrap(),
        scope: Scope::parse("all").unwrap(),
    })
}

// ---------------------------------------------------------------------------------------------------------
// The log as recorded: envelopes built by hand.

/// 2013-01-01T00:00:00Z; each recorded event comes an hour after the one before.
const T0: i64 = 1_356_998_400_000_000;
const HOUR: i64 = 3_600_000_000;

#[derive(Default)]
struct Log {
    events: Vec<Event>,
}

impl Log {
    fn next_seq(&self) -> u64 {
        self.events.len() as u64 + 1
    }

    fn push(&mut self, stream: StreamId, recorded_at: i64, effective_on: &str, change: Change) -> Event {
        let seq = self.next_seq();
        let version = self.events.iter().filter(|e| e.stream == stream).count() as u64 + 1;
        let event = Event {
            event_id: Uuid::from_u128(u128::from(seq)),
            seq,
            stream,
            version,
            schema_version: SCHEMA_VERSION,
            recorded_at: Timestamp::from_micros(recorded_at),
            effective_on: date(effective_on),
            actor: "can-bo-ho-tich".into(),
            command_id: None,
            legal_basis: long(BASIS),
            note: LongText::default(),
            change,
        };
        self.events.push(event.clone());
        event
    }

    /// Records `change` in `stream`, an hour after the previous event.
    fn record_in(&mut self, stream: StreamId, effective_on: &str, change: Change) -> Event {
        let at = T0 + self.next_seq() as i64 * HOUR;
        self.push(stream, at, effective_on, change)
    }

    /// Records a change of one procedure in that procedure's stream.
    fn record(&mut self, effective_on: &str, change: Change) -> Event {
        let code = change.subject_code().expect("a change of one procedure").clone();
        self.record_in(StreamId::procedure(&code), effective_on, change)
    }

    /// Records a merge as the log does: one event in each stream it touches, at consecutive seqs, with one
    /// `recorded_at` and one `command_id`.
    fn record_merge(&mut self, effective_on: &str, sources: &[&str], into: Procedure) -> Vec<Event> {
        let mut streams: Vec<StreamId> = sources.iter().map(|c| stream(c)).collect();
        let into_stream = StreamId::procedure(&into.code);
        if !streams.contains(&into_stream) {
            streams.push(into_stream);
        }
        let change = merge(sources, into);
        let at = T0 + self.next_seq() as i64 * HOUR;
        let command_id = format!("merge-{}", self.next_seq());
        let mut out = Vec::new();
        for s in streams {
            self.push(s, at, effective_on, change.clone());
            let last = self.events.last_mut().expect("just pushed");
            last.command_id = Some(command_id.clone());
            out.push(last.clone());
        }
        out
    }

    /// Records the retraction of `target` in its stream.
    fn record_retraction(&mut self, on: &str, target: &Event) -> Event {
        self.record_in(target.stream.clone(), on, retract(target.event_id))
    }
}

/// A log in which birth registration was registered on 2013-01-01.
fn khai_sinh_registered() -> (Log, Event) {
    let mut log = Log::default();
    let registered = log.record("2013-01-01", register(khai_sinh()));
    (log, registered)
}

// ---------------------------------------------------------------------------------------------------------
// Given / when / then.

fn given(events: &[Event]) -> Given {
    Given(History::from_events(events.iter().cloned()))
}

fn given_nothing() -> Given {
    Given(History::new())
}

struct Given(History);

impl Given {
    fn when(&self, command: Command) -> Outcome {
        Outcome(decide(&command, &self.0))
    }
}

struct Outcome(Result<Vec<NewEvent>, Refusal>);

impl Outcome {
    /// The command is accepted and writes exactly these events (in any order of streams).
    #[track_caller]
    fn then_events(self, mut expected: Vec<NewEvent>) {
        let mut got = self.0.unwrap_or_else(|r| panic!("refused: {r}\n{r:?}"));
        got.sort_by(|a, b| a.stream.cmp(&b.stream));
        expected.sort_by(|a, b| a.stream.cmp(&b.stream));
        assert_eq!(got, expected);
    }

    /// The command is refused, for the reason `expected` recognises; the refusal, to look at closer.
    #[track_caller]
    fn then_refused(self, expected: impl FnOnce(&Refusal) -> bool) -> Refusal {
        match self.0 {
            Ok(events) => panic!("accepted, writing {events:#?}"),
            Err(r) => {
                assert!(expected(&r), "refused, but not as expected: {r}\n{r:?}");
                r
            }
        }
    }
}

/// A command effective on `effective_on`, on the legal basis every story uses.
fn on(effective_on: &str, change: Change) -> Command {
    Command { change, effective_on: date(effective_on), legal_basis: long(BASIS), note: long("") }
}

/// The event a command `on(effective_on, change)` writes to `stream`.
fn written(stream: StreamId, effective_on: &str, change: Change) -> NewEvent {
    NewEvent { stream, effective_on: date(effective_on), legal_basis: long(BASIS), note: long(""), change }
}

fn fields(r: &Refusal) -> Vec<&str> {
    match r {
        Refusal::Invalid(errors) => errors.iter().map(|e| e.field.as_str()).collect(),
        _ => vec![],
    }
}

// ---------------------------------------------------------------------------------------------------------
// ProcedureRegistered: code unused.

#[test]
fn an_unused_code_is_registered_in_its_own_stream() {
    given_nothing().when(on("2013-01-01", register(khai_sinh()))).then_events(vec![written(
        stream(KHAI_SINH),
        "2013-01-01",
        register(khai_sinh()),
    )]);
}

#[test]
fn a_code_already_registered_is_taken() {
    let (log, _) = khai_sinh_registered();
    let again = Procedure { name: Name::parse("Đăng ký khai sinh (bản mới)").unwrap(), ..khai_sinh() };
    given(&log.events)
        .when(on("2014-01-01", register(again)))
        .then_refused(|r| matches!(r, Refusal::CodeTaken { code } if code.as_str() == KHAI_SINH));
}

#[test]
fn a_code_stays_taken_after_its_registration_is_retracted() {
    let (mut log, registered) = khai_sinh_registered();
    log.record_retraction("2013-02-01", &registered);
    given(&log.events)
        .when(on("2013-03-01", register(khai_sinh())))
        .then_refused(|r| matches!(r, Refusal::CodeTaken { code } if code.as_str() == KHAI_SINH));
}

#[test]
fn the_code_a_merge_created_is_taken() {
    let mut log = Log::default();
    log.record("2013-01-01", register(khai_sinh()));
    log.record("2013-01-01", register(thuong_tru()));
    log.record_merge("2015-01-01", &[KHAI_SINH, THUONG_TRU], lien_thong());
    given(&log.events)
        .when(on("2016-01-01", register(lien_thong())))
        .then_refused(|r| matches!(r, Refusal::CodeTaken { code } if code.as_str() == LIEN_THONG));
}

// ---------------------------------------------------------------------------------------------------------
// ProcedureSimplified.

#[test]
fn an_active_procedure_is_simplified() {
    let (log, _) = khai_sinh_registered();
    let cut = Changes {
        processing_days: Some(days("3")),
        documents: Some(docs(&[("Tờ khai", 1)])),
        online: Some(Online::Full),
        ..set()
    };
    given(&log.events).when(on("2014-01-01", simplify(KHAI_SINH, cut.clone()))).then_events(vec![written(
        stream(KHAI_SINH),
        "2014-01-01",
        simplify(KHAI_SINH, cut),
    )]);
}

#[test]
fn a_procedure_is_simplified_on_the_day_it_is_registered() {
    let (log, _) = khai_sinh_registered();
    let cut = Changes { steps: Some(steps(3)), ..set() };
    given(&log.events).when(on("2013-01-01", simplify(KHAI_SINH, cut.clone()))).then_events(vec![written(
        stream(KHAI_SINH),
        "2013-01-01",
        simplify(KHAI_SINH, cut),
    )]);
}

#[test]
fn a_procedure_not_yet_registered_on_the_date_cannot_be_simplified() {
    let (log, _) = khai_sinh_registered();
    given(&log.events)
        .when(on("2012-12-31", simplify(KHAI_SINH, Changes { steps: Some(steps(3)), ..set() })))
        .then_refused(|r| {
            matches!(r, Refusal::Rule(RuleBroken::NotRegistered { code, on })
                if code.as_str() == KHAI_SINH && *on == date("2012-12-31"))
        });
}

#[test]
fn an_unknown_procedure_cannot_be_simplified() {
    let (log, _) = khai_sinh_registered();
    given(&log.events)
        .when(on("2014-01-01", simplify(THUONG_TRU, Changes { steps: Some(steps(3)), ..set() })))
        .then_refused(|r| matches!(r, Refusal::UnknownProcedure { code } if code.as_str() == THUONG_TRU));
}

#[test]
fn an_abolished_procedure_cannot_be_simplified() {
    let (mut log, _) = khai_sinh_registered();
    log.record("2014-01-01", abolish(KHAI_SINH));
    given(&log.events)
        .when(on("2014-06-01", simplify(KHAI_SINH, Changes { steps: Some(steps(3)), ..set() })))
        .then_refused(|r| {
            matches!(r, Refusal::Rule(RuleBroken::NotActive { status: Status::Abolished, on, .. })
                if *on == date("2014-06-01"))
        });
}

#[test]
fn an_abolished_procedure_can_still_be_simplified_before_its_abolition() {
    let (mut log, _) = khai_sinh_registered();
    log.record("2014-01-01", abolish(KHAI_SINH));
    let cut = Changes { steps: Some(steps(3)), ..set() };
    given(&log.events).when(on("2013-06-01", simplify(KHAI_SINH, cut.clone()))).then_events(vec![written(
        stream(KHAI_SINH),
        "2013-06-01",
        simplify(KHAI_SINH, cut),
    )]);
}

#[test]
fn a_simplification_that_changes_nothing_is_refused() {
    let (log, _) = khai_sinh_registered();
    let same = Changes { processing_days: Some(days("5")), online: Some(Online::Partial), ..set() };
    given(&log.events).when(on("2014-01-01", simplify(KHAI_SINH, same))).then_refused(
        |r| matches!(r, Refusal::Rule(RuleBroken::NothingChanges { code }) if code.as_str() == KHAI_SINH),
    );
}

#[test]
fn a_simplification_that_changes_one_value_beside_unchanged_ones_is_recorded() {
    let (log, _) = khai_sinh_registered();
    let one = Changes { processing_days: Some(days("5")), online: Some(Online::Full), ..set() };
    given(&log.events).when(on("2014-01-01", simplify(KHAI_SINH, one.clone()))).then_events(vec![written(
        stream(KHAI_SINH),
        "2014-01-01",
        simplify(KHAI_SINH, one),
    )]);
}

#[test]
fn an_empty_simplification_is_invalid() {
    let (log, _) = khai_sinh_registered();
    let r =
        given(&log.events).when(on("2014-01-01", simplify(KHAI_SINH, set()))).then_refused(|r| fields(r) == ["/set"]);
    assert!(r.to_string().contains("at least one"), "{r}");
}

#[test]
fn every_number_going_up_is_a_burden_rise_with_the_hint_to_amend() {
    let (log, _) = khai_sinh_registered();
    let rises = [
        ("processing_days", Changes { processing_days: Some(days("5.01")), ..set() }),
        ("steps", Changes { steps: Some(steps(5)), ..set() }),
        ("fee_vnd", Changes { fee_vnd: Some(vnd(8_001)), ..set() }),
        ("out_of_pocket_vnd", Changes { out_of_pocket_vnd: Some(vnd(25_000)), ..set() }),
        ("applicant_hours", Changes { applicant_hours: Some(hours("6.75")), ..set() }),
        ("annual_volume", Changes { annual_volume: Some(volume(120_001)), ..set() }),
    ];
    for (field, rise) in rises {
        let r = given(&log.events).when(on("2014-01-01", simplify(KHAI_SINH, rise))).then_refused(|r| {
            matches!(r, Refusal::Rule(RuleBroken::BurdenRises { code, rises })
                if code.as_str() == KHAI_SINH && rises.len() == 1 && rises[0].field == field)
        });
        let message = r.to_string();
        assert!(message.contains("record an amendment"), "{message}");
        assert!(message.contains(field), "{message}");
    }
}

#[test]
fn more_documents_are_a_burden_rise_even_with_fewer_copies() {
    let (log, _) = khai_sinh_registered();
    // 2 items, 3 copies → 3 items, 3 copies.
    let more = Changes { documents: Some(docs(&[("Tờ khai", 1), ("Giấy chứng sinh", 1), ("CMND", 1)])), ..set() };
    let r = given(&log.events).when(on("2014-01-01", simplify(KHAI_SINH, more))).then_refused(|r| {
        matches!(r, Refusal::Rule(RuleBroken::BurdenRises { rises, .. })
            if rises.len() == 1 && rises[0].field == "documents" && rises[0].from == "2 items" && rises[0].to == "3 items")
    });
    assert!(r.to_string().contains("record an amendment"), "{r}");
}

#[test]
fn more_copies_are_a_burden_rise_even_with_as_many_or_fewer_documents() {
    let (log, _) = khai_sinh_registered();
    // 2 items, 3 copies → 2 items, 4 copies; and → 1 item, 4 copies.
    for more in [docs(&[("Tờ khai", 1), ("Giấy chứng sinh", 3)]), docs(&[("Giấy chứng sinh", 4)])] {
        given(&log.events)
            .when(on("2014-01-01", simplify(KHAI_SINH, Changes { documents: Some(more), ..set() })))
            .then_refused(|r| {
                matches!(r, Refusal::Rule(RuleBroken::BurdenRises { rises, .. })
                    if rises.len() == 1 && rises[0].field == "documents" && rises[0].from == "3 copies" && rises[0].to == "4 copies")
            });
    }
}

#[test]
fn going_less_online_is_a_burden_rise() {
    let (log, _) = khai_sinh_registered();
    let r = given(&log.events)
        .when(on("2014-01-01", simplify(KHAI_SINH, Changes { online: Some(Online::None), ..set() })))
        .then_refused(|r| {
            matches!(r, Refusal::Rule(RuleBroken::BurdenRises { rises, .. })
                if rises.len() == 1 && rises[0].field == "online")
        });
    assert!(r.to_string().contains("record an amendment"), "{r}");
}

#[test]
fn one_rise_among_cuts_is_still_refused() {
    let (log, _) = khai_sinh_registered();
    let mixed =
        Changes { processing_days: Some(days("2")), online: Some(Online::Full), fee_vnd: Some(vnd(10_000)), ..set() };
    given(&log.events).when(on("2014-01-01", simplify(KHAI_SINH, mixed))).then_refused(|r| {
        matches!(r, Refusal::Rule(RuleBroken::BurdenRises { rises, .. }) if rises.len() == 1 && rises[0].field == "fee_vnd")
    });
}

#[test]
fn documents_of_the_same_count_and_copies_may_be_renamed_with_a_cut() {
    let (log, _) = khai_sinh_registered();
    let swap = Changes {
        documents: Some(docs(&[("Tờ khai điện tử", 2), ("Giấy chứng sinh", 1)])),
        fee_vnd: Some(vnd(0)),
        ..set()
    };
    given(&log.events).when(on("2014-01-01", simplify(KHAI_SINH, swap.clone()))).then_events(vec![written(
        stream(KHAI_SINH),
        "2014-01-01",
        simplify(KHAI_SINH, swap),
    )]);
}

#[test]
fn a_simplification_cannot_change_who_owns_or_files_the_procedure() {
    let (log, _) = khai_sinh_registered();
    let moved = Changes { agency: Some(Agency::parse("Sở Tư pháp").unwrap()), ..set() };
    let r = given(&log.events)
        .when(on("2014-01-01", simplify(KHAI_SINH, moved)))
        .then_refused(|r| fields(r) == ["/set/agency"]);
    assert!(r.to_string().contains("record an amendment"), "{r}");

    let all = Changes {
        sector: Some(Sector::parse("Tư pháp").unwrap()),
        level: Some(Level::District),
        applicant: Some(Applicant::Both),
        processing_days: Some(days("3")),
        ..set()
    };
    given(&log.events)
        .when(on("2014-01-01", simplify(KHAI_SINH, all)))
        .then_refused(|r| fields(r) == ["/set/sector", "/set/level", "/set/applicant"]);
}

#[test]
fn a_simplification_may_change_only_the_name_and_legal_basis() {
    let (log, _) = khai_sinh_registered();
    let renamed = Changes {
        name: Some(Name::parse("Đăng ký khai sinh (trực tuyến)").unwrap()),
        legal_basis: Some(long("Nghị định 123/2015/NĐ-CP")),
        ..set()
    };
    given(&log.events).when(on("2016-01-01", simplify(KHAI_SINH, renamed.clone()))).then_events(vec![written(
        stream(KHAI_SINH),
        "2016-01-01",
        simplify(KHAI_SINH, renamed),
    )]);
}

#[test]
fn a_simplification_is_checked_against_the_values_after_earlier_changes() {
    let (mut log, _) = khai_sinh_registered();
    log.record("2014-01-01", simplify(KHAI_SINH, Changes { processing_days: Some(days("3")), ..set() }));
    // 4 days is below the registered 5 but above the 3 in force since 2014.
    given(&log.events)
        .when(on("2015-01-01", simplify(KHAI_SINH, Changes { processing_days: Some(days("4")), ..set() })))
        .then_refused(|r| {
            matches!(r, Refusal::Rule(RuleBroken::BurdenRises { rises, .. })
                if rises[0].field == "processing_days" && rises[0].from == "3" && rises[0].to == "4")
        });
}

// ---------------------------------------------------------------------------------------------------------
// ProcedureAmended.

#[test]
fn an_amendment_may_raise_the_burden_and_change_any_attribute() {
    let (log, _) = khai_sinh_registered();
    let heavier = Changes {
        processing_days: Some(days("10")),
        documents: Some(docs(&[("Tờ khai", 2), ("Giấy chứng sinh", 2), ("Sổ hộ khẩu", 1)])),
        online: Some(Online::None),
        agency: Some(Agency::parse("UBND cấp huyện").unwrap()),
        level: Some(Level::District),
        ..set()
    };
    given(&log.events).when(on("2014-01-01", amend(KHAI_SINH, heavier.clone()))).then_events(vec![written(
        stream(KHAI_SINH),
        "2014-01-01",
        amend(KHAI_SINH, heavier),
    )]);
}

#[test]
fn an_abolished_procedure_cannot_be_amended() {
    let (mut log, _) = khai_sinh_registered();
    log.record("2014-01-01", abolish(KHAI_SINH));
    given(&log.events)
        .when(on("2015-01-01", amend(KHAI_SINH, Changes { fee_vnd: Some(vnd(0)), ..set() })))
        .then_refused(|r| matches!(r, Refusal::Rule(RuleBroken::NotActive { status: Status::Abolished, .. })));
}

#[test]
fn a_procedure_cannot_be_amended_before_it_is_registered() {
    let (log, _) = khai_sinh_registered();
    given(&log.events)
        .when(on("2012-01-01", amend(KHAI_SINH, Changes { fee_vnd: Some(vnd(0)), ..set() })))
        .then_refused(|r| matches!(r, Refusal::Rule(RuleBroken::NotRegistered { .. })));
}

#[test]
fn an_empty_amendment_is_invalid() {
    let (log, _) = khai_sinh_registered();
    given(&log.events).when(on("2014-01-01", amend(KHAI_SINH, set()))).then_refused(|r| fields(r) == ["/set"]);
}

#[test]
fn an_unknown_procedure_cannot_be_amended() {
    given_nothing()
        .when(on("2014-01-01", amend(KHAI_SINH, Changes { fee_vnd: Some(vnd(0)), ..set() })))
        .then_refused(|r| matches!(r, Refusal::UnknownProcedure { code } if code.as_str() == KHAI_SINH));
}

// ---------------------------------------------------------------------------------------------------------
// EstimateRevised.

fn fewer_filings() -> Estimates {
    Estimates { annual_volume: Some(volume(90_000)), ..Estimates::default() }
}

#[test]
fn estimates_of_an_active_procedure_are_revised() {
    let (log, _) = khai_sinh_registered();
    let change = revise(KHAI_SINH, Some(fewer_filings()), Some(fewer_filings()));
    given(&log.events).when(on("2014-01-01", change.clone())).then_events(vec![written(
        stream(KHAI_SINH),
        "2014-01-01",
        change,
    )]);
}

#[test]
fn estimates_of_an_abolished_procedure_are_revised() {
    let (mut log, _) = khai_sinh_registered();
    log.record("2014-01-01", abolish(KHAI_SINH));
    let change = revise(KHAI_SINH, Some(fewer_filings()), None);
    given(&log.events).when(on("2015-01-01", change.clone())).then_events(vec![written(
        stream(KHAI_SINH),
        "2015-01-01",
        change,
    )]);
}

#[test]
fn estimates_of_a_procedure_merged_away_are_revised() {
    let mut log = Log::default();
    log.record("2013-01-01", register(khai_sinh()));
    log.record("2013-01-01", register(thuong_tru()));
    log.record_merge("2015-01-01", &[KHAI_SINH, THUONG_TRU], lien_thong());
    let change = revise(THUONG_TRU, None, Some(fewer_filings()));
    given(&log.events).when(on("2016-01-01", change.clone())).then_events(vec![written(
        stream(THUONG_TRU),
        "2016-01-01",
        change,
    )]);
}

#[test]
fn estimates_cannot_be_revised_before_registration_or_of_an_unknown_procedure() {
    let (log, _) = khai_sinh_registered();
    given(&log.events)
        .when(on("2012-01-01", revise(KHAI_SINH, Some(fewer_filings()), None)))
        .then_refused(|r| matches!(r, Refusal::Rule(RuleBroken::NotRegistered { .. })));
    given(&log.events)
        .when(on("2014-01-01", revise(BHYT, Some(fewer_filings()), None)))
        .then_refused(|r| matches!(r, Refusal::UnknownProcedure { code } if code.as_str() == BHYT));
}

#[test]
fn an_empty_revision_is_invalid() {
    let (log, _) = khai_sinh_registered();
    for empty in [
        revise(KHAI_SINH, None, None),
        revise(KHAI_SINH, Some(Estimates::default()), None),
        revise(KHAI_SINH, Some(Estimates::default()), Some(Estimates::default())),
    ] {
        given(&log.events).when(on("2014-01-01", empty)).then_refused(|r| fields(r) == ["/current"]);
    }
}

#[test]
fn a_revised_current_figure_is_what_later_simplifications_are_checked_against() {
    let (mut log, _) = khai_sinh_registered();
    let four_hours = Estimates { applicant_hours: Some(hours("4")), ..Estimates::default() };
    log.record("2013-06-01", revise(KHAI_SINH, None, Some(four_hours)));
    // 5 hours is below the registered 6.5 but above the re-measured 4.
    given(&log.events)
        .when(on("2014-01-01", simplify(KHAI_SINH, Changes { applicant_hours: Some(hours("5")), ..set() })))
        .then_refused(|r| {
            matches!(r, Refusal::Rule(RuleBroken::BurdenRises { rises, .. })
                if rises[0].field == "applicant_hours" && rises[0].from == "4" && rises[0].to == "5")
        });
}

#[test]
fn a_revised_baseline_alone_leaves_the_current_figure() {
    let (mut log, _) = khai_sinh_registered();
    let four_hours = Estimates { applicant_hours: Some(hours("4")), ..Estimates::default() };
    log.record("2013-06-01", revise(KHAI_SINH, Some(four_hours), None));
    let cut = Changes { applicant_hours: Some(hours("5")), ..set() };
    given(&log.events).when(on("2014-01-01", simplify(KHAI_SINH, cut.clone()))).then_events(vec![written(
        stream(KHAI_SINH),
        "2014-01-01",
        simplify(KHAI_SINH, cut),
    )]);
}

// ---------------------------------------------------------------------------------------------------------
// ProceduresMerged.

/// Birth registration, residence registration and the child's health-insurance card, all registered.
fn three_registered() -> Log {
    let mut log = Log::default();
    log.record("2013-01-01", register(khai_sinh()));
    log.record("2013-01-01", register(thuong_tru()));
    log.record("2013-01-01", register(bhyt()));
    log
}

#[test]
fn procedures_merged_into_a_new_code_write_one_event_to_every_stream() {
    let log = three_registered();
    let change = merge(&[KHAI_SINH, THUONG_TRU, BHYT], lien_thong());
    given(&log.events).when(on("2015-01-01", change.clone())).then_events(vec![
        written(stream(KHAI_SINH), "2015-01-01", change.clone()),
        written(stream(THUONG_TRU), "2015-01-01", change.clone()),
        written(stream(BHYT), "2015-01-01", change.clone()),
        written(stream(LIEN_THONG), "2015-01-01", change),
    ]);
}

#[test]
fn procedures_merged_into_one_of_them_write_one_event_per_stream() {
    let log = three_registered();
    let into = Procedure { processing_days: days("3"), online: Online::Full, ..khai_sinh() };
    let change = merge(&[KHAI_SINH, THUONG_TRU], into);
    given(&log.events).when(on("2015-01-01", change.clone())).then_events(vec![
        written(stream(KHAI_SINH), "2015-01-01", change.clone()),
        written(stream(THUONG_TRU), "2015-01-01", change),
    ]);
}

#[test]
fn the_source_merged_into_stays_active_with_the_new_attributes_and_the_others_are_merged() {
    let mut log = three_registered();
    let into = Procedure { processing_days: days("3"), fee_vnd: vnd(0), online: Online::Full, ..khai_sinh() };
    log.record_merge("2015-01-01", &[KHAI_SINH, THUONG_TRU], into.clone());

    let kept = procedure_state(&stream(KHAI_SINH), &log.events, date("2015-06-01"));
    assert_eq!(kept.status, Status::Active);
    assert_eq!(kept.attributes, Some(into));
    let gone = procedure_state(&stream(THUONG_TRU), &log.events, date("2015-06-01"));
    assert_eq!(gone.status, Status::Merged { into: code(KHAI_SINH) });
    let before = procedure_state(&stream(THUONG_TRU), &log.events, date("2014-12-31"));
    assert_eq!(before.status, Status::Active);

    // Checked against the merged attributes: 4 days is below the old 5 but above the merged 3.
    given(&log.events)
        .when(on("2016-01-01", simplify(KHAI_SINH, Changes { processing_days: Some(days("4")), ..set() })))
        .then_refused(|r| matches!(r, Refusal::Rule(RuleBroken::BurdenRises { rises, .. }) if rises[0].from == "3"));
    given(&log.events)
        .when(on("2016-01-01", simplify(THUONG_TRU, Changes { steps: Some(steps(3)), ..set() })))
        .then_refused(|r| {
            matches!(r, Refusal::Rule(RuleBroken::NotActive { code, status: Status::Merged { into }, .. })
                if code.as_str() == THUONG_TRU && into.as_str() == KHAI_SINH)
        });
}

#[test]
fn a_merge_needs_two_sources() {
    let log = three_registered();
    given(&log.events)
        .when(on("2015-01-01", merge(&[KHAI_SINH], lien_thong())))
        .then_refused(|r| fields(r) == ["/sources"]);
}

#[test]
fn a_source_listed_twice_is_invalid() {
    let log = three_registered();
    let r = given(&log.events)
        .when(on("2015-01-01", merge(&[KHAI_SINH, THUONG_TRU, KHAI_SINH], lien_thong())))
        .then_refused(|r| fields(r) == ["/sources/2"]);
    assert!(r.to_string().contains("listed twice"), "{r}");
    // Two sources that are one and the same are not two.
    given(&log.events)
        .when(on("2015-01-01", merge(&[KHAI_SINH, KHAI_SINH], lien_thong())))
        .then_refused(|r| fields(r).contains(&"/sources/1"));
}

#[test]
fn an_unknown_source_cannot_be_merged() {
    let mut log = Log::default();
    log.record("2013-01-01", register(khai_sinh()));
    given(&log.events)
        .when(on("2015-01-01", merge(&[KHAI_SINH, THUONG_TRU], lien_thong())))
        .then_refused(|r| matches!(r, Refusal::UnknownProcedure { code } if code.as_str() == THUONG_TRU));
}

#[test]
fn every_source_must_be_active() {
    let mut log = three_registered();
    log.record("2014-01-01", abolish(THUONG_TRU));
    given(&log.events).when(on("2015-01-01", merge(&[KHAI_SINH, THUONG_TRU], lien_thong()))).then_refused(|r| {
        matches!(r, Refusal::Rule(RuleBroken::NotActive { code, status: Status::Abolished, .. })
                if code.as_str() == THUONG_TRU)
    });
}

#[test]
fn a_source_already_merged_away_cannot_be_merged_again() {
    let mut log = three_registered();
    log.record_merge("2015-01-01", &[KHAI_SINH, THUONG_TRU], lien_thong());
    let later = Procedure { name: Name::parse("Liên thông mới").unwrap(), ..bhyt() };
    given(&log.events).when(on("2016-01-01", merge(&[THUONG_TRU, BHYT], later))).then_refused(|r| {
        matches!(r, Refusal::Rule(RuleBroken::NotActive { code, status: Status::Merged { .. }, .. })
                if code.as_str() == THUONG_TRU)
    });
}

#[test]
fn a_merge_cannot_be_into_a_code_already_taken() {
    let log = three_registered();
    // BHYT is registered but not among the sources.
    let into = Procedure { name: Name::parse("Liên thông").unwrap(), ..bhyt() };
    given(&log.events)
        .when(on("2015-01-01", merge(&[KHAI_SINH, THUONG_TRU], into)))
        .then_refused(|r| matches!(r, Refusal::CodeTaken { code } if code.as_str() == BHYT));
}

#[test]
fn a_merge_cannot_be_into_a_code_whose_registration_was_retracted() {
    let mut log = three_registered();
    let wrong = log.record("2013-01-01", register(lien_thong()));
    log.record_retraction("2013-02-01", &wrong);
    given(&log.events)
        .when(on("2015-01-01", merge(&[KHAI_SINH, THUONG_TRU], lien_thong())))
        .then_refused(|r| matches!(r, Refusal::CodeTaken { code } if code.as_str() == LIEN_THONG));
}

// ---------------------------------------------------------------------------------------------------------
// ProcedureAbolished.

#[test]
fn an_active_procedure_is_abolished() {
    let (log, _) = khai_sinh_registered();
    given(&log.events).when(on("2016-01-01", abolish(KHAI_SINH))).then_events(vec![written(
        stream(KHAI_SINH),
        "2016-01-01",
        abolish(KHAI_SINH),
    )]);
}

#[test]
fn a_procedure_cannot_be_abolished_twice() {
    let (mut log, _) = khai_sinh_registered();
    log.record("2016-01-01", abolish(KHAI_SINH));
    let r = given(&log.events)
        .when(on("2016-06-01", abolish(KHAI_SINH)))
        .then_refused(|r| matches!(r, Refusal::Rule(RuleBroken::NotActive { status: Status::Abolished, .. })));
    assert!(r.to_string().contains("abolished"), "{r}");
}

#[test]
fn a_procedure_cannot_be_abolished_before_it_is_registered_nor_if_unknown() {
    let (log, _) = khai_sinh_registered();
    given(&log.events)
        .when(on("2012-06-01", abolish(KHAI_SINH)))
        .then_refused(|r| matches!(r, Refusal::Rule(RuleBroken::NotRegistered { .. })));
    given(&log.events)
        .when(on("2016-01-01", abolish(BHYT)))
        .then_refused(|r| matches!(r, Refusal::UnknownProcedure { .. }));
}

#[test]
fn a_procedure_merged_away_cannot_be_abolished() {
    let mut log = three_registered();
    log.record_merge("2015-01-01", &[KHAI_SINH, THUONG_TRU], lien_thong());
    given(&log.events)
        .when(on("2016-01-01", abolish(KHAI_SINH)))
        .then_refused(|r| matches!(r, Refusal::Rule(RuleBroken::NotActive { status: Status::Merged { .. }, .. })));
    // The procedure they became can.
    given(&log.events).when(on("2016-01-01", abolish(LIEN_THONG))).then_events(vec![written(
        stream(LIEN_THONG),
        "2016-01-01",
        abolish(LIEN_THONG),
    )]);
}

// ---------------------------------------------------------------------------------------------------------
// Valid time: back-dated commands and changes recorded late.

#[test]
fn an_abolition_back_dated_before_a_recorded_simplification_is_refused_listing_it() {
    let (mut log, _) = khai_sinh_registered();
    let simplified = log.record("2015-01-01", simplify(KHAI_SINH, Changes { steps: Some(steps(3)), ..set() }));
    let r = given(&log.events)
        .when(on("2014-01-01", abolish(KHAI_SINH)))
        .then_refused(|r| matches!(r, Refusal::BreaksLaterEvents(affected) if affected.len() == 1));
    let Refusal::BreaksLaterEvents(affected) = &r else { unreachable!() };
    let a = &affected[0];
    assert_eq!(
        (a.event_id, a.seq, a.event_type, a.effective_on),
        (simplified.event_id, simplified.seq, "ProcedureSimplified", date("2015-01-01"))
    );
    assert!(matches!(a.rule, RuleBroken::NotActive { status: Status::Abolished, .. }), "{:?}", a.rule);
    assert!(r.to_string().contains(&simplified.event_id.to_string()), "{r}");
}

#[test]
fn an_abolition_dated_after_every_recorded_change_is_accepted() {
    let (mut log, _) = khai_sinh_registered();
    log.record("2015-01-01", simplify(KHAI_SINH, Changes { steps: Some(steps(3)), ..set() }));
    given(&log.events).when(on("2015-01-01", abolish(KHAI_SINH))).then_events(vec![written(
        stream(KHAI_SINH),
        "2015-01-01",
        abolish(KHAI_SINH),
    )]);
}

#[test]
fn a_change_effective_the_same_day_as_a_recorded_abolition_comes_after_it() {
    let (mut log, _) = khai_sinh_registered();
    log.record("2015-01-01", abolish(KHAI_SINH));
    given(&log.events)
        .when(on("2015-01-01", simplify(KHAI_SINH, Changes { steps: Some(steps(3)), ..set() })))
        .then_refused(|r| matches!(r, Refusal::Rule(RuleBroken::NotActive { status: Status::Abolished, .. })));
}

#[test]
fn a_back_dated_cut_that_would_make_a_later_cut_a_rise_is_refused() {
    let (mut log, _) = khai_sinh_registered();
    let later = log.record("2015-01-01", simplify(KHAI_SINH, Changes { processing_days: Some(days("3")), ..set() }));
    given(&log.events)
        .when(on("2014-01-01", simplify(KHAI_SINH, Changes { processing_days: Some(days("2")), ..set() })))
        .then_refused(|r| {
            matches!(r, Refusal::BreaksLaterEvents(affected)
                if affected.len() == 1
                    && affected[0].seq == later.seq
                    && matches!(&affected[0].rule, RuleBroken::BurdenRises { rises, .. } if rises[0].field == "processing_days"))
        });
}

#[test]
fn a_back_dated_merge_before_a_recorded_amendment_of_a_source_is_refused() {
    let mut log = three_registered();
    let amended = log.record("2016-01-01", amend(THUONG_TRU, Changes { fee_vnd: Some(vnd(10_000)), ..set() }));
    given(&log.events).when(on("2015-01-01", merge(&[KHAI_SINH, THUONG_TRU], lien_thong()))).then_refused(|r| {
        matches!(r, Refusal::BreaksLaterEvents(affected)
                if affected.len() == 1 && affected[0].event_id == amended.event_id)
    });
}

#[test]
fn a_valid_change_recorded_late_with_an_earlier_date_lands_in_place() {
    let (mut log, _) = khai_sinh_registered();
    log.record("2015-01-01", simplify(KHAI_SINH, Changes { processing_days: Some(days("2")), ..set() }));
    // Recorded after the cut to 2 days, a cut to 4 days that took effect in 2014: against today's 2 days it
    // would be a rise; in its place (5 → 4 → 2) it is a cut and the later cut stays one.
    let late = simplify(KHAI_SINH, Changes { processing_days: Some(days("4")), ..set() });
    given(&log.events).when(on("2014-01-01", late.clone())).then_events(vec![written(
        stream(KHAI_SINH),
        "2014-01-01",
        late.clone(),
    )]);

    log.record("2014-01-01", late);
    let days_on =
        |d: &str| procedure_state(&stream(KHAI_SINH), &log.events, date(d)).attributes.map(|p| p.processing_days);
    assert_eq!(days_on("2013-06-01"), Some(days("5")));
    assert_eq!(days_on("2014-06-01"), Some(days("4")));
    assert_eq!(days_on("2015-06-01"), Some(days("2")));
}

// ---------------------------------------------------------------------------------------------------------
// EntryRetracted.

#[test]
fn an_unknown_event_cannot_be_retracted() {
    let (log, _) = khai_sinh_registered();
    let nowhere = Uuid::from_u128(999);
    given(&log.events)
        .when(on("2014-01-01", retract(nowhere)))
        .then_refused(|r| matches!(r, Refusal::UnknownEvent { event_id } if *event_id == nowhere));
}

#[test]
fn a_retraction_cannot_be_retracted() {
    let (mut log, _) = khai_sinh_registered();
    let simplified = log.record("2014-01-01", simplify(KHAI_SINH, Changes { steps: Some(steps(3)), ..set() }));
    let retraction = log.record_retraction("2014-02-01", &simplified);
    given(&log.events).when(on("2014-03-01", retract(retraction.event_id))).then_refused(
        |r| matches!(r, Refusal::RetractionOfRetraction { event_id } if *event_id == retraction.event_id),
    );
}

#[test]
fn an_event_cannot_be_retracted_twice() {
    let (mut log, _) = khai_sinh_registered();
    let simplified = log.record("2014-01-01", simplify(KHAI_SINH, Changes { steps: Some(steps(3)), ..set() }));
    log.record_retraction("2014-02-01", &simplified);
    given(&log.events)
        .when(on("2014-03-01", retract(simplified.event_id)))
        .then_refused(|r| matches!(r, Refusal::AlreadyRetracted { event_id } if *event_id == simplified.event_id));
}

#[test]
fn an_event_nothing_depends_on_is_retracted_in_its_stream() {
    let (mut log, _) = khai_sinh_registered();
    let simplified = log.record("2014-01-01", simplify(KHAI_SINH, Changes { steps: Some(steps(3)), ..set() }));
    log.record("2015-01-01", simplify(KHAI_SINH, Changes { fee_vnd: Some(vnd(0)), ..set() }));
    given(&log.events).when(on("2015-06-01", retract(simplified.event_id))).then_events(vec![written(
        stream(KHAI_SINH),
        "2015-06-01",
        retract(simplified.event_id),
    )]);
}

#[test]
fn a_registration_with_changes_after_it_cannot_be_retracted_and_they_are_listed() {
    let (mut log, registered) = khai_sinh_registered();
    let simplified = log.record("2014-01-01", simplify(KHAI_SINH, Changes { steps: Some(steps(3)), ..set() }));
    let amended = log.record("2015-01-01", amend(KHAI_SINH, Changes { fee_vnd: Some(vnd(9_000)), ..set() }));
    let r = given(&log.events).when(on("2015-06-01", retract(registered.event_id))).then_refused(|r| {
        matches!(r, Refusal::HasDependents(affected)
            if affected.iter().map(|a| a.event_id).collect::<Vec<_>>() == [simplified.event_id, amended.event_id])
    });
    let Refusal::HasDependents(affected) = &r else { unreachable!() };
    assert!(matches!(affected[0].rule, RuleBroken::NotRegistered { .. }), "{:?}", affected[0].rule);
    assert_eq!(affected[0].event_type, "ProcedureSimplified");
    assert!(r.to_string().contains(&simplified.event_id.to_string()), "{r}");
}

#[test]
fn a_registration_with_nothing_after_it_is_retracted() {
    let (log, registered) = khai_sinh_registered();
    given(&log.events).when(on("2013-02-01", retract(registered.event_id))).then_events(vec![written(
        stream(KHAI_SINH),
        "2013-02-01",
        retract(registered.event_id),
    )]);
}

#[test]
fn an_amendment_a_later_cut_relies_on_cannot_be_retracted() {
    let (mut log, _) = khai_sinh_registered();
    let amended = log.record("2014-01-01", amend(KHAI_SINH, Changes { processing_days: Some(days("10")), ..set() }));
    // 8 days is a cut from the amended 10, but would be a rise from the registered 5.
    let cut = log.record("2015-01-01", simplify(KHAI_SINH, Changes { processing_days: Some(days("8")), ..set() }));
    given(&log.events).when(on("2015-06-01", retract(amended.event_id))).then_refused(|r| {
        matches!(r, Refusal::HasDependents(affected)
            if affected.len() == 1 && affected[0].event_id == cut.event_id
                && matches!(affected[0].rule, RuleBroken::BurdenRises { .. }))
    });
}

#[test]
fn retracting_a_merge_from_any_of_its_streams_retracts_it_in_every_stream() {
    let mut log = three_registered();
    let merged = log.record_merge("2015-01-01", &[KHAI_SINH, THUONG_TRU], lien_thong());
    assert_eq!(merged.len(), 3);
    let expected: Vec<NewEvent> =
        merged.iter().map(|e| written(e.stream.clone(), "2015-06-01", retract(e.event_id))).collect();
    for named in &merged {
        given(&log.events).when(on("2015-06-01", retract(named.event_id))).then_events(expected.clone());
    }
}

#[test]
fn a_merge_the_new_procedure_has_changed_since_cannot_be_retracted() {
    let mut log = three_registered();
    let merged = log.record_merge("2015-01-01", &[KHAI_SINH, THUONG_TRU], lien_thong());
    let cut = log.record("2016-01-01", simplify(LIEN_THONG, Changes { steps: Some(steps(2)), ..set() }));
    given(&log.events).when(on("2016-06-01", retract(merged[0].event_id))).then_refused(|r| {
        matches!(r, Refusal::HasDependents(affected)
            if affected.len() == 1 && affected[0].event_id == cut.event_id)
    });
}

#[test]
fn retracting_a_merge_done_again_retracts_only_the_second() {
    let mut log = three_registered();
    let into = Procedure { processing_days: days("3"), ..khai_sinh() };
    let first = log.record_merge("2015-01-01", &[KHAI_SINH, THUONG_TRU], into.clone());
    for e in &first {
        log.record_retraction("2015-02-01", e);
    }
    let second = log.record_merge("2015-01-01", &[KHAI_SINH, THUONG_TRU], into);
    let expected: Vec<NewEvent> =
        second.iter().map(|e| written(e.stream.clone(), "2015-06-01", retract(e.event_id))).collect();
    given(&log.events).when(on("2015-06-01", retract(second[1].event_id))).then_events(expected);
}

#[test]
fn a_setting_is_retracted_in_the_settings_stream() {
    let mut log = Log::default();
    let set_tariff = log.record_in(StreamId::settings(), "2013-01-01", tariff(TariffApplicant::Citizen, 20_000));
    given(&log.events).when(on("2013-02-01", retract(set_tariff.event_id))).then_events(vec![written(
        StreamId::settings(),
        "2013-02-01",
        retract(set_tariff.event_id),
    )]);
}

// ---------------------------------------------------------------------------------------------------------
// Settings.

#[test]
fn a_tariff_is_set_in_the_settings_stream() {
    given_nothing().when(on("2013-01-01", tariff(TariffApplicant::Business, 45_000))).then_events(vec![written(
        StreamId::settings(),
        "2013-01-01",
        tariff(TariffApplicant::Business, 45_000),
    )]);
}

#[test]
fn a_programme_is_defined_in_the_settings_stream() {
    given_nothing().when(on("2013-01-01", programme("2013-12-31", "2015-12-31"))).then_events(vec![written(
        StreamId::settings(),
        "2013-01-01",
        programme("2013-12-31", "2015-12-31"),
    )]);
}

#[test]
fn a_programme_must_end_after_its_baseline() {
    for (baseline_on, deadline) in [("2015-12-31", "2013-12-31"), ("2013-12-31", "2013-12-31")] {
        let r = given_nothing()
            .when(on("2013-01-01", programme(baseline_on, deadline)))
            .then_refused(|r| fields(r) == ["/deadline"]);
        assert!(r.to_string().contains("baseline_on"), "{r}");
    }
}

/// `current_agency` (who may write for a procedure) agrees with the whole replay's agency, step by step
/// through amendments of the agency (one back-dated, one retracted), a merge into one of its sources and
/// into a new code, a simplification and an abolition.
#[test]
fn the_current_agency_is_the_replayed_procedure_s_agency_after_every_event() {
    let mut log = three_registered();
    let agency = |a: &str| events::value::Agency::parse(a).unwrap();
    let to = |a: &str| Changes { agency: Some(agency(a)), ..set() };
    let mut recorded: Vec<Event> = Vec::new();
    recorded.push(log.record("2014-01-01", amend(KHAI_SINH, to("UBND-XA"))));
    recorded.push(log.record("2013-06-01", amend(KHAI_SINH, to("STP-CU"))));
    let wrong = log.record("2014-06-01", amend(THUONG_TRU, to("CA")));
    recorded.push(log.record_retraction("2014-07-01", &wrong));
    recorded.push(log.record("2014-08-01", simplify(KHAI_SINH, Changes { steps: Some(steps(2)), ..set() })));
    let into = Procedure { agency: agency("SXD-MOI"), ..khai_sinh() };
    recorded.extend(log.record_merge("2015-01-01", &[KHAI_SINH, THUONG_TRU], into));
    let new = Procedure { code: code(LIEN_THONG), agency: agency("LIEN-THONG"), ..khai_sinh() };
    recorded.extend(log.record_merge("2015-02-01", &[KHAI_SINH, BHYT], new));
    recorded.push(log.record("2015-03-01", abolish(LIEN_THONG)));
    // Not something the decider lets through, but a replay skips it: an abolished procedure's amendment.
    recorded.push(log.record("2015-04-01", amend(LIEN_THONG, to("SAU-BAI-BO"))));
    assert_eq!(recorded.len(), 11);
    for n in 1..=log.events.len() {
        let events = &log.events[..n];
        for c in [KHAI_SINH, THUONG_TRU, BHYT, LIEN_THONG] {
            let ours: Vec<Event> = events.iter().filter(|e| e.stream == stream(c)).cloned().collect();
            let Some(last) = ours.iter().map(|e| e.effective_on).max() else { continue };
            let replayed = procedure_state(&stream(c), &ours, last).attributes.map(|p| p.agency);
            assert_eq!(current_agency(&stream(c), &ours), replayed.as_ref(), "{c} after {n} events");
        }
    }
}
