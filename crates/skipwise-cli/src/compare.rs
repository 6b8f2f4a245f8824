//! `compare`: several systems × seeds on one log and one split, every run's test metrics, mean ±
//! sd per system in one table, JSON, and with `--plot` a grouped bar chart. The log is read and
//! split once; each system × seed trains afresh.
//!
//! Two protocols (`--protocol`): the paper's (sessions, 80/10/10 by start time, FPs from the
//! format's rule, positive-only targets; see `train`) and RecBole's (leave-one-out over each
//! user's whole sequence, every interaction a positive, early stopping on validation MRR@10,
//! each backbone with RecBole's defaults: the ML-100K anchor's protocol, where the seed papers
//! DuoRec and AdaptiveRec are compared).

use crate::cli::{Compare, EvalMode, Protocol};
use crate::commands::{device, write_json};
use crate::progress::Epochs;
use crate::run_checkpoint::{self, RunCheckpoint};
use crate::table;
use crate::train::{Prepared, config, fit_and_test, load, prepare};
use skipwise_core::experiment;
use skipwise_protocol::results::CompareFile;
use skipwise_core::batch::{LeaveOneOut, leave_one_out};
use skipwise_core::burn::tensor::Device;
use skipwise_core::data::{ItemIndex, user_sequences};
use skipwise_core::loaders::Options;
use skipwise_core::metrics::Report;
use skipwise_core::model::Backbone;
use skipwise_core::system::System;
use skipwise_core::batch::eval_examples;
use skipwise_core::objective::Method;
use skipwise_core::sml::{SmlConfig, SmlEncoder, SmlLoss, SmlTrainer};
use skipwise_core::train::{TrainConfig, Trainer};
use skipwise_core::ufn::{UfnConfig, UfnTrainConfig, UfnTrainer, partition};
use std::time::Instant;

/// What the log became under the chosen protocol.
enum Data {
    Paper(Prepared),
    /// `fingerprint`: [`run_checkpoint::data_fingerprint`] of the split, what a checkpoint must
    /// have trained on.
    Recbole { loo: LeaveOneOut, sequences: Vec<(u64, Vec<u32>)>, items: usize, format: &'static str, test_negatives: Option<Vec<Vec<u32>>>, fingerprint: String },
}

/// RecBole's leave-one-out over the whole log (every interaction a positive).
fn recbole_split(args: &Compare) -> Result<Data, String> {
    let d = &args.data;
    let rows_hint = skipwise_core::loaders::rows_hint(std::path::Path::new(&d.data));
    let options = Options { skip_flag: d.skip_flag.into(), columns: d.columns.clone(), max_play_secs: d.max_play_secs, rows_hint };
    let (loaded, format) = load(&d.data, d.format, &options)?;
    let mut items = ItemIndex::default();
    let sequences = user_sequences(&loaded.events, &mut items);
    let loo = leave_one_out(&sequences);
    if loo.train.is_empty() {
        return Err(format!("{}: no user has 3 or more interactions: leave-one-out has nothing to train on", d.data));
    }
    eprintln!("{}: {} users, {} items; {} training steps, {} valid, {} test", d.data, sequences.len(), items.len(), loo.train.len(), loo.valid.len(), loo.test.len());
    // One draw of 100 negatives per test target, shared by every row (`--eval sampled`).
    let test_negatives = match args.eval {
        EvalMode::Sampled => Some(skipwise_core::ufn::sample_negatives(&loo.test, items.len(), 100, 0x7E57).map_err(|e| format!("--eval sampled: {e}"))?),
        EvalMode::Full => None,
    };
    let fingerprint = run_checkpoint::data_fingerprint(&loo.train, &loo.valid);
    Ok(Data::Recbole { loo, sequences, items: items.len(), format: format.name(), test_negatives, fingerprint })
}

/// Why a system cannot run under the other protocol (said before anything trains).
const UFN_PROTOCOL: &str = "ufnrec and sasrec-bce run under --protocol recbole (leave-one-out over each user's sequence)";
const SML_PROTOCOL: &str = "SML trains on sessions: use --protocol paper";

/// A UFNRec or SASRec-BCE run for `seed`: the code's defaults, `--epochs`, and the `--ufn-*` flags.
fn ufn_config(args: &Compare, enabled: bool, seed: u64) -> UfnTrainConfig {
    let u = &args.ufn;
    let mut c = UfnTrainConfig::paper(args.fit.epochs, seed);
    c.ufn = UfnConfig { enabled, negatives: u.ufn_negatives, reverse: u.reverse, alpha: u.ufn_alpha, decay: u.ufn_decay, warmup_epochs: u.warmup_epochs };
    c.batch_size = u.ufn_batch;
    c.eval_every = u.eval_every;
    c.patience = u.ufn_patience;
    c
}

/// `system`'s run for `seed`: the protocol's defaults over the flags.
fn run_config(args: &Compare, data: &Data, system: System, seed: u64) -> TrainConfig {
    let users = match data {
        Data::Paper(p) => p.data.users(),
        Data::Recbole { .. } => 0,
    };
    let mut c = config(&args.fit, &args.contrast, system, seed, users);
    if let Data::Recbole { .. } = data {
        // RecBole's defaults that differ from ours: GRU4Rec's embedding dropout 0.3; max
        // length 50 for all (ours already), evaluation in larger batches (no effect on numbers).
        if c.model.backbone == Backbone::Gru4Rec {
            c.model.dropout_emb = 0.3;
        }
        c.eval_batch = 1024;
    }
    c
}

/// One run: (test report, the same model on the FP-free input for a Vanilla-input system in
/// the paper's protocol, epochs trained, seconds). With `checkpoint` (RecBole's protocol only),
/// the run is written to its path after every epoch and goes on from what was read there, if
/// anything; its seconds then count every epoch it trained, in this process or an earlier one
/// (training only).
fn run(config: &TrainConfig, data: &Data, device: &Device, label: &str, checkpoint: Option<(&str, Option<RunCheckpoint>)>) -> Result<(Report, Option<Report>, usize, f64), String> {
    let t0 = Instant::now();
    match data {
        Data::Paper(p) => {
            let outcome = fit_and_test(config, p, device, label, None)?;
            let secs = t0.elapsed().as_secs_f64();
            Ok((outcome.test, outcome.without_fps, outcome.fit.epochs.len(), secs))
        }
        Data::Recbole { loo, items, test_negatives, fingerprint, .. } => {
            let key = run_key(config, *items, fingerprint);
            let (path, saved) = checkpoint.unzip();
            let (mut trainer, progress, mut epoch_secs) = match path {
                Some(path) => run_checkpoint::start(path, saved.flatten(), &key, device)?,
                None => (Trainer::new(config.clone(), key.n_rows, device).map_err(|e| e.to_string())?, Default::default(), Vec::new()),
            };
            let bar = Epochs::new(config.epochs, label).monitoring(MONITOR);
            let mut last = Instant::now();
            let fit = trainer
                .fit_from(&loo.train, &loo.valid, MONITOR, progress, &mut |log, trainer, progress| {
                    epoch_secs.push(last.elapsed().as_secs_f64());
                    if let Some(path) = path {
                        run_checkpoint::save(path, trainer, progress, &key, &epoch_secs);
                    }
                    bar.epoch(log);
                    last = Instant::now();
                })
                .map_err(|e| e.to_string())?;
            bar.finish(&format!("best epoch {} of {}", fit.best_epoch, fit.epochs.len()));
            let secs = epoch_secs.iter().sum::<f64>();
            let test = match test_negatives {
                Some(n) => trainer.evaluate_sampled(&loo.test, n),
                None => trainer.evaluate(&loo.test),
            };
            Ok((test.map_err(|e| e.to_string())?, None, fit.epochs.len(), secs))
        }
    }
}

/// What RecBole's protocol early-stops on.
const MONITOR: &str = "MRR@10";

/// What a checkpoint of a RecBole-protocol run of `config` must match.
fn run_key<'a>(config: &'a TrainConfig, items: usize, fingerprint: &str) -> run_checkpoint::RunKey<'a> {
    run_checkpoint::RunKey { config, n_rows: items + 1, monitor: MONITOR, data: fingerprint.to_string() }
}

