//! The Lab tab: `skipwise compare` under the paper's protocol, in the browser. A dataset (the
//! simulator with its FP mix, a shipped sample, or the visitor's own file, read in a worker of
//! the Lab's own and never uploaded), a backbone and methods; the worker trains them one after
//! the other while the tab shows progress and each run's curves, then the table, the bars, the
//! JSON `compare --json` writes, and the commands that run the same experiment natively.
//!
//! The Lab's worker (`www/lab-worker.js`, a binary of its own) starts when the tab is first
//! opened, so the player's first visit never loads it; it trains on the CPU (`skipwise_worker::lab`).

use crate::catalog::fetch_text;
use crate::worker_client::WorkerHandle;
use leptos::prelude::*;
use skipwise_page_logic::lab::{BACKBONES, METHODS, SAMPLES, bars, cell, curves, fraction};
use skipwise_protocol::lab::{DataOptions, LabData, LabDataset, LabEpoch, FP_SCOPES, LabProgress, LabSpec, SimSpec};
use skipwise_protocol::results::{Row, TABLE_KEYS, css_colour};
use skipwise_protocol::{Envelope, Request, Response};
use wasm_bindgen::JsCast;

/// Where the next dataset comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Source {
    Simulator,
    Sample(usize),
    File,
}

/// The Lab's state: plain handles, as the player's `Ctx`.
#[derive(Clone, Copy)]
struct Lab {
    source: RwSignal<Source>,
    sim: RwSignal<SimSpec>,
    options: RwSignal<DataOptions>,
    /// A `--format` name, or empty to guess from the first line.
    format: RwSignal<String>,
    columns: RwSignal<String>,
    dataset: RwSignal<Option<LabDataset>>,
    /// What the loaded dataset came from (without its text): the command's `--data`; and what
    /// the load in flight reads (it becomes the loaded one only once the worker has read it).
    loaded_from: StoredValue<Option<(LabData, DataOptions)>>,
    pending_from: StoredValue<Option<(LabData, DataOptions)>>,
    spec: RwSignal<LabSpec>,
    loading: RwSignal<bool>,
    running: RwSignal<bool>,
    progress: RwSignal<Option<LabProgress>>,
    epochs: RwSignal<Vec<LabEpoch>>,
    /// The rows, the file's text and the commands that repeat it.
    result: RwSignal<Option<(Vec<Row>, String, String)>>,
    error: RwSignal<String>,
    status: RwSignal<String>,
    worker: StoredValue<Option<WorkerHandle>, LocalStorage>,
    booted: RwSignal<bool>,
    /// Requests waiting for the worker to boot.
    queued: StoredValue<Vec<(u64, Request)>>,
    next_id: StoredValue<u64>,
    load_id: StoredValue<u64>,
    run_id: StoredValue<u64>,
    /// The run's spec and data as sent (the command shown with its results).
    ran: StoredValue<Option<String>>,
}

impl Lab {
    fn new() -> Self {
        Self {
            source: RwSignal::new(Source::Simulator),
            sim: RwSignal::new(SimSpec::default()),
            options: RwSignal::new(DataOptions::default()),
            format: RwSignal::new(String::new()),
            columns: RwSignal::new(String::new()),
            dataset: RwSignal::new(None),
            loaded_from: StoredValue::new(None),
            pending_from: StoredValue::new(None),
            spec: RwSignal::new(LabSpec::default()),
            loading: RwSignal::new(false),
            running: RwSignal::new(false),
            progress: RwSignal::new(None),
            epochs: RwSignal::new(Vec::new()),
            result: RwSignal::new(None),
            error: RwSignal::new(String::new()),
            status: RwSignal::new(String::new()),
            worker: StoredValue::new_local(None),
            booted: RwSignal::new(false),
            queued: StoredValue::new(Vec::new()),
            next_id: StoredValue::new(0),
            load_id: StoredValue::new(0),
            run_id: StoredValue::new(0),
            ran: StoredValue::new(None),
        }
    }

    /// Sends `request` (starting the worker first if there is none); returns its id.
    fn send(self, request: Request) -> u64 {
        let id = self.next_id.try_update_value(|n| {
            *n += 1;
            *n
        });
        let id = id.unwrap_or_default();
        if self.worker.with_value(|w| w.is_none()) {
            self.spawn();
        }
        if self.booted.get_untracked() {
            self.post(id, request);
        } else {
            self.queued.update_value(|q| q.push((id, request)));
        }
        id
    }

