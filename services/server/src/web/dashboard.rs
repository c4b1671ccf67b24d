//! `GET /`: the dashboard for reform leaders: each programme against its targets, the figures by quarter,
//! a table by agency, sector or level, and the latest changes in plain words.

use std::collections::{HashMap, HashSet};

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use events::{Change, Event, StreamId};
use maud::{Markup, html};
use projections::{Group, GroupBy, Moment, ProgrammeProgress, Ratio};

use super::chart::{self, Quarter};
use super::page::{Page, link, urlencode};
use super::query::DashboardQuery;
use super::words::{self, Lang, date, percent, vnd};
use crate::http::problem::Problem;
use crate::state::AppState;

/// At most this many quarters on the charts, spread over the whole span.
const QUARTERS: usize = 40;
/// The latest changes told.
const CHANGES: usize = 10;
/// The events read to find them: a merge is one event per stream it touched, but is told once.
const CHANGES_READ: u64 = 40;

/// `GET /`: the dashboard.
pub async fn dashboard(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Markup, Problem> {
    s.authorize_read(&headers, q.get("token").map(String::as_str))?;
    let q = DashboardQuery::parse(&q)?;
    let lang = q.lang;
    let head = s.log.head();
    s.live.caught_up(head).await;
    let now = crate::live::now();
    let at = Moment::new(q.as_of.unwrap_or(now.as_of), now.known_at);
    let programmes = s.live.programmes(at);
    let quarters = quarters(&s, at);
    let groups = s.live.reductions(q.group_by, at, None).ok();
    let changes = latest_changes(&s, lang, head);
    // Everything below the form is `#live`: the script replaces it when the log moves.
    let body = html! {
        (form(lang, at, q.group_by))
        div id="live" {
            h2 { (lang.t("Chương trình cải cách", "Reform programmes")) }
            div class="cards" {
                @if programmes.is_empty() {
                    p class="muted" { (lang.t("Chưa có chương trình nào.", "No programme yet.")) }
                }
                @for p in &programmes { (programme(lang, p)) }
            }
            @if quarters.len() >= 2 {
                h2 { (lang.t("Diễn biến theo quý", "By quarter")) }
                (chart::charts(lang, &quarters))
            }
            @if let Some(groups) = &groups { (table(lang, q.group_by, &groups.reductions.groups)) }
            h2 { (lang.t("Thay đổi mới nhất", "Latest changes")) }
            ul class="changes" {
                @for change in &changes {
                    li {
                        time datetime=(change.on) { (date(change.on)) }
                        @if let Some(code) = &change.code {
                            ": " a href=(link(&format!("/catalogue/{code}"), lang)) { (code) }
                        }
                        " — " (change.sentence)
                    }
                }
            }
        }
    };
    let page = Page {
        lang,
        title: lang.t("Theo dõi đơn giản hóa thủ tục hành chính", "Administrative procedure simplification"),
        subject: None,
        head,
        live: true,
        switch_to: if lang == Lang::En { "/".to_owned() } else { "/?lang=en".to_owned() },
    };
    Ok(page.render(body))
}

/// The form that asks the dashboard as of another day or by another grouping.
fn form(lang: Lang, at: Moment, by: GroupBy) -> Markup {
    let groupings = [
        (GroupBy::Agency, lang.t("cơ quan", "agency")),
        (GroupBy::Sector, lang.t("lĩnh vực", "sector")),
        (GroupBy::Level, lang.t("cấp", "level")),
    ];
    html! {
        form class="inline" method="get" action="/" {
            label for="as_of" { (lang.t("Tính đến ngày", "As of")) }
            input type="date" id="as_of" name="as_of" value=(at.as_of);
            label for="group_by" { (lang.t("Nhóm theo", "Group by")) }
            select id="group_by" name="group_by" {
                @for (grouping, label) in groupings {
                    option value=(grouping.as_str()) selected[grouping == by] { (label) }
                }
            }
            @if lang == Lang::En { input type="hidden" name="lang" value="en"; }
            button class="go" type="submit" { (lang.t("Xem", "Show")) }
        }
    }
}

/// A ratio as a percentage, or a dash where it is unknown.
fn percent_or_dash(r: Option<&Ratio>) -> String {
    r.map_or("—".into(), |r| percent(r.to_f64()))
}

/// Average days with two decimals, or a dash.
fn days_or_dash(r: Option<&Ratio>) -> String {
    r.map_or("—".into(), |r| words::decimal(r.to_f64(), 2))
}

/// A programme's card: each reduction against its target, whether it is on track, and what is missing.
fn programme(lang: Lang, p: &ProgrammeProgress) -> Markup {
    let figures = p.figures.as_ref();
    // A target is shown as the API writes it: the nearest f64 to the decimal it was defined with.
    let target = |f: events::value::Fraction| {
        let (num, den) = f.ratio();
        percent(num as f64 / den as f64)
    };
    let verdict = |met: Option<bool>| {
        html! {
            @match met {
                Some(true) => span class="met" { (lang.t("đạt", "met")) },
                Some(false) => span class="missed" { (lang.t("chưa đạt", "not met")) },
                None => "—",
            }
        }
    };
    let on_track = match p.on_track {
        Some(true) => lang.t("có", "yes"),
        Some(false) => lang.t("không", "no"),
        None => "—",
    };
    let heading = format!("p-{}", p.id);
    html! {
        section class="card" data-programme=(p.id) aria-labelledby=(heading) {
            h3 id=(heading) { (p.name) }
            p {
                (lang.t("Giảm chi phí", "Cost reduction")) ": "
                span class="figure" data-figure="cost_reduction" { (percent_or_dash(figures.and_then(|g| g.cost_reduction.as_ref()))) }
                " / " (target(p.cost_reduction)) " — " (verdict(p.cost_target_met))
            }
            p {
                (lang.t("Giảm thời gian", "Time reduction")) ": "
                span class="figure" data-figure="time_reduction" { (percent_or_dash(figures.and_then(|g| g.time_reduction.as_ref()))) }
                " / " (target(p.time_reduction)) " — " (verdict(p.time_target_met))
            }
            p { (lang.t("Đúng tiến độ", "On track")) ": " (on_track) }
            p {
                (lang.t("Còn thiếu", "Still missing")) ": "
                span data-figure="missing_vnd" { (p.missing_vnd.as_ref().map_or("—".into(), |m| vnd(m.rounded_dong()))) }
                " " (lang.t("mỗi năm", "per year")) "; "
                span data-figure="missing_days" { (days_or_dash(p.missing_days.as_ref())) }
                " " (lang.t("ngày", "days"))
            }
            p class="muted" {
                (lang.t("Năm gốc", "Baseline")) " " (date(p.baseline_on)) " → "
                (lang.t("hạn", "deadline")) " " (date(p.deadline))
            }
        }
    }
}

/// The figures of everything at each quarter's end, from the baseline to `at.as_of`, known at `at`.
fn quarters(s: &AppState, at: Moment) -> Vec<Quarter> {
    let Ok(all) = s.live.reductions(GroupBy::All, at, None) else { return Vec::new() };
    chart::quarter_ends(all.reductions.baseline_on, at.as_of, QUARTERS)
        .into_iter()
        .filter_map(|end| {
            let r = s.live.reductions(GroupBy::All, Moment::new(end, at.known_at), None).ok()?;
            r.reductions.groups.first().map(|all| Quarter::of(end, all))
        })
        .collect()
}

/// The table by agency, sector or level; each group links to its procedures in the catalogue, and each
/// figure's cell carries the figure itself (`data-v`) for the script to sort by.
fn table(lang: Lang, by: GroupBy, groups: &[Group]) -> Markup {
    let heads = [
        lang.t("Nhóm", "Group"),
        lang.t("Chi phí gốc/năm", "Baseline cost/year"),
        lang.t("Chi phí hiện tại/năm", "Current cost/year"),
        lang.t("Giảm chi phí", "Cost −"),
        lang.t("Ngày (gốc)", "Days (baseline)"),
        lang.t("Ngày (hiện tại)", "Days (now)"),
        lang.t("Giảm thời gian", "Time −"),
        lang.t("Số thủ tục", "Procedures"),
    ];
    // An unknown figure is written `NaN`, which the script's sort compares as text, not as a number.
    let cell = |v: Option<f64>, shown: String| html! { td data-v=(v.unwrap_or(f64::NAN)) { (shown) } };
    let money = |m: Option<&projections::Money>| {
        cell(m.map(|m| m.rounded_dong() as f64), m.map_or("—".into(), |m| vnd(m.rounded_dong())))
    };
    let ratio = |r: Option<&Ratio>, shown: fn(Option<&Ratio>) -> String| cell(r.map(Ratio::to_f64), shown(r));
    html! {
        h2 id="by-group" { (lang.t("Theo nhóm", "By group")) }
        div class="wrap" {
            table id="groups" data-groups aria-labelledby="by-group" {
                thead { tr { @for h in heads { th scope="col" { button type="button" { (h) } } } } }
                tbody {
                    @for g in groups {
                        tr {
                            th scope="row" {
                                a href=(link(&format!("/catalogue?{}={}", by.as_str(), urlencode(&g.key)), lang)) { (g.key) }
                            }
                            (money(g.baseline_annual_cost_vnd.as_ref()))
                            (money(g.current_annual_cost_vnd.as_ref()))
                            (ratio(g.cost_reduction.as_ref(), percent_or_dash))
                            (ratio(g.baseline_avg_days.as_ref(), days_or_dash))
                            (ratio(g.current_avg_days.as_ref(), days_or_dash))
                            (ratio(g.time_reduction.as_ref(), percent_or_dash))
                            td { (g.roots) }
                        }
                    }
                }
            }
        }
    }
}

/// One of the latest changes: when it takes effect, the procedure it is about, what it did.
struct Latest {
    on: events::value::Date,
    code: Option<String>,
    sentence: String,
}

/// The latest changes in plain words, newest first. A merge (and a retraction of one) is one event in
/// every stream it touched: it is told once, from the stream of the procedure merged into.
fn latest_changes(s: &AppState, lang: Lang, head: u64) -> Vec<Latest> {
    let latest = s.log.read_after(head.saturating_sub(CHANGES_READ), CHANGES_READ as usize).unwrap_or_default();
    let mut retractions_told = HashSet::new();
    let once = |e: &&Event| match &e.change {
        Change::ProceduresMerged(m) => e.stream == StreamId::procedure(&m.into.code),
        Change::EntryRetracted(r) => retractions_told.insert(r.event_id),
        _ => true,
    };
    latest
        .iter()
        .rev()
        .filter(once)
        .take(CHANGES)
        .map(|e| {
            let code = e.change.subject_code().map(|c| c.as_str().to_owned());
            // A procedure's own events read as its history does; the history leaves out retracted ones.
            let told = code.as_deref().and_then(|c| {
                let stream = s.log.read_stream(&e.stream).unwrap_or_default();
                words::history(lang, c, &stream).into_iter().find(|h| h.seq == e.seq)
            });
            let sentence = told.map_or_else(|| words::change(lang, &e.change), |t| t.sentence);
            Latest { on: e.effective_on, code, sentence }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use events::event::Scope;
    use events::value::{Date, Fraction, Name, ProcedureCode, Timestamp};
    use projections::{Money, Tariffs};

    use super::*;

    fn group(key: &str, figures: bool) -> Group {
        Group {
            key: key.to_owned(),
            baseline_annual_cost_vnd: figures.then(|| Money::from_dong(2_000_000)),
            current_annual_cost_vnd: figures.then(|| Money::from_ratio(Ratio::new(3_000_001, 2)).unwrap()),
            cost_reduction: figures.then(|| Ratio::new(1, 4)),
            baseline_avg_days: figures.then(|| Ratio::new(20, 1)),
            current_avg_days: figures.then(|| Ratio::new(25, 2)),
            time_reduction: figures.then(|| Ratio::new(3, 8)),
            roots: 3,
            introduced: 0,
            baseline_volume: 10,
        }
    }

    #[test]
    fn a_group_row_shows_its_figures_the_vietnamese_way_and_sorts_by_the_figures_themselves() {
        let html = table(Lang::Vi, GroupBy::Agency, &[group("STP", true)]).into_string();
        let row = html.split("<tbody>").nth(1).unwrap_or_default();
        assert_eq!(
            row,
            "<tr><th scope=\"row\"><a href=\"/catalogue?agency=STP\">STP</a></th>\
             <td data-v=\"2000000\">2.000.000 ₫</td><td data-v=\"1500001\">1.500.001 ₫</td>\
             <td data-v=\"0.25\">25 %</td><td data-v=\"20\">20</td><td data-v=\"12.5\">12,5</td>\
             <td data-v=\"0.375\">37,5 %</td><td>3</td></tr></tbody></table></div>",
            "money rounded half-up to the đồng, as the API writes it"
        );
    }

    #[test]
    fn a_group_without_figures_shows_dashes_and_its_key_escaped_and_encoded() {
        let html = table(Lang::En, GroupBy::Sector, &[group("Hộ tịch <&> \"x\"", false)]).into_string();
        assert!(
            html.contains(
                "<a href=\"/catalogue?sector=H%E1%BB%99%20t%E1%BB%8Bch%20%3C%26%3E%20%22x%22&amp;lang=en\">\
                 Hộ tịch &lt;&amp;&gt; &quot;x&quot;</a>"
            ),
            "{html}"
        );
        assert_eq!(html.matches("<td data-v=\"NaN\">—</td>").count(), 6, "{html}");
        assert!(html.contains("<button type=\"button\">Cost −</button>"), "English heads");
    }

    fn progress(figures: Option<Group>, met: Option<bool>) -> ProgrammeProgress {
        let day = |s| Date::parse(s).unwrap();
        ProgrammeProgress {
            id: ProcedureCode::parse("de-an-30").unwrap(),
            name: Name::parse("Đề án 30 <thí điểm>").unwrap(),
            baseline_on: day("2011-01-01"),
            deadline: day("2015-12-31"),
            cost_reduction: Fraction::parse("0.3").unwrap(),
            time_reduction: Fraction::parse("0.333").unwrap(),
            scope: Scope::All,
            as_of: day("2013-12-31"),
            known_at: Timestamp::from_micros(0),
            evaluated_on: day("2013-12-31"),
            tariffs: Tariffs::default(),
            figures,
            cost_target_met: met,
            time_target_met: met.map(|m| !m),
            on_track: met,
            missing_vnd: met.map(|_| Money::from_ratio(Ratio::new(5, 2)).unwrap()),
            missing_days: met.map(|_| Ratio::new(1, 3)),
        }
    }

    #[test]
    fn a_programme_card_weighs_each_reduction_against_its_target() {
        let html = programme(Lang::Vi, &progress(Some(group("all", true)), Some(false))).into_string();
        assert!(html.starts_with(
            "<section class=\"card\" data-programme=\"de-an-30\" aria-labelledby=\"p-de-an-30\">\
             <h3 id=\"p-de-an-30\">Đề án 30 &lt;thí điểm&gt;</h3>"
        ));
        assert!(html.contains(
            "<span class=\"figure\" data-figure=\"cost_reduction\">25 %</span> / 30 % — <span class=\"missed\">chưa đạt</span>"
        ));
        assert!(html.contains(
            "<span class=\"figure\" data-figure=\"time_reduction\">37,5 %</span> / 33,3 % — <span class=\"met\">đạt</span>"
        ));
        assert!(html.contains("<p>Đúng tiến độ: không</p>"), "{html}");
        assert!(html.contains(
            "<span data-figure=\"missing_vnd\">3 ₫</span> mỗi năm; <span data-figure=\"missing_days\">0,33</span> ngày"
        ));
        assert!(html.ends_with("<p class=\"muted\">Năm gốc 01/01/2011 → hạn 31/12/2015</p></section>"), "{html}");
    }

    #[test]
    fn a_programme_before_its_baseline_has_dashes_for_figures() {
        let html = programme(Lang::En, &progress(None, None)).into_string();
        assert!(html.contains("data-figure=\"cost_reduction\">—</span> / 30 % — —</p>"), "{html}");
        assert!(html.contains("<p>On track: —</p>"), "{html}");
        assert!(html.contains(
            "data-figure=\"missing_vnd\">—</span> per year; <span data-figure=\"missing_days\">—</span> days"
        ));
    }
}
