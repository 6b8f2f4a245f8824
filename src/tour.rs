//! The guided tour: short steps in plain words, each pointing at the live widget that shows it
//! (highlighted while its step is open), one of them a question answered from the live lists.
//! Dismissable, re-opened by the "Tour" button; focus stays in the tour as it steps.

use crate::state::Ctx;
use leptos::html;
use leptos::prelude::*;

/// The widgets a step can point at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Widget {
    Timeline,
    Player,
    Lists,
    Map,
    Dislike,
    Autopilot,
}

pub struct Step {
    pub title: &'static str,
    pub text: &'static str,
    pub widget: Widget,
    /// The step asks the visitor to predict before it shows the answer.
    pub predict: bool,
}

pub const STEPS: [Step; 7] = [
    Step {
        title: "A skip means “not this”",
        text: "Press Play, then Skip within a few seconds. Your session marks that play FP, a false positive: you clicked it, but you did not want it.",
        widget: Widget::Timeline,
        predict: false,
    },
    Step {
        title: "The threshold decides",
        text: "Anything stopped before the threshold counts as a skip. Move it if you like, and speed time up (×10, ×60) so you need not wait.",
        widget: Widget::Player,
        predict: false,
    },
    Step {
        title: "Your guess",
        text: "Skip two or three items of one genre, then guess: which list will still offer that genre?",
        widget: Widget::Lists,
        predict: true,
    },
    Step {
        title: "What the model sees",
        text: "Each dot is an item, the ringed dot your session. A skipped item (a cross) moves away from your session after each skip; its trail shows where it came from.",
        widget: Widget::Map,
        predict: false,
    },
    Step {
        title: "Not every skip means the same",
        text: "FP-AdaMetric weighs each of your recent skips before pushing it down. The bars show how much each counts; none can fall below half, so no skip is forgotten.",
        widget: Widget::Dislike,
        predict: false,
    },
    Step {
        title: "Let Autopilot listen",
        text: "Start Autopilot: a listener with fixed tastes plays and skips at ×60, now and then clicking a genre it dislikes out of curiosity. The chart shows how much of each list it would enjoy.",
        widget: Widget::Autopilot,
        predict: false,
    },
    Step {
        title: "Ask any item why",
        text: "Hover an item, or press its “?”, to see why it is there: its score change since your last play, the play it is closest to, and the skip that pushed it down.",
        widget: Widget::Lists,
        predict: false,
    },
];

/// Whether the open step points at `widget` (its panel is highlighted).
pub fn shows(ctx: Ctx, widget: Widget) -> bool {
    ctx.tour.get().and_then(|i| STEPS.get(i)).is_some_and(|s| s.widget == widget)
}

/// The answer to the guess, from the lists on screen now.
fn reveal(ctx: Ctx, guessed_fp_aware: bool) -> String {
    let guess = if guessed_fp_aware { "FP-AdaMetric's" } else { "Vanilla's" };
    match crate::app::skipped_genre_counts(ctx) {
        None => format!("You said {guess} list. Nothing skipped yet: skip a few items of one genre and look again."),
        Some((ada, vanilla)) => {
            let verdict = match (ada.cmp(&vanilla), guessed_fp_aware) {
                (std::cmp::Ordering::Less, false) => "Right: Vanilla learnt your skips as likes.",
                (std::cmp::Ordering::Less, true) => "Not this time: Vanilla learnt your skips as likes, FP-AdaMetric pushed them down.",
                (std::cmp::Ordering::Equal, _) => "Neither list is ahead yet: skip a little more of that genre.",
                // FP-AdaMetric pushes down the items skipped, not whole genres.
                (std::cmp::Ordering::Greater, _) => {
                    "FP-AdaMetric offers more of them right now: it pushes down the items you skipped, not their whole genre. Skip a few more of one genre and look again."
                }
            };
            format!("You said {guess} list. Right now, from genres you skipped: FP-AdaMetric offers {ada}, Vanilla {vanilla}. {verdict}")
        }
    }
}

#[component]
pub fn Tour(ctx: Ctx) -> impl IntoView {
    let guess = RwSignal::new(None::<bool>);
    let panel = NodeRef::<html::Aside>::new();
    // Each step re-renders the panel: focus goes to it, so the keyboard stays in the tour.
    Effect::new(move |_| {
        if ctx.tour.get().is_some() {
            if let Some(el) = panel.get() {
                el.focus().ok();
            }
        }
    });
    let go = move |i: Option<usize>| {
        guess.set(None);
        ctx.tour.set(i);
    };
    view! {
        <Show when=move || ctx.tour.get().is_some()>
            <aside class="tour panel" aria-label="Guided tour" tabindex="-1" node_ref=panel>
                {move || {
                    let i = ctx.tour.get().unwrap_or(0).min(STEPS.len() - 1);
                    let step = &STEPS[i];
                    view! {
                        <p class="tour-step">{format!("Step {} of {}", i + 1, STEPS.len())}</p>
                        <h2>{step.title}</h2>
                        <p>{step.text}</p>
                        {step.predict.then(|| view! {
                            <div class="controls" role="group" aria-label="Your guess">
                                <button aria-pressed=move || (guess.get() == Some(true)).to_string() on:click=move |_| guess.set(Some(true))>"FP-AdaMetric's list"</button>
                                <button aria-pressed=move || (guess.get() == Some(false)).to_string() on:click=move |_| guess.set(Some(false))>"Vanilla's list"</button>
                            </div>
                            <p id="tour-reveal" aria-live="polite">{move || guess.get().map(|g| reveal(ctx, g))}</p>
                        })}
                        <div class="controls">
                            <button disabled=i == 0 on:click=move |_| go(Some(i.saturating_sub(1)))>"Back"</button>
                            {(i + 1 < STEPS.len()).then(|| view! { <button class="primary" on:click=move |_| go(Some(i + 1))>"Next"</button> })}
                            <button on:click=move |_| go(None)>"Close tour"</button>
                        </div>
                    }
                }}
            </aside>
        </Show>
    }
}
