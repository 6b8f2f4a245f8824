//! SML, "Metric Learning for Session-based Recommendations" (Twardowski et al., seed 003; NOTES
//! §3), reimplemented from `btwardow/dml4rec` (MIT; read, not copied).
//!
//! * **Towers.** A session encoder ([`SmlEncoder`]: max/mean pooling → Linear → tanh → Linear →
//!   tanh; a GRU whose last state → Linear → tanh; TextCNN: filters of widths 1, 3, 5 over the
//!   embedded session, ReLU, max over time, concatenated, dropout, Linear) and an item tower
//!   `embedding → Linear → tanh → Linear → tanh` sharing the encoder's embedding table
//!   (`common_items_emb = True`, the setting the paper's results use). Embeddings have
//!   `max_norm = 1`: PyTorch renormalises the rows it looks up, in place and outside autodiff;
//!   here the whole table is renormalised the same way at the start and after every optimiser
//!   step ([`Sml::renormalised`]), so every lookup reads rows of norm ≤ 1 and the gradient
//!   reaching them is the plain one (prediction looks up every row, so the reference's table is
//!   renormalised whole there too).
//! * **The quirk kept by default.** The reference never gives the item tower's Linear layers to
//!   its optimiser, so they stay at their random start; [`SmlConfig::train_item_tower`]`=
//!   false` (the default) reproduces that by freezing them, `true` trains them.
//! * **Losses.** Triplet: `max(0, m + d(s, p_j) − d(s, n_j))` with Euclidean `d` on
//!   L2-normalised vectors (PyTorch's `pairwise_distance`, eps 1e-6), the swap `d(s, n_j) ←
//!   min(d(s, n_j), d(p_j, n_j))`, and the weights `√(1 / (1 + j))` over the positive's index
//!   (then the mean). NCAS (`SDMLAllLoss`): squared distances from each session (repeated per
//!   positive) to all `B·N` positives and `B·N` negatives, `log_softmax(−d)`, targets that are 1
//!   + ε on the diagonal, 1 inside the session's block, ε elsewhere over the positives and 0 over
//!   the negatives (softmax-normalised with `label_softmax`), `KLDiv(mean) × B`.
//! * **Sampler** (resampled every epoch): sessions in random order, a random split
//!   `randrange(1, len)`; the prefix (its newest `max_len`) is the input, the next `N` items the
//!   positives, padded with the prefix's last items and then the first positive; a session whose
//!   positives meet the batch's earlier positives is skipped; `N` negatives per session drawn with
//!   replacement ∝ `max_count + 1 − count` (inverse popularity), never a positive of that
//!   session nor padding; incomplete batches are dropped.
//! * **Ranking** by ascending distance to the item tower's vectors: scores are `−d`. A prefix
//!   longer than `max_len` is cut to its *newest* items, as in training (the reference's
//!   `predict_single_session` keeps the oldest `max_len` at prediction: not reproduced).
//! * **Where we differ, on purpose**: the GRU keeps its state at the front padding (the
//!   reference's GRU runs over the zero rows, so its state at the first item depends on how many
//!   pads came first); the best epoch's *whole* model is kept (the reference's restore copies the
//!   config dict where it means the session network, so it restores the best embeddings and
//!   tower with the last epoch's encoder); [`SmlConfig::paper`] turns on both the swap and the
//!   position weights, which no single reference configuration combines (the RR triplet config
//!   weights, the TextCNN one swaps).
//! * **Training**: Adam 1e-3, batch 32, early stopping on validation MRR@20 with the run's
//!   patience (the reference lowers the learning rate ×0.8 and restores the best model when its
//!   patience runs out; not reproduced, said in the README).

use crate::batch::{Batch, Example, make_batch_padded};
use crate::error::{Error, Result};
use crate::metrics::Report;
use crate::nn::{Dense, Gru, Init, Input, param2, tanh};
use crate::rng::Rng;
use crate::train::{evaluate_by, finite_loss};
use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::activation::{log_softmax, relu};
use burn::tensor::module::embedding;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SmlEncoder {
    MaxPool,
    MeanPool,
    Gru,
    TextCnn,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SmlLoss {
    Triplet,
    Ncas,
}

impl SmlEncoder {
    pub fn name(self) -> &'static str {
        match self {
            SmlEncoder::MaxPool => "MaxPool",
            SmlEncoder::MeanPool => "MeanPool",
            SmlEncoder::Gru => "GRU",
            SmlEncoder::TextCnn => "TextCNN",
        }
    }
}

