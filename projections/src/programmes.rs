//! Programmes (Đề án 30, a province's five-year plan, Resolution 68): each one's figures over its scope,
//! from its own baseline, at `min(as_of, deadline)`, against its targets.

use std::collections::BTreeMap;

use events::event::{Programme, Scope};
use events::value::{Date, Fraction, Name, ProcedureCode, Timestamp};
use serde::Serialize;

use crate::QueryError;
use crate::cost::Tariffs;
use crate::exact::{Money, Ratio};
use crate::projection::{Moment, Projection};
use crate::reductions::{Filter, Group, GroupBy};

/// `GET /v1/programmes/{id}`: the definition as it was `PUT`, then its progress.
///
/// The definition's `cost_reduction` and `time_reduction` are the targets; the achieved reductions are in
/// `figures`, which has the shape of a reductions group (keyed by the scope).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ProgrammeProgress {
    pub id: ProcedureCode,
    pub name: Name,
    pub baseline_on: Date,
    pub deadline: Date,
    pub cost_reduction: Fraction,
    pub time_reduction: Fraction,
    pub scope: Scope,
    pub as_of: Date,
    pub known_at: Timestamp,
    /// `min(as_of, deadline)`.
    pub evaluated_on: Date,
    pub tariffs: Tariffs,
    /// `null` while `evaluated_on` is before the programme's baseline.
    pub figures: Option<Group>,
    /// The cost reduction is at least the target (`null` when the reduction is).
    pub cost_target_met: Option<bool>,
    pub time_target_met: Option<bool>,
    /// Each reduction is at least its target pro rata to the time elapsed from `baseline_on` to
    /// `deadline` (`null` when neither fails and one is unknown).
    pub on_track: Option<bool>,
    /// `max(0, current − baseline × (1 − cost target))`.
    pub missing_vnd: Option<Money>,
    /// `max(0, current avg days − baseline avg days × (1 − time target))`.
    pub missing_days: Option<Ratio>,
}

impl Projection {
    /// `GET /v1/programmes`: every programme defined at `known_at` (the latest counted definition of each
    /// id), ordered by id. Cost: one reductions evaluation per programme.
    pub fn programmes(&self, at: Moment) -> Vec<ProgrammeProgress> {
        self.programme_definitions(at.known_at).into_values().map(|p| self.progress(p, at)).collect()
    }

    /// `GET /v1/programmes/{id}`.
    pub fn programme(&self, id: &str, at: Moment) -> Result<ProgrammeProgress, QueryError> {
        let definitions = self.programme_definitions(at.known_at);
        let p = definitions.get(id).ok_or_else(|| QueryError::UnknownProgramme { id: id.to_owned() })?;
        Ok(self.progress(p, at))
    }

    /// Programme definitions count by `known_at` alone; a redefinition replaces the definition before it.
    pub(crate) fn programme_definitions(&self, known_at: Timestamp) -> BTreeMap<&str, &Programme> {
        let mut out = BTreeMap::new();
        for r in self.programmes.iter().filter(|r| r.counts(known_at)) {
            out.insert(r.programme.id.as_str(), &r.programme);
        }
        out
    }

    fn progress(&self, p: &Programme, at: Moment) -> ProgrammeProgress {
        self.progress_with(p, at, |moment, tariffs| {
            let filter = Filter::of_scope(self, &p.scope);
            let mut groups = self.evaluate(moment, p.baseline_on, GroupBy::All, filter, tariffs);
            let mut g = groups.pop().expect("an evaluation grouped by all has one group");
            g.key = p.scope.to_string();
            Some(g)
        })
    }

    /// A programme's progress at `at`, its figures (keyed by the scope) from `figures`, which is asked
    /// them at `min(as_of, deadline)` with the tariffs in force then (unless that is before the baseline).
    pub(crate) fn progress_with(
        &self,
        p: &Programme,
        at: Moment,
        figures: impl FnOnce(Moment, &Tariffs) -> Option<Group>,
    ) -> ProgrammeProgress {
        let evaluated_on = at.as_of.min(p.deadline);
        let moment = Moment::new(evaluated_on, at.known_at);
        let tariffs = self.tariffs_in_force(moment);
        let mut out = ProgrammeProgress {
            id: p.id.clone(),
            name: p.name.clone(),
            baseline_on: p.baseline_on,
            deadline: p.deadline,
            cost_reduction: p.cost_reduction,
            time_reduction: p.time_reduction,
            scope: p.scope.clone(),
            as_of: at.as_of,
            known_at: at.known_at,
            evaluated_on,
            tariffs,
            figures: None,
            cost_target_met: None,
            time_target_met: None,
            on_track: None,
            missing_vnd: None,
            missing_days: None,
        };
        if evaluated_on < p.baseline_on {
            return out;
        }
        let Some(g) = figures(moment, &tariffs) else { return out };
        assessment(&mut out, &g, p);
        out.figures = Some(g);
        out
    }
}

/// Fills in the targets' verdicts from a programme's figures.
fn assessment(out: &mut ProgrammeProgress, g: &Group, p: &Programme) {
    let fraction = |f: Fraction| {
        let (n, d) = f.ratio();
        Ratio::new(u128::from(n), u128::from(d))
    };
    let (cost_target, time_target) = (fraction(p.cost_reduction), fraction(p.time_reduction));
    let elapsed = days_between(p.baseline_on, out.evaluated_on);
    let span = days_between(p.baseline_on, p.deadline).max(1);
    let pro_rata = Ratio::new(u128::from(elapsed), u128::from(span));

    out.cost_target_met = g.cost_reduction.as_ref().map(|r| *r >= cost_target);
    out.time_target_met = g.time_reduction.as_ref().map(|r| *r >= time_target);
    let cost_on_track = g.cost_reduction.as_ref().map(|r| *r >= cost_target.mul(&pro_rata));
    let time_on_track = g.time_reduction.as_ref().map(|r| *r >= time_target.mul(&pro_rata));
    out.on_track = match (cost_on_track, time_on_track) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    };

    let (cn, cd) = p.cost_reduction.ratio();
    out.missing_vnd = match (&g.baseline_annual_cost_vnd, &g.current_annual_cost_vnd) {
        (Some(b), Some(c)) => Some(c.saturating_sub(&b.scale(cd - cn, cd))),
        _ => None,
    };
    out.missing_days = match (&g.baseline_avg_days, &g.current_avg_days) {
        (Some(b), Some(c)) => {
            let allowed = b.mul(&time_target.one_minus());
            let gap = c.sub(&allowed);
            Some(if gap.is_negative() { Ratio::zero() } else { gap })
        }
        _ => None,
    };
}

/// Whole days from `a` to `b` (0 if `b` is not after `a`).
fn days_between(a: Date, b: Date) -> u64 {
    u64::try_from(b.days_since_epoch() - a.days_since_epoch()).unwrap_or(0)
}
