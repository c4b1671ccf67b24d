//! Given these recorded events, then these figures: merges, chains, estimate revisions, late records,
//! retractions, tariffs, introduced procedures, baselines and the gaps a missing tariff leaves.

mod common;

use common::*;
use events::value::{Applicant, Level, TariffApplicant};
use events::{Changes, Estimates, Procedure};
use projections::{GroupBy, Money, Projection, QueryError, Ratio, Status};

fn fold(log: &Log) -> Projection {
    Projection::fold(&log.events).unwrap()
}

fn ratio(n: i128, d: i128) -> Ratio {
    Ratio::from_int(n).div(&Ratio::from_int(d)).unwrap()
}

/// A citizen procedure whose cost is its fee and its hours: `procedure(...)` with few arguments.
fn citizen(
    code_: &str,
    agency: &str,
    processing_days: &str,
    applicant_hours: &str,
    fee: u64,
    annual_volume: u64,
) -> Procedure {
    procedure(
        code_,
        agency,
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

// ---------------------------------------------------------------------------------------------------------
// Merges.

/// A.1 (UBND-A: 30 000 đ a filing, 1 a year) and B.1 (UBND-B: 15 000 đ, 2 a year) merge into A.1, which
/// now costs 5 000 đ a filing, 2 a year: 10 000 đ shared 1/3 : 2/3 by baseline volume.
fn merged_into_a_source() -> Log {
    let mut log = Log::new();
    log.record("2011-01-01", tariff(TariffApplicant::Citizen, 10_000));
    log.record("2011-01-01", register(citizen("A.1", "UBND-A", "10", "2", 10_000, 1)));
    log.record("2011-01-01", register(citizen("B.1", "UBND-B", "6", "1", 5_000, 2)));
    log.record_from("2012-01-01");
    log.merge("2012-01-01", &["A.1", "B.1"], citizen("A.1", "UBND-A", "4", "0", 5_000, 2));
    log
}

#[test]
fn a_merge_into_one_of_its_sources_shares_its_cost_by_baseline_volume() {
    let p = fold(&merged_into_a_source());
    let all = p.reductions(GroupBy::All, as_of("2012-12-31"), None).unwrap().groups.remove(0);
    assert_eq!(dong(&all.baseline_annual_cost_vnd), 60_000);
    assert_eq!(dong(&all.current_annual_cost_vnd), 10_000);
    assert_eq!(all.cost_reduction, Some(ratio(5, 6)));
    assert_eq!(all.baseline_avg_days, Some(ratio(22, 3)));
    assert_eq!(all.current_avg_days, Some(ratio(4, 1)));
    assert_eq!(all.time_reduction, Some(ratio(5, 11)));
    assert_eq!((all.roots, all.introduced), (2, 0));

    let groups = p.reductions(GroupBy::Agency, as_of("2012-12-31"), None).unwrap().groups;
    let (a, b) = (group(&groups, "UBND-A"), group(&groups, "UBND-B"));
    // Thirds of 10 000 đ: exact before rounding, and the two add up to the whole.
    assert_eq!(a.current_annual_cost_vnd.as_ref().unwrap().as_ratio(), &ratio(10_000, 3));
    assert_eq!(b.current_annual_cost_vnd.as_ref().unwrap().as_ratio(), &ratio(20_000, 3));
    assert_eq!(
        a.current_annual_cost_vnd.as_ref().unwrap().add(b.current_annual_cost_vnd.as_ref().unwrap()),
        Money::from_dong(10_000)
    );
    // On the wire, each rounds half-up to the đồng.
    let json = serde_json::to_value(&groups).unwrap();
    assert_eq!(json[0]["current_annual_cost_vnd"], 3_333);
    assert_eq!(json[1]["current_annual_cost_vnd"], 6_667);
    assert_eq!(a.cost_reduction, Some(ratio(8, 9)));
    assert_eq!(b.cost_reduction, Some(ratio(7, 9)));
}

#[test]
fn the_views_of_a_merge_into_a_source() {
    let p = fold(&merged_into_a_source());
    let b = p.procedure("B.1", as_of("2012-12-31"), None).unwrap();
    assert_eq!(b.status, Status::Merged);
    assert_eq!(b.merged_into, Some(code("A.1")));
    assert_eq!(b.terminal, Some(code("A.1")));
    assert_eq!(b.lineage.merged_into, Some(code("A.1")));
    let after = b.after.as_ref().unwrap();
    assert_eq!(after.annual_cost_vnd.as_ref().unwrap().as_ratio(), &ratio(20_000, 3));
    assert_eq!(dong(&after.cost_per_filing_vnd), 5_000);
    assert_eq!(after.processing_days, days("4"));
    assert_eq!(b.cost_reduction, Some(ratio(7, 9)));
    assert_eq!(b.time_reduction, Some(ratio(1, 3)));

    let a = p.procedure("A.1", as_of("2012-12-31"), None).unwrap();
    assert_eq!(a.status, Status::Active);
    assert_eq!((a.merged_into.clone(), a.terminal.clone()), (None, Some(code("A.1"))));
    assert_eq!(a.lineage.merged_from, [code("B.1")]);
    assert_eq!(a.current.fee_vnd, vnd(5_000));
    assert_eq!(a.baseline.as_ref().unwrap().fee_vnd, vnd(10_000));
    assert_eq!(a.version, 2, "registered, then merged");
    assert_eq!(a.after.as_ref().unwrap().annual_cost_vnd.as_ref().unwrap().as_ratio(), &ratio(10_000, 3));
}

/// A (X) + B (Y) → C in 2012; C + D (Z) → E in 2013; costs are fees alone (no hours).
fn chain() -> Log {
    let mut log = Log::new();
    log.record("2011-01-01", tariff(TariffApplicant::Citizen, 10_000));
    log.record("2011-01-01", register(citizen("A", "X", "10", "0", 1_000, 10)));
    log.record("2011-01-01", register(citizen("B", "Y", "10", "0", 2_000, 30)));
    log.record("2011-01-01", register(citizen("D", "Z", "10", "0", 3_000, 60)));
    log.record_from("2012-01-01");
    log.merge("2012-01-01", &["A", "B"], citizen("C", "Y", "5", "0", 1_500, 40));
    log.record_from("2013-01-01");
    log.merge("2013-01-01", &["C", "D"], citizen("E", "Z", "2", "0", 1_000, 100));
    log
}

#[test]
fn a_chain_of_merges_flows_to_its_last_procedure() {
    let p = fold(&chain());
    // 2012: A and B flow to C (15 000 : 45 000 of its 60 000 đ), D is its own terminal.
    let all = p.reductions(GroupBy::All, as_of("2012-06-30"), None).unwrap().groups.remove(0);
    assert_eq!((dong(&all.baseline_annual_cost_vnd), dong(&all.current_annual_cost_vnd)), (250_000, 240_000));
    assert_eq!((all.roots, all.introduced), (3, 0), "C is no introduced procedure: roots flow into it");
    // 2013: all three flow to E, shared 10 : 30 : 60 of its 100 000 đ.
    let groups = p.reductions(GroupBy::Agency, as_of("2013-06-30"), None).unwrap().groups;
    let current = |k| dong(&group(&groups, k).current_annual_cost_vnd);
    assert_eq!((current("X"), current("Y"), current("Z")), (10_000, 30_000, 60_000));
    assert_eq!(groups.iter().map(|g| g.introduced).sum::<u64>(), 0);
    assert_eq!(group(&groups, "Z").current_avg_days, Some(ratio(2, 1)));

    let a = p.procedure("A", as_of("2013-06-30"), None).unwrap();
    assert_eq!((a.merged_into, a.terminal), (Some(code("C")), Some(code("E"))));
    let c = p.procedure("C", as_of("2013-06-30"), None).unwrap();
    assert_eq!(c.status, Status::Merged);
    assert_eq!(c.lineage.merged_from, [code("A"), code("B")]);
    assert!(c.baseline.is_none() && c.before.is_none() && c.after.is_none(), "C is no root and no longer active");
    let e = p.procedure("E", as_of("2013-06-30"), None).unwrap();
    assert_eq!(e.lineage.merged_from, [code("C"), code("D")]);
    assert_eq!(dong(&e.after.unwrap().annual_cost_vnd), 100_000, "E is no root: its own cost");
}

#[test]
fn abolishing_a_merged_result_takes_every_root_that_flows_to_it_to_zero() {
    let mut log = chain();
    log.record_from("2014-01-01");
    log.record("2014-01-01", abolish("E"));
    let p = fold(&log);
    let all = p.reductions(GroupBy::All, as_of("2014-06-30"), None).unwrap().groups.remove(0);
    assert_eq!((dong(&all.baseline_annual_cost_vnd), dong(&all.current_annual_cost_vnd)), (250_000, 0));
    assert_eq!(all.cost_reduction, Some(ratio(1, 1)));
    assert_eq!(all.current_avg_days, Some(ratio(0, 1)));
    assert_eq!(all.time_reduction, Some(ratio(1, 1)));
    let a = p.procedure("A", as_of("2014-06-30"), None).unwrap();
    assert_eq!(a.terminal, None);
    assert_eq!(dong(&a.after.unwrap().annual_cost_vnd), 0);
    assert_eq!(p.procedure("E", as_of("2014-06-30"), None).unwrap().status, Status::Abolished);
    // As of before the abolition nothing changed.
    let before = p.reductions(GroupBy::All, as_of("2013-12-31"), None).unwrap().groups.remove(0);
    assert_eq!(dong(&before.current_annual_cost_vnd), 100_000);
}

// ---------------------------------------------------------------------------------------------------------
// Estimate revisions.

/// One citizen procedure: 1 hour at 10 000 đ, 1 000 filings a year: 10 000 000 đ.
fn one_procedure() -> Log {
    let mut log = Log::new();
    log.record("2011-01-01", tariff(TariffApplicant::Citizen, 10_000));
    log.record("2011-01-01", register(citizen("P", "UBND", "10", "1", 0, 1_000)));
    log.record_from("2012-01-01");
    log
}

fn volume_of(n: u64) -> Option<Estimates> {
    Some(Estimates { annual_volume: Some(volume(n)), ..Estimates::default() })
}

fn costs(p: &Projection, on: &str, baseline_on: Option<&str>) -> (u128, u128) {
    let g = p.reductions(GroupBy::All, as_of(on), baseline_on.map(date)).unwrap().groups.remove(0);
    (dong(&g.baseline_annual_cost_vnd), dong(&g.current_annual_cost_vnd))
}

#[test]
fn a_figure_restated_on_both_sides_counts_no_reduction() {
    let mut log = one_procedure();
    log.record("2012-01-01", revise("P", volume_of(1_500), volume_of(1_500)));
    let p = fold(&log);
    assert_eq!(costs(&p, "2012-06-30", None), (15_000_000, 15_000_000));
    assert_eq!(costs(&p, "2011-12-31", None), (10_000_000, 10_000_000), "not yet effective");
}

#[test]
fn a_current_revision_alone_counts_as_a_change_of_burden() {
    let mut log = one_procedure();
    log.record("2012-01-01", revise("P", None, volume_of(1_500)));
    let p = fold(&log);
    assert_eq!(costs(&p, "2012-06-30", None), (10_000_000, 15_000_000));
    let g = p.reductions(GroupBy::All, as_of("2012-06-30"), None).unwrap().groups.remove(0);
    assert_eq!(g.cost_reduction, Some(ratio(-1, 2)), "burden rose by half");
}

#[test]
fn a_baseline_restatement_replaces_the_baseline_for_earlier_baselines_only() {
    let mut log = one_procedure();
    log.record(
        "2012-01-01",
        revise(
            "P",
            Some(Estimates {
                annual_volume: Some(volume(1_500)),
                out_of_pocket_vnd: Some(vnd(2_000)),
                ..Estimates::default()
            }),
            None,
        ),
    );
    let p = fold(&log);
    // Baseline 2011-01-01 is before the revision: the baseline is restated to 1 500 × 12 000 đ.
    assert_eq!(costs(&p, "2012-06-30", None), (18_000_000, 10_000_000));
    let view = p.procedure("P", as_of("2012-06-30"), None).unwrap();
    assert_eq!(view.baseline.as_ref().unwrap().annual_volume, volume(1_500));
    assert_eq!(view.current.annual_volume, volume(1_000));
    // A baseline on or after the revision's date keeps the figures of that date.
    assert_eq!(costs(&p, "2012-06-30", Some("2012-01-01")), (10_000_000, 10_000_000));
    // As of before the revision takes effect, it does not count at all.
    assert_eq!(costs(&p, "2011-12-31", None), (10_000_000, 10_000_000));
}

#[test]
fn a_restated_baseline_volume_moves_the_shares_of_a_merge() {
    let mut log = merged_into_a_source();
    // B.1's baseline volume was really 1 (not 2): now A and B share 10 000 đ half and half.
    log.record_from("2012-03-01");
    log.record("2012-03-01", revise("B.1", volume_of(1), None));
    let p = fold(&log);
    let groups = p.reductions(GroupBy::Agency, as_of("2012-12-31"), None).unwrap().groups;
    assert_eq!(dong(&group(&groups, "UBND-A").current_annual_cost_vnd), 5_000);
    assert_eq!(dong(&group(&groups, "UBND-B").current_annual_cost_vnd), 5_000);
    assert_eq!(dong(&group(&groups, "UBND-B").baseline_annual_cost_vnd), 15_000);
}

#[test]
fn restatements_apply_in_effective_order_and_count_by_what_is_known() {
    let mut log = one_procedure();
    let costs_known = |p: &Projection, known_at| {
        let g = p.reductions(GroupBy::All, known("2013-06-30", known_at), None).unwrap().groups.remove(0);
        dong(&g.baseline_annual_cost_vnd)
    };
    log.record("2012-06-01", revise("P", volume_of(3_000), None));
    let first_known = log.last_recorded();
    // Recorded later but effective earlier: the restatement of 2012-06-01 still has the last word.
    log.record_from("2012-09-01");
    log.record("2012-03-01", revise("P", volume_of(2_000), None));
    let both_known = log.last_recorded();
    let p = fold(&log);
    assert_eq!(costs_known(&p, first_known), 30_000_000);
    assert_eq!(costs(&p, "2012-04-30", None).0, 20_000_000, "only the earlier one is in effect");
    assert_eq!(costs_known(&p, both_known), 30_000_000, "the later effective date wins, not the later record");

    log.record_from("2013-01-01");
    let later = log.events.iter().find(|e| e.effective_on == date("2012-06-01")).unwrap().clone();
    log.retract(std::slice::from_ref(&later));
    let retracted = log.last_recorded();
    let p = fold(&log);
    assert_eq!(costs_known(&p, both_known), 30_000_000, "before the retraction was recorded");
    assert_eq!(costs_known(&p, retracted), 20_000_000, "once retracted, the other restatement stands");
}

// ---------------------------------------------------------------------------------------------------------
// Time travel on both axes.

#[test]
fn a_change_recorded_late_lands_at_its_effective_date() {
    let mut log = one_procedure();
    log.record("2012-01-01", simplify("P", Changes { processing_days: Some(days("8")), ..set() }));
    log.record_from("2013-03-01");
    let late_known = log.now();
    // Recorded in 2013, effective mid-2011: between the registration and the simplification.
    log.record(
        "2011-07-01",
        amend("P", Changes { processing_days: Some(days("15")), fee_vnd: Some(vnd(500)), ..set() }),
    );
    let p = fold(&log);

    let at = |on: &str, known_at| p.procedure("P", known(on, known_at), None).unwrap().current;
    let earlier = date("2012-06-01");
    let known_2012 = events::value::Timestamp::parse(&format!("{earlier}T00:00:00Z")).unwrap();
    assert_eq!(at("2011-12-31", known_2012).processing_days, days("10"), "not known in 2012");
    assert_eq!(at("2011-12-31", late_known).processing_days, days("15"), "known once recorded");
    // The simplification, effective later, still applies after it; the fee it did not set stays amended.
    let now = at("2012-06-30", late_known);
    assert_eq!((now.processing_days, now.fee_vnd), (days("8"), vnd(500)));
    let then = at("2012-06-30", known_2012);
    assert_eq!((then.processing_days, then.fee_vnd), (days("8"), vnd(0)));
    // The history lists it in effective order.
    let history = p.history("P", as_of("2012-06-30")).unwrap();
    let types: Vec<&str> = history.iter().map(|h| h.event_type).collect();
    assert_eq!(types, ["ProcedureRegistered", "ProcedureAmended", "ProcedureSimplified"]);
}

#[test]
fn a_retraction_counts_from_when_it_was_recorded() {
    let mut log = one_procedure();
    log.record("2012-01-01", simplify("P", Changes { processing_days: Some(days("8")), ..set() }));
    let simplification = log.events.last().unwrap().clone();
    log.record_from("2013-01-01");
    let before_retraction = log.last_recorded();
    log.retract(std::slice::from_ref(&simplification));
    let after_retraction = log.last_recorded();
    let p = fold(&log);
    let days_at = |known_at| p.procedure("P", known("2012-06-30", known_at), None).unwrap().current.processing_days;
    assert_eq!(days_at(before_retraction), days("8"));
    assert_eq!(days_at(after_retraction), days("10"));
    let view = p.procedure("P", known("2012-06-30", after_retraction), None).unwrap();
    assert_eq!(view.version, 3, "the retraction is an event of the stream");
    assert_eq!(p.history("P", known("2012-06-30", after_retraction)).unwrap().len(), 1);
    assert_eq!(p.history("P", known("2012-06-30", before_retraction)).unwrap().len(), 2);
    let g = |known_at| p.reductions(GroupBy::All, known("2012-06-30", known_at), None).unwrap().groups.remove(0);
    assert_eq!(g(before_retraction).time_reduction, Some(ratio(1, 5)));
    assert_eq!(g(after_retraction).time_reduction, Some(ratio(0, 1)));
}

#[test]
fn retracting_a_merge_restores_its_sources_in_every_stream() {
    let mut log = worked_example();
    let merge: Vec<_> = log.events.iter().filter(|e| e.type_name() == "ProceduresMerged").cloned().collect();
    assert_eq!(merge.len(), 3, "two sources and the new procedure");
    log.record_from("2014-01-01");
    let before = log.last_recorded();
    log.retract(&merge);
    let p = fold(&log);
    let stp = |known_at| {
        let groups = p.reductions(GroupBy::Agency, known("2013-12-31", known_at), None).unwrap().groups;
        dong(&group(&groups, "STP").current_annual_cost_vnd)
    };
    assert_eq!(stp(before), 760_000_000);
    assert_eq!(stp(log.last_recorded()), 1_120_000_000);
    let view = p.procedure("3.000003", as_of("2013-12-31"), None).unwrap();
    assert_eq!((view.status, view.terminal), (Status::Active, Some(code("3.000003"))));
    assert!(matches!(p.procedure("3.000010", as_of("2013-12-31"), None), Err(QueryError::NotRegistered { .. })));
}

#[test]
fn retracting_any_one_copy_of_a_merge_retracts_the_merge() {
    let mut log = worked_example();
    let into_copy = log
        .events
        .iter()
        .find(|e| e.type_name() == "ProceduresMerged" && e.stream.name() == "procedure-3.000010")
        .cloned()
        .unwrap();
    log.record_from("2014-01-01");
    log.retract(&[into_copy]);
    let p = fold(&log);
    let view = p.procedure("3.000004", as_of("2013-12-31"), None).unwrap();
    assert_eq!((view.status, view.merged_into), (Status::Active, None));
    let all = p.reductions(GroupBy::All, as_of("2013-12-31"), None).unwrap().groups.remove(0);
    assert_eq!(dong(&all.current_annual_cost_vnd), 510_000_000 + 240_000_000 + 640_000_000 + 480_000_000);
}

// ---------------------------------------------------------------------------------------------------------
// Tariffs: constant prices, `both`, gaps.

#[test]
fn both_sides_use_the_tariff_in_force_at_as_of() {
    let mut log = worked_example();
    log.record_from("2013-01-01T12:00:00Z");
    let before_it = log.last_recorded();
    log.record("2013-01-01", tariff(TariffApplicant::Citizen, 30_000));
    let p = fold(&log);
    let sxd = |m| {
        let r = p.reductions(GroupBy::Agency, m, None).unwrap();
        let g = group(&r.groups, "SXD").clone();
        (r.tariffs.citizen.unwrap().vnd_per_hour, dong(&g.baseline_annual_cost_vnd), dong(&g.current_annual_cost_vnd))
    };
    // 16 h × 30 000 + 175 000 = 655 000 đ a filing at baseline; 10 h × 30 000 + 175 000 = 475 000 đ now.
    assert_eq!(sxd(as_of("2013-12-31")), (30_000, 786_000_000, 570_000_000));
    assert_eq!(sxd(as_of("2012-12-31")), (25_000, 690_000_000, 510_000_000));
    assert_eq!(sxd(known("2013-12-31", before_it)), (25_000, 690_000_000, 510_000_000));
    let r = p.reductions(GroupBy::All, as_of("2013-12-31"), None).unwrap();
    assert_eq!(r.tariffs.citizen.unwrap().effective_on, date("2013-01-01"));
}

#[test]
fn both_applicants_cost_the_mean_of_the_two_tariffs_exactly() {
    let mut log = Log::new();
    log.record("2011-01-01", tariff(TariffApplicant::Citizen, 1));
    log.record("2011-01-01", tariff(TariffApplicant::Business, 2));
    // 0.01 h × 1.5 đ/h = 0.015 đ a filing, 100 filings: 1.5 đ a year.
    let tiny = procedure("T", "UBND", "Đất đai", Level::Province, Applicant::Both, "1", "0.01", 0, 0, 100);
    log.record("2011-01-01", register(tiny));
    let p = fold(&log);
    let view = p.procedure("T", as_of("2011-06-30"), None).unwrap();
    let before = view.before.unwrap();
    assert_eq!(before.cost_per_filing_vnd.as_ref().unwrap().as_ratio(), &ratio(15, 1000));
    assert_eq!(before.annual_cost_vnd.as_ref().unwrap().as_ratio(), &ratio(3, 2));
    let json = serde_json::to_value(&before).unwrap();
    assert_eq!(json["annual_cost_vnd"], 2, "1.5 đ rounds half-up");
    assert_eq!(json["cost_per_filing_vnd"], 0);

    let mut log = worked_example();
    let both = procedure("9.000009", "SKHDT", "Đầu tư", Level::Province, Applicant::Both, "4", "3", 10_000, 0, 10);
    log.record("2013-06-01", register(both));
    let p = fold(&log);
    let view = p.procedure("9.000009", as_of("2013-12-31"), None).unwrap();
    // 3 h × (25 000 + 50 000)/2 + 10 000 = 122 500 đ.
    assert_eq!(dong(&view.after.unwrap().cost_per_filing_vnd), 122_500);
}

#[test]
fn a_missing_tariff_makes_the_figures_that_need_it_null_and_the_report_shows_the_gap() {
    // The worked example without its business tariff.
    let log = worked_example_changes(worked_example_inventory_with(&[(TariffApplicant::Citizen, 25_000)]));
    let p = fold(&log);
    let r = p.reductions(GroupBy::Agency, as_of("2013-12-31"), None).unwrap();
    assert!(r.tariffs.business.is_none());
    let skhdt = group(&r.groups, "SKHDT");
    assert!(skhdt.baseline_annual_cost_vnd.is_none() && skhdt.current_annual_cost_vnd.is_none());
    assert!(skhdt.cost_reduction.is_none());
    assert_eq!(six(&skhdt.current_avg_days), "1.714286", "days need no tariff");
    assert_eq!(dong(&group(&r.groups, "SXD").current_annual_cost_vnd), 510_000_000);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["tariffs"]["business"], serde_json::Value::Null);
    assert_eq!(json["groups"][0]["baseline_annual_cost_vnd"], serde_json::Value::Null);
    let all = p.reductions(GroupBy::All, as_of("2013-12-31"), None).unwrap().groups.remove(0);
    assert!(all.current_annual_cost_vnd.is_none(), "the whole needs the business tariff too");
    let view = p.procedure("2.000002", as_of("2013-12-31"), None).unwrap();
    assert!(view.before.unwrap().cost_per_filing_vnd.is_none());
    assert!(view.cost_reduction.is_none());
    assert_eq!(view.time_reduction, Some(ratio(2, 5)));
}

// ---------------------------------------------------------------------------------------------------------
// Baselines and introduced procedures.

#[test]
fn an_introduced_procedure_adds_burden_to_the_group_of_its_current_attributes() {
    let mut log = worked_example();
    log.record_from("2014-01-01");
    // 2 h × 25 000 + 20 000 = 70 000 đ a filing, 100 a year: 7 000 000 đ.
    log.record("2012-03-01", register(citizen("4.000020", "SNV", "7", "2", 20_000, 100)));
    log.record(
        "2013-02-01",
        amend("4.000020", Changes { agency: Some(events::value::Agency::parse("SNV-2").unwrap()), ..set() }),
    );
    let p = fold(&log);
    let all = p.reductions(GroupBy::All, as_of("2013-12-31"), None).unwrap().groups.remove(0);
    assert_eq!(dong(&all.current_annual_cost_vnd), 1_517_000_000);
    assert_eq!((all.roots, all.introduced), (5, 1));
    assert_eq!(six(&all.current_avg_days), "3.849057", "introduced procedures are not in the time figures");
    let groups = p.reductions(GroupBy::Agency, as_of("2013-12-31"), None).unwrap().groups;
    let snv = group(&groups, "SNV-2");
    assert_eq!((snv.roots, snv.introduced), (0, 1));
    assert_eq!(dong(&snv.baseline_annual_cost_vnd), 0);
    assert_eq!(dong(&snv.current_annual_cost_vnd), 7_000_000);
    assert!(snv.cost_reduction.is_none() && snv.baseline_avg_days.is_none() && snv.time_reduction.is_none());
    assert!(groups.iter().all(|g| g.key != "SNV"), "grouped by its current agency");
    let view = p.procedure("4.000020", as_of("2013-12-31"), None).unwrap();
    assert!(view.baseline.is_none() && view.before.is_none());
    assert_eq!(dong(&view.after.unwrap().annual_cost_vnd), 7_000_000);

    log.record("2013-06-01", abolish("4.000020"));
    let p = fold(&log);
    let all = p.reductions(GroupBy::All, as_of("2013-12-31"), None).unwrap().groups.remove(0);
    assert_eq!((dong(&all.current_annual_cost_vnd), all.introduced), (1_510_000_000, 0));
}

#[test]
fn a_baseline_in_the_middle_of_history_takes_the_procedures_active_then() {
    let p = fold(&worked_example());
    let r = p.reductions(GroupBy::All, as_of("2013-12-31"), Some(date("2012-01-01"))).unwrap();
    assert_eq!(r.baseline_on, date("2012-01-01"));
    let all = &r.groups[0];
    // Roots: 1.000001 (already simplified), 2.000002, 3.000010 (merged that day), 2.000005.
    assert_eq!(all.roots, 4);
    assert_eq!(dong(&all.baseline_annual_cost_vnd), 510_000_000 + 440_000_000 + 760_000_000 + 258_000_000);
    assert_eq!(dong(&all.current_annual_cost_vnd), 1_510_000_000);
    let view = p.procedure("3.000003", as_of("2013-12-31"), Some(date("2012-01-01"))).unwrap();
    assert!(view.baseline.is_none(), "merged away by the baseline: no root");
    let err = p.reductions(GroupBy::All, as_of("2011-06-30"), Some(date("2012-01-01"))).unwrap_err();
    assert_eq!(err, QueryError::AsOfBeforeBaseline { as_of: date("2011-06-30"), baseline_on: date("2012-01-01") });
}

#[test]
fn the_default_baseline_is_the_first_counted_registration() {
    let mut log = Log::new();
    log.record("2011-01-01", tariff(TariffApplicant::Citizen, 10_000));
    let first = log.record("2010-06-01", register(citizen("EARLY", "UBND", "1", "1", 0, 1)));
    log.record("2011-01-01", register(citizen("LATER", "UBND", "1", "1", 0, 1)));
    log.retract(&[first]);
    let p = fold(&log);
    assert_eq!(p.default_baseline(as_of("2012-01-01")), Some(date("2011-01-01")), "a retracted one does not count");
    assert_eq!(p.default_baseline(known("2012-01-01", log.events[1].recorded_at)), Some(date("2010-06-01")));
    assert_eq!(p.default_baseline(as_of("2010-12-31")), None, "nothing counts yet as of then");
    // With nothing registered as of `as_of`, a report is empty rather than an error.
    let r = p.reductions(GroupBy::All, as_of("2009-01-01"), None).unwrap();
    assert_eq!((r.baseline_on, r.groups[0].roots), (date("2009-01-01"), 0));
}

// ---------------------------------------------------------------------------------------------------------
// The procedure view, the history, the catalogue.

#[test]
fn the_view_of_a_merged_root_shows_its_share_of_its_terminal() {
    let p = fold(&worked_example());
    let v = p.procedure("3.000003", as_of("2013-12-31"), None).unwrap();
    assert_eq!(
        (v.status, v.merged_into.clone(), v.terminal.clone()),
        (Status::Merged, Some(code("3.000010")), Some(code("3.000010")))
    );
    assert_eq!(dong(&v.before.as_ref().unwrap().annual_cost_vnd), 640_000_000);
    assert_eq!(dong(&v.before.as_ref().unwrap().cost_per_filing_vnd), 128_000);
    // 5 000 of the 8 000 baseline filings flowing to 3.000010: 5/8 of 760 000 000 đ.
    assert_eq!(dong(&v.after.as_ref().unwrap().annual_cost_vnd), 475_000_000);
    assert_eq!(v.cost_reduction, Some(ratio(165, 640)));
    assert_eq!(v.time_reduction, Some(ratio(0, 1)));

    let abolished = p.procedure("2.000005", as_of("2013-12-31"), None).unwrap();
    assert_eq!((abolished.status, abolished.terminal), (Status::Abolished, None));
    assert_eq!(abolished.cost_reduction, Some(ratio(1, 1)));

    let merged = p.procedure("3.000010", as_of("2013-12-31"), None).unwrap();
    assert_eq!(merged.lineage.merged_from, [code("3.000003"), code("3.000004")]);
    assert!(merged.baseline.is_none());
}

#[test]
fn the_view_serialises_to_the_spec_wire_shape() {
    let p = fold(&worked_example());
    let v = p.procedure("1.000001", as_of("2013-12-31"), None).unwrap();
    let json = serde_json::to_value(&v).unwrap();
    let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "after",
            "baseline",
            "before",
            "code",
            "cost_reduction",
            "current",
            "lineage",
            "merged_into",
            "status",
            "terminal",
            "time_reduction",
            "version"
        ]
    );
    assert_eq!(json["status"], "active");
    assert_eq!(json["version"], 2);
    assert_eq!(json["current"]["processing_days"], 12);
    assert_eq!(json["baseline"]["applicant_hours"], 16);
    assert_eq!(
        json["before"],
        serde_json::json!({"cost_per_filing_vnd": 575000, "annual_cost_vnd": 690000000, "processing_days": 20})
    );
    assert_eq!(
        json["after"],
        serde_json::json!({"cost_per_filing_vnd": 425000, "annual_cost_vnd": 510000000, "processing_days": 12})
    );
    assert_eq!(json["lineage"], serde_json::json!({"merged_from": [], "merged_into": null}));
    assert_eq!(format!("{:.6}", json["cost_reduction"].as_f64().unwrap()), "0.260870");
    assert_eq!(json["time_reduction"].as_f64().unwrap(), 0.4);
    // The current attributes read back as a procedure.
    let back: Procedure = serde_json::from_value(json["current"].clone()).unwrap();
    assert_eq!(back.name.as_str(), "Thủ tục 1.000001");
}

