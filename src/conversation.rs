//! The page's conversation with the training worker: starting (and restarting) it, building the
//! models, sending plays, and applying answers. Which answers still count is decided by
//! `skipwise_page_logic::conversation` (request ids, epochs); this module only acts on them.

use crate::history;
use crate::state::{Ctx, now_ms};
use crate::worker_client::WorkerHandle;
use leptos::prelude::*;
use leptos::task::spawn_local;
use skipwise_page_logic::conversation::{Answer, Pending};
use skipwise_page_logic::lists::rows;
use skipwise_page_logic::timeline::label_text;
use skipwise_protocol::{BackendKind, Catalog as Kind, Envelope, Labels, Play, Ranked, Recommendations, Request, Response, warm_key};
use skipwise_protocol::history::{LearntWeights, fingerprint};

/// A worker that dies on the CPU is restarted (and relearns the history) at most this many times
/// in a row; a fault that comes back every time then stops with the reason instead of looping.
const MAX_RESTARTS: u32 = 3;

/// Sends `request`, waiting for its answer as `what`.
fn send(ctx: Ctx, what: Pending, request: Request) {
    let id = ctx.conversation.try_update_value(|c| c.send(what)).unwrap_or_default();
    let result = ctx.worker.with_value(|w| match w {
        Some(w) => w.send(id, request),
        None => Err("the training worker is not running".into()),
    });
    if let Err(e) = result {
        // No answer will come: the request ends here.
        ctx.conversation.update_value(|c| {
            c.answer(id);
        });
        ctx.status.set(e);
    }
}

/// Starts (or restarts) the worker. A worker that fails on the GPU is restarted on the CPU with
/// the reason, one that dies on the CPU is restarted there; either relearns the history, so a
/// broken device or a crash never leaves the page without models.
pub fn start_worker(ctx: Ctx, allow_gpu: bool, reason: Option<String>) {
    ctx.ready.set(false);
    ctx.models_ready.set(false);
    ctx.training.set(false);
    // Whatever the old worker was asked dies with it.
    ctx.conversation.update_value(|c| c.new_epoch());
    // The fault (tests only) goes to the first worker alone, so a restart can recover.
    let init = Request::Init { allow_gpu, reason: reason.clone(), fault: ctx.fault.try_update_value(|f| f.take()).flatten() };
    let on_response = move |envelope: Envelope<Response>| on_response(ctx, allow_gpu, &init, envelope);
    let on_crash = move |why: String| died(ctx, allow_gpu, why);
    // Replacing the handle drops (terminates) the old worker first.
    ctx.worker.set_value(None);
    // A new worker trains from scratch: its losses start a new list.
    ctx.losses.set(Vec::new());
    match WorkerHandle::spawn("./worker.js", on_response, on_crash) {
        Ok(handle) => ctx.worker.set_value(Some(handle)),
        Err(e) => ctx.status.set(e),
    }
}

/// The worker died (a panic, a trap, a lost GPU): restart it where it can still work.
fn died(ctx: Ctx, allow_gpu: bool, why: String) {
    // On the GPU, or while it was still choosing (it may have died probing the GPU): the GPU is
    // to blame, and the CPU takes over. On the CPU: a restart there.
    if ctx.on_gpu.get_untracked() || (allow_gpu && !ctx.ready.get_untracked()) {
        let reason = format!("WebGPU failed: {why}");
        history::set_gpu_failure(&reason);
        start_worker(ctx, false, Some(reason));
        return;
    }
    let restarts = ctx.restarts.try_update_value(|n| {
        *n += 1;
        *n
    });
    if restarts.unwrap_or(MAX_RESTARTS + 1) <= MAX_RESTARTS {
        start_worker(ctx, allow_gpu, None);
        ctx.status.set(format!("The training worker stopped ({why}); it was restarted and relearns your history."));
    } else {
        ctx.status.set(format!("The training worker stopped {MAX_RESTARTS} times in a row ({why}). Your history is kept; reload the page to try again."));
        ctx.progress.set(None);
    }
}

