//! `p30 bench as-of`: reductions as of a random date against the same query as of today.

use crate::figures::{Figure, p50_p99, quantile};
use crate::rebuild::{ScaleData, reopen};

use std::time::Instant;

use events::value::Date;

/// Settings of `p30 bench as-of`.
#[derive(Clone, Debug)]
pub struct AsOfSettings {
    pub data: ScaleData,
    /// Queries of each kind.
    pub samples: usize,
}

/// The data set (generated first if need be), rebuilt as the server rebuilds it at start.
pub(crate) fn rebuilt(data: &ScaleData) -> anyhow::Result<projections::Projection> {
    let dataset = crate::dataset::prepare(data.spec, data.data_dir.as_deref())?;
    let log = reopen(&dataset.dir)?;
    let projection = server::live::rebuild(&log)?;
    log.close();
    Ok(projection)
}

/// `p30 bench as-of`: reductions of the whole data set as of a random date in 2011–2020, against the same
/// question as of today, through the same code path (`Projection::reductions`, no cache), alternating.
pub fn as_of(settings: &AsOfSettings) -> anyhow::Result<Vec<Figure>> {
    use projections::{GroupBy, Moment};
    let projection = rebuilt(&settings.data)?;
    let now = server::live::now();
    let mut rng = server::demo::Rng::new(settings.data.spec.seed ^ 0xA5_0F);
    let time = |as_of: Date| -> anyhow::Result<f64> {
        let start = Instant::now();
        let r = projection.reductions(GroupBy::All, Moment::new(as_of, now.known_at), None)?;
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        std::hint::black_box(r);
        Ok(ms)
    };
    // One of each first, so neither kind pays for warming the caches.
    time(now.as_of)?;
    time(crate::dataset::day(1000))?;
    let (mut past, mut today) = (Vec::new(), Vec::new());
    for i in 0..settings.samples {
        let date = crate::dataset::day(rng.below(u64::from(crate::dataset::LAST_DAY) + 1) as u16);
        // Alternate which goes first, so neither always runs right after the other.
        if i % 2 == 0 {
            past.push(time(date)?);
            today.push(time(now.as_of)?);
        } else {
            today.push(time(now.as_of)?);
            past.push(time(date)?);
        }
    }
    let size = settings.data.describe();
    eprintln!(
        "{} samples each: as of a random date {}; as of today {}",
        settings.samples,
        p50_p99(&past),
        p50_p99(&today)
    );
    Ok(vec![
        Figure {
            name: format!("reductions group_by=all as of a random date 2011–2020, p50, {size}"),
            value: quantile(past.clone(), 0.5),
            unit: "ms",
            baseline: Some("the same query as of today, p50".into()),
            baseline_value: Some(quantile(today.clone(), 0.5)),
        },
        Figure {
            name: format!("reductions group_by=all as of a random date 2011–2020, p99, {size}"),
            value: quantile(past, 0.99),
            unit: "ms",
            baseline: Some("the same query as of today, p99".into()),
            baseline_value: Some(quantile(today, 0.99)),
        },
    ])
}
