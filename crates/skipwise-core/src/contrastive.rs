//! DuoRec's and AdaptiveRec's contrastive term, added to any objective of [`crate::objective`]
//! (NOTES §4; reimplemented from the AdaptiveRec repository's `adaptiverec.py`, `trainer.py`
//! and its DuoRec data loader, MIT).
//!
//! Both use RecBole's `contrast: 'us_x'`: each training step is encoded twice more — the same
//! batch again (a second dropout draw, the "unsupervised" view `z_i`) and, per row, another
//! training step with the same target (the "supervised" view `z_j`; the row itself when no other
//! step has that target, as the loader does) — and InfoNCE over the `2B` vectors pulls each
//! `z_i[r]` towards `z_j[r]` and away from the batch's other `2B − 2` vectors:
//! `λ_sem · CE(logits, labels)`, with `sim = cos` (the AdaptiveRec repository's `seq.yaml`, used
//! for both models there; DuoRec's own repository defaults to `dot`: a config value), `τ = 1`,
//! `λ_sem = 0.1`.
//!
//! AdaptiveRec adds SimThres, `g = Sequential(Linear(B·H, B·H/8), Linear(B·H/8, B), Sigmoid)`
//! over the *flattened batch* of the CE view's session vectors, `k = 2.1 · (g − 0.5)`: a
//! threshold per row. In-batch negatives whose similarity is ≥ `k_r` become soft positives: row
//! `r`'s target is `[1, M⁺/|M⁺|] / 2` (½ on its own pair; the code's quirk kept: with `M⁺`
//! empty the row sums to ½). `k` gets no gradient from the labels (a comparison); it learns only
//! from the regulariser `0.1 · ‖k − t‖₂` (the code's unsquared L2; the paper's squared form is
//! [`ThresholdPenalty::SquaredL2`]), where `t` is the mean over the previous epoch's batches of
//! the 90th percentile of the supervised InfoNCE's negative similarities; it applies from the
//! second epoch on (the code's `epoch_idx >= 1`). As in the code, the regulariser's gradient also
//! reaches the encoder through `g`'s input. `g`'s input is a whole batch, so every batch must
//! have `B` rows: incomplete batches are dropped (the code's trainer skips them). DuoRec keeps
//! its short last batch (its InfoNCE masks any batch size; the AdaptiveRec repository's trainer
//! drops it for every model, DuoRec included — one step an epoch of difference).
//!
//! Not reproduced: the repository's cosine learning-rate schedule (`cosine_lr_scheduler: true`),
//! so that every method here trains with the same constant-rate Adam; said in the README.

use crate::error::{Error, Result};
use crate::nn::{Dense, Init, param2};
use crate::rng::Rng;
use burn::module::{Module, Param};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// Which contrastive term, if any.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Contrast {
    #[default]
    None,
    DuoRec,
    AdaptiveRec,
}

impl Contrast {
    pub fn name(self) -> &'static str {
        match self {
            Contrast::None => "none",
            Contrast::DuoRec => "DuoRec",
            Contrast::AdaptiveRec => "AdaptiveRec",
        }
    }
}

/// How two session vectors are compared in InfoNCE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Similarity {
    Dot,
    Cos,
}

/// The form of SimThres's regulariser.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThresholdPenalty {
    /// `w · ‖k − t‖₂`, the code's (`torch.norm(k − t, p=2)`).
    L2,
    /// `w · ‖k − t‖₂²`, the paper's.
    SquaredL2,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContrastConfig {
    pub kind: Contrast,
    /// `lmd_sem`, the weight of the supervised InfoNCE.
    pub lambda: f32,
    /// τ, the temperature.
    pub tau: f32,
    pub sim: Similarity,
    /// AdaptiveRec: the quantile of the negatives' similarities `g` is pulled towards (0.9).
    pub quantile: f32,
    pub penalty: ThresholdPenalty,
    /// AdaptiveRec: the regulariser's weight (the code's fixed 0.1).
    pub penalty_weight: f32,
    /// AdaptiveRec's `k_positive`: above-threshold negatives become soft positives (true, the
    /// repository's setting) or are taken out of the softmax (false).
    pub relabel: bool,
}