fn on_response(ctx: Ctx, allow_gpu: bool, init: &Request, Envelope { id, body }: Envelope<Response>) {
    let final_answer = matches!(
        body,
        Response::Ready { .. } | Response::TrainDone { .. } | Response::Recommendations(_) | Response::Snapshot { .. } | Response::ModelChecked { .. } | Response::Error { .. }
    );
    let answer = ctx.conversation.try_update_value(|c| if final_answer { c.answer(id) } else { c.progress(id) }).unwrap_or(Answer::Stale);
    // Only the current worker's messages reach here (a replaced worker's handlers go with it), so
    // what is about the worker itself always counts: its backend, the end of a training run (the
    // Train button must come back), its death. What is about models of an earlier catalog,
    // history or seed does not.
    let about_the_worker = matches!(body, Response::Ready { .. } | Response::TrainDone { .. } | Response::DeviceFailed { .. } | Response::Panic { .. });
    if answer == Answer::Stale && !about_the_worker {
        return;
    }
    match body {
        // The worker listens: now it can be asked to pick its backend.
        Response::Booted => send(ctx, Pending::Init, init.clone()),
        // The Lab's answers come from the Lab's worker (`crate::lab`), never this one.
        Response::LabLoaded(_) | Response::LabProgress(_) | Response::LabEpoch(_) | Response::LabDone { .. } | Response::LabCancelled => {}
        Response::Ready { backend } => {
            ctx.on_gpu.set(backend.kind == BackendKind::WebGpu);
            ctx.backend.set(backend.label());
            ctx.ready.set(true);
            start_models(ctx);
        }
        Response::Progress { what, done, total } => ctx.progress.set(Some((what, done, total))),
        Response::Loss { loss, vanilla_loss, .. } => ctx.losses.update(|l| {
            let index = l.len() + 1;
            l.push((index, loss, vanilla_loss));
        }),
        Response::TrainDone { steps, millis } => {
            ctx.training.set(false);
            ctx.status.set(format!("Trained {steps} steps in {:.1} s.", millis / 1000.0));
        }
        Response::Recommendations(r) => {
            if let Answer::Done(what) = answer {
                on_recommendations(ctx, what, r);
            }
        }
        Response::WarmWeights { catalog, warm_steps, weights } => on_warm_weights(ctx, catalog, warm_steps, weights),
        Response::WarmLoaded { .. } => ctx.warm_source.set(match ctx.warm_origin.get_value() {
            WarmOrigin::Shipped(Ok(())) => "Warm start: shipped with the page (made by `skipwise warm-weights`), cached in this browser, no training needed.".into(),
            WarmOrigin::Shipped(Err(e)) => format!("Warm start: shipped with the page (made by `skipwise warm-weights`), no training needed; it could not be cached ({e})."),
            WarmOrigin::Cache => "Warm start: loaded from this browser's cache (IndexedDB), no training needed.".into(),
            WarmOrigin::Learnt { events, of } => format!(
                "Warm start: loaded from this browser's cache (IndexedDB), the models as they were after {events} of your {of} plays; {} relearnt.",
                match of - events { 0 => "no play".to_string(), 1 => "the 1 since".to_string(), n => format!("the {n} since") }
            ),
        }),
        Response::Snapshot { events, weights } => {
            if answer == Answer::Done(Pending::Snapshot) {
                on_snapshot(ctx, events, weights);
            }
        }
        Response::Warning { message } => ctx.status.set(message),
        Response::ModelChecked { description } => {
            if let Answer::Done(Pending::CheckModel { name, text }) = answer {
                ctx.status.set(format!("{name} is in the FP-aware slot: {description}. The models are rebuilt with your history."));
                ctx.imported.set(Some(crate::state::Imported { name, text: std::sync::Arc::new(text), description }));
                start_models(ctx);
            }
        }
        Response::Error { message } => on_error(ctx, answer, message),
        Response::DeviceFailed { message } | Response::Panic { message } => died(ctx, allow_gpu, message),
    }
}

/// An `Error` ends the request it answers; what that request was decides what the page does.
fn on_error(ctx: Ctx, answer: Answer, message: String) {
    match answer {
        Answer::Done(Pending::Observe { seq, .. }) => {
            let title = ctx.timeline.with_untracked(|t| t.get(seq).and_then(|e| ctx.item(e.play.item)).map(|i| i.title));
            ctx.status.set(format!(
                "The models could not learn “{}”: {message}. The play is kept in your history and learnt when the models are next rebuilt.",
                title.unwrap_or_default()
            ));
        }
        Answer::Done(Pending::Start) => {
            // No models, no lists: a fresh worker tries again (bounded, like a crash).
            died(ctx, false, message);
        }
        Answer::Done(Pending::Train) => {
            ctx.training.set(false);
            ctx.status.set(message);
        }
        // Nothing was changed: the models that were there stay.
        Answer::Done(Pending::CheckModel { .. }) => ctx.status.set(format!("Not imported: {message}")),
        _ => ctx.status.set(message),
    }
}

