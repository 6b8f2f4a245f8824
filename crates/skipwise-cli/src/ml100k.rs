//! `ml100k`: RecBole's GRU4Rec anchor on MovieLens-100K, and `ml100k-seeds`, which sets several
//! seeds' runs beside RecBole's published numbers.

use crate::cli::{AnchorBackbone, Ml100k, Ml100kSeeds};
use crate::commands::{device, mean_sd, write_json};
use serde::Serialize;
use skipwise_core::batch::leave_one_out;
use crate::run_checkpoint;
use skipwise_core::data::{ItemIndex, user_sequences};
use skipwise_core::metrics::Report;
use skipwise_core::model::{Backbone, ModelConfig};
use skipwise_core::objective::{Method, ObjectiveConfig};
use skipwise_core::train::{EpochLog, TrainConfig};
use std::collections::BTreeMap;
use std::time::Instant;

/// RecBole's GRU4Rec on ml-100k, test set, from its documentation (NOTES §8.1).
const RECBOLE: [(&str, f64); 3] = [("HR@10", 0.1103), ("MRR@10", 0.0337), ("NDCG@10", 0.0513)];

/// RecBole's and the paper's name for what our reports call HR.
fn label(key: &str) -> String {
    key.replace("HR@", "Hit@")
}

/// How far our mean may sit from RecBole's on Hit@10 and NDCG@10 (issue #4's anchor band).
const BAND: f64 = 0.015;

/// The anchor's run: RecBole's GRU4Rec on ml-100k (docs' sequential quick start: emb 64, hidden
/// 128, dropout 0.3, max length 50, full-softmax CE, Adam 1e-3, batch 4096, all ratings positive,
/// early stopping after 10 epochs without a better validation MRR@10), or SASRec at RecBole's
/// defaults under the same protocol. `compare --protocol recbole` trains the same configuration
/// (a test holds them equal), so the anchor's runs are also compare's GRU4Rec rows.
pub(crate) fn anchor_config(backbone: AnchorBackbone, epochs: usize, patience: usize, seed: u64, batch: usize) -> TrainConfig {
    let model = match backbone {
        AnchorBackbone::Gru4rec => ModelConfig::recbole_gru4rec(),
        AnchorBackbone::Sasrec => ModelConfig { backbone: Backbone::SasRec, dim: 64, ..ModelConfig::default() },
    };
    TrainConfig {
        model,
        objective: ObjectiveConfig { method: Method::Vanilla, ..ObjectiveConfig::default() },
        epochs,
        batch_size: batch,
        lr: 1e-3,
        max_len: 50,
        seed,
        patience,
        eval_batch: 1024,
        ..TrainConfig::default()
    }
}

