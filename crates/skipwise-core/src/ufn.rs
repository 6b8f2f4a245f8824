//! UFNRec (Liu et al. 2022, seed 002; NOTES §2): false-negative utilisation on pmixer's SASRec,
//! reimplemented from the behaviour of the authors' `main.py`, `UFN_utils.py` and
//! `SASRec_utils.py` (no licence: nothing is copied).
//!
//! * **Training as pmixer's SASRec does**: each step draws `batch` users uniformly (users with
//!   fewer than 2 training items are redrawn); a user's training sequence without its last item
//!   is the input (the newest `max_len`, left-padded), the next item is the positive at every
//!   position, and `negatives` items drawn uniformly from those the user never had in training
//!   are the negatives. Loss: binary cross-entropy with logits over every non-padding
//!   {positive, negatives} slot, averaged, × 2 (the code's). An "epoch" is `users / batch` draws.
//!   Adam with β = (0.9, 0.98).
//! * **Warm-up switch**: mining starts once the per-epoch loss sums `L` satisfy
//!   `len(L) > 7 and L[-2] − L[-1] < (L[0] − L[5]) / 200` — checked after each step, so it
//!   fires after the first step of the epoch that follows the plateau.
//!   [`UfnConfig::warmup_epochs`] forces it after a number of epochs instead (short runs).
//! * **Mining** ([`Mining`]): after each step, for every (user, position) the negatives that
//!   scored above the positive and were not labelled 1 are *the* hard negatives of that pair
//!   (overwriting the last list). When the user is drawn again they take the first negative
//!   slots and each one's counter for (user, position, item) goes up; a counter **strictly
//!   above** `reverse` (m) flips that slot's label to 1. Counters are never reset; a reversed
//!   item is not re-recorded (its label is 1), so a reversal lasts only while it keeps being
//!   mined — both as in the code.
//! * **Teacher**: an exponential moving average of the weights, created at the first step after
//!   the switch, updated after every optimiser step with torch_ema's warm-up
//!   `d_n = min(d, (1 + n) / (10 + n))` (the library the code uses; `n` counts updates); from
//!   the step after its creation the consistency loss `α · BCE(student, σ(teacher))` over the
//!   reversed slots is added. The teacher's logits come from a training-mode forward (dropout
//!   on), as under `ema.average_parameters()` in the code. Once mining has started, evaluation
//!   uses the teacher's weights (as the code's).
//! * **Evaluation**: leave-one-out (the second-to-last item validates, the last tests), every
//!   `eval_every` epochs (the code's 4). The code trains a fixed 201 epochs and prints every
//!   evaluation; here the model with the best validation NDCG@10 is kept and training stops after
//!   `patience` evaluations without a better one (our choice: the code has no selection rule).

use crate::batch::{Batch, Example, make_batch_padded};
use crate::error::{Error, Result};
use crate::metrics::Report;
use crate::model::{Backbone, Encoder, ModelConfig, Recommender, SasrecConfig, SasrecVariant};
use crate::rng::Rng;
use crate::train::{evaluate_by, finite_loss};
use crate::weights::param_tensors;
use burn::module::{Module, ModuleMapper, Param};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::activation::relu;
use burn::tensor::module::embedding;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UfnConfig {
    /// false: the SASRec-BCE baseline, trained the same way without mining or teacher.
    pub enabled: bool,
    /// Sampled negatives per position (`neg_nums`, 100).
    pub negatives: usize,
    /// m: a mined negative's label flips once its counter is strictly above this (5).
    pub reverse: u32,
    /// α, the consistency loss's weight (`lbd`, 0.3).
    pub alpha: f32,
    /// d, the teacher's EMA decay (0.999).
    pub decay: f32,
    /// Start mining after this many epochs instead of the plateau rule (none: the code's rule).
    #[serde(default)]
    pub warmup_epochs: Option<usize>,
}

