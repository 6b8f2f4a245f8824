//! The CLI's commands: each reads its flags, runs the core, prints a table and writes JSON.

use crate::args::Args;
use serde::Serialize;
use skipwise_core::batch::leave_one_out;
use skipwise_core::burn::tensor::Device;
use skipwise_core::data::{FpRule, ItemIndex, user_sequences};
use skipwise_core::metrics::Report;
use skipwise_core::batch::FpScope;
use skipwise_core::model::{Backbone, FpaActivation, FpaConfig, FpaOutput, ModelConfig};
use skipwise_core::objective::{Method, ObjectiveConfig};
use skipwise_core::sim::{SimConfig, Simulator};
use skipwise_core::checkpoint::Checkpoint;
use skipwise_core::train::{EpochLog, FitProgress, TrainConfig, Trainer};
use std::collections::BTreeMap;
use std::time::Instant;

fn device(name: &str) -> Result<Device, String> {
    match name {
        "flex" | "cpu" => Ok(Device::flex()),
        #[cfg(feature = "wgpu")]
        "wgpu" => Device::wgpu_options().init().map_err(|e| format!("no wgpu device: {e:?}")),
        other => Err(format!("--device: unknown device {other:?} (flex or wgpu)")),
    }
}

/// One method's result over seeds.
#[derive(Serialize)]
struct MethodResult {
    method: String,
    backbone: String,
    /// Means over seeds.
    metrics: BTreeMap<String, f64>,
    sd: BTreeMap<String, f64>,
    per_seed: Vec<BTreeMap<String, f64>>,
    /// FP-AdaMetric's weight distribution in the last epoch, per seed.
    fp_weights: Vec<Option<skipwise_core::train::WeightStats>>,
    /// The metric term's mean hinge over the last epoch's training steps, per seed (0 for the
    /// methods without one): how much work the FP term still does once the model has learnt.
    hinge: Vec<f64>,
}

fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

/// The printed columns; the JSON has every metric. FP@20 (the share of the session's skipped
/// items back in the top 20; lower is better) shows what the FP objectives do to the FPs themselves.
const TABLE_KEYS: [&str; 7] = ["HR@10", "MRR@10", "NDCG@10", "HR@20", "MRR@20", "NDCG@20", "FP@20"];

