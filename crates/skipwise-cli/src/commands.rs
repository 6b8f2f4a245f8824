//! The CLI's commands: each reads its flags, runs the core, prints a table and writes JSON.

use crate::cli::{CatalogArgs, DeviceName, SimFit, SimTable};
use serde::Serialize;
use skipwise_core::burn::tensor::Device;
use skipwise_core::data::FpRule;
use skipwise_core::metrics::Report;
use skipwise_core::batch::FpScope;
use skipwise_core::model::{FpaConfig, ModelConfig};
use skipwise_core::objective::{Method, ObjectiveConfig};
use skipwise_core::sim::{SimConfig, Simulator};
use skipwise_core::train::{EpochLog, TrainConfig, Trainer};
use std::collections::BTreeMap;
use std::time::Instant;

pub(crate) fn device(name: DeviceName) -> Result<Device, String> {
    match name {
        DeviceName::Flex | DeviceName::Cpu => Ok(Device::flex()),
        #[cfg(feature = "wgpu")]
        DeviceName::Wgpu => Device::wgpu_options().init().map_err(|e| format!("no wgpu device: {e:?}")),
        #[cfg(not(feature = "wgpu"))]
        DeviceName::Wgpu => Err("this build has no wgpu backend (build with the `wgpu` feature)".to_string()),
    }
}

/// One method's result over seeds.
#[derive(Serialize)]
struct MethodResult {
    method: String,
    backbone: String,
    /// Means over seeds.
    metrics: BTreeMap<String, f64>,
    sd: BTreeMap<String, f64>,
    per_seed: Vec<BTreeMap<String, f64>>,
    /// FP-AdaMetric's weight distribution in the last epoch, per seed.
    fp_weights: Vec<Option<skipwise_core::train::WeightStats>>,
    /// The metric term's mean hinge over the last epoch's training steps, per seed (0 for the
    /// methods without one): how much work the FP term still does once the model has learnt.
    hinge: Vec<f64>,
}

pub(crate) use skipwise_protocol::results::{TABLE_KEYS, mean_sd};

/// The printed columns; the JSON has every metric. FP@20 (the share of the session's skipped
/// items back in the top 20; lower is better) shows what the FP objectives do to the FPs themselves.

