//! The messages that cross between the Skipwise page and its training worker.
//!
//! Both sides post these through [`wire`] (feature `wire`): serde-wasm-bindgen objects with the
//! embedding map's points as a `Float32Array`, measured faster than JSON text ([`encode`],
//! [`decode`], kept for files and tests); the figures are in `wire`'s doc. Without the feature this
//! crate has no burn and no web dependency.
//!
//! Every message travels in an [`Envelope`]: the page numbers its requests, and the worker answers
//! each with the number of the request it answers. The page drops answers to requests it no longer
//! waits for (after a catalog switch, a reset, an import or a worker restart), and an `Error` ends
//! the request it names, so one failed request can never leave the page waiting.

use serde::{Deserialize, Serialize};

pub mod catalog;
pub mod fnv;
pub mod history;
pub mod lab;
pub mod results;
#[cfg(feature = "wire")]
pub mod wire;

/// Simulated-session steps (batches of 64) each model trains before the player opens. Fewer
/// leave the lists close to random: FP-AdaMetric's HR@10 on the catalog's simulated sessions is
/// 0.15 after 30 steps, 0.69 after 100, 0.85 after 150 (the worker's test pins it).
pub const WARM_STEPS: u32 = 150;

/// The models' seed when the page's address names none: the seed of the shipped warm start.
pub const DEFAULT_SEED: u64 = 7;

/// The page's FP threshold (seconds) until the visitor moves it: the shipped warm start's.
pub const DEFAULT_SKIP_SECS: f32 = 10.0;

/// Name of a catalog's warm-start weights: their IndexedDB key in the page and, for the default
/// seed, the shipped file `warm/<key>.json` (made by `skipwise warm-weights`). Another seed or
/// warm-start length is another name; the suffix changes when the models' shapes do.
pub fn warm_key(catalog: Catalog, seed: u64, warm_steps: u32) -> String {
    format!("{}-{warm_steps}-s{seed}-v3", catalog.name())
}

/// A request or response with the id of the request it belongs to. Requests are numbered from 1
/// by the page; a response carries its request's id, or [`UNSOLICITED`] for what the worker says
/// on its own (`Booted`, or a panic outside any request).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub id: u64,
    pub body: T,
}

/// The id of a response that answers no request.
pub const UNSOLICITED: u64 = 0;

/// A message as JSON text.
pub fn encode<T: Serialize>(id: u64, body: &T) -> Result<String, String> {
    serde_json::to_string(&Envelope { id, body }).map_err(|e| format!("cannot encode a message: {e}"))
}

/// A message from JSON text.
pub fn decode<T: for<'de> Deserialize<'de>>(text: &str) -> Result<Envelope<T>, String> {
    serde_json::from_str(text).map_err(|e| format!("unreadable message: {e}"))
}

/// Which compute backend the worker trains on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum BackendKind {
    WebGpu,
    Cpu,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackendInfo {
    pub kind: BackendKind,
    /// The adapter's name as the browser reports it (WebGPU only).
    pub adapter: Option<String>,
    /// Why WebGPU is not used (CPU only).
    pub fallback_reason: Option<String>,
}

impl BackendInfo {
    /// What the page shows: "WebGPU (adapter)" or "CPU (WebGPU unavailable: reason)".
    pub fn label(&self) -> String {
        match self.kind {
            BackendKind::WebGpu => match &self.adapter {
                Some(a) if !a.is_empty() => format!("WebGPU ({a})"),
                _ => "WebGPU".to_string(),
            },
            BackendKind::Cpu => format!(
                "CPU (WebGPU unavailable: {})",
                self.fallback_reason.as_deref().unwrap_or("not requested")
            ),
        }
    }
}

/// Which demo catalog the player uses (`www/catalog/<name>.json`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Catalog {
    Music,
    Movies,
}

impl Catalog {
    pub fn name(self) -> &'static str {
        match self {
            Catalog::Music => "music",
            Catalog::Movies => "movies",
        }
    }
}