    fn post(self, id: u64, request: Request) {
        let sent = self.worker.with_value(|w| w.as_ref().map(|w| w.send(id, request)));
        if let Some(Err(e)) = sent {
            self.error.set(format!("The Lab's worker could not be reached: {e}"));
        }
    }

    fn spawn(self) {
        self.booted.set(false);
        let on_response = move |envelope: Envelope<Response>| on_response(self, envelope);
        let on_crash = move |why: String| {
            self.worker.set_value(None);
            self.booted.set(false);
            self.queued.set_value(Vec::new());
            self.loading.set(false);
            self.running.set(false);
            self.dataset.set(None);
            self.error.set(format!("The Lab's worker stopped ({why}); load a dataset again to go on."));
        };
        match WorkerHandle::spawn("./lab-worker.js", on_response, on_crash) {
            Ok(handle) => self.worker.set_value(Some(handle)),
            Err(e) => self.error.set(e),
        }
    }
}

fn on_response(lab: Lab, Envelope { id, body }: Envelope<Response>) {
    match body {
        Response::Booted => {
            lab.booted.set(true);
            let queued = lab.queued.try_update_value(std::mem::take).unwrap_or_default();
            for (id, request) in queued {
                lab.post(id, request);
            }
        }
        Response::LabLoaded(dataset) if id == lab.load_id.get_value() => {
            lab.loading.set(false);
            lab.error.set(String::new());
            lab.status.set(format!("Loaded {}.", dataset.name));
            lab.loaded_from.set_value(lab.pending_from.get_value());
            lab.dataset.set(Some(dataset));
        }
        Response::LabProgress(p) if id == lab.run_id.get_value() => lab.progress.set(Some(p)),
        Response::LabEpoch(e) if id == lab.run_id.get_value() => lab.epochs.update(|v| v.push(e)),
        Response::LabDone { json, methods, seconds } if id == lab.run_id.get_value() => {
            lab.running.set(false);
            lab.progress.set(None);
            lab.status.set(format!("Finished in {seconds:.0} s."));
            let command = lab.ran.get_value().unwrap_or_default();
            lab.result.set(Some((methods, json, command)));
        }
        Response::LabCancelled if id == lab.run_id.get_value() => {
            lab.running.set(false);
            lab.progress.set(None);
            lab.status.set("Cancelled: the run stopped between two steps.".into());
        }
        Response::Error { message } | Response::Panic { message } => {
            // An unreadable file leaves the dataset loaded before it.
            if id == lab.load_id.get_value() {
                lab.loading.set(false);
            }
            if id == lab.run_id.get_value() {
                lab.running.set(false);
                lab.progress.set(None);
            }
            lab.error.set(message);
        }
        _ => {}
    }
}

/// Loads `data` in the worker (the previous dataset stays until the new one is read).
fn load(lab: Lab, data: LabData) {
    if lab.running.get_untracked() {
        lab.error.set("A run is going: cancel it before loading another dataset.".into());
        return;
    }
    let options = lab.options.get_untracked();
    let textless = match &data {
        LabData::File { name, format, columns, .. } => LabData::File { name: name.clone(), text: String::new(), format: format.clone(), columns: columns.clone() },
        sim => sim.clone(),
    };
    lab.loading.set(true);
    lab.status.set(format!("Reading {}…", data.name()));
    let id = lab.send(Request::LabLoad { data, options: options.clone() });
    lab.load_id.set_value(id);
    lab.pending_from.set_value(Some((textless, options)));
}

/// A file's text as `LabData`, with the chosen format and columns.
fn file_data(lab: Lab, name: String, text: String) -> LabData {
    let format = Some(lab.format.get_untracked()).filter(|f| !f.is_empty());
    let columns = Some(lab.columns.get_untracked()).filter(|c| !c.trim().is_empty());
    LabData::File { name, text, format, columns }
}

fn load_file(lab: Lab, file: web_sys::File) {
    lab.source.set(Source::File);
    leptos::task::spawn_local(async move {
        match crate::files::read_text(&file).await {
            Ok(text) => load(lab, file_data(lab, file.name(), text)),
            Err(e) => lab.error.set(e),
        }
    });
}

