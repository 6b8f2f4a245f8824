//! Mini-batch training with Adam, validation early stopping, evaluation and recommendation.
//!
//! Reads from the device come in two flavours: the `*_sync` helpers used natively, and plain
//! tensors that the browser worker reads with burn's async readback (sync reads panic on wasm).

use crate::batch::{Batch, Example, eval_examples, make_batch, make_batch_padded, train_examples};
use crate::data::{PAD, Session};
use crate::error::{Error, Result};
use crate::metrics::{Accumulator, FP_KS, Report, fp_in_top, ranks};
use crate::model::{ModelConfig, Recommender};
use crate::contrastive::{Contrast, ContrastState, info_nce, negatives_mask, negatives_quantile, pair_targets, relabelled_targets, same_target_index, similarities, threshold_penalty};
use crate::objective::{Loss, ObjectiveConfig, loss, loss_at};
use crate::rng::Rng;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub model: ModelConfig,
    pub objective: ObjectiveConfig,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    /// Prefixes are cut to their last `max_len` items.
    pub max_len: usize,
    pub seed: u64,
    /// Stop after this many epochs without a better validation MRR@20.
    pub patience: usize,
    pub eval_batch: usize,
    /// Pad every training batch to `max_len` items and `fp_cap` FPs (see
    /// [`crate::batch::make_batch_padded`]); for WebGPU, where each new shape compiles kernels.
    pub fixed_shapes: bool,
    /// Clip each parameter's gradient to this L2 norm (none by default, as in RecBole).
    pub grad_clip: Option<f32>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            model: ModelConfig::default(),
            objective: ObjectiveConfig::default(),
            epochs: 20,
            batch_size: 256,
            lr: 1e-3,
            max_len: 50,
            seed: 1,
            patience: 3,
            eval_batch: 512,
            fixed_shapes: false,
            grad_clip: None,
        }
    }
}

impl TrainConfig {
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::Config(m.to_string()));
        if self.batch_size == 0 || self.eval_batch == 0 {
            return bad("batch sizes must be > 0");
        }
        if self.max_len == 0 {
            return bad("max_len must be > 0");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr must be a positive number");
        }
        if self.model.dim == 0 || self.model.hidden == 0 {
            return bad("dim and hidden must be > 0");
        }
        if !(0.0..1.0).contains(&self.model.dropout_emb) || !(0.0..1.0).contains(&self.model.dropout_hidden) {
            return bad("dropout must be in [0, 1)");
        }
        if self.grad_clip.is_some_and(|c| !(c.is_finite() && c > 0.0)) {
            return bad("grad_clip must be a positive number");
        }
        if !(0.0..1.0).contains(&self.model.fpa.floor) {
            return bad("the f_FPA weight floor must be in [0, 1)");
        }
        if !(self.objective.lambda.is_finite() && self.objective.lambda >= 0.0 && self.objective.margin.is_finite()) {
            return bad("lambda must be ≥ 0 and margin finite");
        }
        self.objective.contrast.validate(self.batch_size, self.model.dim)
    }
}

/// One epoch's log line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    pub epoch: usize,
    pub loss: f64,
    pub nll: f64,
    pub metric: f64,
    /// The contrastive term's mean (DuoRec, AdaptiveRec), its regulariser included.
    #[serde(default)]
    pub contrast: Option<f64>,
    pub valid: Option<Report>,
    /// FP-AdaMetric's weights this epoch: mean, sd, min, max (NOTES §1.5.2 degeneracy check).
    pub fp_weights: Option<WeightStats>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WeightStats {
    pub count: usize,
    pub mean: f64,
    pub sd: f64,
    pub min: f64,
    pub max: f64,
}

impl WeightStats {
    /// Statistics over the real (masked-in) weights.
    pub fn from_masked(weights: &[f32], mask: &[f32]) -> Self {
        let vals: Vec<f64> = weights.iter().zip(mask).filter(|(_, m)| **m > 0.0).map(|(w, _)| *w as f64).collect();
        if vals.is_empty() {
            return WeightStats::default();
        }
        let n = vals.len() as f64;
        let mean = vals.iter().sum::<f64>() / n;
        let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        let (min, max) = vals.iter().fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
        WeightStats { count: vals.len(), mean, sd: var.sqrt(), min, max }
    }

    pub fn merge(&mut self, other: &WeightStats) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }
        let (n0, n1) = (self.count as f64, other.count as f64);
        let n = n0 + n1;
        let mean = (n0 * self.mean + n1 * other.mean) / n;
        let var = (n0 * (self.sd.powi(2) + (self.mean - mean).powi(2))
            + n1 * (other.sd.powi(2) + (other.mean - mean).powi(2)))
            / n;
        *self = WeightStats {
            count: self.count + other.count,
            mean,
            sd: var.sqrt(),
            min: self.min.min(other.min),
            max: self.max.max(other.max),
        };
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    pub epochs: Vec<EpochLog>,
    pub best_epoch: usize,
    pub best_valid: Option<Report>,
}