impl SmlLoss {
    pub fn name(self) -> &'static str {
        match self {
            SmlLoss::Triplet => "Triplet",
            SmlLoss::Ncas => "NCAS",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SmlConfig {
    pub encoder: SmlEncoder,
    pub loss: SmlLoss,
    /// d (the paper's 400).
    pub dim: usize,
    /// The GRU's width (the configs' 500–600; the paper's 400).
    pub gru_hidden: usize,
    pub filters: Vec<usize>,
    /// TextCNN's filters per width (the reference's default 256).
    pub filters_per_width: usize,
    /// Dropout before the GRU's Linear (0.2) and TextCNN's (0.5).
    pub dropout: f64,
    /// The triplet margin m (the paper's 0.3).
    pub margin: f32,
    pub swap: bool,
    pub weighting: bool,
    /// NCAS's smoothing ε (the paper's 0.3).
    pub smoothing: f32,
    pub label_softmax: bool,
    /// L2-normalise session and item vectors (the triplet loss's default; NCAS's is false).
    pub normalize: bool,
    /// N positives (= negatives) per session (the configs' 8).
    pub positives: usize,
    pub max_len: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub epochs: usize,
    pub patience: usize,
    pub seed: u64,
    /// Train the item tower's Linear layers (the reference never does: false).
    pub train_item_tower: bool,
    pub eval_batch: usize,
}

impl SmlConfig {
    /// The paper's values for `loss` and `encoder`, at width `dim`.
    pub fn paper(loss: SmlLoss, encoder: SmlEncoder, dim: usize) -> Self {
        Self {
            encoder,
            loss,
            dim,
            gru_hidden: dim,
            filters: vec![1, 3, 5],
            filters_per_width: 256,
            dropout: if encoder == SmlEncoder::TextCnn { 0.5 } else { 0.2 },
            margin: 0.3,
            swap: true,
            weighting: true,
            smoothing: 0.3,
            // The repository's one NCAS configuration (`dml-RSC15_64-RNN-SDMLAllLoss.json`)
            // softmax-normalises its targets; the class default does not.
            label_softmax: loss == SmlLoss::Ncas,
            normalize: loss == SmlLoss::Triplet,
            positives: 8,
            max_len: 15,
            batch_size: 32,
            lr: 1e-3,
            epochs: 20,
            patience: 3,
            seed: 1,
            train_item_tower: false,
            eval_batch: 512,
        }
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(m));
        if self.max_len == 0 {
            return bad("max_len: 0 leaves the session encoder no input".into());
        }
        if let Some(k) = self.filters.iter().find(|k| **k == 0 || **k > self.max_len).filter(|_| self.encoder == SmlEncoder::TextCnn) {
            return bad(format!("filters: a TextCNN filter of width {k} does not fit sessions of max_len {}", self.max_len));
        }
        if self.encoder == SmlEncoder::TextCnn && (self.filters.is_empty() || self.filters_per_width == 0) {
            return bad("filters: TextCNN needs at least one filter width and filters_per_width > 0".into());
        }
        if self.dim == 0 || self.gru_hidden == 0 || self.positives == 0 || self.batch_size == 0 || self.eval_batch == 0 {
            return bad("dim, gru_hidden, positives, batch_size and eval_batch must be > 0".into());
        }
        if self.loss == SmlLoss::Ncas && !(0.0..1.0).contains(&self.smoothing) {
            return bad(format!("smoothing: ε = {} must be in [0, 1)", self.smoothing));
        }
        if !(self.margin.is_finite() && self.margin >= 0.0) {
            return bad(format!("margin: {} must be ≥ 0", self.margin));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad("dropout must be in [0, 1)".into());
        }
        Ok(())
    }
}

/// The session encoder's layers (one variant per [`SmlEncoder`]).
#[derive(Module, Debug)]
pub enum SessionNet {
    Pool(PoolNet),
    Gru(GruNet),
    TextCnn(TextCnnNet),
}

#[derive(Module, Debug)]
pub struct PoolNet {
    pub fc1: Dense,
    pub fc2: Dense,
    pub mean: bool,
}

#[derive(Module, Debug)]
pub struct GruNet {
    pub gru: Gru,
    pub fc: Dense,
    pub dropout: Dropout,
    pub none: Dropout,
}

#[derive(Module, Debug)]
pub struct TextCnnNet {
    pub convs: Vec<Dense>,
    pub widths: Vec<usize>,
    pub fc: Dense,
    pub dropout: Dropout,
}

#[derive(Module, Debug)]
pub struct Sml {
    /// `[n_rows, d]`, shared by both towers; row 0 is padding.
    pub items: Param<Tensor<2>>,
    pub session: SessionNet,
    pub tower1: Dense,
    pub tower2: Dense,
}

/// Rows scaled down to norm ≤ 1 (`max_norm = 1`), as a new value outside autodiff.
fn max_norm(x: Tensor<2>) -> Tensor<2> {
    let x = x.detach();
    let norm = x.clone().powi_scalar(2).sum_dim(1).sqrt();
    x / norm.clamp_min(1.0)
}

fn l2_normalize<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let norm = x.clone().powi_scalar(2).sum_dim(D - 1).sqrt();
    x / norm.clamp_min(1e-12)
}

