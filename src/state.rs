//! The page's state and everything that changes it: the worker conversation, the player clock,
//! plays and skips, catalog switching, reset, import and export. The views only read these
//! signals and call these functions.

use crate::audio::Synth;
use crate::catalog::{self, Catalog};
use crate::history::{self, Saved};
use crate::worker_client::WorkerHandle;
use leptos::prelude::*;
use leptos::task::spawn_local;
use skipwise_protocol::{BackendKind, Catalog as Kind, EmbeddingMap, FpWeight, Labels, Play, Ranked, Recommendations, Request, Response};
use std::collections::VecDeque;
use std::sync::Arc;

/// Steps run by one click on "Train".
pub const STEPS_PER_CLICK: u32 = 15;
pub use skipwise_protocol::WARM_STEPS;
pub const SPEEDS: [f32; 3] = [1.0, 10.0, 60.0];
pub const DEFAULT_SKIP_SECS: f32 = 10.0;

/// A play in the history, with the label the models' FP rule gave it once they answered.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub play: Play,
    pub fp: Option<bool>,
}

/// A row of a recommendation list: the item and how far it moved since the previous list
/// (`None`: it is new in the list).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub item: u64,
    pub score: f32,
    pub delta: Option<i32>,
}

fn rows(new: &[Ranked], old: &[Row]) -> Vec<Row> {
    // The first list of a start has nothing to move from.
    let fresh = old.is_empty();
    new.iter()
        .enumerate()
        .map(|(i, r)| Row {
            item: r.item,
            score: r.score,
            delta: match fresh {
                true => Some(0),
                false => old.iter().position(|o| o.item == r.item).map(|j| j as i32 - i as i32),
            },
        })
        .collect()
}

/// Every field is a cheap `Copy` handle, so closures capture the whole state freely.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub backend: RwSignal<String>,
    pub on_gpu: RwSignal<bool>,
    /// The worker has its backend.
    pub ready: RwSignal<bool>,
    /// Both models are built, warm and in step with the history.
    pub models_ready: RwSignal<bool>,
    pub progress: RwSignal<Option<(String, u32, u32)>>,
    pub training: RwSignal<bool>,
    pub losses: RwSignal<Vec<(usize, f32)>>,
    pub status: RwSignal<String>,
    worker: StoredValue<Option<WorkerHandle>, LocalStorage>,

    pub kind: RwSignal<Kind>,
    pub catalog: RwSignal<Option<Arc<Catalog>>>,
    pub genre: RwSignal<usize>,

    pub now: RwSignal<Option<u64>>,
    pub position: RwSignal<f32>,
    pub playing: RwSignal<bool>,
    pub liked: RwSignal<bool>,
    pub speed: RwSignal<f32>,
    pub skip_secs: RwSignal<f32>,
    pub history: RwSignal<Vec<Entry>>,
    /// Plays of the history the current worker has been sent.
    synced: StoredValue<usize>,

    pub recs: RwSignal<Vec<Row>>,
    pub vanilla: RwSignal<Vec<Row>>,
    pub weights: RwSignal<Vec<FpWeight>>,
    pub map: RwSignal<Option<EmbeddingMap>>,
    pub learned: RwSignal<u32>,
    /// Click-to-new-list time of the last play, ms (page clock, so it includes the messaging).
    pub latency: RwSignal<Option<f64>>,
    /// The worker's share of it: the two models' updates and the new lists, ms.
    pub worker_ms: RwSignal<f64>,
    sent_at: StoredValue<VecDeque<f64>>,
    pub message: RwSignal<String>,
    pub alert: RwSignal<String>,
    /// Where the models' warm start came from this time ("trained …" or "loaded …").
    pub warm_source: RwSignal<String>,
    pub tour: RwSignal<Option<usize>>,
    pub autopilot: RwSignal<bool>,
    pub persona: RwSignal<crate::autopilot::Persona>,
    /// Hit rate @10 against the persona after each play: (FP-AdaMetric, Vanilla).
    pub hits: RwSignal<Vec<(f32, f32)>>,
    synth: StoredValue<Synth, LocalStorage>,
    last_tick: StoredValue<f64>,
}

