//! Request examples: the SPEC's worked example, coherent enough to be sent in this order to an empty log.

use serde_json::{Value, json};

pub fn registration() -> Value {
    json!({
        "code": "1.000001", "name": "Cấp giấy phép xây dựng nhà ở riêng lẻ", "sector": "Xây dựng",
        "agency": "SXD", "level": "district", "applicant": "citizen", "processing_days": 20, "steps": 3,
        "documents": [{"name": "Đơn đề nghị cấp giấy phép xây dựng", "copies": 1}],
        "fee_vnd": 75000, "out_of_pocket_vnd": 100000, "applicant_hours": 16, "annual_volume": 1200,
        "online": "none", "legal_basis": "Luật Xây dựng 2003", "effective_on": "2011-01-01",
        "note": "Kiểm kê 2011",
    })
}

pub fn simplification() -> Value {
    json!({
        "set": {"processing_days": 12, "applicant_hours": 10.5},
        "measures": ["rút ngắn thời hạn"],
        "effective_on": "2011-07-01",
        "legal_basis": "Quyết định 1234/QĐ-UBND",
    })
}

pub fn amendment() -> Value {
    json!({"set": {"fee_vnd": 80000}, "effective_on": "2012-03-01", "note": "phí điều chỉnh"})
}

pub fn estimate_revision() -> Value {
    json!({
        "baseline": {"annual_volume": 1100}, "current": {"annual_volume": 1100},
        "effective_on": "2013-01-01", "note": "số liệu khảo sát lại",
    })
}

pub fn abolition() -> Value {
    json!({"reason": "Không còn cần thiết", "effective_on": "2012-06-01", "legal_basis": "Nghị định 43/2012"})
}

pub fn merger() -> Value {
    json!({
        "sources": ["3.000003", "3.000004"],
        "into": {
            "code": "3.000010", "name": "Đăng ký khai sinh", "sector": "Hộ tịch", "agency": "STP",
            "level": "commune", "applicant": "citizen", "processing_days": 3, "steps": 2, "documents": [],
            "fee_vnd": 10000, "out_of_pocket_vnd": 10000, "applicant_hours": 3, "annual_volume": 8000,
            "online": "partial", "legal_basis": "",
        },
        "expected_versions": {"3.000003": 1},
        "effective_on": "2012-01-01",
    })
}

pub fn retraction() -> Value {
    json!({"event_id": "01890a5d-ac96-774b-bcce-b302099a8057", "reason": "Ghi nhầm"})
}

pub fn tariff() -> Value {
    json!({"vnd_per_hour": 25000, "effective_on": "2011-01-01"})
}

pub fn programme() -> Value {
    json!({
        "name": "Kế hoạch đơn giản hóa TTHC 2011–2015", "baseline_on": "2011-01-01", "deadline": "2015-12-31",
        "cost_reduction": 0.3, "time_reduction": 0.3333, "scope": "all",
    })
}