impl Sml {
    pub fn new(config: &SmlConfig, n_rows: usize, device: &Device) -> Self {
        let mut rng = Rng::new(config.seed ^ 0x5E55);
        let d = config.dim;
        // PyTorch's defaults: N(0, 1) embeddings (renormalised on lookup), U(±1/√fan_in) layers.
        let items = param2(&mut rng, [n_rows, d], Init::Normal(1.0), device);
        let dense = |rng: &mut Rng, a: usize, b: usize| Dense::new(rng, a, b, true, Init::Uniform(1.0 / (a as f32).sqrt()), device);
        let session = match config.encoder {
            SmlEncoder::MaxPool | SmlEncoder::MeanPool => {
                SessionNet::Pool(PoolNet { fc1: dense(&mut rng, d, d), fc2: dense(&mut rng, d, d), mean: config.encoder == SmlEncoder::MeanPool })
            }
            SmlEncoder::Gru => SessionNet::Gru(GruNet {
                gru: Gru::new(&mut rng, d, config.gru_hidden, true, device),
                fc: dense(&mut rng, config.gru_hidden, d),
                dropout: DropoutConfig::new(config.dropout).init(),
                none: DropoutConfig::new(0.0).init(),
            }),
            SmlEncoder::TextCnn => SessionNet::TextCnn(TextCnnNet {
                convs: config.filters.iter().map(|k| dense(&mut rng, k * d, config.filters_per_width)).collect(),
                widths: config.filters.clone(),
                fc: dense(&mut rng, config.filters.len() * config.filters_per_width, d),
                dropout: DropoutConfig::new(config.dropout).init(),
            }),
        };
        let (mut tower1, mut tower2) = (dense(&mut rng, d, d), dense(&mut rng, d, d));
        if !config.train_item_tower {
            tower1 = tower1.no_grad();
            tower2 = tower2.no_grad();
        }
        Self { items, session, tower1, tower2 }.renormalised()
    }

    /// The model with every embedding row of norm > 1 scaled to norm 1, in place of PyTorch's
    /// `max_norm` (same parameter id, still trainable).
    pub fn renormalised(mut self) -> Self {
        self.items = self.items.map(|t| {
            let (grad, device) = (t.is_require_grad(), t.device());
            // Through the host: a value computed by ops is not a leaf autodiff can train.
            let t: Tensor<2> = Tensor::from_data(max_norm(t).into_data(), &device);
            if grad { t.require_grad() } else { t }
        });
        self
    }

    /// Session vectors `[B, d]` of left-padded `ids, mask: [B, L]`.
    pub fn encode(&self, ids: Tensor<2, Int>, mask: Tensor<2>) -> Tensor<2> {
        let x = embedding(self.items.val(), ids) * mask.clone().unsqueeze_dim::<3>(2);
        let [b, l, d] = x.dims();
        match &self.session {
            SessionNet::Pool(PoolNet { fc1, fc2, mean }) => {
                let pooled: Tensor<2> = match mean {
                    // The reference averages over the padded window, padding included.
                    true => x.mean_dim(1).reshape([b, d]),
                    // Padding rows are 0: the max over a window with padding is at least 0, as
                    // in the reference (its padding embedding is the zero row too).
                    false => x.max_dim(1).reshape([b, d]),
                };
                tanh(fc2.forward2(tanh(fc1.forward2(pooled))))
            }
            SessionNet::Gru(GruNet { gru, fc, dropout, none }) => tanh(fc.forward2(dropout.forward(gru.forward_last(Input::Values(&x), mask, none)))),
            SessionNet::TextCnn(TextCnnNet { convs, widths, fc, dropout }) => {
                let pooled: Vec<Tensor<2>> = convs
                    .iter()
                    .zip(widths)
                    .map(|(conv, k)| {
                        // Each window of k rows, flattened, through the filter bank: `[B, L − k + 1, Co]`.
                        let windows: Vec<Tensor<3>> = (0..=l - k).map(|t| x.clone().narrow(1, t, *k).reshape([b, 1, k * d])).collect();
                        let out = relu(conv.forward3(Tensor::cat(windows, 1)));
                        let co = out.dims()[2];
                        out.max_dim(1).reshape([b, co])
                    })
                    .collect();
                fc.forward2(dropout.forward(Tensor::cat(pooled, 1)))
            }
        }
    }

    /// Item vectors `[n, d]` of embedding rows `x: [n, d]` through the item tower.
    pub fn tower(&self, x: Tensor<2>) -> Tensor<2> {
        tanh(self.tower2.forward2(tanh(self.tower1.forward2(x))))
    }

    /// Item vectors `[B, N, d]` of `ids: [B, N]`.
    pub fn tower_of(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        let [b, n] = ids.dims();
        let d = self.items.dims()[1];
        self.tower(embedding(self.items.val(), ids).reshape([b * n, d])).reshape([b, n, d])
    }

