//! `f_FPA`, FP-AdaMetric's adaptive FP-weighting module (paper Remark 2, preprint Figure 2b).
//!
//! Reading (NOTES §1.5.1–1.5.2): the inputs are `[e_seq; e_pos; e_fp_i]` as Figure 2(b) and the
//! introduction describe (the formal `e_u` needs users, which Spotify and AmazonMovie lack; the
//! positive embedding is what the figure feeds); an MLP `3d → h → 1`. The output activation is a
//! config value: `Sigmoid` (default) keeps each weight in (0, 1) independently, as a "degree of
//! dislike"; `Softmax` over the FP set turns the expectation itself into learned attention, which
//! is a different method, kept for the ablation. Either way the weights are masked to real FPs.
//!
//! `floor` (0 in the paper's reading) is the page's: each weight becomes `floor + (1 − floor)·σ`,
//! so no FP can be switched off by shrinking its weight — which the hinge rewards, since a
//! smaller weight is the cheapest way to satisfy it (issue #12 saw 0.00 bars on items a visitor
//! had just skipped six times). A softmax over the FP set can still starve one FP, so the floor
//! applies after either output.

use crate::nn::{Dense, Init, sigmoid, tanh};
use crate::rng::Rng;
use burn::module::Module;
use burn::tensor::activation::{relu, softmax};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FpaActivation {
    Relu,
    Tanh,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FpaOutput {
    Sigmoid,
    Softmax,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FpaConfig {
    /// Hidden width; `None` = d (the paper gives nothing; d keeps it as light as the backbone).
    pub hidden: Option<usize>,
    pub activation: FpaActivation,
    pub output: FpaOutput,
    /// The least weight an FP can get, in [0, 1).
    #[serde(default)]
    pub floor: f32,
}

impl Default for FpaConfig {
    fn default() -> Self {
        Self { hidden: None, activation: FpaActivation::Relu, output: FpaOutput::Sigmoid, floor: 0.0 }
    }
}

#[derive(Module, Debug)]
pub struct Fpa {
    pub l1: Dense,
    pub l2: Dense,
    pub tanh: bool,
    pub softmax: bool,
    pub floor: f32,
}

impl Fpa {
    pub fn new(rng: &mut Rng, dim: usize, config: &FpaConfig, device: &Device) -> Self {
        let hidden = config.hidden.unwrap_or(dim);
        Self {
            l1: Dense::new(rng, 3 * dim, hidden, true, Init::Xavier, device),
            l2: Dense::new(rng, hidden, 1, true, Init::Xavier, device),
            tanh: config.activation == FpaActivation::Tanh,
            softmax: config.output == FpaOutput::Softmax,
            floor: config.floor,
        }
    }

    /// `e_seq, e_pos: [B, d]`, `e_fp: [B, F, d]`, `fp_mask: [B, F]` → weights `[B, F]` (0 at padding).
    pub fn weights(&self, e_seq: Tensor<2>, e_pos: Tensor<2>, e_fp: Tensor<3>, fp_mask: Tensor<2>) -> Tensor<2> {
        let [b, f, d] = e_fp.dims();
        let seq = e_seq.unsqueeze_dim::<3>(1).expand([b, f, d]);
        let pos = e_pos.unsqueeze_dim::<3>(1).expand([b, f, d]);
        let hidden = self.l1.forward3(Tensor::cat(vec![seq, pos, e_fp], 2));
        let hidden = if self.tanh { tanh(hidden) } else { relu(hidden) };
        let logits: Tensor<2> = self.l2.forward3(hidden).reshape([b, f]);
        let weights = if self.softmax {
            // Padding gets −∞ before the softmax; a row without FPs ends up all zero after masking.
            let masked = logits + (fp_mask.clone() - 1.0) * 1e9;
            softmax(masked, 1)
        } else {
            sigmoid(logits)
        };
        let weights = match self.floor > 0.0 {
            true => weights * (1.0 - self.floor) + self.floor,
            false => weights,
        };
        weights * fp_mask
    }
}
