//! Full-ranking metrics: HR, MRR and NDCG at K ∈ {5, 10, 20, 50, 100}.
//!
//! Every tie resolves against the model. A target's rank is the number of *other* catalog items
//! scoring at least as high (history items are not masked, as in RecBole's full-sort evaluation;
//! padding scores −1e9 and so never competes with a real score): a model whose scores are all
//! equal ranks every target last, not first, as GRU4Rec's official evaluation counts ties. An FP
//! ranks *above* the items it ties with (it is inside a top K when fewer than K items score
//! strictly higher), so FP@K counts it as back in the list. A NaN or infinite score ranks nothing:
//! evaluation stops with an error instead (see [`checks`]).

use burn::tensor::{Int, Tensor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const KS: [usize; 5] = [5, 10, 20, 50, 100];

/// Cut-offs of "FP@K": the share of the session's skipped items (FPs so far) that the model
/// puts back in its top K. Not in the paper; it measures the promise the page makes ("what you
/// skip stops coming back") directly, where HR/MRR only see the positives. Lower is better.
pub const FP_KS: [usize; 2] = [10, 20];

/// 0-based ranks of the targets on the device, ties against the target: `[B]`.
pub fn ranks(scores: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    let [b, n] = scores.dims();
    let target_scores: Tensor<2> = scores.clone().gather(1, targets.reshape([b, 1]));
    // The target itself is among the items scoring ≥ it.
    scores.greater_equal(target_scores.expand([b, n])).float().sum_dim(1).reshape([b]) - 1.0
}

/// Per row, what keeps an evaluation honest: `[B, 2]` of (how many scores are NaN or infinite,
/// how many other items tie exactly with the target's score).
pub fn checks(scores: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<2> {
    let [b, n] = scores.dims();
    // NaN fails every comparison, ±inf fails this one: both count as not finite.
    let finite = scores.clone().abs().lower_equal_elem(f32::MAX).float().sum_dim(1);
    let non_finite = finite.neg().add_scalar(n as f32);
    let target_scores: Tensor<2> = scores.clone().gather(1, targets.reshape([b, 1]));
    let ties = scores.equal(target_scores.expand([b, n])).float().sum_dim(1) - 1.0;
    Tensor::cat(vec![non_finite, ties], 1)
}

/// Per row, how many of its FP items score inside the top K, for each K of [`FP_KS`]: `[B, 2]`.
/// An item is inside when fewer than K items score strictly higher (ties in its favour: the
/// conservative side for an FP, which should be out); masked FP slots never count.
pub fn fp_in_top(scores: Tensor<2>, fp_items: Tensor<2, Int>, fp_mask: Tensor<2>) -> Tensor<2> {
    let [b, n] = scores.dims();
    let f = fp_items.dims()[1];
    let fp_scores: Tensor<2> = scores.clone().gather(1, fp_items);
    let sorted = scores.sort_descending(1);
    let columns: Vec<Tensor<2>> = FP_KS
        .iter()
        .map(|k| {
            let kth: Tensor<2> = sorted.clone().narrow(1, (*k).min(n) - 1, 1);
            let inside = fp_scores.clone().greater_equal(kth.expand([b, f])).float() * fp_mask.clone();
            inside.sum_dim(1)
        })
        .collect();
    Tensor::cat(columns, 1)
}

/// Running sums of the metrics over many ranks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Accumulator {
    pub count: usize,
    hr: [f64; KS.len()],
    mrr: [f64; KS.len()],
    ndcg: [f64; KS.len()],
    /// (step, FP) pairs seen, and how many of them were inside each top K of [`FP_KS`].
    fp_count: usize,
    fp_hits: [f64; FP_KS.len()],
    /// Rows whose target shared its exact score with another item (ranked below all of them).
    #[serde(default)]
    pub tied: usize,
}

impl Accumulator {
    pub fn add(&mut self, rank: usize) {
        self.count += 1;
        for (i, k) in KS.iter().enumerate() {
            if rank < *k {
                self.hr[i] += 1.0;
                self.mrr[i] += 1.0 / (rank as f64 + 1.0);
                self.ndcg[i] += 1.0 / (rank as f64 + 2.0).log2();
            }
        }
    }

    /// One step's FPs: how many there were and how many were inside each top K of [`FP_KS`].
    pub fn add_fps(&mut self, fps: usize, inside: [f64; FP_KS.len()]) {
        self.fp_count += fps;
        for (hits, x) in self.fp_hits.iter_mut().zip(inside) {
            *hits += x;
        }
    }

    pub fn merge(&mut self, other: &Accumulator) {
        self.count += other.count;
        for i in 0..KS.len() {
            self.hr[i] += other.hr[i];
            self.mrr[i] += other.mrr[i];
            self.ndcg[i] += other.ndcg[i];
        }
        self.add_fps(other.fp_count, other.fp_hits);
        self.tied += other.tied;
    }

    /// Means, keyed "HR@10", "MRR@10", "NDCG@10", … (0 when nothing was ranked), and "FP@10",
    /// "FP@20" when any step had FPs (absent otherwise: data without FPs has nothing to report).
    pub fn report(&self) -> Report {
        let n = self.count.max(1) as f64;
        let mut values = BTreeMap::new();
        for (i, k) in KS.iter().enumerate() {
            values.insert(format!("HR@{k}"), self.hr[i] / n);
            values.insert(format!("MRR@{k}"), self.mrr[i] / n);
            values.insert(format!("NDCG@{k}"), self.ndcg[i] / n);
        }
        if self.fp_count > 0 {
            for (i, k) in FP_KS.iter().enumerate() {
                values.insert(format!("FP@{k}"), self.fp_hits[i] / self.fp_count as f64);
            }
        }
        Report { count: self.count, values, tied: self.tied }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub count: usize,
    pub values: BTreeMap<String, f64>,
    /// Evaluation rows whose target tied with another item's score (counted against it).
    #[serde(default)]
    pub tied: usize,
}

impl Report {
    pub fn get(&self, key: &str) -> f64 {
        self.values.get(key).copied().unwrap_or(f64::NAN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    #[test]
    fn hand_computed_ranks_give_hand_computed_metrics() {
        let mut acc = Accumulator::default();
        for rank in [0, 4, 9, 60] {
            acc.add(rank);
        }
        let r = acc.report();
        assert_eq!(r.count, 4);
        assert!((r.get("HR@5") - 0.5).abs() < 1e-12);
        assert!((r.get("HR@10") - 0.75).abs() < 1e-12);
        assert!((r.get("HR@100") - 1.0).abs() < 1e-12);
        let mrr10 = (1.0 + 1.0 / 5.0 + 1.0 / 10.0) / 4.0;
        assert!((r.get("MRR@10") - mrr10).abs() < 1e-12);
        let ndcg5 = (1.0 + 1.0 / 6f64.log2()) / 4.0;
        assert!((r.get("NDCG@5") - ndcg5).abs() < 1e-12);
        let ndcg100 = (1.0 + 1.0 / 6f64.log2() + 1.0 / 11f64.log2() + 1.0 / 62f64.log2()) / 4.0;
        assert!((r.get("NDCG@100") - ndcg100).abs() < 1e-12);
    }

    #[test]
    fn ranks_count_higher_scores_and_every_tie_against_the_target() {
        let device = Device::flex();
        let scores: Tensor<2> =
            Tensor::from_data(TensorData::new(vec![0.1f32, 0.9, 0.5, 0.3, 0.2, 0.1, 0.7, 0.0], [2, 4]), &device);
        let targets: Tensor<1, Int> = Tensor::from_data(TensorData::new(vec![2i64, 1], [2]), &device);
        let r: Vec<f32> = ranks(scores, targets).into_data().try_to_vec().unwrap_or_default();
        assert_eq!(r, vec![1.0, 2.0]);
        // Row 0: the target (0.5) ties with two items and is below one: rank 3, not 1.
        // Row 1: all scores equal: the target is last (rank 4 of 5), never first.
        let scores: Tensor<2> =
            Tensor::from_data(TensorData::new(vec![0.5f32, 0.9, 0.5, 0.5, 0.1, 0.3, 0.3, 0.3, 0.3, 0.3], [2, 5]), &device);
        let targets: Tensor<1, Int> = Tensor::from_data(TensorData::new(vec![2i64, 0], [2]), &device);
        let r: Vec<f32> = ranks(scores.clone(), targets.clone()).into_data().try_to_vec().unwrap_or_default();
        assert_eq!(r, vec![3.0, 4.0]);
        let c: Vec<f32> = checks(scores, targets).into_data().try_to_vec().unwrap_or_default();
        assert_eq!(c, vec![0.0, 2.0, 0.0, 4.0], "(non-finite, ties) per row");
    }

    #[test]
    fn nan_and_infinite_scores_are_counted() {
        let device = Device::flex();
        let scores: Tensor<2> = Tensor::from_data(
            TensorData::new(vec![f32::NAN, 0.5, 0.2, f32::INFINITY, 0.1, f32::NEG_INFINITY, -1e9, 0.3, 0.4], [3, 3]),
            &device,
        );
        let targets: Tensor<1, Int> = Tensor::from_data(TensorData::new(vec![1i64, 1, 1], [3]), &device);
        let c: Vec<f32> = checks(scores, targets).into_data().try_to_vec().unwrap_or_default();
        // Padding's −1e9 is a finite score.
        assert_eq!(c, vec![1.0, 0.0, 2.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn fp_in_top_counts_skipped_items_inside_each_cut_off() {
        let device = Device::flex();
        // 30 items scored 29, 28, …, 0 (item i scores 29 − i): item i has rank i.
        let scores: Vec<f32> = (0..30).map(|i| 29.0 - i as f32).collect();
        let scores: Tensor<2> = Tensor::from_data(TensorData::new([scores.clone(), scores].concat(), [2, 30]), &device);
        // Row 0: FPs at ranks 3, 9, 10, 25 → 2 inside the top 10, 3 inside the top 20.
        // Row 1: one FP at rank 15 and a masked slot holding a top item, which must not count.
        let items: Tensor<2, Int> = Tensor::from_data(TensorData::new(vec![3i64, 9, 10, 25, 15, 0, 0, 0], [2, 4]), &device);
        let mask: Tensor<2> = Tensor::from_data(TensorData::new(vec![1f32, 1., 1., 1., 1., 0., 0., 0.], [2, 4]), &device);
        let inside: Vec<f32> = fp_in_top(scores, items, mask).into_data().try_to_vec().unwrap_or_default();
        assert_eq!(inside, vec![2.0, 3.0, 0.0, 1.0]);
        let mut acc = Accumulator::default();
        acc.add(0);
        acc.add_fps(4, [2.0, 3.0]);
        acc.add_fps(1, [0.0, 1.0]);
        let r = acc.report();
        assert!((r.get("FP@10") - 2.0 / 5.0).abs() < 1e-12);
        assert!((r.get("FP@20") - 4.0 / 5.0).abs() < 1e-12);
        assert!(!Accumulator::default().report().values.contains_key("FP@10"));
    }

    #[test]
    fn empty_accumulator_reports_zero_not_nan() {
        let r = Accumulator::default().report();
        assert_eq!(r.get("HR@10"), 0.0);
    }
}