/// (Re)builds both models for the current catalog and history once the worker and the catalog
/// are both there, with the warm-start weights cached in IndexedDB when there are some. Whatever
/// was asked of the models before is stale from here on.
pub fn start_models(ctx: Ctx) {
    if !ctx.ready.get_untracked() || ctx.catalog.with_untracked(|c| c.is_none()) {
        return;
    }
    ctx.models_ready.set(false);
    ctx.conversation.update_value(|c| c.new_epoch());
    let epoch = ctx.conversation.with_value(|c| c.epoch());
    let kind = ctx.kind.get_untracked();
    let seed = ctx.seed.get_untracked();
    let warm_steps = ctx.warm_steps();
    let (plays, synced): (Vec<Play>, u64) = ctx.timeline.with_untracked(|t| (t.plays(), t.next_seq()));
    ctx.synced.set_value(synced);
    ctx.progress.set(Some(("Looking for cached weights".into(), 0, warm_steps + plays.len() as u32)));
    spawn_local(async move {
        let key = warm_key(kind, seed, warm_steps);
        // The weights as they were after most of this history, if this browser kept them: a
        // reload then relearns only the plays since.
        let learnt = match crate::cache::get(&learnt_key(kind, seed, warm_steps)).await {
            Ok(Some(text)) => serde_json::from_str::<LearntWeights>(&text).ok().and_then(|l| l.covers(&plays).map(|n| (n, l.weights))),
            _ => None,
        };
        let (warm, trained) = match learnt {
            Some((events, weights)) => {
                ctx.warm_origin.set_value(WarmOrigin::Learnt { events, of: plays.len() as u32 });
                (Some(weights), events)
            }
            None => {
                let cached = match crate::cache::get(&key).await {
                    Ok(w) => w,
                    Err(e) => {
                        ctx.warn(format!("The weights cache is unavailable ({e}); the models train from scratch on every load."));
                        None
                    }
                };
                // A first visit at the default seed: the weights `skipwise warm-weights` made,
                // instead of 150 steps in the browser.
                let shipped = match cached {
                    Some(_) => None,
                    None => crate::catalog::shipped_warm(kind, seed, warm_steps).await,
                };
                // Cached like weights trained here, so that a reload and Export find them; a few
                // ms of IndexedDB before the first list, once.
                let stored = match &shipped {
                    Some(text) => Some(crate::cache::put(&key, text).await),
                    None => None,
                };
                ctx.warm_origin.set_value(stored.map_or(WarmOrigin::Cache, WarmOrigin::Shipped));
                (cached.or(shipped), 0)
            }
        };
        // The visitor may have switched catalogs, reset or imported while the cache answered.
        if ctx.conversation.with_value(|c| c.epoch()) == epoch {
            let skip_secs = ctx.skip_secs.get_untracked();
            let model = ctx.imported.with_untracked(|m| m.as_ref().map(|m| m.text.to_string()));
            send(ctx, Pending::Start, Request::Start { catalog: kind, skip_secs, seed, warm_steps, history: plays, warm, trained, model });
        }
    });
}

/// Where the weights of the last Start came from.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum WarmOrigin {
    /// This browser's cache of the warm start (or none: trained afresh).
    #[default]
    Cache,
    /// The page's shipped file, and whether caching it in this browser worked.
    Shipped(Result<(), String>),
    /// A snapshot learnt from the first `events` of the history's `of` plays.
    Learnt { events: u32, of: u32 },
}

/// Every this many plays the page keeps both models' weights (a `Snapshot`), so that a reload
/// relearns fewer plays than this instead of the whole history.
pub const SNAPSHOT_EVERY: u32 = 10;

/// Cache key of the weights learnt from a history (see [`LearntWeights`]).
pub fn learnt_key(kind: Kind, seed: u64, warm_steps: u32) -> String {
    format!("{}-learnt", warm_key(kind, seed, warm_steps))
}

fn on_snapshot(ctx: Ctx, events: u32, weights: String) {
    let plays = ctx.timeline.with_untracked(|t| t.plays());
    let Some(learnt) = plays.get(..events as usize).map(|p| LearntWeights { events, fingerprint: fingerprint(p), weights }) else {
        return;
    };
    let key = learnt_key(ctx.kind.get_untracked(), ctx.seed.get_untracked(), ctx.warm_steps());
    spawn_local(async move {
        let text = serde_json::to_string(&learnt).unwrap_or_default();
        // Only a slower reload is at stake: a failure is not worth a warning.
        let _ = crate::cache::put(&key, &text).await;
    });
}

fn on_warm_weights(ctx: Ctx, catalog: Kind, warm_steps: u32, weights: String) {
    ctx.warm_source.set(format!("Warm start: trained just now ({warm_steps} steps on simulated listeners), cached in this browser."));
    let seed = ctx.seed.get_untracked();
    spawn_local(async move {
        if let Err(e) = crate::cache::put(&warm_key(catalog, seed, warm_steps), &weights).await {
            ctx.warm_source.set(format!("Warm start: trained just now ({warm_steps} steps); it could not be cached ({e}), so the next load trains again."));
        }
    });
}

