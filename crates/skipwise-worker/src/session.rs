//! The worker's training session, independent of the browser so it can be tested natively:
//! simulated listening sessions, a small FP-AdaMetric model, and the batch schedule.

use skipwise_core::batch::Example;
use skipwise_core::burn::tensor::Device;
use skipwise_core::data::FpRule;
use skipwise_core::model::{Backbone, ModelConfig};
use skipwise_core::objective::{Method, ObjectiveConfig};
use skipwise_core::sim::{SimConfig, Simulator};
use skipwise_core::train::{TrainConfig, Trainer};

/// A model small enough to train at interactive speed even on a software WebGPU adapter: STAMP has
/// no recurrence, so a step is a few dozen kernels rather than a few per time step.
pub fn demo_config(seed: u64) -> TrainConfig {
    TrainConfig {
        model: ModelConfig { backbone: Backbone::Stamp, dim: 32, hidden: 32, dropout_emb: 0.0, ..ModelConfig::default() },
        objective: ObjectiveConfig { method: Method::FpAdaMetric, fp_cap: 8, ..ObjectiveConfig::default() },
        batch_size: 64,
        // High for Adam, on purpose: a visitor should see the loss fall within one click.
        lr: 0.03,
        // Keeps a high learning rate from overshooting on an unlucky batch.
        grad_clip: Some(1.0),
        max_len: 10,
        seed,
        fixed_shapes: true,
        ..TrainConfig::default()
    }
}

pub struct TrainingSession {
    pub trainer: Trainer,
    pub examples: Vec<Example>,
    queue: Vec<Vec<usize>>,
}

impl TrainingSession {
    pub fn new(seed: u64, device: &Device) -> skipwise_core::Result<Self> {
        let mut sim = Simulator::new(SimConfig { n_items: 200, n_listeners: 60, sessions_per_listener: 4, seed, ..SimConfig::default() });
        let data = sim.dataset(&FpRule::default());
        let trainer = Trainer::new(demo_config(seed), data.n_rows(), device)?;
        let examples = trainer.train_examples(&data.sessions);
        trainer.check_items(&examples)?;
        Ok(Self { trainer, examples, queue: Vec::new() })
    }

    /// The next mini-batch, reshuffling at the end of each epoch (`fixed_shapes` keeps every
    /// batch full, so no step compiles new WebGPU kernels).
    pub fn next_batch(&mut self) -> Vec<&Example> {
        if self.queue.is_empty() {
            self.queue = self.trainer.epoch_order(self.examples.len());
            self.queue.reverse();
        }
        let chunk = self.queue.pop().unwrap_or_default();
        chunk.iter().filter_map(|i| self.examples.get(*i)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_training_lowers_the_loss_on_the_cpu() {
        let device = Device::flex();
        let mut s = TrainingSession::new(3, &device).expect("session");
        let mut losses = Vec::new();
        for _ in 0..20 {
            let batch: Vec<Example> = s.next_batch().into_iter().cloned().collect();
            let refs: Vec<&Example> = batch.iter().collect();
            let (loss, ..) = s.trainer.step_sync(&refs).expect("finite step");
            losses.push(loss);
        }
        let first = losses[..3].iter().sum::<f32>() / 3.0;
        let last = losses[17..].iter().sum::<f32>() / 3.0;
        assert!(last < first - 0.2, "losses {losses:?}");
    }
}