/// Where `system`'s run for `seed` keeps its checkpoint under `--checkpoints DIR`: its name
/// (with the backbone where the system does not name one) as a file name, `duorec-fp-simple`.
fn checkpoint_path(dir: &str, system: System, backbone: Backbone, seed: u64) -> String {
    let name = match system.backbone.is_some() || system.contrast != skipwise_core::contrastive::Contrast::None {
        true => system.label(),
        false => format!("{} {}", system.label(), backbone.name()),
    };
    let slug: Vec<String> = name.to_lowercase().split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_string).collect();
    format!("{dir}/{}-seed{seed}.ckpt.json", slug.join("-"))
}

/// Why `--checkpoints` cannot apply to `system` under `data`'s protocol, if it cannot.
fn not_resumable(args: &Compare, system: System, data: &Data) -> Option<String> {
    if matches!(data, Data::Paper(_)) {
        return Some("--checkpoints: only --protocol recbole runs are checkpointed (a paper-protocol run takes minutes; `skipwise train` resumes one)".into());
    }
    if system.ufn.is_some() || system.sml.is_some() {
        return Some(format!("--checkpoints: {} has a trainer of its own that writes no checkpoint", system.label()));
    }
    let config = run_config(args, data, system, args.seeds[0]);
    (config.objective.contrast.kind == skipwise_core::contrastive::Contrast::AdaptiveRec)
        .then(|| format!("--checkpoints: {} cannot be resumed (its SimThres is not checkpointed); run it without --checkpoints", system.label()))
}

/// A UFNRec or SASRec-BCE run under RecBole's split (the code's own leave-one-out is the same
/// cut): (test report, epochs trained, seconds).
fn run_ufn(config: &UfnTrainConfig, data: &Data, device: &Device, label: &str) -> Result<(Report, usize, f64), String> {
    let Data::Recbole { loo, sequences, items, test_negatives, .. } = data else {
        return Err(format!("--methods {label}: {UFN_PROTOCOL}"));
    };
    let t0 = Instant::now();
    let mut trainer = UfnTrainer::new(config.clone(), partition(sequences), items + 1, device).map_err(|e| e.to_string())?;
    let bar = Epochs::new(config.epochs, label);
    let fit = trainer
        .fit(&loo.valid, &mut |log| {
            let v = log.valid.as_ref().map_or(String::new(), |r| format!(", valid NDCG@10 {:.4} HR@10 {:.4}", r.get("NDCG@10"), r.get("HR@10")));
            let mining = if log.mining { "on" } else { "off" };
            bar.line(log.epoch, &format!("loss {:.4}, mining {mining}, {} labels reversed{v}", log.loss, log.reversed));
        })
        .map_err(|e| e.to_string())?;
    bar.finish(&format!("best epoch {} of {}", fit.best_epoch, fit.epochs.len()));
    let secs = t0.elapsed().as_secs_f64();
    let test = trainer.evaluate(&fit.model, &loo.test, test_negatives.as_deref()).map_err(|e| e.to_string())?;
    Ok((test, fit.epochs.len(), secs))
}

