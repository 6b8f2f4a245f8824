//! STAMP (Liu et al. 2018) as in RecBole: attention over the session's items driven by the last
//! item and the session mean, `m_a = Σ α_i x_i + m_s` (the official code adds `m_s` too), then
//! `tanh(MLP_a m_a) ⊙ tanh(MLP_b x_t)`.

use crate::nn::{Dense, Init, param1, sigmoid, tanh};
use crate::rng::Rng;
use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};

#[derive(Module, Debug)]
pub struct Stamp {
    pub w1: Dense,
    pub w2: Dense,
    pub w3: Dense,
    pub w0: Dense,
    pub b_a: Param<Tensor<1>>,
    pub mlp_a: Dense,
    pub mlp_b: Dense,
}

impl Stamp {
    pub fn new(rng: &mut Rng, dim: usize, device: &Device) -> Self {
        // RecBole initialises STAMP's linear layers with N(0, 0.05).
        let init = Init::Normal(0.05);
        Self {
            w1: Dense::new(rng, dim, dim, false, init, device),
            w2: Dense::new(rng, dim, dim, false, init, device),
            w3: Dense::new(rng, dim, dim, false, init, device),
            w0: Dense::new(rng, dim, 1, false, init, device),
            b_a: param1(rng, dim, Init::Uniform(0.0), device),
            mlp_a: Dense::new(rng, dim, dim, true, init, device),
            mlp_b: Dense::new(rng, dim, dim, true, init, device),
        }
    }

    pub fn forward(&self, emb: Tensor<3>, mask: Tensor<2>) -> Tensor<2> {
        let [b, l, d] = emb.dims();
        let lengths = mask.clone().sum_dim(1).clamp_min(1.0); // [B, 1]
        let m_s: Tensor<2> = emb.clone().sum_dim(1).reshape([b, d]) / lengths;
        let x_t: Tensor<2> = emb.clone().narrow(1, l - 1, 1).reshape([b, d]);
        let pre = self.w1.forward3(emb.clone())
            + self.w2.forward2(x_t.clone()).unsqueeze_dim::<3>(1)
            + self.w3.forward2(m_s.clone()).unsqueeze_dim::<3>(1)
            + self.b_a.val().unsqueeze_dims::<3>(&[0, 1]);
        let alpha = self.w0.forward3(sigmoid(pre)) * mask.unsqueeze_dim::<3>(2); // [B, L, 1]
        let m_a: Tensor<2> = (alpha * emb).sum_dim(1).reshape([b, d]) + m_s;
        tanh(self.mlp_a.forward2(m_a)) * tanh(self.mlp_b.forward2(x_t))
    }
}