fn load_selected(lab: Lab) {
    match lab.source.get_untracked() {
        Source::Simulator => load(lab, LabData::Simulator(lab.sim.get_untracked())),
        Source::Sample(i) => {
            let sample = &SAMPLES[i];
            lab.columns.set(sample.columns.unwrap_or_default().to_string());
            lab.format.set(if sample.columns.is_some() { "csv".into() } else { String::new() });
            lab.loading.set(true);
            leptos::task::spawn_local(async move {
                match fetch_text(&format!("./samples/{}", sample.file)).await {
                    Ok(text) => load(lab, file_data(lab, sample.file.to_string(), text)),
                    Err(e) => {
                        lab.loading.set(false);
                        lab.error.set(format!("samples/{}: {e}", sample.file));
                    }
                }
            });
        }
        Source::File => lab.error.set("Drop a log file here, or choose one.".into()),
    }
}

fn run(lab: Lab) {
    let Some((data, options)) = lab.loaded_from.get_value() else { return };
    let spec = lab.spec.get_untracked();
    lab.ran.set_value(Some(spec.command(&data, &options, "lab.json")));
    lab.epochs.set(Vec::new());
    lab.result.set(None);
    lab.error.set(String::new());
    lab.running.set(true);
    lab.status.set("Training…".into());
    let id = lab.send(Request::LabRun { spec });
    lab.run_id.set_value(id);
}

fn download(lab: Lab) {
    let Some((_, json, _)) = lab.result.get_untracked() else { return };
    if let Err(e) = crate::files::download("skipwise-lab.json", &json) {
        lab.error.set(format!("The results could not be downloaded: {e}"));
    }
}

fn input_value(e: &leptos::ev::Event) -> String {
    e.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()).map(|i| i.value()).unwrap_or_default()
}

fn select_value(e: &leptos::ev::Event) -> String {
    e.target().and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok()).map(|i| i.value()).unwrap_or_default()
}

/// A number field bound to `set` (a value that does not parse is ignored until it does).
fn number<T: std::str::FromStr + std::fmt::Display + Clone + Send + Sync + 'static>(label: &'static str, value: impl Fn() -> T + Send + Sync + 'static, set: impl Fn(T) + 'static, step: &'static str) -> impl IntoView {
    view! {
        <label class="field">
            {label}
            <input type="number" step=step prop:value=move || value().to_string() on:change=move |e| { if let Ok(v) = input_value(&e).trim().parse::<T>() { set(v) } } />
        </label>
    }
}

/// A labelled `<select>` over `options` (value, label) whose current value `value` gives.
fn choice(label: &'static str, options: &'static [(&'static str, &'static str)], value: impl Fn() -> String + Copy + Send + Sync + 'static, set: impl Fn(String) + 'static) -> impl IntoView {
    view! {
        <label class="field">
            {label}
            <select aria-label=label on:change=move |e| set(select_value(&e))>
                {options.iter().map(|&(name, text)| view! { <option value=name selected=move || value() == name>{text}</option> }).collect_view()}
            </select>
        </label>
    }
}