/// One finished play: the item (catalog id), how long it ran before it ended or was skipped, and
/// what fixes its label for good: the FP threshold in force when it was played, and whether the
/// visitor liked it. A later threshold never relabels a past play (a reload relearns the same
/// labels), and a like is kept as a like, not as a longer play.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Play {
    pub item: u64,
    pub played_secs: f32,
    pub duration_secs: f32,
    /// Played for less than this (and not to the end, and not liked) → FP.
    pub skip_secs: f32,
    /// A like makes the play a positive however short it was.
    pub liked: bool,
}

/// A recommended item (catalog id) and its score `e_seq · e_item`, with why it stands there.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ranked {
    pub item: u64,
    pub score: f32,
    #[serde(default)]
    pub reason: Reason,
}

/// Why an item is where it is, computed from the model that ranked it (its own item embeddings,
/// cosine similarity): what a visitor reads on hover, focus or "Why?".
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// Its score now minus its score before this play (`None` on the first list of a start).
    pub change: Option<f32>,
    /// The item of the model's input (its session) nearest to it, and their similarity.
    pub near_input: Option<(u64, f32)>,
    /// The skip of the session (FP-AdaMetric's FP set) nearest to it, when the similarity is
    /// positive: the skip that pulls it down.
    pub near_skip: Option<(u64, f32)>,
}

impl Reason {
    fn finite(&self) -> bool {
        self.change.is_none_or(f32::is_finite) && [self.near_input, self.near_skip].iter().flatten().all(|(_, s)| s.is_finite())
    }
}

/// f_FPA's "degree of dislike" for one skipped item of the session.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FpWeight {
    pub item: u64,
    pub weight: f32,
}

/// FP-AdaMetric's item embeddings and session vector on their first two principal axes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingMap {
    /// One point per catalog item, in catalog id order (id 1 first).
    pub items: Vec<[f32; 2]>,
    /// The session's representation `e_seq`, when the session has a positive.
    pub session: Option<[f32; 2]>,
}

/// Which events a [`Recommendations`] answer labels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Labels {
    /// After a start: every play of the relearnt history, in order (`true` = FP).
    Start(Vec<bool>),
    /// After one new play: its label.
    Play(bool),
}

/// Test-only faults the page asks for with `?fault=…` (see the page's `params`), so the browser
/// tests can prove that a failing or dying worker never stalls the page. Each fires once, on the
/// `nth` Observe (1-based) of the worker it was given to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fault {
    /// Answer the nth Observe with an `Error` (the models do not learn that play).
    ErrorOnObserve(u32),
    /// Panic inside the nth Observe (the worker dies, as a trap would kill it).
    PanicOnObserve(u32),
}

/// Both models' view of the session after an event (or after a start).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recommendations {
    /// Events the models have learnt from so far in this history.
    pub events: u32,
    /// The FP labels the worker's rule gave the events this answer is about. The page never
    /// labels plays itself: one rule (the core's `FpRule`), one place.
    pub labels: Labels,
    /// FP-AdaMetric's top 10.
    pub fp_aware: Vec<Ranked>,
    /// Vanilla's top 10 (FPs kept as positives, in training and in its input).
    pub vanilla: Vec<Ranked>,
    pub fp_weights: Vec<FpWeight>,
    pub map: Option<EmbeddingMap>,
    /// Worker time from receiving the request to sending this, ms.
    pub millis: f64,
}

