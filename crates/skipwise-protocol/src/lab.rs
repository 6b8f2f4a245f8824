//! The page's Lab: the messages of an experiment run in a worker of its own (its dataset, its
//! runs, their progress), and the command line that runs the same experiment natively.
//!
//! The Lab is `skipwise compare` under the paper's protocol in a browser tab: the same loaders,
//! the same [`DataOptions`], the same knobs' defaults and the same [`crate::results::CompareFile`].
//! [`LabSpec::command`] writes the commands that reproduce a Lab run, flag for flag; a browser
//! test runs them and compares both files.

use serde::{Deserialize, Serialize};

/// The `--columns` that read the simulator's CSV back (`--format csv --columns …`).
pub const SIM_COLUMNS: &str = "session=session,user=user,item=item,time=time,played=played,duration=duration";

/// The file name the simulator's log goes by (in the Lab's results, and in the command that
/// writes it natively).
pub const SIM_FILE: &str = "sim.csv";

/// How a log becomes the paper's sessions and split (the CLI flags of the same names).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataOptions {
    /// Played for less than this → FP, s.
    pub skip_secs: f32,
    /// Rated at or below this → FP.
    pub rating_max: f32,
    /// A session ends after this long without a click (when the log has no session ids), s.
    pub gap_secs: f64,
    /// Sessions with fewer positives are dropped (2: the least that gives a positive-only
    /// target something before it).
    pub min_positives: usize,
}

impl Default for DataOptions {
    fn default() -> Self {
        Self { skip_secs: 10.0, rating_max: 2.0, gap_secs: 1800.0, min_positives: 2 }
    }
}

/// The listener simulator's settings (`skipwise simulate`'s flags).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimSpec {
    pub seed: u64,
    pub listeners: usize,
    pub items: usize,
    /// Share of plays that are FPs.
    pub fp_share: f32,
    /// Shares of the FP kinds: misclick, curiosity, mild, context.
    pub mix: [f32; 4],
}

impl Default for SimSpec {
    fn default() -> Self {
        Self { seed: 1, listeners: 200, items: 300, fp_share: 0.3, mix: [0.0, 1.0, 0.0, 0.0] }
    }
}

impl SimSpec {
    /// `--fp-mix`'s text.
    pub fn mix_flag(&self) -> String {
        self.mix.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(",")
    }
}

/// Where the Lab's log comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LabData {
    Simulator(SimSpec),
    /// A file the visitor dropped or a shipped sample, read in the worker (never uploaded):
    /// `format` is a `--format` name (guessed from the first line when `None`), `columns` the
    /// generic CSV's `--columns`.
    File { name: String, text: String, format: Option<String>, columns: Option<String> },
}

impl LabData {
    /// The name the results give the log (`--data`).
    pub fn name(&self) -> &str {
        match self {
            LabData::Simulator(_) => SIM_FILE,
            LabData::File { name, .. } => name,
        }
    }
}

/// What a loaded log became.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabDataset {
    pub name: String,
    pub format: String,
    pub lines: usize,
    pub events: usize,
    pub sessions: usize,
    pub items: usize,
    pub fp_share: f32,
    pub split: [usize; 3],
    /// What was dropped on the way.
    pub notes: Vec<String>,
}

/// A Lab experiment: the systems (`--methods` names) × seeds, and the knobs the Lab sets; every
/// other knob is the CLI's default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabSpec {
    pub backbone: String,
    pub methods: Vec<String>,
    pub seeds: Vec<u64>,
    pub epochs: usize,
    pub patience: usize,
    pub batch: usize,
    pub dim: usize,
    pub hidden: usize,
    pub lr: f64,
    /// Which FPs a step's metric term sees: `user` (the user's training-period FPs, Definition 1,
    /// the CLI's default) or `session` (the session's own).
    pub fp_scope: String,
}

/// The Lab's choices of FP scope: the `--fp-scope` value and its label.
pub const FP_SCOPES: [(&str, &str); 2] = [("user", "The user's training-period FPs (Definition 1)"), ("session", "The session's own FPs")];

impl Default for LabSpec {
    /// The default Lab run: the paper's four methods on GRU4Rec, two seeds (so that the table
    /// has a spread), small enough to end within about three minutes on a browser's CPU
    /// fallback on a slow machine (75 s on this one's).
    fn default() -> Self {
        Self {
            backbone: "gru4rec".into(),
            methods: ["vanilla", "fp-simple", "fp-metric", "fp-adametric"].map(String::from).to_vec(),
            seeds: vec![1, 2],
            epochs: 8,
            patience: 3,
            batch: 256,
            dim: 32,
            hidden: 64,
            lr: 1e-3,
            fp_scope: "user".into(),
        }
    }
}