pub fn ml100k(args: &Ml100k) -> Result<(), String> {
    let Ml100k { epochs, patience, seed, batch, fresh, .. } = *args;
    let (file, monitor, json_path, ckpt_path) = (&args.file, &args.monitor, &args.json, &args.checkpoint);
    let device = device(args.device)?;
    if !skipwise_core::metrics::Accumulator::default().report().values.contains_key(monitor) {
        return Err(format!("--monitor: {monitor:?} is not a metric (HR@10, MRR@10, NDCG@10, …)"));
    }
    let reader = std::fs::File::open(&file)
        .map_err(|e| format!("{file}: {e} (run ./scripts/fetch-data first)"))?;
    let (events, _) = skipwise_core::movielens::read_inter(std::io::BufReader::new(reader), &file).map_err(|e| e.to_string())?;
    let mut items = ItemIndex::default();
    let sequences = user_sequences(&events, &mut items);
    let loo = leave_one_out(&sequences);
    eprintln!(
        "{file}: {} interactions, {} users, {} items; {} training prefixes",
        events.len(),
        sequences.len(),
        items.len(),
        loo.train.len()
    );
    let config = anchor_config(args.backbone, epochs, patience, seed, batch);
    let published = args.backbone == AnchorBackbone::Gru4rec;
    let n_rows = items.len() + 1;
    // A run takes about an hour: it goes on from the last epoch a previous run finished.
    let key = run_checkpoint::RunKey { config: &config, n_rows, monitor, data: run_checkpoint::data_fingerprint(&loo.train, &loo.valid) };
    let saved = run_checkpoint::open(ckpt_path, &key, fresh)?;
    let (mut trainer, progress, mut epoch_secs) = run_checkpoint::start(ckpt_path, saved, &key, &device)?;
    let t0 = Instant::now();
    let mut last = Instant::now();
    let progress_path = format!("{json_path}.progress");
    let fit = trainer
        .fit_from(&loo.train, &loo.valid, &monitor, progress, &mut |log, trainer, progress| {
            let secs = last.elapsed().as_secs_f64();
            epoch_secs.push(secs);
            run_checkpoint::save(ckpt_path, trainer, progress, &key, &epoch_secs);
            if let Err(e) = write_json(&progress_path, &(&progress.logs, &epoch_secs)) {
                eprintln!("(progress not saved: {e})");
            }
            let valid: String = RECBOLE
                .iter()
                .map(|(key, _)| format!(" {} {:.4}", label(key), log.valid.as_ref().map_or(f64::NAN, |r| r.get(key))))
                .collect();
            eprintln!("epoch {:>3}: loss {:.4}  valid{valid}  ({secs:.1} s)", log.epoch, log.loss);
            last = Instant::now();
        })
        .map_err(|e| e.to_string())?;
    let test = trainer.evaluate(&loo.test).map_err(|e| e.to_string())?;
    let per_epoch = epoch_secs.iter().sum::<f64>() / epoch_secs.len().max(1) as f64;
    let name = trainer.config.model.backbone.name();
    println!("\nMovieLens-100K, {name}, RecBole protocol (LOO, full ranking), best epoch {} of {}", fit.best_epoch, fit.epochs.len());
    let row = |name: &str, value: &dyn Fn(&str, f64) -> String| {
        println!("{name:<10}{}", RECBOLE.iter().map(|&(key, recbole)| format!(" {:>9}", value(key, recbole))).collect::<String>());
    };
    row("", &|key, _| label(key).to_string());
    row("Skipwise", &|key, _| format!("{:.4}", test.get(key)));
    if published {
        row("RecBole", &|_, recbole| format!("{recbole:.4}"));
    } else {
        println!("(RecBole publishes no {name} run on ML-100K: scripts/compare-recbole trains one beside this)");
    }
    // Ties count against the target (see skipwise_core::metrics): how many rows that touched.
    println!("test rows whose target tied with another item's score: {} of {}", test.tied, test.count);
    println!("{per_epoch:.1} s per epoch on this machine; {:.0} s in this process", t0.elapsed().as_secs_f64());
    #[derive(Serialize)]
    struct Anchor<'a> {
        backbone: &'a str,
        seed: u64,
        test: &'a Report,
        recbole: BTreeMap<&'static str, f64>,
        best_epoch: usize,
        monitor: &'a str,
        seconds_per_epoch: f64,
        epoch_secs: &'a [f64],
        epochs: &'a [EpochLog],
    }
    let recbole = if published { BTreeMap::from(RECBOLE) } else { BTreeMap::new() };
    write_json(
        &json_path,
        &Anchor {
            backbone: name,
            seed,
            test: &test,
            recbole,
            best_epoch: fit.best_epoch,
            monitor: &monitor,
            seconds_per_epoch: per_epoch,
            epoch_secs: &epoch_secs,
            epochs: &fit.epochs,
        },
    )
}

/// One finished `ml100k` run as its JSON says it.
#[derive(serde::Deserialize)]
struct AnchorRun {
    /// Missing in runs written before the field existed.
    #[serde(default)]
    seed: Option<u64>,
    test: Report,
    best_epoch: usize,
    seconds_per_epoch: f64,
    epochs: Vec<serde::de::IgnoredAny>,
}

fn parse_run(text: &str, path: &str) -> Result<AnchorRun, String> {
    let run: AnchorRun = serde_json::from_str(text).map_err(|e| format!("{path}:{}: not an ml100k result: {e}", e.line()))?;
    for (key, _) in RECBOLE {
        if !run.test.get(key).is_finite() {
            return Err(format!("{path}: field `test.values.{key}`: missing or not a number"));
        }
    }
    Ok(run)
}