/// A scalar read back from the device, or the reason it could not be.
pub fn read_scalar(t: Tensor<1>) -> Result<f32> {
    let data = t.try_into_data().map_err(|e| Error::Backend(format!("{e:?}")))?;
    data.try_to_vec::<f32>()
        .ok()
        .and_then(|v| v.first().copied())
        .ok_or_else(|| Error::Backend("empty scalar".into()))
}

/// A loss read back, or an error naming `what` when it is not finite (the caller has not
/// stepped the model yet, so nothing is overwritten).
pub fn finite_loss(t: Tensor<1>, what: &str) -> Result<f32> {
    let value = read_scalar(t)?;
    match value.is_finite() {
        true => Ok(value),
        false => Err(Error::NonFinite(format!("the {what} loss became {value}; training stopped before the model was overwritten"))),
    }
}

/// The best validation result of a fit so far, with the model that gave it.
#[derive(Clone, Debug)]
pub struct Best {
    pub score: f64,
    pub epoch: usize,
    pub model: Recommender,
    pub report: Report,
}

/// Where a fit stands between epochs. [`Trainer::fit_from`] starts from one, so a run that
/// outlasts its process can go on from a [`crate::checkpoint::Checkpoint`].
#[derive(Clone, Debug, Default)]
pub struct FitProgress {
    pub logs: Vec<EpochLog>,
    pub best: Option<Best>,
    /// Early stopping has fired: a resumed fit trains no further epoch.
    pub stopped: bool,
}

/// The early-stopping rule (RecBole's): `patience` epochs have passed since the best one
/// (`best_epoch`), `epoch` being the last epoch validated. False before any validation and while
/// the last epoch is the best (so patience 0 stops at the first epoch that does not improve, also
/// when a resumed run is judged again). Every trainer that stops on epochs uses it; UFNRec's
/// counts evaluations instead (see `ufn`).
pub fn patience_ran_out(best_epoch: Option<usize>, epoch: usize, patience: usize) -> bool {
    best_epoch.is_some_and(|b| epoch > b && epoch - b >= patience)
}

impl FitProgress {
    /// [`patience_ran_out`] for this fit's best epoch.
    pub fn patience_ran_out(&self, epoch: usize, patience: usize) -> bool {
        patience_ran_out(self.best.as_ref().map(|b| b.epoch), epoch, patience)
    }

    /// A resumed fit stopped, or not, under the patience it was saved with; judged again under
    /// `patience` (this run's), so a larger one lets an early-stopped run go on and a smaller one
    /// stops it at once.
    pub fn judge_again(&mut self, patience: usize) {
        let last = self.logs.last().map_or(0, |l| l.epoch);
        self.stopped = self.patience_ran_out(last, patience);
    }
}

/// A fit in progress (see [`Trainer::begin_fit`]): the examples it trains on, where it stands
/// in the current epoch, and its progress.
pub struct FitRun<'a> {
    examples: Cow<'a, [Example]>,
    valid: Cow<'a, [Example]>,
    monitor: String,
    pub progress: FitProgress,
    same_target: Vec<Vec<u32>>,
    /// The epoch being trained (1-based).
    epoch: usize,
    order: Vec<Vec<usize>>,
    /// The next batch of `order`; `order.len()` = the epoch's validation comes next.
    next: usize,
    sums: EpochSums,
}

#[derive(Default)]
struct EpochSums {
    loss: f64,
    nll: f64,
    metric: f64,
    contrast: f64,
    n: usize,
    stats: WeightStats,
    have_stats: bool,
}

/// What one [`Trainer::fit_step`] did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stepped {
    /// Batch `done` of the epoch's `of`, with its loss.
    Batch { epoch: usize, done: usize, of: usize, loss: f32 },
    /// An epoch ended (its log is the last of `FitRun::progress.logs`).
    Epoch,
    /// The epochs are done or early stopping fired.
    Finished,
}

pub struct Trainer {
    pub config: TrainConfig,
    pub model: Recommender,
    pub(crate) optim: ModuleOptimizer,
    /// The autodiff device training runs on.
    device: Device,
    pub(crate) rng: Rng,
    /// Each session's user row (user + 1), for the user term: see [`Trainer::set_users`].
    session_users: std::collections::HashMap<u64, u32>,
    /// DuoRec's or AdaptiveRec's state, when the objective has a contrastive term.
    pub contrast: Option<ContrastState>,
}

