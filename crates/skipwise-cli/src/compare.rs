//! `compare`: several methods × seeds on one log and one split (the paper's protocol, as
//! `train`): every run's test metrics, mean ± sd per method in one table, JSON, and with `--plot`
//! a grouped bar chart. The log is read and split once; each method × seed trains afresh.

use crate::cli::Compare;
use crate::commands::{device, write_json};
use crate::table::{self, Row};
use crate::train::{config, fit_and_test, prepare};
use serde::Serialize;
use std::time::Instant;

#[derive(Serialize)]
struct CompareFile<'a> {
    data: &'a str,
    format: &'a str,
    sessions: usize,
    items: usize,
    fp_share: f32,
    split: [usize; 3],
    backbone: &'a str,
    seeds: &'a [u64],
    config: skipwise_core::train::TrainConfig,
    methods: &'a [Row],
    seconds: f64,
}

pub fn compare(args: &Compare) -> Result<(), String> {
    if args.methods.is_empty() || args.seeds.is_empty() {
        return Err("--methods and --seeds need at least one value each".into());
    }
    let started = Instant::now();
    let device = device(args.fit.device)?;
    let p = prepare(&args.data)?;
    let mut rows = Vec::new();
    let vanilla = skipwise_core::objective::Method::Vanilla;
    for &method in &args.methods {
        let (mut reports, mut without_fps) = (Vec::new(), Vec::new());
        for &seed in &args.seeds {
            let label = format!("{} seed {seed}", method.name());
            let (trainer, _, test) = fit_and_test(&config(&args.fit, method, seed, p.data.users()), &p, &device, &label, None)?;
            reports.push(test);
            // Vanilla's natural input keeps the FPs; the paper's comparison also asks how the
            // same model does on the FP-free input the other methods see (NOTES §1.5.8).
            if method == vanilla {
                without_fps.push(trainer.evaluate_sessions(&p.split.test, false).map_err(|e| e.to_string())?);
            }
        }
        match method == vanilla {
            true => {
                rows.push(table::summarize("Vanilla (FPs in input)", &reports));
                rows.push(table::summarize("Vanilla (FPs removed from input)", &without_fps));
            }
            false => rows.push(table::summarize(method.name(), &reports)),
        }
    }
    let title = format!(
        "{} on {}: {} seeds ({:?}), ≤ {} epochs with early stopping, test = positive-only targets",
        args.fit.backbone.name(),
        args.data.data,
        args.seeds.len(),
        args.seeds,
        args.fit.epochs
    );
    table::print(&title, &rows);
    let file = CompareFile {
        data: &args.data.data,
        format: p.format.name(),
        sessions: p.data.sessions.len(),
        items: p.data.items.len(),
        fp_share: p.data.fp_share(),
        split: [p.split.train.len(), p.split.valid.len(), p.split.test.len()],
        backbone: args.fit.backbone.name(),
        seeds: &args.seeds,
        config: config(&args.fit, args.methods[0], args.seeds[0], p.data.users()),
        methods: &rows,
        seconds: started.elapsed().as_secs_f64(),
    };
    write_json(&args.json, &file)?;
    if let Some(path) = &args.plot {
        table::plot(path, &format!("{} on {}", args.fit.backbone.name(), args.data.data), &rows)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    /// A MovieLens u.data log the tests write: `compare` trains each method × seed, prints a
    /// row per method and writes its JSON and an SVG with a bar per method and metric.
    #[test]
    fn compares_methods_over_seeds_on_a_log_and_draws_them() {
        let dir = std::env::temp_dir().join(format!("skipwise-compare-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let data = dir.join("u.data");
        let mut text = String::new();
        for user in 1..=12 {
            for k in 0..30u64 {
                // Each listener's day; ratings ≤ 2 (FPs) on a fifth of the plays.
                let item = 1 + (user * 7 + k * 3) % 25;
                let rating = if k % 5 == 0 { 1 } else { 4 };
                text.push_str(&format!("{user}\t{item}\t{rating}\t{}\n", 880_000_000 + user * 100_000 + k * 60));
            }
        }
        std::fs::write(&data, text).expect("writes");
        let (json, svg) = (dir.join("compare.json"), dir.join("compare.svg"));
        let path = |p: &std::path::Path| p.to_str().unwrap_or_default().to_string();
        let cli = crate::cli::Cli::try_parse_from([
            "skipwise", "compare", "--data", &path(&data), "--backbone", "stamp", "--methods", "vanilla,fp-adametric", "--seeds", "1,2",
            "--epochs", "1", "--dim", "8", "--gap-secs", "100000", "--json", &path(&json), "--plot", &path(&svg),
        ])
        .expect("parses");
        let crate::cli::Command::Compare(args) = cli.command else { panic!("compare") };
        super::compare(&args).expect("compares");
        let out: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("json");
        assert_eq!(out["format"], "udata");
        let methods = out["methods"].as_array().expect("methods");
        // Vanilla twice: the same models on their natural input and on the FP-free one.
        assert_eq!(
            methods.iter().map(|m| m["method"].as_str().unwrap_or_default()).collect::<Vec<_>>(),
            ["Vanilla (FPs in input)", "Vanilla (FPs removed from input)", "FP-AdaMetric"]
        );
        for m in methods {
            assert_eq!(m["per_seed"].as_array().map(Vec::len), Some(2));
            assert!(m["metrics"]["HR@10"].as_f64().is_some_and(|v| (0.0..=1.0).contains(&v)), "{m}");
        }
        let svg = std::fs::read_to_string(&svg).expect("svg");
        assert!(svg.starts_with("<svg") && svg.contains("FP-AdaMetric") && svg.contains("HR@10"), "{svg}");
        // Three rows × seven metrics: as many bars (filled rectangles beyond the background and legend).
        assert!(svg.matches("<rect").count() >= 21, "{}", svg.matches("<rect").count());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn no_methods_or_no_seeds_is_refused_before_reading_anything() {
        let cli = crate::cli::Cli::try_parse_from(["skipwise", "compare", "--data", "/nonexistent/file"]).expect("parses");
        let crate::cli::Command::Compare(mut args) = cli.command else { panic!("compare") };
        args.seeds.clear();
        let err = super::compare(&args).expect_err("refused");
        assert!(err.contains("--seeds"), "{err}");
    }
}