/// SML's configuration for a run: the paper's values at `--dim`, with the run's epochs,
/// patience, seed, learning rate and `--sml-*` flags.
fn sml_config(args: &Compare, (loss, encoder): (SmlLoss, SmlEncoder), seed: u64) -> SmlConfig {
    SmlConfig {
        epochs: args.fit.epochs,
        patience: args.fit.patience,
        seed,
        lr: args.fit.lr,
        batch_size: args.sml_batch,
        train_item_tower: args.sml_train_tower,
        label_softmax: loss == SmlLoss::Ncas && args.ncas_label_softmax,
        ..SmlConfig::paper(loss, encoder, args.fit.dim)
    }
}

/// An SML run under the paper's protocol: sessions (FPs kept for Vanilla, removed for
/// FP-Simple) are its training sequences; (test report, the FP-free input's for Vanilla, epochs,
/// seconds).
fn run_sml(config: &SmlConfig, method: Method, data: &Data, device: &Device, label: &str) -> Result<(Report, Option<Report>, usize, f64), String> {
    let Data::Paper(p) = data else {
        return Err(format!("--methods {label}: {SML_PROTOCOL}"));
    };
    let t0 = Instant::now();
    let keep = method.keeps_fps_in_input();
    let sessions: Vec<Vec<u32>> = p
        .split
        .train
        .iter()
        .map(|s| match keep {
            true => s.clicks.iter().map(|c| c.item).collect(),
            false => s.positives(),
        })
        .collect();
    let mut counts = vec![0u32; p.data.n_rows()];
    for item in sessions.iter().flatten() {
        counts[*item as usize] += 1;
    }
    let mut trainer = SmlTrainer::new(config.clone(), counts, device).map_err(|e| e.to_string())?;
    let bar = Epochs::new(config.epochs, label);
    let valid = eval_examples(&p.split.valid, keep);
    let (logs, best, model) = trainer
        .fit(&sessions, &valid, &mut |log| {
            let v = log.valid.as_ref().map_or(String::new(), |r| format!(", valid MRR@20 {:.4} HR@20 {:.4}", r.get("MRR@20"), r.get("HR@20")));
            bar.line(log.epoch, &format!("loss {:.4} over {} batches{v}", log.loss, log.batches));
        })
        .map_err(|e| e.to_string())?;
    bar.finish(&format!("best epoch {best} of {}", logs.len()));
    let secs = t0.elapsed().as_secs_f64();
    let test = trainer.evaluate(&model, &eval_examples(&p.split.test, keep)).map_err(|e| e.to_string())?;
    let without = match keep {
        true => Some(trainer.evaluate(&model, &eval_examples(&p.split.test, false)).map_err(|e| e.to_string())?),
        false => None,
    };
    Ok((test, without, logs.len(), secs))
}

/// The first value of `values` that an earlier one equals.
fn first_repeat<T: PartialEq>(values: impl IntoIterator<Item = T>) -> Option<T> {
    let mut seen = Vec::new();
    for v in values {
        if seen.contains(&v) {
            return Some(v);
        }
        seen.push(v);
    }
    None
}

