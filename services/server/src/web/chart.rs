//! The dashboard's charts: baseline against current annual cost and average days, by quarter, as SVG drawn
//! on the server, with the same figures as a table for those who cannot see the charts.

use std::fmt::Display;

use events::value::Date;
use maud::{Markup, html};
use projections::{Group, Money, Ratio};

use super::page::Empty;
use super::words::{self, Lang, date, vnd};

/// One quarter's end on the charts: baseline and current annual cost and average days (`None` where a
/// tariff or a volume is missing).
#[derive(Clone, Debug, PartialEq)]
pub struct Quarter {
    pub end: Date,
    pub baseline: Option<u128>,
    pub current: Option<u128>,
    pub baseline_days: Option<f64>,
    pub current_days: Option<f64>,
}

impl Quarter {
    /// The figures of the whole (a reductions group of everything) at the quarter's `end`, as the API
    /// writes them: money rounded to the đồng, ratios as the nearest `f64`.
    pub fn of(end: Date, all: &Group) -> Self {
        Self {
            end,
            baseline: all.baseline_annual_cost_vnd.as_ref().map(Money::rounded_dong),
            current: all.current_annual_cost_vnd.as_ref().map(Money::rounded_dong),
            baseline_days: all.baseline_avg_days.as_ref().map(Ratio::to_f64),
            current_days: all.current_avg_days.as_ref().map(Ratio::to_f64),
        }
    }
}

