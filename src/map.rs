//! The embedding map: FP-AdaMetric's item embeddings on their first two principal axes, the
//! session vector among them, the visitor's positives and FPs highlighted (the paper's Figure 3,
//! updated after every play). Items are tinted by genre, so clusters are visible at a glance.

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
        let marks = history
            .iter()
            .filter_map(|e| Some((e.play.item, map.items.get((e.play.item as usize).checked_sub(1)?)?, catalog.get(e.play.item)?.title.clone())))
            .map(|(id, p, title)| {
                let (cx, cy) = at(*p);
                let fp = skipped.contains(&id);
                view! {
                    <circle cx=cx cy=cy r="5.5" class=if fp { "map-fp" } else { "map-tp" }>
                        <title>{format!("{title} ({})", if fp { "skipped" } else { "played" })}</title>
                    </circle>
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
        Some(view! { {dots} {marks} {session} })
    };
    view! {
        <section class="panel" class:highlight=move || ctx.tour.get() == Some(3) aria-labelledby="map-heading">
            <h2 id="map-heading">"What the model sees"</h2>
            <svg viewBox=format!("0 0 {W} {H}") class="map" role="img" aria-label="Embedding map: items, your plays and skips, and your session">
                {drawing}
            </svg>
            <p class="hint legend">
                <span class="key tp"></span>" played "
                <span class="key fp"></span>" skipped "
                <span class="key session"></span>" session vector · dots are items, tinted by genre (2-D PCA of FP-AdaMetric's item embeddings)"
            </p>
        </section>
    }
}