impl Default for ContrastConfig {
    fn default() -> Self {
        Self {
            kind: Contrast::None,
            lambda: 0.1,
            tau: 1.0,
            sim: Similarity::Cos,
            quantile: 0.9,
            penalty: ThresholdPenalty::L2,
            penalty_weight: 0.1,
            relabel: true,
        }
    }
}

impl ContrastConfig {
    pub fn of(kind: Contrast) -> Self {
        Self { kind, ..Self::default() }
    }

    /// Refuses what makes the term impossible, naming the field; `batch` is the training batch
    /// size and `dim` the session vector's width.
    pub fn validate(&self, batch: usize, dim: usize) -> Result<()> {
        let bad = |m: String| Err(Error::Config(m));
        if self.kind == Contrast::None {
            return Ok(());
        }
        if batch < 2 {
            return bad(format!("batch_size: {batch}: {}'s in-batch contrast needs at least 2 rows per batch", self.kind.name()));
        }
        if !(self.tau.is_finite() && self.tau > 0.0) {
            return bad(format!("contrast.tau: {} must be a positive number", self.tau));
        }
        if !(self.lambda.is_finite() && self.lambda >= 0.0) {
            return bad(format!("contrast.lambda: {} must be ≥ 0", self.lambda));
        }
        if self.kind == Contrast::AdaptiveRec {
            if !(self.quantile > 0.0 && self.quantile < 1.0) {
                return bad(format!("contrast.quantile: {} must be in (0, 1)", self.quantile));
            }
            if !(self.penalty_weight.is_finite() && self.penalty_weight >= 0.0) {
                return bad(format!("contrast.penalty_weight: {} must be ≥ 0", self.penalty_weight));
            }
            if dim < 8 {
                return bad(format!("dim: {dim}: SimThres's hidden layer is B·⌊dim/8⌋ wide, so dim must be ≥ 8"));
            }
        }
        Ok(())
    }
}

/// The `[2B, 2B]` similarity matrix of `z = [z_i; z_j]`, divided by τ.
pub fn similarities(z_i: Tensor<2>, z_j: Tensor<2>, sim: Similarity, tau: f32) -> Tensor<2> {
    let z = Tensor::cat(vec![z_i, z_j], 0);
    let z = match sim {
        Similarity::Dot => z,
        // PyTorch's cosine_similarity clamps each norm at 1e-8.
        Similarity::Cos => z.clone() / z.powi_scalar(2).sum_dim(1).sqrt().clamp_min(1e-8),
    };
    z.clone().matmul(z.transpose()) / tau as f64
}

/// Row `r`'s own pair: `r + B` for the first half, `r − B` for the second.
fn partner(r: usize, b: usize) -> usize {
    (r + b) % (2 * b)
}

/// 1 where column `c` is one of row `r`'s in-batch negatives (neither `r` nor its pair).
pub fn negatives_mask(b: usize, device: &Device) -> Tensor<2> {
    let n = 2 * b;
    let v: Vec<f32> = (0..n * n).map(|i| (i / n != i % n && i % n != partner(i / n, b)) as u8 as f32).collect();
    Tensor::from_data(TensorData::new(v, [n, n]), device)
}

/// One-hot on each row's pair: DuoRec's labels (`[2B, 2B]`).
pub fn pair_targets(b: usize, device: &Device) -> Tensor<2> {
    let n = 2 * b;
    let v: Vec<f32> = (0..n * n).map(|i| (i % n == partner(i / n, b)) as u8 as f32).collect();
    Tensor::from_data(TensorData::new(v, [n, n]), device)
}

/// AdaptiveRec's soft labels: ½ on the pair, and ½ spread evenly over the negatives whose
/// similarity is ≥ the row's threshold (`k: [2B]`, the batch's `k` twice). No gradient.
pub fn relabelled_targets(sim: Tensor<2>, k: Tensor<1>, b: usize) -> Tensor<2> {
    let device = sim.device();
    let n = 2 * b;
    let negatives = negatives_mask(b, &device);
    let above = sim.detach().greater_equal(k.detach().reshape([n, 1]).repeat_dim(1, n)).float() * negatives;
    let count = above.clone().sum_dim(1).clamp_min(1.0);
    (pair_targets(b, &device) + above / count) * 0.5
}

