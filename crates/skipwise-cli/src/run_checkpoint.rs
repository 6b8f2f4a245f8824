//! The checkpoint file of a run that outlasts its process: `ml100k` (the anchor, ~30 epochs) and
//! `compare --checkpoints DIR` (RecBole-protocol runs of an hour or more each) write one after
//! every epoch and go on from it when run again, so that a run cut short — a closed laptop, a
//! machine that is not kept — loses at most one epoch.

use crate::commands::write_text;
use serde::{Deserialize, Serialize};
use skipwise_core::checkpoint::Checkpoint;
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
}

/// Reads `path` if it holds a checkpoint of a run with this configuration (epochs and patience
/// may differ: they only say how far to go); `None` when there is no file.
pub fn read(path: &str, config: &TrainConfig, n_rows: usize, monitor: &str) -> Result<Option<RunCheckpoint>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{path}: {e}")),
    };
    let mut saved: RunCheckpoint = serde_json::from_str(&text).map_err(|e| format!("{path}:{}: not a checkpoint: {e}", e.line()))?;
    if let Some(saved_monitor) = saved.monitor.as_deref().filter(|m| *m != monitor) {
        return Err(format!(
            "{path}: field `monitor`: that run early-stops on {saved_monitor:?}, this one on {monitor:?}; early-stop on {saved_monitor} or start over with --fresh true"
        ));
    }
    saved.run = saved.run.check(path).map_err(|e| e.to_string())?;
    if !saved.run.continues(config, n_rows) {
        return Err(format!("{path}: written by a run with another configuration or data; delete it or pass --fresh true to start over"));
    }
    Ok(Some(saved))
}

/// A trainer for `config`, fresh or going on from the checkpoint at `path` (unless `fresh`), with
/// its progress and the seconds of the epochs already trained.
pub fn start(path: &str, config: &TrainConfig, n_rows: usize, monitor: &str, fresh: bool, device: &skipwise_core::burn::tensor::Device) -> Result<(Trainer, FitProgress, Vec<f64>), String> {
    let saved = if fresh { None } else { read(path, config, n_rows, monitor)? };
    Ok(match saved {
        Some(RunCheckpoint { run, epoch_secs, .. }) => {
            eprintln!("{path}: resuming after epoch {}", run.epochs_done());
            let (mut trainer, mut progress) = Trainer::resume(run, device).map_err(|e| format!("{path}: {e}"))?;
            trainer.config.epochs = config.epochs;
            trainer.config.patience = config.patience;
            // The saved run stopped, or not, under its own patience: judged again under this one
            // (the trainer's rule), so a larger --patience lets an early-stopped run go on.
            let last = progress.logs.last().map_or(0, |l| l.epoch);
            progress.stopped = progress.best.as_ref().is_some_and(|b| last.saturating_sub(b.epoch) >= config.patience);
            (trainer, progress, epoch_secs)
        }
        None => (Trainer::new(config.clone(), n_rows, device).map_err(|e| e.to_string())?, FitProgress::default(), Vec::new()),
    })
}

/// Writes the run as it stands; a failure is reported, not fatal (the run goes on).
pub fn save(path: &str, trainer: &Trainer, progress: &FitProgress, monitor: &str, epoch_secs: &[f64]) {
    let saved = trainer
        .checkpoint(progress)
        .map_err(|e| e.to_string())
        .and_then(|run| serde_json::to_string(&RunCheckpoint { run, monitor: Some(monitor.to_string()), epoch_secs: epoch_secs.to_vec() }).map_err(|e| e.to_string()))
        .and_then(|text| write_text(path, text));
    if let Err(e) = saved {
        eprintln!("(checkpoint not saved: {e})");
    }
}
