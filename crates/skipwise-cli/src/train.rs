//! `train`: your own log → sessions → the paper's protocol (sessions by start time, 80/10/10,
//! FPs from the format's rule, positive-only targets) → a trained model, its test metrics, and a
//! model file (the config, the item ids and the weights as JSON, read back by `eval` and meant
//! for the page's Lab).

use crate::cli::{ContrastArgs, DataArgs, FitArgs, Train};
use skipwise_core::contrastive::Contrast;
use skipwise_core::system::System;
use crate::commands::{TABLE_KEYS, device, write_json, write_text};
use crate::progress::Epochs;
use serde::Serialize;
use skipwise_core::burn::tensor::Device;
use skipwise_core::experiment::{self, DataOptions, Knobs, Outcome, PaperRun};
use skipwise_core::loaders::{self, Format, Options};
use skipwise_core::metrics::Report;
use skipwise_core::checkpoint::Checkpoint;
use skipwise_core::train::{EpochLog, Stepped, TrainConfig, Trainer};
use skipwise_core::weights;
use std::io::BufRead;
use std::time::Instant;

pub use skipwise_core::model_file::ModelFile;

#[derive(Serialize)]
struct RunFile<'a> {
    data: &'a str,
    format: &'a str,
    rows: usize,
    sessions: usize,
    items: usize,
    fp_share: f32,
    split: [usize; 3],
    config: &'a TrainConfig,
    best_epoch: usize,
    epochs: &'a [EpochLog],
    test: &'a Report,
    seconds: f64,
}

/// Opens `path` and reads it in `format` (guessed from its first line when `None`).
pub fn load(path: &str, format: Option<Format>, options: &Options) -> Result<(loaders::Loaded, Format), String> {
    let open = || std::fs::File::open(path).map(std::io::BufReader::new).map_err(|e| format!("{path}: {e}"));
    let format = match format {
        Some(f) => f,
        None => {
            let mut first = String::new();
            open()?.read_line(&mut first).map_err(|e| format!("{path}: {e}"))?;
            Format::guess(&first).ok_or_else(|| {
                format!("{path}: cannot tell the format from its first line; pass --format ({})", Format::names())
            })?
        }
    };
    let t0 = Instant::now();
    let loaded = loaders::read(open()?, path, format, options).map_err(|e| e.to_string())?;
    let secs = t0.elapsed().as_secs_f64().max(1e-9);
    eprintln!("{path}: {} format, {} lines, {} events in {secs:.2} s ({:.0} rows/s)", format.name(), loaded.lines, loaded.events.len(), loaded.lines as f64 / secs);
    Ok((loaded, format))
}

pub use skipwise_core::experiment::Prepared;

impl DataArgs {
    pub fn options(&self) -> DataOptions {
        DataOptions { skip_secs: self.skip_secs, rating_max: self.rating_max, gap_secs: self.gap_secs, min_positives: self.min_positives }
    }
}

pub fn prepare(args: &DataArgs) -> Result<Prepared, String> {
    let rows_hint = loaders::rows_hint(std::path::Path::new(&args.data));
    let options = Options { skip_flag: args.skip_flag.into(), columns: args.columns.clone(), max_play_secs: args.max_play_secs, rows_hint };
    let (loaded, format) = load(&args.data, args.format, &options)?;
    let p = experiment::prepare(loaded, format, &args.data, &args.options())?;
    p.notes.iter().for_each(|n| eprintln!("{n}"));
    eprintln!("{}", p.summary());
    Ok(p)
}

impl FitArgs {
    /// The run's knobs: these flags and the contrastive systems' (`contrast`).
    pub fn knobs(&self, contrast: &ContrastArgs) -> Knobs {
        Knobs {
            backbone: self.backbone,
            epochs: self.epochs,
            patience: self.patience,
            batch: self.batch,
            dim: self.dim,
            hidden: self.hidden,
            lr: self.lr,
            lambda: self.lambda,
            margin: self.margin,
            sasrec: self.sasrec.into(),
            user_term: self.user_term,
            fp_scope: self.fp_scope.into(),
            contrast_batch: contrast.contrast_batch,
            contrast: contrast.config(Contrast::None),
        }
    }
}

