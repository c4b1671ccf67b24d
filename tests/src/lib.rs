//! Shared helpers for the end-to-end tests: sample procedures and events as a reform office would enter them.

use events::value::{Date, LongText};
use events::{Change, NewEvent, Procedure, StreamId};

/// A valid procedure with this code, filed by citizens at commune level.
pub fn procedure(code: &str) -> Procedure {
    serde_json::from_value(serde_json::json!({
        "code": code, "name": "Đăng ký khai sinh", "sector": "Hộ tịch", "agency": "STP", "level": "commune",
        "applicant": "citizen", "processing_days": 3, "steps": 3,
        "documents": [{"name": "Tờ khai", "copies": 1}], "fee_vnd": 8000,
        "out_of_pocket_vnd": 20000, "applicant_hours": 4, "annual_volume": 5000, "online": "none",
        "legal_basis": "Luật Hộ tịch 2014"
    }))
    .expect("a valid procedure")
}

/// The registration of [`procedure`]`(code)`, effective 2011-01-01.
pub fn registration(code: &str) -> NewEvent {
    let p = procedure(code);
    NewEvent {
        stream: StreamId::procedure(&p.code),
        effective_on: Date::parse("2011-01-01").expect("a date"),
        legal_basis: LongText::default(),
        note: LongText::default(),
        change: Change::ProcedureRegistered(p),
    }
}
