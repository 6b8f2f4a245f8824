//! The guided tour: short steps, each pointing at the live widget that shows it (the widget is
//! highlighted while its step is open). Dismissable, and re-opened by the "Tour" button.

use crate::state::Ctx;
use leptos::prelude::*;

/// (title, text); step i highlights the widget whose `class:highlight` names i.
pub const STEPS: [(&str, &str); 6] = [
    (
        "A skip is a false positive",
        "Play something, then skip the next item within a few seconds. The session timeline marks it FP: you clicked it, but you did not want it.",
    ),
    (
        "The threshold decides",
        "Anything stopped before the FP threshold counts as a skip. Change it, and speed time up (×10, ×60) so you need not wait.",
    ),
    (
        "Why skips poison Vanilla",
        "Vanilla treats every click as a like. Skip a few items of one genre and watch its list keep offering that genre.",
    ),
    (
        "FP-Simple and the metric term",
        "Dropping the skips from the session (FP-Simple) already helps. FP-AdaMetric also adds a hinge term that pushes the session's representation away from what you skipped.",
    ),
    (
        "Degree of dislike",
        "Not every skip means the same. A small learned module weighs each skipped item before the push: the bars show its weight for each of your skips.",
    ),
    (
        "Now you",
        "Play one genre and skip another. The arrows show each item rising or falling after every event, and the latency line says how long the update took.",
    ),
];

#[component]
pub fn Tour(ctx: Ctx) -> impl IntoView {
    view! {
        <Show when=move || ctx.tour.get().is_some()>
            {move || {
                let i = ctx.tour.get().unwrap_or(0).min(STEPS.len() - 1);
                let (title, text) = STEPS[i];
                view! {
                    <aside class="tour panel" aria-label="Guided tour">
                        <p class="tour-step">{format!("Step {} of {}", i + 1, STEPS.len())}</p>
                        <h2>{title}</h2>
                        <p>{text}</p>
                        <div class="controls">
                            <button disabled=i == 0 on:click=move |_| ctx.tour.set(Some(i.saturating_sub(1)))>"Back"</button>
                            {(i + 1 < STEPS.len()).then(|| view! { <button class="primary" on:click=move |_| ctx.tour.set(Some(i + 1))>"Next"</button> })}
                            <button on:click=move |_| ctx.tour.set(None)>"Close tour"</button>
                        </div>
                    </aside>
                }
            }}
        </Show>
    }
}