#[test]
fn asking_about_a_procedure_before_it_exists() {
    let p = fold(&worked_example());
    assert!(matches!(p.procedure("9.999999", as_of("2013-12-31"), None), Err(QueryError::UnknownProcedure { .. })));
    assert!(matches!(p.procedure("3.000010", as_of("2011-12-31"), None), Err(QueryError::NotRegistered { .. })));
    assert!(p.history("9.999999", as_of("2013-12-31")).is_none());
}

#[test]
fn the_catalogue_lists_what_an_applicant_needs_for_active_procedures_only() {
    let p = fold(&worked_example());
    let entry = p.catalogue_entry("3.000010", as_of("2013-12-31")).unwrap();
    assert_eq!((entry.fee_vnd, entry.steps.get(), entry.processing_days), (vnd(10_000), 2, days("3")));
    assert!(p.catalogue_entry("3.000003", as_of("2013-12-31")).is_none(), "merged");
    assert!(p.catalogue_entry("2.000005", as_of("2013-12-31")).is_none(), "abolished");
    assert!(p.catalogue_entry("3.000010", as_of("2011-12-31")).is_none(), "not yet");
    assert!(p.catalogue_entry("3.000003", as_of("2011-12-31")).is_some());
}

#[test]
fn the_list_is_ordered_by_code_and_pages_after_a_code() {
    let p = fold(&worked_example());
    let codes =
        |after| p.procedures(after, as_of("2013-12-31")).map(|l| l.procedure.code.to_string()).collect::<Vec<_>>();
    assert_eq!(codes(None), ["1.000001", "2.000002", "2.000005", "3.000003", "3.000004", "3.000010"]);
    assert_eq!(codes(Some("2.000005")), ["3.000003", "3.000004", "3.000010"]);
    let early: Vec<_> =
        p.procedures(None, as_of("2011-12-31")).map(|l| (l.procedure.code.to_string(), l.status)).collect();
    assert_eq!(early.len(), 5, "3.000010 does not exist yet");
}

