//! One procedure as of a moment: `GET /v1/procedures/{code}` (before/after, lineage), its counted history,
//! the public catalogue entry, and the ordered list the HTTP layer filters and pages.

use events::value::{
    Agency, Applicant, Date, Level, LongText, Name, Online, ProcedureCode, Sector, Steps, Timestamp, Vnd, WorkingDays,
};
use events::{Document, Procedure};
use serde::Serialize;
use uuid::Uuid;

use crate::QueryError;
use crate::exact::{Money, Ratio};
use crate::projection::{Moment, Projection};
use crate::timeline::{Snapshot, Standing};

/// Where a registered procedure stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Abolished,
    Merged,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Abolished => "abolished",
            Self::Merged => "merged",
        }
    }

    fn of(s: &Snapshot) -> Self {
        match s.standing() {
            Standing::Abolished => Self::Abolished,
            Standing::Merged => Self::Merged,
            Standing::Active | Standing::Unregistered => Self::Active,
        }
    }
}

/// A procedure's burden per filing and per year, and its processing time.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Burden {
    /// `null` where a tariff it needs is not in force.
    pub cost_per_filing_vnd: Option<Money>,
    pub annual_cost_vnd: Option<Money>,
    pub processing_days: WorkingDays,
}

/// Merges in and out of a procedure.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Lineage {
    /// The procedures merged into this one (by code), in the order the merges name them.
    pub merged_from: Vec<ProcedureCode>,
    pub merged_into: Option<ProcedureCode>,
}

/// `GET /v1/procedures/{code}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ProcedureView {
    pub code: ProcedureCode,
    /// The stream's version as known at `known_at` (the `ETag`; with `known_at` now, what `If-Match` checks).
    pub version: u64,
    pub status: Status,
    pub merged_into: Option<ProcedureCode>,
    /// The procedure it flows to: itself if active, the end of its merge chain, `null` if abolished.
    pub terminal: Option<ProcedureCode>,
    pub current: Procedure,
    /// Its attributes at `baseline_on` (restated by later estimate revisions), `null` unless it is a root.
    pub baseline: Option<Procedure>,
    /// Its baseline burden (roots only).
    pub before: Option<Burden>,
    /// For a root: its share of its terminal's burden (zero if abolished). For any other procedure that is
    /// active: its own burden. Otherwise `null`.
    pub after: Option<Burden>,
    pub cost_reduction: Option<Ratio>,
    pub time_reduction: Option<Ratio>,
    pub lineage: Lineage,
    /// The baseline the figures were measured from (not on the wire: the caller knows it or asked for it).
    #[serde(skip)]
    pub baseline_on: Date,
}

/// One counted event of a procedure's history; the log holds the whole event at `seq`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct HistoryEntry {
    pub seq: u64,
    pub event_id: Uuid,
    #[serde(rename = "type")]
    pub event_type: &'static str,
    pub effective_on: Date,
    pub recorded_at: Timestamp,
}

/// What a citizen or business needs to know today about an active procedure (the public catalogue).
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct CatalogueEntry {
    pub code: ProcedureCode,
    pub name: Name,
    pub agency: Agency,
    pub sector: Sector,
    pub level: Level,
    pub applicant: Applicant,
    pub processing_days: WorkingDays,
    pub steps: Steps,
    pub documents: Vec<Document>,
    pub fee_vnd: Vnd,
    pub online: Online,
    pub legal_basis: LongText,
}

/// A procedure in the list, as of a moment: what the HTTP layer filters (agency, sector, level, status,
/// `q`) and pages by code.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ListedProcedure {
    pub status: Status,
    pub merged_into: Option<ProcedureCode>,
    pub procedure: Procedure,
}

