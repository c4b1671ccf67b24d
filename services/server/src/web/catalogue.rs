//! The public catalogue for citizens and businesses: `GET /catalogue` finds the active procedures (the
//! search ignores diacritics), `GET /catalogue/{code}` tells what one needs today, its history in plain
//! words, and what replaced it.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use events::value::ProcedureCode;
use events::{Procedure, StreamId};
use maud::{Markup, html};
use projections::{ProcedureView, Status};

use super::page::{Page, link};
use super::query::{CatalogueQuery, EntryQuery};
use super::words::{self, Lang, Told, comma, date, vnd};
use crate::http::problem::Problem;
use crate::search::Needle;
use crate::state::AppState;

/// The most procedures one search lists.
const LISTED: usize = 200;

/// `GET /catalogue`: search the active procedures.
pub async fn catalogue(State(s): State<AppState>, Query(q): Query<HashMap<String, String>>) -> Result<Markup, Problem> {
    let q = CatalogueQuery::parse(&q)?;
    let head = s.log.head();
    s.live.caught_up(head).await;
    let at = crate::live::now();
    let found = {
        let projection = s.live.projection.read().unwrap_or_else(|p| p.into_inner());
        let needle = q.q.as_deref().map(Needle::new).filter(|n| !n.is_empty());
        projection
            .procedures(None, at)
            .filter(|listed| listed.status == Status::Active)
            .map(|listed| listed.procedure)
            .filter(|p| wanted(&q, needle.as_ref(), p))
            .take(LISTED)
            .collect::<Vec<_>>()
    };
    let lang = q.lang;
    let body = html! {
        form class="inline" role="search" method="get" action="/catalogue" {
            label for="q" { (lang.t("Tìm thủ tục", "Find a procedure")) }
            input id="q" name="q" type="search" value=(q.q.as_deref().unwrap_or(""))
                placeholder=(lang.t("ví dụ: dang ky khai sinh", "e.g. dang ky khai sinh"));
            @if lang == Lang::En { input type="hidden" name="lang" value="en"; }
            button class="go" type="submit" { (lang.t("Tìm", "Search")) }
        }
        p class="muted" { (found.len()) " " (lang.t("thủ tục", "procedures")) }
        ul {
            @for p in &found {
                li {
                    a href=(link(&format!("/catalogue/{}", p.code), lang)) { (p.name) }
                    " "
                    span class="muted" {
                        "— " (p.code) " · " (p.agency) " · " (comma(p.processing_days)) " "
                        (lang.t("ngày làm việc", "working days"))
                    }
                }
            }
        }
    };
    let page = Page {
        lang,
        title: lang.t("Danh mục thủ tục hành chính", "Catalogue of administrative procedures"),
        subject: None,
        head,
        live: false,
        switch_to: if lang == Lang::En { "/catalogue".to_owned() } else { "/catalogue?lang=en".to_owned() },
    };
    Ok(page.render(body))
}

/// Whether a procedure is what was asked for: each filter matches exactly, and the search finds it.
fn wanted(q: &CatalogueQuery, needle: Option<&Needle>, p: &Procedure) -> bool {
    q.agency.as_deref().is_none_or(|a| p.agency.as_str() == a)
        && q.sector.as_deref().is_none_or(|x| p.sector.as_str() == x)
        && q.level.as_deref().is_none_or(|l| p.level.as_str() == l)
        && needle.is_none_or(|n| n.finds(p))
}