pub fn sim_table(args: &Args) -> Result<(), String> {
    let backbone_name: String = args.get("backbone", "narm".to_string())?;
    let backbone = Backbone::parse(&backbone_name).ok_or_else(|| format!("--backbone: unknown {backbone_name:?}"))?;
    let fp_share: f32 = args.get("fp-share", 0.5)?;
    let seeds: Vec<u64> = args.list("seeds", "1,2,3")?;
    let epochs: usize = args.get("epochs", 10)?;
    let dim: usize = args.get("dim", 64)?;
    let lambda: f32 = args.get("lambda", 0.5)?;
    let margin: f32 = args.get("margin", 1.0)?;
    let n_items: usize = args.get("items", 300)?;
    let listeners: usize = args.get("listeners", 200)?;
    let decoy_fps: bool = args.get("decoy-fps", false)?;
    let fp_scope = match args.get("fp-scope", "session".to_string())?.as_str() {
        "session" => FpScope::Session,
        "user" => FpScope::User,
        other => return Err(format!("--fp-scope: {other:?} is neither session nor user")),
    };
    let fpa = FpaConfig {
        activation: match args.get("fpa-activation", "relu".to_string())?.as_str() {
            "relu" => FpaActivation::Relu,
            "tanh" => FpaActivation::Tanh,
            other => return Err(format!("--fpa-activation: {other:?} is neither relu nor tanh")),
        },
        output: match args.get("fpa-output", "sigmoid".to_string())?.as_str() {
            "sigmoid" => FpaOutput::Sigmoid,
            "softmax" => FpaOutput::Softmax,
            other => return Err(format!("--fpa-output: {other:?} is neither sigmoid nor softmax")),
        },
        ..FpaConfig::default()
    };
    let device = device(&args.get("device", "flex".to_string())?)?;
    let json_path: String = args.get("json", "results/sim-table.json".to_string())?;
    let method_names: Vec<String> = args.list("methods", "vanilla,fp-simple,fp-metric,fp-adametric")?;
    args.finish()?;
    let methods: Vec<Method> = method_names
        .iter()
        .map(|m| Method::parse(m).ok_or_else(|| format!("--methods: unknown method {m:?}")))
        .collect::<Result<_, _>>()?;

    // Vanilla is reported twice: with its natural input (FPs kept in the prefix) and FP-free input.
    let rows: Vec<(Method, bool, String)> = [
        (Method::Vanilla, true, "Vanilla (FPs in input)"),
        (Method::Vanilla, false, "Vanilla (FPs removed from input)"),
        (Method::FpSimple, false, "FP-Simple"),
        (Method::FpMetric, false, "FP-Metric"),
        (Method::FpAdaMetric, false, "FP-AdaMetric"),
    ]
    .into_iter()
    .filter(|(m, ..)| methods.contains(m))
    .map(|(m, keep, name)| (m, keep, name.to_string()))
    .collect();
    let mut per_row: Vec<Vec<Report>> = vec![Vec::new(); rows.len()];
    let mut weights: Vec<Vec<Option<skipwise_core::train::WeightStats>>> = vec![Vec::new(); rows.len()];
    let mut hinges: Vec<Vec<f64>> = vec![Vec::new(); rows.len()];
    let started = Instant::now();
    for seed in &seeds {
        let mut sim = Simulator::new(SimConfig { n_items, n_listeners: listeners, fp_share, decoy_fps, seed: *seed, ..SimConfig::default() });
        let data = sim.dataset(&FpRule::default());
        let split = skipwise_core::data::split_chronological(&data.sessions, 0.8, 0.1);
        eprintln!(
            "seed {seed}: {} items, {} sessions ({} train), FP share {:.2}",
            data.items.len(),
            data.sessions.len(),
            split.train.len(),
            data.fp_share()
        );
        for method in methods.iter().copied() {
            let config = TrainConfig {
                model: ModelConfig { backbone, dim, fpa: fpa.clone(), ..ModelConfig::default() },
                objective: ObjectiveConfig { method, lambda, margin, fp_scope, ..ObjectiveConfig::default() },
                epochs,
                seed: *seed,
                ..TrainConfig::default()
            };
            let mut trainer = Trainer::new(config, data.n_rows(), &device).map_err(|e| e.to_string())?;
            let t0 = Instant::now();
            let mut last: Option<EpochLog> = None;
            let fit = trainer
                .fit(&split.train, &split.valid, &mut |log| last = Some(log.clone()))
                .map_err(|e| e.to_string())?;
            for (i, (m, keep, name)) in rows.iter().enumerate() {
                if *m != method {
                    continue;
                }
                let report = trainer.evaluate_sessions(&split.test, *keep).map_err(|e| e.to_string())?;
                eprintln!(
                    "  {name:<34} best epoch {:>2}/{:<2} test MRR@20 {:.4} HR@20 {:.4} FP@20 {:.4} ({:.1} s)",
                    fit.best_epoch,
                    fit.epochs.len(),
                    report.get("MRR@20"),
                    report.get("HR@20"),
                    report.get("FP@20"),
                    t0.elapsed().as_secs_f64()
                );
                per_row[i].push(report);
                weights[i].push(last.as_ref().and_then(|l| l.fp_weights));
                hinges[i].push(last.as_ref().map_or(f64::NAN, |l| l.metric));
            }
        }
    }
    let mut results = Vec::new();
    println!(
        "\nSimulator, {} at {:.0} % FPs, d = {dim}, {} seeds ({:?}), ≤ {epochs} epochs with early stopping, test = positive-only targets",
        backbone.name(),
        fp_share * 100.0,
        seeds.len(),
        seeds,
    );
    print!("{:<34}", "method");
    for k in TABLE_KEYS {
        print!(" {:>15}", k);
    }
    println!();
    for (i, (_, _, name)) in rows.iter().enumerate() {
        let mut metrics = BTreeMap::new();
        let mut sd = BTreeMap::new();
        let keys: Vec<String> = per_row[i].first().map(|r| r.values.keys().cloned().collect()).unwrap_or_default();
        for key in keys {
            let vals: Vec<f64> = per_row[i].iter().map(|r| r.get(&key)).collect();
            let (m, s) = mean_sd(&vals);
            metrics.insert(key.clone(), m);
            sd.insert(key, s);
        }
        print!("{name:<34}");
        for k in TABLE_KEYS {
            print!(" {:>7.4}±{:<7.4}", metrics.get(k).unwrap_or(&f64::NAN), sd.get(k).unwrap_or(&f64::NAN));
        }
        println!();
        results.push(MethodResult {
            method: name.clone(),
            backbone: backbone.name().to_string(),
            metrics,
            sd,
            per_seed: per_row[i].iter().map(|r| r.values.clone()).collect(),
            fp_weights: weights[i].clone(),
            hinge: hinges[i].clone(),
        });
    }
    println!("({:.0} s in all)", started.elapsed().as_secs_f64());
    write_json(&json_path, &results)
}

