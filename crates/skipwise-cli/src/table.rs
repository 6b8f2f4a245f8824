//! Methods × seeds → mean ± sd of each metric: the table `sim-table` and `compare` print, and the
//! grouped bar chart `compare --plot` draws (plotters' SVG backend: one group per metric, one bar
//! per method, ± sd as error bars).

use crate::commands::TABLE_KEYS;
use skipwise_core::metrics::Report;

pub use skipwise_protocol::results::Row;

/// `method`'s row from its seeds' test reports.
pub fn summarize(method: &str, reports: &[Report]) -> Row {
    skipwise_protocol::results::summarize(method, &reports.iter().map(|r| r.values.clone()).collect::<Vec<_>>())
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
            match row.metrics.get(k).filter(|m| !m.is_nan()) {
                Some(mean) => print!(" {mean:>7.4}±{:<7.4}", row.sd.get(k).unwrap_or(&f64::NAN)),
                // A metric the protocol has no data for (FP@20 where no item is an FP).
                None => print!(" {:>15}", "n/a"),
            }
        }
        println!();
    }
}

use skipwise_protocol::results::COLOURS;

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