// ---------------------------------------------------------------------------------------------------------
// Programmes.

fn project_30() -> Log {
    let mut log = worked_example();
    log.record_from("2014-01-02");
    log.record("2014-01-02", programme("de-an-30", "2011-01-01", "2013-12-31", "0.3", "0.3333", "all"));
    log.record("2014-01-02", programme("skhdt", "2011-01-01", "2013-12-31", "0.3", "0.3333", "agency:SKHDT"));
    log
}

#[test]
fn a_programme_is_judged_at_its_deadline_against_its_targets() {
    let p = fold(&project_30());
    let de_an = p.programme("de-an-30", as_of("2020-01-01")).unwrap();
    assert_eq!(de_an.evaluated_on, date("2013-12-31"), "min(as_of, deadline)");
    let g = de_an.figures.as_ref().unwrap();
    assert_eq!((dong(&g.baseline_annual_cost_vnd), dong(&g.current_annual_cost_vnd)), (2_508_000_000, 1_510_000_000));
    // The cost target is met; the time target, one third, is missed narrowly (SPEC).
    assert_eq!((de_an.cost_target_met, de_an.time_target_met), (Some(true), Some(false)));
    assert_eq!(de_an.on_track, Some(false));
    assert_eq!(dong(&de_an.missing_vnd), 0);
    // 40 800/10 600 − 61 000/10 600 × 0.6667.
    let expected = ratio(40_800, 10_600).sub(&ratio(61_000, 10_600).mul(&ratio(6_667, 10_000)));
    assert_eq!(de_an.missing_days, Some(expected));

    let skhdt = p.programme("skhdt", as_of("2020-01-01")).unwrap();
    let g = skhdt.figures.as_ref().unwrap();
    assert_eq!((g.key.as_str(), g.roots), ("agency:SKHDT", 2));
    assert_eq!((skhdt.cost_target_met, skhdt.time_target_met, skhdt.on_track), (Some(true), Some(true), Some(true)));
    assert_eq!(
        p.programmes(as_of("2020-01-01")).iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["de-an-30", "skhdt"]
    );
}

