//! The page's layout. State lives in `state`, actions in `player`, `conversation` and `storage`;
//! this file only arranges widgets.

use crate::state::{Ctx, STEPS_PER_CLICK};
use crate::tour::{self, Tour, Widget};
use crate::{conversation, player, storage};
use leptos::ev;
use leptos::prelude::*;
use skipwise_page_logic::lists::{Row, delta_badge, reason_text};
use skipwise_page_logic::params::{self, SPEEDS};
use skipwise_page_logic::persona::presets;
use skipwise_protocol::Catalog as Kind;
use std::time::Duration;
use wasm_bindgen::JsCast;

fn mmss(secs: f32) -> String {
    let s = secs.max(0.0) as u32;
    format!("{}:{:02}", s / 60, s % 60)
}

fn on_key(ctx: Ctx, e: web_sys::KeyboardEvent) {
    // Typing in a field is not a player command, and Space on a focused button presses it.
    let tag = e.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).map(|el| el.tag_name()).unwrap_or_default();
    if matches!(tag.as_str(), "INPUT" | "SELECT" | "TEXTAREA") || e.ctrl_key() || e.meta_key() || e.alt_key() {
        return;
    }
    match e.key().as_str() {
        " " if tag != "BUTTON" => {
            e.prevent_default();
            player::toggle(ctx);
        }
        "s" | "S" => player::skip(ctx),
        "l" | "L" => player::like(ctx),
        _ => {}
    }
}

#[component]
pub fn App() -> impl IntoView {
    let params = params::parse(&storage::search());
    let ctx = Ctx::new(&params);
    storage::init(ctx, &params);
    storage::sync_address(ctx, &params);
    // The persona the address names, once the catalog says which presets there are.
    let persona_param = StoredValue::new(params.persona);
    Effect::new(move |_| {
        let Some(genres) = ctx.catalog.with(|c| c.as_ref().map(|c| c.genres.len())) else { return };
        let options = presets(genres);
        let mut notes = Vec::new();
        let wanted = persona_param.try_update_value(|p| p.take()).flatten().unwrap_or_else(|| ctx.persona_index.get_untracked());
        let i = params::clamp_persona(wanted, options.len(), &mut notes);
        notes.into_iter().for_each(|n| ctx.warn(format!("Address: {n}.")));
        if let Some(liked) = options.get(i) {
            ctx.persona.update(|p| p.liked = liked.clone());
            ctx.persona_index.set(i);
        }
    });
    let gpu_failed = crate::history::gpu_failure();
    conversation::start_worker(ctx, gpu_failed.is_none(), gpu_failed);
    storage::load_catalog(ctx, ctx.kind.get_untracked(), None);
    // The page lives as long as the tab, so the clock and the key listener are never removed.
    // The timer only decides when the page looks: positions come from the play's clock.
    let timer = move || {
        player::tick(ctx);
        crate::autopilot::step(ctx);
    };
    if let Err(e) = set_interval_with_handle(timer, Duration::from_millis(100)) {
        ctx.warn(format!("The player clock could not start: {e:?}"));
    }
    let _keys = window_event_listener(ev::keydown, move |e| on_key(ctx, e));
    // The Lab (its own wasm, and its worker) loads the first time its tab opens, then is kept.
    let lab = RwSignal::new(storage::search().contains("tab=lab"));
    let lab_opened = RwSignal::new(lab.get_untracked());
    let tab = move |is_lab: bool, label: &'static str| {
        view! {
            <button
                role="tab"
                class="tab"
                aria-selected=move || (lab.get() == is_lab).to_string()
                on:click=move |_| {
                    lab.set(is_lab);
                    lab_opened.update(|o| *o |= is_lab);
                }
            >
                {label}
            </button>
        }
    };
    view! {
        <main class="app">
            <Header ctx />
            <nav role="tablist" aria-label="Views" class="tabs">
                {tab(false, "Player")}
                {tab(true, "Lab")}
            </nav>
            <Show when=move || lab_opened.get()>
                <div hidden=move || !lab.get()>
                    <crate::lab_loader::LabRoot />
                </div>
            </Show>
            <div class="player-view" hidden=move || lab.get()>
            <Tour ctx />
            <Warmup ctx />
            <p role="alert" class="alert" hidden=move || ctx.alert.with(|a| a.is_empty())>{move || ctx.alert.get()}</p>
            <KeptAside ctx />
            <div class="grid">
                <div class="col">
                    <Player ctx />
                    <Timeline ctx />
                    <crate::autopilot::Autopilot ctx />
                    <Browse ctx />
                </div>
                <div class="col">
                    <Twin ctx />
                    <crate::map::EmbeddingMap ctx />
                    <Dislike ctx />
                </div>
            </div>
            <UnderTheHood ctx />
            </div>
            {storage::search().contains("bench=codec").then(|| view! { <crate::codec_bench::CodecBench /> })}
        </main>
    }
}

