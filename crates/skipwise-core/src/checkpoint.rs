//! A training run between two epochs, as plain data: what a run that outlasts its process (the
//! ML-100K anchor takes ~30 epochs of minutes each on two cores) writes after every epoch and
//! goes on from.
//!
//! It holds the model's weights and parameter ids, Adam's state (burn keys it by parameter id,
//! so the resumed model takes the saved ids), the shuffling generator, the epoch logs and the best
//! model so far. Not saved: the device's random generator (dropout masks), which burn does not
//! expose; a resumed run reseeds it with `seed + epochs done`, so it is reproducible, and it
//! matches an uninterrupted run in everything but the dropout masks of the epochs after the
//! resume.

use crate::error::{Error, Result};
use crate::metrics::Report;
use crate::rng::Rng;
use crate::train::{Best, EpochLog, FitProgress, TrainConfig, Trainer};
use crate::weights::{self, Weights};
use burn::tensor::{Bytes, Device};
use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "skipwise-checkpoint";
pub const VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub format: String,
    pub version: u32,
    pub config: TrainConfig,
    /// Catalog rows (items + padding) of the model.
    pub n_rows: usize,
    pub logs: Vec<EpochLog>,
    pub stopped: bool,
    pub best: Option<SavedBest>,
    pub weights: Weights,
    pub param_ids: Vec<u64>,
    /// Adam's state in burn's own (burnpack) bytes.
    pub optimizer: Vec<u8>,
    pub rng_state: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedBest {
    pub score: f64,
    pub epoch: usize,
    pub report: Report,
    pub weights: Weights,
}

impl Checkpoint {
    /// Epochs trained so far.
    pub fn epochs_done(&self) -> usize {
        self.logs.len()
    }

    /// Why a run of `config` over `n_rows` catalog rows cannot go on from this checkpoint — the
    /// first field that differs, with both values — or `None` when it can: the same run in
    /// everything but how far it goes (`epochs`, `patience`).
    pub fn difference(&self, config: &TrainConfig, n_rows: usize) -> Option<String> {
        if self.n_rows != n_rows {
            return Some(format!("catalog rows: {} there, {n_rows} here", self.n_rows));
        }
        let comparable = |c: &TrainConfig| TrainConfig { epochs: 0, patience: 0, ..c.clone() };
        let (there, here) = (comparable(&self.config), comparable(config));
        if there == here {
            return None;
        }
        let value = |c: &TrainConfig| serde_json::to_value(c).unwrap_or(serde_json::Value::Null);
        Some(match first_difference("", &value(&there), &value(&here)) {
            Some((field, a, b)) => format!("field `{field}`: {a} there, {b} here"),
            None => "another configuration".to_string(),
        })
    }

    /// Reads a checkpoint file's text; errors say what is wrong with it.
    pub fn parse(text: &str, file: &str) -> Result<Self> {
        let ck: Checkpoint = serde_json::from_str(text).map_err(|e| Error::Parse {
            file: file.into(),
            line: e.line(),
            field: "checkpoint".into(),
            reason: e.to_string(),
        })?;
        ck.check(file)
    }

    /// The checks [`Checkpoint::parse`] makes after reading, for a checkpoint deserialised as part
    /// of a larger file (`file` names it in the errors).
    pub fn check(self, file: &str) -> Result<Self> {
        let bad = |field: &str, reason: String| Err(Error::Parse { file: file.into(), line: 1, field: field.into(), reason });
        if self.format != FORMAT {
            return bad("format", format!("expected {FORMAT:?}, found {:?}", self.format));
        }
        if self.version != VERSION {
            return bad("version", format!("this build reads version {VERSION}, the file is version {}", self.version));
        }
        if self.param_ids.len() != self.weights.shapes.len() {
            return bad("param_ids", format!("{} ids for {} parameters", self.param_ids.len(), self.weights.shapes.len()));
        }
        Ok(self)
    }
}