/// `GET /catalogue/{code}`: what a procedure needs today, its history in plain words, and what replaced it.
pub async fn catalogue_entry(
    State(s): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Markup, Problem> {
    let lang = EntryQuery::parse(&q)?.lang;
    let code = ProcedureCode::parse(&code)
        .map_err(|_| Problem::not_found("code", format!("there is no procedure {code:?}")))?;
    let head = s.log.head();
    s.live.caught_up(head).await;
    let at = crate::live::now();
    let view = s.live.projection.read().unwrap_or_else(|p| p.into_inner()).procedure(code.as_str(), at, None);
    let view = view.map_err(|e| Problem::not_found("code", e.to_string()))?;
    let events = s.log.read_stream(&StreamId::procedure(&code)).unwrap_or_default();
    let history = words::history(lang, code.as_str(), &events);
    let page = Page {
        lang,
        title: lang.t("Danh mục thủ tục hành chính", "Catalogue of administrative procedures"),
        subject: Some(view.current.name.as_str()),
        head,
        live: false,
        switch_to: if lang == Lang::En { format!("/catalogue/{code}") } else { format!("/catalogue/{code}?lang=en") },
    };
    Ok(page.render(entry(lang, &view, &history)))
}

/// A procedure's entry: where it stands, what it needs, and its history.
fn entry(lang: Lang, view: &ProcedureView, history: &[Told]) -> Markup {
    let p = &view.current;
    html! {
        h2 { (p.name) }
        p class="muted" { (p.code) " · " (p.agency) " · " (p.sector) }
        @match view.status {
            Status::Active => {},
            Status::Merged => {
                @let terminal = view.terminal.as_ref().map_or("", |t| t.as_str());
                p {
                    strong { (lang.t("Thủ tục này đã được hợp nhất vào", "This procedure was merged into")) }
                    " " a href=(link(&format!("/catalogue/{terminal}"), lang)) { (terminal) }
                }
            },
            Status::Abolished => p { strong { (lang.t("Thủ tục này đã bị bãi bỏ.", "This procedure was abolished.")) } },
        }
        dl {
            dt { (lang.t("Thời hạn giải quyết", "Processing time")) }
            dd { (comma(p.processing_days)) " " (lang.t("ngày làm việc", "working days")) }
            dt { (lang.t("Phí, lệ phí", "Fees")) }
            dd { (vnd(p.fee_vnd.get().into())) }
            dt { (lang.t("Số bước thực hiện", "Steps")) }
            dd { (p.steps) }
            dt { (lang.t("Dịch vụ công trực tuyến", "Online service")) }
            dd { (words::online(lang, p.online)) }
            dt { (lang.t("Thành phần hồ sơ", "Documents")) }
            dd {
                ul {
                    @for d in &p.documents { li { (d.name) " — " (d.copies) " " (lang.t("bản", "copies")) } }
                    @if p.documents.is_empty() { li { (lang.t("không yêu cầu", "none required")) } }
                }
            }
            dt { (lang.t("Căn cứ pháp lý", "Legal basis")) }
            dd { (p.legal_basis) }
        }
        h3 { (lang.t("Lịch sử", "History")) }
        ul class="changes" {
            @for h in history {
                li { time datetime=(h.effective_on) { (date(h.effective_on)) } ": " (h.sentence) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use events::value::Date;
    use projections::Lineage;

    use super::*;

    fn view(status: Status, documents: serde_json::Value) -> ProcedureView {
        let current: Procedure = serde_json::from_value(serde_json::json!({
            "code": "3.000003", "name": "Đăng ký <hộ> kinh doanh", "sector": "Thành lập & phát triển doanh nghiệp",
            "agency": "SKHDT", "level": "district", "applicant": "business", "processing_days": 12.5, "steps": 3,
            "documents": documents, "fee_vnd": 100000, "out_of_pocket_vnd": 0, "applicant_hours": 2,
            "annual_volume": 10, "online": "partial", "legal_basis": "Nghị định 78/2015/NĐ-CP"
        }))
        .unwrap();
        let terminal = ProcedureCode::parse("3.000010").ok();
        ProcedureView {
            code: current.code.clone(),
            version: 2,
            status,
            merged_into: terminal.clone(),
            terminal,
            current,
            baseline: None,
            before: None,
            after: None,
            cost_reduction: None,
            time_reduction: None,
            lineage: Lineage { merged_from: Vec::new(), merged_into: None },
            baseline_on: Date::parse("2011-01-01").unwrap(),
        }
    }

    #[test]
    fn a_merged_procedure_says_what_replaced_it_and_what_it_needed() {
        let told = [Told {
            effective_on: Date::parse("2015-12-01").unwrap(),
            seq: 9,
            sentence: "hợp nhất vào thủ tục 3.000010".into(),
        }];
        let html = entry(Lang::Vi, &view(Status::Merged, serde_json::json!([])), &told).into_string();
        assert!(html.starts_with(
            "<h2>Đăng ký &lt;hộ&gt; kinh doanh</h2><p class=\"muted\">3.000003 · SKHDT · Thành lập &amp; phát triển doanh nghiệp</p>\
             <p><strong>Thủ tục này đã được hợp nhất vào</strong> <a href=\"/catalogue/3.000010\">3.000010</a></p>"
        ), "{html}");
        assert!(html.contains("<dd>12,5 ngày làm việc</dd>") && html.contains("<dd>100.000 ₫</dd>"), "{html}");
        assert!(html.contains("<dd>một phần</dd>"), "the online level in words");
        assert!(html.contains("<dd><ul><li>không yêu cầu</li></ul></dd>"), "no documents: {html}");
        assert!(html.ends_with(
            "<h3>Lịch sử</h3><ul class=\"changes\"><li><time datetime=\"2015-12-01\">01/12/2015</time>: hợp nhất vào thủ tục 3.000010</li></ul>"
        ), "{html}");
    }

    #[test]
    fn an_abolished_procedure_says_so_and_lists_its_documents() {
        let documents = serde_json::json!([{"name": "Đơn đề nghị", "copies": 2}]);
        let html = entry(Lang::En, &view(Status::Abolished, documents), &[]).into_string();
        assert!(html.contains("<p><strong>This procedure was abolished.</strong></p>"), "{html}");
        assert!(html.contains("<dd><ul><li>Đơn đề nghị — 2 copies</li></ul></dd>"), "{html}");
        assert!(!html.contains("/catalogue/3.000010"), "nothing replaced it");
    }
}
