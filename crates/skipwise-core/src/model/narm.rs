//! NARM (Li et al. 2017) as in RecBole: a GRU encoder whose last state is the global intent and an
//! attention over all states the local intent; `[c_local; c_global]` is projected to d.
//!
//! Attention weights are `v · σ(A1 h_j + A2 h_t)` over real positions, without a softmax, as in
//! RecBole (the Theano original normalises them; RecBole's reading is the one the anchors use).

use crate::nn::{Dense, Gru, Init, Input, sigmoid};
use crate::rng::Rng;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::{Device, Tensor};

#[derive(Module, Debug)]
pub struct Narm {
    pub gru: Gru,
    pub a1: Dense,
    pub a2: Dense,
    pub v: Dense,
    pub out: Dense,
    pub emb_dropout: Dropout,
    pub ct_dropout: Dropout,
}

impl Narm {
    pub fn new(rng: &mut Rng, dim: usize, hidden: usize, dropout: [f64; 2], device: &Device) -> Self {
        Self {
            gru: Gru::new(rng, dim, hidden, false, device),
            a1: Dense::new(rng, hidden, hidden, false, Init::Xavier, device),
            a2: Dense::new(rng, hidden, hidden, false, Init::Xavier, device),
            v: Dense::new(rng, hidden, 1, false, Init::Xavier, device),
            out: Dense::new(rng, 2 * hidden, dim, false, Init::Xavier, device),
            emb_dropout: DropoutConfig::new(dropout[0]).init(),
            ct_dropout: DropoutConfig::new(dropout[1]).init(),
        }
    }

    pub fn forward(&self, input: Input, mask: Tensor<2>) -> Tensor<2> {
        let [b, l] = mask.dims();
        let h = self.gru.hidden;
        let states = self.gru.forward(input, mask.clone(), &self.emb_dropout);
        let c_global: Tensor<2> = states.clone().narrow(1, l - 1, 1).reshape([b, h]);
        let q1 = self.a1.forward3(states.clone());
        let q2 = self.a2.forward2(c_global.clone()).unsqueeze_dim::<3>(1);
        let gate = sigmoid(q1 + q2) * mask.unsqueeze_dim::<3>(2);
        let alpha = self.v.forward3(gate); // [B, L, 1]
        let c_local: Tensor<2> = (alpha * states).sum_dim(1).reshape([b, h]);
        let c = Tensor::cat(vec![c_local, c_global], 1);
        self.out.forward2(self.ct_dropout.forward(c))
    }
}