fn on_recommendations(ctx: Ctx, what: Pending, r: Recommendations) {
    if matches!(what, Pending::Observe { .. }) {
        ctx.dropped.set(ctx.recs.with_untracked(|old| skipwise_page_logic::lists::dropped(old, &r.fp_aware)));
    } else {
        ctx.dropped.set(Vec::new());
    }
    ctx.recs.update(|old| *old = rows(&r.fp_aware, old));
    ctx.vanilla.update(|old| *old = rows(&r.vanilla, old));
    ctx.weights.set(r.fp_weights);
    if let Some(map) = &r.map {
        let skipped = ctx.skipped();
        ctx.trails.update(|t| t.add(&skipped, |id| map.items.get((id as usize).checked_sub(1)?).copied(), map.session));
    }
    ctx.map.set(r.map);
    ctx.learned.set(r.events);
    ctx.worker_ms.set(r.millis);
    match (what, r.labels) {
        (Pending::Observe { seq, sent_at }, Labels::Play(fp)) => {
            // An imported model's weights are the visitor's file, not the page's: never cached.
            if r.events > 0 && r.events % SNAPSHOT_EVERY == 0 && ctx.imported.with_untracked(Option::is_none) {
                send(ctx, Pending::Snapshot, Request::Snapshot);
            }
            let ms = now_ms() - sent_at;
            ctx.latency.set(Some(ms));
            ctx.latencies.update(|l| l.push(ms));
            if ctx.autopilot.get_untracked() {
                let persona = ctx.persona.get_untracked();
                let genre = |id: u64| ctx.item(id).map(|i| i.genre_index);
                let ids = |list: &[Ranked]| list.iter().map(|r| r.item).collect::<Vec<_>>();
                let hit = (persona.hit_rate(&ids(&r.fp_aware), genre), persona.hit_rate(&ids(&r.vanilla), genre));
                ctx.hits.update(|h| h.push(hit));
            }
            let mut text = None;
            ctx.timeline.update(|t| {
                if t.label(seq, fp) {
                    text = t.get(seq).map(|e| label_text(fp, &e.play));
                }
            });
            let newest = ctx.timeline.with_untracked(|t| t.next_seq() == seq + 1);
            if let (Some(text), true) = (text, newest) {
                ctx.message.set(text);
            }
        }
        (_, Labels::Start(labels)) => {
            // The first lists of this page load: how long a visitor waited for them.
            if ctx.first_visit.get_untracked().is_none() {
                ctx.first_visit.set(Some((crate::state::first_paint_ms(), now_ms())));
            }
            // A fresh start: the worker relearnt the history, each play at its own threshold.
            ctx.timeline.update(|t| t.label_all(&labels));
            ctx.progress.set(None);
            ctx.models_ready.set(true);
            ctx.restarts.set_value(0);
            // Plays made while the models were being rebuilt.
            let from = ctx.synced.get_value();
            let pending: Vec<(u64, Play)> =
                ctx.timeline.with_untracked(|t| t.entries.iter().filter(|e| e.seq >= from).map(|e| (e.seq, e.play)).collect());
            for (seq, play) in pending {
                observe(ctx, seq, play);
            }
        }
        // A list that does not answer the request it names: the lists above are still the
        // newest, the labels are not trusted.
        _ => {}
    }
}

/// Sends play `seq` to the models.
pub fn observe(ctx: Ctx, seq: u64, play: Play) {
    ctx.synced.set_value(seq + 1);
    send(ctx, Pending::Observe { seq, sent_at: now_ms() }, Request::Observe { play });
}

/// Plays sent to the worker that it has not answered yet.
pub fn waiting_for_models(ctx: Ctx) -> bool {
    ctx.conversation.with_value(|c| c.observing() > 0)
}

pub fn train(ctx: Ctx) {
    ctx.training.set(true);
    ctx.status.set(format!("Training {} steps…", crate::state::STEPS_PER_CLICK));
    send(ctx, Pending::Train, Request::Train { steps: crate::state::STEPS_PER_CLICK });
}

/// Asks the worker whether the model file `name` fits the FP-aware slot; if it does, the models
/// are rebuilt with it (`Response::ModelChecked`), else the reason is shown and nothing changes.
pub fn check_model(ctx: Ctx, name: String, text: String) {
    let request = Request::CheckModel { catalog: ctx.kind.get_untracked(), skip_secs: ctx.skip_secs.get_untracked(), seed: ctx.seed.get_untracked(), name: name.clone(), text: text.clone() };
    ctx.status.set(format!("Checking {name}…"));
    send(ctx, Pending::CheckModel { name, text }, request);
}

/// Gives the FP-aware slot back to the page's own model.
pub fn drop_model(ctx: Ctx) {
    if let Some(m) = ctx.imported.get_untracked() {
        ctx.imported.set(None);
        ctx.status.set(format!("{} is out of the FP-aware slot: the page's own model is back.", m.name));
        start_models(ctx);
    }
}
