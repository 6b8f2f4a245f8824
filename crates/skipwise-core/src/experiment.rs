//! The paper's protocol as one experiment that `skipwise train`, `skipwise compare` and the
//! page's Lab all run: a log read by [`crate::loaders`] → sessions (FPs by the format's rule) →
//! 80/10/10 by start time → one model per system × seed, trained with early stopping on
//! validation MRR@20 and tested on positive-only targets. One implementation, so that the
//! Lab's table in a browser tab and `compare`'s on the command line are the same experiment (a
//! browser test lays their JSON side by side).
//!
//! The knobs' defaults are the CLI's flags' defaults (a CLI test checks that they agree).

use crate::batch::{FpScope, eval_examples};
use crate::contrastive::{Contrast, ContrastConfig};
use crate::data::{Dataset, FpRule, Split, split_chronological};
use crate::error::Result;
use crate::loaders::{Format, Loaded};
use crate::metrics::Report;
use crate::model::{Backbone, ModelConfig, SasrecConfig, SasrecVariant};
use crate::objective::ObjectiveConfig;
use crate::system::System;
use crate::train::{FitProgress, FitReport, FitRun, Stepped, TrainConfig, Trainer};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use skipwise_protocol::results::{CompareFile, Row, summarize};

pub use skipwise_protocol::lab::DataOptions;

/// A log read and cut as the paper's protocol wants.
pub struct Prepared {
    /// The log's name (its path, or the Lab's file name).
    pub name: String,
    pub loaded: Loaded,
    pub format: Format,
    pub data: Dataset,
    pub split: Split,
    /// What was dropped on the way, for the caller to show.
    pub notes: Vec<String>,
}

impl Prepared {
    /// Sessions in train / valid / test.
    pub fn split_sizes(&self) -> [usize; 3] {
        [self.split.train.len(), self.split.valid.len(), self.split.test.len()]
    }

    /// One line: sessions, the split, items and the FP share.
    pub fn summary(&self) -> String {
        let [train, valid, test] = self.split_sizes();
        format!(
            "{} sessions ({train} train, {valid} valid, {test} test), {} items, FP share {:.2}",
            self.data.sessions.len(),
            self.data.items.len(),
            self.data.fp_share()
        )
    }
}

/// `loaded` (read from `name`) as sessions and the chronological split. Refuses options that
/// cannot mean what they say, naming the CLI flag (the Lab's fields carry the same names).
pub fn prepare(loaded: Loaded, format: Format, name: &str, options: &DataOptions) -> std::result::Result<Prepared, String> {
    if options.gap_secs <= 0.0 || !options.gap_secs.is_finite() {
        return Err(format!("--gap-secs: {} is not a positive number of seconds", options.gap_secs));
    }
    // A threshold at or above the file's highest rating makes every rated play an FP.
    let top = loaded.events.iter().filter_map(|e| e.rating).fold(f32::NEG_INFINITY, f32::max);
    if top.is_finite() && options.rating_max >= top {
        return Err(format!("--rating-max: {} is at or above every rating in {name} (the highest is {top}): every play would be an FP", options.rating_max));
    }
    let rule = FpRule { skip_secs: options.skip_secs, rating_max: options.rating_max, ..FpRule::default() };
    let mut data = Dataset::from_events(&loaded.events, &rule, options.gap_secs, 2).map_err(|e| format!("{name}: {e}"))?;
    let before = data.sessions.len();
    data.sessions.retain(|s| s.clicks.iter().filter(|c| !c.fp).count() >= options.min_positives);
    let mut notes = Vec::new();
    if data.sessions.len() < before {
        notes.push(format!("{} sessions with fewer than {} positives dropped (--min-positives)", before - data.sessions.len(), options.min_positives));
    }
    let split = split_chronological(&data.sessions, 0.8, 0.1);
    Ok(Prepared { name: name.to_string(), loaded, format, data, split, notes })
}

/// The knobs of a run that `train`, `compare` and the Lab set (the CLI flags of the same names);
/// everything else is [`TrainConfig`]'s default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Knobs {
    pub backbone: Backbone,
    pub epochs: usize,
    pub patience: usize,
    pub batch: usize,
    pub dim: usize,
    pub hidden: usize,
    pub lr: f64,
    pub lambda: f32,
    pub margin: f32,
    pub sasrec: SasrecVariant,
    pub user_term: bool,
    /// Which FPs a step's metric term sees (see [`FpScope`]): the user's training-period FPs by
    /// default (Definition 1; a session without a user keeps its own).
    pub fp_scope: FpScope,
    /// The batch of the systems with a contrastive term (AdaptiveRec's SimThres reads it whole).
    pub contrast_batch: usize,
    /// The contrastive term's settings; its kind comes from the system.
    pub contrast: ContrastConfig,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            backbone: Backbone::Gru4Rec,
            epochs: 20,
            patience: 3,
            batch: 256,
            dim: 64,
            hidden: 128,
            lr: 1e-3,
            lambda: 0.5,
            margin: 1.0,
            sasrec: SasrecVariant::RecBole,
            user_term: false,
            fp_scope: FpScope::User,
            contrast_batch: 256,
            contrast: ContrastConfig::default(),
        }
    }
}

