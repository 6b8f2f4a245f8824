//! Online learning for the player: every event updates the current session and triggers a bounded
//! number of gradient steps on the session's newest prediction steps mixed with replayed steps
//! from earlier sessions (so one visitor's clicks do not make the model forget the warm start).
//!
//! The learner only *plans* updates ([`OnlineLearner::record`] then
//! [`OnlineLearner::update_batches`]); running them is the trainer's job, synchronously natively
//! ([`OnlineLearner::observe_sync`]) or with async readback in the browser worker.

use crate::batch::{Example, train_examples};
use crate::data::{Click, Event, FpRule, ItemIndex, Session};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::train::{Trainer, top_k};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OnlineConfig {
    /// Gradient steps after each event.
    pub steps_per_event: usize,
    /// Replayed examples mixed into each online batch.
    pub replay: usize,
    /// At most this many replay examples are kept.
    pub replay_capacity: usize,
    pub rule: FpRule,
}

impl Default for OnlineConfig {
    fn default() -> Self {
        Self { steps_per_event: 3, replay: 48, replay_capacity: 5000, rule: FpRule::default() }
    }
}

pub struct OnlineLearner {
    pub trainer: Trainer,
    pub config: OnlineConfig,
    pub items: ItemIndex,
    /// The session being played now.
    pub session: Session,
    replay: Vec<Example>,
    rng: Rng,
}

impl OnlineLearner {
    /// `items` maps the catalog's external ids; `warm` are the examples the model was trained on.
    pub fn new(trainer: Trainer, items: ItemIndex, warm: Vec<Example>, config: OnlineConfig) -> Self {
        let mut replay = warm;
        let mut rng = Rng::new(trainer.config.seed ^ 0x0D11);
        rng.shuffle(&mut replay);
        replay.truncate(config.replay_capacity);
        Self { trainer, config, items, session: Session { id: 0, user: None, start: 0.0, clicks: Vec::new() }, replay, rng }
    }

    /// Adds an event to the current session and returns its click (with its FP label).
    pub fn record(&mut self, event: &Event) -> Result<Click> {
        for (name, v) in [("played_secs", event.played_secs), ("duration_secs", event.duration_secs), ("rating", event.rating)] {
            if v.is_some_and(|v| !v.is_finite() || v < 0.0) {
                return Err(Error::InvalidInput { field: name.into(), reason: format!("{v:?} is not a finite, non-negative number") });
            }
        }
        let item = self.items.get(event.item).ok_or(Error::UnknownItem(event.item as u32, self.items.len()))?;
        let click = Click { item, fp: self.config.rule.is_fp(event) };
        self.session.clicks.push(click);
        Ok(click)
    }

    /// Starts a new session; the finished one's steps join the replay buffer.
    pub fn end_session(&mut self) {
        let next_id = self.session.id + 1;
        let done = std::mem::replace(&mut self.session, Session { id: next_id, user: None, start: 0.0, clicks: Vec::new() });
        let o = &self.trainer.config.objective;
        let mut steps = train_examples(&[done], o.method.train_view(), o.fp_scope, o.fp_cap);
        self.replay.append(&mut steps);
        if self.replay.len() > self.config.replay_capacity {
            let excess = self.replay.len() - self.config.replay_capacity;
            self.replay.drain(..excess);
        }
    }

    /// The batches for this event's update: the session's newest steps plus replay, one batch per
    /// step. Empty when the session has no prediction step yet (e.g. only one positive so far) —
    /// but an FP-aware method still learns from a new FP as soon as there is a step to attach it to.
    pub fn update_batches(&mut self) -> Vec<Vec<Example>> {
        let o = &self.trainer.config.objective;
        let current = train_examples(std::slice::from_ref(&self.session), o.method.train_view(), o.fp_scope, o.fp_cap);
        if current.is_empty() {
            return Vec::new();
        }
        let recent: Vec<Example> = current.iter().rev().take(8).cloned().collect();
        // With fixed shapes (the browser GPU) every batch is exactly `batch_size` long, so no
        // online step compiles new kernels: replay fills whatever the session leaves.
        let replay = match self.trainer.config.fixed_shapes {
            true => self.trainer.config.batch_size.saturating_sub(recent.len()),
            false => self.config.replay,
        };
        (0..self.config.steps_per_event)
            .map(|_| {
                let mut batch = recent.clone();
                batch.extend(self.replay_sample(replay));
                batch
            })
            .collect()
    }

    /// `n` examples drawn (with replacement) from the replay buffer: the warm start's batches and
    /// the "Train" button's extra steps. Empty when the buffer is.
    pub fn replay_sample(&mut self, n: usize) -> Vec<Example> {
        if self.replay.is_empty() {
            return Vec::new();
        }
        (0..n).map(|_| self.replay[self.rng.below(self.replay.len())].clone()).collect()
    }

