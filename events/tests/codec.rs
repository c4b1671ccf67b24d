//! The stored encoding and the JSON form of events: every event type survives encode → decode and
//! `Event::to_json` → `codec::from_json` unchanged, bad bytes are refused without a panic, and events of the
//! unshipped schema version 0 (the fixture in `tests/fixtures/`) are upcast to the version-1 events they mean.

use events::codec::{self, DecodeError, FORMAT_POSTCARD_V1, GlancedChange};
use events::event::{
    Abolition, Amendment, EstimateRevision, Merger, Programme, Retraction, Scope, Simplification, Tariff,
};
use events::value::{
    Agency, AnnualVolume, Applicant, Copies, Date, Fraction, Hours, Level, LongText, Name, Online, ProcedureCode,
    Sector, Steps, Tag, TariffApplicant, Timestamp, Vnd, VndPerHour, WorkingDays,
};
use events::{Change, Changes, Document, Estimates, Event, Procedure, SCHEMA_VERSION, StreamId};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------------------
// Strategies: reasonable values of every type an event carries.

fn code() -> BoxedStrategy<ProcedureCode> {
    prop_oneof!["[12]\\.[0-9]{6}(\\.H[0-9]{2})?", "[A-Za-z0-9._-]{1,64}",]
        .prop_map(|s| ProcedureCode::parse(&s).expect("generated codes are valid"))
        .boxed()
}

/// Vietnamese-looking text, precomposed (already NFC), `min..=max` characters.
fn words(min: usize, max: usize) -> BoxedStrategy<String> {
    proptest::string::string_regex(&format!(
        "[a-zA-Z0-9 ăâđêôơưạảấầẩẫậắằặẹẻẽềểễệịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹĐ,.;:()/-]{{{min},{max}}}"
    ))
    .expect("a valid regex")
    .boxed()
}

fn name() -> BoxedStrategy<Name> {
    words(1, 60).prop_map(|s| Name::parse(&s).expect("a valid name")).boxed()
}

fn agency() -> BoxedStrategy<Agency> {
    words(1, 64).prop_map(|s| Agency::parse(&s).expect("a valid agency")).boxed()
}

fn sector() -> BoxedStrategy<Sector> {
    words(1, 60).prop_map(|s| Sector::parse(&s).expect("a valid sector")).boxed()
}

fn tag() -> BoxedStrategy<Tag> {
    words(1, 30).prop_map(|s| Tag::parse(&s).expect("a valid tag")).boxed()
}

fn long_text() -> BoxedStrategy<LongText> {
    prop_oneof![
        Just(String::new()),
        words(0, 120),
        (words(1, 40), words(1, 40)).prop_map(|(a, b)| format!("{a}\n{b}")),
    ]
    .prop_map(|s| LongText::parse(&s).expect("a valid long text"))
    .boxed()
}

fn level() -> BoxedStrategy<Level> {
    prop_oneof![Just(Level::Central), Just(Level::Province), Just(Level::District), Just(Level::Commune)].boxed()
}

fn applicant() -> BoxedStrategy<Applicant> {
    prop_oneof![Just(Applicant::Citizen), Just(Applicant::Business), Just(Applicant::Both)].boxed()
}

fn online() -> BoxedStrategy<Online> {
    prop_oneof![Just(Online::None), Just(Online::Partial), Just(Online::Full)].boxed()
}

fn working_days() -> BoxedStrategy<WorkingDays> {
    prop_oneof![(0u64..=3650).prop_map(|d| d * 100), 0u64..=365_000]
        .prop_map(|h| WorkingDays::from_hundredths(h).expect("in range"))
        .boxed()
}

fn hours() -> BoxedStrategy<Hours> {
    prop_oneof![(0u64..=10_000).prop_map(|h| h * 100), 0u64..=1_000_000]
        .prop_map(|h| Hours::from_hundredths(h).expect("in range"))
        .boxed()
}

fn vnd() -> BoxedStrategy<Vnd> {
    prop_oneof![(0u64..=10_000).prop_map(|k| k * 1000), 0u64..=1_000_000_000]
        .prop_map(|n| Vnd::new(n).expect("in range"))
        .boxed()
}

fn steps() -> BoxedStrategy<Steps> {
    (1u64..=1000).prop_map(|n| Steps::new(n).expect("in range")).boxed()
}