#[component]
pub fn LabTab() -> impl IntoView {
    let lab = Lab::new();
    let file_input = NodeRef::<leptos::html::Input>::new();
    let on_pick = move |_| {
        if let Some(file) = file_input.get().and_then(|i| i.files()).and_then(|f| f.get(0)) {
            load_file(lab, file);
        }
        if let Some(i) = file_input.get() {
            i.set_value("");
        }
    };
    let on_drop = move |e: web_sys::DragEvent| {
        e.prevent_default();
        if let Some(file) = e.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
            load_file(lab, file);
        }
    };
    let sim_field = move |label: &'static str, index: usize| {
        view! {
            <label class="field">
                {label}
                <input
                    type="range" min="0" max="4" step="0.5"
                    prop:value=move || lab.sim.with(|s| s.mix[index]).to_string()
                    on:input=move |e| { if let Ok(v) = input_value(&e).parse::<f32>() { lab.sim.update(|s| s.mix[index] = v) } }
                />
                <span class="value">{move || lab.sim.with(|s| s.mix[index]).to_string()}</span>
            </label>
        }
    };
    let method_box = move |(name, label): (&'static str, &'static str)| {
        view! {
            <label class="check">
                <input
                    type="checkbox"
                    prop:checked=move || lab.spec.with(|s| s.methods.iter().any(|m| m == name))
                    on:change=move |e| {
                        let on = e.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()).is_some_and(|i| i.checked());
                        lab.spec.update(|s| {
                            s.methods.retain(|m| m != name);
                            if on {
                                s.methods.push(name.to_string());
                                // The table's order is the paper's, whatever the clicking order.
                                s.methods.sort_by_key(|m| METHODS.iter().position(|(n, _)| n == m));
                            }
                        });
                    }
                />
                {label}
            </label>
        }
    };
    view! {
        <section class="panel lab" aria-labelledby="lab-heading">
            <h2 id="lab-heading">"Lab"</h2>
            <p class="hint">
                "The paper's experiment on a log of your choice, trained in this tab on the CPU: sessions, 80/10/10 by start time, each method early-stopped on validation MRR@20 and tested on the plays that were not skips. Your file never leaves the tab."
            </p>
            <p role="alert" class="alert" hidden=move || lab.error.with(|e| e.is_empty())>{move || lab.error.get()}</p>
            <div class="lab-grid">
                <fieldset class="lab-data" on:dragover=|e: web_sys::DragEvent| e.prevent_default() on:drop=on_drop aria-label="Dataset">
                    <legend>"Dataset"</legend>
                    <label class="check">
                        <input type="radio" name="lab-source" prop:checked=move || lab.source.get() == Source::Simulator on:change=move |_| lab.source.set(Source::Simulator) />
                        "Simulated listeners"
                    </label>
                    <div class="sim" hidden=move || lab.source.get() != Source::Simulator>
                        {number("Listeners", move || lab.sim.with(|s| s.listeners), move |v| lab.sim.update(|s| s.listeners = v), "1")}
                        {number("FP share", move || lab.sim.with(|s| s.fp_share), move |v| lab.sim.update(|s| s.fp_share = v), "0.05")}
                        {number("Seed", move || lab.sim.with(|s| s.seed), move |v| lab.sim.update(|s| s.seed = v), "1")}
                        <p class="hint">"Kinds of FP (shares):"</p>
                        {sim_field("Misclicks", 0)}
                        {sim_field("Curiosity clicks", 1)}
                        {sim_field("Mild dislikes", 2)}
                        {sim_field("Context skips", 3)}
                    </div>
                    <label class="check">
                        <input type="radio" name="lab-source" prop:checked=move || matches!(lab.source.get(), Source::Sample(_)) on:change=move |_| lab.source.set(Source::Sample(0)) />
                        "A sample log"
                    </label>
                    <select
                        aria-label="Sample log"
                        hidden=move || !matches!(lab.source.get(), Source::Sample(_))
                        on:change=move |e| { if let Ok(i) = select_value(&e).parse::<usize>() { lab.source.set(Source::Sample(i)) } }
                    >
                        {SAMPLES.iter().enumerate().map(|(i, s)| view! { <option value=i.to_string()>{s.label}</option> }).collect_view()}
                    </select>
                    <label class="check">
                        <input type="radio" name="lab-source" prop:checked=move || lab.source.get() == Source::File on:change=move |_| lab.source.set(Source::File) />
                        "Your own log"
                    </label>
                    <div class="drop" hidden=move || lab.source.get() != Source::File>
                        "Drop a MovieLens, Spotify MSSD, Last.fm or CSV log here, or "
                        <button on:click=move |_| { if let Some(i) = file_input.get() { i.click() } }>"Choose a log file"</button>
                        <input type="file" aria-label="Log file" class="visually-hidden" node_ref=file_input on:change=on_pick />
                    </div>
                    <details>
                        <summary>"Format and FP rule"</summary>
                        <label class="field">
                            "Format"
                            <select aria-label="Format" prop:value=move || lab.format.get() on:change=move |e| lab.format.set(select_value(&e))>
                                <option value="">"from the first line"</option>
                                {["inter", "udata", "ml1m", "ratings-csv", "mssd", "lastfm", "csv"].map(|f| view! { <option value=f>{f}</option> }).collect_view()}
                            </select>
                        </label>
                        <label class="field">
                            "CSV columns"
                            <input type="text" aria-label="CSV columns" placeholder="user=uid,item=track,time=ts,played=secs" prop:value=move || lab.columns.get() on:change=move |e| lab.columns.set(input_value(&e)) />
                        </label>
                        {number("Skip below (s)", move || lab.options.with(|o| o.skip_secs), move |v| lab.options.update(|o| o.skip_secs = v), "1")}
                        {number("Rating at most", move || lab.options.with(|o| o.rating_max), move |v| lab.options.update(|o| o.rating_max = v), "0.5")}
                        {number("Session gap (s)", move || lab.options.with(|o| o.gap_secs), move |v| lab.options.update(|o| o.gap_secs = v), "60")}
                    </details>
                    <button on:click=move |_| load_selected(lab) disabled=move || lab.loading.get() || lab.running.get()>"Load dataset"</button>
                    <p class="dataset" aria-live="polite" aria-label="Loaded dataset">
                        {move || match lab.dataset.get() {
                            Some(d) => format!(
                                "{} ({}): {} lines, {} sessions ({} train, {} valid, {} test), {} items, FP share {:.2}{}",
                                d.name, d.format, d.lines, d.sessions, d.split[0], d.split[1], d.split[2], d.items, d.fp_share,
                                d.notes.iter().map(|n| format!("; {n}")).collect::<String>()
                            ),
                            None => "No dataset loaded yet.".into(),
                        }}
                    </p>
                </fieldset>
                <fieldset class="lab-run" aria-label="Experiment">
                    <legend>"Experiment"</legend>
                    {choice("Backbone", &BACKBONES, move || lab.spec.with(|s| s.backbone.clone()), move |v| lab.spec.update(|s| s.backbone = v))}
                    <div role="group" aria-label="Methods">{METHODS.map(method_box).collect_view()}</div>
                    {number("Epochs", move || lab.spec.with(|s| s.epochs), move |v| lab.spec.update(|s| s.epochs = v), "1")}
                    {number("Patience (epochs)", move || lab.spec.with(|s| s.patience), move |v| lab.spec.update(|s| s.patience = v), "1")}
                    {choice("FP scope", &FP_SCOPES, move || lab.spec.with(|s| s.fp_scope.clone()), move |v| lab.spec.update(|s| s.fp_scope = v))}
                    <label class="field">
                        "Seeds"
                        <input
                            type="text" aria-label="Seeds"
                            prop:value=move || lab.spec.with(|s| s.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(","))
                            on:change=move |e| {
                                let seeds: Result<Vec<u64>, _> = input_value(&e).split(',').map(|s| s.trim().parse::<u64>()).collect();
                                match seeds {
                                    Ok(s) if !s.is_empty() => lab.spec.update(|spec| spec.seeds = s),
                                    _ => lab.error.set("Seeds: whole numbers separated by commas, e.g. 1,2,3.".into()),
                                }
                            }
                        />
                    </label>
                    {number("Embedding size", move || lab.spec.with(|s| s.dim), move |v| lab.spec.update(|s| s.dim = v), "8")}
                    {number("Hidden size", move || lab.spec.with(|s| s.hidden), move |v| lab.spec.update(|s| s.hidden = v), "8")}
                    <div class="buttons">
                        <button on:click=move |_| run(lab) disabled=move || lab.running.get() || lab.loading.get() || lab.dataset.with(|d| d.is_none())>"Run"</button>
                        <button on:click=move |_| { lab.send(Request::LabCancel); } disabled=move || !lab.running.get()>"Cancel"</button>
                    </div>
                    <progress aria-label="Lab progress" max="1" prop:value=move || lab.progress.with(|p| p.as_ref().map_or(0.0, fraction)) hidden=move || !lab.running.get()></progress>
                    <p class="status" aria-live="polite">
                        {move || match lab.progress.get() {
                            Some(p) if lab.running.get() => format!("Run {} of {}: {} seed {}, epoch {} of {}, batch {} of {}", p.run + 1, p.runs, p.label, p.seed, p.epoch, p.epochs, p.batch, p.batches),
                            _ => lab.status.get(),
                        }}
                    </p>
                </fieldset>
            </div>
            <Curves lab />
            <Results lab />
        </section>
    }
}