    pub fn item_vectors(&self) -> Tensor<2> {
        self.tower(self.items.val())
    }
}

/// `d(x, y) = ‖x − y + eps‖₂` row by row (PyTorch's `pairwise_distance`, eps 1e-6): `[B·N]`.
fn pairwise_distance(x: Tensor<2>, y: Tensor<2>) -> Tensor<1> {
    let [n, _] = x.dims();
    ((x - y + 1e-6).powi_scalar(2).sum_dim(1)).sqrt().reshape([n])
}

/// The triplet loss over `s: [B, d]`, `p, n: [B, N, d]` (see the module's doc).
pub fn triplet_loss(s: Tensor<2>, p: Tensor<3>, n: Tensor<3>, config: &SmlConfig) -> Tensor<1> {
    let [b, k, d] = p.dims();
    let (mut s, mut p, mut n) = (s, p.reshape([b * k, d]), n.reshape([b * k, d]));
    if config.normalize {
        (s, p, n) = (l2_normalize(s), l2_normalize(p), l2_normalize(n));
    }
    let s = s.unsqueeze_dim::<3>(1).repeat_dim(1, k).reshape([b * k, d]);
    let d_pos = pairwise_distance(s.clone(), p.clone());
    let mut d_neg = pairwise_distance(s, n.clone());
    if config.swap {
        d_neg = d_neg.min_pair(pairwise_distance(p, n));
    }
    let device = d_pos.device();
    let loss = relu(d_pos - d_neg + config.margin as f64);
    match config.weighting {
        true => {
            let w: Vec<f32> = (0..b * k).map(|i| (1.0 / (1.0 + (i % k) as f32)).sqrt()).collect();
            (loss * Tensor::<1>::from_data(TensorData::new(w, [b * k]), &device)).mean()
        }
        false => loss.mean(),
    }
}

/// `‖a_i − b_j‖²` for every pair of rows, as `‖a‖² − 2 a·b + ‖b‖²`: `[A, B]`.
fn squared_distances(a: Tensor<2>, b: Tensor<2>) -> Tensor<2> {
    let sq = |x: Tensor<2>| x.powi_scalar(2).sum_dim(1);
    sq(a.clone()) - a.matmul(b.clone().transpose()) * 2.0 + sq(b).transpose()
}

/// NCAS's targets over `[B·N positives | B·N negatives]` for `B` sessions of `N` positives.
pub fn ncas_targets(b: usize, n: usize, smoothing: f32, label_softmax: bool) -> Vec<f32> {
    let bn = b * n;
    let mut t = vec![0f32; bn * 2 * bn];
    for r in 0..bn {
        for c in 0..bn {
            let inside = r / n == c / n;
            t[r * 2 * bn + c] = smoothing + if r == c { 1.0 } else if inside { 1.0 - smoothing } else { 0.0 };
        }
        if label_softmax {
            let row = &mut t[r * 2 * bn..(r + 1) * 2 * bn];
            let z: f32 = row.iter().map(|v| v.exp()).sum();
            row.iter_mut().for_each(|v| *v = v.exp() / z);
        }
    }
    t
}

/// NCAS (`SDMLAllLoss`) over `s: [B, d]`, `p, n: [B, N, d]`: `KLDiv(log_softmax(−d²), targets)`
/// with PyTorch's `reduction = 'mean'` (over every element; zero targets add nothing), × B.
pub fn ncas_loss(s: Tensor<2>, p: Tensor<3>, n: Tensor<3>, config: &SmlConfig) -> Tensor<1> {
    let [b, k, d] = p.dims();
    let (mut s, mut p, mut n) = (s, p.reshape([b * k, d]), n.reshape([b * k, d]));
    if config.normalize {
        (s, p, n) = (l2_normalize(s), l2_normalize(p), l2_normalize(n));
    }
    let device = s.device();
    let s = s.unsqueeze_dim::<3>(1).repeat_dim(1, k).reshape([b * k, d]);
    let all = Tensor::cat(vec![p, n], 0); // [2BN, d]
    let logp = log_softmax(squared_distances(s, all).neg(), 1);
    let targets = ncas_targets(b, k, config.smoothing, config.label_softmax);
    let positive: Vec<f32> = targets.iter().map(|t| (*t > 0.0) as u8 as f32).collect();
    let log_t: Vec<f32> = targets.iter().map(|t| if *t > 0.0 { t.ln() } else { 0.0 }).collect();
    let shape = [b * k, 2 * b * k];
    let t = |v: Vec<f32>| Tensor::<2>::from_data(TensorData::new(v, shape), &device);
    let (targets, positive, log_t) = (t(targets), t(positive), t(log_t));
    let kl = (targets * (log_t - logp)) * positive;
    kl.mean() * b as f64
}

