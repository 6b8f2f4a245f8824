//! The page's state: plain handles to signals, shared by every component. What changes them
//! lives in the modules named after what they do: `conversation` (the worker), `player` (the
//! clock, play and skip), `storage` (saved history, import, export, reset, the address). The plain
//! rules they follow are `skipwise_page_logic`'s, tested natively.

use crate::audio::Synth;
use crate::catalog::{self, Catalog};
use crate::worker_client::WorkerHandle;
use leptos::prelude::*;
use skipwise_page_logic::clock::PlayClock;
use skipwise_page_logic::conversation::Conversation;
use skipwise_page_logic::lists::Row;
use skipwise_page_logic::params::Params;
use skipwise_page_logic::persona::Persona;
use skipwise_page_logic::timeline::Timeline;
use skipwise_protocol::{Catalog as Kind, EmbeddingMap, Fault, FpWeight};
use std::sync::Arc;

pub use skipwise_protocol::DEFAULT_SKIP_SECS;

/// Steps run by one click on "Train".
pub const STEPS_PER_CLICK: u32 = 15;

/// A saved history this page could not read, kept aside under `key` until the visitor downloads
/// or discards it (never overwritten by a later play).
#[derive(Clone, Debug, PartialEq)]
pub struct KeptAside {
    pub key: String,
    pub catalog: Kind,
    pub why: String,
}

/// Every field is a cheap `Copy` handle, so closures capture the whole state freely.
/// A model file the visitor loaded into the FP-aware slot: its name, its text (sent again
/// whenever the models are rebuilt) and what the worker said it holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Imported {
    pub name: String,
    pub text: std::sync::Arc<String>,
    pub description: String,
}

#[derive(Clone, Copy)]
pub struct Ctx {
    pub backend: RwSignal<String>,
    pub on_gpu: RwSignal<bool>,
    /// The worker has its backend.
    pub ready: RwSignal<bool>,
    /// Both models are built, warm and in step with the history.
    pub models_ready: RwSignal<bool>,
    pub progress: RwSignal<Option<(String, u32, u32)>>,
    pub training: RwSignal<bool>,
    /// (step, FP-AdaMetric's loss, Vanilla's loss) per simulated-session step.
    pub losses: RwSignal<Vec<(usize, f32, f32)>>,
    pub status: RwSignal<String>,
    /// A model file in the FP-aware slot (`skipwise train`'s model.json) for this page load.
    pub imported: RwSignal<Option<Imported>>,

    pub kind: RwSignal<Kind>,
    pub catalog: RwSignal<Option<Arc<Catalog>>>,
    pub genre: RwSignal<usize>,
    /// Seeds both models (the address's `seed`; "Reset with a new seed" draws another).
    pub seed: RwSignal<u64>,

    pub now: RwSignal<Option<u64>>,
    pub position: RwSignal<f32>,
    pub playing: RwSignal<bool>,
    pub liked: RwSignal<bool>,
    pub speed: RwSignal<f32>,
    pub skip_secs: RwSignal<f32>,
    pub timeline: RwSignal<Timeline>,

    pub recs: RwSignal<Vec<Row>>,
    pub vanilla: RwSignal<Vec<Row>>,
    pub weights: RwSignal<Vec<FpWeight>>,
    /// Items "Recommendations" listed before the last play and no longer does.
    pub dropped: RwSignal<Vec<u64>>,
    /// The list item whose reason is open ("Why?"), by list and item.
    pub why: RwSignal<Option<(&'static str, u64)>>,
    pub map: RwSignal<Option<EmbeddingMap>>,
    /// Skipped items' and the session's last positions on the map.
    pub trails: RwSignal<skipwise_page_logic::trails::Trails>,
    pub learned: RwSignal<u32>,
    /// Click-to-new-list time of the last play, ms (page clock, so it includes the messaging).
    pub latency: RwSignal<Option<f64>>,
    /// Every click-to-new-list time of this page load.
    pub latencies: RwSignal<skipwise_page_logic::latency::Latencies>,
    /// The worker's share of it: the two models' updates and the new lists, ms.
    pub worker_ms: RwSignal<f64>,
    pub message: RwSignal<String>,
    pub alert: RwSignal<String>,
    /// Where the models' warm start came from this time ("trained …" or "loaded …").
    pub warm_source: RwSignal<String>,
    /// Where the weights the last Start sent came from.
    pub(crate) warm_origin: StoredValue<crate::conversation::WarmOrigin>,
    /// This page load's first paint and first recommendation lists, ms after navigation began.
    pub first_visit: RwSignal<Option<(Option<f64>, f64)>>,
    pub kept_aside: RwSignal<Vec<KeptAside>>,
    /// The Reset confirmation is open.
    pub confirm_reset: RwSignal<bool>,
    pub tour: RwSignal<Option<usize>>,
    pub autopilot: RwSignal<bool>,
    pub persona: RwSignal<Persona>,
    /// Which preset the persona is (its index in the catalog's presets).
    pub persona_index: RwSignal<usize>,
    /// Hit rate @10 against the persona after each play: (FP-AdaMetric, Vanilla).
    pub hits: RwSignal<Vec<(f32, f32)>>,

    pub(crate) worker: StoredValue<Option<WorkerHandle>, LocalStorage>,
    pub(crate) conversation: StoredValue<Conversation>,
    /// The first plays' sequence number not yet sent to the current worker.
    pub(crate) synced: StoredValue<u64>,
    /// Worker restarts on the CPU since the models were last built.
    pub(crate) restarts: StoredValue<u32>,
    /// A test-only fault for the first worker (`?fault=`); taken by its `Init`.
    pub(crate) fault: StoredValue<Option<Fault>>,
    /// The warm-start length (`?warm=`), fixed for the page's life.
    pub(crate) warm_steps: StoredValue<u32>,
    pub(crate) clock: StoredValue<Option<PlayClock>>,
    pub(crate) synth: StoredValue<Synth, LocalStorage>,
}

/// When the page first painted anything (First Contentful Paint), ms after navigation began.
pub fn first_paint_ms() -> Option<f64> {
    let performance = web_sys::window()?.performance()?;
    performance.get_entries_by_type("paint").iter().find_map(|e| {
        let name = js_sys::Reflect::get(&e, &"name".into()).ok()?.as_string()?;
        (name == "first-contentful-paint").then(|| js_sys::Reflect::get(&e, &"startTime".into()).ok()?.as_f64())?
    })
}

pub fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or_else(js_sys::Date::now)
}

