//! Autopilot: a listener persona (liked genres + a curiosity rate) plays and skips at ×60 while
//! a chart tracks hit rate @10 of both lists against the persona's ground truth: the share of
//! each top 10 the persona would actually like.

use crate::state::{self, Ctx};
use leptos::prelude::*;

#[derive(Clone, Debug, PartialEq)]
pub struct Persona {
    pub liked: Vec<usize>,
    pub curiosity: f32,
}

impl Persona {
    pub fn likes(&self, genre: usize) -> bool {
        self.liked.contains(&genre)
    }
}

/// The presets: pairs of neighbouring genres.
pub fn presets(genres: usize) -> Vec<Vec<usize>> {
    (0..genres / 2).map(|i| vec![2 * i, 2 * i + 1]).collect()
}

/// Share of `items` (catalog ids) the persona likes.
pub fn hit_rate(ctx: Ctx, persona: &Persona, items: &[u64]) -> f32 {
    let liked = items.iter().filter(|id| ctx.item(**id).is_some_and(|i| persona.likes(i.genre_index))).count();
    liked as f32 / items.len().max(1) as f32
}

fn random_below(n: usize) -> usize {
    ((js_sys::Math::random() * n as f64) as usize).min(n.saturating_sub(1))
}

/// What the persona clicks next: a curiosity click on a genre it does not like, else the first
/// item of the FP-aware list it likes and has not played, else (the list offers nothing it
/// likes) an item of its genres found by browsing the catalog.
fn choose(ctx: Ctx, persona: &Persona) -> Option<u64> {
    let catalog = ctx.catalog.get_untracked()?;
    let played: Vec<u64> = ctx.history.with_untracked(|h| h.iter().map(|e| e.play.item).collect());
    let pick = |likes: bool| {
        let ids: Vec<u64> =
            catalog.items.iter().filter(|i| persona.likes(i.genre_index) == likes && !played.contains(&i.id)).map(|i| i.id).collect();
        (!ids.is_empty()).then(|| ids[random_below(ids.len())])
    };
    if (js_sys::Math::random() as f32) < persona.curiosity {
        return pick(false);
    }
    let from_list = ctx.recs.with_untracked(|r| {
        r.iter().map(|r| r.item).find(|i| !played.contains(i) && ctx.item(*i).is_some_and(|it| persona.likes(it.genre_index)))
    });
    from_list.or_else(|| pick(true))
}

/// Called by the player clock: ends the current play when the persona would (at once, so a
/// skip stays a skip however long the models take), then picks the next once the models have
/// answered, so every choice sees the updated list.
pub fn step(ctx: Ctx) {
    if !ctx.autopilot.get_untracked() || !ctx.models_ready.get_untracked() {
        return;
    }
    let persona = ctx.persona.get_untracked();
    if let Some(item) = ctx.now.get_untracked().and_then(|id| ctx.item(id)) {
        let position = ctx.position.get_untracked();
        let done = match persona.likes(item.genre_index) {
            true => position >= ctx.skip_secs.get_untracked() + 5.0,
            false => position >= 2.0,
        };
        if done {
            state::finish(ctx);
        }
        return;
    }
    if !ctx.waiting_for_models() {
        if let Some(next) = choose(ctx, &persona) {
            state::play(ctx, next);
        }
    }
}

#[component]
pub fn Autopilot(ctx: Ctx) -> impl IntoView {
    let toggle = move |_| {
        let on = !ctx.autopilot.get_untracked();
        if on {
            ctx.hits.set(Vec::new());
            ctx.speed.set(60.0);
        }
        ctx.autopilot.set(on);
    };
    let chart = move || {
        let hits = ctx.hits.get();
        let n = hits.len();
        let line = |pick: fn(&(f32, f32)) -> f32| {
            hits.iter()
                .enumerate()
                .map(|(i, h)| format!("{:.1},{:.1}", 30.0 + 360.0 * i as f32 / (n.max(2) - 1) as f32, 150.0 - 130.0 * pick(h)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        view! {
            <polyline points=line(|h| h.1) class="series vanilla"></polyline>
            <polyline points=line(|h| h.0) class="series ada"></polyline>
        }
    };
    let summary = move || {
        let hits = ctx.hits.get();
        let last: Vec<&(f32, f32)> = hits.iter().rev().take(5).collect();
        if last.is_empty() {
            return "Start the autopilot to chart both models against the persona's tastes.".to_string();
        }
        let mean = |f: fn(&(f32, f32)) -> f32| last.iter().map(|h| f(h)).sum::<f32>() / last.len() as f32;
        format!("Hit rate @10 over the last {} plays: FP-AdaMetric {:.2}, Vanilla {:.2}", last.len(), mean(|h| h.0), mean(|h| h.1))
    };
    view! {
        <section class="panel" aria-labelledby="autopilot-heading">
            <h2 id="autopilot-heading">"Autopilot"</h2>
            <div class="settings">
                <label>
                    "Persona "
                    <select
                        aria-label="Persona"
                        on:change=move |e| {
                            if let Ok(i) = event_target_value(&e).parse::<usize>() {
                                let genres = ctx.catalog.get_untracked().map_or(0, |c| c.genres.len());
                                if let Some(liked) = presets(genres).get(i) {
                                    ctx.persona.update(|p| p.liked = liked.clone());
                                }
                            }
                        }
                    >
                        {move || ctx.catalog.get().map(|c| {
                            presets(c.genres.len())
                                .into_iter()
                                .enumerate()
                                .map(|(i, liked)| {
                                    let names: Vec<&str> = liked.iter().filter_map(|g| c.genres.get(*g).map(|s| s.as_str())).collect();
                                    view! { <option value=i.to_string()>{format!("Loves {}", names.join(" and "))}</option> }
                                })
                                .collect_view()
                        })}
                    </select>
                </label>
                <label>
                    "Curiosity "
                    <input
                        type="range"
                        min="0"
                        max="60"
                        step="5"
                        aria-label="Curiosity (% of clicks on disliked genres)"
                        prop:value=move || ((ctx.persona.get().curiosity * 100.0).round() as i32).to_string()
                        on:input=move |e| {
                            if let Ok(v) = event_target_value(&e).parse::<f32>() {
                                ctx.persona.update(|p| p.curiosity = v / 100.0);
                            }
                        }
                    />
                    {move || format!(" {:.0} %", ctx.persona.get().curiosity * 100.0)}
                </label>
                <button class="primary" aria-pressed=move || ctx.autopilot.get().to_string() on:click=toggle>
                    {move || if ctx.autopilot.get() { "Stop autopilot" } else { "Start autopilot" }}
                </button>
            </div>
            <svg viewBox="0 0 400 160" class="chart" role="img" aria-label="Hit rate @10 of both models, per play">
                <line x1="30" y1="150" x2="390" y2="150" class="axis"></line>
                <line x1="30" y1="20" x2="390" y2="20" class="grid-line"></line>
                <text x="4" y="24" class="tick">"1.0"</text>
                <text x="4" y="154" class="tick">"0"</text>
                {chart}
            </svg>
            <p class="hint legend">
                <span class="key line ada"></span>" FP-AdaMetric "
                <span class="key line vanilla"></span>" Vanilla · "
                {summary}
            </p>
        </section>
    }
}
