//! The results of a comparison — several methods × seeds on one split — as `skipwise compare
//! --json` writes them and the page's Lab downloads them: one schema, so that a table made in a
//! browser tab and one made on the command line can be laid side by side (a browser test does).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The metrics of the printed table, the bar chart and the Lab's table, in their order.
pub const TABLE_KEYS: [&str; 7] = ["HR@10", "MRR@10", "NDCG@10", "HR@20", "MRR@20", "NDCG@20", "FP@20"];

/// The colours of the methods in order (Vanilla, FP-Simple, FP-Metric, FP-AdaMetric, …): the
/// CLI's plot and the Lab's curves and bars.
pub const COLOURS: [(u8, u8, u8); 6] = [(120, 120, 120), (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189)];

/// The colour of the `i`-th method as CSS (`#rrggbb`).
pub fn css_colour(i: usize) -> String {
    let (r, g, b) = COLOURS[i % COLOURS.len()];
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Mean and sample standard deviation (0 for a single value).
pub fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

/// One method's results over its seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub method: String,
    /// The backbone it trained (`compare`; empty where the table has one backbone for all).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub backbone: String,
    pub metrics: BTreeMap<String, f64>,
    pub sd: BTreeMap<String, f64>,
    pub per_seed: Vec<BTreeMap<String, f64>>,
    /// Per seed: seconds of training (evaluation during training included) and epochs trained.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub train_seconds: Vec<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub epochs: Vec<usize>,
}

/// `method`'s row from its seeds' metrics (each seed's `name → value`).
pub fn summarize(method: &str, per_seed: &[BTreeMap<String, f64>]) -> Row {
    let keys: Vec<String> = per_seed.first().map(|r| r.keys().cloned().collect()).unwrap_or_default();
    let (mut metrics, mut sd) = (BTreeMap::new(), BTreeMap::new());
    for key in keys {
        let values: Vec<f64> = per_seed.iter().map(|r| r.get(&key).copied().unwrap_or(f64::NAN)).collect();
        let (m, s) = mean_sd(&values);
        metrics.insert(key.clone(), m);
        sd.insert(key, s);
    }
    Row { method: method.to_string(), backbone: String::new(), metrics, sd, per_seed: per_seed.to_vec(), train_seconds: Vec::new(), epochs: Vec::new() }
}

/// A comparison's file (`compare --json`, the Lab's "Download results (JSON)").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompareFile {
    pub data: String,
    pub format: String,
    pub protocol: String,
    /// Sessions (paper) or users (recbole).
    pub sequences: usize,
    pub items: usize,
    pub fp_share: f32,
    /// Sessions (paper) or prediction steps (recbole) in train / valid / test.
    pub split: [usize; 3],
    /// The backbone of the rows whose system names none (`--backbone`); empty when every row
    /// names its own (each row's `backbone` says what it trained).
    pub backbone: String,
    pub seeds: Vec<u64>,
    /// Each system's configuration (its first seed's), in the order of `methods`.
    pub configs: Vec<serde_json::Value>,
    pub methods: Vec<Row>,
    pub seconds: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_sd() {
        let (mean, sd) = mean_sd(&[0.1, 0.2, 0.3]);
        assert!((mean - 0.2).abs() < 1e-12 && (sd - 0.1).abs() < 1e-12, "{mean} {sd}");
        assert_eq!(mean_sd(&[0.4]), (0.4, 0.0));
    }

    #[test]
    fn a_row_summarises_its_seeds_and_colours_are_css() {
        let seed = |v: f64| BTreeMap::from([("HR@10".to_string(), v)]);
        let row = summarize("FP-Simple", &[seed(0.5), seed(0.7)]);
        assert!((row.metrics["HR@10"] - 0.6).abs() < 1e-12);
        assert!((row.sd["HR@10"] - 0.02f64.sqrt()).abs() < 1e-12);
        assert_eq!(row.per_seed.len(), 2);
        assert_eq!(css_colour(0), "#787878");
        assert_eq!(css_colour(7), "#1f77b4");
    }
}