#[test]
fn a_programme_on_track_keeps_pace_with_the_time_elapsed() {
    let p = fold(&project_30());
    // 2011-12-31: 364 of 1 095 days elapsed; pro rata targets ≈ 0.0997 (cost) and 0.1108 (time).
    let early = p.programme("de-an-30", as_of("2011-12-31")).unwrap();
    let g = early.figures.as_ref().unwrap();
    assert_eq!(six(&g.cost_reduction), "0.071770");
    assert_eq!(early.on_track, Some(false), "7.2 % is behind the pro rata 10 %");
    assert_eq!(early.cost_target_met, Some(false));
    // 2013-06-30: the cost is far ahead (39.8 % ≥ 30 % × 911/1 095), the time too (33.1 % ≥ 27.7 %).
    let mid = p.programme("de-an-30", as_of("2013-06-30")).unwrap();
    assert_eq!(mid.on_track, Some(true));
    // missing_vnd before the deadline: 1 510 000 000 − 2 508 000 000 × 0.7 < 0.
    assert_eq!(dong(&mid.missing_vnd), 0);
    let start = p.programme("de-an-30", as_of("2011-01-01")).unwrap();
    assert_eq!(start.on_track, Some(true), "nothing is due on the first day");
    assert_eq!(dong(&start.missing_vnd), 2_508_000_000 - 1_755_600_000);
}

