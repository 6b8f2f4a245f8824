//! The embedding map: FP-AdaMetric's item embeddings on their first two principal axes, the
//! session vector among them, the visitor's positives and FPs highlighted (the paper's Figure 3,
//! updated after every play). Items are tinted by genre, so clusters are visible at a glance;
//! plays are circles, skips crosses, and a skipped item's trail shows where it sat after each of
//! the last plays, so its move away from the session is seen, not remembered.

use crate::state::Ctx;
use leptos::prelude::*;

const W: f32 = 400.0;
const H: f32 = 280.0;
const PAD: f32 = 12.0;

#[component]
pub fn EmbeddingMap(ctx: Ctx) -> impl IntoView {
    let drawing = move || {
        let map = ctx.map.get()?;
        let catalog = ctx.catalog.get()?;
        let all = map.items.iter().chain(map.session.iter());
        let (mut x0, mut x1, mut y0, mut y1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        for [x, y] in all {
            x0 = x0.min(*x);
            x1 = x1.max(*x);
            y0 = y0.min(*y);
            y1 = y1.max(*y);
        }
        let sx = (W - 2.0 * PAD) / (x1 - x0).max(1e-6);
        let sy = (H - 2.0 * PAD) / (y1 - y0).max(1e-6);
        let at = move |[x, y]: [f32; 2]| (PAD + (x - x0) * sx, H - PAD - (y - y0) * sy);
        let history = ctx.timeline.with(|t| t.entries.clone());
        let skipped = ctx.skipped();
        let dots = map
            .items
            .iter()
            .zip(&catalog.items)
            .map(|(p, item)| {
                let (cx, cy) = at(*p);
                view! { <circle cx=cx cy=cy r="2.6" fill=format!("hsl({} 55% 60%)", item.hue) opacity="0.55"></circle> }
            })
            .collect_view();
        let trails = ctx.trails.get();
        let path = |points: &[[f32; 2]]| points.iter().map(|p| at(*p)).map(|(x, y)| format!("{x:.1},{y:.1}")).collect::<Vec<_>>().join(" ");
        let trail_lines = trails
            .items
            .iter()
            .filter(|(_, t)| t.len() > 1)
            .map(|(_, t)| view! { <polyline points=path(t) class="map-trail fp"></polyline> })
            .collect_view();
        let session_trail = (trails.session.len() > 1).then(|| view! { <polyline points=path(&trails.session) class="map-trail session"></polyline> });
        // Played: a circle; skipped: a cross (shape as well as colour).
        let mut seen = Vec::new();
        let marks = history
            .iter()
            .rev()
            .filter(|e| {
                let new = !seen.contains(&e.play.item);
                seen.push(e.play.item);
                new
            })
            .filter_map(|e| Some((e.play.item, map.items.get((e.play.item as usize).checked_sub(1)?)?, catalog.get(e.play.item)?.title.clone())))
            .map(|(id, p, title)| {
                let (cx, cy) = at(*p);
                let fp = skipped.contains(&id);
                let label = format!("{title} ({})", if fp { "skipped" } else { "played" });
                match fp {
                    true => view! {
                        <g class="map-fp" data-item=id.to_string()>
                            <title>{label}</title>
                            <line x1=cx - 5.0 y1=cy - 5.0 x2=cx + 5.0 y2=cy + 5.0></line>
                            <line x1=cx - 5.0 y1=cy + 5.0 x2=cx + 5.0 y2=cy - 5.0></line>
                        </g>
                    }
                    .into_any(),
                    false => view! {
                        <circle cx=cx cy=cy r="5.5" class="map-tp" data-item=id.to_string()><title>{label}</title></circle>
                    }
                    .into_any(),
                }
            })
            .collect_view();
        let session = map.session.map(|p| {
            let (cx, cy) = at(p);
            view! {
                <circle cx=cx cy=cy r="8" class="map-session"><title>"Your session (e_seq)"</title></circle>
                <text x=cx + 10.0 y=cy + 4.0 class="map-label">"session"</text>
            }
        });
        Some(view! { {dots} {trail_lines} {session_trail} {marks} {session} })
    };
    view! {
        <section class="panel" class:highlight=move || crate::tour::shows(ctx, crate::tour::Widget::Map) aria-labelledby="map-heading">
            <h2 id="map-heading">"What the model sees"</h2>
            <svg viewBox=format!("0 0 {W} {H}") class="map" role="img" aria-label="Embedding map: items, your plays and skips, and your session">
                {drawing}
            </svg>
            <p class="hint legend">
                <span class="key tp"></span>" played (circle) "
                <span class="key fp"></span>" skipped (cross; its line: where it was after your last plays) "
                <span class="key session"></span>" session vector · dots are items, tinted by genre (2-D PCA of FP-AdaMetric's item embeddings)"
            </p>
        </section>
    }
}