pub fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or_else(js_sys::Date::now)
}

impl Ctx {
    pub fn new() -> Self {
        let kind = history::last_catalog();
        let (saved, alert) = match history::load_local(kind) {
            Ok(saved) => (saved, String::new()),
            Err(e) => (None, e),
        };
        let skip_secs = saved.as_ref().map_or(DEFAULT_SKIP_SECS, |s| s.skip_secs);
        let history: Vec<Entry> = saved.map(|s| s.plays.into_iter().map(|play| Entry { play, fp: None }).collect()).unwrap_or_default();
        let first_visit = history.is_empty();
        Self {
            backend: RwSignal::new("starting the training worker…".into()),
            on_gpu: RwSignal::new(false),
            ready: RwSignal::new(false),
            models_ready: RwSignal::new(false),
            progress: RwSignal::new(None),
            training: RwSignal::new(false),
            losses: RwSignal::new(Vec::new()),
            status: RwSignal::new(String::new()),
            worker: StoredValue::new_local(None),
            kind: RwSignal::new(kind),
            catalog: RwSignal::new(None),
            genre: RwSignal::new(0),
            now: RwSignal::new(None),
            position: RwSignal::new(0.0),
            playing: RwSignal::new(false),
            liked: RwSignal::new(false),
            speed: RwSignal::new(1.0),
            skip_secs: RwSignal::new(skip_secs),
            history: RwSignal::new(history),
            synced: StoredValue::new(0),
            recs: RwSignal::new(Vec::new()),
            vanilla: RwSignal::new(Vec::new()),
            weights: RwSignal::new(Vec::new()),
            map: RwSignal::new(None),
            learned: RwSignal::new(0),
            latency: RwSignal::new(None),
            worker_ms: RwSignal::new(0.0),
            sent_at: StoredValue::new(VecDeque::new()),
            message: RwSignal::new(String::new()),
            alert: RwSignal::new(alert),
            warm_source: RwSignal::new(String::new()),
            tour: RwSignal::new(first_visit.then_some(0)),
            autopilot: RwSignal::new(false),
            persona: RwSignal::new(crate::autopilot::Persona { liked: vec![0, 1], curiosity: 0.3 }),
            hits: RwSignal::new(Vec::new()),
            synth: StoredValue::new_local(Synth::default()),
            last_tick: StoredValue::new(now_ms()),
        }
    }

    fn send(self, request: Request) {
        let result = self.worker.with_value(|w| match w {
            Some(w) => w.send(&request),
            None => Err("the training worker is not running".into()),
        });
        if let Err(e) = result {
            self.status.set(e);
        }
    }

    pub fn item(self, id: u64) -> Option<catalog::Item> {
        self.catalog.with(|c| c.as_ref().and_then(|c| c.get(id).cloned()))
    }

    /// Items the worker labelled FP in this history (a play still on its way has no label yet).
    pub fn skipped(self) -> Vec<u64> {
        self.history.with(|h| h.iter().filter(|e| e.fp == Some(true)).map(|e| e.play.item).collect())
    }

    fn saved(self) -> Saved {
        Saved::new(self.kind.get_untracked(), self.skip_secs.get_untracked(), self.history.with_untracked(|h| h.iter().map(|e| e.play).collect()))
    }

    fn persist(self) {
        if let Err(e) = history::save_local(&self.saved()) {
            self.alert.set(e);
        }
    }

    /// Plays sent to the worker that it has not answered yet.
    pub fn waiting_for_models(self) -> bool {
        self.sent_at.with_value(|s| !s.is_empty())
    }

    pub fn train(self) {
        self.training.set(true);
        self.status.set(format!("Training {STEPS_PER_CLICK} steps…"));
        self.send(Request::Train { steps: STEPS_PER_CLICK });
    }
}