/// Each run's training loss and validation MRR@20 over epochs, one colour per method.
#[component]
fn Curves(lab: Lab) -> impl IntoView {
    const W: f64 = 420.0;
    const H: f64 = 160.0;
    let chart = move |title: &'static str, value: fn(&LabEpoch) -> Option<f64>| {
        view! {
            <figure class="lab-curve">
                <svg viewBox=format!("0 0 {W} {H}") class="chart" role="img" aria-label=title>
                    <line x1="6" y1=H - 6.0 x2=W - 6.0 y2=H - 6.0 class="axis"></line>
                    {move || {
                        let (lines, range) = curves(&lab.epochs.get(), value, W, H, 12.0);
                        let ticks = range.map(|(lo, hi)| view! {
                            <text x="14" y="12" class="tick">{format!("{hi:.3}")}</text>
                            <text x="14" y=H - 10.0 class="tick">{format!("{lo:.3}")}</text>
                        });
                        let lines = lines.into_iter().map(|c| view! {
                            <polyline points=c.points fill="none" stroke=css_colour(c.method) stroke-width="2"><title>{c.label}</title></polyline>
                        }).collect_view();
                        (ticks, lines)
                    }}
                </svg>
                <figcaption>{title}</figcaption>
            </figure>
        }
    };
    view! {
        <div class="lab-curves" hidden=move || lab.epochs.with(|e| e.is_empty())>
            {chart("Training loss per epoch", |e| Some(e.loss))}
            {chart("Validation MRR@20 per epoch", |e| e.valid_mrr20)}
            <ul class="legend" aria-label="Lab legend">
                {move || {
                    let mut seen: Vec<(usize, String)> = Vec::new();
                    for e in lab.epochs.get() {
                        if !seen.iter().any(|(m, _)| *m == e.method) {
                            seen.push((e.method, e.label.clone()));
                        }
                    }
                    seen.into_iter().map(|(m, label)| view! { <li><span class="swatch" style=format!("background:{}", css_colour(m))></span>{label}</li> }).collect_view()
                }}
            </ul>
            <ol aria-label="Lab epochs" class="visually-hidden">
                {move || lab.epochs.get().into_iter().map(|e| view! {
                    <li>{format!("{} seed {} epoch {}: loss {:.4}, valid MRR@20 {}", e.label, e.seed, e.epoch, e.loss, e.valid_mrr20.map_or("–".into(), |v| format!("{v:.4}")))}</li>
                }).collect_view()}
            </ol>
        </div>
    }
}