impl Default for UfnConfig {
    fn default() -> Self {
        Self { enabled: true, negatives: 100, reverse: 5, alpha: 0.3, decay: 0.999, warmup_epochs: None }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UfnTrainConfig {
    pub model: ModelConfig,
    pub ufn: UfnConfig,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub max_len: usize,
    pub seed: u64,
    /// Evaluate on the validation items every this many epochs (4).
    pub eval_every: usize,
    /// Stop after this many evaluations without a better validation NDCG@10.
    pub patience: usize,
    /// Validation ranks the target among this many sampled negatives (the code's 100); 0 =
    /// against the whole catalog.
    pub valid_negatives: usize,
    pub eval_batch: usize,
}

impl UfnTrainConfig {
    /// The code's defaults: hidden 50, 2 blocks, 1 head, dropout 0.5, max length 50, batch 128,
    /// lr 1e-3 (the code's 201 epochs are `epochs`' job).
    pub fn paper(epochs: usize, seed: u64) -> Self {
        let sasrec = SasrecConfig { variant: SasrecVariant::Pmixer, layers: 2, heads: 1, inner: 50, dropout_hidden: 0.5, dropout_attn: 0.5, positions: 50 };
        Self {
            model: ModelConfig { backbone: Backbone::SasRec, dim: 50, sasrec, ..ModelConfig::default() },
            ufn: UfnConfig::default(),
            epochs,
            batch_size: 128,
            lr: 1e-3,
            max_len: 50,
            seed,
            eval_every: 4,
            patience: 5,
            valid_negatives: 100,
            eval_batch: 512,
        }
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(m));
        if self.model.backbone != Backbone::SasRec || self.model.sasrec.variant != SasrecVariant::Pmixer {
            return bad("model.backbone: UFNRec trains pmixer's SASRec (every position scored)".into());
        }
        if self.max_len == 0 {
            return bad("max_len: 0 leaves no position to train".into());
        }
        if self.model.sasrec.positions < self.max_len {
            return bad(format!("model.sasrec.positions: {} is shorter than max_len {}", self.model.sasrec.positions, self.max_len));
        }
        if self.batch_size == 0 || self.eval_every == 0 || self.eval_batch == 0 {
            return bad("batch_size, eval_every and eval_batch must be > 0".into());
        }
        if self.ufn.negatives == 0 {
            return bad("ufn.negatives: 0 leaves BCE without negatives".into());
        }
        if self.ufn.enabled && self.ufn.reverse == 0 {
            return bad("ufn.reverse: m = 0 flips every mined negative the first time it is placed; m must be ≥ 1".into());
        }
        if !(self.ufn.decay > 0.0 && self.ufn.decay < 1.0) {
            return bad(format!("ufn.decay: {} must be in (0, 1)", self.ufn.decay));
        }
        if !(self.ufn.alpha.is_finite() && self.ufn.alpha >= 0.0) {
            return bad(format!("ufn.alpha: {} must be ≥ 0", self.ufn.alpha));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr must be a positive number".into());
        }
        Ok(())
    }
}

/// The hard-negative bookkeeping (see the module's doc), keyed by (user, position).
#[derive(Clone, Debug, Default)]
pub struct Mining {
    hard: HashMap<(u32, u16), Vec<u32>>,
    counts: HashMap<(u32, u16, u32), u32>,
}

impl Mining {
    /// Puts the pair's hard negatives into the first slots of `negatives`, counts each, and
    /// returns the slots whose counter is now strictly above `m` (their labels flip to 1).
    pub fn place(&mut self, user: u32, pos: u16, negatives: &mut [u32], m: u32) -> Vec<usize> {
        let Some(hard) = self.hard.get(&(user, pos)) else { return Vec::new() };
        let mut reversed = Vec::new();
        for (slot, item) in hard.iter().take(negatives.len()).enumerate() {
            negatives[slot] = *item;
            let c = self.counts.entry((user, pos, *item)).or_insert(0);
            *c += 1;
            if *c > m {
                reversed.push(slot);
            }
        }
        reversed
    }