/// The quarters' ends from `start` to `until`, at most `most` of them, evenly spread, the last always in.
pub fn quarter_ends(start: Date, until: Date, most: usize) -> Vec<Date> {
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

/// How the baseline is drawn: a thin dashed grey line.
const BASELINE: &[(&str, &dyn Display)] =
    &[("stroke", &"#50575f"), ("stroke-width", &"2"), ("stroke-dasharray", &"6 4")];
/// How today's figures are drawn: a thicker solid blue line.
const CURRENT: &[(&str, &dyn Display)] = &[("stroke", &"#0b5cad"), ("stroke-width", &"3")];

/// A coordinate to a tenth of a unit of the drawing.
fn tenth(v: f64) -> String {
    format!("{v:.1}")
}

/// A line chart of baseline (dashed) against current (solid) over the quarters. Its text is sized by CSS:
/// larger in the drawing's units at phone width, where the drawing is scaled down, and with the inner date
/// labels (`minor`) left out there.
fn chart(
    label: &str,
    points: &[Quarter],
    pick: fn(&Quarter) -> (Option<f64>, Option<f64>),
    unit: &dyn Fn(f64) -> String,
) -> Markup {
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
                if second { b } else { a }.map(|v| format!("{},{}", tenth(x(i)), tenth(y(v))))
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    // Four date labels (a label is about a sixth of the width): the first and the last always, the two
    // between only where there is room for them (not at phone width, see the CSS).
    let last = points.len().saturating_sub(1);
    let marks: Vec<usize> =
        if last >= 3 { vec![0, (last + 1) / 3, (2 * last + 1) / 3, last] } else { (0..=last).collect() };
    let (r, b) = (w - right, h - bottom);
    let (baseline, current) = (line(false), line(true));
    html! {
        svg viewBox=(format!("0 0 {w} {h}")) role="img" aria-label=(label) {
            (Empty::new("line").attrs(&[("x1", &left), ("y1", &top), ("x2", &r), ("y2", &top), ("stroke", &"#e3e6e9")]))
            (Empty::new("line").attrs(&[("x1", &left), ("y1", &b), ("x2", &r), ("y2", &b), ("stroke", &"#9aa1a8")]))
            text x=(left) y=(top - 10.0) { (unit(max)) }
            text x=(r) y=(h - bottom - 6.0) text-anchor="end" { "0" }
            (Empty::new("polyline").attr("fill", &"none").attrs(BASELINE).attr("points", &baseline))
            (Empty::new("polyline").attr("fill", &"none").attrs(CURRENT).attr("points", &current))
            @for (i, p) in points.iter().enumerate().filter(|(i, _)| marks.contains(i)) {
                @let (anchor, minor) = match i {
                    0 => ("start", None),
                    i if i == last => ("end", None),
                    _ => ("middle", Some("minor")),
                };
                text x=(tenth(x(i))) y=(h - bottom + 30.0) text-anchor=(anchor) class=[minor] { (date(p.end)) }
            }
        }
    }
}

/// A legend's sample of a line, drawn as the chart draws it.
fn sample(stroke: &[(&'static str, &dyn Display)]) -> Markup {
    let line = Empty::new("line").attrs(&[("x1", &0), ("y1", &5), ("x2", &32), ("y2", &5)]).attrs(stroke);
    html! { svg width="32" height="10" aria-hidden="true" { (line) } }
}

/// The two charts, their legend, and the same figures as a table.
pub fn charts(lang: Lang, points: &[Quarter]) -> Markup {
    let money = |v: f64| vnd(v.round() as u128);
    let days = |v: f64| format!("{} {}", words::decimal(v, 2), lang.t("ngày", "days"));
    let cost_label =
        lang.t("Chi phí tuân thủ hằng năm (đồng/năm), theo quý", "Annual compliance cost (VND per year), by quarter");
    let days_label = lang.t(
        "Thời hạn giải quyết bình quân (ngày làm việc), theo quý",
        "Average processing time (working days), by quarter",
    );
    let cell = |v: Option<String>| html! { td { (v.as_deref().unwrap_or("—")) } };
    html! {
        ul class="legend" {
            li { (sample(BASELINE)) " " (lang.t("năm gốc", "baseline")) }
            li { (sample(CURRENT)) " " (lang.t("hiện tại", "current")) }
        }
        div class="charts" {
            figure class="chart" {
                (chart(cost_label, points, |p| (p.baseline.map(|v| v as f64), p.current.map(|v| v as f64)), &money))
                figcaption { (cost_label) }
            }
            figure class="chart" {
                (chart(days_label, points, |p| (p.baseline_days, p.current_days), &days))
                figcaption { (days_label) }
            }
        }
        details {
            summary { (lang.t("Số liệu của biểu đồ", "The charts' figures")) }
            div class="wrap" {
                table {
                    thead {
                        tr {
                            th scope="col" { (lang.t("Cuối quý", "Quarter's end")) }
                            th scope="col" { (lang.t("Chi phí gốc/năm", "Baseline cost/year")) }
                            th scope="col" { (lang.t("Chi phí hiện tại/năm", "Current cost/year")) }
                            th scope="col" { (lang.t("Ngày (gốc)", "Days (baseline)")) }
                            th scope="col" { (lang.t("Ngày (hiện tại)", "Days (now)")) }
                        }
                    }
                    tbody {
                        @for p in points {
                            tr {
                                th scope="row" { (date(p.end)) }
                                (cell(p.baseline.map(vnd)))
                                (cell(p.current.map(vnd)))
                                (cell(p.baseline_days.map(|d| words::decimal(d, 2))))
                                (cell(p.current_days.map(|d| words::decimal(d, 2))))
                            }
                        }
                    }
                }
            }
        }
        p class="muted" {
            (lang.t(
                "Vào cuối mỗi quý, theo giá cố định (đơn giá thời gian tại ngày xem); số ngày tính bình quân theo số hồ sơ năm gốc.",
                "At the end of each quarter, at constant prices (the time tariffs in force on the date shown); days are averaged over the baseline volumes.",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn quarters_run_to_the_last_one_ended_and_thin_out_evenly_from_it() {
        assert_eq!(
            quarter_ends(day("2011-01-01"), day("2011-12-30"), 40),
            [day("2011-03-31"), day("2011-06-30"), day("2011-09-30")]
        );
        let thinned = quarter_ends(day("2011-01-01"), day("2016-06-30"), 10);
        assert_eq!(thinned.len(), 8, "22 quarters, every third: {thinned:?}");
        assert_eq!(thinned.last(), Some(&day("2016-06-30")), "the last always in");
        assert!(quarter_ends(day("2016-01-01"), day("2015-12-31"), 40).is_empty());
    }

    #[test]
    fn a_quarter_without_a_figure_is_drawn_without_it_and_shown_as_a_dash() {
        let points = [
            Quarter {
                end: day("2011-03-31"),
                baseline: Some(200),
                current: None,
                baseline_days: Some(10.0),
                current_days: None,
            },
            Quarter {
                end: day("2011-06-30"),
                baseline: Some(200),
                current: Some(100),
                baseline_days: Some(10.0),
                current_days: Some(7.5),
            },
        ];
        let html = charts(Lang::Vi, &points).into_string();
        assert!(
            html.contains(r##"<polyline fill="none" stroke="#0b5cad" stroke-width="3" points="696.0,126.0"/>"##),
            "{html}"
        );
        assert!(html.contains(r#"<text x="24" y="34">200 ₫</text>"#), "the scale's top: {html}");
        assert!(
            html.contains("<tr><th scope=\"row\">31/03/2011</th><td>200 ₫</td><td>—</td><td>10</td><td>—</td></tr>")
        );
        assert!(html.contains(r#"<text x="24.0" y="238" text-anchor="start">31/03/2011</text>"#), "{html}");
    }
}