/// The table (a row per method: mean ± sd over the seeds), its bars, the JSON and the commands.
#[component]
fn Results(lab: Lab) -> impl IntoView {
    const W: f64 = 860.0;
    const H: f64 = 220.0;
    view! {
        {move || lab.result.get().map(|(methods, _, command)| {
            let bars = bars(&methods, &TABLE_KEYS, W, H, 18.0);
            let group = W / TABLE_KEYS.len() as f64;
            view! {
                <div class="lab-results">
                    <table aria-label="Lab results">
                        <thead>
                            <tr>
                                <th>"Method"</th>
                                <th>"Backbone"</th>
                                {TABLE_KEYS.map(|k| view! { <th>{k}</th> }).collect_view()}
                                <th>"Epochs"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {methods.iter().enumerate().map(|(i, row)| view! {
                                <tr>
                                    <th scope="row"><span class="swatch" style=format!("background:{}", css_colour(i))></span>{row.method.clone()}</th>
                                    <td>{row.backbone.clone()}</td>
                                    {TABLE_KEYS.map(|k| view! { <td>{cell(row, k)}</td> }).collect_view()}
                                    <td>{row.epochs.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <svg viewBox=format!("0 0 {W} {H}") class="chart lab-bars" role="img" aria-label="Lab results chart">
                        {bars.into_iter().map(|b| view! {
                            <rect x=format!("{:.1}", b.x) y=format!("{:.1}", b.y) width=format!("{:.1}", b.width) height=format!("{:.1}", b.height) fill=css_colour(b.row)><title>{b.title}</title></rect>
                        }).collect_view()}
                        {TABLE_KEYS.iter().enumerate().map(|(i, k)| view! {
                            <text x=format!("{:.1}", (i as f64 + 0.5) * group) y=H - 4.0 class="tick" text-anchor="middle">{*k}</text>
                        }).collect_view()}
                    </svg>
                    <button on:click=move |_| download(lab)>"Download results (JSON)"</button>
                    <p class="hint">"The same experiment on the command line (the file it writes has these numbers, up to float noise):"</p>
                    <pre><code aria-label="Lab command">{command}</code></pre>
                </div>
            }
        })}
    }
}
