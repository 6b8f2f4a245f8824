//! `bench`: the figures that say how fast Skipwise is on this machine, in one table and one JSON
//! file: training throughput of every backbone × objective at the ML-100K anchor's sizes (with
//! the epoch time they imply for the anchor), the FP-AdaMetric step's cost over FP-Simple's on
//! the same batch, recommendation latency over catalogs of growing size, and the peak memory.
//! Machines of one kind differ by 2× here: compare figures of one run, as ratios.

use crate::cli::{Bench, BenchPart};
use crate::commands::{device, write_json};
use serde::Serialize;
use skipwise_core::batch::Example;
use skipwise_core::loaders::{self, Format, Options};
use skipwise_core::model::{Backbone, ModelConfig};
use skipwise_core::objective::{Method, ObjectiveConfig};
use skipwise_core::rng::Rng;
use skipwise_core::train::{TrainConfig, Trainer, top_k};
use std::time::Instant;

/// ML-100K's training prefixes under leave-one-out (100 000 ratings − 3 × 943 users), what the
/// anchor trains on per epoch (`skipwise ml100k` prints the count).
const ML100K_TRAIN_PREFIXES: usize = 97_171;
/// FPs per synthetic example for the FP-aware objectives (the metric term needs some).
const FPS_PER_EXAMPLE: usize = 5;

#[derive(Serialize)]
pub struct Machine {
    pub cores: usize,
    pub cpu: String,
    pub os: String,
}

#[derive(Serialize)]
pub struct TrainRow {
    pub device: String,
    pub backbone: String,
    pub method: String,
    pub seconds_per_step: f64,
    pub examples_per_second: f64,
    /// `seconds_per_step` × the anchor's steps per epoch at this batch size.
    pub anchor_epoch_seconds: f64,
    /// This step's time over FP-Simple's on the same batch (FP-Metric, FP-AdaMetric).
    pub over_fp_simple: Option<f64>,
}

#[derive(Serialize)]
pub struct LatencyRow {
    pub device: String,
    pub items: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
}

#[derive(Serialize)]
pub struct LoadRow {
    pub format: String,
    pub rows: usize,
    pub megabytes: f64,
    pub seconds: f64,
    pub rows_per_second: f64,
    /// Peak resident memory of a child process that loaded the file and built its sessions.
    pub child_peak_rss_mb: Option<f64>,
}

#[derive(Serialize)]
pub struct Report {
    pub unix_time: u64,
    pub machine: Machine,
    pub batch: usize,
    pub items: usize,
    pub dim: usize,
    pub steps: usize,
    pub training: Vec<TrainRow>,
    pub recommend: Vec<LatencyRow>,
    /// The loaders on generated files (`--load-rows`).
    pub loaders: Vec<LoadRow>,
    /// Skipped devices and why (e.g. no wgpu adapter).
    pub skipped: Vec<String>,
    pub peak_rss_mb: Option<f64>,
}

pub fn bench(args: &Bench) -> Result<(), String> {
    let report = run(args, &mut |line| eprintln!("{line}"))?;
    print_table(&report);
    write_json(&args.json, &report)
}