/// `system`'s configuration for `seed` (`users`: how many users the log has, for the user term).
pub fn config(args: &FitArgs, contrast: &ContrastArgs, system: System, seed: u64, users: usize) -> TrainConfig {
    args.knobs(contrast).config(system, seed, users)
}

/// Where a run keeps its checkpoint, and whether it goes on from the one already there.
#[derive(Clone, Copy)]
pub struct Resumable<'a> {
    pub path: &'a str,
    pub resume: bool,
}

/// Trains `config` on the prepared split (early stopping on validation MRR@20) and evaluates the
/// best model on the test sessions; `label` names the run in its progress bar. With `saved`, a
/// checkpoint (weights, Adam's moments, shuffler, logs, best model) is written after every epoch,
/// and with `resume` the run goes on from it: no finished epoch is trained again.
pub fn fit_and_test(config: &TrainConfig, p: &Prepared, device: &Device, label: &str, saved: Option<Resumable>) -> Result<Outcome, String> {
    let mut run = match saved.filter(|s| s.resume) {
        Some(s) => {
            let text = std::fs::read_to_string(s.path).map_err(|e| format!("{}: {e} (nothing to resume: run without --resume)", s.path))?;
            let run = Checkpoint::parse(&text, s.path).map_err(|e| e.to_string())?;
            if let Some(why) = run.difference(config, p.data.n_rows()) {
                return Err(format!("{}: written by a run with other data or flags ({why}; only --epochs and --patience may change)", s.path));
            }
            eprintln!("{}: resuming after epoch {}", s.path, run.epochs_done());
            let (mut trainer, mut progress) = Trainer::resume(run, device).map_err(|e| format!("{}: {e}", s.path))?;
            trainer.config.epochs = config.epochs;
            trainer.config.patience = config.patience;
            progress.judge_again(config.patience);
            PaperRun::resume(trainer, progress, p)
        }
        None => PaperRun::new(config.clone(), p, device),
    }
    .map_err(|e| e.to_string())?;
    let bar = Epochs::new(config.epochs, label);
    loop {
        match run.step().map_err(|e| e.to_string())? {
            Stepped::Batch { .. } => {}
            Stepped::Epoch => {
                let progress = run.progress();
                bar.epoch(&progress.logs[progress.logs.len() - 1]);
                if let Some(s) = saved {
                    let written = run
                        .trainer
                        .checkpoint(progress)
                        .map_err(|e| e.to_string())
                        .and_then(|c| serde_json::to_string(&c).map_err(|e| e.to_string()))
                        .and_then(|text| write_text(s.path, text));
                    if let Err(e) = written {
                        eprintln!("(checkpoint not saved: {e})");
                    }
                }
            }
            Stepped::Finished => break,
        }
    }
    let outcome = run.finish(p).map_err(|e| e.to_string())?;
    bar.finish(&format!("best epoch {} of {}", outcome.fit.best_epoch, outcome.fit.epochs.len()));
    Ok(outcome)
}