impl Recommendations {
    /// Every score, weight and map point must be a finite number: JSON has no NaN, and a NaN
    /// score ranks nothing. The worker sends an `Error` naming the first bad value instead.
    pub fn check_finite(&self) -> Result<(), String> {
        let lists = [("FP-AdaMetric's list", &self.fp_aware), ("Vanilla's list", &self.vanilla)];
        for (name, list) in lists {
            if let Some(r) = list.iter().find(|r| !r.score.is_finite()) {
                return Err(format!("{name}: item {} has score {}", r.item, r.score));
            }
            if let Some(r) = list.iter().find(|r| !r.reason.finite()) {
                return Err(format!("{name}: item {}'s reason holds {:?}", r.item, r.reason));
            }
        }
        if let Some(w) = self.fp_weights.iter().find(|w| !w.weight.is_finite()) {
            return Err(format!("degree of dislike: item {} has weight {}", w.item, w.weight));
        }
        if let Some(map) = &self.map {
            if let Some(i) = map.items.iter().position(|p| !p.iter().all(|v| v.is_finite())) {
                return Err(format!("embedding map: item point {} is {:?}", i + 1, map.items[i]));
            }
            if let Some(p) = map.session.filter(|p| !p.iter().all(|v| v.is_finite())) {
                return Err(format!("embedding map: the session point is {p:?}"));
            }
        }
        Ok(())
    }
}

/// Page → worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Pick a backend. `allow_gpu = false` forces the CPU (used after a GPU failure), with the
    /// reason. `fault` is for tests only.
    Init { allow_gpu: bool, reason: Option<String>, fault: Option<Fault> },
    /// Build both models for `catalog`, warm-start them for `warm_steps` on simulated sessions
    /// (or load `warm`, weights an earlier `WarmWeights` gave the page), then learn `history` (a
    /// reload or an import) and answer with `Recommendations`.
    /// `seed` seeds both models' initial weights and their simulated listeners (the page's
    /// "Reset with a new seed" changes it).
    /// `trained`: how many plays at the start of `history` `warm` has learnt already (weights
    /// from a `Snapshot`): they are recorded, not trained on again.
    Start {
        catalog: Catalog,
        skip_secs: f32,
        seed: u64,
        warm_steps: u32,
        history: Vec<Play>,
        warm: Option<String>,
        #[serde(default)]
        trained: u32,
        /// A model file's text (`skipwise train`'s model.json) for the FP-aware slot, already
        /// accepted by `CheckModel`; the cached and shipped weights then go to Vanilla alone.
        #[serde(default)]
        model: Option<String>,
    },
    /// Whether a model file fits the FP-aware slot of `catalog`: answered with `ModelChecked`
    /// (what it is) or an `Error` saying why not. Changes nothing.
    CheckModel { catalog: Catalog, skip_secs: f32, seed: u64, name: String, text: String },
    /// `steps` more training steps on simulated sessions, reporting the loss after each.
    Train { steps: u32 },
    /// A finished play: label it with the FP rule (at the play's own threshold), update both
    /// models, answer with `Recommendations`.
    Observe { play: Play },
    /// Both models' weights now, answered with `Snapshot`.
    Snapshot,
    /// The Lab (a worker of its own): read a log and cut it as the paper's protocol wants,
    /// keeping it for the runs that follow; a log that cannot be read leaves the one before.
    LabLoad { data: lab::LabData, options: lab::DataOptions },
    /// Train the spec's systems × seeds on the loaded log, one after the other.
    LabRun { spec: lab::LabSpec },
    /// Stop the Lab's run at its next step (heard while it runs, not queued behind it).
    LabCancel,
}

