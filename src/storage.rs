//! What the page keeps and exchanges: the saved history (kept per catalog, never overwritten
//! when unreadable), catalog switches, Import, Export, Reset, the FP threshold, and the page's
//! state in its address.

use crate::conversation::start_models;
use skipwise_protocol::warm_key;
use crate::history::{self, Loaded, Saved};
use crate::state::{Ctx, DEFAULT_SKIP_SECS, KeptAside};
use leptos::prelude::*;
use leptos::task::spawn_local;
use skipwise_page_logic::params::{self, Params, Shared};
use skipwise_page_logic::timeline::Timeline;
use skipwise_protocol::Catalog as Kind;
use std::sync::Arc;

/// The history of `kind` as this browser saved it; what could not be read is kept aside and
/// named in `ctx.kept_aside`.
fn load_timeline(ctx: Ctx, kind: Kind) -> (Timeline, Option<f32>) {
    ctx.kept_aside.set(history::kept_aside(kind).into_iter().map(|key| KeptAside { key, catalog: kind, why: "kept from an earlier visit".into() }).collect());
    match history::load_local(kind) {
        Ok(Loaded::Nothing) => (Timeline::default(), None),
        Ok(Loaded::Saved(s)) => (Timeline::from_plays(s.plays, s.dropped), Some(s.skip_secs)),
        Ok(Loaded::Unreadable { why, aside }) => {
            let key = aside.clone().unwrap_or_else(|| history::main_key(kind));
            ctx.kept_aside.update(|k| {
                k.retain(|a| a.key != key);
                k.push(KeptAside { key, catalog: kind, why: why.clone() });
            });
            ctx.warn(match aside {
                Some(_) => format!("{why}. It is kept aside (download it below); your new plays are saved apart from it."),
                None => format!("{why}. It could not be moved aside, so nothing is saved over it: download or discard it below."),
            });
            (Timeline::default(), None)
        }
        Err(e) => {
            ctx.warn(format!("Your history cannot be saved in this browser ({e}); the page works, and your plays last as long as this tab."));
            (Timeline::default(), None)
        }
    }
}

/// The page at load: the address's parameters over the saved history of its catalog.
pub fn init(ctx: Ctx, params: &Params) {
    for note in &params.notes {
        ctx.warn(format!("Address: {note}."));
    }
    let kind = ctx.kind.get_untracked();
    let (timeline, saved_secs) = load_timeline(ctx, kind);
    let first_visit = timeline.is_empty();
    ctx.timeline.set(timeline);
    ctx.skip_secs.set(params.threshold.or(saved_secs).unwrap_or(DEFAULT_SKIP_SECS));
    ctx.tour.set(first_visit.then_some(0));
}

pub fn persist(ctx: Ctx) {
    let kind = ctx.kind.get_untracked();
    if ctx.kept_aside.with_untracked(|k| k.iter().any(|a| a.key == history::main_key(kind))) {
        // An unreadable history still sits under this key: never save over it.
        return;
    }
    let saved = saved(ctx);
    if let Err(e) = history::save_local(&saved) {
        ctx.warn(format!("Your plays could not be saved in this browser ({e}); they are kept in this tab."));
    }
}

fn saved(ctx: Ctx) -> Saved {
    let (plays, dropped) = ctx.timeline.with_untracked(|t| (t.plays(), t.dropped));
    Saved { dropped, ..Saved::new(ctx.kind.get_untracked(), ctx.skip_secs.get_untracked(), plays) }
}

/// Offers a kept-aside history for download.
pub fn download_kept(ctx: Ctx, key: &str) {
    match history::read_raw(key) {
        Some(text) => {
            let name = format!("{}.json", key.replace('.', "-"));
            if let Err(e) = crate::files::download(&name, &text) {
                ctx.warn(format!("The download failed: {e}"));
            }
        }
        None => ctx.warn(format!("{key} is no longer in this browser's storage.")),
    }
}

