//! Full-ranking metrics: HR, MRR and NDCG at K ∈ {5, 10, 20, 50, 100}.
//!
//! A target's rank is the number of catalog items scored strictly higher than it (padding never
//! competes, history items are not masked, as in RecBole's full-sort evaluation). Ties therefore
//! count in the target's favour; with float scores they are vanishingly rare.

use burn::tensor::{Int, Tensor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const KS: [usize; 5] = [5, 10, 20, 50, 100];

/// 0-based ranks of the targets on the device: `[B]`.
pub fn ranks(scores: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    let [b, n] = scores.dims();
    let target_scores: Tensor<2> = scores.clone().gather(1, targets.reshape([b, 1]));
    scores.greater(target_scores.expand([b, n])).float().sum_dim(1).reshape([b])
}

/// Running sums of the metrics over many ranks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Accumulator {
    pub count: usize,
    hr: [f64; KS.len()],
    mrr: [f64; KS.len()],
    ndcg: [f64; KS.len()],
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

    pub fn merge(&mut self, other: &Accumulator) {
        self.count += other.count;
        for i in 0..KS.len() {
            self.hr[i] += other.hr[i];
            self.mrr[i] += other.mrr[i];
            self.ndcg[i] += other.ndcg[i];
        }
    }

    /// Means, keyed "HR@10", "MRR@10", "NDCG@10", … (0 when nothing was ranked).
    pub fn report(&self) -> Report {
        let n = self.count.max(1) as f64;
        let mut values = BTreeMap::new();
        for (i, k) in KS.iter().enumerate() {
            values.insert(format!("HR@{k}"), self.hr[i] / n);
            values.insert(format!("MRR@{k}"), self.mrr[i] / n);
            values.insert(format!("NDCG@{k}"), self.ndcg[i] / n);
        }
        Report { count: self.count, values }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub count: usize,
    pub values: BTreeMap<String, f64>,
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
    fn ranks_count_strictly_higher_scores() {
        let device = Device::flex();
        let scores: Tensor<2> =
            Tensor::from_data(TensorData::new(vec![0.1f32, 0.9, 0.5, 0.3, 0.2, 0.1, 0.7, 0.0], [2, 4]), &device);
        let targets: Tensor<1, Int> = Tensor::from_data(TensorData::new(vec![2i64, 1], [2]), &device);
        let r: Vec<f32> = ranks(scores, targets).into_data().try_to_vec().unwrap_or_default();
        assert_eq!(r, vec![1.0, 2.0]);
    }

    #[test]
    fn empty_accumulator_reports_zero_not_nan() {
        let r = Accumulator::default().report();
        assert_eq!(r.get("HR@10"), 0.0);
    }
}