/// Runs every measurement, reporting progress through `progress`.
pub fn run(args: &Bench, progress: &mut dyn FnMut(String)) -> Result<Report, String> {
    // Every bad value is refused here, before any measurement starts.
    if args.steps == 0 || args.batch == 0 || args.calls == 0 || args.dim == 0 {
        return Err("--steps, --batch, --calls and --dim must be > 0".into());
    }
    if args.items < 2 {
        return Err(format!("--items: {} is too small a catalog to train on (at least 2)", args.items));
    }
    if let Some(n) = args.catalogs.iter().find(|n| **n == 0) {
        return Err(format!("--catalogs: a catalog of {n} items has nothing to recommend"));
    }
    let mut report = Report {
        unix_time: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        machine: machine(),
        batch: args.batch,
        items: args.items,
        dim: args.dim,
        steps: args.steps,
        training: Vec::new(),
        recommend: Vec::new(),
        loaders: Vec::new(),
        skipped: Vec::new(),
        peak_rss_mb: None,
    };
    let part = |p: BenchPart| args.parts.contains(&p);
    // The loaders first, while this process is small: Linux counts the address space a child is
    // spawned from into the child's `ru_maxrss` (exec records the old one's high-water mark), so
    // a child spawned after training here reported this process's peak, not its own.
    if args.load_rows > 0 && part(BenchPart::Loaders) {
        for row in load_speeds(&[Format::UData, Format::Mssd], args.load_rows, args.memory)? {
            let memory = row.child_peak_rss_mb.map_or(String::new(), |mb| format!(", {mb:.0} MB peak in a child process"));
            progress(format!("load {}: {} rows in {:.2} s, {:.0} rows/s{memory}", row.format, row.rows, row.seconds, row.rows_per_second));
            report.loaders.push(row);
        }
    }
    let examples = synthetic(args.batch, args.items, 50, 7);
    for &name in args.devices.iter().filter(|_| part(BenchPart::Training) || part(BenchPart::Recommend)) {
        let dev = match device(name) {
            Ok(d) => d,
            Err(e) => {
                progress(format!("{name:?}: skipped ({e})"));
                report.skipped.push(format!("{name:?}: {e}"));
                continue;
            }
        };
        let device_name = format!("{name:?}").to_lowercase();
        for &backbone in args.backbones.iter().filter(|_| part(BenchPart::Training)) {
            let mut simple = None;
            for &method in &args.methods {
                let secs = step_seconds(backbone, method, &examples, args, &dev)?;
                if method == Method::FpSimple {
                    simple = Some(secs);
                }
                let row = TrainRow {
                    device: device_name.clone(),
                    backbone: backbone.name().into(),
                    method: method.name().into(),
                    seconds_per_step: secs,
                    examples_per_second: args.batch as f64 / secs,
                    anchor_epoch_seconds: secs * ML100K_TRAIN_PREFIXES.div_ceil(args.batch) as f64,
                    over_fp_simple: simple.filter(|_| method.uses_metric()).map(|s| secs / s),
                };
                progress(format!("{device_name} {} {}: {secs:.3} s/step", row.backbone, row.method));
                report.training.push(row);
            }
        }
        for &n in args.catalogs.iter().filter(|_| part(BenchPart::Recommend)) {
            let (p50, p95) = latency(n, args.calls, args.dim, &dev)?;
            progress(format!("{device_name} recommend over {n} items: p50 {p50:.2} ms, p95 {p95:.2} ms"));
            report.recommend.push(LatencyRow { device: device_name.clone(), items: n, p50_ms: p50, p95_ms: p95 });
        }
    }
    report.peak_rss_mb = peak_rss_mb();
    Ok(report)
}