#[test]
fn programmes_count_by_known_at_and_a_redefinition_replaces_the_definition() {
    let mut log = project_30();
    let defined = log.last_recorded();
    log.record_from("2014-02-01");
    log.record("2014-02-01", programme("skhdt", "2012-01-01", "2015-12-31", "0.7", "0.5", "agency:SKHDT"));
    let redefinition = log.events.last().unwrap().clone();
    let p = fold(&log);
    assert!(p.programmes(known("2020-01-01", log.events[0].recorded_at)).is_empty(), "not yet defined");
    let then = p.programme("skhdt", known("2020-01-01", defined)).unwrap();
    assert_eq!(then.deadline, date("2013-12-31"));
    let now = p.programme("skhdt", as_of("2020-01-01")).unwrap();
    assert_eq!((now.deadline, now.baseline_on), (date("2015-12-31"), date("2012-01-01")));
    // 1 − 240/698 ≈ 0.656 falls short of the redefined 0.7.
    assert_eq!(now.cost_target_met, Some(false));
    // Retract the redefinition: the first definition counts again.
    log.retract(&[redefinition]);
    let p = fold(&log);
    assert_eq!(p.programme("skhdt", as_of("2020-01-01")).unwrap().deadline, date("2013-12-31"));
    assert!(matches!(p.programme("nope", as_of("2020-01-01")), Err(QueryError::UnknownProgramme { .. })));
    // Before its baseline a programme has no figures yet.
    let not_started = p.programme("skhdt", as_of("2010-01-01")).unwrap();
    assert!(not_started.figures.is_none() && not_started.on_track.is_none());
}

#[test]
fn a_programme_serialises_its_definition_then_its_progress() {
    let p = fold(&project_30());
    let json = serde_json::to_value(p.programme("de-an-30", as_of("2020-01-01")).unwrap()).unwrap();
    assert_eq!(json["cost_reduction"].as_f64(), Some(0.3), "the definition's target");
    assert_eq!(json["scope"], "all");
    assert_eq!(json["figures"]["current_annual_cost_vnd"], 1_510_000_000u64);
    assert_eq!(format!("{:.6}", json["figures"]["cost_reduction"].as_f64().unwrap()), "0.397927");
    assert_eq!(json["cost_target_met"], true);
    assert_eq!(json["time_target_met"], false);
    assert_eq!(json["missing_vnd"], 0);
    assert!(json["missing_days"].as_f64().unwrap() > 0.0);
}