fn write_json<T: Serialize>(path: &str, value: &T) -> Result<(), String> {
    write_text(path, serde_json::to_string_pretty(value).map_err(|e| e.to_string())?)?;
    eprintln!("wrote {path}");
    Ok(())
}

/// Writes beside, then renames: an interrupted run never leaves a half-written file.
fn write_text(path: &str, text: String) -> Result<(), String> {
    if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let tmp = format!("{path}.tmp");
    std::fs::write(&tmp, text).map_err(|e| format!("{tmp}: {e}"))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{path}: {e}"))
}

/// What `ml100k` writes after every epoch: the training run and the seconds each epoch took.
#[derive(Serialize, serde::Deserialize)]
struct AnchorCheckpoint {
    run: Checkpoint,
    /// The validation metric of early stopping: a best score only compares with its own kind.
    /// Checkpoints from before the field existed are taken to monitor what the resuming run does.
    #[serde(default)]
    monitor: Option<String>,
    #[serde(default)]
    epoch_secs: Vec<f64>,
}

/// Reads `path` if it holds a checkpoint of a run with this configuration (epochs and patience
/// may differ: they only say how far to go); `None` when there is no file.
fn read_anchor_checkpoint(path: &str, config: &TrainConfig, n_rows: usize, monitor: &str) -> Result<Option<AnchorCheckpoint>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{path}: {e}")),
    };
    let mut saved: AnchorCheckpoint =
        serde_json::from_str(&text).map_err(|e| format!("{path}:{}: not a checkpoint: {e}", e.line()))?;
    if let Some(saved_monitor) = saved.monitor.as_deref().filter(|m| *m != monitor) {
        return Err(format!(
            "{path}: field `monitor`: that run early-stops on {saved_monitor:?}, this one on {monitor:?}; pass --monitor {saved_monitor} or --fresh true"
        ));
    }
    saved.run = saved.run.check(path).map_err(|e| e.to_string())?;
    let comparable = |c: &TrainConfig| TrainConfig { epochs: 0, patience: 0, ..c.clone() };
    if comparable(&saved.run.config) != comparable(config) || saved.run.n_rows != n_rows {
        return Err(format!(
            "{path}: written by a run with another configuration or data; delete it or pass --fresh true to start over"
        ));
    }
    Ok(Some(saved))
}