/// Reads several `ml100k` results and prints each beside the mean ± sd over them and RecBole's
/// numbers: one run's test set has 943 users, so a single run is ±0.01 on Hit@10 by sampling alone
/// and only the mean says whether we reproduce RecBole.
pub fn ml100k_seeds(args: &Ml100kSeeds) -> Result<(), String> {
    let (runs, json_path) = (&args.runs, &args.json);
    if runs.is_empty() {
        return Err("--runs: name at least one ml100k result file".to_string());
    }
    let mut loaded = Vec::new();
    for path in runs {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        loaded.push((path.clone(), parse_run(&text, path)?));
    }
    println!("MovieLens-100K, GRU4Rec, RecBole protocol: {} runs", loaded.len());
    let heads: String = RECBOLE.iter().map(|(key, _)| format!(" {:>9}", label(key))).collect();
    println!("{:<40} {:>6}{heads} {:>11} {:>8}", "run", "seed", "best/epochs", "s/epoch");
    for (path, run) in &loaded {
        let seed = run.seed.map_or("?".to_string(), |s| s.to_string());
        print!("{path:<40} {seed:>6}");
        for (key, _) in RECBOLE {
            print!(" {:>9.4}", run.test.get(key));
        }
        println!(" {:>11} {:>8.1}", format!("{}/{}", run.best_epoch, run.epochs.len()), run.seconds_per_epoch);
    }
    #[derive(Serialize)]
    struct Row {
        mean: f64,
        sd: f64,
        recbole: f64,
        /// mean − RecBole
        diff: f64,
    }
    let rows: BTreeMap<&'static str, Row> = RECBOLE
        .iter()
        .map(|&(key, recbole)| {
            let values: Vec<f64> = loaded.iter().map(|(_, r)| r.test.get(key)).collect();
            let (mean, sd) = mean_sd(&values);
            (key, Row { mean, sd, recbole, diff: mean - recbole })
        })
        .collect();
    let print_row = |label: &str, value: &dyn Fn(&Row) -> f64| {
        print!("{label:<47}");
        for (key, _) in RECBOLE {
            print!(" {:>9.4}", value(&rows[key]));
        }
        println!();
    };
    print_row("mean", &|r| r.mean);
    print_row("sd", &|r| r.sd);
    print_row("RecBole", &|r| r.recbole);
    let mut within = true;
    for key in ["HR@10", "NDCG@10"] {
        let diff = rows[key].diff;
        let ok = diff.abs() <= BAND;
        within &= ok;
        println!("{key}: mean − RecBole = {diff:+.4} ({} the ±{BAND} band)", if ok { "inside" } else { "outside" });
    }
    #[derive(Serialize)]
    struct Summary<'a> {
        runs: &'a [String],
        seeds: Vec<Option<u64>>,
        metrics: BTreeMap<&'static str, Row>,
        band: f64,
        within_band: bool,
    }
    write_json(
        &json_path,
        &Summary { runs: &runs, seeds: loaded.iter().map(|(_, r)| r.seed).collect(), metrics: rows, band: BAND, within_band: within },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(values: &str) -> String {
        format!(r#"{{"seed": 7, "test": {{"count": 943, "values": {{{values}}}}}, "best_epoch": 3, "seconds_per_epoch": 1.5, "epochs": [{{}}, {{}}, {{}}, {{}}]}}"#)
    }

    #[test]
    fn a_result_is_read_with_its_seed_and_epochs() {
        let run = parse_run(&result(r#""HR@10": 0.12, "MRR@10": 0.03, "NDCG@10": 0.05"#), "r.json").unwrap();
        assert_eq!((run.seed, run.best_epoch, run.epochs.len()), (Some(7), 3, 4));
        assert_eq!(run.test.get("NDCG@10"), 0.05);
    }

    #[test]
    fn a_result_without_a_compared_metric_names_the_field() {
        let err = parse_run(&result(r#""HR@10": 0.12, "MRR@10": 0.03"#), "r.json").err().unwrap();
        assert_eq!(err, "r.json: field `test.values.NDCG@10`: missing or not a number");
        let err = parse_run("{\n  \"test\": 3\n}", "r.json").err().unwrap();
        assert!(err.starts_with("r.json:2: not an ml100k result"), "{err}");
    }
}