impl Trainer {
    /// A fresh model for a catalog of `n_rows − 1` items on `device` (autodiff is added here).
    pub fn new(config: TrainConfig, n_rows: usize, device: &Device) -> Result<Self> {
        config.validate()?;
        if n_rows < 2 {
            return Err(Error::Empty("the catalog has no items".into()));
        }
        let device = device.clone().autodiff();
        // Dropout masks come from the backend's generator; seeding it makes runs repeatable.
        device.seed(config.seed);
        let model = Recommender::new(&config.model, n_rows, config.seed, &device);
        let optim = AdamConfig::new()
            .with_grad_clipping(config.grad_clip.map(burn::grad_clipping::GradientClippingConfig::Norm))
            .init();
        let rng = Rng::new(config.seed ^ 0xBA7C);
        let contrast = ContrastState::new(&config.objective.contrast, config.batch_size, config.model.dim, config.seed, &device);
        Ok(Self { config, model, optim, device, rng, session_users: Default::default(), contrast })
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The device without autodiff, for inference.
    pub fn plain_device(&self) -> Device {
        self.device.clone().without_autodiff()
    }

    pub fn n_rows(&self) -> usize {
        self.model.n_rows()
    }

    pub fn batch(&self, examples: &[&Example], device: &Device) -> Batch {
        let (min_len, min_fps) = match self.config.fixed_shapes {
            true => (self.config.max_len, self.config.objective.fp_cap),
            false => (1, 1),
        };
        let batch = make_batch_padded(examples, self.config.max_len, min_len, min_fps, self.model.needs_graph(), device);
        self.with_users(batch, examples, device)
    }

    /// Tells the trainer whose each session is, for a model with the user term: every example
    /// of session `s` then carries `s.user`'s embedding (sessions without a user, and any other
    /// session id, get row 0, the unknown user). Not part of a checkpoint: call it after
    /// [`Trainer::resume`] too. Refused when the data has more users than the model has rows;
    /// a model without the user term ignores them.
    pub fn set_users(&mut self, sessions: &[Session]) -> Result<()> {
        let rows = self.config.model.users;
        if rows == 0 {
            // No user term: nothing reads them.
            self.session_users.clear();
            return Ok(());
        }
        if let Some(s) = sessions.iter().find(|s| s.user.is_some_and(|u| u as usize >= rows)) {
            return Err(Error::Config(format!(
                "session {} is user {} but the model has the user term for {rows} users",
                s.id,
                s.user.unwrap_or_default()
            )));
        }
        self.session_users = sessions.iter().filter_map(|s| Some((s.id, s.user? + 1))).collect();
        Ok(())
    }

    /// `batch` with each row's user, when the model has the user term.
    fn with_users(&self, mut batch: Batch, examples: &[&Example], device: &Device) -> Batch {
        if self.model.user_table.is_some() {
            let rows: Vec<i64> = examples.iter().map(|e| self.session_users.get(&e.session).copied().unwrap_or(0) as i64).collect();
            let n = rows.len();
            batch.users = Some(Tensor::from_data(TensorData::new(rows, [n]), device));
        }
        batch
    }

    /// The training examples of these sessions under this trainer's method.
    pub fn train_examples(&self, sessions: &[Session]) -> Vec<Example> {
        let o = &self.config.objective;
        train_examples(sessions, o.method.train_view(), o.fp_scope, o.fp_cap)
    }

    /// Validates that every item id in the examples exists in the catalog.
    pub fn check_items(&self, examples: &[Example]) -> Result<()> {
        let n = self.n_rows();
        for e in examples {
            for id in e.prefix.iter().chain(e.fps.iter()).chain(std::iter::once(&e.target)) {
                if *id as usize >= n || (*id == PAD && !e.prefix.is_empty()) {
                    return Err(Error::UnknownItem(*id, n - 1));
                }
            }
        }
        Ok(())
    }

    /// Forward and backward on one batch; nothing is changed yet.
    pub fn forward_backward(&self, batch: &Batch) -> (Loss, GradientsParams) {
        self.forward_backward_plus(batch, |_| None)
    }

    /// As [`Self::forward_backward`], with `extra(model)` (a loss on the same model, e.g. the
    /// page's online FP term) added to the total.
    pub fn forward_backward_plus(&self, batch: &Batch, extra: impl FnOnce(&Recommender) -> Option<Tensor<1>>) -> (Loss, GradientsParams) {
        let mut l = loss(&self.model, batch, &self.config.objective);
        if let Some(extra) = extra(&self.model) {
            l.total = l.total + extra;
        }
        let grads = GradientsParams::from_grads(l.total.backward(), &self.model);
        (l, grads)
    }

    /// The gradients of a loss computed from this trainer's model.
    pub fn backward_of(&self, loss: Tensor<1>) -> GradientsParams {
        GradientsParams::from_grads(loss.backward(), &self.model)
    }

    /// Applies an Adam step with the gradients of [`Self::forward_backward`].
    pub fn apply(&mut self, grads: GradientsParams) {
        let model = self.model.clone();
        self.model = self.optim.step(self.config.lr, model, grads);
    }

    /// Applies a step of another optimizer (its own moments), at this trainer's learning rate.
    pub fn apply_with(&mut self, optim: &mut ModuleOptimizer, grads: GradientsParams) {
        let model = self.model.clone();
        self.model = optim.step(self.config.lr, model, grads);
    }

    /// One step, read synchronously (native): the model is left untouched if the loss is not finite.
    pub fn step_sync(&mut self, examples: &[&Example]) -> Result<(f32, f32, f32, Option<WeightStats>)> {
        self.step_sync_plus(examples, |_| None)
    }

    /// As [`Self::step_sync`], with an extra loss (see [`Self::forward_backward_plus`]).
    pub fn step_sync_plus(
        &mut self,
        examples: &[&Example],
        extra: impl FnOnce(&Recommender) -> Option<Tensor<1>>,
    ) -> Result<(f32, f32, f32, Option<WeightStats>)> {
        let batch = self.batch(examples, &self.device.clone());
        let (l, grads) = self.forward_backward_plus(&batch, extra);
        let total = finite_loss(l.total, self.config.objective.method.name())?;
        let stats = match l.fp_weights {
            Some(w) => {
                let w: Vec<f32> = w.into_data().try_to_vec().unwrap_or_default();
                let m: Vec<f32> = batch.fp_mask.into_data().try_to_vec().unwrap_or_default();
                Some(WeightStats::from_masked(&w, &m))
            }
            None => None,
        };
        let (nll, metric) = (read_scalar(l.nll)?, read_scalar(l.metric)?);
        self.apply(grads);
        Ok((total, nll, metric, stats))
    }

    /// One step of an objective with DuoRec's or AdaptiveRec's contrastive term (native, sync
    /// reads; see [`crate::contrastive`]): `partners[r]` is row `r`'s supervised view. Returns
    /// the total, the NLL, the FP metric term and the contrastive term (regulariser included).
    pub fn step_contrast_sync(&mut self, examples: &[&Example], partners: &[&Example]) -> Result<(f32, f32, f32, f32)> {
        let device = self.device.clone();
        let batch = self.batch(examples, &device);
        let partner_batch = self.batch(partners, &device);
        let Some(state) = self.contrast.as_ref() else {
            return Err(Error::Config("step_contrast_sync: the objective has no contrastive term".into()));
        };
        let c = state.config.clone();
        let b = examples.len();
        let e_seq = self.model.encode(&batch);
        let mut l = loss_at(&self.model, &batch, e_seq.clone(), &self.config.objective);
        // us_x: a second dropout draw of the same rows against the supervised view.
        let z_i = self.model.encode(&batch);
        let z_j = self.model.encode(&partner_batch);
        let sim = similarities(z_i, z_j, c.sim, c.tau);
        let (targets, drop, penalty) = match &state.simthres {
            Some((g, _)) => {
                let k = g.forward(e_seq);
                let k2 = Tensor::cat(vec![k.clone(), k.clone()], 0);
                let penalty = state.threshold.map(|t| threshold_penalty(k, t, c.penalty, c.penalty_weight));
                let above = match c.relabel {
                    true => None,
                    false => Some(sim.clone().detach().greater_equal(k2.clone().detach().reshape([2 * b, 1]).repeat_dim(1, 2 * b)).float() * negatives_mask(b, &device)),
                };
                let targets = match c.relabel {
                    true => relabelled_targets(sim.clone(), k2, b),
                    false => pair_targets(b, &device),
                };
                (targets, above, penalty)
            }
            None => (pair_targets(b, &device), None, None),
        };
        let mut contrast = info_nce(sim.clone(), targets, drop) * c.lambda as f64;
        if let Some(p) = penalty {
            contrast = contrast + p;
        }
        l.total = l.total + contrast.clone();
        let mut grads = l.total.backward();
        let total = finite_loss(l.total, self.config.objective.method.name())?;
        let quantile = match state.simthres.is_some() {
            true => {
                let values: Vec<f32> = sim.into_data().try_to_vec().map_err(|e| Error::Backend(format!("{e:?}")))?;
                Some(negatives_quantile(&values, b, c.quantile))
            }
            false => None,
        };
        let (nll, metric, contrast) = (read_scalar(l.nll)?, read_scalar(l.metric)?, read_scalar(contrast)?);
        let lr = self.config.lr;
        if let Some(state) = self.contrast.as_mut() {
            state.step_simthres(lr, &mut grads);
            state.quantiles.extend(quantile);
        }
        let model_grads = GradientsParams::from_module(&mut grads, &self.model);
        self.apply(model_grads);
        Ok((total, nll, metric, contrast))
    }

    /// Shuffled mini-batches of example indices. With `fixed_shapes` a short last batch is
    /// dropped (unless it is the only one), so every batch has the same shape.
    pub fn epoch_order(&mut self, n: usize) -> Vec<Vec<usize>> {
        let mut order: Vec<usize> = (0..n).collect();
        self.rng.shuffle(&mut order);
        let size = self.config.batch_size;
        let mut chunks: Vec<Vec<usize>> = order.chunks(size).map(|c| c.to_vec()).collect();
        // AdaptiveRec's SimThres reads whole batches of exactly `batch_size` rows: its code drops
        // the short last batch whatever their number.
        if self.config.objective.contrast.kind == Contrast::AdaptiveRec {
            chunks.retain(|c| c.len() == size);
        } else if self.config.fixed_shapes && chunks.len() > 1 {
            chunks.retain(|c| c.len() == size);
        }
        chunks
    }

    /// Trains on sessions with early stopping on validation MRR@20 (positive-only targets) and
    /// keeps the best model (native).
    pub fn fit(
        &mut self,
        train: &[Session],
        valid: &[Session],
        on_epoch: &mut dyn FnMut(&EpochLog),
    ) -> Result<FitReport> {
        let examples = self.train_examples(train);
        let valid_examples = eval_examples(valid, self.config.objective.method.keeps_fps_in_input());
        self.fit_examples(&examples, &valid_examples, "MRR@20", on_epoch)
    }

    /// Trains on prepared examples, early-stopping on `monitor` (e.g. "MRR@20") over `valid`.
    pub fn fit_examples(
        &mut self,
        examples: &[Example],
        valid_examples: &[Example],
        monitor: &str,
        on_epoch: &mut dyn FnMut(&EpochLog),
    ) -> Result<FitReport> {
        self.fit_from(examples, valid_examples, monitor, FitProgress::default(), &mut |log, _, _| on_epoch(log))
    }

    /// As [`Self::fit_examples`], going on from `progress` (a fresh one, or a resumed
    /// checkpoint's); `on_epoch` sees each epoch's log, the trainer and the progress after it
    /// (enough to write a checkpoint). Drives [`Self::fit_step`] to the end.
    pub fn fit_from(
        &mut self,
        examples: &[Example],
        valid_examples: &[Example],
        monitor: &str,
        progress: FitProgress,
        on_epoch: &mut dyn FnMut(&EpochLog, &Trainer, &FitProgress),
    ) -> Result<FitReport> {
        let mut run = self.begin_fit(examples, valid_examples, monitor, progress)?;
        loop {
            match self.fit_step(&mut run)? {
                Stepped::Batch { .. } => {}
                Stepped::Epoch => {
                    let log = &run.progress.logs[run.progress.logs.len() - 1];
                    on_epoch(log, self, &run.progress);
                }
                Stepped::Finished => return Ok(self.finish_fit(run)),
            }
        }
    }

    /// Checks the examples and sets up a fit that [`Self::fit_step`] then drives one mini-batch
    /// at a time: the page's Lab hands its event loop back between steps, so that Cancel is heard
    /// and the page keeps its progress bar moving; the CLI runs it to the end in [`Self::fit_from`].
    pub fn begin_fit<'a>(&mut self, examples: &'a [Example], valid: &'a [Example], monitor: &str, progress: FitProgress) -> Result<FitRun<'a>> {
        self.begin(Cow::Borrowed(examples), Cow::Borrowed(valid), monitor, progress)
    }

    /// As [`Self::begin_fit`], the run owning its examples.
    pub fn begin_fit_owned(&mut self, examples: Vec<Example>, valid: Vec<Example>, monitor: &str, progress: FitProgress) -> Result<FitRun<'static>> {
        self.begin(Cow::Owned(examples), Cow::Owned(valid), monitor, progress)
    }

