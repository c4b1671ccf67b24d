//! Figures as BENCH.md prints them, one JSON line each (`{"name", "value", "unit", "baseline",
//! "baseline_value", "ratio"}`), and the statistics and memory readings they are made of.

/// One measured figure and the baseline run beside it.
#[derive(Clone, Debug)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
    pub baseline: Option<String>,
    pub baseline_value: Option<f64>,
}

impl Figure {
    pub fn ratio(&self) -> Option<f64> {
        self.baseline_value.filter(|b| *b != 0.0).map(|b| self.value / b)
    }

    pub fn json_line(&self) -> String {
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        serde_json::json!({
            "name": self.name,
            "value": round(self.value),
            "unit": self.unit,
            "baseline": self.baseline,
            "baseline_value": self.baseline_value.map(round),
            "ratio": self.ratio().map(round),
        })
        .to_string()
    }
}

/// The median of a non-empty sample.
pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 { xs[n / 2] } else { (xs[n / 2 - 1] + xs[n / 2]) / 2.0 }
}

/// The `q` quantile (nearest rank) of a sample.
pub fn quantile(mut xs: Vec<f64>, q: f64) -> f64 {
    xs.sort_by(f64::total_cmp);
    let rank = ((xs.len() as f64 * q).ceil() as usize).clamp(1, xs.len().max(1));
    xs.get(rank - 1).copied().unwrap_or(f64::NAN)
}

/// `p50 … ms p99 … ms` of a sample of milliseconds, for the progress lines.
pub(crate) fn p50_p99(xs: &[f64]) -> String {
    format!("p50 {:.3} ms p99 {:.3} ms", quantile(xs.to_vec(), 0.5), quantile(xs.to_vec(), 0.99))
}

/// A field of `/proc/self/status` in KiB (`VmRSS`, `VmHWM`), where there is one.
pub fn proc_status_kib(field: &str) -> Option<u64> {
    status_kib("/proc/self/status", field)
}

/// A `kB` field of a `/proc` file of `field: n kB` lines (`/proc/PID/status`, `/proc/meminfo`).
pub(crate) fn status_kib(file: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(file).ok()?;
    let line = status.lines().find(|l| l.strip_prefix(field).is_some_and(|rest| rest.starts_with(':')))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub(crate) fn mib(kib: Option<u64>) -> f64 {
    kib.map_or(f64::NAN, |k| k as f64 / 1024.0)
}