pub fn ml100k(args: &Args) -> Result<(), String> {
    let file: String = args.get("file", "data/ml-100k/ml-100k.inter".to_string())?;
    let epochs: usize = args.get("epochs", 500)?;
    let patience: usize = args.get("patience", 10)?;
    let seed: u64 = args.get("seed", 2020)?;
    let batch: usize = args.get("batch", 4096)?;
    // RecBole's default `valid_metric`.
    let monitor: String = args.get("monitor", "MRR@10".to_string())?;
    let device = device(&args.get("device", "flex".to_string())?)?;
    let json_path: String = args.get("json", "results/ml100k-anchor.json".to_string())?;
    // Beside the data (git-ignored): a few MB of weights and Adam's moments.
    let ckpt_path: String = args.get("checkpoint", "data/ml100k-anchor.ckpt.json".to_string())?;
    let fresh: bool = args.get("fresh", false)?;
    args.finish()?;
    if !skipwise_core::metrics::Accumulator::default().report().values.contains_key(&monitor) {
        return Err(format!("--monitor: {monitor:?} is not a metric (HR@10, MRR@10, NDCG@10, …)"));
    }
    let reader = std::fs::File::open(&file)
        .map_err(|e| format!("{file}: {e} (run ./scripts/fetch-data first)"))?;
    let events = skipwise_core::movielens::read_inter(std::io::BufReader::new(reader), &file).map_err(|e| e.to_string())?;
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
    // RecBole's GRU4Rec on ml-100k (docs' sequential quick start): emb 64, hidden 128,
    // dropout 0.3, max length 50, full-softmax CE, Adam 1e-3, batch 4096, all ratings positive,
    // early stopping after 10 epochs without a better validation MRR@10.
    let config = TrainConfig {
        model: ModelConfig { backbone: Backbone::Gru4Rec, dim: 64, hidden: 128, dropout_emb: 0.3, ..ModelConfig::default() },
        objective: ObjectiveConfig { method: Method::Vanilla, ..ObjectiveConfig::default() },
        epochs,
        batch_size: batch,
        lr: 1e-3,
        max_len: 50,
        seed,
        patience,
        eval_batch: 1024,
        ..TrainConfig::default()
    };
    let n_rows = items.len() + 1;
    // A run takes hours on two cores: it goes on from the last epoch a previous run finished.
    let saved = if fresh { None } else { read_anchor_checkpoint(&ckpt_path, &config, n_rows, &monitor)? };
    let (mut trainer, progress, mut epoch_secs) = match saved {
        Some(AnchorCheckpoint { run, epoch_secs, .. }) => {
            eprintln!("{ckpt_path}: resuming after epoch {}", run.epochs_done());
            let (mut trainer, progress) = Trainer::resume(run, &device).map_err(|e| format!("{ckpt_path}: {e}"))?;
            trainer.config.epochs = epochs;
            trainer.config.patience = patience;
            (trainer, progress, epoch_secs)
        }
        None => (Trainer::new(config, n_rows, &device).map_err(|e| e.to_string())?, FitProgress::default(), Vec::new()),
    };
    let t0 = Instant::now();
    let mut last = Instant::now();
    let progress_path = format!("{json_path}.progress");
    let fit = trainer
        .fit_from(&loo.train, &loo.valid, &monitor, progress, &mut |log, trainer, progress| {
            let secs = last.elapsed().as_secs_f64();
            epoch_secs.push(secs);
            let saved = trainer
                .checkpoint(progress)
                .map_err(|e| e.to_string())
                .and_then(|run| serde_json::to_string(&AnchorCheckpoint { run, monitor: Some(monitor.clone()), epoch_secs: epoch_secs.clone() }).map_err(|e| e.to_string()))
                .and_then(|text| write_text(&ckpt_path, text));
            if let Err(e) = saved {
                eprintln!("(checkpoint not saved: {e})");
            }
            if let Err(e) = write_json(&progress_path, &(&progress.logs, &epoch_secs)) {
                eprintln!("(progress not saved: {e})");
            }
            let v = log.valid.as_ref();
            eprintln!(
                "epoch {:>3}: loss {:.4}  valid Hit@10 {:.4} MRR@10 {:.4} NDCG@10 {:.4}  ({secs:.1} s)",
                log.epoch,
                log.loss,
                v.map(|r| r.get("HR@10")).unwrap_or(f64::NAN),
                v.map(|r| r.get("MRR@10")).unwrap_or(f64::NAN),
                v.map(|r| r.get("NDCG@10")).unwrap_or(f64::NAN)
            );
            last = Instant::now();
        })
        .map_err(|e| e.to_string())?;
    let test = trainer.evaluate(&loo.test).map_err(|e| e.to_string())?;
    let per_epoch = epoch_secs.iter().sum::<f64>() / epoch_secs.len().max(1) as f64;
    println!("\nMovieLens-100K, GRU4Rec, RecBole protocol (LOO, full ranking), best epoch {} of {}", fit.best_epoch, fit.epochs.len());
    println!("{:<10} {:>9} {:>9} {:>9}", "", "Hit@10", "MRR@10", "NDCG@10");
    println!("{:<10} {:>9.4} {:>9.4} {:>9.4}", "Skipwise", test.get("HR@10"), test.get("MRR@10"), test.get("NDCG@10"));
    println!("{:<10} {:>9.4} {:>9.4} {:>9.4}", "RecBole", 0.1103, 0.0337, 0.0513);
    println!("{per_epoch:.1} s per epoch on this machine; {:.0} s in this process", t0.elapsed().as_secs_f64());
    #[derive(Serialize)]
    struct Anchor<'a> {
        test: &'a Report,
        recbole: BTreeMap<&'static str, f64>,
        best_epoch: usize,
        monitor: &'a str,
        seconds_per_epoch: f64,
        epoch_secs: &'a [f64],
        epochs: &'a [EpochLog],
    }
    let recbole = BTreeMap::from([("HR@10", 0.1103), ("MRR@10", 0.0337), ("NDCG@10", 0.0513)]);
    write_json(
        &json_path,
        &Anchor {
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

/// Writes the page's demo catalogs (`www/catalog/music.json`, `movies.json`).
pub fn catalog(args: &Args) -> Result<(), String> {
    let out: String = args.get("out", "www/catalog".to_string())?;
    args.finish()?;
    std::fs::create_dir_all(&out).map_err(|e| format!("{out}: {e}"))?;
    for kind in skipwise_core::catalog::CatalogKind::ALL {
        let c = skipwise_core::catalog::catalog(kind);
        let path = format!("{out}/{}.json", kind.name());
        let text = serde_json::to_string(&c).map_err(|e| e.to_string())?;
        std::fs::write(&path, text + "\n").map_err(|e| format!("{path}: {e}"))?;
        println!("{path}: {} items in {} genres", c.items.len(), c.genres.len());
    }
    Ok(())
}