impl LabSpec {
    /// The commands that run this experiment natively on `data` (read with `options`), writing
    /// `json`: `skipwise simulate` first when the log is the simulator's.
    pub fn command(&self, data: &LabData, options: &DataOptions, json: &str) -> String {
        let mut out = String::new();
        let (file, mut read) = match data {
            LabData::Simulator(sim) => {
                out.push_str(&format!(
                    "skipwise simulate --seed {} --listeners {} --items {} --fp-share {} --fp-mix {} --out {SIM_FILE} && ",
                    sim.seed,
                    sim.listeners,
                    sim.items,
                    sim.fp_share,
                    sim.mix_flag()
                ));
                (SIM_FILE.to_string(), format!(" --format csv --columns {SIM_COLUMNS}"))
            }
            LabData::File { name, format, columns, .. } => {
                let mut read = format.as_ref().map_or(String::new(), |f| format!(" --format {f}"));
                if let Some(c) = columns.as_ref().filter(|c| !c.trim().is_empty()) {
                    read.push_str(&format!(" --columns {}", shell_word(c)));
                }
                (shell_word(name), read)
            }
        };
        read.push_str(&format!(" --skip-secs {} --rating-max {} --gap-secs {} --min-positives {}", options.skip_secs, options.rating_max, options.gap_secs, options.min_positives));
        let seeds: Vec<String> = self.seeds.iter().map(u64::to_string).collect();
        out.push_str(&format!(
            "skipwise compare --data {file}{read} --backbone {} --methods {} --seeds {} --epochs {} --patience {} --batch {} --dim {} --hidden {} --lr {} --fp-scope {} --json {json}",
            self.backbone,
            self.methods.join(","),
            seeds.join(","),
            self.epochs,
            self.patience,
            self.batch,
            self.dim,
            self.hidden,
            self.lr,
            self.fp_scope
        ));
        out
    }
}

/// `s` as one shell word (quoted when it holds anything but plain characters).
fn shell_word(s: &str) -> String {
    match s.chars().all(|c| c.is_ascii_alphanumeric() || "._-/=,@:+".contains(c)) && !s.is_empty() {
        true => s.to_string(),
        false => format!("'{}'", s.replace('\'', r"'\''")),
    }
}

/// Where a Lab run stands (posted at most every ~100 ms, and at every epoch's end).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabProgress {
    /// The system × seed being trained, of how many.
    pub run: usize,
    pub runs: usize,
    /// Its system's colour: the index of its first row in the results (Vanilla's two rows, its
    /// natural input's and the FP-free one's, shift the others by one), and its label.
    pub method: usize,
    pub label: String,
    pub seed: u64,
    pub epoch: usize,
    pub epochs: usize,
    pub batch: usize,
    pub batches: usize,
}

/// One finished epoch of one run: its mean training loss and validation MRR@20 (the curves).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabEpoch {
    pub run: usize,
    /// As [`LabProgress::method`].
    pub method: usize,
    pub label: String,
    pub seed: u64,
    pub epoch: usize,
    pub loss: f64,
    pub valid_mrr20: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_names_every_flag_the_lab_sets() {
        let spec = LabSpec { methods: vec!["vanilla".into(), "fp-adametric".into()], seeds: vec![1, 2], ..LabSpec::default() };
        let sim = LabData::Simulator(SimSpec { mix: [1.0, 2.0, 0.5, 0.0], ..SimSpec::default() });
        let cmd = spec.command(&sim, &DataOptions::default(), "lab.json");
        assert_eq!(
            cmd,
            "skipwise simulate --seed 1 --listeners 200 --items 300 --fp-share 0.3 --fp-mix 1,2,0.5,0 --out sim.csv && \
             skipwise compare --data sim.csv --format csv --columns session=session,user=user,item=item,time=time,played=played,duration=duration \
             --skip-secs 10 --rating-max 2 --gap-secs 1800 --min-positives 2 --backbone gru4rec --methods vanilla,fp-adametric --seeds 1,2 \
             --epochs 8 --patience 3 --batch 256 --dim 32 --hidden 64 --lr 0.001 --fp-scope user --json lab.json"
        );
        let file = LabData::File { name: "my plays.csv".into(), text: String::new(), format: Some("csv".into()), columns: Some("user=who,item=what".into()) };
        let cmd = spec.command(&file, &DataOptions::default(), "x.json");
        assert!(cmd.starts_with("skipwise compare --data 'my plays.csv' --format csv --columns user=who,item=what --skip-secs"), "{cmd}");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