    /// Catalog rows by how often they are a training target, most popular first: what a
    /// recommender can offer before the session has anything to go on.
    pub fn popular(&self, k: usize, exclude: &[u32]) -> Vec<(u32, f32)> {
        let mut counts = vec![0f32; self.trainer.n_rows()];
        for e in &self.replay {
            if let Some(c) = counts.get_mut(e.target as usize) {
                *c += 1.0;
            }
        }
        top_k(&counts, k, exclude)
    }

    /// The input the model sees for the current session: every click for Vanilla, positives only
    /// for the FP-aware methods.
    pub fn prefix(&self) -> Vec<u32> {
        if self.trainer.config.objective.method.keeps_fps_in_input() {
            self.session.clicks.iter().map(|c| c.item).collect()
        } else {
            self.session.positives()
        }
    }

    /// Record + update, read synchronously (native). Returns the mean loss of the steps taken.
    pub fn observe_sync(&mut self, event: &Event) -> Result<Option<f32>> {
        self.record(event)?;
        let batches = self.update_batches();
        let mut losses = Vec::new();
        for batch in &batches {
            let refs: Vec<&Example> = batch.iter().collect();
            losses.push(self.trainer.step_sync(&refs)?.0);
        }
        Ok((!losses.is_empty()).then(|| losses.iter().sum::<f32>() / losses.len() as f32))
    }

    /// Top `k` items for the current session, excluding `exclude` (dense ids), synchronously.
    pub fn recommend_sync(&self, k: usize, exclude: &[u32]) -> Result<Vec<(u32, f32)>> {
        let prefix = self.prefix();
        if prefix.is_empty() {
            return Err(Error::Empty("the session has no positive click yet".into()));
        }
        let data = self
            .trainer
            .score_tensor(&prefix)
            .try_into_data()
            .map_err(|e| Error::Backend(format!("{e:?}")))?;
        let scores: Vec<f32> = data.try_to_vec().map_err(|e| Error::Backend(format!("{e:?}")))?;
        Ok(top_k(&scores, k, exclude))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Backbone, ModelConfig};
    use crate::objective::{Method, ObjectiveConfig};
    use crate::sim::{SimConfig, Simulator};
    use crate::train::TrainConfig;
    use burn::tensor::Device;

    fn event(item: u64, played: f32) -> Event {
        Event { session: None, user: None, item, timestamp: 0.0, played_secs: Some(played), duration_secs: Some(200.0), rating: None }
    }

    #[test]
    fn a_skipped_item_falls_in_the_fp_aware_ranking() {
        let mut sim = Simulator::new(SimConfig { n_items: 60, n_listeners: 30, sessions_per_listener: 3, ..SimConfig::default() });
        let data = sim.dataset(&FpRule::default());
        let config = TrainConfig {
            model: ModelConfig { backbone: Backbone::Stamp, dim: 16, ..ModelConfig::default() },
            objective: ObjectiveConfig { method: Method::FpAdaMetric, lambda: 1.0, ..ObjectiveConfig::default() },
            lr: 0.01,
            ..TrainConfig::default()
        };
        let trainer = Trainer::new(config, data.n_rows(), &Device::flex()).expect("trainer");
        let warm = trainer.train_examples(&data.sessions);
        let mut learner = OnlineLearner::new(trainer, data.items.clone(), warm, OnlineConfig::default());
        learner.observe_sync(&event(1, 150.0)).expect("event");
        learner.observe_sync(&event(2, 150.0)).expect("event");
        let before = learner.recommend_sync(60, &[1, 2]).expect("recs");
        let target = before[0].0;
        let rank_of = |recs: &[(u32, f32)]| recs.iter().position(|r| r.0 == target).unwrap_or(usize::MAX);
        // Skip the top recommendation (an FP) several times, with positives in between.
        for round in 0..4 {
            learner.observe_sync(&event(target as u64, 2.0)).expect("skip");
            learner.observe_sync(&event(1 + round % 2, 150.0)).expect("play");
        }
        let after = learner.recommend_sync(60, &[1, 2]).expect("recs");
        assert!(rank_of(&after) > rank_of(&before), "rank {} → {}", rank_of(&before), rank_of(&after));
        assert!(learner.session.clicks.iter().filter(|c| c.fp).count() == 4);
    }

    #[test]
    fn bad_events_are_typed_errors_and_change_nothing() {
        let trainer = Trainer::new(TrainConfig::default(), 4, &Device::flex()).expect("trainer");
        let mut items = ItemIndex::default();
        for i in 1..=3 {
            items.get_or_insert(i);
        }
        let mut learner = OnlineLearner::new(trainer, items, vec![], OnlineConfig::default());
        assert!(matches!(learner.record(&event(99, 10.0)), Err(Error::UnknownItem(..))));
        assert!(matches!(learner.record(&event(1, f32::NAN)), Err(Error::InvalidInput { .. })));
        assert!(learner.session.clicks.is_empty());
        assert!(learner.recommend_sync(3, &[]).is_err());
    }
}