impl Ctx {
    /// The page's state at load: the address's parameters over the visitor's saved choices.
    pub fn new(params: &Params) -> Self {
        let kind = params.catalog.unwrap_or_else(crate::history::last_catalog);
        Self {
            backend: RwSignal::new("starting the training worker…".into()),
            on_gpu: RwSignal::new(false),
            ready: RwSignal::new(false),
            models_ready: RwSignal::new(false),
            progress: RwSignal::new(None),
            training: RwSignal::new(false),
            losses: RwSignal::new(Vec::new()),
            imported: RwSignal::new(None),
            status: RwSignal::new(String::new()),
            kind: RwSignal::new(kind),
            catalog: RwSignal::new(None),
            genre: RwSignal::new(0),
            seed: RwSignal::new(params.seed.unwrap_or(skipwise_page_logic::params::DEFAULT_SEED)),
            now: RwSignal::new(None),
            position: RwSignal::new(0.0),
            playing: RwSignal::new(false),
            liked: RwSignal::new(false),
            speed: RwSignal::new(params.speed.unwrap_or(1.0)),
            skip_secs: RwSignal::new(DEFAULT_SKIP_SECS),
            timeline: RwSignal::new(Timeline::default()),
            recs: RwSignal::new(Vec::new()),
            dropped: RwSignal::new(Vec::new()),
            trails: RwSignal::new(Default::default()),
            why: RwSignal::new(None),
            vanilla: RwSignal::new(Vec::new()),
            weights: RwSignal::new(Vec::new()),
            map: RwSignal::new(None),
            learned: RwSignal::new(0),
            latency: RwSignal::new(None),
            latencies: RwSignal::new(Default::default()),
            worker_ms: RwSignal::new(0.0),
            message: RwSignal::new(String::new()),
            alert: RwSignal::new(String::new()),
            warm_source: RwSignal::new(String::new()),
            warm_origin: StoredValue::new(Default::default()),
            first_visit: RwSignal::new(None),
            kept_aside: RwSignal::new(Vec::new()),
            confirm_reset: RwSignal::new(false),
            tour: RwSignal::new(None),
            autopilot: RwSignal::new(false),
            persona: RwSignal::new(Persona {
                curiosity: params.curiosity.map_or(0.3, |c| c / 100.0),
                ..Persona::default()
            }),
            persona_index: RwSignal::new(0),
            hits: RwSignal::new(Vec::new()),
            worker: StoredValue::new_local(None),
            conversation: StoredValue::new(Conversation::new()),
            synced: StoredValue::new(0),
            restarts: StoredValue::new(0),
            fault: StoredValue::new(params.fault),
            warm_steps: StoredValue::new(params.warm.unwrap_or(skipwise_protocol::WARM_STEPS)),
            clock: StoredValue::new(None),
            synth: StoredValue::new_local(Synth::default()),
        }
    }

    pub fn item(self, id: u64) -> Option<catalog::Item> {
        self.catalog.with(|c| c.as_ref().and_then(|c| c.get(id).cloned()))
    }

    /// Items the worker labelled FP in this history (a play still on its way has no label yet).
    pub fn skipped(self) -> Vec<u64> {
        self.timeline.with(|t| t.skipped())
    }

    /// The warm-start length: [`skipwise_protocol::WARM_STEPS`], or the address's `warm` (1–2000).
    /// A short warm start shows what the models know before they have seen much, and keeps the
    /// browser tests on a software WebGPU adapter (seconds per step) within minutes.
    pub fn warm_steps(self) -> u32 {
        self.warm_steps.get_value()
    }

    /// Adds a line to the visible alert (several problems at load are all shown; the same
    /// problem again, e.g. a save failing on every play, is shown once).
    pub fn warn(self, line: String) {
        if self.alert.with_untracked(|a| a.lines().any(|l| l == line)) {
            return;
        }
        self.alert.update(|a| {
            if !a.is_empty() {
                a.push('\n');
            }
            a.push_str(&line);
        });
    }

    /// Stops whatever plays without recording it (a catalog switch, a reset, an import).
    pub fn stop_playing(self) {
        self.now.set(None);
        self.playing.set(false);
        self.position.set(0.0);
        self.clock.set_value(None);
        self.synth.update_value(|s| s.stop());
    }
}
