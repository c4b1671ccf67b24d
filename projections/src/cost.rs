//! The Standard Cost Model per procedure: cost per filing and annual cost at constant prices.
//!
//! Costs are whole numbers of 1/200 đồng: hours are hundredths, and the `both` tariff is the mean of two
//! tariffs, so `hours × tariff` is exact in those units and nothing is ever rounded before the wire.

use events::value::{Applicant, Date};
use serde::Serialize;

use crate::exact::{Money, money_from_units};
use crate::timeline::Snapshot;

/// A tariff in force: the value of an hour of an applicant's time, and the date it took effect.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub struct TariffInForce {
    pub vnd_per_hour: u64,
    pub effective_on: Date,
}

/// The tariffs a report used (`null` on the wire where none is in force: the gap a report shows).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize)]
pub struct Tariffs {
    pub citizen: Option<TariffInForce>,
    pub business: Option<TariffInForce>,
}

impl Tariffs {
    /// Value of a hundredth of an hour in 1/200 đồng, or `None` if a tariff it needs is missing.
    fn hundredth_hour_units(&self, applicant: Applicant) -> Option<u128> {
        let citizen = self.citizen.map(|t| u128::from(t.vnd_per_hour));
        let business = self.business.map(|t| u128::from(t.vnd_per_hour));
        match applicant {
            // h/100 hours × t đồng = h × t × 2 units.
            Applicant::Citizen => citizen.map(|t| 2 * t),
            Applicant::Business => business.map(|t| 2 * t),
            // h/100 × (c + b)/2 đồng = h × (c + b) units.
            Applicant::Both => Some(citizen? + business?),
        }
    }

    /// `applicant_hours × tariff(applicant) + fee_vnd + out_of_pocket_vnd`, in 1/200 đồng.
    pub(crate) fn per_filing_units(&self, s: &Snapshot) -> Option<u128> {
        let hours = u128::from(s.applicant_hours()) * self.hundredth_hour_units(s.applicant())?;
        Some(hours + (u128::from(s.fee_vnd()) + u128::from(s.out_of_pocket_vnd())) * crate::exact::UNITS_PER_DONG)
    }

    /// Cost per filing × `annual_volume`, in 1/200 đồng (at most about 2·10²¹: far inside `u128`).
    pub(crate) fn annual_units(&self, s: &Snapshot) -> Option<u128> {
        Some(self.per_filing_units(s)? * u128::from(s.annual_volume()))
    }

    pub(crate) fn per_filing(&self, s: &Snapshot) -> Option<Money> {
        self.per_filing_units(s).map(money_from_units)
    }

    pub(crate) fn annual(&self, s: &Snapshot) -> Option<Money> {
        self.annual_units(s).map(money_from_units)
    }
}