    /// Records the pair's hard negatives from one step: `logits` and `labels` over
    /// `[positive, negatives…]`, `samples` the negatives' items.
    pub fn record(&mut self, user: u32, pos: u16, logits: &[f32], labels: &[f32], samples: &[u32]) {
        let hard = samples.iter().enumerate().filter(|(j, _)| logits[j + 1] > logits[0] && labels[j + 1] != 1.0).map(|(_, i)| *i).collect();
        self.hard.insert((user, pos), hard);
    }

    pub fn count(&self, user: u32, pos: u16, item: u32) -> u32 {
        self.counts.get(&(user, pos, item)).copied().unwrap_or(0)
    }
}

/// torch_ema's effective decay at its `n`-th update.
pub fn ema_decay(decay: f32, n: u64) -> f32 {
    decay.min((1 + n) as f32 / (10 + n) as f32)
}

struct Ema {
    student: std::vec::IntoIter<Tensor<1>>,
    decay: f64,
}

impl ModuleMapper for Ema {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(s) = self.student.next() else { return param };
        let d = self.decay;
        param.map(move |t| {
            let s = s.detach().reshape(t.dims());
            (t * d + s * (1.0 - d)).detach()
        })
    }
}

/// `teacher ← d · teacher + (1 − d) · student`, parameter by parameter.
pub fn ema_update(teacher: Recommender, student: &Recommender, decay: f32) -> Recommender {
    let tensors: Vec<Tensor<1>> = param_tensors(student).into_iter().map(|(_, t)| t).collect();
    teacher.map(&mut Ema { student: tensors.into_iter(), decay: decay as f64 })
}

/// One user's leave-one-out split as the code's `data_partition` makes it.
#[derive(Clone, Debug, PartialEq)]
pub struct UserSplit {
    pub train: Vec<u32>,
    pub valid: Option<u32>,
    pub test: Option<u32>,
}

pub fn partition(sequences: &[(u64, Vec<u32>)]) -> Vec<UserSplit> {
    sequences
        .iter()
        .map(|(_, s)| match s.len() {
            n if n < 3 => UserSplit { train: s.clone(), valid: None, test: None },
            n => UserSplit { train: s[..n - 2].to_vec(), valid: Some(s[n - 2]), test: Some(s[n - 1]) },
        })
        .collect()
}

/// BCE with logits per element, `max(x, 0) − x·y + log(1 + e^−|x|)`.
pub fn bce_with_logits<const D: usize>(x: Tensor<D>, y: Tensor<D>) -> Tensor<D> {
    relu(x.clone()) - x.clone() * y + x.abs().neg().exp().log1p()
}

/// The host side of one training step: inputs, samples and labels, `[B, L]` and `[B, L, 1 + n]`.
struct StepData {
    users: Vec<u32>,
    ids: Vec<i64>,
    samples: Vec<i64>,
    labels: Vec<f32>,
    reversed: Vec<f32>,
    any_reversed: bool,
}

/// One epoch's log line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UfnEpoch {
    pub epoch: usize,
    /// The sum of the epoch's step losses (the warm-up rule reads these), and their mean.
    pub loss_sum: f64,
    pub loss: f64,
    /// Whether mining (and the teacher) was on by the epoch's end.
    pub mining: bool,
    /// Slots whose label was flipped this epoch.
    pub reversed: usize,
    pub valid: Option<Report>,
}

pub struct UfnTrainer {
    pub config: UfnTrainConfig,
    pub model: Recommender,
    pub teacher: Option<Recommender>,
    optim: ModuleOptimizer,
    device: Device,
    rng: Rng,
    pub mining: Mining,
    pub mining_on: bool,
    ema_updates: u64,
    /// Each user's training items (negatives are drawn outside them).
    seen: Vec<HashSet<u32>>,
    users: Vec<UserSplit>,
    /// The users a step may draw: those with 2 or more training items (the code redraws others).
    eligible: Vec<usize>,
    n_items: usize,
}