#[component]
fn Header(ctx: Ctx) -> impl IntoView {
    let kind_button = move |kind: Kind, label: &'static str| {
        view! {
            <button
                class="toggle"
                aria-pressed=move || (ctx.kind.get() == kind).to_string()
                on:click=move |_| if ctx.kind.get_untracked() != kind { storage::switch_catalog(ctx, kind) }
            >
                {label}
            </button>
        }
    };
    view! {
        <header class="top">
            <div>
                <h1>"Skipwise"</h1>
                <p class="tagline">
                    "Play and skip. A recommender learns, live in your browser, that a skip is not a like."
                </p>
            </div>
            <div class="top-controls">
                <div role="group" aria-label="Catalog kind" class="segmented">
                    {kind_button(Kind::Music, "Music")}
                    {kind_button(Kind::Movies, "Movies")}
                </div>
                <button class="ghost" on:click=move |_| ctx.tour.set(Some(0))>"Tour"</button>
            </div>
            <p id="backend" class="backend">"Backend: " {move || ctx.backend.get()}</p>
        </header>
    }
}

#[component]
fn Warmup(ctx: Ctx) -> impl IntoView {
    view! {
        <Show when=move || ctx.progress.with(|p| p.is_some())>
            <div class="warmup">
                {move || {
                    let (what, done, total) = ctx.progress.get().unwrap_or_default();
                    view! {
                        <label for="warmup">{format!("{what}: {done} / {total}")}</label>
                        <progress id="warmup" max=total.max(1) value=done></progress>
                    }
                }}
            </div>
        </Show>
    }
}

