//! Vietnamese first: labels in both languages, numbers and dates the Vietnamese way, and a procedure's
//! history told in plain words ("01/07/2011: thời hạn giải quyết rút ngắn từ 20 xuống 12 ngày làm việc").

use events::value::Date;
use events::{Change, Event, Procedure};

/// The page's language: Vietnamese unless `?lang=en`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    pub fn from_query(lang: Option<&str>) -> Self {
        if lang == Some("en") { Self::En } else { Self::Vi }
    }

    /// Picks the Vietnamese or the English label.
    pub fn t<'a>(self, vi: &'a str, en: &'a str) -> &'a str {
        match self {
            Self::Vi => vi,
            Self::En => en,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Vi => "vi",
            Self::En => "en",
        }
    }
}

/// Money the Vietnamese way: `1.234.567 ₫`.
pub fn vnd(n: u128) -> String {
    format!("{} ₫", thousands(n))
}

/// A decimal with a comma: `12,5`.
pub fn decimal(x: f64, places: usize) -> String {
    let s = format!("{x:.places$}");
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_owned() } else { s };
    s.replace('.', ",")
}

/// A figure as it is written, with a decimal comma: `12.5` working days → `12,5`.
pub fn comma(figure: impl std::fmt::Display) -> String {
    figure.to_string().replace('.', ",")
}

/// A fraction as a percentage: `39,8 %`.
pub fn percent(x: f64) -> String {
    format!("{} %", decimal(x * 100.0, 1))
}

/// `2013-12-31` → `31/12/2013`.
pub fn date(d: Date) -> String {
    let i = d.inner();
    format!("{:02}/{:02}/{}", i.day(), u8::from(i.month()), i.year())
}

/// The online level's label.
pub fn online(lang: Lang, o: events::value::Online) -> &'static str {
    match o {
        events::value::Online::None => lang.t("không", "none"),
        events::value::Online::Partial => lang.t("một phần", "partial"),
        events::value::Online::Full => lang.t("toàn trình", "full"),
    }
}

/// How the attributes changed from `before` to `after`, one phrase each.
fn differences(lang: Lang, before: &Procedure, after: &Procedure) -> Vec<String> {
    let mut out = Vec::new();
    let verb = |a: u64, b: u64| {
        if b < a { lang.t("giảm", "cut") } else { lang.t("tăng", "raised") }
    };
    // "từ 20 xuống 12" when a figure falls, "từ 2 lên 3" when it rises.
    let towards = |falls: bool| if falls { lang.t("xuống", "to") } else { lang.t("lên", "to") };
    if before.processing_days != after.processing_days {
        let (a, b) = (before.processing_days, after.processing_days);
        let v = if b < a { lang.t("rút ngắn", "shortened") } else { lang.t("kéo dài", "lengthened") };
        out.push(format!(
            "{} {v} {} {} {} {} {}",
            lang.t("thời hạn giải quyết", "processing time"),
            lang.t("từ", "from"),
            comma(a),
            towards(b < a),
            comma(b),
            lang.t("ngày làm việc", "working days")
        ));
    }
    if before.fee_vnd != after.fee_vnd {
        let (a, b) = (before.fee_vnd.get(), after.fee_vnd.get());
        out.push(format!(
            "{} {} {} {} {} {}",
            lang.t("phí, lệ phí", "fees"),
            verb(a, b),
            lang.t("từ", "from"),
            vnd(a.into()),
            towards(b < a),
            vnd(b.into())
        ));
    }
    if before.steps != after.steps {
        out.push(format!("{}: {} → {}", lang.t("số bước", "steps"), before.steps, after.steps));
    }
    if before.documents != after.documents {
        out.push(format!(
            "{}: {} → {}",
            lang.t("thành phần hồ sơ", "documents"),
            before.documents.len(),
            after.documents.len()
        ));
    }
    if before.applicant_hours != after.applicant_hours {
        out.push(format!(
            "{}: {} → {}",
            lang.t("thời gian người dân bỏ ra (giờ)", "applicant's hours"),
            comma(before.applicant_hours),
            comma(after.applicant_hours)
        ));
    }
    if before.online != after.online {
        out.push(format!(
            "{}: {} → {}",
            lang.t("dịch vụ công trực tuyến", "online service"),
            online(lang, before.online),
            online(lang, after.online)
        ));
    }
    if before.name != after.name {
        out.push(format!("{}: {}", lang.t("đổi tên thành", "renamed"), after.name));
    }
    if before.agency != after.agency {
        out.push(format!("{}: {}", lang.t("cơ quan thực hiện mới", "new agency"), after.agency));
    }
    out
}