/// Starts (or restarts) the worker. A worker that fails on the GPU is restarted on the CPU with
/// the reason, and relearns the history, so a broken WebGPU never leaves the page without models.
pub fn start_worker(ctx: Ctx, allow_gpu: bool, reason: Option<String>) {
    ctx.ready.set(false);
    ctx.models_ready.set(false);
    ctx.training.set(false);
    let fallback = move |why: String| {
        if ctx.on_gpu.get_untracked() || allow_gpu {
            let reason = format!("WebGPU failed: {why}");
            history::set_gpu_failure(&reason);
            start_worker(ctx, false, Some(reason));
        } else {
            ctx.status.set(format!("The training worker stopped: {why}"));
            ctx.training.set(false);
        }
    };
    let init_reason = reason.clone();
    let on_response = move |response: Response| match response {
        Response::Booted => ctx.send(Request::Init { allow_gpu, reason: init_reason.clone() }),
        Response::Ready { backend } => {
            ctx.on_gpu.set(backend.kind == BackendKind::WebGpu);
            ctx.backend.set(backend.label());
            ctx.ready.set(true);
            start_models(ctx);
        }
        Response::Progress { what, done, total } => ctx.progress.set(Some((what, done, total))),
        Response::Loss { loss, .. } => ctx.losses.update(|l| {
            let index = l.len() + 1;
            l.push((index, loss));
        }),
        Response::TrainDone { steps, millis } => {
            ctx.training.set(false);
            ctx.status.set(format!("Trained {steps} steps in {:.1} s.", millis / 1000.0));
        }
        Response::Recommendations(r) => on_recommendations(ctx, r),
        Response::WarmWeights { catalog, warm_steps, weights } => on_warm_weights(ctx, catalog, warm_steps, weights),
        Response::WarmLoaded { .. } => ctx.warm_source.set("Warm start: loaded from this browser's cache (IndexedDB), no training needed.".into()),
        Response::Error { message } => {
            ctx.training.set(false);
            ctx.status.set(message);
        }
        Response::DeviceFailed { message } | Response::Panic { message } => fallback(message),
    };
    let on_crash = move |why: String| fallback(why);
    // Replacing the handle drops (terminates) the old worker first.
    ctx.worker.set_value(None);
    if reason.is_some() {
        // A restarted worker trains from scratch; its losses start a new list.
        ctx.losses.set(Vec::new());
    }
    match WorkerHandle::spawn(on_response, on_crash) {
        Ok(handle) => ctx.worker.set_value(Some(handle)),
        Err(e) => ctx.status.set(e),
    }
}

/// (Re)builds both models for the current catalog and history once the worker and the catalog
/// are both there, with the warm-start weights cached in IndexedDB when there are some.
pub fn start_models(ctx: Ctx) {
    if !ctx.ready.get_untracked() || ctx.catalog.with_untracked(|c| c.is_none()) {
        return;
    }
    ctx.models_ready.set(false);
    let kind = ctx.kind.get_untracked();
    let plays: Vec<Play> = ctx.history.with_untracked(|h| h.iter().map(|e| e.play).collect());
    ctx.synced.set_value(plays.len());
    ctx.sent_at.update_value(|s| s.clear());
    ctx.progress.set(Some(("Looking for cached weights".into(), 0, warm_steps() + plays.len() as u32)));
    spawn_local(async move {
        let warm = match crate::cache::get(&warm_key(kind)).await {
            Ok(w) => w,
            Err(e) => {
                ctx.alert.set(format!("The weights cache is unavailable ({e}); the models train from scratch on every load."));
                None
            }
        };
        // The visitor may have switched catalogs while the cache answered.
        if ctx.kind.get_untracked() == kind {
            let skip_secs = ctx.skip_secs.get_untracked();
            ctx.send(Request::Start { catalog: kind, skip_secs, warm_steps: warm_steps(), history: plays, warm });
        }
    });
}

/// Cache key of a catalog's warm-start weights; a new warm-start length is a new key.
fn warm_key(kind: Kind) -> String {
    format!("{}-{}-v1", kind.name(), warm_steps())
}