fn annual_volume() -> BoxedStrategy<AnnualVolume> {
    (0u64..=100_000_000).prop_map(|n| AnnualVolume::new(n).expect("in range")).boxed()
}

fn documents() -> BoxedStrategy<Vec<Document>> {
    vec((name(), 1u64..=100).prop_map(|(name, c)| Document { name, copies: Copies::new(c).expect("in range") }), 0..5)
        .boxed()
}

fn date() -> BoxedStrategy<Date> {
    (1990i32..=2040, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| Date::from_ymd(y, m, d).expect("a real date")).boxed()
}

/// From 2000-01-01 to 2040-01-01 UTC, to the microsecond.
fn timestamp() -> BoxedStrategy<Timestamp> {
    (946_684_800_000_000i64..2_208_988_800_000_000).prop_map(Timestamp::from_micros).boxed()
}

fn procedure() -> BoxedStrategy<Procedure> {
    (
        (code(), name(), sector(), agency(), level(), applicant(), working_days(), steps()),
        (documents(), vnd(), vnd(), hours(), annual_volume(), online(), long_text()),
    )
        .prop_map(
            |(
                (code, name, sector, agency, level, applicant, processing_days, steps),
                (documents, fee_vnd, out_of_pocket_vnd, applicant_hours, annual_volume, online, legal_basis),
            )| Procedure {
                code,
                name,
                sector,
                agency,
                level,
                applicant,
                processing_days,
                steps,
                documents,
                fee_vnd,
                out_of_pocket_vnd,
                applicant_hours,
                annual_volume,
                online,
                legal_basis,
            },
        )
        .boxed()
}

fn changes() -> BoxedStrategy<Changes> {
    (
        (
            option::of(name()),
            option::of(sector()),
            option::of(agency()),
            option::of(level()),
            option::of(applicant()),
            option::of(working_days()),
            option::of(steps()),
        ),
        (
            option::of(documents()),
            option::of(vnd()),
            option::of(vnd()),
            option::of(hours()),
            option::of(annual_volume()),
            option::of(online()),
            option::of(long_text()),
        ),
    )
        .prop_map(
            |(
                (name, sector, agency, level, applicant, processing_days, steps),
                (documents, fee_vnd, out_of_pocket_vnd, applicant_hours, annual_volume, online, legal_basis),
            )| Changes {
                name,
                sector,
                agency,
                level,
                applicant,
                processing_days,
                steps,
                documents,
                fee_vnd,
                out_of_pocket_vnd,
                applicant_hours,
                annual_volume,
                online,
                legal_basis,
            },
        )
        .boxed()
}

fn estimates() -> BoxedStrategy<Estimates> {
    (option::of(annual_volume()), option::of(hours()), option::of(vnd()))
        .prop_map(|(annual_volume, applicant_hours, out_of_pocket_vnd)| Estimates {
            annual_volume,
            applicant_hours,
            out_of_pocket_vnd,
        })
        .boxed()
}

/// A fraction in (0, 1] with up to four decimals, e.g. `0.3`, `0.333`, `1`.
fn fraction() -> BoxedStrategy<Fraction> {
    (0u32..=4)
        .prop_flat_map(|scale| (Just(scale), 1u64..=10u64.pow(scale)))
        .prop_map(|(scale, num)| {
            let den = 10u64.pow(scale);
            let literal = if num == den { "1".to_owned() } else { format!("0.{num:0width$}", width = scale as usize) };
            Fraction::parse(&literal).expect("a valid fraction")
        })
        .boxed()
}

fn scope() -> BoxedStrategy<Scope> {
    prop_oneof![
        Just("all".to_owned()),
        words(1, 40).prop_map(|a| format!("agency:{a}")),
        words(1, 40).prop_map(|s| format!("sector:{s}")),
        level().prop_map(|l| format!("level:{}", l.as_str())),
    ]
    .prop_map(|s| Scope::parse(&s).expect("a valid scope"))
    .boxed()
}