#[component]
fn Player(ctx: Ctx) -> impl IntoView {
    let item = move || ctx.now.get().and_then(|id| ctx.item(id));
    let duration = move || item().map_or(0.0, |i| i.duration_secs);
    let threshold_pct = move || {
        let d = duration();
        if d > 0.0 { (ctx.skip_secs.get() / d * 100.0).min(100.0) } else { 0.0 }
    };
    view! {
        <section class="panel player" class:highlight=move || tour::shows(ctx, Widget::Player) aria-labelledby="player-heading">
            <h2 id="player-heading">"Now playing"</h2>
            <div class="now" id="now" data-item=move || ctx.now.get().map(|id| id.to_string()).unwrap_or_default()>
                {move || match item() {
                    Some(i) => view! {
                        <div class="cover big" style=i.cover_style() aria-hidden="true">{i.initials()}</div>
                        <div class="now-text">
                            <p class="title">{i.title.clone()}</p>
                            <p class="byline">{i.byline()}</p>
                            <p class="byline">
                                {match i.tempo_bpm {
                                    Some(bpm) => format!("{bpm} BPM · synthesised clip"),
                                    None => format!("{} min · trailer", i.runtime_min.unwrap_or(0)),
                                }}
                            </p>
                        </div>
                    }.into_any(),
                    None => view! {
                        <div class="cover big empty" aria-hidden="true">"♪"</div>
                        <div class="now-text">
                            <p class="title">"Nothing playing"</p>
                            <p class="byline">"Press Play for the top recommendation, or pick an item below."</p>
                        </div>
                    }.into_any(),
                }}
            </div>
            <div class="track" aria-hidden="true">
                <div class="track-fill" style=move || format!("width: {:.1}%", if duration() > 0.0 { ctx.position.get() / duration() * 100.0 } else { 0.0 })></div>
                <div class="track-threshold" style=move || format!("left: {:.1}%", threshold_pct())></div>
            </div>
            <p class="time" id="position">
                {move || format!("{} / {}", mmss(ctx.position.get()), mmss(duration()))}
                <span class="hint">{move || format!(" · skips before {} s are false positives", ctx.skip_secs.get())}</span>
            </p>
            <div class="controls">
                <button
                    class="primary"
                    aria-label=move || if ctx.playing.get() { "Pause" } else { "Play" }
                    aria-keyshortcuts="Space"
                    disabled=move || ctx.now.get().is_none() && ctx.recs.with(|r| r.is_empty())
                    on:click=move |_| player::toggle(ctx)
                >
                    {move || if ctx.playing.get() { "❚❚ Pause" } else { "▶ Play" }}
                </button>
                <button aria-label="Skip" aria-keyshortcuts="S" disabled=move || ctx.now.get().is_none() on:click=move |_| player::skip(ctx)>
                    "» Skip"
                </button>
                <button
                    aria-label="Like"
                    aria-keyshortcuts="L"
                    aria-pressed=move || ctx.liked.get().to_string()
                    disabled=move || ctx.now.get().is_none()
                    on:click=move |_| player::like(ctx)
                >
                    {move || if ctx.liked.get() { "♥ Liked" } else { "♡ Like" }}
                </button>
            </div>
            <div class="settings">
                <div role="group" aria-label="Speed" class="segmented">
                    {SPEEDS
                        .iter()
                        .map(|s| {
                            let s = *s;
                            view! {
                                <button class="toggle" aria-pressed=move || (ctx.speed.get() == s).to_string() on:click=move |_| player::set_speed(ctx, s)>
                                    {format!("×{s}")}
                                </button>
                            }
                        })
                        .collect_view()}
                </div>
                <label class="threshold">
                    "FP threshold: "
                    <input
                        type="range"
                        min="1"
                        max="30"
                        step="1"
                        aria-label="FP threshold (seconds)"
                        prop:value=move || ctx.skip_secs.get().to_string()
                        on:input=move |e| {
                            if let Ok(v) = event_target_value(&e).parse::<f32>() {
                                storage::set_skip_secs(ctx, v);
                            }
                        }
                    />
                    {move || format!(" {} s", ctx.skip_secs.get())}
                </label>
            </div>
            <p id="play-message" class="message" class:fp=move || ctx.message.with(|m| m.starts_with("FP"))>
                {move || ctx.message.get()}
            </p>
            <p id="latency" class="latency" aria-live="polite">
                {move || {
                    let n = ctx.learned.get();
                    match ctx.latency.get() {
                        Some(ms) => format!(
                            "Learnt from {n} plays · click to new list: {ms:.0} ms (models {:.0} ms)",
                            ctx.worker_ms.get()
                        ),
                        None => format!("Learnt from {n} plays"),
                    }
                }}
            </p>
        </section>
    }
}

/// An item as a button that plays it: cover, title and byline, then `trailing` (badges, length).
fn item_row<T: IntoView>(ctx: Ctx, i: &crate::catalog::Item, trailing: T) -> impl IntoView + use<T> {
    let id = i.id;
    view! {
        <button class="row" aria-label=format!("Play {}", i.title) on:click=move |_| player::play(ctx, id)>
            <span class="cover" style=i.cover_style() aria-hidden="true">{i.initials()}</span>
            <span class="row-text">
                <span class="title">{i.title.clone()}</span>
                <span class="byline">{i.byline()}</span>
            </span>
            {trailing}
        </button>
    }
}

