//! `skipwise`: train, evaluate and benchmark Skipwise recommenders natively.

mod bench;
mod cli;
mod commands;
mod compare;
mod config_file;
mod eval;
mod fetch;
mod inspect;
mod progress;
mod recommend;
mod run_checkpoint;
mod sim_kinds;
mod simulate;
mod table;
mod ml100k;
mod train;
mod warm;

use cli::{Cli, Command};

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

fn main() {
    keep_freed_pages();
    // burn materialises a loaded optimiser state (a resumed checkpoint) on its default device
    // before the next step moves it to the training device: keep that default on the CPU rather
    // than a GPU opened for nothing (or missing). `--device wgpu` still trains on wgpu.
    if std::env::var_os("BURN_DEVICE").is_none() {
        // SAFETY: nothing else runs yet; no other thread can read the environment concurrently.
        unsafe { std::env::set_var("BURN_DEVICE", "flex") };
    }
    let args = config_file::expand(std::env::args_os().collect()).unwrap_or_else(|e| {
        eprintln!("skipwise: {e}");
        std::process::exit(2);
    });
    // `--help`, `--version` and bad flags exit inside (clap's own messages, exit code 2 on errors).
    let matches = <Cli as clap::CommandFactory>::command().get_matches_from(args);
    let cli = <Cli as clap::FromArgMatches>::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let result = match &cli.command {
        Command::SimTable(a) => commands::sim_table(a),
        Command::Ml100k(a) => ml100k::ml100k(a),
        Command::Ml100kSeeds(a) => ml100k::ml100k_seeds(a),
        Command::Catalog(a) => commands::catalog(a),
        Command::WarmWeights(a) => warm::warm_weights(a),
        Command::Bench(a) => bench::bench(a),
        Command::Train(a) => train::train(a),
        Command::Compare(a) => compare::compare(a),
        Command::Eval(a) => eval::eval(a),
        Command::Recommend(a) => recommend::recommend(a),
        Command::Simulate(a) => simulate::simulate(a),
        Command::Inspect(a) => inspect::inspect(a),
        Command::Fetch(a) => fetch::fetch(a),
        Command::SimKinds(a) => sim_kinds::sim_kinds(a),
    };
    // A finished run's flags, as a file that repeats it (`--config`), beside its results.
    let result = result.and_then(|()| {
        let (sub, sub_matches) = matches.subcommand().ok_or("no command")?;
        let beside = match &cli.command {
            Command::Train(a) => Some(format!("{}/config.toml", a.out)),
            Command::Compare(a) => Some(format!("{}.config.toml", a.json.strip_suffix(".json").unwrap_or(&a.json))),
            _ => None,
        };
        match beside {
            Some(path) => commands::write_text(&path, config_file::effective(sub_matches, sub)),
            None => Ok(()),
        }
    });
    if let Err(e) = result {
        eprintln!("skipwise: {e}");
        std::process::exit(2);
    }
}