pub fn discard_kept(ctx: Ctx, key: &str) {
    match history::remove_raw(key) {
        Ok(()) => ctx.kept_aside.update(|k| k.retain(|a| a.key != key)),
        Err(e) => ctx.warn(format!("It could not be removed: {e}")),
    }
}

/// Loads the catalog of `kind` and its saved history, then rebuilds the models.
pub fn switch_catalog(ctx: Ctx, kind: Kind) {
    // A model file knows one catalog's items.
    if let Some(m) = ctx.imported.get_untracked() {
        ctx.imported.set(None);
        ctx.status.set(format!("{} was for the other catalog: the page's own model holds the FP-aware slot.", m.name));
    }
    ctx.kind.set(kind);
    history::set_last_catalog(kind);
    let (timeline, saved_secs) = load_timeline(ctx, kind);
    replace_timeline(ctx, timeline);
    if let Some(s) = saved_secs {
        ctx.skip_secs.set(s);
    }
    ctx.genre.set(0);
    load_catalog(ctx, kind, None);
}

/// Puts `timeline` in place of the current history (a catalog switch, a reset, an import): the
/// autopilot and the current play stop unrecorded, and the lists of the old history go.
fn replace_timeline(ctx: Ctx, timeline: Timeline) {
    ctx.autopilot.set(false);
    ctx.stop_playing();
    ctx.timeline.set(timeline);
    // Nothing asked about the old lists matters now.
    ctx.conversation.update_value(|c| c.new_epoch());
    ctx.recs.set(Vec::new());
    ctx.dropped.set(Vec::new());
    // The models are rebuilt: the loss chart shows theirs only.
    ctx.losses.set(Vec::new());
    ctx.vanilla.set(Vec::new());
    ctx.weights.set(Vec::new());
    ctx.map.set(None);
    ctx.trails.set(Default::default());
    ctx.latency.set(None);
    ctx.learned.set(0);
}

/// Fetches `kind`'s catalog; then applies `import` (checked against it) if given, and starts the models.
pub fn load_catalog(ctx: Ctx, kind: Kind, import: Option<Saved>) {
    if import.is_none() {
        ctx.catalog.set(None);
    }
    spawn_local(async move {
        match crate::catalog::load(kind).await {
            Ok(c) => {
                if let Some(saved) = import {
                    // Checked before anything is replaced: a bad file leaves the page as it was.
                    if let Err(e) = saved.check_items(&c) {
                        import_failed(ctx, e);
                        return;
                    }
                    ctx.catalog.set(Some(Arc::new(c)));
                    ctx.genre.set(0);
                    apply_import(ctx, saved);
                    return;
                }
                // The visitor may have switched again while this one loaded.
                if ctx.kind.get_untracked() == kind {
                    ctx.catalog.set(Some(Arc::new(c)));
                    start_models(ctx);
                }
            }
            Err(e) => ctx.warn(e),
        }
    });
}

/// Clears the current catalog's history and cached weights (the other catalog keeps its own),
/// and rebuilds the models from `seed`.
pub fn reset(ctx: Ctx, new_seed: bool) {
    ctx.confirm_reset.set(false);
    let kind = ctx.kind.get_untracked();
    if let Err(e) = history::clear_local(kind) {
        ctx.warn(e);
    }
    let old_seed = ctx.seed.get_untracked();
    if new_seed {
        // Any other seed will do; the clock makes it differ from one reset to the next.
        let drawn = js_sys::Date::now() as u64 % 1_000_000;
        ctx.seed.set(if drawn == old_seed { drawn + 1 } else { drawn });
    }
    replace_timeline(ctx, Timeline::default());
    ctx.hits.set(Vec::new());
    let warm_steps = ctx.warm_steps();
    ctx.message.set(format!(
        "Your {} history and its cached weights were cleared; the models train again from scratch{}.",
        kind.name(),
        if new_seed { " with a new seed" } else { "" }
    ));
    spawn_local(async move {
        for key in [warm_key(kind, old_seed, warm_steps), crate::conversation::learnt_key(kind, old_seed, warm_steps)] {
            if let Err(e) = crate::cache::delete(&key).await {
                ctx.warn(format!("The cached weights could not be cleared ({e})."));
            }
        }
        start_models(ctx);
    });
}