    fn begin<'a>(&mut self, examples: Cow<'a, [Example]>, valid: Cow<'a, [Example]>, monitor: &str, progress: FitProgress) -> Result<FitRun<'a>> {
        if examples.is_empty() {
            return Err(Error::Empty("no training step: every session has fewer than 2 usable clicks".into()));
        }
        self.check_items(&examples)?;
        if self.config.objective.contrast.kind == Contrast::AdaptiveRec && examples.len() < self.config.batch_size {
            return Err(Error::Config(format!(
                "batch_size: {}: AdaptiveRec trains on whole batches only (SimThres reads the batch flattened) and there are {} training steps",
                self.config.batch_size,
                examples.len()
            )));
        }
        // The supervised view's candidates: other steps with the same target.
        let same_target = match self.contrast {
            Some(_) => same_target_index(&examples.iter().map(|e| e.target).collect::<Vec<_>>()),
            None => Vec::new(),
        };
        let epoch = progress.logs.len() + 1;
        Ok(FitRun { examples, valid, monitor: monitor.to_string(), progress, same_target, epoch, order: Vec::new(), next: 0, sums: EpochSums::default() })
    }

    /// One mini-batch of `run` (the epoch's shuffle is drawn at its first); after an epoch's
    /// last batch, its validation and early-stopping check too.
    pub fn fit_step(&mut self, run: &mut FitRun) -> Result<Stepped> {
        if run.epoch > self.config.epochs || run.progress.stopped {
            return Ok(Stepped::Finished);
        }
        if run.next == 0 {
            run.order = self.epoch_order(run.examples.len());
        }
        let examples = &run.examples;
        if let Some(chunk) = run.order.get(run.next) {
            let refs: Vec<&Example> = chunk.iter().map(|i| &examples[*i]).collect();
            let (total, nll, metric, s) = match self.contrast.is_some() {
                true => {
                    let partners: Vec<&Example> = chunk
                        .iter()
                        .map(|i| match run.same_target[*i].len() {
                            0 => &examples[*i],
                            n => &examples[run.same_target[*i][self.rng.below(n)] as usize],
                        })
                        .collect();
                    let (total, nll, metric, contrast) = self.step_contrast_sync(&refs, &partners)?;
                    run.sums.contrast += contrast as f64 * refs.len() as f64;
                    (total, nll, metric, None)
                }
                false => self.step_sync(&refs)?,
            };
            let w = refs.len() as f64;
            let sums = &mut run.sums;
            sums.loss += total as f64 * w;
            sums.nll += nll as f64 * w;
            sums.metric += metric as f64 * w;
            sums.n += refs.len();
            if let Some(s) = s {
                sums.stats.merge(&s);
                sums.have_stats = true;
            }
            run.next += 1;
            return Ok(Stepped::Batch { epoch: run.epoch, done: run.next, of: run.order.len(), loss: total });
        }
        if let Some(c) = self.contrast.as_mut() {
            c.end_epoch();
        }
        let report = (!run.valid.is_empty()).then(|| self.evaluate(&run.valid)).transpose()?;
        let (sums, epoch) = (std::mem::take(&mut run.sums), run.epoch);
        let n = sums.n as f64;
        let log = EpochLog {
            epoch,
            loss: sums.loss / n,
            nll: sums.nll / n,
            metric: sums.metric / n,
            contrast: self.contrast.is_some().then(|| sums.contrast / n),
            valid: report.clone(),
            fp_weights: sums.have_stats.then_some(sums.stats),
        };
        let progress = &mut run.progress;
        if let Some(report) = report {
            let score = report.get(&run.monitor);
            if progress.best.as_ref().is_none_or(|b| score > b.score) {
                progress.best = Some(Best { score, epoch, model: self.model.clone(), report });
            } else if progress.patience_ran_out(epoch, self.config.patience) {
                progress.stopped = true;
            }
        }
        progress.logs.push(log);
        run.epoch += 1;
        run.next = 0;
        Ok(Stepped::Epoch)
    }