/// One line of a procedure's history: the event at `seq`, told in plain words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Told {
    pub effective_on: Date,
    pub seq: u64,
    pub sentence: String,
}

/// A procedure's history in plain words, oldest first, from its stream's events (retracted ones left out).
pub fn history(lang: Lang, code: &str, events: &[Event]) -> Vec<Told> {
    let retracted: std::collections::HashSet<_> = events
        .iter()
        .filter_map(|e| match &e.change {
            Change::EntryRetracted(r) => Some(r.event_id),
            _ => None,
        })
        .collect();
    let mut counted: Vec<&Event> = events
        .iter()
        .filter(|e| !retracted.contains(&e.event_id) && !matches!(e.change, Change::EntryRetracted(_)))
        .collect();
    counted.sort_by_key(|e| (e.effective_on, e.seq));
    let mut current: Option<Procedure> = None;
    let mut out = Vec::new();
    for e in counted {
        let sentence = match &e.change {
            Change::ProcedureRegistered(p) => {
                current = Some(p.clone());
                lang.t("công bố thủ tục", "procedure published").to_owned()
            }
            Change::ProcedureSimplified(s) => {
                let Some(before) = current.clone() else { continue };
                let mut after = before.clone();
                s.set.apply_to(&mut after);
                current = Some(after.clone());
                let parts = differences(lang, &before, &after);
                format!("{}: {}", lang.t("đơn giản hóa", "simplified"), parts.join("; "))
            }
            Change::ProcedureAmended(a) => {
                let Some(before) = current.clone() else { continue };
                let mut after = before.clone();
                a.set.apply_to(&mut after);
                current = Some(after.clone());
                format!("{}: {}", lang.t("sửa đổi", "amended"), differences(lang, &before, &after).join("; "))
            }
            Change::EstimateRevised(_) => lang.t("đo lại số liệu ước tính", "estimates re-measured").to_owned(),
            Change::ProceduresMerged(m) => {
                let others: Vec<&str> = m.sources.iter().map(|c| c.as_str()).filter(|c| *c != code).collect();
                if m.into.code.as_str() == code {
                    let before = current.clone();
                    current = Some(m.into.clone());
                    let mut s = format!("{} {}", lang.t("hợp nhất với", "merged with"), others.join(", "));
                    if let Some(before) = before {
                        let parts = differences(lang, &before, &m.into);
                        if !parts.is_empty() {
                            s.push_str(&format!("; {}", parts.join("; ")));
                        }
                    }
                    s
                } else {
                    format!("{} {}", lang.t("hợp nhất vào thủ tục", "merged into"), m.into.code)
                }
            }
            Change::ProcedureAbolished(a) => {
                format!(
                    "{}{}",
                    lang.t("bãi bỏ", "abolished"),
                    if a.reason.as_str().is_empty() { String::new() } else { format!(": {}", a.reason) }
                )
            }
            Change::EntryRetracted(_) | Change::TariffSet(_) | Change::ProgrammeDefined(_) => continue,
        };
        out.push(Told { effective_on: e.effective_on, seq: e.seq, sentence });
    }
    out
}

