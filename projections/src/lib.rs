//! Read models folded from p30's events: per-procedure before/after cost and time, reductions per agency,
//! sector and level, programmes' progress, tariffs and the public catalogue — at any `as_of` (valid time)
//! and `known_at` (transaction time).
//!
//! Pure: no I/O, no clock, no async. Time comes in as values ([`Moment`]); the services own the log, the
//! sockets and "now". A bulk fold may settle on scoped threads (`std::thread::scope`): the caller says how many.
//!
//! # Shape
//! - [`Projection`] ingests recorded events in seq order, live ([`Projection::apply`]) or in bulk
//!   ([`Projection::fold`], [`Projection::extend`]); both reach the same state (a property test says so).
//!   A rebuild's bulk fold ([`Projection::extend_on`]) reads chunks in place and also takes changes
//!   already made into the entries they add ([`Prepared`], from a glance at their stored bytes on other
//!   threads), to the same state. Told how long each stream is ([`Projection::expect_streams`]), it gives
//!   each timeline its room once.
//! - Each procedure is a timeline (`timeline.rs`): its events sorted by `(effective_on, seq)`, each kept as
//!   a 64-byte entry holding the event's delta and the procedure's compact snapshot after it. A question
//!   at any moment is a date search per procedure, never a replay of the log.
//! - Live readers ask as of today, again after every event: [`LiveFigures`] keeps those reductions and
//!   programmes as sums that each event changes in proportion to what it touches ([`Tally`]), equal to
//!   the answers asked afresh (a property test checks after every event).
//! - Queries return serde structs whose JSON is the SPEC's wire shape, with exact figures inside
//!   ([`Money`], [`Ratio`]): money is rounded half-up to the đồng, and ratios become floats, only when
//!   serialised. `serde_json::to_string` writes money past 2⁶⁴ exactly; `serde_json::to_value` cannot
//!   (below 2⁶⁴ đồng it can).
//!
//! # Costs (P procedures, E events; measured at P = 200 000, E = 10 000 000, on 2 cores)
//! | call | cost |
//! | --- | --- |
//! | [`Projection::apply`] | its procedure's entries dated after the event (none in date order); a merge's streams |
//! | [`Projection::fold`], [`Projection::extend_on`] | one lookup per event (by a [`StreamKey`] computed ahead) and an append to its timeline, then one sort per timeline, on as many threads as given; ~1.3 GiB resident at full scale |
//! | [`Projection::reductions`] | one pass over P with two date searches each, split over [`Projection::set_query_threads`] threads (about 85 ms at full scale on two cores, as of any date) |
//! | [`Projection::programmes`] | one reductions pass per programme |
//! | [`Projection::reductions_by_every_grouping`] | one survey of P for all four groupings, then a pass over the roots for each |
//! | [`Projection::tally`], [`LiveFigures::new`] | one reductions pass (per programme too) |
//! | [`Tally::update`], [`LiveFigures::update`] | the procedures the event touched and the merge trees of their terminals, before and after; one pass when a tariff in force changes or the default baseline moves |
//! | [`LiveFigures::reductions`], [`LiveFigures::programmes`] | the groups; the programmes |
//! | [`Projection::procedure`] | the entries of the procedure and of those merged into its terminal |
//! | [`Projection::history`], [`Projection::catalogue_entry`] | the procedure's own entries |
//! | [`Projection::tariffs_in_force`] | the tariff events |
//!
//! An older `known_at` costs more only for the procedures with events recorded or retracted after it:
//! those replay the entries after their last snapshot still valid then.
//!
//! # Readings of the SPEC
//! Where the SPEC leaves room, this crate reads it so:
//! - *Counting.* The default `baseline_on` is the earliest `effective_on` of a `ProcedureRegistered` that
//!   counts at the question's `(as_of, known_at)`; when none does, reports measure from `as_of` itself and
//!   have no roots (rather than refusing). An `EstimateRevised`'s `baseline` values count like any event
//!   (`effective_on <= as_of`) and restate the baseline only when `baseline_on < effective_on`; several
//!   apply in `(effective_on, seq)` order, and restated volumes also move the shares of a merge.
//! - *Registration first.* Nothing applies to a procedure whose registration does not count (the decider
//!   guarantees it; a corrupt or partial log must not invent procedures).
//! - *Merges.* A merge's copies are told apart from other events by being consecutive in seq with the
//!   same payload, `recorded_at` and `effective_on`. Retracting any copy retracts the merge in every
//!   stream, from the earliest such retraction. A retraction names an event of its own stream; one that
//!   names another stream's event is ignored. A merge chain that reaches a procedure not registered (only
//!   possible half-way through a merge's copies) has no terminal.
//! - *Introduced.* `introduced` counts the procedures registered after `baseline_on` that no root flows
//!   into and that are active at `as_of` (the ones whose cost is added); one abolished or merged away
//!   counts nowhere.
//! - *Gaps.* A cost needs the tariff of its procedure's applicant type (`both` needs both), whatever its
//!   hours; a group's cost is null if any cost in it needs a tariff not in force at `as_of`. Days never
//!   need a tariff. A reduction is null when either cost is, or the baseline is 0; it may be negative.
//! - *Groups* are ordered by key as strings (byte order, so `central`, `commune`, `district`,
//!   `province`); a group is listed when it has a root or an active introduced procedure; `all` always is.
//! - *Procedure view.* `version` counts the stream's events recorded by `known_at`, retractions
//!   included (with `known_at` now, it is what `If-Match` checks). `before` is a root's baseline burden.
//!   `after` is a root's share of its terminal (cost per filing and days are the terminal's; zeros if
//!   abolished), any other active procedure's own burden, else null. A code in the log but not registered
//!   at the moment is `NotRegistered`, apart from a code never seen (`UnknownProcedure`); both are 404s.
//!   The history lists the counted change events, not the retraction events.
//! - *Programmes.* The answer is the definition as `PUT` (so its `cost_reduction` and `time_reduction`
//!   are the targets), then the achieved figures under `figures` — a reductions group keyed by the scope
//!   — then `cost_target_met`, `time_target_met`, `on_track`, `missing_vnd`, `missing_days`. Tariffs are
//!   those in force at `evaluated_on = min(as_of, deadline)`. Time elapsed is counted in days. Before
//!   `baseline_on` a programme has no figures and every verdict is null; a verdict whose reduction is null
//!   is null, and `on_track` is false if either reduction lags, null if neither lags but one is unknown.

