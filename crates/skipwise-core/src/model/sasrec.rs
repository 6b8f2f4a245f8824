//! SASRec (Kang & McAuley 2018): causal self-attention over the session, learned positions, the
//! last position's output is `e_seq`. Two variants, because the seed systems build on both
//! (`SasrecVariant`):
//!
//! * **RecBole** (AdaptiveRec and DuoRec build on it): `LayerNorm(e_item + e_pos)` → dropout →
//!   blocks of post-LN multi-head attention (`LN(x + Dropout(W_o · Attn(x)))`) and a GELU
//!   feed-forward (`LN(x + Dropout(W_2 · gelu(W_1 x)))`). Positions count from the session's
//!   first item (RecBole pads on the right and numbers from the left), keys at padding and in the
//!   future are masked with −10 000 (RecBole's constant, finite: WGSL has no −∞), N(0, 0.02)
//!   initialisation, LayerNorm ε = 1e-12. A test pins its parameter count at RecBole's 211,008 on
//!   ML-100K (1 683 rows, d = 64, 2 layers, 2 heads, inner 256, 50 positions).
//! * **pmixer** (UFNRec builds on it, NOTES §3): `e_item · √d + e_pos` over the *padded* window's
//!   positions (left-padded, as that code pads), dropout, padding rows zeroed; blocks of pre-LN
//!   attention on the query only (`Q = LN(x)`, `x = Q + Attn(Q, x, x)`), then
//!   `x = LN(x) + FFN(LN(x))` with a ReLU 1×1-convolution (a dense layer `d → d`) feed-forward,
//!   padding rows zeroed after every block, and a final LayerNorm (ε = 1e-8). As in that code the
//!   attention masks only the future, not padded keys (they are zero rows, but they are attended).
//!
//! Sequences here are left-padded (see [`crate::batch`]), so the last position always holds the
//! state after the session's last item. A session longer than the position table keeps its
//! newest items.

use crate::nn::{Dense, Init, param2};
use crate::rng::Rng;
use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig, LayerNorm, LayerNormConfig};
use burn::tensor::activation::{relu, softmax};
use crate::gelu::gelu;
use burn::tensor::module::embedding;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// Which SASRec (see the module's doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SasrecVariant {
    #[default]
    RecBole,
    Pmixer,
}

/// SASRec's sizes, RecBole's defaults (`n_layers 2, n_heads 2, inner_size 256, hidden_dropout_prob
/// 0.5, attn_dropout_prob 0.5, MAX_ITEM_LIST_LENGTH 50`); the width is `ModelConfig::dim`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SasrecConfig {
    pub variant: SasrecVariant,
    pub layers: usize,
    pub heads: usize,
    /// The feed-forward's inner width (RecBole's variant; pmixer's is `dim`).
    pub inner: usize,
    pub dropout_hidden: f64,
    pub dropout_attn: f64,
    /// Rows of the position table: the longest session it reads (RecBole's max length).
    pub positions: usize,
}

impl Default for SasrecConfig {
    fn default() -> Self {
        Self { variant: SasrecVariant::RecBole, layers: 2, heads: 2, inner: 256, dropout_hidden: 0.5, dropout_attn: 0.5, positions: 50 }
    }
}

/// Multi-head attention with biased query, key, value and output projections.
#[derive(Module, Debug)]
pub struct Attention {
    pub q: Dense,
    pub k: Dense,
    pub v: Dense,
    pub out: Dense,
    pub heads: usize,
    pub dropout: Dropout,
}

impl Attention {
    fn new(rng: &mut Rng, dim: usize, heads: usize, init: Init, dropout: f64, device: &Device) -> Self {
        let dense = |rng: &mut Rng| Dense::new(rng, dim, dim, true, init, device);
        Self { q: dense(rng), k: dense(rng), v: dense(rng), out: dense(rng), heads, dropout: DropoutConfig::new(dropout).init() }
    }

    /// `query, keys: [B, L, d]`, `mask: [B or 1, 1, L, L]` added to the scores → `[B, L, d]`.
    fn forward(&self, query: Tensor<3>, keys: Tensor<3>, mask: Tensor<4>) -> Tensor<3> {
        let [b, l, d] = query.dims();
        let h = self.heads;
        let split = |x: Tensor<3>| x.reshape([b, l, h, d / h]).swap_dims(1, 2); // [B, H, L, d/h]
        let (q, k, v) = (split(self.q.forward3(query)), split(self.k.forward3(keys.clone())), split(self.v.forward3(keys)));
        let scores = q.matmul(k.swap_dims(2, 3)) / ((d / h) as f64).sqrt() + mask;
        let probs = crate::dropout::forward(&self.dropout, softmax(scores, 3));
        let context = probs.matmul(v).swap_dims(1, 2).reshape([b, l, d]);
        self.out.forward3(context)
    }
}

/// One block: attention, then the feed-forward, each with its LayerNorm.
#[derive(Module, Debug)]
pub struct Block {
    pub attention: Attention,
    pub attention_norm: LayerNorm,
    pub ff_in: Dense,
    pub ff_out: Dense,
    pub ff_norm: LayerNorm,
    pub dropout: Dropout,
}

#[derive(Module, Debug)]
pub struct Sasrec {
    pub positions: Param<Tensor<2>>,
    /// RecBole: the embedding LayerNorm; pmixer: the final one.
    pub norm: LayerNorm,
    pub blocks: Vec<Block>,
    pub dropout: Dropout,
    pub pmixer: bool,
}