pub fn sim_table(args: &SimTable) -> Result<(), String> {
    let SimTable { backbone, fp_share, items: n_items, listeners, decoy_fps, .. } = *args;
    let SimFit { epochs, dim, lambda, margin, .. } = args.fit;
    let seeds = &args.fit.seeds;
    let methods = &args.methods;
    let fp_scope: FpScope = args.fp_scope.into();
    let fpa = FpaConfig { activation: args.fpa_activation.into(), output: args.fpa_output.into(), ..FpaConfig::default() };
    let device = device(args.fit.device)?;
    let json_path = &args.json;

    // Vanilla is reported twice: with its natural input (FPs kept in the prefix) and FP-free input.
    let rows: Vec<(Method, bool, String)> = [
        (Method::Vanilla, true, "Vanilla (FPs in input)"),
        (Method::Vanilla, false, "Vanilla (FPs removed from input)"),
        (Method::FpSimple, false, "FP-Simple"),
        (Method::FpMetric, false, "FP-Metric"),
        (Method::FpAdaMetric, false, "FP-AdaMetric"),
    ]
    .into_iter()
    .filter(|(m, ..)| methods.contains(m))
    .map(|(m, keep, name)| (m, keep, name.to_string()))
    .collect();
    let mut per_row: Vec<Vec<Report>> = vec![Vec::new(); rows.len()];
    let mut weights: Vec<Vec<Option<skipwise_core::train::WeightStats>>> = vec![Vec::new(); rows.len()];
    let mut hinges: Vec<Vec<f64>> = vec![Vec::new(); rows.len()];
    let started = Instant::now();
    for seed in seeds {
        let mut sim = Simulator::new(SimConfig { n_items, n_listeners: listeners, fp_share, decoy_fps, seed: *seed, ..SimConfig::default() });
        let data = sim.dataset(&FpRule::default());
        let split = skipwise_core::data::split_chronological(&data.sessions, 0.8, 0.1);
        eprintln!(
            "seed {seed}: {} items, {} sessions ({} train), FP share {:.2}",
            data.items.len(),
            data.sessions.len(),
            split.train.len(),
            data.fp_share()
        );
        for method in methods.iter().copied() {
            let config = TrainConfig {
                model: ModelConfig { backbone, dim, fpa: fpa.clone(), ..ModelConfig::default() },
                objective: ObjectiveConfig { method, lambda, margin, fp_scope, ..ObjectiveConfig::default() },
                epochs,
                seed: *seed,
                ..TrainConfig::default()
            };
            let mut trainer = Trainer::new(config, data.n_rows(), &device).map_err(|e| e.to_string())?;
            let t0 = Instant::now();
            let mut last: Option<EpochLog> = None;
            let fit = trainer
                .fit(&split.train, &split.valid, &mut |log| last = Some(log.clone()))
                .map_err(|e| e.to_string())?;
            for (i, (m, keep, name)) in rows.iter().enumerate() {
                if *m != method {
                    continue;
                }
                let report = trainer.evaluate_sessions(&split.test, *keep).map_err(|e| e.to_string())?;
                eprintln!(
                    "  {name:<34} best epoch {:>2}/{:<2} test MRR@20 {:.4} HR@20 {:.4} FP@20 {:.4} ({:.1} s)",
                    fit.best_epoch,
                    fit.epochs.len(),
                    report.get("MRR@20"),
                    report.get("HR@20"),
                    report.get("FP@20"),
                    t0.elapsed().as_secs_f64()
                );
                per_row[i].push(report);
                weights[i].push(last.as_ref().and_then(|l| l.fp_weights));
                hinges[i].push(last.as_ref().map_or(f64::NAN, |l| l.metric));
            }
        }
    }
    let title = format!(
        "Simulator, {} at {:.0} % FPs, d = {dim}, {} seeds ({:?}), ≤ {epochs} epochs with early stopping, test = positive-only targets",
        backbone.name(),
        fp_share * 100.0,
        seeds.len(),
        seeds,
    );
    let rows: Vec<crate::table::Row> = rows.iter().enumerate().map(|(i, (_, _, name))| crate::table::summarize(name, &per_row[i])).collect();
    crate::table::print(&title, &rows);
    let results: Vec<MethodResult> = rows
        .into_iter()
        .enumerate()
        .map(|(i, row)| MethodResult {
            method: row.method,
            backbone: backbone.name().to_string(),
            metrics: row.metrics,
            sd: row.sd,
            per_seed: row.per_seed,
            fp_weights: weights[i].clone(),
            hinge: hinges[i].clone(),
        })
        .collect();
    println!("({:.0} s in all)", started.elapsed().as_secs_f64());
    write_json(json_path, &results)
}

pub(crate) fn write_json<T: Serialize>(path: &str, value: &T) -> Result<(), String> {
    write_text(path, serde_json::to_string_pretty(value).map_err(|e| e.to_string())?)?;
    eprintln!("wrote {path}");
    Ok(())
}

/// Writes beside, then renames: an interrupted run never leaves a half-written file.
pub(crate) fn write_text(path: &str, text: String) -> Result<(), String> {
    if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let tmp = format!("{path}.tmp");
    std::fs::write(&tmp, text).map_err(|e| format!("{tmp}: {e}"))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{path}: {e}"))
}

/// Writes the page's demo catalogs (`www/catalog/music.json`, `movies.json`).
pub fn catalog(args: &CatalogArgs) -> Result<(), String> {
    let out = &args.out;
    std::fs::create_dir_all(&out).map_err(|e| format!("{out}: {e}"))?;
    for kind in skipwise_core::catalog::CatalogKind::ALL {
        let c = skipwise_core::catalog::catalog(kind);
        let path = format!("{out}/{}.json", kind.name());
        let text = serde_json::to_string(&c).map_err(|e| e.to_string())?;
        std::fs::write(&path, text + "\n").map_err(|e| format!("{path}: {e}"))?;
        println!("{path}: {} items in {} genres", c.items.len(), c.genres.len());
    }
    Ok(())
}