    /// Ends `run`: the best validation model becomes the trainer's.
    pub fn finish_fit(&mut self, run: FitRun) -> FitReport {
        let progress = run.progress;
        let (best_epoch, best_valid) = match progress.best {
            Some(b) => {
                self.model = b.model;
                (b.epoch, Some(b.report))
            }
            None => (progress.logs.len(), None),
        };
        FitReport { epochs: progress.logs, best_epoch, best_valid }
    }

    /// Scores of every catalog row for a batch of examples under the inference model (no
    /// autodiff), with the batch they came from.
    fn eval_scores(&self, examples: &[&Example]) -> (Tensor<2>, Batch) {
        let device = self.plain_device();
        let model = self.model.valid();
        let batch = self.with_users(make_batch(examples, self.config.max_len, model.needs_graph(), &device), examples, &device);
        (model.scores(model.encode(&batch)), batch)
    }

    /// Ranks of the batch targets under the current model (no autodiff).
    pub fn rank_tensor(&self, examples: &[&Example]) -> Tensor<1> {
        let (scores, batch) = self.eval_scores(examples);
        ranks(scores, batch.targets)
    }

    /// Full-ranking metrics over evaluation examples (native, sync reads); examples that carry
    /// FPs also count how many of them come back in the top K (`FP@K`).
    pub fn evaluate(&self, examples: &[Example]) -> Result<Report> {
        self.check_items(examples)?;
        evaluate_by(examples, self.config.eval_batch, self.config.objective.method.name(), |refs| self.eval_scores(refs))
    }