impl UfnTrainer {
    /// A trainer over `users` (their partition) and a catalog of `n_rows − 1` items.
    pub fn new(config: UfnTrainConfig, users: Vec<UserSplit>, n_rows: usize, device: &Device) -> Result<Self> {
        config.validate()?;
        if !users.iter().any(|u| u.train.len() > 1) {
            return Err(Error::Empty("no user has 2 or more training items".into()));
        }
        let n_items = n_rows - 1;
        let max_seen = users.iter().map(|u| u.train.iter().collect::<HashSet<_>>().len()).max().unwrap_or(0);
        if max_seen >= n_items {
            return Err(Error::Config(format!("a user has trained on {max_seen} of the {n_items} items: no negative is left to draw")));
        }
        let device = device.clone().autodiff();
        device.seed(config.seed);
        let model = Recommender::new(&config.model, n_rows, config.seed, &device);
        let optim = AdamConfig::new().with_beta_2(0.98).init();
        let seen = users.iter().map(|u| u.train.iter().copied().collect()).collect();
        Ok(Self {
            rng: Rng::new(config.seed ^ 0x0F17),
            config,
            model,
            teacher: None,
            optim,
            device,
            mining: Mining::default(),
            mining_on: false,
            ema_updates: 0,
            seen,
            eligible: (0..users.len()).filter(|u| users[*u].train.len() > 1).collect(),
            users,
            n_items,
        })
    }

    /// The model evaluation reads: the teacher once mining has started (as the code), else the student.
    pub fn eval_model(&self) -> &Recommender {
        match (&self.teacher, self.mining_on) {
            (Some(t), true) => t,
            _ => &self.model,
        }
    }

    fn draw_negative(&mut self, user: usize) -> u32 {
        loop {
            let i = 1 + self.rng.below(self.n_items) as u32;
            if !self.seen[user].contains(&i) {
                return i;
            }
        }
    }

    fn step_data(&mut self) -> StepData {
        let (b, l, n) = (self.config.batch_size, self.config.max_len, self.config.ufn.negatives);
        let w = 1 + n;
        let mut d = StepData { users: Vec::with_capacity(b), ids: vec![0; b * l], samples: vec![0; b * l * w], labels: vec![0.0; b * l * w], reversed: vec![0.0; b * l * w], any_reversed: false };
        for row in 0..b {
            let user = self.eligible[self.rng.below(self.eligible.len())];
            d.users.push(user as u32);
            let train = self.users[user].train.clone();
            // Input train[..n−1], right-aligned; position t predicts the item after it.
            let (inputs, next) = (&train[..train.len() - 1], &train[1..]);
            let take = inputs.len().min(l);
            for k in 0..take {
                let col = l - take + k;
                let (inp, pos) = (inputs[inputs.len() - take + k], next[next.len() - take + k]);
                d.ids[row * l + col] = inp as i64;
                let mut negs: Vec<u32> = (0..n).map(|_| self.draw_negative(user)).collect();
                let reversed = match self.config.ufn.enabled {
                    true => self.mining.place(user as u32, col as u16, &mut negs, self.config.ufn.reverse),
                    false => Vec::new(),
                };
                let at = (row * l + col) * w;
                d.samples[at] = pos as i64;
                d.labels[at] = 1.0;
                for (j, item) in negs.iter().enumerate() {
                    d.samples[at + 1 + j] = *item as i64;
                }
                for j in reversed {
                    d.labels[at + 1 + j] = 1.0;
                    d.reversed[at + 1 + j] = 1.0;
                    d.any_reversed = true;
                }
            }
        }
        d
    }

    /// Logits `[B, L, 1 + n]` of `model` for the step's samples.
    fn logits(&self, model: &Recommender, ids: Tensor<2, Int>, mask: Tensor<2>, samples: Tensor<3, Int>) -> Result<Tensor<3>> {
        let Encoder::Sasrec(sasrec) = &model.encoder else {
            return Err(Error::Config("model.backbone: UFNRec needs SASRec".into()));
        };
        let [b, l, w] = samples.dims();
        let h = sasrec.forward_all(model.items.val(), ids, mask); // [B, L, d]
        let d = h.dims()[2];
        let e = embedding(model.items.val(), samples.reshape([b, l * w])).reshape([b * l, w, d]);
        Ok(h.reshape([b * l, 1, d]).matmul(e.swap_dims(1, 2)).reshape([b, l, w]))
    }