/// What an event no procedure's history tells did, in plain words: a tariff, a programme, a retraction; for
/// any other (one the history leaves out, being retracted) what kind of change it was, said retracted.
pub fn change(lang: Lang, change: &Change) -> String {
    match change {
        Change::ProgrammeDefined(p) => format!("{} {}", lang.t("xác định chương trình", "programme defined:"), p.name),
        Change::TariffSet(t) => format!(
            "{} {}: {}/{}",
            lang.t("đơn giá thời gian", "time tariff"),
            if t.applicant == events::value::TariffApplicant::Citizen {
                lang.t("người dân", "citizens")
            } else {
                lang.t("doanh nghiệp", "businesses")
            },
            vnd(t.vnd_per_hour.get().into()),
            lang.t("giờ", "hour")
        ),
        Change::EntryRetracted(r) => format!("{}: {}", lang.t("rút lại một ghi nhận", "entry retracted"), r.reason),
        other => format!("{} ({})", kind(lang, other), lang.t("đã rút lại", "retracted")),
    }
}

/// The kind of change a procedure's event records, in the words its history uses.
fn kind(lang: Lang, change: &Change) -> &'static str {
    match change {
        Change::ProcedureRegistered(_) => lang.t("công bố thủ tục", "procedure published"),
        Change::ProcedureSimplified(_) => lang.t("đơn giản hóa", "simplified"),
        Change::ProcedureAmended(_) => lang.t("sửa đổi", "amended"),
        Change::EstimateRevised(_) => lang.t("đo lại số liệu ước tính", "estimates re-measured"),
        Change::ProceduresMerged(_) => lang.t("hợp nhất", "merged"),
        Change::ProcedureAbolished(_) => lang.t("bãi bỏ", "abolished"),
        Change::EntryRetracted(_) => lang.t("rút lại một ghi nhận", "entry retracted"),
        Change::TariffSet(_) => lang.t("đơn giá thời gian", "time tariff"),
        Change::ProgrammeDefined(_) => lang.t("xác định chương trình", "programme defined"),
    }
}

/// `1234567` as `1.234.567` (Vietnamese thousands separator).
pub fn thousands(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retracted_change_reads_as_its_kind_retracted_in_either_language() {
        let code = events::value::ProcedureCode::parse("1.000001").unwrap();
        let abolition = Change::ProcedureAbolished(events::event::Abolition { code, reason: Default::default() });
        assert_eq!(change(Lang::Vi, &abolition), "bãi bỏ (đã rút lại)");
        assert_eq!(change(Lang::En, &abolition), "abolished (retracted)");
    }

    #[test]
    fn numbers_and_dates_read_the_vietnamese_way() {
        assert_eq!(vnd(1_234_567), "1.234.567 ₫");
        assert_eq!(date(Date::parse("2013-12-31").unwrap()), "31/12/2013");
        assert_eq!(percent(0.397927), "39,8 %");
        assert_eq!(decimal(12.0, 2), "12");
        assert_eq!(comma(events::value::WorkingDays::from_hundredths(1250).unwrap()), "12,5");
    }

    #[test]
    fn a_rise_reads_as_a_rise() {
        let before: Procedure = serde_json::from_value(serde_json::json!({
            "code": "1.000001", "name": "Thủ tục", "sector": "Xây dựng", "agency": "SXD", "level": "district",
            "applicant": "citizen", "processing_days": 2, "steps": 3, "documents": [], "fee_vnd": 80000,
            "out_of_pocket_vnd": 0, "applicant_hours": 1, "annual_volume": 10, "online": "none", "legal_basis": ""
        }))
        .unwrap();
        let mut after = before.clone();
        after.processing_days = serde_json::from_value(serde_json::json!(3)).unwrap();
        after.fee_vnd = serde_json::from_value(serde_json::json!(165000)).unwrap();
        assert_eq!(
            differences(Lang::Vi, &before, &after),
            ["thời hạn giải quyết kéo dài từ 2 lên 3 ngày làm việc", "phí, lệ phí tăng từ 80.000 ₫ lên 165.000 ₫"]
        );
        assert_eq!(
            differences(Lang::Vi, &after, &before),
            ["thời hạn giải quyết rút ngắn từ 3 xuống 2 ngày làm việc", "phí, lệ phí giảm từ 165.000 ₫ xuống 80.000 ₫"]
        );
    }
}