#[component]
fn RecList(ctx: Ctx, rows: RwSignal<Vec<Row>>, label: &'static str) -> impl IntoView {
    view! {
        <ol aria-label=label class="recs">
            // Keyed by item, rank, move and mark: a row re-renders only when what it shows changed.
            <For
                each=move || {
                    let skipped = ctx.skipped();
                    rows.get().into_iter().enumerate().map(|(rank, r)| (rank, skipped.contains(&r.item), r)).collect::<Vec<_>>()
                }
                key=|(rank, skipped, r): &(usize, bool, Row)| (r.item, *rank, r.delta, *skipped)
                children=move |(_, was_skipped, r)| {
                    ctx.item(r.item).map(|i| {
                        let (badge, class) = delta_badge(r.delta);
                        let trailing = view! {
                            {was_skipped.then(|| view! { <span class="badge fp">"skipped"</span> })}
                            <span class=format!("delta {class}")>{badge}</span>
                        };
                        let id = i.id;
                        let open = move || ctx.why.get() == Some((label, id));
                        let reason = move || {
                            let skipped = ctx.skipped();
                            let title = |x: u64| ctx.item(x).map(|i| i.title.clone());
                            rows.with(|rs| rs.iter().find(|x| x.item == id).map(|x| reason_text(&x.reason, title, &skipped, label != "Recommendations")))
                        };
                        let reason_id = format!("why-{}-{id}", if label == "Recommendations" { "ada" } else { "vanilla" });
                        view! {
                            <li data-genre=i.genre.clone() data-item=i.id.to_string() class:fp=was_skipped>
                                {item_row(ctx, &i, trailing)}
                                <button
                                    class="why ghost"
                                    aria-label=format!("Why {}?", i.title)
                                    aria-expanded=move || open().to_string()
                                    aria-controls=reason_id.clone()
                                    on:click=move |_| ctx.why.set(if open() { None } else { Some((label, id)) })
                                >"?"</button>
                                <p class="reason" class:open=open id=reason_id>{reason}</p>
                            </li>
                        }
                    })
                }
            />
        </ol>
    }
}

/// "From genres you skipped: FP-AdaMetric n · Vanilla m": the lesson at a glance.
pub(crate) fn skipped_genre_counts(ctx: Ctx) -> Option<(usize, usize)> {
    let genre_of = |id: u64| ctx.item(id).map(|i| i.genre_index);
    let genres = ctx.timeline.with(|t| {
        skipwise_page_logic::lists::skipped_genres(t.entries.iter().filter_map(|e| Some((genre_of(e.play.item)?, e.fp?))))
    });
    if genres.is_empty() {
        return None;
    }
    let ids = |rows: &[Row]| rows.iter().map(|r| r.item).collect::<Vec<_>>();
    let count = |rows: RwSignal<Vec<Row>>| rows.with(|r| skipwise_page_logic::lists::count_in_genres(&ids(r), &genres, genre_of));
    Some((count(ctx.recs), count(ctx.vanilla)))
}

/// "Dropped since your last play: …", skips marked; empty before the first play.
fn dropped_text(ctx: Ctx) -> String {
    let dropped = ctx.dropped.get();
    if ctx.learned.get() == 0 {
        return String::new();
    }
    if dropped.is_empty() {
        return "Nothing dropped out since your last play.".into();
    }
    let skipped = ctx.skipped();
    let names: Vec<String> = dropped
        .iter()
        .filter_map(|id| ctx.item(*id).map(|i| format!("{}{}", i.title, if skipped.contains(id) { " (skipped)" } else { "" })))
        .collect();
    format!("Dropped since your last play: {}", names.join(" · "))
}

#[component]
fn Twin(ctx: Ctx) -> impl IntoView {
    view! {
        <p id="skipped-genre-counts" class="hint counts" aria-live="polite">
            {move || skipped_genre_counts(ctx).map(|(ada, vanilla)| format!("From genres you skipped: FP-AdaMetric {ada} · Vanilla {vanilla}"))}
        </p>
        <section class="panel twin" class:highlight=move || tour::shows(ctx, Widget::Lists) aria-label="Twin view">
            <div class="twin-col">
                <h2>"FP-AdaMetric"</h2>
                <p class="hint">"Learns from skips: drops them from the session and pushes them away."</p>
                <p id="dropped" class="hint dropped" aria-live="polite">{move || dropped_text(ctx)}</p>
                <RecList ctx rows=ctx.recs label="Recommendations" />
            </div>
            <div class="twin-col">
                <h2>"Vanilla"</h2>
                <p class="hint">"Treats every click as a like, skips included."</p>
                <RecList ctx rows=ctx.vanilla label="Vanilla recommendations" />
            </div>
        </section>
    }
}

