//! The page: which backend trains, a Train control, and the loss of every step.

use crate::worker_client::WorkerHandle;
use leptos::prelude::*;
use skipwise_protocol::{BackendKind, Request, Response};

/// Steps run by one click on "Train". Kept at 15: in Chromium's software WebGPU (SwiftShader)
/// the 20th step of this demo returns a NaN loss, which native Flex and wgpu (lavapipe) do not
/// reproduce; the worker refuses such a step and keeps the model (see the issue note).
const STEPS_PER_CLICK: u32 = 15;

/// The page's state; every field is a cheap `Copy` handle, so closures can capture it freely.
#[derive(Clone, Copy)]
struct Ctx {
    backend: RwSignal<String>,
    ready: RwSignal<bool>,
    training: RwSignal<bool>,
    losses: RwSignal<Vec<(usize, f32)>>,
    status: RwSignal<String>,
    on_gpu: RwSignal<bool>,
    worker: StoredValue<Option<WorkerHandle>, LocalStorage>,
}

impl Ctx {
    fn send(self, request: Request) {
        let result = self.worker.with_value(|w| match w {
            Some(w) => w.send(&request),
            None => Err("the training worker is not running".into()),
        });
        if let Err(e) = result {
            self.status.set(e);
        }
    }
}

/// Starts (or restarts) the worker. A worker that dies on the GPU is restarted on the CPU with
/// the reason, so a broken WebGPU never leaves the page without a trainer.
fn start_worker(ctx: Ctx, allow_gpu: bool, reason: Option<String>) {
    ctx.ready.set(false);
    ctx.training.set(false);
    let fallback = move |why: String| {
        if ctx.on_gpu.get_untracked() || allow_gpu {
            start_worker(ctx, false, Some(format!("WebGPU failed: {why}")));
        } else {
            ctx.status.set(format!("The training worker stopped: {why}"));
            ctx.training.set(false);
        }
    };
    let init_reason = reason.clone();
    let on_response = move |response: Response| match response {
        Response::Booted => ctx.send(Request::Init { allow_gpu, reason: init_reason.clone() }),
        Response::Ready { backend } => {
            ctx.on_gpu.set(backend.kind == BackendKind::WebGpu);
            ctx.backend.set(backend.label());
            ctx.ready.set(true);
        }
        Response::Loss { loss, .. } => ctx.losses.update(|l| {
            let index = l.len() + 1;
            l.push((index, loss));
        }),
        Response::TrainDone { steps, millis } => {
            ctx.training.set(false);
            ctx.status.set(format!("Trained {steps} steps in {:.1} s.", millis / 1000.0));
        }
        Response::Error { message } => {
            ctx.training.set(false);
            ctx.status.set(message);
        }
        Response::Panic { message } => fallback(message),
    };
    let on_crash = move |why: String| fallback(why);
    // Replacing the handle drops (terminates) the old worker first.
    ctx.worker.set_value(None);
    match WorkerHandle::spawn(on_response, on_crash) {
        Ok(handle) => ctx.worker.set_value(Some(handle)),
        Err(e) => ctx.status.set(e),
    }
}

#[component]
pub fn App() -> impl IntoView {
    let ctx = Ctx {
        backend: RwSignal::new("starting the training worker…".to_string()),
        ready: RwSignal::new(false),
        training: RwSignal::new(false),
        losses: RwSignal::new(Vec::new()),
        status: RwSignal::new(String::new()),
        on_gpu: RwSignal::new(false),
        worker: StoredValue::new_local(None),
    };
    start_worker(ctx, true, None);
    let train = move |_| {
        ctx.training.set(true);
        ctx.status.set(format!("Training {STEPS_PER_CLICK} steps…"));
        ctx.send(Request::Train { steps: STEPS_PER_CLICK, seed: 7 });
    };
    view! {
        <main class="app">
            <header>
                <h1>"Skipwise"</h1>
                <p class="tagline">
                    "A session recommender that learns, live in your browser, that a skip is not a like."
                </p>
            </header>
            <section class="panel" aria-labelledby="train-heading">
                <h2 id="train-heading">"Train in your browser"</h2>
                <p id="backend" class="backend">"Backend: " {move || ctx.backend.get()}</p>
                <button
                    class="primary"
                    on:click=train
                    disabled=move || !ctx.ready.get() || ctx.training.get()
                >
                    "Train"
                </button>
                <p role="status" class="status">{move || ctx.status.get()}</p>
                <ol aria-label="Training loss" class="losses">
                    <For
                        each=move || ctx.losses.get()
                        key=|(index, _)| *index
                        children=|(index, loss)| view! { <li>{format!("Step {index}: {loss:.4}")}</li> }
                    />
                </ol>
            </section>
        </main>
    }
}