/// The warm-start length: [`WARM_STEPS`], or `?warm=N` (1–2000) from the page's address. A short
/// warm start shows what the models know before they have seen much, and keeps the browser
/// tests on a software WebGPU adapter (seconds per step) within minutes.
pub fn warm_steps() -> u32 {
    let search = js_sys::Reflect::get(&js_sys::global(), &"location".into())
        .and_then(|l| js_sys::Reflect::get(&l, &"search".into()))
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default();
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|kv| kv.strip_prefix("warm="))
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| (1..=2000).contains(n))
        .unwrap_or(WARM_STEPS)
}

fn on_warm_weights(ctx: Ctx, catalog: Kind, warm_steps: u32, weights: String) {
    ctx.warm_source.set(format!("Warm start: trained just now ({warm_steps} steps on simulated listeners), cached in this browser."));
    spawn_local(async move {
        if let Err(e) = crate::cache::put(&warm_key(catalog), &weights).await {
            ctx.warm_source.set(format!("Warm start: trained just now ({warm_steps} steps); it could not be cached ({e}), so the next load trains again."));
        }
    });
}

fn on_recommendations(ctx: Ctx, r: Recommendations) {
    ctx.recs.update(|old| *old = rows(&r.fp_aware, old));
    ctx.vanilla.update(|old| *old = rows(&r.vanilla, old));
    ctx.weights.set(r.fp_weights);
    ctx.map.set(r.map);
    if ctx.autopilot.get_untracked() && matches!(r.labels, Labels::Play(_)) {
        let persona = ctx.persona.get_untracked();
        let ids = |list: &[Ranked]| list.iter().map(|r| r.item).collect::<Vec<_>>();
        let hit = (crate::autopilot::hit_rate(ctx, &persona, &ids(&r.fp_aware)), crate::autopilot::hit_rate(ctx, &persona, &ids(&r.vanilla)));
        ctx.hits.update(|h| h.push(hit));
    }
    ctx.learned.set(r.events);
    ctx.worker_ms.set(r.millis);
    match r.labels {
        Labels::Play(fp) => {
            if let Some(t) = ctx.sent_at.try_update_value(|s| s.pop_front()).flatten() {
                ctx.latency.set(Some(now_ms() - t));
            }
            let index = r.events as usize - 1;
            let mut label = String::new();
            ctx.history.update(|h| {
                if let Some(e) = h.get_mut(index) {
                    e.fp = Some(fp);
                    let secs = e.play.played_secs.round();
                    label = match fp {
                        true => format!("FP: skipped after {secs} s"),
                        false => format!("Positive: played {secs} s"),
                    };
                }
            });
            if index + 1 == ctx.history.with_untracked(|h| h.len()) {
                ctx.message.set(label);
            }
        }
        Labels::Start(labels) => {
            // A fresh start: the worker relearnt the history under the current threshold.
            ctx.history.update(|h| h.iter_mut().zip(labels).for_each(|(e, fp)| e.fp = Some(fp)));
            ctx.progress.set(None);
            ctx.models_ready.set(true);
            // Plays made while the models were being rebuilt.
            let pending: Vec<Play> = ctx.history.with_untracked(|h| h.iter().skip(ctx.synced.get_value()).map(|e| e.play).collect());
            for play in pending {
                observe(ctx, play);
            }
        }
    }
}

fn observe(ctx: Ctx, play: Play) {
    ctx.sent_at.update_value(|s| s.push_back(now_ms()));
    ctx.synced.update_value(|n| *n += 1);
    ctx.send(Request::Observe { play, skip_secs: ctx.skip_secs.get_untracked() });
}

/// Ends the current play (played to `played` seconds): it joins the history and the models.
pub fn finish(ctx: Ctx) {
    let Some(id) = ctx.now.get_untracked() else { return };
    let Some(item) = ctx.item(id) else { return };
    let mut played = ctx.position.get_untracked().min(item.duration_secs);
    if ctx.liked.get_untracked() {
        // A like is a positive however short the play.
        played = played.max(ctx.skip_secs.get_untracked()).min(item.duration_secs);
    }
    let play = Play { item: id, played_secs: played, duration_secs: item.duration_secs };
    ctx.history.update(|h| h.push(Entry { play, fp: None }));
    ctx.message.set(format!("{} after {:.0} s — the models are learning…", if played < item.duration_secs { "Stopped" } else { "Played to the end" }, played));
    ctx.persist();
    if ctx.models_ready.get_untracked() {
        observe(ctx, play);
    }
    ctx.now.set(None);
    ctx.playing.set(false);
    ctx.position.set(0.0);
    ctx.synth.update_value(|s| s.stop());
}