/// Soft-label InfoNCE: the mean over rows of `−Σ_c y_rc · log softmax_c(logits_r)`, the softmax
/// over each row's pair and negatives (the row itself is left out, as the code's mask does).
/// `drop: [2B, 2B]` (1 = take a negative out of the softmax) is the `relabel = false` branch.
pub fn info_nce(sim: Tensor<2>, targets: Tensor<2>, drop: Option<Tensor<2>>) -> Tensor<1> {
    let [n, _] = sim.dims();
    let device = sim.device();
    let eye: Tensor<2> = Tensor::eye(n, &device);
    // A large finite negative, not −∞ (WGSL has none): exp underflows to exactly 0.
    let mut out = eye * 1e9;
    if let Some(drop) = drop {
        out = out + drop * 1e9;
    }
    let logp = log_softmax(sim - out, 1);
    (targets * logp).sum_dim(1).mean().neg().reshape([1])
}

/// The `q`-quantile of the negatives' similarities as the code takes it: all `2B·(2B − 2)`
/// values sorted ascending, the one at index `⌊n · q⌋`.
pub fn negatives_quantile(sim: &[f32], b: usize, q: f32) -> f32 {
    let n = 2 * b;
    let mut values: Vec<f32> = (0..n * n).filter(|i| i / n != i % n && i % n != partner(i / n, b)).map(|i| sim[i]).collect();
    values.sort_by(f32::total_cmp);
    let at = ((values.len() as f64 * q as f64) as usize).min(values.len().saturating_sub(1));
    values.get(at).copied().unwrap_or(0.0)
}

/// The regulariser on `k: [B]` towards the scalar `t`.
pub fn threshold_penalty(k: Tensor<1>, t: f32, penalty: ThresholdPenalty, weight: f32) -> Tensor<1> {
    let sq = (k - t as f64).powi_scalar(2).sum();
    let norm = match penalty {
        // √ at 0 has no derivative; 1e-12 inside moves the value by at most 1e-6.
        ThresholdPenalty::L2 => (sq + 1e-12).sqrt(),
        ThresholdPenalty::SquaredL2 => sq,
    };
    norm * weight as f64
}

/// SimThres, `g` (see the module's doc): `[B, H] → [B]` thresholds in (−1.05, 1.05).
#[derive(Module, Debug)]
pub struct SimThres {
    pub hidden: Dense,
    pub out: Dense,
}

impl SimThres {
    /// RecBole's `_init_weights`: N(0, 0.02) weights, zero biases.
    pub fn new(batch: usize, dim: usize, seed: u64, device: &Device) -> Self {
        let mut rng = Rng::new(seed ^ 0x5173_7468);
        let (d_in, d_mid) = (batch * dim, batch * (dim / 8));
        let dense = |rng: &mut Rng, a: usize, b: usize| Dense {
            weight: param2(rng, [a, b], Init::Normal(0.02), device),
            bias: Some(Param::from_tensor(Tensor::zeros([b], device))),
        };
        Self { hidden: dense(&mut rng, d_in, d_mid), out: dense(&mut rng, d_mid, batch) }
    }

    pub fn batch(&self) -> usize {
        self.out.weight.dims()[1]
    }

    pub fn forward(&self, e_seq: Tensor<2>) -> Tensor<1> {
        let [b, h] = e_seq.dims();
        let x = self.out.forward2(self.hidden.forward2(e_seq.reshape([1, b * h])));
        (crate::nn::sigmoid(x) - 0.5).reshape([b]) * 2.1
    }
}

/// What a trainer with a contrastive term keeps between steps.
pub struct ContrastState {
    pub config: ContrastConfig,
    /// AdaptiveRec's `g` and its own Adam (it is not part of the recommender: inference never
    /// reads it, and at B = 256 it is 34 M weights a model file should not carry).
    pub simthres: Option<(SimThres, ModuleOptimizer)>,
    /// `t`: the mean of the previous epoch's batch quantiles (none during the first epoch).
    pub threshold: Option<f32>,
    /// This epoch's batch quantiles so far.
    pub quantiles: Vec<f32>,
}

impl ContrastState {
    pub fn new(config: &ContrastConfig, batch: usize, dim: usize, seed: u64, device: &Device) -> Option<Self> {
        let simthres = (config.kind == Contrast::AdaptiveRec).then(|| (SimThres::new(batch, dim, seed, device), AdamConfig::new().init()));
        (config.kind != Contrast::None).then(|| Self { config: config.clone(), simthres, threshold: None, quantiles: Vec::new() })
    }

