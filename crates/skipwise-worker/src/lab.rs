//! The page's Lab as plain Rust: a log read and cut as `skipwise compare` does
//! ([`skipwise_core::experiment`]), then its systems × seeds trained one mini-batch at a time by a
//! [`LabJob`], so that the Web Worker (`worker.rs`) can post progress and hear Cancel between
//! steps. Natively testable: the tests below run a job to its file.
//!
//! The Lab always trains on the CPU (Flex), whatever the player's worker uses: its numbers are
//! then `compare`'s on the same data and flags up to float noise, its reads are synchronous, and
//! the player's GPU stays the player's.

use skipwise_core::batch::FpScope;
use skipwise_core::burn::tensor::Device;
use skipwise_core::experiment::{self, Knobs, PaperRun, Prepared};
use skipwise_core::loaders::{self, ColumnMap, Format, Options};
use skipwise_core::metrics::Report;
use skipwise_core::model::Backbone;
use skipwise_core::sim::{FpMix, SimConfig, Simulator};
use skipwise_core::system::System;
use skipwise_core::train::Stepped;
use skipwise_protocol::lab::{DataOptions, LabData, LabDataset, LabEpoch, LabProgress, LabSpec, SIM_COLUMNS, SIM_FILE};
use skipwise_protocol::results::CompareFile;

/// Reads `data` as `compare` would read the same file with the same flags.
pub fn load(data: &LabData, options: &DataOptions) -> Result<(Prepared, LabDataset), String> {
    let mut read = Options { max_play_secs: loaders::MAX_PLAY_SECS, ..Options::default() };
    let (text, name, format) = match data {
        LabData::Simulator(s) => {
            let mix = FpMix::from_shares(s.mix).map_err(|e| format!("--fp-mix: {e}"))?;
            let config = SimConfig { n_items: s.items, n_listeners: s.listeners, fp_share: s.fp_share, seed: s.seed, fp_mix: mix, ..SimConfig::default() };
            config.validate()?;
            read.columns = Some(ColumnMap::parse(SIM_COLUMNS)?);
            (std::borrow::Cow::Owned(Simulator::new(config).csv().text), SIM_FILE, Format::Csv)
        }
        LabData::File { name, text, format, columns } => {
            let format = match format {
                Some(f) => Format::parse(f).ok_or_else(|| format!("{name}: unknown format {f:?} ({})", Format::names()))?,
                None => Format::guess(text.lines().next().unwrap_or_default())
                    .ok_or_else(|| format!("{name}: cannot tell the format from its first line; choose one ({})", Format::names()))?,
            };
            if let Some(c) = columns.as_ref().filter(|c| !c.trim().is_empty()) {
                read.columns = Some(ColumnMap::parse(c).map_err(|e| format!("--columns: {e}"))?);
            }
            (std::borrow::Cow::Borrowed(text.as_str()), name.as_str(), format)
        }
    };
    let loaded = loaders::read(text.as_bytes(), name, format, &read).map_err(|e| e.to_string())?;
    let lines = loaded.lines;
    let events = loaded.events.len();
    let p = experiment::prepare(loaded, format, name, options)?;
    let summary = LabDataset {
        name: name.to_string(),
        format: format.name().to_string(),
        lines,
        events,
        sessions: p.data.sessions.len(),
        items: p.data.items.len(),
        fp_share: p.data.fp_share(),
        split: p.split_sizes(),
        notes: p.notes.clone(),
    };
    Ok((p, summary))
}

/// What one [`LabJob::step`] did.
pub enum LabEvent {
    Progress(LabProgress),
    Epoch(LabEpoch),
    Done(Box<CompareFile>),
}

/// One system's seeds so far.
#[derive(Default)]
struct Finished {
    tests: Vec<Report>,
    without_fps: Vec<Report>,
    epochs: Vec<usize>,
    seconds: Vec<f64>,
}

/// A Lab experiment in progress: the systems × seeds in `compare`'s order (each system's seeds
/// in turn), one [`PaperRun`] at a time.
pub struct LabJob {
    spec: LabSpec,
    backbone: Backbone,
    systems: Vec<System>,
    /// Each system's first row in the results (its colour: a Vanilla-input system has two).
    colours: Vec<usize>,
    knobs: Knobs,
    device: Device,
    /// The run being trained (index into systems × seeds) and when it started (ms).
    index: usize,
    current: Option<(PaperRun, f64)>,
    finished: Finished,
    rows: Vec<skipwise_protocol::results::Row>,
    configs: Vec<serde_json::Value>,
    started: f64,
}