#[component]
fn Dislike(ctx: Ctx) -> impl IntoView {
    view! {
        <section class="panel" class:highlight=move || tour::shows(ctx, Widget::Dislike) aria-labelledby="dislike-heading">
            <h2 id="dislike-heading">"Degree of dislike"</h2>
            <p class="hint">
                "FP-AdaMetric's adaptive module weighs each skipped item before pushing the session away from it."
            </p>
            <ul aria-label="Degree of dislike" class="bars">
                {move || {
                    ctx.weights
                        .get()
                        .into_iter()
                        .filter_map(|w| ctx.item(w.item).map(|i| (w.weight, i)))
                        .map(|(w, i)| view! {
                            <li>
                                <span class="bar-label">{i.title.clone()}</span>
                                <span class="bar"><span class="bar-fill fp" style=format!("width: {:.0}%", w * 100.0)></span></span>
                                <span class="bar-value">{format!("{w:.2}")}</span>
                            </li>
                        })
                        .collect_view()
                }}
            </ul>
            <Show when=move || ctx.weights.with(|w| w.is_empty())>
                <p class="hint">"Skip something to see its weight."</p>
            </Show>
        </section>
    }
}

#[component]
fn Timeline(ctx: Ctx) -> impl IntoView {
    view! {
        <section class="panel" class:highlight=move || tour::shows(ctx, Widget::Timeline) aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">"Your session"</h2>
            <Show when=move || ctx.timeline.with(|t| t.dropped > 0)>
                <p class="hint">{move || format!("The {} oldest plays were dropped: a history keeps at most {} plays.", ctx.timeline.with(|t| t.dropped), skipwise_page_logic::timeline::MAX_PLAYS)}</p>
            </Show>
            <ol aria-label="Session timeline" class="timeline">
                // Keyed by play and label: a new play adds one row, a label redraws one row.
                <For
                    each=move || ctx.timeline.with(|t| t.entries.clone())
                    key=|e| (e.seq, e.fp)
                    children=move |e| {
                        ctx.item(e.play.item).map(|i| {
                            let (badge, class) = match e.fp {
                                Some(true) => ("FP", "fp"),
                                Some(false) => ("✓", "tp"),
                                None => ("…", "pending"),
                            };
                            let like = if e.play.liked { " · ♥" } else { "" };
                            view! {
                                <li class=class title=i.byline() data-played=format!("{:.2}", e.play.played_secs)>
                                    <span class=format!("badge {class}")>{badge}</span>
                                    <span class="cover small" style=i.cover_style() aria-hidden="true"></span>
                                    {format!("{} · {:.0} s{like}", i.title, e.play.played_secs)}
                                </li>
                            }
                        })
                    }
                />
            </ol>
            <Show when=move || ctx.timeline.with(|t| t.is_empty())>
                <p class="hint">"Nothing yet. Every play and skip appears here with its label."</p>
            </Show>
        </section>
    }
}

#[component]
fn Browse(ctx: Ctx) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="browse-heading">
            <h2 id="browse-heading">"Browse"</h2>
            <label>
                "Genre "
                <select
                    aria-label="Genre"
                    on:change=move |e| {
                        if let Ok(g) = event_target_value(&e).parse::<usize>() {
                            ctx.genre.set(g);
                        }
                    }
                    prop:value=move || ctx.genre.get().to_string()
                >
                    {move || {
                        ctx.catalog
                            .get()
                            .map(|c| c.genres.iter().enumerate().map(|(i, g)| view! { <option value=i.to_string()>{g.clone()}</option> }).collect_view())
                    }}
                </select>
            </label>
            <ul aria-label="Catalog" class="recs browse">
                {move || {
                    let g = ctx.genre.get();
                    ctx.catalog.get().map(|c| {
                        c.items
                            .iter()
                            .filter(|i| i.genre_index == g)
                            .map(|i| {
                                let trailing = view! { <span class="dur">{mmss(i.duration_secs)}</span> };
                                view! { <li data-genre=i.genre.clone()>{item_row(ctx, i, trailing)}</li> }
                            })
                            .collect_view()
                    })
                }}
            </ul>
        </section>
    }
}

