//! A procedure (thủ tục hành chính) and the partial updates that change it.

use serde::{Deserialize, Serialize};

use crate::value::{
    Agency, AnnualVolume, Applicant, Copies, Hours, Level, LongText, Name, Online, ProcedureCode, Sector, Steps, Vnd,
    WorkingDays,
};

/// One item of the dossier (thành phần hồ sơ): a document and how many copies are asked for.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub name: Name,
    pub copies: Copies,
}

/// Every attribute of a procedure; all are required on the wire.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Procedure {
    /// Mã TTHC: the procedure's identity; never reused.
    pub code: ProcedureCode,
    /// Tên thủ tục.
    pub name: Name,
    /// Lĩnh vực, e.g. `Hộ tịch`.
    pub sector: Sector,
    /// Cơ quan thực hiện: the agency that owns it, whose recorders may write for it.
    pub agency: Agency,
    /// Cấp thực hiện.
    pub level: Level,
    /// Đối tượng thực hiện: who files it.
    pub applicant: Applicant,
    /// Thời hạn giải quyết, in working days.
    pub processing_days: WorkingDays,
    /// Trình tự thực hiện: the number of steps.
    pub steps: Steps,
    /// Thành phần hồ sơ (may be empty).
    pub documents: Vec<Document>,
    /// Phí and lệ phí per filing, in đồng.
    pub fee_vnd: Vnd,
    /// Other cash cost per filing (copies, notarisation, travel), in đồng.
    pub out_of_pocket_vnd: Vnd,
    /// Hours the applicant spends per filing: preparing, travelling, waiting.
    pub applicant_hours: Hours,
    /// Filings per year.
    pub annual_volume: AnnualVolume,
    /// Online service: none, partial (một phần) or full (toàn trình).
    pub online: Online,
    /// Căn cứ pháp lý.
    pub legal_basis: LongText,
}

/// Calls the macro `$m` with every attribute a `set` may hold, in wire order.
macro_rules! every_attribute {
    ($m:ident) => {
        $m! {
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
            legal_basis
        }
    };
}

/// The attributes a `set` changes: any subset of a procedure's attributes but `code`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(min_properties = 1))]
#[derive(Clone, PartialEq, Eq, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Changes {
    #[serde(default)]
    pub name: Option<Name>,
    #[serde(default)]
    pub sector: Option<Sector>,
    #[serde(default)]
    pub agency: Option<Agency>,
    #[serde(default)]
    pub level: Option<Level>,
    #[serde(default)]
    pub applicant: Option<Applicant>,
    #[serde(default)]
    pub processing_days: Option<WorkingDays>,
    #[serde(default)]
    pub steps: Option<Steps>,
    #[serde(default)]
    pub documents: Option<Vec<Document>>,
    #[serde(default)]
    pub fee_vnd: Option<Vnd>,
    #[serde(default)]
    pub out_of_pocket_vnd: Option<Vnd>,
    #[serde(default)]
    pub applicant_hours: Option<Hours>,
    #[serde(default)]
    pub annual_volume: Option<AnnualVolume>,
    #[serde(default)]
    pub online: Option<Online>,
    #[serde(default)]
    pub legal_basis: Option<LongText>,
}

macro_rules! serialize_changes {
    ($($attribute:ident),+) => {
        serialize_leaving_out_absent!(Changes { ; $($attribute),+ });
    };
}
every_attribute! { serialize_changes }

macro_rules! attribute_names {
    ($($attribute:ident),+) => {
        &["code", $(stringify!($attribute)),+]
    };
}

/// A procedure's attributes by their wire names, in the order SPEC's table gives them (`code` first).
pub const ATTRIBUTES: &[&str] = every_attribute!(attribute_names);

/// The attributes a simplification may change: the burden attributes, the name and the legal basis.
pub const SIMPLIFIABLE: &[&str] = &[
    "processing_days",
    "steps",
    "documents",
    "fee_vnd",
    "out_of_pocket_vnd",
    "applicant_hours",
    "annual_volume",
    "online",
    "name",
    "legal_basis",
];