impl Trainer {
    /// The run as it stands after `progress` (native: reads the device synchronously).
    pub fn checkpoint(&self, progress: &FitProgress) -> Result<Checkpoint> {
        let optimizer = self.optim.into_bytes().map_err(|e| Error::Backend(format!("saving Adam's state: {e:?}")))?;
        let best = match &progress.best {
            Some(b) => Some(SavedBest {
                score: b.score,
                epoch: b.epoch,
                report: b.report.clone(),
                weights: weights::read_sync(&b.model)?,
            }),
            None => None,
        };
        Ok(Checkpoint {
            format: FORMAT.into(),
            version: VERSION,
            config: self.config.clone(),
            n_rows: self.n_rows(),
            logs: progress.logs.clone(),
            stopped: progress.stopped,
            best,
            weights: weights::read_sync(&self.model)?,
            param_ids: weights::param_ids(&self.model),
            optimizer: optimizer.to_vec(),
            rng_state: self.rng.state(),
        })
    }

    /// A trainer and fit progress that go on where `checkpoint` stopped, on `device`.
    ///
    /// burn loads Adam's state onto its default device (`BURN_DEVICE`; with wgpu compiled in,
    /// a GPU if there is one) and moves it to `device` at the next step: set `BURN_DEVICE=flex`
    /// to keep that detour on the CPU (the CLI and the tests do).
    pub fn resume(checkpoint: Checkpoint, device: &Device) -> Result<(Trainer, FitProgress)> {
        if checkpoint.config.objective.contrast.kind == crate::contrastive::Contrast::AdaptiveRec {
            // SimThres (34 M weights at batch 256) and its threshold are not in a checkpoint.
            return Err(Error::Config("objective.contrast: an AdaptiveRec run cannot be resumed (its SimThres is not checkpointed); start it afresh".into()));
        }
        let mut trainer = Trainer::new(checkpoint.config.clone(), checkpoint.n_rows, device)?;
        let fresh = trainer.model.clone();
        trainer.model = weights::load_with_ids(fresh.clone(), &checkpoint.weights, &checkpoint.param_ids)?;
        let optim = std::mem::replace(&mut trainer.optim, burn::optim::AdamConfig::new().init());
        trainer.optim = optim
            .from_bytes(Bytes::from_bytes_vec(checkpoint.optimizer))
            .map_err(|e| Error::InvalidInput { field: "optimizer".into(), reason: format!("{e:?}") })?;
        trainer.rng = Rng::from_state(checkpoint.rng_state);
        let epochs_done = checkpoint.logs.len() as u64;
        trainer.device().seed(checkpoint.config.seed.wrapping_add(epochs_done));
        let best = match checkpoint.best {
            Some(b) => Some(Best { score: b.score, epoch: b.epoch, model: weights::load(fresh, &b.weights)?, report: b.report }),
            None => None,
        };
        Ok((trainer, FitProgress { logs: checkpoint.logs, best, stopped: checkpoint.stopped }))
    }
}

/// The first leaf (dotted path, both values) where two serialised configurations differ.
fn first_difference(path: &str, a: &serde_json::Value, b: &serde_json::Value) -> Option<(String, String, String)> {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let (u, v) = (x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null));
                let inner = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                first_difference(&inner, u, v)
            })
        }
        _ if a == b => None,
        _ => Some((path.to_string(), a.to_string(), b.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::first_difference;
    use serde_json::json;

    /// The dotted path of the first differing leaf, keys in sorted order; equal values, none.
    #[test]
    fn the_first_difference_names_its_dotted_field() {
        let a = json!({"lr": 0.001, "objective": {"lambda": 0.5, "margin": 1.0}});
        let b = json!({"lr": 0.001, "objective": {"lambda": 1.0, "margin": 2.0}});
        assert_eq!(first_difference("", &a, &b), Some(("objective.lambda".into(), "0.5".into(), "1.0".into())));
        assert_eq!(first_difference("", &a, &a), None);
        let c = json!({"lr": 0.001, "objective": {"lambda": 0.5, "margin": 1.0, "extra": true}});
        assert_eq!(first_difference("", &a, &c), Some(("objective.extra".into(), "null".into(), "true".into())));
    }
}