pub fn train(args: &Train) -> Result<(), String> {
    let started = Instant::now();
    if args.method.ufn.is_some() || args.method.sml.is_some() {
        // Their own trainers write no model file the page or `eval` could read yet.
        return Err(format!("--method {}: train writes model files for the softmax systems; run UFNRec and SML with `skipwise compare`", args.method.label()));
    }
    let checkpoint = format!("{}/checkpoint.json", args.out);
    if args.resume && !std::path::Path::new(&checkpoint).exists() {
        return Err(format!("{checkpoint}: no checkpoint to resume from (run without --resume)"));
    }
    let p = prepare(&args.data)?;
    let config = config(&args.fit, &args.contrast, args.method, args.seed, p.data.users());
    let backbone = config.model.backbone.name();
    let label = format!("{} {backbone}", args.method.label());
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out))?;
    let saved = Resumable { path: &checkpoint, resume: args.resume };
    let Outcome { trainer, fit, test, .. } = fit_and_test(&config, &p, &device(args.fit.device)?, &label, Some(saved))?;
    println!("{} {backbone} on {}: best epoch {} of {}", args.method.label(), args.data.data, fit.best_epoch, fit.epochs.len());
    for k in TABLE_KEYS {
        println!("  {k:<8} {:.4}", test.get(k));
    }
    let items = (1..p.data.n_rows() as u32).filter_map(|r| p.data.items.external(r)).collect();
    let model = ModelFile {
        format: ModelFile::FORMAT.into(),
        version: ModelFile::VERSION,
        config: config.clone(),
        items,
        names: p.loaded.names.clone(),
        weights: weights::read_sync(&trainer.model).map_err(|e| e.to_string())?,
    };
    write_json(&format!("{}/model.json", args.out), &model)?;
    let run = RunFile {
        data: &args.data.data,
        format: p.format.name(),
        rows: p.loaded.events.len(),
        sessions: p.data.sessions.len(),
        items: p.data.items.len(),
        fp_share: p.data.fp_share(),
        split: [p.split.train.len(), p.split.valid.len(), p.split.test.len()],
        config: &config,
        best_epoch: fit.best_epoch,
        epochs: &fit.epochs,
        test: &test,
        seconds: started.elapsed().as_secs_f64(),
    };
    write_json(&format!("{}/run.json", args.out), &run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn the_systems_with_their_own_trainer_are_sent_to_compare() {
        for m in ["ufnrec", "sml-triplet-gru"] {
            let cli = crate::cli::Cli::try_parse_from(["skipwise", "train", "--data", "/nonexistent/log.csv", "--method", m]).expect("parses");
            let crate::cli::Command::Train(args) = cli.command else { panic!("train") };
            let err = super::train(&args).expect_err("refused");
            assert!(err.contains("skipwise compare"), "{err}");
        }
    }

    fn run_path(out: &std::path::Path) -> String {
        out.join("run.json").to_str().unwrap_or_default().to_string()
    }

    #[test]
    fn trains_on_a_log_it_has_never_seen_and_writes_a_model_file() {
        let dir = std::env::temp_dir().join(format!("skipwise-train-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let data = dir.join("log.tsv");
        // Last.fm-1K's shape: twelve listeners (a session each), newest first, a few skips (2 s to
        // the next play); the last 10 % of sessions by start time are the test set.
        let mut text = String::new();
        for (user, start) in (1..=12).map(|u| (format!("u{u}"), 1_000_000 + u * 100_000)) {
            for k in (0..40).rev() {
                let t = start + k * 200 + if k % 5 == 0 { 198 } else { 0 };
                let secs = t % 60;
                let mins = (t / 60) % 60;
                let hours = (t / 3600) % 24;
                let day = 1 + t / 86_400;
                text.push_str(&format!("{user}\t2009-05-{day:02}T{hours:02}:{mins:02}:{secs:02}Z\ta\tArtist\tt{}\tTrack {}\n", k % 7, k % 7));
            }
        }
        std::fs::write(&data, text).expect("writes");
        let out = dir.join("out");
        let cli = crate::cli::Cli::try_parse_from([
            "skipwise",
            "train",
            "--data",
            data.to_str().unwrap_or_default(),
            "--backbone",
            "stamp",
            "--epochs",
            "1",
            "--dim",
            "8",
            "--gap-secs",
            "100000",
            "--out",
            out.to_str().unwrap_or_default(),
        ])
        .expect("parses");
        let crate::cli::Command::Train(args) = cli.command else { panic!("train") };
        train(&args).expect("trains");
        let model: ModelFile = serde_json::from_str(&std::fs::read_to_string(out.join("model.json")).expect("model.json")).expect("a model file");
        assert_eq!((model.format.as_str(), model.items.len()), ("skipwise-model", 7));
        assert_eq!(model.names.len(), 7);
        let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).expect("run.json")).expect("json");
        assert_eq!(run["format"], "lastfm");
        assert!(run["test"]["values"]["HR@10"].as_f64().is_some_and(|v| (0.0..=1.0).contains(&v)), "{run}");
        // `eval` of that model file on the same log gives the test metrics `train` reported.
        let evaluated = out.join("eval.json");
        let model_path = out.join("model.json");
        let cli = crate::cli::Cli::try_parse_from([
            "skipwise",
            "eval",
            "--model",
            model_path.to_str().unwrap_or_default(),
            "--data",
            data.to_str().unwrap_or_default(),
            "--gap-secs",
            "100000",
            "--json",
            evaluated.to_str().unwrap_or_default(),
        ])
        .expect("parses");
        let crate::cli::Command::Eval(args) = cli.command else { panic!("eval") };
        crate::eval::eval(&args).expect("evaluates");
        let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&evaluated).expect("eval.json")).expect("json");
        for k in ["HR@10", "MRR@10", "NDCG@20", "FP@20"] {
            let (a, b) = (report["values"][k].as_f64().expect("metric"), run["test"]["values"][k].as_f64().expect("metric"));
            assert!((a - b).abs() < 1e-6, "{k}: eval {a} vs train {b}");
        }
        // `recommend` reads the same model file: a typed session (a title, a skipped item number).
        let cli = crate::cli::Cli::try_parse_from(["skipwise", "recommend", "--model", model_path.to_str().unwrap_or_default(), "--session", "Artist — Track 1,~2,3", "--top", "3"])
            .expect("parses");
        let crate::cli::Command::Recommend(args) = cli.command else { panic!("recommend") };
        crate::recommend::recommend(&args).expect("recommends");
        // --resume goes on from the checkpoint: epoch 1 is the first run's, epoch 2 is new.
        let resumed = crate::cli::Cli::try_parse_from([
            "skipwise", "train", "--data", data.to_str().unwrap_or_default(), "--backbone", "stamp", "--epochs", "2", "--patience", "5",
            "--dim", "8", "--gap-secs", "100000", "--out", out.to_str().unwrap_or_default(), "--resume",
        ])
        .expect("parses");
        let crate::cli::Command::Train(args) = resumed.command else { panic!("train") };
        train(&args).expect("resumes");
        let again: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).expect("run.json")).expect("json");
        assert_eq!(again["epochs"].as_array().map(Vec::len), Some(2), "{again}");
        assert_eq!(again["epochs"][0], run["epochs"][0], "the finished epoch is kept, not retrained");
        // Another flag than --epochs/--patience is another run: refused.
        let other = crate::cli::Cli::try_parse_from([
            "skipwise", "train", "--data", data.to_str().unwrap_or_default(), "--backbone", "stamp", "--epochs", "3", "--dim", "16",
            "--gap-secs", "100000", "--out", out.to_str().unwrap_or_default(), "--resume",
        ])
        .expect("parses");
        let crate::cli::Command::Train(args) = other.command else { panic!("train") };
        let err = train(&args).expect_err("another configuration");
        assert!(err.contains("checkpoint.json") && err.contains("other data or flags") && err.contains("field `model.dim`: 8 there, 16 here"), "{err}");
        // A file that is not a model is refused with the reason.
        let err = crate::eval::read_model(run_path(&out).as_str()).err().expect("run.json is not a model");
        assert!(err.contains("not a Skipwise model file") || err.contains("expected \"skipwise-model\""), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }

    /// Flags that cannot make sense for the file are refused by name before anything trains.
    #[test]
    fn a_rating_threshold_above_the_scale_or_a_zero_gap_is_refused_by_its_flag() {
        let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/ml-100k-u.data");
        let parse = |extra: &[&str]| {
            let mut argv = vec!["skipwise", "train", "--data", sample];
            argv.extend_from_slice(extra);
            let crate::cli::Command::Train(args) = crate::cli::Cli::try_parse_from(argv).expect("parses").command else { panic!("train") };
            args
        };
        let err = prepare(&parse(&["--rating-max", "5"]).data).err().expect("every play an FP");
        assert!(err.starts_with("--rating-max: 5 is at or above every rating"), "{err}");
        let err = prepare(&parse(&["--gap-secs", "0"]).data).err().expect("no gap");
        assert!(err.starts_with("--gap-secs: 0 is not a positive number"), "{err}");
        let p = prepare(&parse(&["--gap-secs", "3600"]).data).expect("the paper's protocol");
        assert!(p.data.sessions.iter().all(|s| s.clicks.iter().filter(|c| !c.fp).count() >= 2), "sessions of < 2 positives dropped");
    }
}