/// Plays `id` from the start, ending whatever played before.
pub fn play(ctx: Ctx, id: u64) {
    finish(ctx);
    let Some(item) = ctx.item(id) else { return };
    ctx.now.set(Some(id));
    ctx.position.set(0.0);
    ctx.liked.set(false);
    ctx.playing.set(true);
    ctx.last_tick.set_value(now_ms());
    if item.tempo_bpm.is_some() {
        ctx.synth.update_value(|s| s.start(&item));
    }
}

/// The next item: the FP-aware list's best that is not playing now.
fn next_item(ctx: Ctx, after: Option<u64>) -> Option<u64> {
    ctx.recs.with_untracked(|r| r.iter().map(|r| r.item).find(|i| Some(*i) != after))
}

pub fn skip(ctx: Ctx) {
    let current = ctx.now.get_untracked();
    if current.is_none() {
        return;
    }
    let next = next_item(ctx, current);
    finish(ctx);
    if let Some(next) = next {
        play(ctx, next);
    }
}

pub fn toggle(ctx: Ctx) {
    match ctx.now.get_untracked() {
        None => {
            if let Some(next) = next_item(ctx, None) {
                play(ctx, next);
            }
        }
        Some(id) => {
            let playing = !ctx.playing.get_untracked();
            ctx.playing.set(playing);
            ctx.last_tick.set_value(now_ms());
            match (playing, ctx.item(id)) {
                (true, Some(item)) if item.tempo_bpm.is_some() => ctx.synth.update_value(|s| s.start(&item)),
                _ => ctx.synth.update_value(|s| s.stop()),
            }
        }
    }
}

pub fn like(ctx: Ctx) {
    if ctx.now.get_untracked().is_some() {
        ctx.liked.update(|l| *l = !*l);
    }
}

/// The player clock: advances the play by real time × speed, ends tracks, feeds the synth.
pub fn tick(ctx: Ctx) {
    let t = now_ms();
    let dt = (t - ctx.last_tick.get_value()) / 1000.0;
    ctx.last_tick.set_value(t);
    crate::autopilot::step(ctx);
    if !ctx.playing.get_untracked() {
        return;
    }
    let Some(item) = ctx.now.get_untracked().and_then(|id| ctx.item(id)) else { return };
    let position = ctx.position.get_untracked() + (dt as f32) * ctx.speed.get_untracked();
    if position >= item.duration_secs {
        ctx.position.set(item.duration_secs);
        skip(ctx);
    } else {
        ctx.position.set(position);
        ctx.synth.update_value(|s| s.pump());
    }
}

/// Loads the catalog of `kind` and its saved history, then rebuilds the models.
pub fn switch_catalog(ctx: Ctx, kind: Kind) {
    stop_without_event(ctx);
    ctx.kind.set(kind);
    history::set_last_catalog(kind);
    let history = match history::load_local(kind) {
        Ok(saved) => saved.map(|s| s.plays.into_iter().map(|play| Entry { play, fp: None }).collect()).unwrap_or_default(),
        Err(e) => {
            ctx.alert.set(e);
            Vec::new()
        }
    };
    ctx.history.set(history);
    ctx.recs.set(Vec::new());
    ctx.vanilla.set(Vec::new());
    ctx.weights.set(Vec::new());
    ctx.genre.set(0);
    load_catalog(ctx, kind, None);
}

