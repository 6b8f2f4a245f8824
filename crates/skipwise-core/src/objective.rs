//! The four training objectives of the paper (eq. 1, 2, 8–11).
//!
//! * Vanilla: next-item cross-entropy over every click, FPs kept as positives.
//! * FP-Simple: FPs removed from inputs and targets.
//! * FP-Metric: FP-Simple + `λ · max(0, −s(e_seq, e_pos) + s(e_seq, mean_i e_fp_i) + m)`.
//! * FP-AdaMetric: as FP-Metric with `mean_i w_i e_fp_i`, `w_i = f_FPA(e_seq, e_pos, e_fp_i)`.
//!
//! Choices where the paper is silent (NOTES §1.5), each a field of [`ObjectiveConfig`]:
//! * `s` is the dot product, the score the model ranks with (eq. 11's `D_sim`).
//! * The expectation sits inside `D_sim` (eq. 9), so there is one hinge per prediction step on the
//!   averaged FP embedding, not one hinge per FP.
//! * `e_pos` and `e_fp` are the raw item embeddings, the vectors that are scored (§1.5.3).
//! * The metric term is summed over the same prediction steps as the NLL and both are divided by
//!   the batch size (eq. 8 sums both over k); steps with no FP contribute 0, never NaN.
//! * `margin = 1.0` on the dot-product scale and `lambda = 0.5`: the paper gives neither (§1.5.5).

use crate::batch::{Batch, FpScope, TrainView};
use crate::contrastive::ContrastConfig;
use crate::model::Recommender;
use burn::tensor::Tensor;
use burn::tensor::activation::{log_softmax, relu};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    Vanilla,
    FpSimple,
    FpMetric,
    FpAdaMetric,
}

impl Method {
    pub const ALL: [Method; 4] = [Method::Vanilla, Method::FpSimple, Method::FpMetric, Method::FpAdaMetric];

