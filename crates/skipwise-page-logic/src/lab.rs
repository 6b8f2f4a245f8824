//! The Lab's rules in plain types: where a run stands as one fraction, each method's curve over
//! epochs as SVG points, the results' bars, the table's cells, and the shipped samples.

use skipwise_protocol::lab::{LabEpoch, LabProgress};
use skipwise_protocol::results::Row;

/// A sample log shipped with the page (`samples/<file>`), in one of the loaders' formats.
pub struct Sample {
    pub file: &'static str,
    pub label: &'static str,
    /// The generic CSV's `--columns`.
    pub columns: Option<&'static str>,
}

/// The samples (the test suite's, `tests/data/`).
pub const SAMPLES: [Sample; 4] = [
    Sample { file: "mssd-log.csv", label: "Spotify MSSD log (skips)", columns: None },
    Sample { file: "ml-100k-u.data", label: "MovieLens 100K u.data (low ratings)", columns: None },
    Sample { file: "lastfm-1k.tsv", label: "Last.fm 1K listening log (short plays)", columns: None },
    Sample {
        file: "plays-generic.csv",
        label: "A generic CSV of plays (with its columns)",
        columns: Some("user=listener,item=track,time=when,played=seconds_played,duration=track_seconds"),
    },
];

/// The Lab's methods: `--methods` name and label.
pub const METHODS: [(&str, &str); 4] = [("vanilla", "Vanilla"), ("fp-simple", "FP-Simple"), ("fp-metric", "FP-Metric"), ("fp-adametric", "FP-AdaMetric")];

/// The backbones: `--backbone` name and label.
pub const BACKBONES: [(&str, &str); 5] = [("gru4rec", "GRU4Rec"), ("narm", "NARM"), ("stamp", "STAMP"), ("srgnn", "SR-GNN"), ("sasrec", "SASRec")];

/// How far the whole experiment is, in [0, 1].
pub fn fraction(p: &LabProgress) -> f64 {
    if p.runs == 0 {
        return 0.0;
    }
    let within_epoch = if p.batches == 0 { 0.0 } else { p.batch as f64 / p.batches as f64 };
    let within_run = ((p.epoch.max(1) - 1) as f64 + within_epoch) / p.epochs.max(1) as f64;
    ((p.run as f64 + within_run.min(1.0)) / p.runs as f64).clamp(0.0, 1.0)
}

/// One run's curve: its method (colour), its label, and its points.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    pub method: usize,
    pub label: String,
    pub points: String,
}

/// Each run's `value` per epoch as polyline points in a `w` × `h` box (epoch 1 at the left, the
/// longest run's last epoch at the right; the values' range top to bottom, `pad` inside).
pub fn curves(epochs: &[LabEpoch], value: impl Fn(&LabEpoch) -> Option<f64>, w: f64, h: f64, pad: f64) -> (Vec<Curve>, Option<(f64, f64)>) {
    let values: Vec<f64> = epochs.iter().filter_map(&value).filter(|v| v.is_finite()).collect();
    let (lo, hi) = values.iter().fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    if values.is_empty() {
        return (Vec::new(), None);
    }
    let last = epochs.iter().map(|e| e.epoch).max().unwrap_or(1).max(2) - 1;
    let x = |epoch: usize| pad + (w - 2.0 * pad) * (epoch - 1) as f64 / last as f64;
    let y = |v: f64| pad + (h - 2.0 * pad) * (1.0 - (v - lo) / (hi - lo).max(1e-9));
    let mut runs: Vec<usize> = epochs.iter().map(|e| e.run).collect();
    runs.dedup();
    let curves = runs
        .into_iter()
        .filter_map(|run| {
            let mine: Vec<&LabEpoch> = epochs.iter().filter(|e| e.run == run).collect();
            let first = mine.first()?;
            let points: Vec<String> = mine.iter().filter_map(|e| value(e).filter(|v| v.is_finite()).map(|v| format!("{:.1},{:.1}", x(e.epoch), y(v)))).collect();
            Some(Curve { method: first.method, label: format!("{} seed {}", first.label, first.seed), points: points.join(" ") })
        })
        .collect();
    (curves, Some((lo, hi)))
}

