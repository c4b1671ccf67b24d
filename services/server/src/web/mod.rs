//! The pages people read: the dashboard at `/` (reform leaders) and the public catalogue at
//! `/catalogue` (citizens and businesses), rendered on the server as semantic HTML with SVG charts, in
//! Vietnamese first (`?lang=en` for English), live through `/v1/subscribe`.

pub mod words;

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use events::StreamId;
use events::value::{Date, ProcedureCode};
use projections::{GroupBy, Moment};
use serde_json::Value;

use crate::http::AppState;
use crate::http::problem::Problem;
use crate::http::query::{Params, fold};
use words::{Lang, date, esc, percent, vnd};

const STYLE: &str = r#"
:root { --ink:#1b1f24; --muted:#50575f; --line:#d0d4d9; --accent:#0b5cad; --good:#1d7a3a; --bad:#b3261e; }
* { box-sizing: border-box; }
body { font-family: system-ui, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: var(--ink); margin: 0; line-height: 1.5; }
header, main, footer { max-width: 72rem; margin: 0 auto; padding: 0 1rem; }
header { display:flex; flex-wrap:wrap; column-gap:1rem; align-items:center; justify-content:space-between; border-bottom:1px solid var(--line); padding-bottom:.6rem; }
main > form { margin-top: 1rem; }
h1 { font-size: 1.4rem; margin: .8rem 0; } h2 { font-size: 1.15rem; margin-top: 1.6rem; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid #b35900; outline-offset: 2px; }
summary { cursor: pointer; color: var(--accent); }
.cards { display:grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: 1rem; }
.card { border:1px solid var(--line); border-radius:.5rem; padding: .8rem 1rem; }
.figure { font-size: 1.6rem; font-weight: 700; }
.met { color: var(--good); } .missed { color: var(--bad); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: right; }
td { white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
.wrap th:first-child { position: sticky; left: 0; background: #fff; }
th button { font: inherit; font-weight: 700; background: none; border: 0; cursor: pointer; color: var(--ink); padding: 0; }
.wrap { overflow-x: auto; }
form.inline { display:flex; gap:.5rem; align-items:center; flex-wrap: wrap; }
input, select, button.go { font: inherit; padding: .3rem .5rem; }
.muted { color: var(--muted); } ul.changes { padding-left: 1.2rem; }
figure { margin: 0; }
.charts { display:grid; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); gap: 1rem 2rem; }
figure.chart svg { display:block; width:100%; height:auto; }
figure.chart figcaption { color: var(--muted); font-size: .95rem; }
figure.chart svg text { font-size: 20px; fill: var(--muted); }
ul.legend { list-style:none; padding:0; display:flex; flex-wrap:wrap; gap:.3rem 1.5rem; margin:.4rem 0; }
dl { display:grid; grid-template-columns: minmax(10rem, max-content) 1fr; gap:.3rem 1rem; }
dt { font-weight: 700; } dd { margin: 0; } dd ul { margin: 0; padding-left: 1.2rem; }
@media (max-width: 40rem) {
  figure.chart svg text { font-size: 28px; } figure.chart svg text.minor { display: none; }
  dl { grid-template-columns: 1fr; } dd { margin: 0 0 .4rem 0; }
}
"#;

/// Keeps the page live and sorts tables by a column. It subscribes from the log head the page was rendered
/// at (`?after=`), so an event recorded between the render and the subscription is not missed, and it
/// fetches the page again until the fresh copy has reached the last event seen. Only `#live` is replaced,
/// so the form keeps the focus and what is being typed; a sorted table stays sorted.
const SCRIPT: &str = r#"
(function () {
  var main = document.querySelector('main');
  var seen = Number(main.getAttribute('data-head')) || 0, busy = false, sorted = null;
  function refresh() {
    if (busy || Number(main.getAttribute('data-head')) >= seen) return;
    busy = true;
    fetch(location.href, {headers: {'Accept': 'text/html'}}).then(function (r) { return r.text(); }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, 'text/html');
      var fresh = doc.querySelector('main'), live = document.getElementById('live'), freshLive = doc.getElementById('live');
      if (fresh && live && freshLive) {
        live.innerHTML = freshLive.innerHTML;
        main.setAttribute('data-head', fresh.getAttribute('data-head'));
        if (sorted) sortBy(document.querySelector(sorted.table + ' thead tr').children[sorted.column], sorted.asc);
      }
      busy = false; setTimeout(refresh, 250);
    }).catch(function () { busy = false; setTimeout(refresh, 2000); });
  }
  function heard(e) { seen = Math.max(seen, Number(e.lastEventId) || 0); refresh(); }
  if (window.EventSource && document.body.getAttribute('data-live') === '1') {
    var token = new URLSearchParams(location.search).get('token');
    var source = new EventSource('/v1/subscribe?after=' + seen + (token ? '&token=' + encodeURIComponent(token) : ''));
    source.onmessage = heard;
    ['ProcedureRegistered','ProcedureSimplified','ProcedureAmended','EstimateRevised','ProceduresMerged',
     'ProcedureAbolished','EntryRetracted','TariffSet','ProgrammeDefined'].forEach(function (t) {
      source.addEventListener(t, heard);
    });
  }
  function sortBy(th, asc) {
    var table = th.closest('table'), i = Array.prototype.indexOf.call(th.parentElement.children, th);
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    rows.sort(function (x, y) {
      var a = x.cells[i].getAttribute('data-v') || x.cells[i].textContent, c = y.cells[i].getAttribute('data-v') || y.cells[i].textContent;
      var na = parseFloat(a), nc = parseFloat(c);
      var r = (!isNaN(na) && !isNaN(nc)) ? na - nc : a.localeCompare(c, 'vi');
      return asc ? r : -r;
    });
    Array.prototype.forEach.call(th.parentElement.children, function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
    rows.forEach(function (r) { table.tBodies[0].appendChild(r); });
    sorted = {table: table.id ? '#' + table.id : 'table', column: i, asc: asc};
  }
  document.addEventListener('click', function (e) {
    var b = e.target.closest('th button'); if (!b) return;
    var th = b.parentElement;
    sortBy(th, th.getAttribute('aria-sort') !== 'ascending');
    b.focus();
  });
})();
"#;

/// A whole page: `title` heads it (h1); the browser's tab shows `subject — title` when there is a subject.
fn page(
    lang: Lang,
    title: &str,
    subject: Option<&str>,
    head: u64,
    live: bool,
    body: &str,
    switch_to: &str,
) -> Response {
    let other = match lang {
        Lang::Vi => format!("<a href=\"{switch_to}\" lang=\"en\">English</a>"),
        Lang::En => format!("<a href=\"{switch_to}\" lang=\"vi\">Tiếng Việt</a>"),
    };
    let html = format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{STYLE}</style></head>\
         <body data-live=\"{}\"><header><h1>{}</h1><nav aria-label=\"{}\"><a href=\"/\">{}</a> · <a href=\"/catalogue\">{}</a> · {other}</nav></header>\
         <main data-head=\"{head}\">{body}</main><footer class=\"muted\"><p>p30 — Đề án 30</p></footer>\
         <script>{SCRIPT}</script></body></html>",
        lang.code(),
        esc(&subject.map_or(title.to_owned(), |s| format!("{s} — {title}"))),
        u8::from(live),
        esc(title),
        lang.t("Điều hướng", "Navigation"),
        lang.t("Bảng theo dõi", "Dashboard"),
        lang.t("Danh mục thủ tục", "Catalogue"),
    );
    let mut response = (StatusCode::OK, html).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    response
}

fn money(v: &Value) -> Option<u128> {
    v.as_u64().map(u128::from).or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

fn with_lang(path: &str, lang: Lang) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    if lang == Lang::En { format!("{path}{sep}lang=en") } else { path.to_owned() }
}

/// One quarter's end on the charts: baseline and current annual cost and average days (null where a
/// tariff or a volume is missing).
struct Quarter {
    end: Date,
    baseline: Option<u128>,
    current: Option<u128>,
    baseline_days: Option<f64>,
    current_days: Option<f64>,
}

/// A line chart of baseline (dashed) against current (solid) over the quarters, as SVG drawn on the server.
/// Its text is sized by CSS: larger in the drawing's units at phone width, where the drawing is scaled down,
/// and with the inner date labels (`minor`) left out there.
fn chart(
    label: &str,
    points: &[Quarter],
    pick: fn(&Quarter) -> (Option<f64>, Option<f64>),
    unit: &dyn Fn(f64) -> String,
) -> String {
    let (w, h, left, right, top, bottom) = (720.0, 260.0, 24.0, 24.0, 44.0, 52.0);
    let max = points
        .iter()
        .flat_map(|p| {
            let (a, b) = pick(p);
            [a, b]
        })
        .flatten()
        .fold(0.0_f64, f64::max);
    let max = if max > 0.0 { max } else { 1.0 };
    let x = |i: usize| left + (w - left - right) * i as f64 / (points.len().max(2) - 1) as f64;
    let y = |v: f64| h - bottom - (h - top - bottom) * v / max;
    let line = |second: bool| {
        points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let (a, b) = pick(p);
                if second { b } else { a }.map(|v| format!("{:.1},{:.1}", x(i), y(v)))
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    // Four date labels (a label is about a sixth of the width): the first and the last always, the two
    // between only where there is room for them (not at phone width, see the CSS).
    let last = points.len().saturating_sub(1);
    let marks: Vec<usize> =
        if last >= 3 { vec![0, (last + 1) / 3, (2 * last + 1) / 3, last] } else { (0..=last).collect() };
    let labels: String = points
        .iter()
        .enumerate()
        .filter(|(i, _)| marks.contains(i))
        .map(|(i, p)| {
            let (anchor, class) = match i {
                0 => ("start", ""),
                i if i == last => ("end", ""),
                _ => ("middle", " class=\"minor\""),
            };
            format!(
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"{anchor}\"{class}>{}</text>",
                x(i),
                h - bottom + 30.0,
                date(p.end)
            )
        })
        .collect();
    format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">\
         <line x1=\"{left}\" y1=\"{top}\" x2=\"{r}\" y2=\"{top}\" stroke=\"#e3e6e9\"/>\
         <line x1=\"{left}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#9aa1a8\"/>\
         <text x=\"{left}\" y=\"{}\">{}</text><text x=\"{r}\" y=\"{}\" text-anchor=\"end\">0</text>\
         <polyline fill=\"none\" stroke=\"#50575f\" stroke-width=\"2\" stroke-dasharray=\"6 4\" points=\"{}\"/>\
         <polyline fill=\"none\" stroke=\"#0b5cad\" stroke-width=\"3\" points=\"{}\"/>{labels}</svg>",
        esc(label),
        top - 10.0,
        esc(&unit(max)),
        h - bottom - 6.0,
        line(false),
        line(true),
        b = h - bottom,
        r = w - right,
    )
}

/// The two charts, their legend, and the same figures as a table for those who cannot see the charts.
fn charts(lang: Lang, points: &[Quarter]) -> String {
    let money = |v: f64| vnd(v.round() as u128);
    let days = |v: f64| format!("{} {}", words::decimal(v, 2), lang.t("ngày", "days"));
    let cost_label =
        lang.t("Chi phí tuân thủ hằng năm (đồng/năm), theo quý", "Annual compliance cost (VND per year), by quarter");
    let days_label = lang.t(
        "Thời hạn giải quyết bình quân (ngày làm việc), theo quý",
        "Average processing time (working days), by quarter",
    );
    let legend = format!(
        "<ul class=\"legend\"><li><svg width=\"32\" height=\"10\" aria-hidden=\"true\"><line x1=\"0\" y1=\"5\" x2=\"32\" y2=\"5\" \
         stroke=\"#50575f\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/></svg> {}</li><li><svg width=\"32\" height=\"10\" \
         aria-hidden=\"true\"><line x1=\"0\" y1=\"5\" x2=\"32\" y2=\"5\" stroke=\"#0b5cad\" stroke-width=\"3\"/></svg> {}</li></ul>",
        lang.t("năm gốc", "baseline"),
        lang.t("hiện tại", "current"),
    );
    let rows: String = points
        .iter()
        .map(|p| {
            let cell = |v: Option<String>| format!("<td>{}</td>", v.unwrap_or_else(|| "—".into()));
            format!(
                "<tr><th scope=\"row\">{}</th>{}{}{}{}</tr>",
                date(p.end),
                cell(p.baseline.map(vnd)),
                cell(p.current.map(vnd)),
                cell(p.baseline_days.map(|d| words::decimal(d, 2))),
                cell(p.current_days.map(|d| words::decimal(d, 2))),
            )
        })
        .collect();
    format!(
        "{legend}<div class=\"charts\"><figure class=\"chart\">{}<figcaption>{}</figcaption></figure>\
         <figure class=\"chart\">{}<figcaption>{}</figcaption></figure></div>\
         <details><summary>{}</summary><div class=\"wrap\"><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
         <th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>{rows}</tbody></table></div></details>\
         <p class=\"muted\">{}</p>",
        chart(cost_label, points, |p| (p.baseline.map(|v| v as f64), p.current.map(|v| v as f64)), &money),
        esc(cost_label),
        chart(days_label, points, |p| (p.baseline_days, p.current_days), &days),
        esc(days_label),
        lang.t("Số liệu của biểu đồ", "The charts' figures"),
        lang.t("Cuối quý", "Quarter's end"),
        lang.t("Chi phí gốc/năm", "Baseline cost/year"),
        lang.t("Chi phí hiện tại/năm", "Current cost/year"),
        lang.t("Ngày (gốc)", "Days (baseline)"),
        lang.t("Ngày (hiện tại)", "Days (now)"),
        lang.t(
            "Vào cuối mỗi quý, theo giá cố định (đơn giá thời gian tại ngày xem); số ngày tính bình quân theo số hồ sơ năm gốc.",
            "At the end of each quarter, at constant prices (the time tariffs in force on the date shown); days are averaged over the baseline volumes.",
        ),
    )
}

/// The quarters' ends from `start` to `until`, at most `most` of them, evenly spread, the last always in.
fn quarter_ends(start: Date, until: Date, most: usize) -> Vec<Date> {
    let mut all = Vec::new();
    let (mut year, mut quarter) = (start.inner().year(), (u8::from(start.inner().month()) - 1) / 3);
    loop {
        let end_month = quarter * 3 + 3;
        let Some(end) = Date::from_ymd(year, end_month, if end_month == 6 || end_month == 9 { 30 } else { 31 }) else {
            break;
        };
        if end > until {
            break;
        }
        all.push(end);
        quarter += 1;
        if quarter == 4 {
            quarter = 0;
            year += 1;
        }
    }
    let every = all.len().div_ceil(most.max(1)).max(1);
    let last = all.len().saturating_sub(1);
    all.into_iter().enumerate().filter(|(i, _)| (last - i) % every == 0).map(|(_, d)| d).collect()
}

/// `GET /`: the dashboard.
pub async fn dashboard(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    s.authorize_read(&headers, q.get("token").map(String::as_str))?;
    let q = Params(q).only(&["as_of", "group_by", "lang"])?;
    let lang = Lang::from_query(q.get("lang"));
    let as_of = q.date("as_of")?;
    let by = q.group_by().map(|b| if b == GroupBy::All { GroupBy::Agency } else { b })?;
    let head = s.log.head();
    s.live.caught_up(head).await;
    let now = crate::live::now();
    let at = Moment::new(as_of.unwrap_or(now.as_of), now.known_at);
    let mut body = String::new();
    body.push_str(&format!(
        "<form class=\"inline\" method=\"get\" action=\"/\"><label for=\"as_of\">{}</label>\
         <input type=\"date\" id=\"as_of\" name=\"as_of\" value=\"{}\"><label for=\"group_by\">{}</label>\
         <select id=\"group_by\" name=\"group_by\">{}</select>{}<button class=\"go\" type=\"submit\">{}</button></form>",
        lang.t("Tính đến ngày", "As of"),
        at.as_of,
        lang.t("Nhóm theo", "Group by"),
        [("agency", lang.t("cơ quan", "agency")), ("sector", lang.t("lĩnh vực", "sector")), ("level", lang.t("cấp", "level"))]
            .iter()
            .map(|(v, l)| format!("<option value=\"{v}\"{}>{l}</option>", if by.as_str() == *v { " selected" } else { "" }))
            .collect::<String>(),
        if lang == Lang::En { "<input type=\"hidden\" name=\"lang\" value=\"en\">" } else { "" },
        lang.t("Xem", "Show"),
    ));
    // The headline: each programme against its targets.
    let programmes = s.live.programmes(at);
    // Everything below the form is `#live`: the script replaces it when the log moves.
    body.push_str(&format!(
        "<div id=\"live\"><h2>{}</h2><div class=\"cards\">",
        lang.t("Chương trình cải cách", "Reform programmes")
    ));
    if programmes.is_empty() {
        body.push_str(&format!("<p class=\"muted\">{}</p>", lang.t("Chưa có chương trình nào.", "No programme yet.")));
    }
    for p in &programmes {
        let v = serde_json::to_value(p).unwrap_or(Value::Null);
        let f = &v["figures"];
        let (cost, time) = (f["cost_reduction"].as_f64(), f["time_reduction"].as_f64());
        let verdict = |met: &Value| match met.as_bool() {
            Some(true) => format!("<span class=\"met\">{}</span>", lang.t("đạt", "met")),
            Some(false) => format!("<span class=\"missed\">{}</span>", lang.t("chưa đạt", "not met")),
            None => "—".into(),
        };
        body.push_str(&format!(
            "<section class=\"card\" data-programme=\"{id}\" aria-labelledby=\"p-{id}\"><h3 id=\"p-{id}\">{name}</h3>\
             <p>{cost_l}: <span class=\"figure\" data-figure=\"cost_reduction\">{cost}</span> / {cost_t} — {cost_v}</p>\
             <p>{time_l}: <span class=\"figure\" data-figure=\"time_reduction\">{time}</span> / {time_t} — {time_v}</p>\
             <p>{track_l}: {track}</p><p>{miss_l}: <span data-figure=\"missing_vnd\">{miss_vnd}</span> {per_year}; \
             <span data-figure=\"missing_days\">{miss_days}</span> {days_l}</p>\
             <p class=\"muted\">{base_l} {base} → {deadline_l} {deadline}</p></section>",
            id = esc(p.id.as_str()),
            name = esc(p.name.as_str()),
            cost_l = lang.t("Giảm chi phí", "Cost reduction"),
            cost = cost.map_or("—".into(), percent),
            cost_t = percent(v["cost_reduction"].as_f64().unwrap_or(0.0)),
            cost_v = verdict(&v["cost_target_met"]),
            time_l = lang.t("Giảm thời gian", "Time reduction"),
            time = time.map_or("—".into(), percent),
            time_t = percent(v["time_reduction"].as_f64().unwrap_or(0.0)),
            time_v = verdict(&v["time_target_met"]),
            track_l = lang.t("Đúng tiến độ", "On track"),
            track = match v["on_track"].as_bool() {
                Some(true) => lang.t("có", "yes"),
                Some(false) => lang.t("không", "no"),
                None => "—",
            },
            miss_l = lang.t("Còn thiếu", "Still missing"),
            miss_vnd = money(&v["missing_vnd"]).map_or("—".into(), vnd),
            per_year = lang.t("mỗi năm", "per year"),
            miss_days = v["missing_days"].as_f64().map_or("—".into(), |d| words::decimal(d, 2)),
            days_l = lang.t("ngày", "days"),
            base_l = lang.t("Năm gốc", "Baseline"),
            base = date(p.baseline_on),
            deadline_l = lang.t("hạn", "deadline"),
            deadline = date(p.deadline),
        ));
    }
    body.push_str("</div>");
    // The charts: quarters from the baseline to as_of (at most 40, spread over the whole span).
    let all = s.live.reductions(GroupBy::All, at, None).ok();
    if let Some(all) = &all {
        let mut points = Vec::new();
        for end in quarter_ends(all.reductions.baseline_on, at.as_of, 40) {
            if let Ok(r) = s.live.reductions(GroupBy::All, Moment::new(end, at.known_at), None) {
                let g = serde_json::to_value(&r.reductions.groups[0]).unwrap_or(Value::Null);
                points.push(Quarter {
                    end,
                    baseline: money(&g["baseline_annual_cost_vnd"]),
                    current: money(&g["current_annual_cost_vnd"]),
                    baseline_days: g["baseline_avg_days"].as_f64(),
                    current_days: g["current_avg_days"].as_f64(),
                });
            }
        }
        if points.len() >= 2 {
            body.push_str(&format!("<h2>{}</h2>{}", lang.t("Diễn biến theo quý", "By quarter"), charts(lang, &points)));
        }
    }
    // The table by agency, sector or level.
    if let Ok(r) = s.live.reductions(by, at, None) {
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
        body.push_str(&format!(
            "<h2 id=\"by-group\">{}</h2><div class=\"wrap\"><table id=\"groups\" data-groups aria-labelledby=\"by-group\"><thead><tr>{}</tr></thead><tbody>",
            lang.t("Theo nhóm", "By group"),
            heads
                .iter()
                .map(|h| format!("<th scope=\"col\"><button type=\"button\">{h}</button></th>"))
                .collect::<String>()
        ));
        let filter = match by {
            GroupBy::Agency => "agency",
            GroupBy::Sector => "sector",
            _ => "level",
        };
        for g in &r.reductions.groups {
            let g = serde_json::to_value(g).unwrap_or(Value::Null);
            let key = g["key"].as_str().unwrap_or("");
            let cell = |v: Option<f64>, shown: String| format!("<td data-v=\"{}\">{shown}</td>", v.unwrap_or(f64::NAN));
            body.push_str(&format!(
                "<tr><th scope=\"row\"><a href=\"{}\">{}</a></th>{}{}{}{}{}{}<td>{}</td></tr>",
                esc(&with_lang(&format!("/catalogue?{filter}={}", urlencode(key)), lang)),
                esc(key),
                cell(
                    money(&g["baseline_annual_cost_vnd"]).map(|v| v as f64),
                    money(&g["baseline_annual_cost_vnd"]).map_or("—".into(), vnd)
                ),
                cell(
                    money(&g["current_annual_cost_vnd"]).map(|v| v as f64),
                    money(&g["current_annual_cost_vnd"]).map_or("—".into(), vnd)
                ),
                cell(g["cost_reduction"].as_f64(), g["cost_reduction"].as_f64().map_or("—".into(), percent)),
                cell(
                    g["baseline_avg_days"].as_f64(),
                    g["baseline_avg_days"].as_f64().map_or("—".into(), |d| words::decimal(d, 2))
                ),
                cell(
                    g["current_avg_days"].as_f64(),
                    g["current_avg_days"].as_f64().map_or("—".into(), |d| words::decimal(d, 2))
                ),
                cell(g["time_reduction"].as_f64(), g["time_reduction"].as_f64().map_or("—".into(), percent)),
                g["roots"],
            ));
        }
        body.push_str("</tbody></table></div>");
    }
    // The latest changes, in plain words. A merge (and a retraction of one) is one event in every stream it
    // touched: it is told once, from the stream of the procedure merged into.
    let latest = s.log.read_after(head.saturating_sub(40), 40).unwrap_or_default();
    body.push_str(&format!("<h2>{}</h2><ul class=\"changes\">", lang.t("Thay đổi mới nhất", "Latest changes")));
    let mut retractions_told = std::collections::HashSet::new();
    let once = |e: &&events::Event| match &e.change {
        events::Change::ProceduresMerged(m) => e.stream == StreamId::procedure(&m.into.code),
        events::Change::EntryRetracted(r) => retractions_told.insert(r.event_id),
        _ => true,
    };
    for e in latest.iter().rev().filter(once).take(10) {
        let code = e.change.subject_code().map(|c| c.as_str().to_owned());
        let stream = s.log.read_stream(&e.stream).unwrap_or_default();
        let sentence = code
            .as_deref()
            .and_then(|c| words::history(lang, c, &stream).into_iter().find(|h| h.1 == e.seq).map(|h| h.2))
            .unwrap_or_else(|| match &e.change {
                events::Change::ProgrammeDefined(p) => {
                    format!("{} {}", lang.t("xác định chương trình", "programme defined:"), p.name)
                }
                events::Change::TariffSet(t) => format!(
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
                events::Change::EntryRetracted(r) => {
                    format!("{}: {}", lang.t("rút lại một ghi nhận", "entry retracted"), r.reason)
                }
                other => other.type_name().to_owned(),
            });
        let link = code.map_or(String::new(), |c| {
            format!(": <a href=\"{}\">{}</a>", esc(&with_lang(&format!("/catalogue/{c}"), lang)), esc(&c))
        });
        body.push_str(&format!(
            "<li><time datetime=\"{}\">{}</time>{link} — {}</li>",
            e.effective_on,
            date(e.effective_on),
            esc(&sentence)
        ));
    }
    body.push_str("</ul></div>");
    let title = lang.t("Theo dõi đơn giản hóa thủ tục hành chính", "Administrative procedure simplification");
    let switch = if lang == Lang::En { "/".to_owned() } else { "/?lang=en".to_owned() };
    Ok(page(lang, title, None, head, true, &body, &switch))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `GET /catalogue`: search the active procedures (diacritics ignored).
pub async fn catalogue(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    let q = Params(q).only(&["q", "agency", "sector", "level", "lang"])?;
    let lang = Lang::from_query(q.get("lang"));
    let head = s.log.head();
    s.live.caught_up(head).await;
    let at = crate::live::now();
    let needle = q.get("q").map(fold).filter(|n| !n.is_empty());
    let mut body = format!(
        "<form class=\"inline\" role=\"search\" method=\"get\" action=\"/catalogue\"><label for=\"q\">{}</label>\
         <input id=\"q\" name=\"q\" type=\"search\" value=\"{}\" placeholder=\"{}\">{}<button class=\"go\" type=\"submit\">{}</button></form>",
        lang.t("Tìm thủ tục", "Find a procedure"),
        esc(q.get("q").unwrap_or("")),
        lang.t("ví dụ: dang ky khai sinh", "e.g. dang ky khai sinh"),
        if lang == Lang::En { "<input type=\"hidden\" name=\"lang\" value=\"en\">" } else { "" },
        lang.t("Tìm", "Search"),
    );
    let projection = s.live.projection.read().unwrap_or_else(|p| p.into_inner());
    let mut items = Vec::new();
    for listed in projection.procedures(None, at) {
        if listed.status != projections::Status::Active {
            continue;
        }
        let p = &listed.procedure;
        let keep = q.get("agency").is_none_or(|a| p.agency.as_str() == a)
            && q.get("sector").is_none_or(|x| p.sector.as_str() == x)
            && q.get("level").is_none_or(|l| p.level.as_str() == l)
            && needle.as_ref().is_none_or(|n| {
                [p.code.as_str(), p.name.as_str(), p.sector.as_str(), p.agency.as_str()]
                    .iter()
                    .any(|h| fold(h).contains(n))
            });
        if keep {
            items.push(format!(
                "<li><a href=\"{}\">{}</a> <span class=\"muted\">— {} · {} · {} {}</span></li>",
                esc(&with_lang(&format!("/catalogue/{}", p.code), lang)),
                esc(p.name.as_str()),
                esc(p.code.as_str()),
                esc(p.agency.as_str()),
                p.processing_days.to_string().replace('.', ","),
                lang.t("ngày làm việc", "working days"),
            ));
        }
        if items.len() >= 200 {
            break;
        }
    }
    body.push_str(&format!(
        "<p class=\"muted\">{} {}</p><ul>{}</ul>",
        items.len(),
        lang.t("thủ tục", "procedures"),
        items.join("")
    ));
    let title = lang.t("Danh mục thủ tục hành chính", "Catalogue of administrative procedures");
    let switch = if lang == Lang::En { "/catalogue".to_owned() } else { "/catalogue?lang=en".to_owned() };
    Ok(page(lang, title, None, head, false, &body, &switch))
}

/// `GET /catalogue/{code}`: what a procedure needs today, its history in plain words, and what replaced it.
pub async fn catalogue_entry(
    State(s): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    let q = Params(q).only(&["lang"])?;
    let lang = Lang::from_query(q.get("lang"));
    let code = ProcedureCode::parse(&code)
        .map_err(|_| Problem::not_found("code", format!("there is no procedure {code:?}")))?;
    let head = s.log.head();
    s.live.caught_up(head).await;
    let at = crate::live::now();
    let view = s.live.projection.read().unwrap_or_else(|p| p.into_inner()).procedure(code.as_str(), at, None);
    let view = view.map_err(|e| Problem::not_found("code", e.to_string()))?;
    let p = &view.current;
    let mut body = format!(
        "<h2>{}</h2><p class=\"muted\">{} · {} · {}</p>",
        esc(p.name.as_str()),
        esc(p.code.as_str()),
        esc(p.agency.as_str()),
        esc(p.sector.as_str())
    );
    match view.status {
        projections::Status::Active => {}
        projections::Status::Merged => body.push_str(&format!(
            "<p><strong>{}</strong> <a href=\"{}\">{}</a></p>",
            lang.t("Thủ tục này đã được hợp nhất vào", "This procedure was merged into"),
            esc(&with_lang(&format!("/catalogue/{}", view.terminal.as_ref().map_or("", |t| t.as_str())), lang)),
            esc(view.terminal.as_ref().map_or("", |t| t.as_str())),
        )),
        projections::Status::Abolished => body.push_str(&format!(
            "<p><strong>{}</strong></p>",
            lang.t("Thủ tục này đã bị bãi bỏ.", "This procedure was abolished.")
        )),
    }
    let docs: String = p
        .documents
        .iter()
        .map(|d| format!("<li>{} — {} {}</li>", esc(d.name.as_str()), d.copies, lang.t("bản", "copies")))
        .collect();
    body.push_str(&format!(
        "<dl><dt>{}</dt><dd>{} {}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd><ul>{}</ul></dd><dt>{}</dt><dd>{}</dd></dl>",
        lang.t("Thời hạn giải quyết", "Processing time"),
        p.processing_days.to_string().replace('.', ","),
        lang.t("ngày làm việc", "working days"),
        lang.t("Phí, lệ phí", "Fees"),
        vnd(p.fee_vnd.get().into()),
        lang.t("Số bước thực hiện", "Steps"),
        p.steps,
        lang.t("Dịch vụ công trực tuyến", "Online service"),
        words::online_label(lang, p.online),
        lang.t("Thành phần hồ sơ", "Documents"),
        if docs.is_empty() { format!("<li>{}</li>", lang.t("không yêu cầu", "none required")) } else { docs },
        lang.t("Căn cứ pháp lý", "Legal basis"),
        esc(p.legal_basis.as_str()),
    ));
    let events = s.log.read_stream(&StreamId::procedure(&code)).unwrap_or_default();
    let history: String = words::history(lang, code.as_str(), &events)
        .into_iter()
        .map(|(d, _, text)| format!("<li><time datetime=\"{d}\">{}</time>: {}</li>", date(d), esc(&text)))
        .collect();
    body.push_str(&format!("<h3>{}</h3><ul class=\"changes\">{history}</ul>", lang.t("Lịch sử", "History")));
    let title = lang.t("Danh mục thủ tục hành chính", "Catalogue of administrative procedures");
    let switch = if lang == Lang::En { format!("/catalogue/{code}") } else { format!("/catalogue/{code}?lang=en") };
    Ok(page(lang, title, Some(p.name.as_str()), head, false, &body, &switch))
}