impl LabJob {
    /// Checks every system's configuration before anything trains (as `compare` does).
    pub fn new(spec: LabSpec, p: &Prepared, device: Device, now_ms: f64) -> Result<Self, String> {
        if spec.methods.is_empty() || spec.seeds.is_empty() {
            return Err("choose at least one method and one seed".into());
        }
        let backbone = Backbone::parse(&spec.backbone).ok_or_else(|| format!("unknown backbone {:?}", spec.backbone))?;
        let fp_scope = match spec.fp_scope.as_str() {
            "user" => FpScope::User,
            "session" => FpScope::Session,
            other => return Err(format!("unknown FP scope {other:?} (user, session)")),
        };
        let knobs = Knobs { backbone, epochs: spec.epochs, patience: spec.patience, batch: spec.batch, dim: spec.dim, hidden: spec.hidden, lr: spec.lr, fp_scope, ..Knobs::default() };
        let mut systems = Vec::new();
        for m in &spec.methods {
            let system = System::parse(m).map_err(|e| format!("method {m:?}: {e}"))?;
            if system.ufn.is_some() || system.sml.is_some() {
                return Err(format!("{}: the Lab runs the softmax systems; run UFNRec and SML with `skipwise compare`", system.label()));
            }
            knobs.config(system, spec.seeds[0], p.data.users()).validate().map_err(|e| format!("{}: {e}", system.label()))?;
            systems.push(system);
        }
        let colours = systems
            .iter()
            .scan(0, |row, s| {
                let first = *row;
                *row += if s.method.keeps_fps_in_input() { 2 } else { 1 };
                Some(first)
            })
            .collect();
        Ok(Self { spec, backbone, systems, colours, knobs, device, index: 0, current: None, finished: Finished::default(), rows: Vec::new(), configs: Vec::new(), started: now_ms })
    }

    pub fn runs(&self) -> usize {
        self.systems.len() * self.spec.seeds.len()
    }

    fn at(&self, index: usize) -> (usize, u64) {
        let n = self.spec.seeds.len();
        (index / n, self.spec.seeds[index % n])
    }

    /// One mini-batch (or an epoch's validation, a run's test, the final file).
    pub fn step(&mut self, p: &Prepared, now_ms: f64) -> Result<LabEvent, String> {
        let (system_index, seed) = self.at(self.index);
        let system = self.systems[system_index];
        if self.current.is_none() {
            let config = self.knobs.config(system, seed, p.data.users());
            if seed == self.spec.seeds[0] {
                self.configs.push(serde_json::to_value(&config).map_err(|e| e.to_string())?);
            }
            self.current = Some((PaperRun::new(config, p, &self.device).map_err(|e| e.to_string())?, now_ms));
        }
        let label = system.label();
        let Some((run, _)) = self.current.as_mut() else { unreachable!("set above") };
        match run.step().map_err(|e| format!("{label} seed {seed}: {e}"))? {
            Stepped::Batch { epoch, done, of, .. } => Ok(LabEvent::Progress(self.progress(epoch, done, of))),
            Stepped::Epoch => {
                let log = &run.progress().logs[run.progress().logs.len() - 1];
                Ok(LabEvent::Epoch(LabEpoch {
                    run: self.index,
                    method: self.colours[system_index],
                    label,
                    seed,
                    epoch: log.epoch,
                    loss: log.loss,
                    valid_mrr20: log.valid.as_ref().map(|r| r.get("MRR@20")),
                }))
            }
            Stepped::Finished => {
                let (run, t0) = self.current.take().unwrap_or_else(|| unreachable!("matched above"));
                let outcome = run.finish(p).map_err(|e| format!("{label} seed {seed}: {e}"))?;
                let f = &mut self.finished;
                f.tests.push(outcome.test);
                f.without_fps.extend(outcome.without_fps);
                f.epochs.push(outcome.fit.epochs.len());
                f.seconds.push((now_ms - t0) / 1000.0);
                if self.index % self.spec.seeds.len() == self.spec.seeds.len() - 1 {
                    let f = std::mem::take(&mut self.finished);
                    let backbone = system.backbone_or(self.backbone).name();
                    self.rows.extend(experiment::rows(&system.label(), backbone, &f.tests, &f.without_fps, &f.epochs, &f.seconds));
                }
                self.index += 1;
                if self.index == self.runs() {
                    let file = experiment::paper_file(
                        p,
                        System::shared_backbone(&self.systems, self.backbone),
                        &self.spec.seeds,
                        std::mem::take(&mut self.configs),
                        std::mem::take(&mut self.rows),
                        (now_ms - self.started) / 1000.0,
                    );
                    return Ok(LabEvent::Done(Box::new(file)));
                }
                // The next run, before its first batch.
                Ok(LabEvent::Progress(self.progress(0, 0, 0)))
            }
        }
    }