/// Fetches `kind`'s catalog; then applies `import` (checked against it) if given, and starts the models.
pub fn load_catalog(ctx: Ctx, kind: Kind, import: Option<Saved>) {
    if import.is_none() {
        ctx.catalog.set(None);
    }
    spawn_local(async move {
        match catalog::load(kind).await {
            Ok(c) => {
                if let Some(saved) = import {
                    // Checked before anything is replaced: a bad file leaves the page as it was.
                    if let Err(e) = saved.check_items(&c) {
                        ctx.alert.set(format!("Import failed: {e}. Your current history is unchanged."));
                        return;
                    }
                    ctx.catalog.set(Some(Arc::new(c)));
                    ctx.genre.set(0);
                    apply_import(ctx, saved);
                    return;
                }
                ctx.catalog.set(Some(Arc::new(c)));
                start_models(ctx);
            }
            Err(e) => ctx.alert.set(e),
        }
    });
}

fn stop_without_event(ctx: Ctx) {
    ctx.autopilot.set(false);
    ctx.now.set(None);
    ctx.playing.set(false);
    ctx.position.set(0.0);
    ctx.synth.update_value(|s| s.stop());
}

pub fn reset(ctx: Ctx) {
    stop_without_event(ctx);
    if let Err(e) = history::clear_local(ctx.kind.get_untracked()) {
        ctx.alert.set(e);
    }
    ctx.history.set(Vec::new());
    ctx.recs.set(Vec::new());
    ctx.vanilla.set(Vec::new());
    ctx.weights.set(Vec::new());
    ctx.latency.set(None);
    ctx.message.set("History and cached weights cleared; the models train again from scratch.".into());
    spawn_local(async move {
        if let Err(e) = crate::cache::clear().await {
            ctx.alert.set(format!("The cached weights could not be cleared ({e})."));
        }
        start_models(ctx);
    });
}

/// Replaces the history (and the cached weights, when the file has some) with an import's.
fn apply_import(ctx: Ctx, saved: Saved) {
    stop_without_event(ctx);
    let warm = saved.warm.clone().map(|w| (saved.catalog, w));
    ctx.kind.set(saved.catalog);
    history::set_last_catalog(saved.catalog);
    ctx.skip_secs.set(saved.skip_secs);
    let n = saved.plays.len();
    ctx.history.set(saved.plays.into_iter().map(|play| Entry { play, fp: None }).collect());
    ctx.recs.set(Vec::new());
    ctx.vanilla.set(Vec::new());
    ctx.persist();
    ctx.alert.set(String::new());
    ctx.message.set(format!("Imported {n} plays{}.", if warm.is_some() { " and the models' weights" } else { "" }));
    spawn_local(async move {
        if let Some((kind, w)) = warm {
            if let Err(e) = crate::cache::put(&warm_key(kind), &w).await {
                ctx.alert.set(format!("The imported weights could not be stored ({e}); the models train from scratch."));
            }
        }
        start_models(ctx);
    });
}

/// Reads an exported file: nothing changes unless the whole file is valid.
pub fn import_text(ctx: Ctx, text: String) {
    let saved = match Saved::parse(&text) {
        Ok(s) => s,
        Err(e) => {
            ctx.alert.set(format!("Import failed: {e}. Your current history is unchanged."));
            return;
        }
    };
    let same = saved.catalog == ctx.kind.get_untracked();
    let checked = same.then(|| ctx.catalog.with_untracked(|c| c.as_ref().map(|c| saved.check_items(c)))).flatten();
    match checked {
        Some(Err(e)) => ctx.alert.set(format!("Import failed: {e}. Your current history is unchanged.")),
        Some(Ok(())) => apply_import(ctx, saved),
        // Another catalog (or none loaded yet): check against it once it is fetched.
        None => load_catalog(ctx, saved.catalog, Some(saved)),
    }
}

/// The export file: the history and, when this browser has them, the warm-start weights.
pub async fn export_json(ctx: Ctx) -> String {
    let mut saved = ctx.saved();
    saved.warm = crate::cache::get(&warm_key(saved.catalog)).await.ok().flatten();
    saved.to_json()
}

/// Changing the threshold relabels the history from now on; the models get it with the next play.
pub fn set_skip_secs(ctx: Ctx, secs: f32) {
    ctx.skip_secs.set(secs);
    ctx.persist();
}
