//! Demonstration data: SPEC's worked example, and a generated, clearly labelled sample province
//! ("Tỉnh Mẫu — dữ liệu minh họa") with a history of simplifications, merges and abolitions across
//! 2011–2015 and a programme with its targets. Deterministic from a seed, so benchmarks can use it too.

use events::decide::Command;
use events::event::{Abolition, Merger, Programme, Scope, Simplification, Tariff};
use events::value::{Date, Fraction, LongText, ProcedureCode, TariffApplicant, VndPerHour};
use events::{Change, Changes, Procedure};
use serde_json::json;

fn date(s: &str) -> Date {
    Date::parse(s).expect("demo dates are valid")
}

fn text(s: &str) -> LongText {
    LongText::parse(s).expect("demo text is valid")
}

fn command(change: Change, on: &str, legal_basis: &str, note: &str) -> Command {
    Command { change, effective_on: date(on), legal_basis: text(legal_basis), note: text(note) }
}

fn procedure(value: serde_json::Value) -> Procedure {
    serde_json::from_value(value).expect("demo procedures are valid")
}

fn code(s: &str) -> ProcedureCode {
    ProcedureCode::parse(s).expect("demo codes are valid")
}

fn changes(value: serde_json::Value) -> Changes {
    serde_json::from_value(value).expect("demo changes are valid")
}

/// SPEC's worked example: tariffs, five procedures, and four changes.
pub fn worked_example() -> Vec<Command> {
    let tariff = |applicant, vnd: u64| {
        let vnd_per_hour = VndPerHour::new(vnd).expect("tariff in range");
        command(Change::TariffSet(Tariff { applicant, vnd_per_hour }), "2011-01-01", "", "")
    };
    let mut out = vec![tariff(TariffApplicant::Citizen, 25_000), tariff(TariffApplicant::Business, 50_000)];
    let rows = [
        (
            "1.000001",
            "Cấp giấy phép xây dựng nhà ở riêng lẻ",
            "Xây dựng",
            "SXD",
            "district",
            "citizen",
            20,
            16,
            75_000,
            100_000,
            1_200,
        ),
        (
            "2.000002",
            "Đăng ký thành lập doanh nghiệp tư nhân",
            "Thành lập và hoạt động doanh nghiệp",
            "SKHDT",
            "province",
            "business",
            5,
            8,
            100_000,
            50_000,
            800,
        ),
        ("3.000003", "Đăng ký khai sinh", "Hộ tịch", "STP", "commune", "citizen", 3, 4, 8_000, 20_000, 5_000),
        ("3.000004", "Đăng ký kết hôn", "Hộ tịch", "STP", "commune", "citizen", 5, 5, 15_000, 20_000, 3_000),
        (
            "2.000005",
            "Đăng ký thay đổi nội dung đăng ký doanh nghiệp",
            "Thành lập và hoạt động doanh nghiệp",
            "SKHDT",
            "province",
            "business",
            5,
            6,
            100_000,
            30_000,
            600,
        ),
    ];
    for (c, name, sector, agency, level, applicant, days, hours, fee, oop, volume) in rows {
        let p = procedure(json!({
            "code": c, "name": name, "sector": sector, "agency": agency, "level": level, "applicant": applicant,
            "processing_days": days, "steps": 3, "documents": [], "fee_vnd": fee, "out_of_pocket_vnd": oop,
            "applicant_hours": hours, "annual_volume": volume, "online": "none", "legal_basis": ""
        }));
        out.push(command(Change::ProcedureRegistered(p), "2011-01-01", "", "Kiểm kê thủ tục (ví dụ trong SPEC)"));
    }
    let simplify = |c: &str, set: serde_json::Value| {
        Change::ProcedureSimplified(Simplification { code: code(c), set: changes(set), measures: Vec::new() })
    };
    out.push(command(
        simplify("1.000001", json!({"processing_days": 12, "applicant_hours": 10})),
        "2011-07-01",
        "",
        "",
    ));
    let into = procedure(json!({
        "code": "3.000010", "name": "Đăng ký khai sinh, kết hôn (liên thông)", "sector": "Hộ tịch", "agency": "STP",
        "level": "commune", "applicant": "citizen", "processing_days": 3, "steps": 2, "documents": [],
        "fee_vnd": 10_000, "out_of_pocket_vnd": 10_000, "applicant_hours": 3, "annual_volume": 8_000,
        "online": "partial", "legal_basis": ""
    }));
    out.push(command(
        Change::ProceduresMerged(Merger { sources: vec![code("3.000003"), code("3.000004")], into }),
        "2012-01-01",
        "",
        "",
    ));
    out.push(command(
        Change::ProcedureAbolished(Abolition { code: code("2.000005"), reason: text("Không còn cần thiết") }),
        "2012-06-01",
        "",
        "",
    ));
    out.push(command(
        simplify("2.000002", json!({"processing_days": 3, "fee_vnd": 50_000, "applicant_hours": 4, "online": "full"})),
        "2013-01-01",
        "",
        "",
    ));
    out
}

