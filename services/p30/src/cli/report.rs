//! `p30 report`: the reductions table in the terminal, folded straight from the data dir.

use events::value::{Date, Timestamp};
use projections::{GroupBy, Moment, Ratio, Reductions};
use server::web::words::thousands;

use super::{DataDir, open_log};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    data_dir: DataDir,
    /// Valid time, YYYY-MM-DD (default: today in Vietnam).
    #[arg(long, value_parser = Date::parse)]
    as_of: Option<Date>,
    /// Transaction time, RFC 3339 or YYYY-MM-DD for the end of that day in Vietnam (default: now).
    #[arg(long, value_parser = Timestamp::parse_known_at)]
    known_at: Option<Timestamp>,
    /// Baseline date (default: the earliest registration).
    #[arg(long, value_parser = Date::parse)]
    baseline_on: Option<Date>,
    /// all, agency, sector or level.
    #[arg(long, value_parser = GroupBy::parse, default_value = "all")]
    group_by: GroupBy,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let log = open_log(&self.data_dir.path)?;
        let reductions = report(&log, self.as_of, self.known_at, self.baseline_on, self.group_by)?;
        log.close();
        match self.format {
            Format::Json => println!("{}", serde_json::to_string_pretty(&reductions)?),
            Format::Table => print!("{}", table(&reductions)),
        }
        Ok(())
    }
}

/// A fraction as a Vietnamese percentage with two decimals: `39,79 %`.
fn percent(x: Option<&Ratio>) -> String {
    x.map_or_else(|| "—".to_owned(), |x| format!("{:.2} %", x.to_f64() * 100.0).replace('.', ","))
}

fn days(x: Option<&Ratio>) -> String {
    x.map_or_else(|| "—".to_owned(), |x| format!("{:.2}", x.to_f64()).replace('.', ","))
}

/// The reductions at a moment, as a table.
fn table(r: &Reductions) -> String {
    let mut out = format!(
        "Giảm chi phí và thời gian / reductions — as of {}, known at {}, baseline {}\n",
        r.as_of, r.known_at, r.baseline_on
    );
    for (applicant, tariff) in [("citizen", r.tariffs.citizen), ("business", r.tariffs.business)] {
        match tariff {
            Some(t) => out.push_str(&format!("tariff {applicant}: {} ₫/h from {}\n", t.vnd_per_hour, t.effective_on)),
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
    for g in &r.groups {
        let money = |m: Option<&projections::Money>| m.map_or_else(|| "—".to_owned(), |m| thousands(m.rounded_dong()));
        out.push_str(&format!(
            "{:<24} {:>22} {:>22} {:>10} {:>9} {:>9} {:>10} {:>6} {:>6}\n",
            g.key,
            money(g.baseline_annual_cost_vnd.as_ref()),
            money(g.current_annual_cost_vnd.as_ref()),
            percent(g.cost_reduction.as_ref()),
            days(g.baseline_avg_days.as_ref()),
            days(g.current_avg_days.as_ref()),
            percent(g.time_reduction.as_ref()),
            g.roots,
            g.introduced,
        ));
    }
    out
}

/// Folds the log in `data_dir` and answers the reductions question.
fn report(
    log: &eventstore::Log,
    as_of: Option<Date>,
    known_at: Option<Timestamp>,
    baseline_on: Option<Date>,
    group_by: GroupBy,
) -> anyhow::Result<Reductions> {
    let projection = server::live::rebuild(log)?;
    let now = server::live::now();
    let at = Moment::new(as_of.unwrap_or(now.as_of), known_at.unwrap_or(now.known_at));
    Ok(projection.reductions(group_by, at, baseline_on)?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_read_the_vietnamese_way() {
        assert_eq!(super::thousands(2_508_000_000), "2.508.000.000");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::percent(Some(&projections::Ratio::new(397_927, 1_000_000))), "39,79 %");
    }
}
