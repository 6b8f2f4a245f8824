//! Autopilot: a listener persona (liked genres + a curiosity rate) plays and skips at ×60 while
//! a chart tracks hit rate @10 of both lists against the persona's ground truth: the share of
//! each top 10 the persona would actually like. The persona's rules are
//! `skipwise_page_logic::persona`'s; this module only drives the player with them.

use crate::player;
use crate::state::Ctx;
use leptos::prelude::*;
use skipwise_page_logic::persona::presets;

/// Called by the page's timer after the player's clock: once the models have answered the last
/// play, picks the next item and plans where the persona will stop it (a skip at 2 s, or a play
/// past the threshold), so every choice sees the updated list and every stop is exact.
pub fn step(ctx: Ctx) {
    if !ctx.autopilot.get_untracked() || !ctx.models_ready.get_untracked() || ctx.now.get_untracked().is_some() {
        return;
    }
    if crate::conversation::waiting_for_models(ctx) {
        return;
    }
    let persona = ctx.persona.get_untracked();
    let Some(catalog) = ctx.catalog.get_untracked() else { return };
    let items: Vec<(u64, usize)> = catalog.items.iter().map(|i| (i.id, i.genre_index)).collect();
    let recent: Vec<u64> = ctx.timeline.with_untracked(|t| t.recent_items(skipwise_page_logic::persona::REPLAY_AFTER));
    let list: Vec<u64> = ctx.recs.with_untracked(|r| r.iter().map(|r| r.item).collect());
    let Some(next) = persona.choose(&items, &recent, &list, &mut || js_sys::Math::random()) else { return };
    let Some(item) = ctx.item(next) else { return };
    player::play(ctx, next);
    player::stop_at(ctx, persona.stop_secs(item.genre_index, ctx.skip_secs.get_untracked()));
}

fn series(ctx: Ctx, pick: fn(&(f32, f32)) -> f32) -> String {
    ctx.hits.with(|h| h.iter().map(|x| format!("{:.2}", pick(x))).collect::<Vec<_>>().join(" "))
}

#[component]
pub fn Autopilot(ctx: Ctx) -> impl IntoView {
    let toggle = move |_| {
        let on = !ctx.autopilot.get_untracked();
        if on {
            ctx.hits.set(Vec::new());
            player::set_speed(ctx, 60.0);
            // What plays now is the visitor's, not the persona's: it ends here, as it is.
            player::finish(ctx);
        }
        ctx.autopilot.set(on);
    };
    let chart = move || {
        let hits = ctx.hits.get();
        let line = |pick: fn(&(f32, f32)) -> f32| {
            let values: Vec<f32> = hits.iter().map(pick).collect();
            skipwise_page_logic::chart::polyline(&values, 30.0, 390.0, |v| 150.0 - 130.0 * v)
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
        <section class="panel" class:highlight=move || crate::tour::shows(ctx, crate::tour::Widget::Autopilot) aria-labelledby="autopilot-heading">
            <h2 id="autopilot-heading">"Autopilot"</h2>
            <div class="settings">
                <label>
                    "Persona "
                    <select
                        aria-label="Persona"
                        prop:value=move || ctx.persona_index.get().to_string()
                        on:change=move |e| {
                            if let Ok(i) = event_target_value(&e).parse::<usize>() {
                                let genres = ctx.catalog.get_untracked().map_or(0, |c| c.genres.len());
                                if let Some(liked) = presets(genres).get(i) {
                                    ctx.persona.update(|p| p.liked = liked.clone());
                                    ctx.persona_index.set(i);
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
            // The series as data too, for the browser test that prints and checks them.
            <svg
                viewBox="0 0 400 160"
                class="chart"
                role="img"
                aria-label="Hit rate @10 of both models, per play"
                id="hit-rate-chart"
                data-fp-aware=move || series(ctx, |h| h.0)
                data-vanilla=move || series(ctx, |h| h.1)
            >
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
