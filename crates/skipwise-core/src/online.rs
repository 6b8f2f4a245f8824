//! Online learning for the player: every event updates the current session and triggers a bounded
//! number of gradient steps on the session's newest prediction steps mixed with replayed steps
//! from earlier sessions (so one visitor's clicks do not make the model forget the warm start).
//!
//! The learner only *plans* updates ([`OnlineLearner::record`] then
//! [`OnlineLearner::update_batches`]); running them is the trainer's job, synchronously natively
//! ([`OnlineLearner::observe_sync`]) or with async readback in the browser worker.
//!
//! ## The page's reading of the FP term ([`NowTerm`])
//! The paper's term (eq. 8–9, [`crate::objective::loss`]) asks, at each *past* prediction step,
//! that the mean FP score `m` below the positive that followed. Offline that is the experiment;
//! in a player it is the wrong lesson: the positive is never on screen (played items leave the
//! lists), the step is an earlier session state than the one the list is ranked from, and 56 of a
//! batch's 64 rows are replay. So an FP can satisfy it and still top the list it was skipped from.
//! With [`OnlineConfig::now`] set, every online step of an FP-aware method with a metric term
//! adds, at the session state the list is ranked from (`q`: the encoded positives so far, or
//! before any positive the cold state, see [`OnlineLearner::cold_state`]),
//! `λ_now · mean_f w_f · max(0, s(q, e_f) − s(q, e_ref) + m)` over the session's newest distinct
//! FPs (the "Degree of dislike" bars), where `e_ref` is the last item the list shows that is not
//! one of them: a skipped item is asked to fall below everything the visitor is offered. It is
//! its own mean, not diluted by the replay rows, and the newest skip enters it at full weight at
//! the next step. With FP-AdaMetric, `w_f` is f_FPA's floored weight (see
//! [`crate::model::FpaConfig::floor`]). The paper's term is still there, unchanged.

use crate::batch::{Batch, Example, fp_set, newest_distinct, train_examples};
use crate::data::{Click, Event, FpRule, ItemIndex, PAD, Session};
use crate::error::{Error, Result};
use crate::model::Recommender;
use crate::objective::{Method, now_hinges};
use crate::rng::Rng;
use crate::train::{Trainer, top_k};
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};
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
    /// The page's FP term at the current session state; `None` = the paper's objective only.
    #[serde(default)]
    pub now: Option<NowTerm>,
}

impl Default for OnlineConfig {
    fn default() -> Self {
        Self { steps_per_event: 3, replay: 48, replay_capacity: 5000, rule: FpRule::default(), now: None }
    }
}

/// The weight and margin of the online FP term (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct NowTerm {
    pub lambda: f32,
    /// On the dot-product scale, as the paper's `m`.
    pub margin: f32,
    /// After an event's ordinary steps, at most this many steps of the term alone, until every
    /// hinge is met. Adam moves a weight by about the learning rate per step whatever the
    /// loss's scale, so it is the number of steps, not λ, that sets how far a skip can fall.
    pub max_steps: usize,
}

/// The online FP term's inputs for one step, built on a device before the forward pass.
pub struct NowInput {
    /// One row: the current prefix, the reference item as target, the FP set.
    pub batch: Batch,
    /// `[1, n_rows]` target frequencies when the session has no positive yet (the cold state).
    pub cold: Option<Tensor<2>>,
    pub method: Method,
    pub term: NowTerm,
}

impl NowInput {
    /// The session state `q: [1, d]` the list is ranked from.
    pub fn state(&self, model: &Recommender) -> Tensor<2> {
        match &self.cold {
            Some(p) => cold_state(model, p.clone()),
            None => model.encode(&self.batch),
        }
    }

    /// Hinges and weights, `[1, F]` each (see [`now_hinges`]).
    pub fn parts(&self, model: &Recommender) -> (Tensor<2>, Tensor<2>) {
        now_hinges(model, self.state(model), &self.batch, self.method, self.term.margin)
    }

    /// `λ_now · Σ_f w_f · hinge_f`.
    pub fn loss(&self, model: &Recommender) -> Tensor<1> {
        let (hinges, weights) = self.parts(model);
        (hinges * weights).sum() * self.term.lambda
    }
}

/// The state of a session with no positive yet: the expected embedding of a next item,
/// `Σ_i p_i e_i` under the warm start's target frequencies `p: [1, n_rows]`, held fixed (the FP
/// term moves the skipped item away from it, not it towards anything).
pub fn cold_state(model: &Recommender, p: Tensor<2>) -> Tensor<2> {
    p.matmul(model.items.val()).detach()
}