#[component]
fn UnderTheHood(ctx: Ctx) -> impl IntoView {
    let file_input = NodeRef::<leptos::html::Input>::new();
    let export = move |_| {
        leptos::task::spawn_local(async move {
            let name = format!("skipwise-{}.json", ctx.kind.get_untracked().name());
            if let Err(e) = crate::files::download(&name, &storage::export_json(ctx).await) {
                ctx.warn(format!("Export failed: {e}"));
            }
        });
    };
    let import = move |e: ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&e);
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        input.set_value("");
        // A file too large to be a history is refused by its size, before it is read at all.
        if let Err(e) = skipwise_protocol::history::check_size(file.size() as u64) {
            storage::import_failed(ctx, format!("{}: {e}", file.name()));
            return;
        }
        leptos::task::spawn_local(async move {
            match crate::files::read_text(&file).await {
                Ok(text) => storage::import_text(ctx, text),
                Err(e) => storage::import_failed(ctx, e),
            }
        });
    };
    let model_input = NodeRef::<leptos::html::Input>::new();
    let import_model = move |e: ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&e);
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        input.set_value("");
        leptos::task::spawn_local(async move {
            match crate::files::read_text(&file).await {
                Ok(text) => conversation::check_model(ctx, file.name(), text),
                Err(e) => ctx.status.set(format!("Not imported: {e}")),
            }
        });
    };
    view! {
        <section class="panel hood" aria-labelledby="hood-heading">
            <h2 id="hood-heading">"Under the hood"</h2>
            <p class="hint">
                {format!(
                    "The page's two models are STAMP (d = 32), trained in a Web Worker: {} warm-start steps on simulated listeners \
                     (shipped with the page for the default seed, else trained here and cached in IndexedDB, so a reload \
                     skips them), then two steps per play on your session plus replay, \
                     and for FP-AdaMetric up to three more that push your skips below what its list offers. \
                     \"Train\" runs {STEPS_PER_CLICK} more steps. The chart shows both models' loss after each step. \
                     Export saves your history with the warm-start weights; Reset clears both for this catalog.",
                    ctx.warm_steps()
                )}
            </p>
            <p class="hint" id="first-visit">
                {move || ctx.first_visit.get().map(|(paint, list)| format!(
                    "This page load: first paint {}, first recommendations after {:.1} s ({}).",
                    paint.map_or("not reported".to_string(), |p| format!("after {:.1} s", p / 1000.0)),
                    list / 1000.0,
                    ctx.warm_source.get().split(':').nth(1).unwrap_or("").trim().trim_end_matches('.'),
                ))}
            </p>
            <p class="hint" id="click-latency">
                {move || ctx.latencies.with(|l| l.summary()).map(|s| format!(
                    "Click to new list over this page load's {} plays: p50 {:.0} ms, p95 {:.0} ms.",
                    s.count, s.p50, s.p95
                ))}
            </p>
            <div class="controls">
                <button class="primary" on:click=move |_| conversation::train(ctx) disabled=move || !ctx.models_ready.get() || ctx.training.get()>
                    "Train"
                </button>
                <button on:click=export>"Export"</button>
                <button on:click=move |_| { if let Some(i) = file_input.get() { i.click() } }>"Import"</button>
                <input type="file" accept="application/json,.json" aria-label="Import file" class="visually-hidden" node_ref=file_input on:change=import />
                <button on:click=move |_| ctx.confirm_reset.set(true) aria-expanded=move || ctx.confirm_reset.get().to_string()>"Reset"</button>
            </div>
            <p class="hint" id="model-slot">
                {move || match ctx.imported.get() {
                    None => "FP-aware slot: the page's own FP-AdaMetric. \"Import a model\" puts a model.json from                              `skipwise train` there (trained natively on this catalog's listeners: `skipwise simulate --catalog …`)."
                        .to_string(),
                    Some(m) => format!(
                        "FP-aware slot: {} ({}), trained natively; it learns on from your plays with the page's online                          settings until this page is reloaded. Vanilla stays the page's.",
                        m.name, m.description
                    ),
                }}
            </p>
            <div class="controls">
                <button on:click=move |_| { if let Some(i) = model_input.get() { i.click() } } disabled=move || !ctx.ready.get()>
                    "Import a model"
                </button>
                <input type="file" accept="application/json,.json" aria-label="Model file" class="visually-hidden" node_ref=model_input on:change=import_model />
                <Show when=move || ctx.imported.with(Option::is_some)>
                    <button on:click=move |_| conversation::drop_model(ctx)>"Use the page's model"</button>
                </Show>
            </div>
            <Show when=move || ctx.confirm_reset.get()>
                <div role="group" aria-label="Confirm reset" class="confirm">
                    <p>
                        {move || format!(
                            "Clear your {} plays of {} and this catalog's cached weights? The other catalog keeps its own.",
                            ctx.timeline.with(|t| t.len()),
                            ctx.kind.get().name()
                        )}
                    </p>
                    <button class="primary" on:click=move |_| storage::reset(ctx, false)>"Clear, same seed"</button>
                    <button on:click=move |_| storage::reset(ctx, true)>"Clear, new seed"</button>
                    <button on:click=move |_| ctx.confirm_reset.set(false)>"Cancel"</button>
                </div>
            </Show>
            <p id="warm-source" class="hint">{move || ctx.warm_source.get()}</p>
            <p role="status" class="status">{move || ctx.status.get()}</p>
            <LossChart ctx />
            // For screen readers (and the tests): one item per step, FP-AdaMetric's loss.
            <ol aria-label="Training loss" class="visually-hidden">
                <For
                    each=move || ctx.losses.get()
                    key=|(index, _, _)| *index
                    children=|(index, loss, vanilla)| view! { <li data-vanilla=format!("{vanilla:.4}")>{format!("Step {index}: {loss:.4}")}</li> }
                />
            </ol>
        </section>
    }
}