pub fn compare(args: &Compare) -> Result<(), String> {
    if args.methods.is_empty() || args.seeds.is_empty() {
        return Err("--methods and --seeds need at least one value each".into());
    }
    // A row or a seed twice would only train the same thing again, into a second row (and
    // checkpoint file) that looks like another result.
    if let Some(twice) = first_repeat(args.methods.iter().map(|m| m.label())) {
        return Err(format!("--methods: {twice} is listed twice"));
    }
    if let Some(twice) = first_repeat(args.seeds.iter().copied()) {
        return Err(format!("--seeds: {twice} is listed twice"));
    }
    // Not a clap `requires`: the config file a run writes holds every flag, `fresh = false` too.
    if args.fresh && args.checkpoints.is_none() {
        return Err("--fresh true starts checkpointed runs over: it needs --checkpoints DIR".into());
    }
    let started = Instant::now();
    let device = device(args.fit.device)?;
    let data = match args.protocol {
        Protocol::Paper => Data::Paper(prepare(&args.data)?),
        Protocol::Recbole => recbole_split(args)?,
    };
    // Two names for one model (`vanilla` and `gru4rec` on `--backbone gru4rec`) are a repeat too.
    let plain: Vec<(System, TrainConfig)> = args.methods.iter().filter(|s| s.ufn.is_none() && s.sml.is_none()).map(|&s| (s, run_config(args, &data, s, args.seeds[0]))).collect();
    for (i, (a, config)) in plain.iter().enumerate() {
        if let Some((b, _)) = plain[..i].iter().find(|(_, c)| c == config) {
            return Err(format!("--methods: {} and {} train the same model; list it once", b.label(), a.label()));
        }
    }
    // Every configuration is checked before the first one trains.
    let mut resumable = std::collections::HashMap::new();
    for &system in &args.methods {
        let checked = match (system.ufn, system.sml) {
            (_, Some(sml)) => match &data {
                Data::Paper(_) => sml_config(args, sml, args.seeds[0]).validate(),
                Data::Recbole { .. } => Err(skipwise_core::Error::Config(SML_PROTOCOL.into())),
            },
            (Some(enabled), None) => match &data {
                Data::Recbole { .. } => ufn_config(args, enabled, args.seeds[0]).validate(),
                Data::Paper(_) => Err(skipwise_core::Error::Config(UFN_PROTOCOL.into())),
            },
            (None, None) => run_config(args, &data, system, args.seeds[0]).validate(),
        };
        checked.map_err(|e| format!("--methods {}: {e}", system.label()))?;
        if let Some(dir) = &args.checkpoints {
            if let Some(why) = not_resumable(args, system, &data) {
                return Err(format!("--methods {}: {why}", system.label()));
            }
            // A checkpoint this run could not go on from is said now, not hours into the compare;
            // what is read is kept for the run.
            if let Data::Recbole { items, fingerprint, .. } = &data {
                for &seed in &args.seeds {
                    let path = checkpoint_path(dir, system, args.fit.backbone, seed);
                    let config = run_config(args, &data, system, seed);
                    let saved = run_checkpoint::open(&path, &run_key(&config, *items, fingerprint), args.fresh)?;
                    resumable.insert(path, saved);
                }
            }
        }
    }
    let mut rows = Vec::new();
    let mut configs = Vec::new();
    for &system in &args.methods {
        let (mut reports, mut without_fps, mut epochs, mut secs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let name = system.label();
        for &seed in &args.seeds {
            let label = format!("{name} seed {seed}");
            let (test, without, n, s, config) = match (system.ufn, system.sml) {
                (_, Some(sml)) => {
                    let config = sml_config(args, sml, seed);
                    let (test, without, n, s) = run_sml(&config, system.method, &data, &device, &label)?;
                    (test, without, n, s, serde_json::to_value(&config))
                }
                (Some(enabled), None) => {
                    let config = ufn_config(args, enabled, seed);
                    let (test, n, s) = run_ufn(&config, &data, &device, &label)?;
                    (test, None, n, s, serde_json::to_value(&config))
                }
                (None, None) => {
                    let config = run_config(args, &data, system, seed);
                    let path = args.checkpoints.as_deref().map(|dir| checkpoint_path(dir, system, args.fit.backbone, seed));
                    let checkpoint = path.as_deref().map(|p| (p, resumable.remove(p).flatten()));
                    let (test, without, n, s) = run(&config, &data, &device, &label, checkpoint)?;
                    (test, without, n, s, serde_json::to_value(&config))
                }
            };
            reports.push(test);
            without_fps.extend(without);
            epochs.push(n);
            secs.push(s);
            if seed == args.seeds[0] {
                configs.push(config.map_err(|e| e.to_string())?);
            }
        }
        let backbone = match system.sml {
            Some((_, encoder)) => format!("SML {}", encoder.name()),
            None => system.backbone_or(args.fit.backbone).name().to_string(),
        };
        rows.extend(experiment::rows(&name, &backbone, &reports, &without_fps, &epochs, &secs));
    }
    let (protocol, what) = match args.protocol {
        Protocol::Paper => ("paper", "test = positive-only targets"),
        Protocol::Recbole => ("recbole", if args.eval == EvalMode::Sampled { "RecBole's leave-one-out, test against 100 sampled negatives" } else { "RecBole's leave-one-out, full ranking" }),
    };
    let title = format!("{} ({protocol} protocol): {} seeds ({:?}), ≤ {} epochs with early stopping, {what}", args.data.data, args.seeds.len(), args.seeds, args.fit.epochs);
    table::print(&title, &rows);
    let seconds = started.elapsed().as_secs_f64();
    let file = match &data {
        Data::Paper(p) => experiment::paper_file(p, System::shared_backbone(&args.methods, args.fit.backbone), &args.seeds, configs, rows.clone(), seconds),
        Data::Recbole { loo, sequences, items, format, .. } => CompareFile {
            data: args.data.data.clone(),
            format: format.to_string(),
            protocol: protocol.to_string(),
            sequences: sequences.len(),
            items: *items,
            fp_share: 0.0,
            split: [loo.train.len(), loo.valid.len(), loo.test.len()],
            backbone: System::shared_backbone(&args.methods, args.fit.backbone),
            seeds: args.seeds.clone(),
            configs,
            methods: rows.clone(),
            seconds,
        },
    };
    write_json(&args.json, &file)?;
    if let Some(path) = &args.plot {
        table::plot(path, &format!("{} ({protocol} protocol)", args.data.data), &rows)?;
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

    /// A MovieLens `u.data` log of `users` × `per_user` ratings in a fresh temp folder named
    /// `name`: user u's k-th item is `item(u, k)`. Returns (folder, file).
    fn ratings_log(name: &str, users: u64, per_user: u64, item: impl Fn(u64, u64) -> u64) -> (std::path::PathBuf, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("skipwise-compare-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let data = dir.join("u.data");
        let mut text = String::new();
        for user in 1..=users {
            for k in 0..per_user {
                text.push_str(&format!("{user}\t{}\t4\t{}\n", item(user, k), 880_000_000 + user * 1000 + k));
            }
        }
        std::fs::write(&data, text).expect("writes");
        (dir, data)
    }

    /// RecBole's protocol over a log: the seed papers' systems side by side, each row with its
    /// backbone, epochs and training time; an impossible system is refused before any training.
    #[test]
    fn compares_the_contrastive_systems_under_recboles_protocol() {
        let (dir, data) = ratings_log("recbole", 12, 20, |user, k| 1 + (user * 3 + k * 7) % 40);
        let json = dir.join("recbole.json");
        let path = |p: &std::path::Path| p.to_str().unwrap_or_default().to_string();
        let argv = |methods: &str, batch: &str| {
            let cli = crate::cli::Cli::try_parse_from([
                "skipwise", "compare", "--data", &path(&data), "--protocol", "recbole", "--methods", methods, "--seeds", "1", "--epochs", "1",
                "--dim", "8", "--hidden", "8", "--batch", "64", "--contrast-batch", batch, "--json", &path(&json),
            ])
            .expect("parses");
            let crate::cli::Command::Compare(args) = cli.command else { panic!("compare") };
            args
        };
        super::compare(&argv("gru4rec,sasrec,duorec,adaptiverec+fp-simple", "16")).expect("compares");
        let out: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("json");
        assert_eq!(out["protocol"], "recbole");
        // 12 users × 20 interactions: 17 training steps each, one valid and one test.
        assert_eq!(out["split"], serde_json::json!([204, 12, 12]));
        let methods = out["methods"].as_array().expect("methods");
        let names: Vec<(&str, &str)> = methods.iter().map(|m| (m["method"].as_str().unwrap_or_default(), m["backbone"].as_str().unwrap_or_default())).collect();
        assert_eq!(names, [("GRU4Rec", "GRU4Rec"), ("SASRec", "SASRec"), ("DuoRec", "SASRec"), ("AdaptiveRec + FP-Simple", "SASRec")]);
        assert_eq!(out["backbone"], "", "every row names its own backbone: --backbone trained none of them");
        for m in methods {
            assert_eq!(m["epochs"], serde_json::json!([1]), "{m}");
            assert!(m["train_seconds"][0].as_f64().is_some_and(|s| s > 0.0), "{m}");
            assert!(m["metrics"]["NDCG@10"].as_f64().is_some_and(|v| (0.0..=1.0).contains(&v)), "{m}");
        }
        // The contrastive systems train at --contrast-batch, the others at --batch.
        let batches: Vec<u64> = out["configs"].as_array().expect("configs").iter().map(|c| c["batch_size"].as_u64().unwrap_or(0)).collect();
        assert_eq!(batches, [64, 64, 16, 16]);
        assert_eq!(out["configs"][2]["objective"]["contrast"]["kind"], "DuoRec");
        // UFNRec beside its SASRec-BCE baseline, every row ranked against 100 sampled negatives.
        let cli = crate::cli::Cli::try_parse_from([
            "skipwise", "compare", "--data", &path(&data), "--protocol", "recbole", "--methods", "sasrec-bce,ufnrec,gru4rec", "--seeds", "1", "--epochs", "2",
            "--dim", "8", "--hidden", "8", "--eval", "sampled", "--ufn-negatives", "5", "--ufn-batch", "4", "--warmup-epochs", "1", "--eval-every", "1",
            "--json", &path(&json),
        ])
        .expect("parses");
        let crate::cli::Command::Compare(ufn) = cli.command else { panic!("compare") };
        super::compare(&ufn).expect("compares");
        let out: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("json");
        let methods = out["methods"].as_array().expect("methods");
        assert_eq!(methods.iter().map(|m| m["method"].as_str().unwrap_or_default()).collect::<Vec<_>>(), ["SASRec-BCE", "UFNRec", "GRU4Rec"]);
        assert_eq!(out["configs"][1]["ufn"]["enabled"], true);
        assert_eq!(out["configs"][0]["ufn"]["enabled"], false);
        for m in methods {
            // 101 candidates: HR@100 is 1 unless the target ties or trails all 100.
            assert!(m["metrics"]["HR@5"].as_f64().is_some_and(|v| (0.0..=1.0).contains(&v)), "{m}");
        }
        // UFNRec's own trainer has no session protocol.
        let mut paper = argv("ufnrec", "16");
        paper.protocol = crate::cli::Protocol::Paper;
        let err = super::compare(&paper).expect_err("refused");
        assert!(err.contains("--protocol recbole"), "{err}");
        // Batch 1 leaves InfoNCE no negatives: refused, naming the field, before anything trains.
        std::fs::remove_file(&json).ok();
        let err = super::compare(&argv("gru4rec,duorec", "1")).expect_err("refused");
        assert!(err.contains("DuoRec") && err.contains("batch_size"), "{err}");
        assert!(!json.exists(), "no output after a refusal");
        std::fs::remove_dir_all(&dir).ok();
    }

    /// What compare refuses before it reads the data: `--fresh true` with nothing to start over
    /// (no `--checkpoints`), a method or a seed listed twice.
    #[test]
    fn refuses_flags_that_contradict_each_other() {
        let (dir, data) = ratings_log("flags", 4, 5, |user, k| 1 + (user + k) % 9);
        let json = dir.join("out.json");
        let compare = |extra: &[&str]| {
            let mut argv = vec!["skipwise", "compare", "--data", data.to_str().unwrap_or_default(), "--protocol", "recbole", "--epochs", "1"];
            argv.extend(["--json", json.to_str().unwrap_or_default()]);
            argv.extend(extra);
            let cli = crate::cli::Cli::try_parse_from(argv).expect("parses");
            let crate::cli::Command::Compare(args) = cli.command else { panic!("compare") };
            super::compare(&args).expect_err("refused")
        };
        let err = compare(&["--methods", "gru4rec", "--seeds", "1", "--fresh", "true"]);
        assert!(err.contains("--fresh") && err.contains("--checkpoints"), "{err}");
        let err = compare(&["--methods", "gru4rec,sasrec,gru4rec", "--seeds", "1"]);
        assert!(err.contains("--methods") && err.contains("GRU4Rec") && err.contains("twice"), "{err}");
        let err = compare(&["--methods", "vanilla,gru4rec", "--seeds", "1"]);
        assert!(err.contains("--methods: Vanilla and GRU4Rec train the same model"), "{err}");
        let err = compare(&["--methods", "gru4rec", "--seeds", "1,2,1"]);
        assert!(err.contains("--seeds: 1 is listed twice"), "{err}");
        assert!(!json.exists(), "nothing is written after a refusal");
        std::fs::remove_dir_all(&dir).ok();
    }

    /// `--checkpoints`: a run cut short goes on from its last epoch; a finished one is only tested
    /// again (same metrics, no epoch trained); what cannot be resumed is refused before training.
    #[test]
    fn a_checkpointed_recbole_run_goes_on_where_it_stopped() {
        let (dir, data) = ratings_log("ckpt", 10, 12, |user, k| 1 + (user * 5 + k * 3) % 30);
        let path = |p: &std::path::Path| p.to_str().unwrap_or_default().to_string();
        let (json, ckpts) = (dir.join("c.json"), dir.join("ckpt"));
        let argv = |methods: &str, epochs: &str, fresh: &str| {
            let cli = crate::cli::Cli::try_parse_from([
                "skipwise", "compare", "--data", &path(&data), "--protocol", "recbole", "--methods", methods, "--seeds", "3", "--epochs", epochs,
                "--patience", "100", "--dim", "8", "--hidden", "8", "--batch", "32", "--contrast-batch", "8", "--json", &path(&json),
                "--checkpoints", &path(&ckpts), "--fresh", fresh,
            ])
            .expect("parses");
            let crate::cli::Command::Compare(args) = cli.command else { panic!("compare") };
            args
        };
        let read = || -> serde_json::Value { serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("json") };
        let ckpt = ckpts.join("gru4rec-seed3.ckpt.json");
        let epochs_in = |p: &std::path::Path| -> usize {
            let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).expect("checkpoint")).expect("checkpoint");
            v["run"]["logs"].as_array().map_or(0, Vec::len)
        };
        super::compare(&argv("gru4rec,duorec", "2", "false")).expect("compares");
        assert_eq!(epochs_in(&ckpt), 2);
        assert_eq!(epochs_in(&ckpts.join("duorec-seed3.ckpt.json")), 2);
        // Mark the saved epochs as 100 s each: a run that went on from them counts them, one that
        // trained them again would not.
        let edit = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&ckpt).expect("checkpoint")).expect("checkpoint");
            f(&mut v);
            std::fs::write(&ckpt, serde_json::to_string(&v).expect("json")).expect("writes");
        };
        edit(&|v| v["epoch_secs"] = serde_json::json!([100.0, 100.0]));
        // Asked for more epochs, the run trains only the third; its seconds count all three.
        super::compare(&argv("gru4rec", "3", "false")).expect("goes on");
        assert_eq!(epochs_in(&ckpt), 3);
        let three = read();
        assert_eq!(three["methods"][0]["epochs"], serde_json::json!([3]));
        let secs = three["methods"][0]["train_seconds"][0].as_f64().unwrap_or(0.0);
        assert!((200.0..260.0).contains(&secs), "{secs}");
        // Finished: tested again from the checkpoint, the same numbers, the file untouched.
        let saved = std::fs::read_to_string(&ckpt).expect("checkpoint");
        super::compare(&argv("gru4rec", "3", "false")).expect("tests again");
        assert_eq!(read()["methods"][0]["metrics"], three["methods"][0]["metrics"]);
        assert_eq!(std::fs::read_to_string(&ckpt).expect("checkpoint"), saved);
        // Early-stopped under patience 1 (its best epoch set to the first): more epochs do not
        // move it; a patience that lets it go on does.
        // The file is made as one written before checkpoints kept their data's fingerprint: it
        // is taken to be of this data.
        edit(&|v| {
            v["run"]["stopped"] = serde_json::json!(true);
            v["run"]["best"]["epoch"] = serde_json::json!(1);
            v.as_object_mut().and_then(|o| o.remove("data")).expect("the checkpoint has its data's fingerprint");
        });
        let mut patient = argv("gru4rec", "5", "false");
        patient.fit.patience = 2;
        super::compare(&patient).expect("stays stopped");
        assert_eq!(epochs_in(&ckpt), 3, "2 epochs without a better score: stopped under patience 2");
        patient.fit.patience = 3;
        super::compare(&patient).expect("goes on");
        assert!(epochs_in(&ckpt) > 3, "patience 3 lets it train a fourth epoch");
        // --fresh true starts over.
        super::compare(&argv("gru4rec", "1", "true")).expect("starts over");
        assert_eq!(epochs_in(&ckpt), 1);
        // Another configuration under the same name: refused, naming the file.
        let mut other = argv("gru4rec", "3", "false");
        other.fit.dim = 16;
        let err = super::compare(&other).expect_err("refused");
        assert!(err.contains("gru4rec-seed3.ckpt.json") && err.contains("--fresh"), "{err}");
        // The same configuration and catalog over other examples (the last user's 5th and 6th
        // ratings swapped): refused, naming the field; the checkpoint is left as it was.
        let swapped = |user, k| if user == 10 && (4..6).contains(&k) { 9 - k } else { k };
        let (other_dir, other_data) = ratings_log("ckpt-other", 10, 12, |user, k| 1 + (user * 5 + swapped(user, k) * 3) % 30);
        let mut moved = argv("gru4rec", "3", "false");
        moved.data.data = path(&other_data);
        let before = std::fs::read_to_string(&ckpt).expect("checkpoint");
        let err = super::compare(&moved).expect_err("refused");
        assert!(err.contains("gru4rec-seed3.ckpt.json") && err.contains("field `data`") && err.contains("--fresh"), "{err}");
        assert_eq!(std::fs::read_to_string(&ckpt).expect("checkpoint"), before);
        std::fs::remove_dir_all(&other_dir).ok();
        // AdaptiveRec and UFNRec cannot be resumed: refused before anything trains (seed 4 has
        // no checkpoint yet: none is written).
        std::fs::remove_file(&json).ok();
        for methods in ["gru4rec,adaptiverec", "gru4rec,ufnrec"] {
            let mut args = argv(methods, "1", "false");
            args.seeds = vec![4];
            let err = super::compare(&args).expect_err("refused");
            assert!(err.contains("--checkpoints"), "{err}");
            assert!(!json.exists(), "no output after a refusal");
            assert!(!ckpts.join("gru4rec-seed4.ckpt.json").exists(), "nothing trained before the refusal");
        }
        // A checkpoint of another configuration is refused before the systems before it train.
        let mut other = argv("duorec,gru4rec", "3", "false");
        other.seeds = vec![3];
        other.fit.hidden = 16;
        let before = std::fs::read_to_string(ckpts.join("duorec-seed3.ckpt.json")).expect("checkpoint");
        let err = super::compare(&other).expect_err("another configuration");
        assert!(err.contains("duorec-seed3.ckpt.json") && err.contains("field `model."), "{err}");
        assert_eq!(std::fs::read_to_string(ckpts.join("duorec-seed3.ckpt.json")).expect("checkpoint"), before, "DuoRec did not train");
        std::fs::remove_dir_all(&dir).ok();
    }

    /// `compare --protocol recbole` trains GRU4Rec and SASRec exactly as `ml100k` does (its
    /// runs are the anchor's), given the anchor's batch, epochs and patience.
    #[test]
    fn recbole_protocol_runs_are_the_anchors_runs() {
        let (dir, data) = ratings_log("anchor", 4, 5, |user, k| 1 + (user + k) % 9);
        for (method, backbone) in [("gru4rec", crate::cli::AnchorBackbone::Gru4rec), ("sasrec", crate::cli::AnchorBackbone::Sasrec)] {
            let cli = crate::cli::Cli::try_parse_from([
                "skipwise", "compare", "--data", data.to_str().unwrap_or_default(), "--protocol", "recbole", "--methods", method, "--seeds", "7",
                "--batch", "4096", "--epochs", "300", "--patience", "10",
            ])
            .expect("parses");
            let crate::cli::Command::Compare(args) = cli.command else { panic!("compare") };
            let split = super::recbole_split(&args).expect("splits");
            let mut compared = super::run_config(&args, &split, args.methods[0], 7);
            // Which FPs the FP term averages over: Vanilla has no FP term, so it never reads it.
            assert_eq!(compared.objective.method, skipwise_core::objective::Method::Vanilla);
            compared.objective.fp_scope = skipwise_core::objective::ObjectiveConfig::default().fp_scope;
            let compared = serde_json::to_value(compared).expect("json");
            let anchor = serde_json::to_value(crate::ml100k::anchor_config(backbone, 300, 10, 7, 4096)).expect("json");
            assert_eq!(compared, anchor, "{method}");
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    /// SML beside the FP methods on a session log: its rows (Vanilla's twice) and its encoder as
    /// the backbone.
    #[test]
    fn compares_sml_beside_the_fp_methods() {
        let dir = std::env::temp_dir().join(format!("skipwise-compare-sml-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let data = dir.join("u.data");
        let mut text = String::new();
        for user in 1..=12u64 {
            for k in 0..30u64 {
                let rating = if k % 5 == 0 { 1 } else { 4 };
                text.push_str(&format!("{user}\t{}\t{rating}\t{}\n", 1 + (user * 7 + k * 3) % 25, 880_000_000 + user * 100_000 + k * 60));
            }
        }
        std::fs::write(&data, text).expect("writes");
        let json = dir.join("sml.json");
        let path = |p: &std::path::Path| p.to_str().unwrap_or_default().to_string();
        let cli = crate::cli::Cli::try_parse_from([
            "skipwise", "compare", "--data", &path(&data), "--methods", "fp-simple,sml-triplet-gru,sml-ncas-textcnn+fp-simple", "--seeds", "1",
            "--backbone", "stamp", "--epochs", "1", "--dim", "8", "--gap-secs", "100000", "--sml-batch", "2", "--json", &path(&json),
        ])
        .expect("parses");
        let crate::cli::Command::Compare(args) = cli.command else { panic!("compare") };
        super::compare(&args).expect("compares");
        let out: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("json");
        assert_eq!(out["backbone"], "STAMP", "FP-Simple trained on --backbone");
        let rows: Vec<(&str, &str)> = out["methods"].as_array().expect("rows").iter().map(|m| (m["method"].as_str().unwrap_or_default(), m["backbone"].as_str().unwrap_or_default())).collect();
        assert_eq!(
            rows,
            [
                ("FP-Simple", "STAMP"),
                ("SML-Triplet (GRU) (FPs in input)", "SML GRU"),
                ("SML-Triplet (GRU) (FPs removed from input)", "SML GRU"),
                ("SML-NCAS (TextCNN) + FP-Simple", "SML TextCNN")
            ]
        );
        for m in out["methods"].as_array().expect("rows") {
            assert!(m["metrics"]["MRR@20"].as_f64().is_some_and(|v| (0.0..=1.0).contains(&v)), "{m}");
        }
        assert_eq!(out["configs"][2]["encoder"], "TextCnn");
        assert_eq!(out["configs"][1]["train_item_tower"], false);
        std::fs::remove_dir_all(&dir).ok();
    }

    /// The page's Lab (the worker's `LabJob`) and the commands it shows for the same experiment
    /// write the same file: natively, the same numbers exactly.
    #[test]
    fn the_labs_command_reproduces_the_labs_results() {
        use skipwise_protocol::lab::{DataOptions, LabData, LabSpec, SimSpec};
        use skipwise_worker::lab::{LabEvent, LabJob, load};
        let dir = std::env::temp_dir().join(format!("skipwise-lab-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        // The session scope here, the default (user) in the browser test: both reach the configs.
        let spec = LabSpec { methods: vec!["vanilla".into(), "fp-metric".into()], seeds: vec![3], epochs: 2, dim: 8, hidden: 8, fp_scope: "session".into(), ..LabSpec::default() };
        let data = LabData::Simulator(SimSpec { listeners: 30, items: 60, mix: [1.0, 1.0, 1.0, 1.0], ..SimSpec::default() });
        let options = DataOptions { skip_secs: 12.0, ..DataOptions::default() };
        let (p, _) = load(&data, &options).expect("loads");
        let mut job = LabJob::new(spec.clone(), &p, skipwise_core::burn::tensor::Device::default(), 0.0).expect("job");
        let lab = loop {
            if let LabEvent::Done(file) = job.step(&p, 0.0).expect("steps") {
                // Through text, as the page downloads it (an f32 as text reads back shortest).
                break serde_json::from_str::<serde_json::Value>(&serde_json::to_string(&*file).expect("json")).expect("json");
            }
        };
        // The commands, run in `dir` (their files named there).
        let json = dir.join("lab.json");
        let command = spec.command(&data, &options, "lab.json");
        for part in command.split(" && ") {
            let argv: Vec<String> = part.split_whitespace().map(|w| if w == "sim.csv" || w == "lab.json" { dir.join(w).to_string_lossy().into_owned() } else { w.to_string() }).collect();
            let cli = crate::cli::Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{part}: {e}"));
            match cli.command {
                crate::cli::Command::Simulate(a) => crate::simulate::simulate(&a).expect("simulates"),
                crate::cli::Command::Compare(a) => super::compare(&a).expect("compares"),
                _ => panic!("{part}"),
            }
        }
        let cli: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("json");
        assert_eq!(cli["configs"], lab["configs"]);
        for key in ["format", "protocol", "sequences", "items", "fp_share", "split", "backbone", "seeds"] {
            assert_eq!(cli[key], lab[key], "{key}");
        }
        // Alone, both are the same numbers exactly; beside the other tests training in this
        // process they draw dropout masks from burn's one CPU generator in another order.
        let rows = |v: &serde_json::Value| v["methods"].as_array().cloned().unwrap_or_default();
        let (a, b) = (rows(&cli), rows(&lab));
        assert_eq!(a.len(), 3);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!((&x["method"], &x["epochs"]), (&y["method"], &y["epochs"]));
            for key in skipwise_protocol::results::TABLE_KEYS {
                let (p, q) = (x["metrics"][key].as_f64().unwrap_or(f64::NAN), y["metrics"][key].as_f64().unwrap_or(f64::NAN));
                assert!((p - q).abs() <= 0.03, "{} {key}: {p} vs {q}", x["method"]);
            }
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    /// The page's Lab builds its runs from the core's defaults: they must be this CLI's, or the
    /// command the Lab shows would run another experiment.
    #[test]
    fn the_flags_defaults_are_the_cores_knobs_and_data_options() {
        let cli = crate::cli::Cli::try_parse_from(["skipwise", "compare", "--data", "x"]).expect("parses");
        let crate::cli::Command::Compare(args) = cli.command else { panic!("compare") };
        assert_eq!(args.fit.knobs(&args.contrast), skipwise_core::experiment::Knobs::default());
        assert_eq!(args.data.options(), skipwise_core::experiment::DataOptions::default());
        // Definition 1's scope is the default and reaches the objective; `session` is the other.
        let system = skipwise_core::system::System::parse("fp-metric").expect("system");
        assert_eq!(args.fit.knobs(&args.contrast).config(system, 1, 3).objective.fp_scope, skipwise_core::batch::FpScope::User);
        let cli = crate::cli::Cli::try_parse_from(["skipwise", "compare", "--data", "x", "--fp-scope", "session"]).expect("parses");
        let crate::cli::Command::Compare(args) = cli.command else { panic!("compare") };
        let config = args.fit.knobs(&args.contrast).config(system, 1, 3);
        assert_eq!(config.objective.fp_scope, skipwise_core::batch::FpScope::Session);
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