impl Knobs {
    /// `system`'s configuration for `seed` on a log with `users` users. A system with a
    /// contrastive term trains at `contrast_batch`, on RecBole's SASRec unless it names another
    /// backbone.
    pub fn config(&self, system: System, seed: u64, users: usize) -> TrainConfig {
        let contrastive = system.contrast != Contrast::None;
        TrainConfig {
            model: ModelConfig {
                backbone: system.backbone_or(self.backbone),
                dim: self.dim,
                hidden: self.hidden,
                sasrec: SasrecConfig { variant: self.sasrec, ..SasrecConfig::default() },
                users: if self.user_term { users } else { 0 },
                ..ModelConfig::default()
            },
            objective: ObjectiveConfig {
                method: system.method,
                lambda: self.lambda,
                margin: self.margin,
                fp_scope: self.fp_scope,
                contrast: ContrastConfig { kind: system.contrast, ..self.contrast.clone() },
                ..ObjectiveConfig::default()
            },
            epochs: self.epochs,
            batch_size: if contrastive { self.contrast_batch } else { self.batch },
            lr: self.lr,
            seed,
            patience: self.patience,
            ..TrainConfig::default()
        }
    }
}

/// One system × seed under the paper's protocol, trained a mini-batch at a time
/// ([`Self::step`]) so that a caller can report, yield or stop between steps.
pub struct PaperRun {
    pub trainer: Trainer,
    fit: FitRun<'static>,
}

/// What a finished [`PaperRun`] measured.
pub struct Outcome {
    pub trainer: Trainer,
    pub fit: FitReport,
    /// Test metrics on the system's natural input.
    pub test: Report,
    /// The same model on the FP-free input, for a system that keeps FPs in its input (Vanilla):
    /// the paper's comparison also asks how it does on what the others see (NOTES §1.5.8).
    pub without_fps: Option<Report>,
}

impl PaperRun {
    /// A fresh model for `config` on `p`.
    pub fn new(config: TrainConfig, p: &Prepared, device: &Device) -> Result<Self> {
        Self::resume(Trainer::new(config, p.data.n_rows(), device)?, FitProgress::default(), p)
    }

    /// Goes on from `trainer` and `progress` (a resumed checkpoint's, or fresh ones).
    pub fn resume(mut trainer: Trainer, progress: FitProgress, p: &Prepared) -> Result<Self> {
        trainer.set_users(&p.data.sessions)?;
        let examples = trainer.train_examples(&p.split.train);
        let valid = eval_examples(&p.split.valid, trainer.config.objective.method.keeps_fps_in_input());
        let fit = trainer.begin_fit_owned(examples, valid, "MRR@20", progress)?;
        Ok(Self { trainer, fit })
    }

    pub fn step(&mut self) -> Result<Stepped> {
        self.trainer.fit_step(&mut self.fit)
    }

    pub fn progress(&self) -> &FitProgress {
        &self.fit.progress
    }

    /// The best validation model, tested on `p`'s test sessions.
    pub fn finish(self, p: &Prepared) -> Result<Outcome> {
        let Self { mut trainer, fit } = self;
        let fit = trainer.finish_fit(fit);
        let keep = trainer.config.objective.method.keeps_fps_in_input();
        let test = trainer.evaluate_sessions(&p.split.test, keep)?;
        let without_fps = keep.then(|| trainer.evaluate_sessions(&p.split.test, false)).transpose()?;
        Ok(Outcome { trainer, fit, test, without_fps })
    }
}

/// A system's rows from its seeds: one, or for a system with FPs in its input two (its natural
/// input, and the FP-free one), each with the backbone, epochs and seconds of every seed.
pub fn rows(name: &str, backbone: &str, tests: &[Report], without_fps: &[Report], epochs: &[usize], seconds: &[f64]) -> Vec<Row> {
    let row = |method: &str, reports: &[Report]| Row {
        backbone: backbone.to_string(),
        epochs: epochs.to_vec(),
        train_seconds: seconds.to_vec(),
        ..summarize(method, &reports.iter().map(|r| r.values.clone()).collect::<Vec<_>>())
    };
    match without_fps.is_empty() {
        true => vec![row(name, tests)],
        false => vec![row(&format!("{name} (FPs in input)"), tests), row(&format!("{name} (FPs removed from input)"), without_fps)],
    }
}

/// The comparison file of a paper-protocol experiment on `p`.
pub fn paper_file(p: &Prepared, backbone: String, seeds: &[u64], configs: Vec<serde_json::Value>, methods: Vec<Row>, seconds: f64) -> CompareFile {
    CompareFile {
        data: p.name.clone(),
        format: p.format.name().to_string(),
        protocol: "paper".to_string(),
        sequences: p.data.sessions.len(),
        items: p.data.items.len(),
        fp_share: p.data.fp_share(),
        split: p.split_sizes(),
        backbone,
        seeds: seeds.to_vec(),
        configs,
        methods,
        seconds,
    }
}