/// One epoch's batches: (inputs, positives, negatives) per session, `batch_size` sessions each.
#[derive(Clone, Debug, PartialEq)]
pub struct SmlBatch {
    pub inputs: Vec<Vec<u32>>,
    pub positives: Vec<Vec<u32>>,
    pub negatives: Vec<Vec<u32>>,
}

/// The reference's `SessionPosNegSampler` over `sessions` (their item sequences); `counts[i]`
/// is item `i`'s training popularity (row 0, padding, is never drawn).
/// A session whose positives leave no other item to draw is an error naming it.
pub fn sample_epoch(sessions: &[Vec<u32>], counts: &[u32], config: &SmlConfig, rng: &mut Rng) -> Result<Vec<SmlBatch>> {
    let n = config.positives;
    let max_count = counts.iter().copied().max().unwrap_or(0);
    let mut order: Vec<usize> = (0..sessions.len()).collect();
    rng.shuffle(&mut order);
    let mut out = Vec::new();
    let mut batch = SmlBatch { inputs: Vec::new(), positives: Vec::new(), negatives: Vec::new() };
    let mut taken: HashSet<u32> = HashSet::new();
    for i in order {
        let s = &sessions[i];
        if s.is_empty() {
            continue;
        }
        let split = if s.len() > 1 { 1 + rng.below(s.len() - 1) } else { 1 };
        let mut pos: Vec<u32> = s[split..(split + n).min(s.len())].to_vec();
        if pos.iter().any(|p| taken.contains(p)) {
            continue;
        }
        taken.extend(pos.iter().copied());
        let input = &s[split.saturating_sub(config.max_len)..split];
        let need = n - pos.len();
        if need > 0 {
            pos.extend(&input[input.len().saturating_sub(need)..]);
        }
        while pos.len() < n {
            pos.push(pos[0]);
        }
        batch.inputs.push(input.to_vec());
        batch.positives.push(pos);
        if batch.inputs.len() == config.batch_size {
            for p in &batch.positives {
                let weights: Vec<f64> = (0..counts.len())
                    .map(|j| if j == 0 || p.contains(&(j as u32)) { 0.0 } else { (max_count + 1 - counts[j]) as f64 })
                    .collect();
                if weights.iter().all(|w| *w <= 0.0) {
                    return Err(Error::Config(format!("a session's positives {p:?} cover every item of the catalog: no negative is left to draw")));
                }
                batch.negatives.push((0..n).map(|_| draw(&weights, rng)).collect());
            }
            out.push(std::mem::replace(&mut batch, SmlBatch { inputs: Vec::new(), positives: Vec::new(), negatives: Vec::new() }));
            taken.clear();
        }
    }
    Ok(out)
}

/// An index drawn with probability ∝ `weights`.
fn draw(weights: &[f64], rng: &mut Rng) -> u32 {
    let total: f64 = weights.iter().sum();
    let mut x = rng.uniform() as f64 * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i as u32;
        }
        x -= w;
    }
    weights.iter().rposition(|w| *w > 0.0).unwrap_or(0) as u32
}

/// One SML epoch's log line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SmlEpoch {
    pub epoch: usize,
    pub loss: f64,
    pub batches: usize,
    pub valid: Option<Report>,
}

pub struct SmlTrainer {
    pub config: SmlConfig,
    pub model: Sml,
    optim: ModuleOptimizer,
    device: Device,
    rng: Rng,
    counts: Vec<u32>,
}

impl SmlTrainer {
    /// A model over `n_rows − 1` items whose training popularity is `counts` (`[n_rows]`).
    pub fn new(config: SmlConfig, counts: Vec<u32>, device: &Device) -> Result<Self> {
        config.validate()?;
        if counts.len() < 2 {
            return Err(Error::Empty("the catalog has no items".into()));
        }
        let device = device.clone().autodiff();
        device.seed(config.seed);
        let model = Sml::new(&config, counts.len(), &device);
        Ok(Self { rng: Rng::new(config.seed ^ 0x53A1), optim: AdamConfig::new().init(), model, device, counts, config })
    }

    fn ids(&self, rows: &[Vec<u32>], width: usize) -> (Tensor<2, Int>, Tensor<2>) {
        let b = rows.len();
        let mut ids = vec![0i64; b * width];
        let mut mask = vec![0f32; b * width];
        for (r, row) in rows.iter().enumerate() {
            let row = &row[row.len().saturating_sub(width)..];
            for (k, item) in row.iter().enumerate() {
                let at = r * width + width - row.len() + k;
                ids[at] = *item as i64;
                mask[at] = 1.0;
            }
        }
        (Tensor::from_data(TensorData::new(ids, [b, width]), &self.device), Tensor::from_data(TensorData::new(mask, [b, width]), &self.device))
    }