    /// One training step: its loss, how many slots it reversed, and what mining reads after it.
    fn step(&mut self) -> Result<(f32, usize, StepData, Tensor<3>)> {
        let data = self.step_data();
        let (b, l, w) = (self.config.batch_size, self.config.max_len, 1 + self.config.ufn.negatives);
        let dev = self.device.clone();
        let ids: Tensor<2, Int> = Tensor::from_data(TensorData::new(data.ids.clone(), [b, l]), &dev);
        let mask: Tensor<2> = ids.clone().not_equal_elem(0).float();
        let samples: Tensor<3, Int> = Tensor::from_data(TensorData::new(data.samples.clone(), [b, l, w]), &dev);
        let valid = samples.clone().not_equal_elem(0).float();
        let labels: Tensor<3> = Tensor::from_data(TensorData::new(data.labels.clone(), [b, l, w]), &dev);
        let logits = self.logits(&self.model, ids.clone(), mask.clone(), samples.clone())?;
        let count = valid.clone().sum();
        let mut loss = (bce_with_logits(logits.clone(), labels) * valid).sum() / count * 2.0;
        // The teacher: created at the first step of mining, read from the next one on.
        if self.config.ufn.enabled && self.mining_on {
            match &self.teacher {
                None => self.teacher = Some(self.model.clone().no_grad()),
                Some(teacher) if data.any_reversed => {
                    let target = crate::nn::sigmoid(self.logits(teacher, ids, mask, samples)?.detach());
                    let rev: Tensor<3> = Tensor::from_data(TensorData::new(data.reversed.clone(), [b, l, w]), &dev);
                    let n_rev = rev.clone().sum();
                    let consistency = (bce_with_logits(logits.clone(), target) * rev).sum() / n_rev;
                    loss = loss + consistency * self.config.ufn.alpha as f64;
                }
                Some(_) => {}
            }
        }
        let value = finite_loss(loss.clone(), "UFNRec")?;
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        let model = self.model.clone();
        self.model = self.optim.step(self.config.lr, model, grads);
        if let Some(teacher) = self.teacher.take() {
            self.ema_updates += 1;
            self.teacher = Some(ema_update(teacher, &self.model, ema_decay(self.config.ufn.decay, self.ema_updates)));
        }
        let reversed = data.reversed.iter().filter(|r| **r > 0.0).count();
        Ok((value, reversed, data, logits.detach()))
    }

    /// Whether the warm-up has ended after `losses` (the finished epochs' loss sums).
    fn warm(&self, losses: &[f64]) -> bool {
        match self.config.ufn.warmup_epochs {
            Some(n) => losses.len() >= n,
            None => {
                let n = losses.len();
                n > 7 && losses[n - 2] - losses[n - 1] < (losses[0] - losses[5]) / 200.0
            }
        }
    }

    /// Mining's record of one step (see [`Mining::record`]).
    fn record(&mut self, data: &StepData, logits: Tensor<3>) -> Result<()> {
        let values: Vec<f32> = logits.into_data().try_to_vec().map_err(|e| Error::Backend(format!("{e:?}")))?;
        let (l, w) = (self.config.max_len, 1 + self.config.ufn.negatives);
        for (row, user) in data.users.iter().enumerate() {
            for col in 0..l {
                let at = (row * l + col) * w;
                if data.samples[at] == 0 {
                    continue;
                }
                let samples: Vec<u32> = data.samples[at + 1..at + w].iter().map(|s| *s as u32).collect();
                self.mining.record(*user, col as u16, &values[at..at + w], &data.labels[at..at + w], &samples);
            }
        }
        Ok(())
    }

    /// Scores of every catalog row for `examples` under `model` (inference; the fixed window
    /// of `max_len` columns pmixer's positions are numbered in).
    pub fn scores_of(&self, model: &Recommender, examples: &[&Example]) -> (Tensor<2>, Batch) {
        let device = self.device.clone().without_autodiff();
        let model = model.valid();
        let batch = make_batch_padded(examples, self.config.max_len, self.config.max_len, 1, false, &device);
        (model.scores(model.encode(&batch)), batch)
    }