mod code_index;
mod cost;
mod exact;
mod programmes;
mod projection;
mod reductions;
#[cfg(feature = "openapi")]
mod schema;
mod tally;
mod timeline;
mod view;

use events::value::{Date, ProcedureCode, Timestamp};

pub use cost::{TariffInForce, Tariffs};
pub use exact::{Money, Ratio};
pub use programmes::ProgrammeProgress;
pub use projection::{Applied, ApplyError, Moment, Prepared, Projection, StreamKey, ToFold};
pub use reductions::{Group, GroupBy, Reductions};
pub use tally::{Changed, LiveFigures, Tally};
pub use view::{Burden, CatalogueEntry, HistoryEntry, Lineage, ListedProcedure, ProcedureView, Status};

/// Why a question cannot be answered.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// Reductions are measured forward from the baseline (HTTP 400).
    #[error("as_of {as_of} is before baseline_on {baseline_on}; reductions are measured from the baseline on")]
    AsOfBeforeBaseline { as_of: Date, baseline_on: Date },
    /// The log has never named this code (HTTP 404).
    #[error("there is no procedure {code}")]
    UnknownProcedure { code: String },
    /// The code is in the log, but no registration of it counts at this moment (HTTP 404).
    #[error("procedure {code} is not registered as of {as_of} (as known at {known_at})")]
    NotRegistered { code: ProcedureCode, as_of: Date, known_at: Timestamp },
    /// No definition of this programme counts at `known_at` (HTTP 404).
    #[error("there is no programme {id}")]
    UnknownProgramme { id: String },
}