    /// One step on a batch; returns its loss.
    pub fn step(&mut self, batch: &SmlBatch) -> Result<f32> {
        let (inputs, mask) = self.ids(&batch.inputs, self.config.max_len);
        let n = self.config.positives;
        let (pos, _) = self.ids(&batch.positives, n);
        let (neg, _) = self.ids(&batch.negatives, n);
        let s = self.model.encode(inputs, mask);
        let (p, q) = (self.model.tower_of(pos), self.model.tower_of(neg));
        let loss = match self.config.loss {
            SmlLoss::Triplet => triplet_loss(s, p, q, &self.config),
            SmlLoss::Ncas => ncas_loss(s, p, q, &self.config),
        };
        let value = finite_loss(loss.clone(), "SML")?;
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        let model = self.model.clone();
        self.model = self.optim.step(self.config.lr, model, grads).renormalised();
        Ok(value)
    }

    /// Scores `−d(session, item)` of every catalog row (padding at −1e9) for `examples`.
    pub fn scores_of(&self, model: &Sml, examples: &[&Example]) -> (Tensor<2>, Batch) {
        let device = self.device.clone().without_autodiff();
        // Padded to the whole window, as in training (TextCNN's filters need it, mean pooling
        // counts it).
        let batch = make_batch_padded(examples, self.config.max_len, self.config.max_len, 1, false, &device);
        let (mut s, mut items) = (model.encode(batch.items.clone(), batch.mask.clone()), model.item_vectors());
        if self.config.normalize {
            (s, items) = (l2_normalize(s), l2_normalize(items));
        }
        let pad = crate::model::padding_scores(model.items.dims()[0], &device);
        (squared_distances(s, items).neg() + pad, batch)
    }

    pub fn evaluate(&self, model: &Sml, examples: &[Example]) -> Result<Report> {
        let name = format!("SML-{} ({})", self.config.loss.name(), self.config.encoder.name());
        let model = model.valid();
        evaluate_by(examples, self.config.eval_batch, &name, |refs| self.scores_of(&model, refs))
    }