    /// Evaluates `model` on `examples`: against `negatives[i]` for each example when given
    /// (the sampled protocol), else the whole catalog.
    pub fn evaluate(&self, model: &Recommender, examples: &[Example], negatives: Option<&[Vec<u32>]>) -> Result<Report> {
        let name = if self.config.ufn.enabled { "UFNRec" } else { "SASRec-BCE" };
        match negatives {
            Some(n) => crate::train::evaluate_sampled_by(examples, n, self.config.eval_batch, name, |refs| self.scores_of(model, refs)),
            None => evaluate_by(examples, self.config.eval_batch, name, |refs| self.scores_of(model, refs)),
        }
    }

    /// Trains up to `epochs`, evaluating on `valid` every `eval_every` epochs (against
    /// `valid_negatives` sampled negatives, drawn once), and keeps the best model (the
    /// teacher's weights once mining is on) in [`UfnTrainer::model`]'s place for evaluation:
    /// returns it with the logs.
    pub fn fit(&mut self, valid: &[Example], on_epoch: &mut dyn FnMut(&UfnEpoch)) -> Result<UfnFit> {
        let negatives = match self.config.valid_negatives {
            0 => None,
            n => Some(sample_negatives(valid, self.n_items, n, self.config.seed ^ 0x7A11)?),
        };
        let steps = (self.users.len() / self.config.batch_size).max(1);
        let (mut losses, mut logs) = (Vec::new(), Vec::new());
        let mut best: Option<(f64, usize, Recommender, Report)> = None;
        let mut since_best = 0;
        for epoch in 1..=self.config.epochs {
            let (mut sum, mut reversed) = (0f64, 0usize);
            for _ in 0..steps {
                let (loss, rev, data, logits) = self.step()?;
                sum += loss as f64;
                reversed += rev;
                if self.config.ufn.enabled && !self.mining_on && self.warm(&losses) {
                    self.mining_on = true;
                }
                if self.config.ufn.enabled && self.mining_on {
                    self.record(&data, logits)?;
                }
            }
            losses.push(sum);
            let report = match epoch % self.config.eval_every == 0 || epoch == self.config.epochs {
                true if !valid.is_empty() => Some(self.evaluate(self.eval_model(), valid, negatives.as_deref())?),
                _ => None,
            };
            let log = UfnEpoch { epoch, loss_sum: sum, loss: sum / steps as f64, mining: self.mining_on, reversed, valid: report.clone() };
            on_epoch(&log);
            logs.push(log);
            if let Some(r) = report {
                let score = r.get("NDCG@10");
                if best.as_ref().is_none_or(|b| score > b.0) {
                    best = Some((score, epoch, self.eval_model().clone(), r));
                    since_best = 0;
                } else {
                    since_best += 1;
                    if since_best >= self.config.patience {
                        break;
                    }
                }
            }
        }
        let (best_epoch, model, best_valid) = match best {
            Some((_, e, m, r)) => (e, m, Some(r)),
            None => (logs.len(), self.eval_model().clone(), None),
        };
        Ok(UfnFit { epochs: logs, best_epoch, best_valid, model })
    }
}

/// A finished fit: the logs and the selected model.
pub struct UfnFit {
    pub epochs: Vec<UfnEpoch>,
    pub best_epoch: usize,
    pub best_valid: Option<Report>,
    pub model: Recommender,
}