fn change() -> BoxedStrategy<Change> {
    prop_oneof![
        procedure().prop_map(Change::ProcedureRegistered),
        (code(), changes(), vec(tag(), 0..4))
            .prop_map(|(code, set, measures)| Change::ProcedureSimplified(Simplification { code, set, measures })),
        (code(), changes()).prop_map(|(code, set)| Change::ProcedureAmended(Amendment { code, set })),
        (code(), option::of(estimates()), option::of(estimates())).prop_map(|(code, baseline, current)| {
            Change::EstimateRevised(EstimateRevision { code, baseline, current })
        }),
        (vec(code(), 2..5), procedure()).prop_map(|(sources, into)| Change::ProceduresMerged(Merger { sources, into })),
        (code(), long_text()).prop_map(|(code, reason)| Change::ProcedureAbolished(Abolition { code, reason })),
        (any::<u128>(), long_text())
            .prop_map(|(id, reason)| Change::EntryRetracted(Retraction { event_id: Uuid::from_u128(id), reason })),
        (prop_oneof![Just(TariffApplicant::Citizen), Just(TariffApplicant::Business)], 1u64..=10_000_000).prop_map(
            |(applicant, n)| Change::TariffSet(Tariff {
                applicant,
                vnd_per_hour: VndPerHour::new(n).expect("in range")
            })
        ),
        (code(), name(), date(), 1u32..=4000, fraction(), fraction(), scope()).prop_map(
            |(id, name, baseline_on, days, cost_reduction, time_reduction, scope)| {
                let deadline = Date::from_inner(baseline_on.inner() + time::Duration::days(i64::from(days)));
                Change::ProgrammeDefined(Programme {
                    id,
                    name,
                    baseline_on,
                    deadline,
                    cost_reduction,
                    time_reduction,
                    scope,
                })
            }
        ),
    ]
    .boxed()
}

fn event() -> BoxedStrategy<Event> {
    (
        (
            any::<u128>(),
            1u64..=u64::MAX / 2,
            prop_oneof![code().prop_map(|c| StreamId::procedure(&c)), Just(StreamId::settings())],
        ),
        (1u64..=1_000_000, timestamp(), date(), any::<String>(), option::of("[A-Za-z0-9-]{1,40}")),
        (long_text(), long_text(), change()),
    )
        .prop_map(
            |(
                (id, seq, stream),
                (version, recorded_at, effective_on, actor, command_id),
                (legal_basis, note, change),
            )| {
                Event {
                    event_id: Uuid::from_u128(id),
                    seq,
                    stream,
                    version,
                    schema_version: SCHEMA_VERSION,
                    recorded_at,
                    effective_on,
                    actor,
                    command_id,
                    legal_basis,
                    note,
                    change,
                }
            },
        )
        .boxed()
}