/// Replaces the history (and the cached weights, when the file has some) with an import's.
fn apply_import(ctx: Ctx, saved: Saved) {
    let seed = ctx.seed.get_untracked();
    let warm_steps = ctx.warm_steps();
    let warm = saved.warm.clone().map(|w| (saved.catalog, w));
    ctx.kind.set(saved.catalog);
    history::set_last_catalog(saved.catalog);
    ctx.skip_secs.set(saved.skip_secs);
    let n = saved.plays.len();
    replace_timeline(ctx, Timeline::from_plays(saved.plays, saved.dropped));
    ctx.alert.set(String::new());
    // An import replaces what this catalog had, kept-aside copies excepted.
    ctx.kept_aside.update(|k| k.retain(|a| a.key != history::main_key(saved.catalog)));
    let stored = history::save_local(&self::saved(ctx));
    ctx.message.set(format!(
        "Imported {n} plays{}{}",
        if warm.is_some() { " and the models' weights" } else { "" },
        match &stored {
            Ok(()) => ". Saved in this browser.".to_string(),
            Err(e) => format!(", but not saved in this browser ({e})."),
        }
    ));
    spawn_local(async move {
        if let Some((kind, w)) = warm {
            if let Err(e) = crate::cache::put(&warm_key(kind, seed, warm_steps), &w).await {
                ctx.warn(format!("The imported weights could not be stored ({e}); the models train from scratch."));
            }
        }
        start_models(ctx);
    });
}

/// Says why an import was refused; nothing was changed.
pub fn import_failed(ctx: Ctx, why: impl std::fmt::Display) {
    ctx.warn(format!("Import failed: {why}. Your current history is unchanged."));
}

/// Reads an exported file: nothing changes unless the whole file is valid.
pub fn import_text(ctx: Ctx, text: String) {
    let saved = match Saved::parse(&text) {
        Ok(s) => s,
        Err(e) => return import_failed(ctx, e),
    };
    let same = saved.catalog == ctx.kind.get_untracked();
    let checked = same.then(|| ctx.catalog.with_untracked(|c| c.as_ref().map(|c| saved.check_items(c)))).flatten();
    match checked {
        Some(Err(e)) => import_failed(ctx, e),
        Some(Ok(())) => apply_import(ctx, saved),
        // Another catalog (or none loaded yet): check against it once it is fetched.
        None => load_catalog(ctx, saved.catalog, Some(saved)),
    }
}

/// The export file: the history and, when this browser has them, the warm-start weights.
pub async fn export_json(ctx: Ctx) -> String {
    let mut saved = saved(ctx);
    saved.warm = crate::cache::get(&warm_key(saved.catalog, ctx.seed.get_untracked(), ctx.warm_steps())).await.ok().flatten();
    saved.to_json()
}

/// The threshold for plays from now on: plays already made keep the label they were given.
pub fn set_skip_secs(ctx: Ctx, secs: f32) {
    ctx.skip_secs.set(secs);
    persist(ctx);
}

/// Keeps the address in step with the shareable state (catalog, threshold, speed, persona,
/// curiosity, seed), without adding to the browser's back history.
pub fn sync_address(ctx: Ctx, params: &Params) {
    let (warm, fault) = (params.warm, params.fault);
    Effect::new(move |_| {
        let shared = Shared {
            catalog: ctx.kind.get(),
            threshold: ctx.skip_secs.get(),
            speed: ctx.speed.get(),
            persona: ctx.persona_index.get(),
            curiosity: (ctx.persona.with(|p| p.curiosity) * 100.0).round(),
            seed: ctx.seed.get(),
        };
        let query = params::query(&shared, warm, fault);
        if let Some(h) = web_sys::window().and_then(|w| w.history().ok()) {
            // Best effort: an address that does not update costs sharing, nothing else.
            h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&query)).ok();
        }
    });
}

/// The address's `search` part.
pub fn search() -> String {
    web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default()
}