impl Sasrec {
    pub fn new(rng: &mut Rng, dim: usize, config: &SasrecConfig, device: &Device) -> Self {
        let pmixer = config.variant == SasrecVariant::Pmixer;
        // RecBole: normal_(0, initializer_range = 0.02), biases 0 (`Dense` draws its biases from
        // the same law; they start as small as the weights). pmixer: PyTorch's defaults (Xavier
        // for the attention's in-projection; the same is used for every layer here).
        let init = if pmixer { Init::Xavier } else { Init::Normal(0.02) };
        let (eps, inner) = if pmixer { (1e-8, dim) } else { (1e-12, config.inner) };
        let blocks = (0..config.layers)
            .map(|_| Block {
                attention: Attention::new(rng, dim, config.heads.max(1), init, config.dropout_attn, device),
                attention_norm: norm(dim, eps, device),
                ff_in: Dense::new(rng, dim, inner, true, init, device),
                ff_out: Dense::new(rng, inner, dim, true, init, device),
                ff_norm: norm(dim, eps, device),
                dropout: DropoutConfig::new(config.dropout_hidden).init(),
            })
            .collect();
        Self {
            positions: param2(rng, [config.positions.max(1), dim], Init::Normal(0.02), device),
            norm: norm(dim, eps, device),
            blocks,
            dropout: DropoutConfig::new(config.dropout_hidden).init(),
            pmixer,
        }
    }

    /// `table: [n_rows, d]`, `ids, mask: [B, L]` (left-padded) → `e_seq: [B, d]`, the last
    /// position's output.
    pub fn forward(&self, table: Tensor<2>, ids: Tensor<2, Int>, mask: Tensor<2>) -> Tensor<2> {
        let out = self.forward_all(table, ids, mask);
        let [b, l, d] = out.dims();
        out.narrow(1, l - 1, 1).reshape([b, d])
    }

    /// Every position's output `[B, L', d]` (`L' = min(L, positions)`, the newest columns): the
    /// state after each prefix, which pmixer's training scores at every position (UFNRec).
    pub fn forward_all(&self, table: Tensor<2>, ids: Tensor<2, Int>, mask: Tensor<2>) -> Tensor<3> {
        let [_, l] = mask.dims();
        let p = self.positions.dims()[0];
        let (ids, mask) = if l > p { (ids.narrow(1, l - p, p), mask.narrow(1, l - p, p)) } else { (ids, mask) };
        let [b, l] = mask.dims();
        let d = table.dims()[1];
        let device = mask.device();
        let keep = mask.clone().unsqueeze_dim::<3>(2); // [B, L, 1]
        let items = embedding(table, ids);
        // The causal mask: 0 at and below the diagonal, −10 000 above.
        let causal: Vec<f32> = (0..l * l).map(|i| if i % l > i / l { -10_000.0 } else { 0.0 }).collect();
        let causal: Tensor<4> = Tensor::from_data(TensorData::new(causal, [1, 1, l, l]), &device);
        let out = if self.pmixer {
            // Positions of the padded window, as pmixer's code numbers them.
            let pos = self.positions.val().narrow(0, 0, l).unsqueeze_dim::<3>(0);
            let mut x = crate::dropout::forward(&self.dropout, items * (d as f64).sqrt() + pos) * keep.clone();
            for block in &self.blocks {
                let q = block.attention_norm.forward(x.clone());
                x = q.clone() + block.attention.forward(q, x, causal.clone());
                let normed = block.ff_norm.forward(x);
                let ff = crate::dropout::forward(&block.dropout, block.ff_out.forward3(crate::dropout::forward(&block.dropout, relu(block.ff_in.forward3(normed.clone())))));
                x = (normed + ff) * keep.clone();
            }
            self.norm.forward(x)
        } else {
            // Position j of the session's items counts from its first item: for a left-padded
            // row of length n, column t holds position t − (L − n) (padding clamps to 0; its
            // rows are masked as keys and never read as queries).
            let lengths = mask.clone().sum_dim(1); // [B, 1]
            let columns: Tensor<2> = Tensor::from_data(TensorData::new((0..l).map(|t| t as f32).collect::<Vec<_>>(), [1, l]), &device);
            let pos_ids = (columns + lengths - l as f64).clamp_min(0.0).int();
            let pos = embedding(self.positions.val(), pos_ids);
            let mut x = crate::dropout::forward(&self.dropout, self.norm.forward(items + pos));
            // Padded keys are masked too: −10 000 where the key is padding.
            let pad_keys = ((mask - 1.0) * 10_000.0).reshape([b, 1, 1, l]);
            let attn_mask = causal + pad_keys;
            for block in &self.blocks {
                let a = crate::dropout::forward(&block.dropout, block.attention.forward(x.clone(), x.clone(), attn_mask.clone()));
                x = block.attention_norm.forward(x + a);
                let ff = crate::dropout::forward(&block.dropout, block.ff_out.forward3(gelu(block.ff_in.forward3(x.clone()))));
                x = block.ff_norm.forward(x + ff);
            }
            x
        };
        out
    }
}

/// burn's LayerNorm over the last dimension (scale 1, shift 0 to start), with `eps`.
fn norm(dim: usize, eps: f64, device: &Device) -> LayerNorm {
    LayerNormConfig::new(dim).with_epsilon(eps).init(device)
}
