//! GRU4Rec as in RecBole: embedding → dropout → GRU (no bias) → dense h→d, state at the last item.
//!
//! Initialised as RecBole's `_init_weights`: Xavier-uniform GRU weight matrices (the embedding's
//! Xavier-normal is in [`crate::model::Recommender::new`]) and PyTorch's default for the dense
//! layer, U(±1/√h) for weight and bias. The start matters here: the ML-100K anchor compares
//! against RecBole's published run at its early-stopped epoch.

use crate::nn::{Dense, Gru, Init, Input};
use crate::rng::Rng;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::{Device, Tensor};

#[derive(Module, Debug)]
pub struct Gru4Rec {
    pub gru: Gru,
    pub dense: Dense,
    pub dropout: Dropout,
}

impl Gru4Rec {
    pub fn new(rng: &mut Rng, dim: usize, hidden: usize, dropout: f64, device: &Device) -> Self {
        Self {
            gru: Gru::with_init(rng, dim, hidden, false, Init::Xavier, device),
            dense: Dense::new(rng, hidden, dim, true, Init::Uniform(1.0 / (hidden as f32).sqrt()), device),
            dropout: DropoutConfig::new(dropout).init(),
        }
    }

    /// The session's items (`input`, see [`Input`]), `mask: [B, L]` → `e_seq: [B, d]`.
    pub fn forward(&self, input: Input, mask: Tensor<2>) -> Tensor<2> {
        // Left padding: the last step's state is the state after the session's last item.
        self.dense.forward2(self.gru.forward_last(input, mask, &self.dropout))
    }
}