/// Re-measured figures (an `EstimateRevised`): a correction of an estimate, not a reform.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Estimates {
    #[serde(default)]
    pub annual_volume: Option<AnnualVolume>,
    #[serde(default)]
    pub applicant_hours: Option<Hours>,
    #[serde(default)]
    pub out_of_pocket_vnd: Option<Vnd>,
}

serialize_leaving_out_absent!(Estimates { ; annual_volume, applicant_hours, out_of_pocket_vnd });

impl Estimates {
    pub fn is_empty(&self) -> bool {
        self.annual_volume.is_none() && self.applicant_hours.is_none() && self.out_of_pocket_vnd.is_none()
    }
}

/// Total copies asked for across a dossier.
pub fn total_copies(documents: &[Document]) -> u64 {
    documents.iter().map(|d| d.copies.get()).sum()
}

/// One way a change would raise the burden a procedure puts on applicants.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BurdenRise {
    pub field: &'static str,
    pub from: String,
    pub to: String,
}

impl Changes {
    /// Names of the attributes this `set` holds, in wire order.
    pub fn fields(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        macro_rules! push {
            ($($f:ident),*) => { $( if self.$f.is_some() { out.push(stringify!($f)); } )* };
        }
        every_attribute!(push);
        out
    }

    pub fn is_empty(&self) -> bool {
        self.fields().is_empty()
    }

    /// Whether applying this `set` to `p` changes at least one value.
    pub fn differs_from(&self, p: &Procedure) -> bool {
        // Field by field, without copying the procedure: every replay of a stream asks this once per
        // simplification.
        macro_rules! differs {
            ($($f:ident),*) => { false $( || self.$f.as_ref().is_some_and(|v| *v != p.$f) )* };
        }
        every_attribute!(differs)
    }

    /// Overwrites the attributes this `set` holds.
    pub fn apply_to(&self, p: &mut Procedure) {
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = &self.$f { p.$f = v.clone(); } )* };
        }
        every_attribute!(set);
    }

    /// Every burden that would rise if `p` took these values.
    pub fn burden_rises(&self, p: &Procedure) -> Vec<BurdenRise> {
        let mut out = Vec::new();
        macro_rules! numbers {
            ($($f:ident),*) => { $(
                if let Some(v) = self.$f {
                    if v > p.$f {
                        out.push(BurdenRise { field: stringify!($f), from: p.$f.to_string(), to: v.to_string() });
                    }
                }
            )* };
        }
        numbers!(processing_days, steps, fee_vnd, out_of_pocket_vnd, applicant_hours, annual_volume);
        if let Some(docs) = &self.documents {
            let (items, copies) = (docs.len(), total_copies(docs));
            let (was_items, was_copies) = (p.documents.len(), total_copies(&p.documents));
            if items > was_items {
                out.push(BurdenRise {
                    field: "documents",
                    from: format!("{was_items} items"),
                    to: format!("{items} items"),
                });
            } else if copies > was_copies {
                out.push(BurdenRise {
                    field: "documents",
                    from: format!("{was_copies} copies"),
                    to: format!("{copies} copies"),
                });
            }
        }
        if let Some(online) = self.online
            && online < p.online
        {
            out.push(BurdenRise { field: "online", from: format!("{:?}", p.online), to: format!("{online:?}") });
        }
        out
    }
}

impl Estimates {
    /// Overwrites the current figures this revision holds.
    pub fn apply_to(&self, p: &mut Procedure) {
        if let Some(v) = self.annual_volume {
            p.annual_volume = v;
        }
        if let Some(v) = self.applicant_hours {
            p.applicant_hours = v;
        }
        if let Some(v) = self.out_of_pocket_vnd {
            p.out_of_pocket_vnd = v;
        }
    }
}