    /// As [`Self::evaluate`], each target ranked against its own `negatives[i]` only.
    pub fn evaluate_sampled(&self, examples: &[Example], negatives: &[Vec<u32>]) -> Result<Report> {
        self.check_items(examples)?;
        evaluate_sampled_by(examples, negatives, self.config.eval_batch, self.config.objective.method.name(), |refs| self.eval_scores(refs))
    }

    /// Evaluates sessions on positive-only targets, with FPs kept in or removed from the prefix.
    pub fn evaluate_sessions(&self, sessions: &[Session], keep_fps_in_prefix: bool) -> Result<Report> {
        self.evaluate(&eval_examples(sessions, keep_fps_in_prefix))
    }

    /// The inference model and a one-row batch for `prefix` on the plain device (padded to fixed
    /// shapes when the config asks, so a browser GPU compiles its inference kernels once).
    fn single(&self, prefix: &[u32], target: u32, fps: &[u32]) -> (Recommender, Batch) {
        let device = self.plain_device();
        let model = self.model.valid();
        let e = Example { prefix: prefix.to_vec(), target, fps: fps.to_vec(), session: 0 };
        let (min_len, min_fps) = match self.config.fixed_shapes {
            true => (self.config.max_len, self.config.objective.fp_cap),
            false => (1, 1),
        };
        let batch = make_batch_padded(&[&e], self.config.max_len, min_len, min_fps, model.needs_graph(), &device);
        (model, batch)
    }

    /// Scores of every catalog row for one prefix: `[n_rows]` (padding at −1e9).
    pub fn score_tensor(&self, prefix: &[u32]) -> Tensor<1> {
        let (model, batch) = self.single(prefix, PAD, &[]);
        let n = model.n_rows();
        model.scores(model.encode(&batch)).reshape([n])
    }

    /// Session embedding for a prefix: `[d]`.
    pub fn session_embedding(&self, prefix: &[u32]) -> Tensor<1> {
        let (model, batch) = self.single(prefix, PAD, &[]);
        let d = model.dim();
        model.encode(&batch).reshape([d])
    }

    /// The item embedding table (plain device).
    pub fn item_embeddings(&self) -> Tensor<2> {
        self.model.valid().items.val()
    }
}