pub struct OnlineLearner {
    pub trainer: Trainer,
    pub config: OnlineConfig,
    pub items: ItemIndex,
    /// The session being played now.
    pub session: Session,
    replay: Vec<Example>,
    rng: Rng,
    /// Target frequencies of the warm start (sum 1, none on padding): the cold state's weights.
    popularity: Vec<f32>,
    /// The list shown for the current state (dense ids, best first): the online FP term's
    /// reference (see [`NowTerm`]).
    shown: Vec<u32>,
    /// Adam for the online FP term's own steps, with its own moments: with the trainer's, each
    /// of those steps would also carry every other weight further along the replay's momentum.
    now_optim: ModuleOptimizer,
}

impl OnlineLearner {
    /// `items` maps the catalog's external ids; `warm` are the examples the model was trained on.
    pub fn new(trainer: Trainer, items: ItemIndex, warm: Vec<Example>, config: OnlineConfig) -> Self {
        let mut replay = warm;
        let mut rng = Rng::new(trainer.config.seed ^ 0x0D11);
        rng.shuffle(&mut replay);
        replay.truncate(config.replay_capacity);
        let mut popularity = vec![0f32; trainer.n_rows()];
        for e in &replay {
            if let Some(c) = popularity.get_mut(e.target as usize).filter(|_| e.target != PAD) {
                *c += 1.0;
            }
        }
        let total: f32 = popularity.iter().sum();
        let n = popularity.len();
        for (i, c) in popularity.iter_mut().enumerate() {
            *c = match (total > 0.0, i == PAD as usize) {
                (_, true) => 0.0,
                (true, false) => *c / total,
                (false, false) => 1.0 / (n - 1) as f32,
            };
        }
        let session = Session { id: 0, user: None, start: 0.0, clicks: Vec::new() };
        Self { trainer, config, items, session, replay, rng, popularity, shown: Vec::new(), now_optim: AdamConfig::new().init() }
    }

    /// The list the visitor now sees from this model (dense ids, best first).
    pub fn show(&mut self, list: &[u32]) {
        self.shown = list.to_vec();
    }

    /// The FP set of the session's next step, exactly as training builds it: the newest distinct
    /// FPs, none of them in the session's input, at most the FP cap (newest last, dense ids).
    pub fn session_fps(&self) -> Vec<u32> {
        let fps = newest_distinct(self.session.clicks.iter().filter(|c| c.fp).map(|c| c.item));
        fp_set(&fps, &self.prefix(), None, self.trainer.config.objective.fp_cap)
    }

    /// The online FP term's inputs on `device`, when it applies: the method has a metric term,
    /// [`OnlineConfig::now`] is set, the session has an FP and the list shows an item that is
    /// not one.
    pub fn now_input(&self, device: &Device) -> Option<NowInput> {
        let (term, method, example) = self.now_example()?;
        let cold = example.prefix.is_empty().then(|| self.popularity_tensor(device));
        let batch = self.trainer.batch(&[&example], device);
        Some(NowInput { batch, cold, method, term })
    }

    /// The online FP term's row (prefix, the reference item as target, the FP set), when it applies.
    fn now_example(&self) -> Option<(NowTerm, Method, Example)> {
        let term = self.config.now?;
        let method = self.trainer.config.objective.method;
        if !method.uses_metric() {
            return None;
        }
        let fps = self.session_fps();
        let reference = *self.shown.iter().rev().find(|i| !fps.contains(i))?;
        if fps.is_empty() {
            return None;
        }
        Some((term, method, Example { prefix: self.prefix(), target: reference, fps, session: self.session.id }))
    }