    /// Where the run at `self.index` stands.
    fn progress(&self, epoch: usize, batch: usize, batches: usize) -> LabProgress {
        let (system, seed) = self.at(self.index);
        LabProgress {
            run: self.index,
            runs: self.runs(),
            method: self.colours[system],
            label: self.systems[system].label(),
            seed,
            epoch,
            epochs: self.spec.epochs,
            batch,
            batches,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> LabData {
        let path = format!("{}/../../tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
        LabData::File { name: name.into(), text: std::fs::read_to_string(&path).expect("sample"), format: None, columns: None }
    }

    fn run(job: &mut LabJob, p: &Prepared) -> (CompareFile, Vec<LabEpoch>, usize) {
        let (mut epochs, mut steps) = (Vec::new(), 0);
        loop {
            steps += 1;
            match job.step(p, steps as f64).expect("steps") {
                LabEvent::Progress(_) => {}
                LabEvent::Epoch(e) => epochs.push(e),
                LabEvent::Done(file) => return (*file, epochs, steps),
            }
        }
    }

    /// Every format's sample reads (the generic CSV with its columns), and its sessions train.
    #[test]
    fn each_formats_sample_loads_and_a_job_trains_it_to_a_file() {
        for name in ["ml-100k-u.data", "ml-100k.inter", "ml-1m-ratings.dat", "ml-latest-ratings.csv", "mssd-log.csv", "lastfm-1k.tsv"] {
            let (p, summary) = load(&sample(name), &DataOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(summary.sessions > 10 && summary.items > 10, "{name}: {summary:?}");
            assert_eq!(summary.split.iter().sum::<usize>(), summary.sessions, "{name}");
            assert!(p.data.fp_share() > 0.0, "{name}: the samples have FPs");
        }
        let LabData::File { text, .. } = sample("plays-generic.csv") else { unreachable!() };
        let generic = LabData::File {
            name: "plays-generic.csv".into(),
            text,
            format: Some("csv".into()),
            columns: Some("user=listener,item=track,time=when,played=seconds_played,duration=track_seconds".into()),
        };
        let (p, _) = load(&generic, &DataOptions::default()).expect("generic csv");
        let spec = LabSpec { backbone: "stamp".into(), methods: vec!["vanilla".into(), "fp-adametric".into()], seeds: vec![1], epochs: 2, dim: 8, hidden: 8, ..LabSpec::default() };
        let mut job = LabJob::new(spec, &p, Device::default(), 0.0).expect("job");
        let (file, epochs, _) = run(&mut job, &p);
        let names: Vec<&str> = file.methods.iter().map(|r| r.method.as_str()).collect();
        assert_eq!(names, ["Vanilla (FPs in input)", "Vanilla (FPs removed from input)", "FP-AdaMetric"]);
        assert_eq!(file.data, "plays-generic.csv");
        assert_eq!(file.configs.len(), 2);
        assert_eq!(epochs.len(), 4, "two epochs of each method");
        assert!(epochs.iter().all(|e| e.loss.is_finite() && e.valid_mrr20.is_some()), "{epochs:?}");
    }

    /// A bad line is named by file and line; a file that says nothing of its format asks for one.
    #[test]
    fn malformed_files_say_where_and_what() {
        let bad = LabData::File { name: "u.data".into(), text: "1\t2\t5\t880000000\n1\tx\t5\t880000001\n".into(), format: None, columns: None };
        let err = load(&bad, &DataOptions::default()).err().expect("refused");
        assert!(err.contains("u.data:2") && err.contains("item"), "{err}");
        let unknown = LabData::File { name: "notes.txt".into(), text: "hello there\n".into(), format: None, columns: None };
        let err = load(&unknown, &DataOptions::default()).err().expect("refused");
        assert!(err.contains("notes.txt: cannot tell the format") && err.contains("mssd"), "{err}");
        let options = DataOptions { gap_secs: 0.0, ..DataOptions::default() };
        assert!(load(&sample("ml-100k-u.data"), &options).err().expect("refused").contains("--gap-secs"));
    }

    /// The simulator's log reads back; a job with no method, an unknown backbone or FP scope is refused
    /// before anything trains.
    #[test]
    fn the_simulator_loads_and_bad_specs_are_refused() {
        let sim = LabData::Simulator(skipwise_protocol::lab::SimSpec { listeners: 20, items: 40, ..Default::default() });
        let (p, summary) = load(&sim, &DataOptions::default()).expect("simulator");
        assert_eq!(summary.name, "sim.csv");
        assert!((summary.fp_share - 0.3).abs() < 0.1, "{summary:?}");
        let none = LabSpec { methods: vec![], ..LabSpec::default() };
        assert!(LabJob::new(none, &p, Device::default(), 0.0).is_err());
        let bad = LabSpec { backbone: "lstm".into(), ..LabSpec::default() };
        assert!(LabJob::new(bad, &p, Device::default(), 0.0).err().expect("refused").contains("lstm"));
        let scope = LabSpec { fp_scope: "household".into(), ..LabSpec::default() };
        assert!(LabJob::new(scope, &p, Device::default(), 0.0).err().expect("refused").contains("household"));
        let ufn = LabSpec { methods: vec!["ufnrec".into()], ..LabSpec::default() };
        assert!(LabJob::new(ufn, &p, Device::default(), 0.0).err().expect("refused").contains("skipwise compare"));
        let mix = LabData::Simulator(skipwise_protocol::lab::SimSpec { mix: [0.0; 4], ..Default::default() });
        assert!(load(&mix, &DataOptions::default()).err().expect("refused").contains("--fp-mix"));
    }
}