/// `mean ± sd` as the table shows it.
pub fn cell(row: &Row, key: &str) -> String {
    match (row.metrics.get(key), row.sd.get(key)) {
        (Some(m), Some(s)) if row.per_seed.len() > 1 => format!("{m:.4} ± {s:.4}"),
        (Some(m), _) => format!("{m:.4}"),
        _ => "–".into(),
    }
}

/// A bar of the results chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// The row's index (its colour).
    pub row: usize,
    pub title: String,
}

/// Grouped bars: one group per metric of `keys`, one bar per row, in a `w` × `h` box whose
/// bottom `base` pixels hold the metric names.
pub fn bars(rows: &[Row], keys: &[&str], w: f64, h: f64, base: f64) -> Vec<Bar> {
    let top = rows.iter().flat_map(|r| keys.iter().filter_map(|k| r.metrics.get(*k))).fold(0.0f64, |a, b| a.max(*b)).max(1e-9);
    let group = w / keys.len().max(1) as f64;
    let width = 0.8 * group / rows.len().max(1) as f64;
    let mut out = Vec::new();
    for (g, key) in keys.iter().enumerate() {
        for (i, row) in rows.iter().enumerate() {
            let value = row.metrics.get(*key).copied().unwrap_or(0.0);
            let height = (h - base - 4.0) * (value / top).max(0.0);
            out.push(Bar { x: g as f64 * group + 0.1 * group + i as f64 * width, y: h - base - height, width: width * 0.9, height, row: i, title: format!("{} {key}: {value:.4}", row.method) });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(run: usize, epoch: usize, loss: f64) -> LabEpoch {
        LabEpoch { run, method: run, label: "FP-Simple".into(), seed: 1, epoch, loss, valid_mrr20: Some(loss / 10.0) }
    }

    #[test]
    fn progress_counts_runs_epochs_and_batches() {
        let p = |run, epoch, batch| LabProgress { run, runs: 4, method: 0, label: String::new(), seed: 1, epoch, epochs: 5, batch, batches: 10 };
        assert_eq!(fraction(&p(0, 1, 0)), 0.0);
        assert!((fraction(&p(1, 3, 5)) - (1.0 + 2.5 / 5.0) / 4.0).abs() < 1e-12);
        assert_eq!(fraction(&p(4, 0, 0)), 1.0);
    }

    #[test]
    fn curves_span_the_box_one_per_run() {
        let epochs = [epoch(0, 1, 4.0), epoch(0, 2, 3.0), epoch(1, 1, 5.0), epoch(1, 2, 2.0), epoch(1, 3, f64::NAN)];
        let (curves, range) = curves(&epochs, |e| Some(e.loss), 100.0, 50.0, 5.0);
        assert_eq!(range, Some((2.0, 5.0)));
        assert_eq!(curves.len(), 2);
        // Epoch 1 at the left, the longest run's epoch 3 at the right; 5.0 at the top.
        assert_eq!(curves[1].points, "5.0,5.0 50.0,45.0");
        assert_eq!(curves[0].points, "5.0,18.3 50.0,31.7");
        assert_eq!(curves[0].label, "FP-Simple seed 1");
    }

    #[test]
    fn bars_scale_to_the_best_value_and_cells_show_sd_over_seeds() {
        let seed = |v: f64| std::collections::BTreeMap::from([("HR@10".to_string(), v)]);
        let a = skipwise_protocol::results::summarize("Vanilla", &[seed(0.2)]);
        let b = skipwise_protocol::results::summarize("FP-Simple", &[seed(0.3), seed(0.5)]);
        let bars = bars(&[a.clone(), b.clone()], &["HR@10"], 100.0, 60.0, 10.0);
        assert_eq!(bars.len(), 2);
        assert!((bars[1].height - 46.0).abs() < 1e-9 && (bars[0].height - 23.0).abs() < 1e-9, "{bars:?}");
        assert_eq!(cell(&a, "HR@10"), "0.2000");
        assert_eq!(cell(&b, "HR@10"), "0.4000 ± 0.1414");
        assert_eq!(cell(&b, "FP@20"), "–");
    }
}