/// A small deterministic generator (xorshift64*), so the same seed gives the same province.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

const SECTORS: &[(&str, &str, &[&str])] = &[
    ("Hộ tịch", "STP", &["Đăng ký khai sinh", "Đăng ký khai tử", "Đăng ký giám hộ", "Cấp bản sao trích lục hộ tịch"]),
    ("Chứng thực", "STP", &["Chứng thực bản sao từ bản chính", "Chứng thực chữ ký", "Chứng thực hợp đồng, giao dịch"]),
    (
        "Xây dựng",
        "SXD",
        &["Cấp giấy phép xây dựng", "Điều chỉnh giấy phép xây dựng", "Cấp chứng chỉ hành nghề xây dựng"],
    ),
    (
        "Đất đai",
        "STNMT",
        &[
            "Đăng ký biến động quyền sử dụng đất",
            "Cấp giấy chứng nhận quyền sử dụng đất",
            "Đăng ký thế chấp quyền sử dụng đất",
        ],
    ),
    (
        "Thành lập và hoạt động doanh nghiệp",
        "SKHDT",
        &["Đăng ký thành lập công ty TNHH", "Đăng ký thành lập công ty cổ phần", "Đăng ký hộ kinh doanh"],
    ),
    (
        "Giao thông vận tải",
        "SGTVT",
        &["Cấp đổi giấy phép lái xe", "Cấp phù hiệu xe ô tô kinh doanh vận tải", "Đăng ký khai thác tuyến"],
    ),
    (
        "Công thương",
        "SCT",
        &[
            "Cấp giấy phép bán lẻ rượu",
            "Cấp giấy phép kinh doanh xăng dầu",
            "Cấp giấy chứng nhận đủ điều kiện an toàn thực phẩm",
        ],
    ),
    (
        "Y tế",
        "SYT",
        &[
            "Cấp chứng chỉ hành nghề khám bệnh, chữa bệnh",
            "Cấp giấy phép hoạt động phòng khám",
            "Công bố cơ sở đủ điều kiện sản xuất",
        ],
    ),
    (
        "Giáo dục và Đào tạo",
        "SGDDT",
        &[
            "Cho phép thành lập trường mầm non tư thục",
            "Cấp bản sao văn bằng, chứng chỉ",
            "Chuyển trường cho học sinh trung học",
        ],
    ),
    (
        "Lao động - Thương binh và Xã hội",
        "SLDTBXH",
        &["Cấp giấy phép lao động cho người nước ngoài", "Giải quyết trợ cấp thất nghiệp", "Xác nhận người có công"],
    ),
];

const LEVELS: &[&str] = &["province", "district", "commune"];
const DOCUMENTS: &[&str] = &[
    "Tờ khai theo mẫu",
    "Bản sao giấy tờ tùy thân",
    "Giấy xác nhận nơi cư trú",
    "Bản vẽ thiết kế",
    "Giấy tờ chứng minh quyền sử dụng đất",
    "Ảnh 4x6",
];