impl Projection {
    /// `GET /v1/procedures/{code}` at `at`, measured from `baseline_on` (default: the earliest counted
    /// registration).
    ///
    /// Cost: a date search per procedure on its merge lineage (a root's share needs every root that flows to
    /// its terminal), plus a pass over this procedure's own entries for its text attributes and version.
    pub fn procedure(&self, code: &str, at: Moment, baseline_on: Option<Date>) -> Result<ProcedureView, QueryError> {
        let p = self.index_of(code).ok_or_else(|| QueryError::UnknownProcedure { code: code.to_owned() })?;
        let t = self.timeline(p);
        let (now, current) = self.procedure_on(p, at.as_of, at.known_at).ok_or_else(|| QueryError::NotRegistered {
            code: t.code.clone(),
            as_of: at.as_of,
            known_at: at.known_at,
        })?;
        let baseline_on = self.baseline_for(at, baseline_on)?;
        let tariffs = self.tariffs_in_force(at);
        let merged_into = (now.standing() == Standing::Merged).then(|| self.timeline(now.merged_into()).code.clone());
        let terminal = self.terminal_of(p, at);

        let mut then = t.state(baseline_on, at.known_at);
        let is_root = then.is_active();
        if is_root {
            t.restate(&mut then, baseline_on, at.as_of, at.known_at);
        }
        let own = |s: &Snapshot| Burden {
            cost_per_filing_vnd: tariffs.per_filing(s),
            annual_cost_vnd: tariffs.annual(s),
            processing_days: days(s),
        };
        let before = is_root.then(|| own(&then));
        let after = match (is_root, terminal) {
            (true, None) => Some(Burden {
                cost_per_filing_vnd: Some(Money::zero()),
                annual_cost_vnd: Some(Money::zero()),
                processing_days: WorkingDays::default(),
            }),
            (true, Some(term)) => {
                let term_now = self.timeline(term).state(at.as_of, at.known_at);
                let (volume, roots) = self.flowing_into(term, at, baseline_on);
                let share = match volume {
                    0 => Ratio::new(1, u128::from(roots.max(1))),
                    total => Ratio::new(u128::from(then.annual_volume()), u128::from(total)),
                };
                Some(Burden {
                    cost_per_filing_vnd: tariffs.per_filing(&term_now),
                    annual_cost_vnd: tariffs.annual(&term_now).map(|m| {
                        Money::from_ratio(m.as_ratio().mul(&share)).expect("a share of a cost is not negative")
                    }),
                    processing_days: days(&term_now),
                })
            }
            (false, _) => now.is_active().then(|| own(&now)),
        };
        let (cost_reduction, time_reduction) = match (&before, &after) {
            (Some(b), Some(a)) => {
                let cost = match (&b.annual_cost_vnd, &a.annual_cost_vnd) {
                    (Some(b), Some(a)) => a.as_ratio().div(b.as_ratio()).map(|r| r.one_minus()),
                    _ => None,
                };
                let (bd, ad) = (b.processing_days.hundredths(), a.processing_days.hundredths());
                let time = (bd > 0).then(|| Ratio::new(u128::from(ad), u128::from(bd)).one_minus());
                (cost, time)
            }
            _ => (None, None),
        };
        let baseline = is_root.then(|| self.procedure_of(p, &then, baseline_on, at.known_at));
        let merged_from = self.merged_from(p, at).into_iter().map(|q| self.timeline(q).code.clone()).collect();
        Ok(ProcedureView {
            code: t.code.clone(),
            version: t.version(at.known_at),
            status: Status::of(&now),
            merged_into: merged_into.clone(),
            terminal: terminal.map(|q| self.timeline(q).code.clone()),
            current,
            baseline,
            before,
            after,
            cost_reduction,
            time_reduction,
            lineage: Lineage { merged_from, merged_into },
            baseline_on,
        })
    }

    /// The roots that flow into `terminal` at `at` from `baseline_on`: Σ of their (restated) baseline
    /// volumes and their number. Walks the merges into it backwards.
    fn flowing_into(&self, terminal: u32, at: Moment, baseline_on: Date) -> (u64, u64) {
        let (mut volume, mut roots) = (0u64, 0u64);
        let mut stack = vec![terminal];
        let mut seen = vec![terminal];
        while let Some(q) = stack.pop() {
            let t = self.timeline(q);
            let mut then = t.state(baseline_on, at.known_at);
            if then.is_active() {
                t.restate(&mut then, baseline_on, at.as_of, at.known_at);
                volume += u64::from(then.annual_volume());
                roots += 1;
            }
            for s in self.merged_from(q, at) {
                if !seen.contains(&s) {
                    seen.push(s);
                    stack.push(s);
                }
            }
        }
        (volume, roots)
    }

    /// The events of a procedure that count at `at`, in the order they apply: `(effective_on, seq)`.
    /// Retractions are not listed: they count by removing what they retract. `None` for an unknown code.
    /// Cost: the procedure's entries.
    pub fn history(&self, code: &str, at: Moment) -> Option<Vec<HistoryEntry>> {
        let t = self.timeline(self.index_of(code)?);
        Some(
            t.counted(at.as_of, at.known_at)
                .map(|i| HistoryEntry {
                    seq: t.entries[i].seq,
                    event_id: self.ids.get(t.entries[i].seq, t.entries[i].recorded_at),
                    event_type: t.entries[i].kind.type_name(),
                    effective_on: t.dates[i],
                    recorded_at: t.entries[i].recorded_at,
                })
                .collect(),
        )
    }

    /// The public catalogue entry of a procedure active at `at`; `None` if it is unknown, not registered,
    /// merged or abolished then. Cost: a date search and a look at the procedure's text changes.
    pub fn catalogue_entry(&self, code: &str, at: Moment) -> Option<CatalogueEntry> {
        let (s, p) = self.procedure_on(self.index_of(code)?, at.as_of, at.known_at)?;
        s.is_active().then_some(CatalogueEntry {
            code: p.code,
            name: p.name,
            agency: p.agency,
            sector: p.sector,
            level: p.level,
            applicant: p.applicant,
            processing_days: p.processing_days,
            steps: p.steps,
            documents: p.documents,
            fee_vnd: p.fee_vnd,
            online: p.online,
            legal_basis: p.legal_basis,
        })
    }

    /// The procedures registered at `at`, ordered by code, starting after `after`. Lazy: the caller filters
    /// and takes a page. Cost per item: a date search and a look at its text changes.
    pub fn procedures<'a>(&'a self, after: Option<&'a str>, at: Moment) -> impl Iterator<Item = ListedProcedure> + 'a {
        let codes = &self.in_code_order;
        let start = after.map_or(0, |a| codes.partition_point(|&p| self.timeline(p).code.as_str() <= a));
        codes[start..].iter().filter_map(move |&p| {
            let (s, procedure) = self.procedure_on(p, at.as_of, at.known_at)?;
            let merged_into = (s.standing() == Standing::Merged).then(|| self.timeline(s.merged_into()).code.clone());
            Some(ListedProcedure { status: Status::of(&s), merged_into, procedure })
        })
    }
}

fn days(s: &Snapshot) -> WorkingDays {
    WorkingDays::from_hundredths(u64::from(s.processing_days())).unwrap_or_default()
}
