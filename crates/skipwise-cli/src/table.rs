//! Methods × seeds → mean ± sd of each metric: the table `sim-table` and `compare` print, and the
//! grouped bar chart `compare --plot` draws (plotters' SVG backend: one group per metric, one bar
//! per method, ± sd as error bars).

use crate::commands::{TABLE_KEYS, mean_sd};
use serde::Serialize;
use skipwise_core::metrics::Report;
use std::collections::BTreeMap;

/// One method's results over its seeds.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub method: String,
    /// The backbone it trained (`compare`; empty where the table has one backbone for all).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub backbone: String,
    pub metrics: BTreeMap<String, f64>,
    pub sd: BTreeMap<String, f64>,
    pub per_seed: Vec<BTreeMap<String, f64>>,
    /// Per seed: seconds of training (evaluation during training included) and epochs trained.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub train_seconds: Vec<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub epochs: Vec<usize>,
}

pub fn summarize(method: &str, reports: &[Report]) -> Row {
    let keys: Vec<String> = reports.first().map(|r| r.values.keys().cloned().collect()).unwrap_or_default();
    let (mut metrics, mut sd) = (BTreeMap::new(), BTreeMap::new());
    for key in keys {
        let values: Vec<f64> = reports.iter().map(|r| r.get(&key)).collect();
        let (m, s) = mean_sd(&values);
        metrics.insert(key.clone(), m);
        sd.insert(key, s);
    }
    Row {
        method: method.to_string(),
        backbone: String::new(),
        metrics,
        sd,
        per_seed: reports.iter().map(|r| r.values.clone()).collect(),
        train_seconds: Vec::new(),
        epochs: Vec::new(),
    }
}

/// Prints `rows` under `title`, the columns of [`TABLE_KEYS`].
pub fn print(title: &str, rows: &[Row]) {
    println!("\n{title}");
    print!("{:<34}", "method");
    for k in TABLE_KEYS {
        print!(" {k:>15}");
    }
    println!();
    for row in rows {
        print!("{:<34}", row.method);
        for k in TABLE_KEYS {
            print!(" {:>7.4}±{:<7.4}", row.metrics.get(k).unwrap_or(&f64::NAN), row.sd.get(k).unwrap_or(&f64::NAN));
        }
        println!();
    }
}

/// Colours of the methods in order (Vanilla, FP-Simple, FP-Metric, FP-AdaMetric, …).
pub const COLOURS: [(u8, u8, u8); 6] = [(120, 120, 120), (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189)];

/// `rows` as grouped bars over [`TABLE_KEYS`] with ± sd, an SVG at `path` (written beside, then
/// renamed).
pub fn plot(path: &str, title: &str, rows: &[Row]) -> Result<(), String> {
    use plotters::prelude::*;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 480)).into_drawing_area();
        let e = |e: DrawingAreaErrorKind<std::io::Error>| format!("{path}: {e}");
        root.fill(&WHITE).map_err(e)?;
        let top = rows.iter().flat_map(|r| TABLE_KEYS.iter().map(|k| r.metrics.get(*k).unwrap_or(&0.0) + r.sd.get(*k).unwrap_or(&0.0))).fold(0.0f64, f64::max);
        let groups = TABLE_KEYS.len();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..groups as f64, 0f64..(top * 1.15).max(1e-3))
            .map_err(e)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(groups * 2 + 1)
            .x_label_formatter(&|x| {
                // A label at each group's middle only.
                let i = x.floor() as usize;
                if (x - i as f64 - 0.5).abs() < 1e-6 { TABLE_KEYS.get(i).map_or(String::new(), |k| k.to_string()) } else { String::new() }
            })
            .y_desc("mean over seeds (± sd)")
            .draw()
            .map_err(e)?;
        let width = 0.8 / rows.len().max(1) as f64;
        for (m, row) in rows.iter().enumerate() {
            let (r, g, b) = COLOURS[m % COLOURS.len()];
            let colour = RGBColor(r, g, b);
            let x0 = |i: usize| i as f64 + 0.1 + m as f64 * width;
            let bars = TABLE_KEYS.iter().enumerate().map(|(i, k)| {
                Rectangle::new([(x0(i), 0.0), (x0(i) + width * 0.9, *row.metrics.get(*k).unwrap_or(&0.0))], colour.filled())
            });
            chart
                .draw_series(bars)
                .map_err(e)?
                .label(row.method.clone())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
            let errors = TABLE_KEYS.iter().enumerate().map(|(i, k)| {
                let (mean, sd) = (*row.metrics.get(*k).unwrap_or(&0.0), *row.sd.get(*k).unwrap_or(&0.0));
                let x = x0(i) + width * 0.45;
                ErrorBar::new_vertical(x, (mean - sd).max(0.0), mean, mean + sd, BLACK.stroke_width(1), 6)
            });
            chart.draw_series(errors).map_err(e)?;
        }
        chart.configure_series_labels().position(SeriesLabelPosition::UpperRight).background_style(WHITE.mix(0.9)).border_style(BLACK).draw().map_err(e)?;
        root.present().map_err(e)?;
    }
    crate::commands::write_text(path, svg)?;
    eprintln!("wrote {path}");
    Ok(())
}