/// Worker → page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// The worker's module has started and listens; the page sends `Init` only after this.
    Booted,
    Ready { backend: BackendInfo },
    /// Warm start or history replay: `done` of `total` steps.
    Progress { what: String, done: u32, total: u32 },
    /// Both models' training losses after a simulated-session step (FP-AdaMetric's includes
    /// its metric term, so the two are not the same quantity: each is charted on its own).
    Loss { step: u32, loss: f32, vanilla_loss: f32, millis: f64 },
    TrainDone { steps: u32, millis: f64 },
    Recommendations(Recommendations),
    /// Both models' weights right after a trained warm start, as opaque text the page caches
    /// (IndexedDB) and hands back in `Start::warm`, so a reload skips the warm start.
    WarmWeights { catalog: Catalog, warm_steps: u32, weights: String },
    /// `Start::warm` was used: no warm-start training this time.
    WarmLoaded { catalog: Catalog },
    /// Both models' weights (opaque text for `Start::warm`) after they learnt `events` plays.
    Snapshot { events: u32, weights: String },
    /// `CheckModel`'s answer: the file fits; what it holds, in words.
    ModelChecked { description: String },
    /// `LabLoad`'s answer: what the log became.
    LabLoaded(lab::LabDataset),
    /// Where a `LabRun` stands (at most every ~100 ms).
    LabProgress(lab::LabProgress),
    /// One finished epoch of a Lab run.
    LabEpoch(lab::LabEpoch),
    /// The Lab run's results: the file as `compare --json` writes it (`results::CompareFile`,
    /// as text: the page only offers it for download, and never links a JSON `Value`), and its rows.
    LabDone { json: String, methods: Vec<results::Row>, seconds: f64 },
    /// The Lab run stopped on `LabCancel`.
    LabCancelled,
    /// Something went wrong but the request goes on (e.g. cached weights that no longer fit).
    Warning { message: String },
    /// The request failed; this is its answer (the page stops waiting for it).
    Error { message: String },
    /// The GPU gave an unusable result (e.g. a NaN loss); the page restarts the worker on the CPU.
    DeviceFailed { message: String },
    /// The worker is about to abort (a Rust panic); the page restarts it on the CPU.
    Panic { message: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_the_backend_and_the_reason() {
        let gpu = BackendInfo { kind: BackendKind::WebGpu, adapter: Some("swiftshader".into()), fallback_reason: None };
        assert_eq!(gpu.label(), "WebGPU (swiftshader)");
        let cpu = BackendInfo { kind: BackendKind::Cpu, adapter: None, fallback_reason: Some("no adapter".into()) };
        assert_eq!(cpu.label(), "CPU (WebGPU unavailable: no adapter)");
    }

    #[test]
    fn messages_round_trip_through_json() {
        let msgs = vec![
            Response::Loss { step: 3, loss: 1.5, vanilla_loss: 1.75, millis: 2.0 },
            Response::Recommendations(Recommendations {
                events: 2,
                labels: Labels::Play(true),
                fp_aware: vec![Ranked { item: 7, score: 0.5, reason: Reason::default() }],
                vanilla: vec![],
                fp_weights: vec![FpWeight { item: 3, weight: 0.25 }],
                map: Some(EmbeddingMap { items: vec![[0.5, -1.0]], session: None }),
                millis: 12.0,
            }),
            Response::Ready { backend: BackendInfo { kind: BackendKind::Cpu, adapter: None, fallback_reason: None } },
        ];
        for (id, m) in msgs.into_iter().enumerate() {
            let text = encode(id as u64, &m).expect("serialises");
            let back: Envelope<Response> = decode(&text).expect("deserialises");
            assert_eq!(back, Envelope { id: id as u64, body: m });
        }
    }

    #[test]
    fn a_nan_anywhere_in_an_answer_is_named() {
        let ok = Recommendations {
            events: 1,
            labels: Labels::Play(false),
            fp_aware: vec![Ranked { item: 7, score: 0.5, reason: Reason::default() }],
            vanilla: vec![Ranked { item: 8, score: 0.25, reason: Reason::default() }],
            fp_weights: vec![FpWeight { item: 3, weight: 0.5 }],
            map: Some(EmbeddingMap { items: vec![[0.5, -1.0], [0.0, 0.0]], session: Some([1.0, 1.0]) }),
            millis: 1.0,
        };
        assert_eq!(ok.check_finite(), Ok(()));
        let mut bad = ok.clone();
        bad.vanilla[0].score = f32::NAN;
        assert_eq!(bad.check_finite().unwrap_err(), "Vanilla's list: item 8 has score NaN");
        let mut bad = ok.clone();
        bad.map.as_mut().map(|m| m.items[1][0] = f32::INFINITY);
        assert_eq!(bad.check_finite().unwrap_err(), "embedding map: item point 2 is [inf, 0.0]");
        let mut bad = ok;
        bad.fp_weights[0].weight = f32::NAN;
        assert!(bad.check_finite().unwrap_err().starts_with("degree of dislike: item 3"));
    }
}