    /// Trains on `sessions` (item sequences), early-stopping on validation MRR@20; returns the
    /// logs, the best epoch and the best model.
    pub fn fit(&mut self, sessions: &[Vec<u32>], valid: &[Example], on_epoch: &mut dyn FnMut(&SmlEpoch)) -> Result<(Vec<SmlEpoch>, usize, Sml)> {
        let mut logs = Vec::new();
        let mut best: Option<(f64, usize, Sml)> = None;
        for epoch in 1..=self.config.epochs {
            let batches = sample_epoch(sessions, &self.counts, &self.config, &mut self.rng)?;
            if batches.is_empty() {
                return Err(Error::Config(format!(
                    "batch_size: {}: no whole batch of sessions with disjoint positives could be drawn from {} sessions",
                    self.config.batch_size,
                    sessions.len()
                )));
            }
            let mut sum = 0f64;
            for b in &batches {
                sum += self.step(b)? as f64;
            }
            let report = (!valid.is_empty()).then(|| self.evaluate(&self.model, valid)).transpose()?;
            let log = SmlEpoch { epoch, loss: sum / batches.len() as f64, batches: batches.len(), valid: report.clone() };
            on_epoch(&log);
            logs.push(log);
            if let Some(r) = report {
                let score = r.get("MRR@20");
                if best.as_ref().is_none_or(|b| score > b.0) {
                    best = Some((score, epoch, self.model.clone()));
                } else if crate::train::patience_ran_out(best.as_ref().map(|b| b.1), epoch, self.config.patience) {
                    break;
                }
            }
        }
        let (epoch, model) = match best {
            Some((_, e, m)) => (e, m),
            None => (logs.len(), self.model.clone()),
        };
        Ok((logs, epoch, model))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::ModuleVisitor;

    fn dev() -> Device {
        Device::flex()
    }

    fn t(v: &[f32], shape: [usize; 2]) -> Tensor<2> {
        Tensor::from_data(TensorData::new(v.to_vec(), shape), &dev())
    }

    fn scalar(x: Tensor<1>) -> f32 {
        x.into_data().try_to_vec::<f32>().expect("floats")[0]
    }

    /// s = 0, positives e1 and e2, negatives 2·e1 and ½·e2, m = 1: without the swap the first
    /// triplet is inactive (1 + 1 − 2) and the second is 1.5; the swap replaces the negatives'
    /// distances by d(p, n) = 1 and ½, waking the first (1 + 1 − 1 = 1). Weights 1 and √½.
    #[test]
    fn the_triplet_loss_with_weights_and_swap_by_hand() {
        let s = t(&[0.0, 0.0], [1, 2]);
        let p = t(&[1.0, 0.0, 0.0, 1.0], [2, 2]).reshape([1, 2, 2]);
        let n = t(&[2.0, 0.0, 0.0, 0.5], [2, 2]).reshape([1, 2, 2]);
        let c = SmlConfig { margin: 1.0, normalize: false, ..SmlConfig::paper(SmlLoss::Triplet, SmlEncoder::Gru, 2) };
        let w = 0.5f32.sqrt();
        let swapped = scalar(triplet_loss(s.clone(), p.clone(), n.clone(), &c));
        assert!((swapped - (1.0 + 1.5 * w) / 2.0).abs() < 1e-4, "{swapped}");
        let plain = scalar(triplet_loss(s.clone(), p.clone(), n.clone(), &SmlConfig { swap: false, ..c.clone() }));
        assert!((plain - 1.5 * w / 2.0).abs() < 1e-4, "{plain}");
        let unweighted = scalar(triplet_loss(s, p, n, &SmlConfig { swap: false, weighting: false, ..c }));
        assert!((unweighted - 0.75).abs() < 1e-4, "{unweighted}");
    }

    #[test]
    fn ncas_targets_and_value_by_hand() {
        // B = 2 sessions of N = 2 positives, ε = 0.3: 1.3 on the diagonal, 1.0 in the block, 0.3
        // over the other session's positives, 0 over the 4 negatives.
        let m = ncas_targets(2, 2, 0.3, false);
        let row = |r: usize| m[r * 8..(r + 1) * 8].iter().map(|v| (v * 10.0).round() / 10.0).collect::<Vec<_>>();
        assert_eq!(row(0), [1.3, 1.0, 0.3, 0.3, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(row(3), [0.3, 0.3, 1.0, 1.3, 0.0, 0.0, 0.0, 0.0]);
        let soft = ncas_targets(2, 2, 0.3, true);
        assert!((soft[..8].iter().sum::<f32>() - 1.0).abs() < 1e-6 && soft[4] > 0.0, "label_softmax gives every column mass");
        // B = N = 1: s = 0, p = e1 (d² = 1), n = 2·e2 (d² = 4); targets [1.3, 0]; KL's mean over
        // the 2 elements: 1.3 · (ln 1.3 − log p₀) / 2, log p₀ = −ln(1 + e⁻³).
        let c = SmlConfig { normalize: false, label_softmax: false, ..SmlConfig::paper(SmlLoss::Ncas, SmlEncoder::Gru, 2) };
        let got = scalar(ncas_loss(t(&[0.0, 0.0], [1, 2]), t(&[1.0, 0.0], [1, 2]).reshape([1, 1, 2]), t(&[0.0, 2.0], [1, 2]).reshape([1, 1, 2]), &c));
        let want = 1.3 * (1.3f32.ln() + (1.0 + (-3.0f32).exp()).ln()) / 2.0;
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }

    #[test]
    fn the_sampler_pads_positives_and_draws_negatives_outside_them() {
        let c = SmlConfig { positives: 3, batch_size: 2, max_len: 4, ..SmlConfig::paper(SmlLoss::Triplet, SmlEncoder::MaxPool, 4) };
        // Two-item sessions: the split is always 1, one positive follows, padded with the
        // prefix's last item and then the first positive.
        let sessions = vec![vec![1, 2], vec![3, 4], vec![5, 6]];
        let counts = vec![0, 9, 1, 1, 1, 1, 1, 1];
        let mut rng = Rng::new(4);
        let batches = sample_epoch(&sessions, &counts, &c, &mut rng).expect("samples");
        assert_eq!(batches.len(), 1, "3 sessions, batch 2: the short one is dropped");
        for ((input, pos), neg) in batches[0].inputs.iter().zip(&batches[0].positives).zip(&batches[0].negatives) {
            assert_eq!(input.len(), 1);
            assert_eq!(pos, &vec![input[0] + 1, input[0], input[0] + 1]);
            assert!(neg.iter().all(|n| *n != 0 && !pos.contains(n)), "{neg:?} {pos:?}");
        }
        // Sessions whose positives meet the batch's are skipped: two sessions with the same
        // next item never share a batch.
        let same = vec![vec![1, 2], vec![3, 2], vec![4, 5], vec![6, 7]];
        for b in sample_epoch(&same, &counts, &c, &mut rng).expect("samples") {
            assert!(b.positives.iter().filter(|p| p[0] == 2).count() <= 1);
        }
        // A catalog of 2 items that one session's positives cover: refused, never the padding row.
        let tiny = SmlConfig { positives: 2, batch_size: 1, ..c };
        let err = sample_epoch(&[vec![1, 2, 1]], &[0, 1, 1], &tiny, &mut rng).expect_err("no negative");
        assert!(err.to_string().contains("no negative is left"), "{err}");
    }

    struct Sums(Vec<f64>);
    impl ModuleVisitor for Sums {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.push(param.val().abs().sum().into_data().try_to_vec::<f32>().expect("floats")[0] as f64);
        }
    }

    fn sums(m: &Sml) -> Vec<f64> {
        let mut s = Sums(Vec::new());
        m.visit(&mut s);
        s.0
    }

    /// After training steps every parameter group moved, except the item tower's Linear layers
    /// under the faithful default — they stay exactly where they started.
    #[test]
    fn gradients_reach_every_group_and_the_faithful_tower_stays_frozen() {
        let sessions: Vec<Vec<u32>> = (0..40u32).map(|i| (0..6).map(|k| 1 + (i * 7 + k * 3) % 30).collect()).collect();
        let counts: Vec<u32> = (0..31).map(|i| if i == 0 { 0 } else { 1 + i % 4 }).collect();
        for encoder in [SmlEncoder::MaxPool, SmlEncoder::MeanPool, SmlEncoder::Gru, SmlEncoder::TextCnn] {
            for train_tower in [false, true] {
                let c = SmlConfig { batch_size: 4, positives: 2, max_len: 5, filters_per_width: 4, gru_hidden: 6, train_item_tower: train_tower, ..SmlConfig::paper(SmlLoss::Triplet, encoder, 8) };
                let mut t = SmlTrainer::new(c.clone(), counts.clone(), &dev()).expect("trainer");
                let before = sums(&t.model);
                let mut rng = Rng::new(1);
                for b in sample_epoch(&sessions, &counts, &c, &mut rng).expect("samples").iter().take(3) {
                    t.step(b).expect("step");
                }
                let after = sums(&t.model);
                // max_norm: every stored embedding row is back at norm ≤ 1 after a step.
                let rows: Vec<f32> = t.model.items.val().powi_scalar(2).sum_dim(1).sqrt().into_data().try_to_vec().expect("floats");
                assert!(rows.iter().all(|n| *n <= 1.0 + 1e-5), "{encoder:?}: a row of norm {:?}", rows.iter().cloned().fold(0.0, f32::max));
                // The tower's 4 tensors (2 weights, 2 biases) come last in visiting order.
                let tower = after.len() - 4;
                for (i, (a, b)) in before.iter().zip(&after).enumerate() {
                    let frozen = !train_tower && i >= tower;
                    assert_eq!((a - b).abs() < 1e-12, frozen, "{encoder:?} tower trained {train_tower}: parameter {i} {a} → {b}");
                }
            }
        }
    }

    #[test]
    fn impossible_configurations_name_their_field() {
        let c = SmlConfig::paper(SmlLoss::Triplet, SmlEncoder::TextCnn, 8);
        let err = SmlConfig { max_len: 4, ..c.clone() }.validate().expect_err("filter 5 > 4").to_string();
        assert!(err.contains("filters") && err.contains("width 5"), "{err}");
        assert!(SmlConfig { max_len: 0, ..c.clone() }.validate().expect_err("0").to_string().contains("max_len"));
        assert!(SmlConfig { margin: -1.0, ..c.clone() }.validate().expect_err("m").to_string().contains("margin"));
        let ncas = SmlConfig::paper(SmlLoss::Ncas, SmlEncoder::Gru, 8);
        assert!(SmlConfig { smoothing: 1.0, ..ncas }.validate().expect_err("ε").to_string().contains("smoothing"));
        // A filter longer than max_len only matters to TextCNN.
        assert!(SmlConfig { max_len: 4, ..SmlConfig::paper(SmlLoss::Triplet, SmlEncoder::Gru, 8) }.validate().is_ok());
    }
}

#[cfg(test)]
mod learning {
    use super::*;

    /// Sessions that walk a ring of 40 items (each item's successors are the next ones): any
    /// SML variant must rank the next item far above chance (10 / 40 for HR@10).
    #[test]
    fn sml_learns_a_ring() {
        let sessions: Vec<Vec<u32>> = (0..400u32).map(|i| (0..10).map(|k| 1 + (i * 7 + k) % 40).collect()).collect();
        let valid: Vec<Example> = (0..40u32).map(|i| Example { prefix: (0..5).map(|k| 1 + (i + k) % 40).collect(), target: 1 + (i + 5) % 40, fps: vec![], session: i as u64 }).collect();
        let counts = vec![1u32; 41];
        for (loss, encoder) in [(SmlLoss::Triplet, SmlEncoder::Gru), (SmlLoss::Ncas, SmlEncoder::MaxPool)] {
            let c = SmlConfig { epochs: 20, patience: 20, positives: 2, batch_size: 8, ..SmlConfig::paper(loss, encoder, 16) };
            let mut t = SmlTrainer::new(c, counts.clone(), &Device::flex()).expect("trainer");
            let (_, _, model) = t.fit(&sessions, &valid, &mut |_| {}).expect("fits");
            let hr = t.evaluate(&model, &valid).expect("evaluates").get("HR@10");
            // Chance is 0.25; 20 epochs of the faithful (frozen-tower) model reach well above it (15 gave 0.55–0.78).
            assert!(hr > 0.45, "{loss:?} {encoder:?}: HR@10 {hr}");
        }
    }
}