/// One generated procedure of the sample province (`n` numbers it; codes look like `1.00n.H99`).
pub fn sample_procedure(rng: &mut Rng, n: u64) -> Procedure {
    let (sector, agency, names) = SECTORS[rng.below(SECTORS.len() as u64) as usize];
    let level = LEVELS[rng.below(3) as usize];
    let base = names[rng.below(names.len() as u64) as usize];
    let applicant = if sector == "Thành lập và hoạt động doanh nghiệp" || sector == "Công thương" {
        "business"
    } else if rng.below(6) == 0 {
        "both"
    } else {
        "citizen"
    };
    let documents: Vec<_> = (0..1 + rng.below(4))
        .map(|i| json!({"name": DOCUMENTS[((i + rng.below(6)) % 6) as usize], "copies": 1 + rng.below(2)}))
        .collect();
    let online = ["none", "none", "partial"][rng.below(3) as usize];
    procedure(json!({
        "code": format!("{}.{:06}.H99", 1 + n % 2, n),
        "name": format!("{base} (thủ tục mẫu số {n})"),
        "sector": sector,
        "agency": match level { "province" => agency, "district" => "UBND-HUYEN", _ => "UBND-XA" },
        "level": level,
        "applicant": applicant,
        "processing_days": 3 + rng.below(28),
        "steps": 2 + rng.below(6),
        "documents": documents,
        "fee_vnd": rng.below(40) * 5_000,
        "out_of_pocket_vnd": 10_000 + rng.below(30) * 5_000,
        "applicant_hours": 2 + rng.below(30),
        "annual_volume": 100 + rng.below(20_000),
        "online": online,
        "legal_basis": "Dữ liệu minh họa"
    }))
}

/// The sample province: `count` procedures registered on 2011-01-01, then five years of reform.
pub fn sample_province(seed: u64, count: u64) -> Vec<Command> {
    let mut rng = Rng::new(seed);
    let label = "Tỉnh Mẫu — dữ liệu minh họa, không phải số liệu thật";
    let procedures: Vec<Procedure> = (0..count).map(|n| sample_procedure(&mut rng, n)).collect();
    let mut out: Vec<Command> = procedures
        .iter()
        .map(|p| command(Change::ProcedureRegistered(p.clone()), "2011-01-01", "Quyết định công bố bộ TTHC", label))
        .collect();
    let mut merged = std::collections::HashSet::new();
    let mut abolished = std::collections::HashSet::new();
    for (i, p) in procedures.iter().enumerate() {
        let year = 2011 + rng.below(5);
        let on = format!("{year}-{:02}-01", 1 + rng.below(12));
        match rng.below(20) {
            // About half are simplified: days, hours and fees fall, and more are offered online.
            0..=9 => {
                let days = p.processing_days.hundredths() / 100;
                let set = json!({
                    "processing_days": days - days / 3,
                    "applicant_hours": (p.applicant_hours.hundredths() / 100) * 2 / 3,
                    "fee_vnd": p.fee_vnd.get() / 2,
                    "online": "partial"
                });
                let change = Change::ProcedureSimplified(Simplification {
                    code: p.code.clone(),
                    set: changes(set),
                    measures: vec![events::value::Tag::parse("rút ngắn thời hạn").expect("tag")],
                });
                out.push(command(change, &on, "Nghị quyết đơn giản hóa TTHC", label));
            }
            10 if !merged.contains(&i) => {
                abolished.insert(i);
                let reason = text("Bãi bỏ theo phương án đơn giản hóa");
                out.push(command(
                    Change::ProcedureAbolished(Abolition { code: p.code.clone(), reason }),
                    &on,
                    "",
                    label,
                ));
            }
            11 if i + 1 < procedures.len() && !merged.contains(&i) && !abolished.contains(&(i + 1)) => {
                let other = &procedures[i + 1];
                merged.insert(i);
                merged.insert(i + 1);
                let mut into = p.clone();
                into.name = events::value::Name::parse(&format!("{} (hợp nhất)", p.name)).unwrap_or(p.name.clone());
                into.annual_volume =
                    events::value::AnnualVolume::new(p.annual_volume.get() + other.annual_volume.get())
                        .unwrap_or(p.annual_volume);
                into.processing_days = p.processing_days.min(other.processing_days);
                let change =
                    Change::ProceduresMerged(Merger { sources: vec![p.code.clone(), other.code.clone()], into });
                // Merges happen late, after any simplification of either source.
                out.push(command(change, "2015-12-01", "", label));
            }
            _ => {}
        }
    }
    // Keep merges after every other change of their sources and skip changes to abolished or merged ones.
    out.sort_by_key(|c| c.effective_on);
    out.retain(|c| match &c.change {
        Change::ProcedureSimplified(s) => {
            let i = procedures.iter().position(|p| p.code == s.code).unwrap_or(usize::MAX);
            let merged_by_then = merged.contains(&i) && c.effective_on >= date("2015-12-01");
            !abolished.contains(&i) && !merged_by_then
        }
        _ => true,
    });
    let programme = Programme {
        id: code("de-an-30"),
        name: events::value::Name::parse("Đề án 30 — Tỉnh Mẫu 2011–2015 (minh họa)").expect("name"),
        baseline_on: date("2011-01-01"),
        deadline: date("2015-12-31"),
        cost_reduction: Fraction::parse("0.3").expect("fraction"),
        time_reduction: Fraction::parse("0.333333333").expect("fraction"),
        scope: Scope::All,
    };
    out.push(command(Change::ProgrammeDefined(programme), "2011-01-01", "Quyết định 30/QĐ-TTg", label));
    out
}

