//! `p30 report`: the reductions table in the terminal, folded straight from the data dir.

use events::value::{Date, Timestamp};
use projections::{GroupBy, Moment, Reductions};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
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

/// A fraction as a Vietnamese percentage with two decimals: `39,79 %`.
pub fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_owned(), |x| format!("{:.2} %", x * 100.0).replace('.', ","))
}

fn days(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_owned(), |x| format!("{x:.2}").replace('.', ","))
}

/// The reductions at a moment, as a table.
pub fn table(r: &Reductions) -> String {
    let json = serde_json::to_value(r).unwrap_or_default();
    let mut out = format!(
        "Giảm chi phí và thời gian / reductions — as of {}, known at {}, baseline {}\n",
        r.as_of, r.known_at, r.baseline_on
    );
    for (applicant, t) in [("citizen", &json["tariffs"]["citizen"]), ("business", &json["tariffs"]["business"])] {
        match t.get("vnd_per_hour") {
            Some(v) => out.push_str(&format!(
                "tariff {applicant}: {} ₫/h from {}\n",
                v,
                t["effective_on"].as_str().unwrap_or("")
            )),
            None => out.push_str(&format!("tariff {applicant}: none in force (figures that need it are —)\n")),
        }
    }
    out.push_str(&format!(
        "{:<24} {:>22} {:>22} {:>10} {:>9} {:>9} {:>10} {:>6} {:>6}\n",
        r.group_by.as_str(),
        "baseline ₫/year",
        "current ₫/year",
        "cost −",
        "days 0",
        "days now",
        "time −",
        "roots",
        "new"
    ));
    for g in json["groups"].as_array().into_iter().flatten() {
        let money = |k: &str| g[k].as_u64().map_or_else(|| "—".to_owned(), |v| thousands(u128::from(v)));
        out.push_str(&format!(
            "{:<24} {:>22} {:>22} {:>10} {:>9} {:>9} {:>10} {:>6} {:>6}\n",
            g["key"].as_str().unwrap_or(""),
            money("baseline_annual_cost_vnd"),
            money("current_annual_cost_vnd"),
            percent(g["cost_reduction"].as_f64()),
            days(g["baseline_avg_days"].as_f64()),
            days(g["current_avg_days"].as_f64()),
            percent(g["time_reduction"].as_f64()),
            g["roots"].to_string(),
            g["introduced"].to_string(),
        ));
    }
    out
}

/// Folds the log in `data_dir` and answers the reductions question.
pub fn report(
    log: &eventstore::Log,
    as_of: Option<Date>,
    known_at: Option<Timestamp>,
    baseline_on: Option<Date>,
    group_by: GroupBy,
) -> anyhow::Result<Reductions> {
    let projection = crate::live::rebuild(log)?;
    let now = crate::live::now();
    let at = Moment::new(as_of.unwrap_or(now.as_of), known_at.unwrap_or(now.known_at));
    Ok(projection.reductions(group_by, at, baseline_on)?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_read_the_vietnamese_way() {
        assert_eq!(super::thousands(2_508_000_000), "2.508.000.000");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::percent(Some(0.397927)), "39,79 %");
    }
}
