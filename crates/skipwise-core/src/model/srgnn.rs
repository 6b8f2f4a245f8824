//! SR-GNN (Wu et al. 2019) as in RecBole: one gated-GNN step over the session graph, then a soft
//! attention of every position on the last one, `W[s_g; v_n]`.

use crate::batch::GraphBatch;
use crate::nn::{Dense, Init, param1, sigmoid, tanh};
use crate::rng::Rng;
use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};

#[derive(Module, Debug)]
pub struct SrGnn {
    pub edge_in: Dense,
    pub edge_out: Dense,
    pub b_iah: Param<Tensor<1>>,
    pub b_oah: Param<Tensor<1>>,
    pub w_ih: Dense,
    pub w_hh: Dense,
    pub linear_one: Dense,
    pub linear_two: Dense,
    pub linear_three: Dense,
    pub transform: Dense,
    pub steps: usize,
}

impl SrGnn {
    pub fn new(rng: &mut Rng, dim: usize, steps: usize, device: &Device) -> Self {
        // The original initialises every parameter U(−1/√d, 1/√d).
        let init = Init::Uniform(1.0 / (dim as f32).sqrt());
        Self {
            edge_in: Dense::new(rng, dim, dim, true, init, device),
            edge_out: Dense::new(rng, dim, dim, true, init, device),
            b_iah: param1(rng, dim, init, device),
            b_oah: param1(rng, dim, init, device),
            w_ih: Dense::new(rng, 2 * dim, 3 * dim, true, init, device),
            w_hh: Dense::new(rng, dim, 3 * dim, true, init, device),
            linear_one: Dense::new(rng, dim, dim, true, init, device),
            linear_two: Dense::new(rng, dim, dim, true, init, device),
            linear_three: Dense::new(rng, dim, 1, false, init, device),
            transform: Dense::new(rng, 2 * dim, dim, true, init, device),
            steps: steps.max(1),
        }
    }

    /// `node_emb: [B, U, d]` (masked), the graph, `mask: [B, L]` → `[B, d]`.
    pub fn forward(&self, node_emb: Tensor<3>, graph: &GraphBatch, mask: Tensor<2>) -> Tensor<2> {
        let [b, _, d] = node_emb.dims();
        let mut h = node_emb;
        for _ in 0..self.steps {
            h = self.gnn_step(h, graph);
        }
        let h = h * graph.node_mask.clone().unsqueeze_dim::<3>(2);
        let seq = graph.alias.clone().matmul(h); // [B, L, d]
        let l = seq.dims()[1];
        let last: Tensor<2> = seq.clone().narrow(1, l - 1, 1).reshape([b, d]);
        let q1 = self.linear_one.forward2(last.clone()).unsqueeze_dim::<3>(1);
        let q2 = self.linear_two.forward3(seq.clone());
        let alpha = self.linear_three.forward3(sigmoid(q1 + q2)) * mask.unsqueeze_dim::<3>(2);
        let s_g: Tensor<2> = (alpha * seq).sum_dim(1).reshape([b, d]);
        self.transform.forward2(Tensor::cat(vec![s_g, last], 1))
    }

    fn gnn_step(&self, h: Tensor<3>, graph: &GraphBatch) -> Tensor<3> {
        let d = h.dims()[2];
        let input_in = graph.a_in.clone().matmul(self.edge_in.forward3(h.clone()))
            + self.b_iah.val().unsqueeze_dims::<3>(&[0, 1]);
        let input_out = graph.a_out.clone().matmul(self.edge_out.forward3(h.clone()))
            + self.b_oah.val().unsqueeze_dims::<3>(&[0, 1]);
        let gi = self.w_ih.forward3(Tensor::cat(vec![input_in, input_out], 2));
        let gh = self.w_hh.forward3(h.clone());
        let r = sigmoid(gi.clone().narrow(2, 0, d) + gh.clone().narrow(2, 0, d));
        let z = sigmoid(gi.clone().narrow(2, d, d) + gh.clone().narrow(2, d, d));
        let n = tanh(gi.narrow(2, 2 * d, d) + r * gh.narrow(2, 2 * d, d));
        n.clone() + z * (h - n)
    }
}