/// Records the demo through the decider into an empty log (a log with events is left as it is).
/// Returns how many events were written.
pub async fn load(log: &eventstore::Log) -> anyhow::Result<u64> {
    if log.head() > 0 {
        return Ok(0);
    }
    let grant = crate::access::Grant {
        token_sha256: String::new(),
        role: crate::access::Role::Admin,
        agencies: Vec::new(),
        name: "demo".into(),
    };
    for command in demo() {
        let recording =
            crate::record::Recording { command, grant: grant.clone(), idempotency: None, expected: Vec::new() };
        crate::record::record(log, recording).await.map_err(|e| anyhow::anyhow!("demo data refused: {e}"))?;
    }
    Ok(log.head())
}

/// Everything `serve --demo` loads on first start.
pub fn demo() -> Vec<Command> {
    let mut out = worked_example();
    out.extend(sample_province(30, 300));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use events::decide::{History, decide};

    /// Every demo command passes the decider in order (so `serve --demo` never refuses its own data).
    #[test]
    fn the_demo_history_is_valid() {
        let mut history: Vec<events::Event> = Vec::new();
        for (i, c) in demo().into_iter().enumerate() {
            let h = History::from_events(history.iter().cloned());
            let new = decide(&c, &h).unwrap_or_else(|e| panic!("command {i} {:?} refused: {e}", c.change.type_name()));
            for n in new {
                let seq = history.len() as u64 + 1;
                let version = history.iter().filter(|e| e.stream == n.stream).count() as u64 + 1;
                history.push(events::Event {
                    event_id: uuid::Uuid::from_u128(seq as u128),
                    seq,
                    stream: n.stream,
                    version,
                    schema_version: 1,
                    recorded_at: events::value::Timestamp::from_micros(seq as i64),
                    effective_on: n.effective_on,
                    actor: "demo".into(),
                    command_id: None,
                    legal_basis: n.legal_basis,
                    note: n.note,
                    change: n.change,
                });
            }
        }
        assert!(history.len() > 400, "{} events", history.len());
        assert!(history.iter().any(|e| matches!(e.change, Change::ProceduresMerged(_))));
        assert!(history.iter().any(|e| matches!(e.change, Change::ProcedureAbolished(_))));
    }
}
