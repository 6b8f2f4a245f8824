//! The checkpoint file of a run that outlasts its process: `ml100k` (the anchor, ~30 epochs) and
//! `compare --checkpoints DIR` (RecBole-protocol runs of an hour or more each) write one after
//! every epoch and go on from it when run again, so that a run cut short — a closed laptop, a
//! machine that is not kept — loses at most one epoch.

use crate::commands::write_text;
use serde::{Deserialize, Serialize};
use skipwise_core::checkpoint::Checkpoint;
use skipwise_core::batch::{Example, fingerprint};
use skipwise_core::train::{FitProgress, TrainConfig, Trainer};

/// What is written after every epoch: the training run and the seconds each epoch took (so that
/// a resumed run still reports the time the whole run trained).
#[derive(Serialize, Deserialize)]
pub struct RunCheckpoint {
    pub run: Checkpoint,
    /// The validation metric of early stopping: a best score only compares with its own kind.
    /// Checkpoints from before the field existed are taken to monitor what the resuming run does.
    #[serde(default)]
    pub monitor: Option<String>,
    #[serde(default)]
    pub epoch_secs: Vec<f64>,
    /// [`data_fingerprint`] of the examples the run trained and validated on: the same catalog
    /// size and configuration over another log (an edited file, another split) is another run.
    /// Checkpoints from before the field existed are taken to be of this data.
    #[serde(default)]
    pub data: Option<String>,
}

/// What a checkpoint must have been written by for a run to go on from it (epochs and patience
/// may differ: they only say how far to go).
pub struct RunKey<'a> {
    pub config: &'a TrainConfig,
    pub n_rows: usize,
    pub monitor: &'a str,
    /// [`data_fingerprint`] of this run's examples.
    pub data: String,
}

/// The fingerprint a checkpoint keeps of the examples it trains (`train`) and validates on.
pub fn data_fingerprint(train: &[Example], valid: &[Example]) -> String {
    format!("fnv1a64:{:016x}", fingerprint(train.iter().chain(valid)))
}

/// Reads `path` if it holds a checkpoint this run can go on from; `None` when there is no file
/// or `fresh` (start over) is asked for.
pub fn open(path: &str, key: &RunKey, fresh: bool) -> Result<Option<RunCheckpoint>, String> {
    if fresh {
        return Ok(None);
    }
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{path}: {e}")),
    };
    let mut saved: RunCheckpoint = serde_json::from_str(&text).map_err(|e| format!("{path}:{}: not a checkpoint: {e}", e.line()))?;
    if let Some(saved_monitor) = saved.monitor.as_deref().filter(|m| *m != key.monitor) {
        return Err(format!(
            "{path}: field `monitor`: that run early-stops on {saved_monitor:?}, this one on {:?}; early-stop on {saved_monitor} or start over with --fresh true",
            key.monitor
        ));
    }
    if let Some(saved_data) = saved.data.as_deref().filter(|d| *d != key.data) {
        return Err(format!(
            "{path}: field `data`: written by a run on other examples ({saved_data}; this run's are {}): another data file or split; delete it or pass --fresh true to start over",
            key.data
        ));
    }
    saved.run = saved.run.check(path).map_err(|e| e.to_string())?;
    if let Some(why) = saved.run.difference(key.config, key.n_rows) {
        return Err(format!("{path}: written by a run with another configuration or catalog ({why}); delete it or pass --fresh true to start over"));
    }
    Ok(Some(saved))
}

/// A trainer for the run `key` names, going on from `saved` (what [`open`] read) or fresh, with
/// its progress and the seconds of the epochs already trained.
pub fn start(path: &str, saved: Option<RunCheckpoint>, key: &RunKey, device: &skipwise_core::burn::tensor::Device) -> Result<(Trainer, FitProgress, Vec<f64>), String> {
    Ok(match saved {
        Some(RunCheckpoint { run, epoch_secs, .. }) => {
            eprintln!("{path}: resuming after epoch {}", run.epochs_done());
            let (mut trainer, mut progress) = Trainer::resume(run, device).map_err(|e| format!("{path}: {e}"))?;
            trainer.config.epochs = key.config.epochs;
            trainer.config.patience = key.config.patience;
            progress.judge_again(key.config.patience);
            (trainer, progress, epoch_secs)
        }
        None => (Trainer::new(key.config.clone(), key.n_rows, device).map_err(|e| e.to_string())?, FitProgress::default(), Vec::new()),
    })
}

/// Writes the run as it stands; a failure is reported, not fatal (the run goes on).
pub fn save(path: &str, trainer: &Trainer, progress: &FitProgress, key: &RunKey, epoch_secs: &[f64]) {
    let saved = trainer
        .checkpoint(progress)
        .map_err(|e| e.to_string())
        .and_then(|run| {
            let file = RunCheckpoint { run, monitor: Some(key.monitor.to_string()), epoch_secs: epoch_secs.to_vec(), data: Some(key.data.clone()) };
            serde_json::to_string(&file).map_err(|e| e.to_string())
        })
        .and_then(|text| write_text(path, text));
    if let Err(e) = saved {
        eprintln!("(checkpoint not saved: {e})");
    }
}