    /// Ends an epoch: its quantiles' mean becomes the next epoch's `t`.
    pub fn end_epoch(&mut self) {
        if !self.quantiles.is_empty() {
            self.threshold = Some(self.quantiles.iter().sum::<f32>() / self.quantiles.len() as f32);
            self.quantiles.clear();
        }
    }

    /// Steps `g` with its share of the gradients.
    pub fn step_simthres(&mut self, lr: f64, grads: &mut burn::tensor::Gradients) {
        if let Some((g, mut optim)) = self.simthres.take() {
            let g_grads = GradientsParams::from_module(grads, &g);
            self.simthres = Some((optim.step(lr, g, g_grads), optim));
        }
    }
}

/// For each training example, the indices of the *other* examples with the same target (the
/// supervised view's candidates).
pub fn same_target_index(targets: &[u32]) -> Vec<Vec<u32>> {
    let mut by_target: std::collections::HashMap<u32, Vec<u32>> = Default::default();
    for (i, t) in targets.iter().enumerate() {
        by_target.entry(*t).or_default().push(i as u32);
    }
    targets.iter().enumerate().map(|(i, t)| by_target[t].iter().copied().filter(|j| *j as usize != i).collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev() -> Device {
        Device::default()
    }

    fn t2(v: &[f32], shape: [usize; 2]) -> Tensor<2> {
        Tensor::from_data(TensorData::new(v.to_vec(), shape), &dev())
    }

    fn scalar(t: Tensor<1>) -> f32 {
        t.into_data().try_to_vec::<f32>().expect("floats")[0]
    }

    /// z_i = z_j = [e1, e2] under dot products: each row's pair scores 1, its two negatives 0,
    /// so every row's loss is −log(e / (e + 2)).
    #[test]
    fn info_nce_on_a_hand_made_batch() {
        let z = t2(&[1.0, 0.0, 0.0, 1.0], [2, 2]);
        let sim = similarities(z.clone(), z.clone(), Similarity::Dot, 1.0);
        let e = std::f32::consts::E;
        let duo = scalar(info_nce(sim.clone(), pair_targets(2, &dev()), None));
        assert!((duo - (1.0 + 2.0 / e).ln()).abs() < 1e-5, "{duo}");
        // τ = 0.5 doubles every similarity: −log(e² / (e² + 2)).
        let sharp = scalar(info_nce(similarities(z.clone(), z.clone(), Similarity::Dot, 0.5), pair_targets(2, &dev()), None));
        assert!((sharp - (1.0 + 2.0 / (e * e)).ln()).abs() < 1e-5, "{sharp}");
        // Cosine of unit vectors is their dot product.
        let cos = scalar(info_nce(similarities(z.clone() * 3.0, z * 3.0, Similarity::Cos, 1.0), pair_targets(2, &dev()), None));
        assert!((cos - duo).abs() < 1e-5, "{cos} vs {duo}");
        // A second batch where the views differ: z_j = [e2, e1]. Row 0 (e1): its pair (row 2,
        // e2) scores 0, its negatives e2 (row 1) 0 and e1 (row 3) 1: −log(1 / (2 + e)).
        let zi = t2(&[1.0, 0.0, 0.0, 1.0], [2, 2]);
        let zj = t2(&[0.0, 1.0, 1.0, 0.0], [2, 2]);
        let swapped = scalar(info_nce(similarities(zi, zj, Similarity::Dot, 1.0), pair_targets(2, &dev()), None));
        assert!((swapped - (2.0 + e).ln()).abs() < 1e-5, "{swapped}");
    }

    /// AdaptiveRec's labels on the first batch: above a threshold of −0.5 both negatives (0)
    /// become soft positives (¼ each beside the pair's ½); above 0.5 none does, and the row sums
    /// to ½ (the code's quirk).
    #[test]
    fn above_threshold_pairs_are_relabelled() {
        let z = t2(&[1.0, 0.0, 0.0, 1.0], [2, 2]);
        let sim = similarities(z.clone(), z, Similarity::Dot, 1.0);
        let k = |v: f32| Tensor::<1>::from_data(TensorData::new(vec![v; 4], [4]), &dev());
        let all = relabelled_targets(sim.clone(), k(-0.5), 2);
        let rows = all.clone().into_data().try_to_vec::<f32>().expect("floats");
        assert_eq!(&rows[0..4], &[0.0, 0.25, 0.5, 0.25]);
        assert_eq!(&rows[4..8], &[0.25, 0.0, 0.25, 0.5]);
        let e = std::f32::consts::E;
        let loss = scalar(info_nce(sim.clone(), all, None));
        assert!((loss - ((e + 2.0).ln() - 0.5)).abs() < 1e-5, "{loss}");
        let none = relabelled_targets(sim.clone(), k(0.5), 2).into_data().try_to_vec::<f32>().expect("floats");
        assert_eq!(&none[0..4], &[0.0, 0.0, 0.5, 0.0]);
        let half = scalar(info_nce(sim.clone(), relabelled_targets(sim.clone(), k(0.5), 2), None));
        assert!((half - 0.5 * (1.0 + 2.0 / e).ln()).abs() < 1e-5, "{half}");
        // Equal to the threshold counts as above (the code's `>=`).
        let at = relabelled_targets(sim, k(0.0), 2).into_data().try_to_vec::<f32>().expect("floats");
        assert_eq!(&at[0..4], &[0.0, 0.25, 0.5, 0.25]);
    }

    #[test]
    fn the_threshold_regulariser_and_the_quantile() {
        let k = Tensor::<1>::from_data(TensorData::new(vec![0.3f32, 0.7], [2]), &dev());
        let l2 = scalar(threshold_penalty(k.clone(), 0.5, ThresholdPenalty::L2, 0.1));
        assert!((l2 - 0.1 * 0.08f32.sqrt()).abs() < 1e-6, "{l2}");
        let sq = scalar(threshold_penalty(k, 0.5, ThresholdPenalty::SquaredL2, 0.1));
        assert!((sq - 0.008).abs() < 1e-7, "{sq}");
        // B = 2: rows × columns 4 × 4, the negatives of row r are the two columns that are
        // neither r nor r ± 2. Values 1..16 in row order; negatives: row 0 → 2, 4; row 1 → 5, 7;
        // row 2 → 10, 12; row 3 → 13, 15. Sorted: 2 4 5 7 10 12 13 15; ⌊8 · 0.9⌋ = 7 → 15,
        // ⌊8 · 0.5⌋ = 4 → 10.
        let sim: Vec<f32> = (1..=16).map(|v| v as f32).collect();
        assert_eq!(negatives_quantile(&sim, 2, 0.9), 15.0);
        assert_eq!(negatives_quantile(&sim, 2, 0.5), 10.0);
    }

    #[test]
    fn simthres_maps_a_batch_to_bounded_thresholds() {
        let g = SimThres::new(4, 8, 1, &dev());
        assert_eq!(g.batch(), 4);
        assert_eq!(g.hidden.weight.dims(), [32, 4]);
        let x = Tensor::<2>::from_data(TensorData::new((0..32).map(|v| v as f32 * 10.0).collect::<Vec<_>>(), [4, 8]), &dev());
        for k in g.forward(x).into_data().try_to_vec::<f32>().expect("floats") {
            assert!(k.abs() < 1.05 && k.is_finite(), "{k}");
        }
    }

    #[test]
    fn same_target_candidates_leave_the_row_out() {
        assert_eq!(same_target_index(&[5, 6, 5, 5]), vec![vec![2, 3], vec![], vec![0, 3], vec![0, 2]]);
    }

    #[test]
    fn impossible_configurations_name_their_field() {
        let duo = ContrastConfig::of(Contrast::DuoRec);
        let err = duo.validate(1, 64).expect_err("batch 1").to_string();
        assert!(err.contains("batch_size") && err.contains("DuoRec"), "{err}");
        let err = ContrastConfig { tau: 0.0, ..duo.clone() }.validate(8, 64).expect_err("tau 0").to_string();
        assert!(err.contains("contrast.tau"), "{err}");
        let ada = ContrastConfig::of(Contrast::AdaptiveRec);
        let err = ada.validate(8, 4).expect_err("dim 4").to_string();
        assert!(err.contains("dim"), "{err}");
        let err = ContrastConfig { quantile: 1.0, ..ada.clone() }.validate(8, 64).expect_err("q 1").to_string();
        assert!(err.contains("contrast.quantile"), "{err}");
        assert!(ada.validate(8, 64).is_ok() && ContrastConfig::default().validate(1, 1).is_ok());
    }
}