    pub fn name(self) -> &'static str {
        match self {
            Method::Vanilla => "Vanilla",
            Method::FpSimple => "FP-Simple",
            Method::FpMetric => "FP-Metric",
            Method::FpAdaMetric => "FP-AdaMetric",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "vanilla" => Some(Method::Vanilla),
            "fpsimple" | "simple" => Some(Method::FpSimple),
            "fpmetric" | "metric" => Some(Method::FpMetric),
            "fpadametric" | "adametric" => Some(Method::FpAdaMetric),
            _ => None,
        }
    }

    pub fn train_view(self) -> TrainView {
        match self {
            Method::Vanilla => TrainView::AllClicks,
            _ => TrainView::PositivesOnly,
        }
    }

    pub fn uses_metric(self) -> bool {
        matches!(self, Method::FpMetric | Method::FpAdaMetric)
    }

    /// Whether FPs are part of the input at inference (only Vanilla ever sees them).
    pub fn keeps_fps_in_input(self) -> bool {
        self == Method::Vanilla
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveConfig {
    pub method: Method,
    /// λ, the weight of the metric term.
    pub lambda: f32,
    /// m, the hinge margin (dot-product scale).
    pub margin: f32,
    /// At most this many FPs per step (browser cost; NOTES §1.5.4).
    pub fp_cap: usize,
    /// Which FPs a step sees. The session's by default here, the page's case (a visit is one
    /// session, so the two scopes agree there) and what the shipped warm-start weights were made
    /// with; the research commands over logs (`train`, `compare`, `sim-table`, the Lab) default to
    /// the user's, Definition 1, through [`crate::experiment::Knobs`].
    pub fp_scope: FpScope,
    /// DuoRec's or AdaptiveRec's contrastive term on top (none by default).
    #[serde(default)]
    pub contrast: ContrastConfig,
}

impl Default for ObjectiveConfig {
    fn default() -> Self {
        Self { method: Method::FpAdaMetric, lambda: 0.5, margin: 1.0, fp_cap: 50, fp_scope: FpScope::Session, contrast: ContrastConfig::default() }
    }
}

/// The loss and its parts, still on the device (read them with a sync or async readback).
pub struct Loss {
    pub total: Tensor<1>,
    pub nll: Tensor<1>,
    pub metric: Tensor<1>,
    /// FP-AdaMetric's weights `[B, F]` (0 at padding), for logging their distribution.
    pub fp_weights: Option<Tensor<2>>,
}

/// Mean next-item cross-entropy over the full catalog.
///
/// The padding column is cut off before the softmax rather than masked with a large negative
/// score: its probability would underflow to 0, and `log 0` poisons the backward pass on
/// backends that differentiate `log(softmax)` literally (seen as a NaN on WebGPU).
pub fn nll(scores: Tensor<2>, batch: &Batch) -> Tensor<1> {
    let [b, n] = scores.dims();
    let logp = log_softmax(scores.narrow(1, 1, n - 1), 1);
    let picked: Tensor<2> = logp.gather(1, (batch.targets.clone() - 1).reshape([b, 1]));
    picked.mean().neg()
}

/// Hinge `max(0, −s(seq, pos) + s(seq, fp) + m)` per row, zero where `has_fp` is 0: `[B]`.
pub fn hinge(e_seq: Tensor<2>, e_pos: Tensor<2>, e_fp: Tensor<2>, has_fp: Tensor<2>, margin: f32) -> Tensor<2> {
    let s_pos = (e_seq.clone() * e_pos).sum_dim(1);
    let s_fp = (e_seq * e_fp).sum_dim(1);
    relu(s_fp - s_pos + margin) * has_fp
}

pub fn loss(model: &Recommender, batch: &Batch, config: &ObjectiveConfig) -> Loss {
    loss_at(model, batch, model.encode(batch), config)
}

/// [`loss`] given the session vectors `e_seq` of `batch` (a caller that needs them too, e.g.
/// AdaptiveRec's SimThres, encodes once).
pub fn loss_at(model: &Recommender, batch: &Batch, e_seq: Tensor<2>, config: &ObjectiveConfig) -> Loss {
    let nll = nll(model.scores(e_seq.clone()), batch);
    let device = e_seq.device();
    if !config.method.uses_metric() {
        let zero = Tensor::<1>::zeros([1], &device);
        return Loss { total: nll.clone(), nll, metric: zero, fp_weights: None };
    }
    let [b, d] = e_seq.dims();
    let f = batch.fp_items.dims()[1];
    let items = model.items.val();
    let e_pos = items.clone().select(0, batch.targets.clone());
    let e_fps: Tensor<3> = items.select(0, batch.fp_items.clone().reshape([b * f])).reshape([b, f, d]);
    let count = batch.fp_mask.clone().sum_dim(1); // [B, 1]
    let has_fp = count.clone().clamp_max(1.0);
    let weights = match config.method {
        Method::FpAdaMetric => model.fpa.weights(e_seq.clone(), e_pos.clone(), e_fps.clone(), batch.fp_mask.clone()),
        _ => batch.fp_mask.clone(),
    };
    // Eq. 9's expectation over the FP set: the weighted sum over |F| (FP-Metric's plain mean, and
    // FP-AdaMetric's sigmoid degrees each in (0, 1)). A softmax output is already a distribution
    // over the set, so it is divided by its own sum instead — 1, or with the page's floor
    // `F·floor + 1 − floor` — not by |F| a second time, which shrank the ablation's FP embedding
    // by 1/|F| and with it the hinge's reach (issue #15).
    let norm = match config.method == Method::FpAdaMetric && model.fpa.softmax {
        true => weights.clone().sum_dim(1).clamp_min(1e-12),
        false => count.clamp_min(1.0),
    };
    let e_fp: Tensor<2> = (e_fps * weights.clone().unsqueeze_dim::<3>(2)).sum_dim(1).reshape([b, d]) / norm;
    let metric = hinge(e_seq, e_pos, e_fp, has_fp, config.margin).sum() / (b as f32);
    let total = nll.clone() + metric.clone() * config.lambda;
    let fp_weights = (config.method == Method::FpAdaMetric).then_some(weights);
    Loss { total, nll, metric, fp_weights }
}

/// The page's online FP term at the session state the visitor sees (see
/// [`crate::online::NowTerm`]): for each FP `f` of `batch`'s one row,
/// `w_f · max(0, s(q, e_f) − s(q, e_ref) + m)`, with `e_ref` the row's target (the last item the
/// list shows) and `w_f` f_FPA's weight for `FpAdaMetric` (its inputs `[q; e_ref; e_f]`), else 1.
/// Returns the hinges and the weights, both `[1, F]` and zero at padding.
///
/// One hinge per FP, not one on their mean as in eq. 9: the page must move *each* skipped item,
/// and a hinge on the mean is met as soon as one FP sits far enough below the others. `q` and
/// `e_ref` are held fixed: the term moves the skipped items (and f_FPA), not the session state
/// the visitor's plays define nor the items the list offers — moving the encoder for one
/// visitor's skip shifted every score of the list at once.
pub fn now_hinges(model: &Recommender, q: Tensor<2>, batch: &Batch, method: Method, margin: f32) -> (Tensor<2>, Tensor<2>) {
    let q = q.detach();
    let [b, d] = q.dims();
    let f = batch.fp_items.dims()[1];
    let items = model.items.val();
    let e_ref = items.clone().select(0, batch.targets.clone()).detach();
    let e_fps: Tensor<3> = items.select(0, batch.fp_items.clone().reshape([b * f])).reshape([b, f, d]);
    let weights = match method {
        Method::FpAdaMetric => model.fpa.weights(q.clone(), e_ref.clone(), e_fps.clone(), batch.fp_mask.clone()),
        _ => batch.fp_mask.clone(),
    };
    let s_ref = (q.clone() * e_ref).sum_dim(1); // [B, 1]
    let s_fp: Tensor<2> = (e_fps * q.unsqueeze_dim::<3>(1)).sum_dim(2).reshape([b, f]);
    let hinges = relu(s_fp - s_ref + margin) * batch.fp_mask.clone();
    (hinges, weights)
}