/// Writes a file of `rows` plays in each of `formats` (users or sessions of 50 plays over 20 000
/// items; MSSD with all 21 of its columns, as the real logs have) to a temporary directory, with
/// `memory` loads each in a child process (`skipwise inspect`) for that child's peak resident
/// memory, read from the OS — every child before this process loads anything (see [`run`]) —
/// then times each loader here, from opening the file to its events.
fn load_speeds(formats: &[Format], rows: usize, memory: bool) -> Result<Vec<LoadRow>, String> {
    let dir = std::env::temp_dir().join(format!("skipwise-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let measured = (|| {
        let mut files = Vec::new();
        for &format in formats {
            let path = dir.join(format!("large.{}", format.name()));
            let bytes = write_large(&path, format, rows)?;
            files.push((format, path, bytes));
        }
        let peaks = files.iter().map(|(format, path, _)| memory.then(|| child_peak_rss_mb(path, *format)).transpose()).collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::new();
        for ((format, path, bytes), child_peak_rss_mb) in files.into_iter().zip(peaks) {
            let t0 = Instant::now();
            let file = std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let loaded = loaders::read(std::io::BufReader::new(file), &path.display().to_string(), format, &Options { rows_hint: loaders::rows_hint(&path), ..Options::default() }).map_err(|e| e.to_string())?;
            let seconds = t0.elapsed().as_secs_f64();
            if loaded.events.len() != rows {
                return Err(format!("the {} loader read {} of {rows} generated rows", format.name(), loaded.events.len()));
            }
            drop(loaded);
            out.push(LoadRow { format: format.name().into(), rows, megabytes: bytes as f64 / 1e6, seconds, rows_per_second: rows as f64 / seconds, child_peak_rss_mb });
        }
        Ok(out)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    measured
}

/// A generated file of [`load_speeds`]; returns its size in bytes. Streamed: the bench never
/// holds the file either.
fn write_large(path: &std::path::Path, format: Format, rows: usize) -> Result<u64, String> {
    use std::io::Write as _;
    let fail = |e: std::io::Error| format!("{}: {e}", path.display());
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(fail)?);
    if format == Format::Mssd {
        writeln!(out, "{MSSD_HEADER}").map_err(fail)?;
    }
    let mut rng = Rng::new(11);
    for i in 0..rows {
        let (who, at, item) = (i / 50, i % 50 + 1, 1 + rng.below(20_000));
        let skip = rng.below(4) == 0;
        match format {
            Format::Mssd => writeln!(
                out,
                "{who:08}_{:08x}-{:04x},{at},50,t_{item:06}{:x},{skip},{skip},{skip},{},0,1,0,0,0,0,false,{},2018-07-{:02},true,user_collection,fwdbtn,{}",
                who.wrapping_mul(2_654_435_761) as u32,
                who * 37 % 65_536,
                item * 7919 % 4096,
                !skip,
                at % 24,
                1 + who % 28,
                if skip { "fwdbtn" } else { "trackdone" },
            ),
            _ => writeln!(out, "{who}\t{item}\t{}\t{}", 1 + rng.below(5), 880_000_000 + i),
        }
        .map_err(fail)?;
    }
    out.flush().map_err(fail)?;
    std::fs::metadata(path).map(|m| m.len()).map_err(fail)
}

/// The columns of Spotify's MSSD training logs, in their order.
const MSSD_HEADER: &str = "session_id,session_position,session_length,track_id_clean,skip_1,skip_2,skip_3,not_skipped,\
context_switch,no_pause_before_play,short_pause_before_play,long_pause_before_play,hist_user_behavior_n_seekfwd,\
hist_user_behavior_n_seekback,hist_user_behavior_is_shuffle,hour_of_day,date,premium,context_type,\
hist_user_behavior_reason_start,hist_user_behavior_reason_end";

/// Runs `skipwise inspect` on `path` and returns the child's peak resident memory in MB, as the
/// kernel accounted it (`wait4`'s `ru_maxrss`): the loader's and the sessions' memory, measured
/// from outside rather than counted by the code being measured.
#[cfg(target_os = "linux")]
fn child_peak_rss_mb(path: &std::path::Path, format: Format) -> Result<f64, String> {
    let exe = std::env::current_exe().map_err(|e| format!("the skipwise binary: {e}"))?;
    let child = std::process::Command::new(&exe)
        .args(["inspect", "--format", format.name(), "--data"])
        .arg(path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", exe.display()))?;
    let (mut status, mut usage) = (0, unsafe { std::mem::zeroed::<libc::rusage>() });
    // SAFETY: waits for our own child, writing into the two locals above.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    if pid < 0 || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(format!("`skipwise inspect` on {} failed (wait status {status})", path.display()));
    }
    Ok(usage.ru_maxrss as f64 / 1024.0)
}

#[cfg(not(target_os = "linux"))]
fn child_peak_rss_mb(_: &std::path::Path, _: Format) -> Result<f64, String> {
    Err("--memory reads a child's peak memory from Linux; pass --memory false here".into())
}

/// `n` training examples over `items` items: prefixes of 1 to `max_len` items (mostly `max_len`), a target, and
/// [`FPS_PER_EXAMPLE`] FPs (ignored by the methods without a metric term), from `seed`.
fn synthetic(n: usize, items: usize, max_len: usize, seed: u64) -> Vec<Example> {
    let mut rng = Rng::new(seed);
    let mut item = || 1 + rng.below(items - 1) as u32;
    (0..n)
        .map(|i| {
            // Lengths as the anchor's: ML-100K's training prefixes (capped at 50) average 39.2
            // items with 61 % at the cap; these average 40.2 with 61 % (the fused GRU skips
            // padding, so the length mix sets the step's cost).
            let len = (1 + i % 125).min(max_len);
            Example {
                prefix: (0..len).map(|_| item()).collect(),
                target: item(),
                fps: (0..FPS_PER_EXAMPLE).map(|_| item()).collect(),
                session: i as u64,
            }
        })
        .collect()
}

/// The anchor's model sizes (RecBole's GRU4Rec on ML-100K) with `backbone` and `method`.
fn config(backbone: Backbone, method: Method, batch: usize, dim: usize) -> TrainConfig {
    TrainConfig {
        model: ModelConfig { backbone, dim, ..ModelConfig::recbole_gru4rec() },
        objective: ObjectiveConfig { method, ..ObjectiveConfig::default() },
        batch_size: batch,
        max_len: 50,
        ..TrainConfig::default()
    }
}

/// Mean seconds of a training step (forward, backward, Adam) after one untimed step.
fn step_seconds(backbone: Backbone, method: Method, examples: &[Example], args: &Bench, device: &skipwise_core::burn::tensor::Device) -> Result<f64, String> {
    let mut trainer = Trainer::new(config(backbone, method, args.batch, args.dim), args.items + 1, device).map_err(|e| e.to_string())?;
    let refs: Vec<&Example> = examples.iter().collect();
    trainer.step_sync(&refs).map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    for _ in 0..args.steps {
        trainer.step_sync(&refs).map_err(|e| e.to_string())?;
    }
    Ok(t0.elapsed().as_secs_f64() / args.steps as f64)
}

/// p50 and p95 (ms) of one recommendation: the scores of a 10-item session over `items` items
/// read back, then its top 10 (GRU4Rec, d = `dim`).
fn latency(items: usize, calls: usize, dim: usize, device: &skipwise_core::burn::tensor::Device) -> Result<(f64, f64), String> {
    let trainer = Trainer::new(config(Backbone::Gru4Rec, Method::Vanilla, 1, dim), items + 1, device).map_err(|e| e.to_string())?;
    let prefix: Vec<u32> = (1..=10).map(|i| (i * 7 % items) as u32 + 1).collect();
    let mut times = Vec::with_capacity(calls);
    for call in 0..=calls {
        let t0 = Instant::now();
        let data = trainer.score_tensor(&prefix).try_into_data().map_err(|e| format!("{e:?}"))?;
        let scores = data.try_to_vec::<f32>().map_err(|e| format!("{e:?}"))?;
        let top = top_k(&scores, 10, &prefix);
        if top.len() != 10.min(items) {
            return Err(format!("a top 10 of {} items over {items}", top.len()));
        }
        // The first call compiles and allocates: not a steady-state figure.
        if call > 0 {
            times.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    Ok((at(0.5), at(0.95)))
}

fn machine() -> Machine {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| t.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).map(|s| s.trim().to_string()))
        .unwrap_or_else(|| "unknown".into());
    Machine {
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu,
        os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
    }
}

/// The process's peak resident memory (Linux `VmHWM`), MB.
pub(crate) fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn print_table(r: &Report) {
    println!(
        "\nskipwise bench: {} cores, {}; batch {}, {} items, d = {}, h = 128, max length 50; mean of {} steps",
        r.machine.cores, r.machine.cpu, r.batch, r.items, r.dim, r.steps
    );
    println!("{:<6} {:<9} {:<13} {:>9} {:>11} {:>16} {:>13}", "device", "backbone", "method", "s/step", "examples/s", "anchor s/epoch", "÷ FP-Simple");
    for t in &r.training {
        let ratio = t.over_fp_simple.map_or(String::new(), |x| format!("{x:.2}×"));
        println!(
            "{:<6} {:<9} {:<13} {:>9.3} {:>11.0} {:>16.1} {:>13}",
            t.device, t.backbone, t.method, t.seconds_per_step, t.examples_per_second, t.anchor_epoch_seconds, ratio
        );
    }
    println!("\n{:<6} {:>9} {:>9} {:>9}", "device", "items", "p50 ms", "p95 ms");
    for l in &r.recommend {
        println!("{:<6} {:>9} {:>9.2} {:>9.2}", l.device, l.items, l.p50_ms, l.p95_ms);
    }
    if !r.loaders.is_empty() {
        println!("\n{:<8} {:>10} {:>8} {:>9} {:>12} {:>15}", "loader", "rows", "MB", "seconds", "rows/s", "child peak MB");
        for l in &r.loaders {
            let peak = l.child_peak_rss_mb.map_or("-".to_string(), |mb| format!("{mb:.0}"));
            println!("{:<8} {:>10} {:>8.1} {:>9.2} {:>12.0} {:>15}", l.format, l.rows, l.megabytes, l.seconds, l.rows_per_second, peak);
        }
    }
    for s in &r.skipped {
        println!("skipped: {s}");
    }
    if let Some(mb) = r.peak_rss_mb {
        println!("peak resident memory: {mb:.0} MB");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::DeviceName;

    #[test]
    fn a_small_bench_measures_every_row() {
        let args = Bench {
            steps: 1,
            batch: 8,
            items: 40,
            dim: 16,
            catalogs: vec![30, 200],
            calls: 3,
            backbones: vec![Backbone::Stamp, Backbone::Gru4Rec],
            methods: vec![Method::FpSimple, Method::FpAdaMetric],
            devices: vec![DeviceName::Flex],
            load_rows: 1000,
            memory: false,
            parts: vec![BenchPart::Training, BenchPart::Recommend, BenchPart::Loaders],
            json: String::new(),
        };
        let mut lines = Vec::new();
        let r = run(&args, &mut |l| lines.push(l)).expect("runs");
        assert_eq!(r.training.len(), 4);
        assert!(r.training.iter().all(|t| t.seconds_per_step > 0.0 && t.examples_per_second > 0.0));
        let ada = r.training.iter().find(|t| t.method == "FP-AdaMetric").expect("row");
        assert!(ada.over_fp_simple.is_some_and(|x| x > 0.0));
        assert!(r.training.iter().filter(|t| t.method == "FP-Simple").all(|t| t.over_fp_simple.is_none()));
        assert_eq!(r.recommend.iter().map(|l| l.items).collect::<Vec<_>>(), vec![30, 200]);
        assert!(r.recommend.iter().all(|l| l.p50_ms <= l.p95_ms));
        assert!(r.machine.cores >= 1 && lines.len() == 8 && r.dim == 16);
        // Both loaders read every generated row.
        assert_eq!(r.loaders.iter().map(|l| (l.format.as_str(), l.rows)).collect::<Vec<_>>(), vec![("udata", 1000), ("mssd", 1000)]);
        assert!(r.loaders.iter().all(|l| l.rows_per_second > 0.0));
        // Bad values are refused before anything runs (nothing reported).
        let mut lines = Vec::new();
        for bad in [Bench { steps: 0, ..args.clone() }, Bench { dim: 0, ..args.clone() }, Bench { catalogs: vec![100, 0], ..args.clone() }] {
            assert!(run(&bad, &mut |l| lines.push(l)).is_err());
        }
        assert!(lines.is_empty(), "{lines:?}");
    }
}