/// Saved histories this page could not read, kept aside: each can be downloaded or discarded.
#[component]
fn KeptAside(ctx: Ctx) -> impl IntoView {
    view! {
        <Show when=move || ctx.kept_aside.with(|k| !k.is_empty())>
            <section class="panel kept" aria-label="Unreadable saved history">
                <ul>
                    <For
                        each=move || ctx.kept_aside.get()
                        key=|k| k.key.clone()
                        children=move |k| {
                            let (download, discard) = (k.key.clone(), k.key.clone());
                            view! {
                                <li>
                                    {format!("A saved {} history that this page cannot read ({}). ", k.catalog.name(), k.why)}
                                    <button on:click=move |_| storage::download_kept(ctx, &download)>"Download unreadable history"</button>
                                    <button on:click=move |_| storage::discard_kept(ctx, &discard)>"Discard it"</button>
                                </li>
                            }
                        }
                    />
                </ul>
            </section>
        </Show>
    }
}

/// Both models' training loss per step, as two lines on one chart (each is its own objective, so
/// the two levels are not comparable; the slopes are).
#[component]
fn LossChart(ctx: Ctx) -> impl IntoView {
    const W: f32 = 400.0;
    const H: f32 = 140.0;
    let lines = move || {
        let losses = ctx.losses.get();
        let n = losses.len();
        let finite = losses.iter().flat_map(|(_, a, v)| [*a, *v]).filter(|x| x.is_finite());
        let (lo, hi) = finite.fold((f32::MAX, f32::MIN), |(lo, hi), x| (lo.min(x), hi.max(x)));
        if n < 2 || lo > hi {
            return None;
        }
        let y = move |v: f32| 10.0 + (H - 30.0) * (1.0 - (v - lo) / (hi - lo).max(1e-6));
        let line = |pick: fn(&(usize, f32, f32)) -> f32| {
            let values: Vec<f32> = losses.iter().map(pick).collect();
            skipwise_page_logic::chart::polyline(&values, 34.0, W - 6.0, y)
        };
        Some(view! {
            <text x="2" y="14" class="tick">{format!("{hi:.2}")}</text>
            <text x="2" y=format!("{:.0}", H - 18.0) class="tick">{format!("{lo:.2}")}</text>
            <text x=W - 4.0 y=H - 4.0 class="tick" text-anchor="end">{format!("step {n}")}</text>
            <polyline points=line(|l| l.2) class="series vanilla"></polyline>
            <polyline points=line(|l| l.1) class="series ada"></polyline>
        })
    };
    view! {
        <svg viewBox=format!("0 0 {W} {H}") class="chart loss-chart" role="img" aria-label="Training loss per step: FP-AdaMetric and Vanilla">
            <line x1="34" y1=H - 20.0 x2=W - 6.0 y2=H - 20.0 class="axis"></line>
            {lines}
        </svg>
        <p class="hint legend">
            <span class="key line ada"></span>" FP-AdaMetric "
            <span class="key line vanilla"></span>" Vanilla · "
            {move || ctx.losses.with(|l| l.last().map(|(i, a, v)| format!("step {i}: {a:.3} and {v:.3}")).unwrap_or_else(|| "no training steps yet".into()))}
        </p>
    }
}
