//! `eval`: a model file (what `train` wrote) on a log's test sessions, under the protocol `train`
//! used (sessions by start time, the last 10 % tested, positive-only targets). The log's items are
//! matched to the model's by their ids; plays of items the model never saw are left out and
//! counted, since the model has no embedding for them.

use crate::cli::Eval;
use crate::commands::{device, write_json};
use crate::train::{ModelFile, prepare};
use skipwise_core::data::{Click, Session};
use std::collections::HashMap;

/// Reads a model file, refusing anything that is not one (with the reason).
pub fn read_model(path: &str) -> Result<ModelFile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    ModelFile::parse(&text, path)
}

pub fn eval(args: &Eval) -> Result<(), String> {
    let model = read_model(&args.model)?;
    let p = prepare(&args.data)?;
    let row_of: HashMap<u64, u32> = model.items.iter().enumerate().map(|(i, id)| (*id, i as u32 + 1)).collect();
    let (mut kept, mut unknown) = (0usize, 0usize);
    let test: Vec<Session> = p
        .split
        .test
        .iter()
        .map(|s| {
            let clicks: Vec<Click> = s
                .clicks
                .iter()
                .filter_map(|c| {
                    let row = p.data.items.external(c.item).and_then(|id| row_of.get(&id));
                    if row.is_none() {
                        unknown += 1;
                    }
                    row.map(|&item| Click { item, fp: c.fp })
                })
                .collect();
            kept += clicks.len();
            Session { clicks, ..s.clone() }
        })
        .filter(|s| s.clicks.len() >= 2)
        .collect();
    if test.is_empty() {
        return Err(format!("{}: no test session has two plays of items the model knows ({unknown} plays of unknown items)", args.data.data));
    }
    let mut trainer = model.trainer(&device(args.device)?, &args.model)?;
    if trainer.config.model.users > 0 {
        // Users are numbered in order of first appearance, as when the model was trained: the
        // same people only on the same log (on another one the numbers name other people).
        eprintln!("{}: the model has the user term; users are matched by their order in the log", args.model);
        trainer.set_users(&test).map_err(|e| format!("{}: {e}", args.model))?;
    }
    let report = trainer.evaluate_sessions(&test, model.config.objective.method.keeps_fps_in_input()).map_err(|e| e.to_string())?;
    println!(
        "{} {} from {} on {}: {} test sessions, {kept} plays ({unknown} of items the model never saw, left out)",
        model.config.objective.method.name(),
        model.config.model.backbone.name(),
        args.model,
        args.data.data,
        test.len()
    );
    for (k, v) in &report.values {
        println!("  {k:<8} {v:.4}");
    }
    if let Some(path) = &args.json {
        write_json(path, &report)?;
    }
    Ok(())
}
