//! `skipwise`: train, evaluate and benchmark Skipwise recommenders natively.

mod args;
mod commands;
mod ml100k;

use args::Args;

/// burn's CPU backend allocates and frees large tensors on every operation; with glibc's malloc
/// the returned memory is faulted in afresh each time (a quarter of a million page faults a second
/// and ~40 % of the ML-100K anchor's time in the kernel). mimalloc keeps and reuses those pages.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `mi_option_e`: 15 in both v2 and v3 (mimalloc keeps
/// deprecated entries so that the numbering stays put). The Rust bindings name it only behind a
/// feature that needs another crate, so the one function is declared here.
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

unsafe extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// Even mimalloc hands freed pages back to the kernel after its purge delay, and burn frees and
/// reallocates the same large tensors every step, so each was faulted in again: 1.7 M minor faults
/// and 30 s of kernel time in a 120-s ML-100K epoch. Never purging made that epoch 89–94 s, with
/// 2.5 k faults and identical numbers, for 2.5 GB peak memory instead of 1.8 GB.
/// `MIMALLOC_PURGE_DELAY` in the environment still wins.
fn keep_freed_pages() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: a plain option store in the allocator linked above; -1 means "never purge".
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
}

const HELP: &str = "skipwise — FP-aware session recommendation

USAGE: skipwise <command> [--flag value]...

COMMANDS
  sim-table   Vanilla / FP-Simple / FP-Metric / FP-AdaMetric on the listener simulator, several
              seeds, mean ± sd of HR/MRR/NDCG@{10,20}; writes JSON.
              --backbone narm  --fp-share 0.5  --seeds 1,2,3  --epochs 10  --dim 64
              --lambda 0.5  --margin 1.0  --items 300  --listeners 200  --device flex|wgpu
              --methods vanilla,fp-simple,fp-metric,fp-adametric  --decoy-fps false
              --fp-scope session|user  --fpa-activation relu|tanh  --fpa-output sigmoid|softmax
              --json results/sim-table.json
  ml100k      RecBole's GRU4Rec anchor on MovieLens-100K (leave-one-out, full ranking).
              --file data/ml-100k/ml-100k.inter  --epochs 500  --patience 10  --monitor MRR@10
              --seed 2020  --batch 4096  --device flex|wgpu  --json results/ml100k-anchor.json
              --checkpoint data/ml100k-anchor.ckpt.json  --fresh false
              Writes a checkpoint after every epoch and goes on from it when run again.
  ml100k-seeds
              Several ml100k runs (e.g. one per seed) beside their mean ± sd and RecBole's numbers.
              --runs results/ml100k-anchor.json,results/ml100k-anchor-seed7.json,...
              --json results/ml100k-anchor-seeds.json
  catalog     Writes the page's demo catalogs (invented titles over the simulator's items).
              --out www/catalog
  help        This text.

Get MovieLens-100K first with ./scripts/fetch-data (it is not redistributable, so never committed).";

fn main() {
    keep_freed_pages();
    // burn materialises a loaded optimiser state (a resumed checkpoint) on its default device
    // before the next step moves it to the training device: keep that default on the CPU rather
    // than a GPU opened for nothing (or missing). `--device wgpu` still trains on wgpu.
    if std::env::var_os("BURN_DEVICE").is_none() {
        // SAFETY: nothing else runs yet; no other thread can read the environment concurrently.
        unsafe { std::env::set_var("BURN_DEVICE", "flex") };
    }
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = argv.split_first() else {
        print_help();
        return;
    };
    let result = Args::parse(rest).and_then(|args| match command.as_str() {
        "sim-table" => commands::sim_table(&args),
        "ml100k" => ml100k::ml100k(&args),
        "ml100k-seeds" => ml100k::ml100k_seeds(&args),
        "catalog" => commands::catalog(&args),
        "help" | "--help" | "-h" => {
            print_help();
            Ok(())
        }
        other => Err(format!("unknown command {other:?}; try `skipwise help`")),
    });
    if let Err(e) = result {
        eprintln!("skipwise: {e}");
        std::process::exit(2);
    }
}

/// The help text; a closed pipe (`skipwise help | head`) is not an error.
fn print_help() {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{HELP}");
}