    fn popularity_tensor(&self, device: &Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(self.popularity.clone(), [1, self.popularity.len()]), device)
    }

    /// Scores of every row for the current session (the cold state's before any positive; see
    /// [`cold_state`]) under the inference model: `[n_rows]`, padding at −1e9.
    pub fn score_tensor(&self) -> Tensor<1> {
        let prefix = self.prefix();
        if !prefix.is_empty() {
            return self.trainer.score_tensor(&prefix);
        }
        let model = self.trainer.model.valid();
        let n = model.n_rows();
        let q = cold_state(&model, self.popularity_tensor(&self.trainer.plain_device()));
        model.scores(q).reshape([n])
    }

    /// f_FPA's weight of each FP of [`Self::session_fps`] as the online FP term uses it (`[1, F]`,
    /// F ≥ the set's size, zero past it); `None` when the term does not apply.
    pub fn now_weights(&self) -> Option<Tensor<2>> {
        let input = self.now_input(&self.trainer.plain_device())?;
        Some(input.parts(&self.trainer.model.valid()).1)
    }

    /// One step of the online FP term alone, read synchronously (native): `None` (and nothing
    /// changed) when it does not apply or every hinge is already met.
    pub fn now_step_sync(&mut self) -> Result<Option<f32>> {
        let Some(now) = self.now_input(&self.trainer.device().clone()) else { return Ok(None) };
        let loss = now.loss(&self.trainer.model);
        // Read before the backward: once every hinge is met (the last of an event's steps, when
        // it stops early) the backward would be thrown away.
        let value = crate::train::read_scalar(loss.clone())?;
        if !value.is_finite() {
            return Err(Error::NonFinite(format!("the online FP term became {value}; the model was left as it was")));
        }
        if value <= 0.0 {
            return Ok(None);
        }
        let grads = self.trainer.backward_of(loss);
        self.apply_now(grads);
        Ok(Some(value))
    }

    /// Applies a step of the online FP term alone (see [`Self::now_step_sync`]).
    pub fn apply_now(&mut self, grads: GradientsParams) {
        self.trainer.apply_with(&mut self.now_optim, grads);
    }

    /// The online FP term's own steps after an event (see [`NowTerm::max_steps`]), natively.
    pub fn now_steps_sync(&mut self) -> Result<usize> {
        let max = self.config.now.map_or(0, |n| n.max_steps);
        for taken in 0..max {
            if self.now_step_sync()?.is_none() {
                return Ok(taken);
            }
        }
        Ok(max)
    }

    /// `n` steps on replay samples (the warm start's kind of step), read synchronously (native):
    /// their losses.
    pub fn replay_steps_sync(&mut self, n: usize) -> Result<Vec<f32>> {
        (0..n)
            .map(|_| {
                let batch = self.replay_sample(self.trainer.config.batch_size);
                self.step_sync(&batch)
            })
            .collect()
    }

    /// One online step on `examples` plus the online FP term, read synchronously (native).
    pub fn step_sync(&mut self, examples: &[Example]) -> Result<f32> {
        let now = self.now_input(&self.trainer.device().clone());
        let refs: Vec<&Example> = examples.iter().collect();
        Ok(self.trainer.step_sync_plus(&refs, |model| now.map(|n| n.loss(model)))?.0)
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
    /// step. Empty when the session has no prediction step yet (e.g. only one positive so far)
    /// and the online FP term does not apply.
    pub fn update_batches(&mut self) -> Vec<Vec<Example>> {
        let o = &self.trainer.config.objective;
        let current = train_examples(std::slice::from_ref(&self.session), o.method.train_view(), o.fp_scope, o.fp_cap);
        // Before the session has a prediction step, only the online FP term has anything to
        // learn from it (a skip on a fresh page); its steps then carry replay alone.
        if current.is_empty() && self.now_example().is_none() {
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
        self.update_sync()
    }

    /// The update after a recorded event, synchronously (native): [`Self::update_batches`]'
    /// steps, then the online FP term's own. Returns the mean loss of the former.
    pub fn update_sync(&mut self) -> Result<Option<f32>> {
        let batches = self.update_batches();
        let mut losses = Vec::new();
        for batch in &batches {
            losses.push(self.step_sync(batch)?);
        }
        self.now_steps_sync()?;
        Ok((!losses.is_empty()).then(|| losses.iter().sum::<f32>() / losses.len() as f32))
    }

    /// Scores of every row for the current session, synchronously (see [`Self::score_tensor`]).
    pub fn scores_sync(&self) -> Result<Vec<f32>> {
        let data = self.score_tensor().try_into_data().map_err(|e| Error::Backend(format!("{e:?}")))?;
        data.try_to_vec().map_err(|e| Error::Backend(format!("{e:?}")))
    }

    /// Top `k` items for the current session, excluding `exclude` (dense ids), synchronously.
    pub fn recommend_sync(&self, k: usize, exclude: &[u32]) -> Result<Vec<(u32, f32)>> {
        Ok(top_k(&self.scores_sync()?, k, exclude))
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
        Event { session: None, user: None, item, timestamp: 0.0, played_secs: Some(played), duration_secs: Some(200.0), rating: None, skipped: None }
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
    }
}