/// Full-ranking metrics over `examples` in chunks of `eval_batch`, the scores of each chunk from
/// `scores_of` (with the batch they came from); `name` (the method) is in the error when a score
/// is NaN or infinite. Examples that carry FPs also count how many of them come back in the top
/// K (`FP@K`).
pub fn evaluate_by(examples: &[Example], eval_batch: usize, name: &str, scores_of: impl Fn(&[&Example]) -> (Tensor<2>, Batch)) -> Result<Report> {
    let read = |t: Tensor<1>| -> Result<Vec<f32>> {
        let data = t.try_into_data().map_err(|e| Error::Backend(format!("{e:?}")))?;
        data.try_to_vec::<f32>().map_err(|e| Error::Backend(format!("{e:?}")))
    };
    let mut acc = Accumulator::default();
    for (i, chunk) in examples.chunks(eval_batch.max(1)).enumerate() {
        let refs: Vec<&Example> = chunk.iter().collect();
        let (scores, batch) = scores_of(&refs);
        let checks = read(crate::metrics::checks(scores.clone(), batch.targets.clone()).reshape([chunk.len() * 2]))?;
        if let Some(row) = checks.chunks(2).position(|c| c[0] > 0.0) {
            return Err(Error::NonFinite(format!(
                "{} scores in evaluation batch {} (row {row}: {} of its scores are NaN or infinite); evaluation stopped",
                name,
                i + 1,
                checks[2 * row]
            )));
        }
        acc.tied += checks.chunks(2).filter(|c| c[1] > 0.0).count();
        for r in read(ranks(scores.clone(), batch.targets.clone()))? {
            acc.add(r as usize);
        }
        if chunk.iter().any(|e| !e.fps.is_empty()) {
            let inside = read(fp_in_top(scores, batch.fp_items, batch.fp_mask).reshape([chunk.len() * FP_KS.len()]))?;
            for (e, row) in chunk.iter().zip(inside.chunks(FP_KS.len())) {
                let mut counts = [0.0; FP_KS.len()];
                for (c, x) in counts.iter_mut().zip(row) {
                    *c = *x as f64;
                }
                acc.add_fps(e.fps.len(), counts);
            }
        }
    }
    Ok(acc.report())
}

/// As [`evaluate_by`] with each target ranked only against its own `negatives[i]` (the sampled
/// protocol of pmixer's SASRec and UFNRec: 100 items the user had not seen). Ties count against
/// the target, as in full ranking.
pub fn evaluate_sampled_by(
    examples: &[Example],
    negatives: &[Vec<u32>],
    eval_batch: usize,
    name: &str,
    scores_of: impl Fn(&[&Example]) -> (Tensor<2>, Batch),
) -> Result<Report> {
    if negatives.len() != examples.len() {
        return Err(Error::Config(format!("{} negative lists for {} examples", negatives.len(), examples.len())));
    }
    let mut acc = Accumulator::default();
    for (i, (chunk, negs)) in examples.chunks(eval_batch.max(1)).zip(negatives.chunks(eval_batch.max(1))).enumerate() {
        let refs: Vec<&Example> = chunk.iter().collect();
        let (scores, _) = scores_of(&refs);
        let [_, n] = scores.dims();
        let values: Vec<f32> = scores.into_data().try_to_vec().map_err(|e| Error::Backend(format!("{e:?}")))?;
        for ((e, row), negs) in chunk.iter().zip(values.chunks(n)).zip(negs) {
            let target = row[e.target as usize];
            if !target.is_finite() || negs.iter().any(|j| !row[*j as usize].is_finite()) {
                return Err(Error::NonFinite(format!("{name} scores in evaluation batch {}: NaN or infinite; evaluation stopped", i + 1)));
            }
            let rank = negs.iter().filter(|j| row[**j as usize] >= target).count();
            acc.tied += negs.iter().any(|j| row[*j as usize] == target) as usize;
            acc.add(rank);
        }
    }
    Ok(acc.report())
}

/// The top `k` items of a score vector, highest first, skipping padding and `exclude`.
pub fn top_k(scores: &[f32], k: usize, exclude: &[u32]) -> Vec<(u32, f32)> {
    let mut idx: Vec<(u32, f32)> = scores
        .iter()
        .enumerate()
        .filter(|(i, s)| *i as u32 != PAD && s.is_finite() && !exclude.contains(&(*i as u32)))
        .map(|(i, s)| (i as u32, *s))
        .collect();
    idx.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    idx.truncate(k);
    idx
}