/// What a glance at an event with this change reads as its change.
fn glanced(change: Change) -> GlancedChange {
    match change {
        Change::ProcedureSimplified(s) => GlancedChange::Simplified(s.set),
        Change::ProcedureAmended(a) => GlancedChange::Amended(a.set),
        Change::EstimateRevised(r) => GlancedChange::EstimateRevised { baseline: r.baseline, current: r.current },
        other => GlancedChange::Other(Box::new(other)),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Round trips.

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_stored_encoding_round_trips_every_event(event in event()) {
        let bytes = codec::encode(&event);
        prop_assert_eq!(bytes[0], FORMAT_POSTCARD_V1);
        prop_assert_eq!(codec::decode(&bytes), Ok(event));
    }

    #[test]
    fn the_decoding_for_projections_reads_every_event_but_its_prose(event in event()) {
        let stored = codec::encode(&event);
        let json = serde_json::to_vec(&event.to_json()).expect("JSON serialises");
        let without_prose = Event {
            actor: String::new(),
            command_id: None,
            legal_basis: LongText::default(),
            note: LongText::default(),
            ..event.clone()
        };
        prop_assert_eq!(codec::decode_for_projection(&stored), Ok(without_prose));
        prop_assert_eq!(codec::decode_for_projection(&json), Ok(event));
        let cut = &stored[..stored.len() - 1];
        prop_assert!(codec::decode_for_projection(cut).is_err());
    }

    #[test]
    fn a_glance_reads_what_the_whole_event_says(event in event()) {
        let stored = codec::encode(&event);
        let glance = codec::glance(&stored).expect("a stored event").expect("a binary one");
        let stream = event.stream.name();
        prop_assert_eq!(
            (glance.event_id, glance.seq, glance.stream, glance.recorded_at, glance.effective_on),
            (event.event_id, event.seq, stream.as_str(), event.recorded_at, event.effective_on)
        );
        prop_assert_eq!(glance.change, glanced(event.change.clone()));
        let json = serde_json::to_vec(&event.to_json()).expect("JSON serialises");
        prop_assert_eq!(codec::glance(&json), Ok(None));
        prop_assert!(codec::glance(&stored[..stored.len() - 1]).is_err());
    }

    #[test]
    fn the_hand_read_glance_reads_numeric_changes_as_the_whole_event_says(event in event()) {
        // The same event with its change's text attributes taken out: what the fast path is for.
        let mut plain = event.clone();
        if let Change::ProcedureSimplified(Simplification { set, .. }) | Change::ProcedureAmended(Amendment { set, .. }) =
            &mut plain.change
        {
            (set.name, set.sector, set.agency, set.documents, set.legal_basis) = (None, None, None, None, None);
        }
        for e in [&event, &plain] {
            let stored = codec::encode(e);
            let numeric = match &e.change {
                Change::ProcedureSimplified(Simplification { set, .. }) | Change::ProcedureAmended(Amendment { set, .. }) => {
                    [set.name.is_none(), set.sector.is_none(), set.agency.is_none(), set.documents.is_none(), set.legal_basis.is_none()]
                        .iter()
                        .all(|&absent| absent)
                }
                Change::EstimateRevised(_) => true,
                _ => false,
            };
            let fast = codec::glance_plain(&stored);
            prop_assert_eq!(fast.is_some(), numeric, "the fast path takes exactly the numeric changes");
            if let Some(fast) = fast {
                let stream = e.stream.name();
                prop_assert_eq!(
                    (fast.event_id, fast.seq, fast.stream, fast.recorded_at, fast.effective_on, fast.change),
                    (e.event_id, e.seq, stream.as_str(), e.recorded_at, e.effective_on, glanced(e.change.clone()))
                );
            }
            // Cut anywhere, or with a byte more, the fast path declines (and `glance` reports the damage).
            for cut in [1, stored.len() / 2, stored.len() - 1] {
                prop_assert_eq!(codec::glance_plain(&stored[..cut]), None);
            }
            let mut longer = stored.clone();
            longer.push(0);
            prop_assert_eq!(codec::glance_plain(&longer), None);
        }
    }

    #[test]
    fn the_json_form_round_trips_every_event(event in event()) {
        let json = event.to_json();
        prop_assert_eq!(json["type"].as_str(), Some(event.type_name()));
        prop_assert_eq!(json["schema_version"].as_u64(), Some(u64::from(SCHEMA_VERSION)));
        prop_assert_eq!(codec::from_json(json.clone()), Ok(event.clone()));
        // Stored as a JSON document, it reads back the same.
        let bytes = serde_json::to_vec(&json).expect("JSON serialises");
        prop_assert_eq!(codec::decode(&bytes), Ok(event));
    }

    #[test]
    fn the_json_payload_reads_back_as_the_same_change(change in change()) {
        prop_assert_eq!(Change::from_json(change.type_name(), change.payload_json()), Ok(change));
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in vec(any::<u8>(), 0..300)) {
        let _ = codec::decode(&bytes);
    }

    #[test]
    fn a_truncated_record_is_refused_not_misread(event in event(), cut in 1usize..64) {
        let bytes = codec::encode(&event);
        let cut = cut.min(bytes.len() - 1);
        let truncated = &bytes[..bytes.len() - cut];
        prop_assert!(matches!(codec::decode(truncated), Err(DecodeError::Binary(_))), "{:?}", codec::decode(truncated));
    }
}

#[test]
fn unreadable_records_say_why() {
    assert_eq!(codec::decode(&[]), Err(DecodeError::Empty));
    assert_eq!(codec::decode(&[0x02, 0, 0]), Err(DecodeError::UnknownFormat(0x02)));
    assert!(matches!(codec::decode(b"{not json"), Err(DecodeError::Json(_))));
    let mut future = sample_v1().to_json();
    future["schema_version"] = 2.into();
    assert_eq!(codec::from_json(future), Err(DecodeError::FutureSchema(2)));
}

#[test]
fn a_set_with_absent_attributes_survives_the_stored_encoding() {
    // Postcard is not self-describing: an absent attribute left out of the bytes shifts every later one.
    let event = sample_v1();
    assert_eq!(codec::decode(&codec::encode(&event)), Ok(event));
    let revision = Event {
        change: Change::EstimateRevised(EstimateRevision {
            code: ProcedureCode::parse("1.004227").unwrap(),
            baseline: None,
            current: Some(Estimates { applicant_hours: Some(Hours::parse("4").unwrap()), ..Estimates::default() }),
        }),
        ..sample_v1()
    };
    assert_eq!(codec::decode(&codec::encode(&revision)), Ok(revision));
}

#[test]
fn absent_attributes_of_a_set_stay_absent_in_json() {
    let json = sample_v1().to_json();
    assert_eq!(json["payload"]["set"], serde_json::json!({ "processing_days": 12.5 }));
    assert_eq!(json["legal_basis"], "Nghị định 123/2015/NĐ-CP");
    assert_eq!(json["effective_on"], "2016-01-01");
    assert_eq!(json["recorded_at"], "2016-01-05T03:00:00.000000Z");
    let revision = Change::EstimateRevised(EstimateRevision {
        code: ProcedureCode::parse("1.004227").unwrap(),
        baseline: Some(Estimates { annual_volume: Some(AnnualVolume::new(90_000).unwrap()), ..Estimates::default() }),
        current: None,
    });
    assert_eq!(
        revision.payload_json(),
        serde_json::json!({ "code": "1.004227", "baseline": { "annual_volume": 90000 } })
    );
}

fn sample_v1() -> Event {
    Event {
        event_id: Uuid::from_u128(7),
        seq: 7,
        stream: StreamId::parse("procedure-1.004227").unwrap(),
        version: 2,
        schema_version: SCHEMA_VERSION,
        recorded_at: Timestamp::parse("2016-01-05T10:00:00+07:00").unwrap(),
        effective_on: Date::parse("2016-01-01").unwrap(),
        actor: "ho-tich".into(),
        command_id: None,
        legal_basis: LongText::parse("Nghị định 123/2015/NĐ-CP").unwrap(),
        note: LongText::default(),
        change: Change::ProcedureSimplified(Simplification {
            code: ProcedureCode::parse("1.004227").unwrap(),
            set: Changes { processing_days: Some(WorkingDays::parse("12.5").unwrap()), ..Changes::default() },
            measures: vec![],
        }),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Upcasting: the unshipped schema version 0, one JSON event per line of the fixture.

const V0_FIXTURE: &str = include_str!("fixtures/v0_events.ndjson");

fn v0_events() -> Vec<Result<Event, DecodeError>> {
    V0_FIXTURE.lines().filter(|l| !l.trim().is_empty()).map(|l| codec::decode(l.as_bytes())).collect()
}

fn text<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().expect("valid fixture text")
}

fn code_1_004227() -> ProcedureCode {
    ProcedureCode::parse("1.004227").unwrap()
}

fn doc(name: &str) -> Document {
    Document { name: Name::parse(name).unwrap(), copies: Copies::new(1).unwrap() }
}

#[test]
fn a_v0_registration_is_upcast_to_the_v1_event_it_means() {
    let events = v0_events();
    let expected = Event {
        event_id: text("018f0c2a-0000-7000-8000-000000000001"),
        seq: 1,
        stream: StreamId::procedure(&code_1_004227()),
        version: 1,
        schema_version: SCHEMA_VERSION,
        recorded_at: Timestamp::parse("2013-03-01T02:30:00Z").unwrap(),
        effective_on: Date::parse("2013-01-01").unwrap(),
        actor: "hotich-hn".into(),
        command_id: Some("reg-1.004227".into()),
        // `legal_ref` travelled in the payload; it becomes the envelope's and the procedure's legal basis.
        legal_basis: LongText::parse("Nghị định 158/2005/NĐ-CP").unwrap(),
        note: LongText::default(),
        change: Change::ProcedureRegistered(Procedure {
            code: code_1_004227(),
            name: Name::parse("Đăng ký khai sinh").unwrap(),
            sector: Sector::parse("Hộ tịch").unwrap(),
            agency: Agency::parse("UBND cấp xã").unwrap(),
            level: Level::Commune,
            applicant: Applicant::Citizen,
            processing_days: WorkingDays::parse("5").unwrap(),
            steps: Steps::new(4).unwrap(),
            // Bare names were one copy each.
            documents: vec![doc("Tờ khai đăng ký khai sinh"), doc("Giấy chứng sinh")],
            fee_vnd: Vnd::new(8000).unwrap(),
            out_of_pocket_vnd: Vnd::new(20_000).unwrap(),
            applicant_hours: Hours::parse("6.5").unwrap(),
            annual_volume: AnnualVolume::new(120_000).unwrap(),
            // `false` meant no online service.
            online: Online::None,
            legal_basis: LongText::parse("Nghị định 158/2005/NĐ-CP").unwrap(),
        }),
    };
    assert_eq!(events[0], Ok(expected));
}

#[test]
fn a_v0_simplification_says_changes_for_set_and_is_upcast() {
    let events = v0_events();
    let expected = Event {
        event_id: text("018f0c2a-0000-7000-8000-000000000002"),
        seq: 2,
        stream: StreamId::procedure(&code_1_004227()),
        version: 2,
        schema_version: SCHEMA_VERSION,
        recorded_at: Timestamp::parse("2014-06-01T08:00:00.25+07:00").unwrap(),
        effective_on: Date::parse("2014-01-01").unwrap(),
        actor: "hotich-hn".into(),
        command_id: None,
        legal_basis: LongText::parse("Nghị quyết 52/NQ-CP").unwrap(),
        note: LongText::default(),
        change: Change::ProcedureSimplified(Simplification {
            code: code_1_004227(),
            // Only the attributes the v0 `changes` held; the legal reference does not leak into the set.
            set: Changes {
                processing_days: Some(WorkingDays::parse("3.5").unwrap()),
                documents: Some(vec![doc("Tờ khai đăng ký khai sinh")]),
                online: Some(Online::Full),
                ..Changes::default()
            },
            measures: vec![Tag::parse("bỏ bản sao giấy chứng sinh").unwrap()],
        }),
    };
    assert_eq!(events[1], Ok(expected));
}

#[test]
fn a_v0_event_without_schema_version_or_legal_ref_reads_as_v0_with_empty_texts() {
    let events = v0_events();
    let expected = Event {
        event_id: text("018f0c2a-0000-7000-8000-000000000003"),
        seq: 3,
        stream: StreamId::procedure(&code_1_004227()),
        version: 3,
        schema_version: SCHEMA_VERSION,
        recorded_at: Timestamp::parse("2016-02-01T01:00:00Z").unwrap(),
        effective_on: Date::parse("2016-01-01").unwrap(),
        actor: "hotich-hn".into(),
        command_id: None,
        legal_basis: LongText::default(),
        note: LongText::default(),
        change: Change::ProcedureAbolished(Abolition {
            code: code_1_004227(),
            reason: LongText::parse("Thay bằng thủ tục liên thông").unwrap(),
        }),
    };
    assert_eq!(events[2], Ok(expected));
    assert_eq!(events.len(), 3);
}

#[test]
fn upcast_v0_events_are_stored_again_as_v1_unchanged() {
    for event in v0_events() {
        let event = event.expect("the fixture reads");
        assert_eq!(codec::decode(&codec::encode(&event)), Ok(event.clone()));
        assert_eq!(codec::from_json(event.to_json()), Ok(event));
    }
}

#[test]
fn the_attribute_list_is_a_procedures_fields_in_wire_order() {
    let procedure: events::Procedure = serde_json::from_value(serde_json::json!({
        "code": "1.000001", "name": "Cấp phép", "sector": "Xây dựng", "agency": "SXD", "level": "district",
        "applicant": "citizen", "processing_days": 20, "steps": 3, "documents": [], "fee_vnd": 75000,
        "out_of_pocket_vnd": 100000, "applicant_hours": 16, "annual_volume": 1200, "online": "none",
        "legal_basis": ""
    }))
    .unwrap();
    let text = serde_json::to_string(&procedure).unwrap();
    let positions: Vec<usize> =
        events::procedure::ATTRIBUTES.iter().map(|a| text.find(&format!("\"{a}\":")).expect(a)).collect();
    assert_eq!(events::procedure::ATTRIBUTES.len(), 15);
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
}