/// For each example, `count` items drawn uniformly from the catalog's `n_items`, none of them
/// in the example's prefix or its target (the code draws outside the user's training items).
/// An example whose user has had every item has none to draw: an error naming it.
pub fn sample_negatives(examples: &[Example], n_items: usize, count: usize, seed: u64) -> Result<Vec<Vec<u32>>> {
    let mut rng = Rng::new(seed);
    examples
        .iter()
        .map(|e| {
            let seen: HashSet<u32> = e.prefix.iter().copied().chain(std::iter::once(e.target)).collect();
            if seen.iter().filter(|i| (1..=n_items as u32).contains(i)).count() >= n_items {
                return Err(Error::Config(format!("sequence {}: it has every one of the {n_items} items, so no negative is left to sample", e.session)));
            }
            Ok((0..count)
                .map(|_| loop {
                    let i = 1 + rng.below(n_items) as u32;
                    if !seen.contains(&i) {
                        break i;
                    }
                })
                .collect())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counter_flips_a_label_only_strictly_above_m() {
        let mut m = Mining::default();
        let mut negs = vec![0u32; 4];
        // Nothing mined yet: nothing placed.
        assert!(m.place(1, 3, &mut negs, 2).is_empty());
        assert_eq!(negs, [0, 0, 0, 0]);
        // Items 7 and 9 outscored the positive (logit 0.5); 8 did not; 11 was already labelled 1.
        m.record(1, 3, &[0.5, 0.9, 0.1, 0.7, 2.0], &[1.0, 0.0, 0.0, 0.0, 1.0], &[7, 8, 9, 11]);
        for visit in 1..=3u32 {
            let mut negs = vec![40, 41, 42, 43];
            let reversed = m.place(1, 3, &mut negs, 2);
            assert_eq!(negs, [7, 9, 42, 43], "hard negatives take the first slots");
            assert_eq!(m.count(1, 3, 7), visit);
            // m = 2: counts 1 and 2 keep the label, count 3 (> 2) flips both slots.
            assert_eq!(reversed, if visit == 3 { vec![0, 1] } else { vec![] }, "visit {visit}");
        }
        // Another position of the same user, and another user, have their own lists.
        assert!(m.place(1, 4, &mut negs, 2).is_empty() && m.place(2, 3, &mut negs, 2).is_empty());
        // A new record overwrites; a reversed item (label 1) is not recorded again.
        m.record(1, 3, &[0.0, 1.0, 1.0], &[1.0, 1.0, 0.0], &[7, 5]);
        let mut negs = vec![0u32; 4];
        m.place(1, 3, &mut negs, 2);
        assert_eq!(negs, [5, 0, 0, 0]);
        assert_eq!(m.count(1, 3, 7), 3, "counters are never reset");
    }

    #[test]
    fn ema_moves_the_teacher_towards_the_student_with_torch_emas_warm_up() {
        assert!((ema_decay(0.999, 1) - 2.0 / 11.0).abs() < 1e-7);
        assert_eq!(ema_decay(0.999, 100_000), 0.999);
        let device = Device::flex();
        let config = UfnTrainConfig::paper(1, 1).model;
        let teacher = Recommender::new(&config, 5, 1, &device);
        let student = Recommender::new(&config, 5, 2, &device);
        let t0: Vec<f32> = teacher.items.val().into_data().try_to_vec().expect("floats");
        let s0: Vec<f32> = student.items.val().into_data().try_to_vec().expect("floats");
        let moved = ema_update(teacher, &student, 0.9);
        let t1: Vec<f32> = moved.items.val().into_data().try_to_vec().expect("floats");
        for ((a, b), c) in t0.iter().zip(&s0).zip(&t1) {
            assert!((0.9 * a + 0.1 * b - c).abs() < 1e-6, "{a} {b} → {c}");
        }
    }

    #[test]
    fn bce_and_the_warm_up_rule_by_hand() {
        let x = Tensor::<1>::from_data(TensorData::new(vec![0.0f32, 2.0, -3.0], [3]), &Device::flex());
        let y = Tensor::<1>::from_data(TensorData::new(vec![1.0f32, 0.0, 1.0], [3]), &Device::flex());
        let v: Vec<f32> = bce_with_logits(x, y).into_data().try_to_vec().expect("floats");
        let e = std::f32::consts::E;
        for (got, want) in v.iter().zip([2f32.ln(), (1.0 + e * e).ln(), (1.0 + e.powi(3)).ln()]) {
            assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        }
        let users = vec![UserSplit { train: vec![1, 2, 3], valid: None, test: None }];
        let t = UfnTrainer::new(UfnTrainConfig::paper(1, 1), users, 10, &Device::flex()).expect("trainer");
        // (L[0] − L[5]) / 200 = 0.5: a last drop below it switches, 8 epochs at least.
        let mut losses = vec![200.0, 180.0, 160.0, 140.0, 120.0, 100.0, 99.0, 98.0];
        assert!(!t.warm(&losses[..7]), "7 epochs are not enough");
        assert!(!t.warm(&losses), "a drop of 1 ≥ 0.5");
        losses.push(97.6);
        assert!(t.warm(&losses), "a drop of 0.4 < 0.5");
    }

    #[test]
    fn impossible_configurations_name_their_field() {
        let users = || vec![UserSplit { train: vec![1, 2, 3], valid: None, test: None }];
        let err = |c: UfnTrainConfig| UfnTrainer::new(c, users(), 10, &Device::flex()).err().expect("refused").to_string();
        let base = UfnTrainConfig::paper(1, 1);
        assert!(err(UfnTrainConfig { ufn: UfnConfig { reverse: 0, ..base.ufn.clone() }, ..base.clone() }).contains("ufn.reverse"));
        assert!(err(UfnTrainConfig { max_len: 0, ..base.clone() }).contains("max_len"));
        let mut gru = base.clone();
        gru.model.backbone = Backbone::Gru4Rec;
        assert!(err(gru).contains("model.backbone"));
        // A user who has seen every item leaves no negative to draw.
        let full = UfnTrainer::new(base, vec![UserSplit { train: vec![1, 2, 3], valid: None, test: None }], 4, &Device::flex());
        assert!(full.err().expect("refused").to_string().contains("no negative"));
    }

    /// Forced out of warm-up after one epoch on a tiny log, mining records, counts and flips
    /// labels, the teacher appears and evaluation reads it; the baseline does none of it.
    #[test]
    fn ufnrec_mines_reverses_and_evaluates_with_its_teacher() {
        let users: Vec<UserSplit> = (0..16u32).map(|u| UserSplit { train: (0..8).map(|k| 1 + (u + 3 * k) % 20).collect(), valid: Some(1 + u % 20), test: None }).collect();
        let valid: Vec<Example> = users.iter().enumerate().map(|(i, u)| Example { prefix: u.train.clone(), target: u.valid.unwrap_or(1), fps: vec![], session: i as u64 }).collect();
        let mut config = UfnTrainConfig::paper(12, 3);
        config.model.dim = 16;
        config.model.sasrec.inner = 16;
        config.max_len = 8;
        config.model.sasrec.positions = 8;
        config.batch_size = 8;
        config.eval_every = 4;
        config.patience = 10;
        config.valid_negatives = 5;
        config.ufn.negatives = 6;
        config.ufn.reverse = 1;
        config.ufn.warmup_epochs = Some(1);
        let mut t = UfnTrainer::new(config.clone(), users.clone(), 21, &Device::flex()).expect("trainer");
        let fit = t.fit(&valid, &mut |_| {}).expect("fits");
        assert!(!fit.epochs[0].mining && fit.epochs[1].mining, "{:?}", fit.epochs.iter().map(|e| e.mining).collect::<Vec<_>>());
        assert!(fit.epochs.iter().map(|e| e.reversed).sum::<usize>() > 0, "no label was reversed");
        assert!(t.teacher.is_some());
        assert!(std::ptr::eq(t.eval_model(), t.teacher.as_ref().expect("teacher")));
        let report = fit.best_valid.expect("evaluated");
        assert!((0.0..=1.0).contains(&report.get("HR@5")));
        let mut baseline = UfnTrainer::new(UfnTrainConfig { ufn: UfnConfig { enabled: false, ..config.ufn }, ..config }, users, 21, &Device::flex()).expect("trainer");
        let fit = baseline.fit(&valid, &mut |_| {}).expect("fits");
        assert!(fit.epochs.iter().all(|e| !e.mining && e.reversed == 0) && baseline.teacher.is_none());
    }
}