/// As [`top_k`], with at most `⌈k / groups⌉` items of each group (`group_of[row]`, e.g. a
/// genre) while other groups still have items: the order stays the scores', the list is spread
/// over the groups. For a cold start, where the scores alone would fill the list with the
/// warm start's most frequent genre.
pub fn top_k_balanced(scores: &[f32], k: usize, exclude: &[u32], group_of: &[usize]) -> Vec<(u32, f32)> {
    let ranked = top_k(scores, scores.len(), exclude);
    let groups = ranked.iter().filter_map(|(i, _)| group_of.get(*i as usize)).collect::<std::collections::BTreeSet<_>>().len();
    let cap = k.div_ceil(groups.max(1));
    let mut taken = std::collections::HashMap::<usize, usize>::new();
    let mut out = Vec::with_capacity(k);
    let mut rest = Vec::new();
    for (i, s) in ranked {
        let n = taken.entry(group_of.get(i as usize).copied().unwrap_or(usize::MAX)).or_default();
        match *n < cap && out.len() < k {
            true => {
                *n += 1;
                out.push((i, s));
            }
            false => rest.push((i, s)),
        }
    }
    // Fewer groups than slots left: fill with the best of the rest, in score order.
    out.extend(rest.into_iter().take(k - out.len()));
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// Uploads plain floats (used by tests and the worker).
pub fn tensor2(values: Vec<f32>, shape: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Patience 10 (RecBole's): best at 5, still going at 14, stopped at 15; no best, no stop; an
    /// epoch number below the best one (a checkpoint judged again) never underflows; patience 0
    /// never stops on the best epoch itself, only on the next one.
    #[test]
    fn early_stopping_waits_patience_epochs_after_the_best() {
        assert!(!patience_ran_out(Some(5), 14, 10));
        assert!(patience_ran_out(Some(5), 15, 10));
        assert!(!patience_ran_out(None, 100, 10));
        assert!(!patience_ran_out(Some(5), 3, 1));
        assert!(!patience_ran_out(Some(5), 5, 0));
        assert!(patience_ran_out(Some(5), 6, 0));
    }

    /// Saved after epoch 8 with the best at 3 and stopped (patience 5): patience 10 lets it go
    /// on, 5 keeps it stopped; saved on its best epoch, patience 0 does not stop it.
    #[test]
    fn a_resumed_fit_is_judged_again_under_this_runs_patience() {
        let device = Device::flex();
        let trainer = Trainer::new(TrainConfig { epochs: 1, ..TrainConfig::default() }, 4, &device).expect("builds");
        let log = |epoch| EpochLog { epoch, loss: 1.0, nll: 1.0, metric: 0.0, contrast: None, valid: None, fp_weights: None };
        let best = |epoch| Some(Best { score: 0.1, epoch, model: trainer.model.clone(), report: Report::default() });
        let mut p = FitProgress { logs: (1..=8).map(log).collect(), best: best(3), stopped: true };
        p.judge_again(10);
        assert!(!p.stopped);
        p.judge_again(5);
        assert!(p.stopped);
        let mut on_best = FitProgress { logs: (1..=8).map(log).collect(), best: best(8), stopped: false };
        on_best.judge_again(0);
        assert!(!on_best.stopped);
    }

    /// The sampled protocol ranks the target among its own negatives only, ties against it.
    #[test]
    fn sampled_ranks_count_only_the_drawn_negatives_and_ties_against_the_target() {
        let device = Device::flex();
        let e = Example { prefix: vec![1], target: 2, fps: vec![], session: 0 };
        // Rows: padding, 1, 2 (target) … 5. Item 3 ties the target, item 4 beats it, 5 trails.
        let scores = || (tensor2(vec![-1e9, 9.0, 2.0, 2.0, 3.0, 0.5], [1, 6], &device), make_batch(&[&e], 5, false, &device));
        let rank_of = |negs: Vec<u32>| {
            let r = evaluate_sampled_by(std::slice::from_ref(&e), &[negs], 8, "test", |_| scores()).expect("evaluates");
            (r.get("HR@5"), r.get("MRR@5"))
        };
        // Among {5}: first. Among {3, 5}: the tie puts it second. Among {3, 4, 5}: third.
        assert_eq!(rank_of(vec![5]).1, 1.0);
        assert_eq!(rank_of(vec![3, 5]).1, 0.5);
        assert!((rank_of(vec![3, 4, 5]).1 - 1.0 / 3.0).abs() < 1e-9);
        // Item 1 (scores 9) is in the prefix, not among the negatives: it does not count.
        assert_eq!(rank_of(vec![5, 5]).1, 1.0);
        let err = evaluate_sampled_by(std::slice::from_ref(&e), &[], 8, "test", |_| scores()).expect_err("lists");
        assert!(err.to_string().contains("0 negative lists for 1 examples"), "{err}");
    }

    #[test]
    fn a_balanced_list_spreads_over_groups_in_score_order() {
        // Rows 1–6: groups 0, 0, 0, 1, 1, 2; row 0 is padding.
        let scores = [9.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0];
        let groups = [9, 0, 0, 0, 1, 1, 2];
        let ids = |v: Vec<(u32, f32)>| v.into_iter().map(|(i, _)| i).collect::<Vec<_>>();
        // Three groups, three slots: one of each, best first.
        assert_eq!(ids(top_k_balanced(&scores, 3, &[], &groups)), vec![1, 4, 6]);
        // Six slots, cap 2 per group: group 0's third item comes last, after the others.
        assert_eq!(ids(top_k_balanced(&scores, 6, &[], &groups)), vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(ids(top_k_balanced(&scores, 4, &[1], &groups)), vec![2, 3, 4, 5]);
        assert_eq!(ids(top_k(&scores, 3, &[])), vec![1, 2, 3]);
    }
}
