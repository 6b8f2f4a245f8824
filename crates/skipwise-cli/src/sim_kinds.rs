//! `sim-kinds`: the FP-aware methods on a simulator whose FPs have degrees (misclicks, curiosity
//! clicks, mild dislikes, context skips; `skipwise_core::sim::FpMix`), measured per kind of FP:
//! how often each kind comes back in the top 20, and what weight FP-AdaMetric's f_FPA gives each
//! kind — overall and at matched similarity to the session, since f_FPA is rewarded for lowering
//! the weight of FPs close to the session whatever they are (NOTES §1.5.2).
//!
//! Expectation, written before the first run: if f_FPA learns a degree of dislike, it gives
//! context skips (liked items, played later) and misclicks the lowest weights and curiosity
//! clicks the highest, at every similarity level; FP-AdaMetric then keeps curiosity FPs out of
//! the top 20 as FP-Metric does while letting context-skipped items back, with a better HR@20.
//! If instead the weights only follow the similarity, the kinds look alike within a quintile.

use crate::cli::SimKinds;
use crate::commands::{device, mean_sd, write_json};
use serde::Serialize;
use skipwise_core::batch::{Example, eval_examples, make_batch};
use skipwise_core::data::{FpRule, Session, split_chronological};
use skipwise_core::model::ModelConfig;
use skipwise_core::objective::{Method, ObjectiveConfig, loss};
use skipwise_core::sim::{ClickKind, SimConfig, Simulator};
use skipwise_core::train::{TrainConfig, Trainer};
use std::collections::{BTreeMap, HashMap};

/// One FP of one test prediction step, as measured.
#[derive(Clone, Copy)]
struct FpSeen {
    kind: ClickKind,
    in_top20: bool,
    /// f_FPA's weight (FP-AdaMetric only).
    weight: Option<f32>,
    /// Cosine of the session vector and the FP's embedding.
    cosine: f32,
}

#[derive(Serialize)]
struct MethodRow {
    method: String,
    /// Per seed.
    hr20: Vec<f64>,
    mrr20: Vec<f64>,
    /// Kind → per-seed share of that kind's FPs found in the top 20.
    fp20_by_kind: BTreeMap<String, Vec<f64>>,
}

#[derive(Serialize)]
struct Report {
    config: SimConfig,
    backbone: String,
    seeds: Vec<u64>,
    epochs: usize,
    /// FPs of each kind in the test steps (first seed).
    fp_counts: BTreeMap<String, usize>,
    methods: Vec<MethodRow>,
    /// FP-AdaMetric's f_FPA weight per kind, pooled over seeds: all FPs, then per quintile of
    /// cosine similarity to the session (the quintiles' upper bounds are `quintile_bounds`).
    weight_by_kind: BTreeMap<String, f64>,
    weight_by_kind_and_quintile: BTreeMap<String, Vec<Option<f64>>>,
    /// How many FPs each of those means is over.
    count_by_kind_and_quintile: BTreeMap<String, Vec<usize>>,
    quintile_bounds: Vec<f32>,
}

/// Each test step's FPs' kinds: for every FP of `examples` (what `eval_examples` made of
/// `sessions`), the kind of that item's newest FP click before the step's target.
fn fp_kinds(sessions: &[Session], kinds: &[Vec<ClickKind>], examples: &[Example]) -> Vec<Vec<ClickKind>> {
    let by_id: HashMap<u64, &Session> = sessions.iter().map(|s| (s.id, s)).collect();
    examples
        .iter()
        .map(|ex| {
            let (Some(s), Some(truth)) = (by_id.get(&ex.session), kinds.get(ex.session as usize)) else { return vec![ClickKind::Positive; ex.fps.len()] };
            // The FP-free prefix holds the positives before the target: it is the next one.
            let at = s.clicks.iter().enumerate().filter(|(_, c)| !c.fp).nth(ex.prefix.len()).map_or(s.clicks.len(), |(i, _)| i);
            ex.fps
                .iter()
                .map(|f| (0..at).rev().find(|&i| s.clicks[i].fp && s.clicks[i].item == *f).map_or(ClickKind::Positive, |i| truth[i]))
                .collect()
        })
        .collect()
}

fn measure(trainer: &Trainer, examples: &[Example], kinds: &[Vec<ClickKind>], ada: bool) -> Result<Vec<FpSeen>, String> {
    let device = trainer.device().clone();
    let model = &trainer.model;
    let table: Vec<f32> = model.items.val().into_data().try_to_vec().map_err(|e| format!("{e:?}"))?;
    let d = model.dim();
    let n = model.n_rows();
    let mut seen = Vec::new();
    for (chunk, chunk_kinds) in examples.chunks(256).zip(kinds.chunks(256)) {
        let refs: Vec<&Example> = chunk.iter().collect();
        let batch = make_batch(&refs, trainer.config.max_len, model.needs_graph(), &device);
        let e_seq = model.encode(&batch);
        let scores: Vec<f32> = model.scores(e_seq.clone()).into_data().try_to_vec().map_err(|e| format!("{e:?}"))?;
        let seq: Vec<f32> = e_seq.into_data().try_to_vec().map_err(|e| format!("{e:?}"))?;
        let weights: Option<Vec<f32>> = match ada {
            true => loss(model, &batch, &trainer.config.objective).fp_weights.map(|w| w.into_data().try_to_vec().unwrap_or_default()),
            false => None,
        };
        let f = batch.fp_items.dims()[1];
        for (b, (ex, ks)) in chunk.iter().zip(chunk_kinds).enumerate() {
            let row = &scores[b * n..(b + 1) * n];
            let s = &seq[b * d..(b + 1) * d];
            let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
            for (j, (item, kind)) in ex.fps.iter().zip(ks).enumerate() {
                let score = row[*item as usize];
                // Ties go against us: an FP ties its way into the top 20.
                let above = row.iter().enumerate().filter(|(i, x)| *i != 0 && *i != *item as usize && **x > score).count();
                let e = &table[*item as usize * d..(*item as usize + 1) * d];
                let cosine = s.iter().zip(e).map(|(a, b)| a * b).sum::<f32>() / (norm(s) * norm(e));
                let weight = weights.as_ref().map(|w| w[b * f + j]);
                seen.push(FpSeen { kind: *kind, in_top20: above < 20, weight, cosine });
            }
        }
    }
    Ok(seen)
}

pub fn sim_kinds(args: &SimKinds) -> Result<(), String> {
    if !(0.0..1.0).contains(&args.fp_share) {
        return Err(format!("--fp-share: {} is not a share in [0, 1)", args.fp_share));
    }
    if args.fit.seeds.is_empty() {
        return Err("--seeds needs at least one seed".into());
    }
    let device = device(args.fit.device)?;
    let methods = [Method::FpSimple, Method::FpMetric, Method::FpAdaMetric];
    let mut rows: Vec<MethodRow> = methods
        .iter()
        .map(|m| MethodRow { method: m.name().into(), hr20: Vec::new(), mrr20: Vec::new(), fp20_by_kind: BTreeMap::new() })
        .collect();
    let mut pooled: Vec<FpSeen> = Vec::new();
    let mut fp_counts = BTreeMap::new();
    let base = SimConfig { fp_share: args.fp_share, fp_mix: args.fp_mix, ..SimConfig::default() };
    for (s_i, seed) in args.fit.seeds.iter().enumerate() {
        let mut sim = Simulator::new(SimConfig { seed: *seed, ..base.clone() });
        let (data, kinds) = sim.dataset_with_kinds(&FpRule::default());
        let split = split_chronological(&data.sessions, 0.8, 0.1);
        let examples = eval_examples(&split.test, false);
        let step_kinds = fp_kinds(&split.test, &kinds, &examples);
        if s_i == 0 {
            for k in step_kinds.iter().flatten() {
                *fp_counts.entry(k.name().to_string()).or_insert(0) += 1;
            }
        }
        for (row, method) in rows.iter_mut().zip(methods) {
            let config = TrainConfig {
                model: ModelConfig { backbone: args.backbone, dim: args.fit.dim, ..ModelConfig::default() },
                objective: ObjectiveConfig { method, lambda: args.fit.lambda, margin: args.fit.margin, ..ObjectiveConfig::default() },
                epochs: args.fit.epochs,
                seed: *seed,
                ..TrainConfig::default()
            };
            let mut trainer = Trainer::new(config, data.n_rows(), &device).map_err(|e| e.to_string())?;
            let fit = trainer.fit(&split.train, &split.valid, &mut |_| {}).map_err(|e| e.to_string())?;
            let report = trainer.evaluate_sessions(&split.test, false).map_err(|e| e.to_string())?;
            let seen = measure(&trainer, &examples, &step_kinds, method == Method::FpAdaMetric)?;
            row.hr20.push(report.get("HR@20"));
            row.mrr20.push(report.get("MRR@20"));
            for kind in ClickKind::FP_KINDS {
                let of: Vec<&FpSeen> = seen.iter().filter(|f| f.kind == kind).collect();
                let share = of.iter().filter(|f| f.in_top20).count() as f64 / of.len().max(1) as f64;
                row.fp20_by_kind.entry(kind.name().to_string()).or_default().push(share);
            }
            eprintln!(
                "seed {seed} {:<13} best epoch {:>2}/{:<2} HR@20 {:.4} MRR@20 {:.4}",
                method.name(),
                fit.best_epoch,
                fit.epochs.len(),
                report.get("HR@20"),
                report.get("MRR@20")
            );
            if method == Method::FpAdaMetric {
                pooled.extend(seen);
            }
        }
    }
    // f_FPA's weights per kind, and per quintile of similarity to the session.
    let mut cosines: Vec<f32> = pooled.iter().map(|f| f.cosine).collect();
    cosines.sort_by(f32::total_cmp);
    let bounds: Vec<f32> = (1..=5).map(|q| cosines.get((q * cosines.len() / 5).saturating_sub(1)).copied().unwrap_or(f32::NAN)).collect();
    let quintile = |c: f32| bounds.iter().position(|b| c <= *b).unwrap_or(4);
    let mean = |v: &[f32]| (!v.is_empty()).then(|| v.iter().map(|x| *x as f64).sum::<f64>() / v.len() as f64);
    let mut weight_by_kind = BTreeMap::new();
    let mut by_quintile = BTreeMap::new();
    let mut counts = BTreeMap::new();
    for kind in ClickKind::FP_KINDS {
        let of: Vec<&FpSeen> = pooled.iter().filter(|f| f.kind == kind).collect();
        let w: Vec<f32> = of.iter().filter_map(|f| f.weight).collect();
        if let Some(m) = mean(&w) {
            weight_by_kind.insert(kind.name().to_string(), m);
        }
        let q: Vec<Option<f64>> = (0..5).map(|q| mean(&of.iter().filter(|f| quintile(f.cosine) == q).filter_map(|f| f.weight).collect::<Vec<_>>())).collect();
        by_quintile.insert(kind.name().to_string(), q);
        counts.insert(kind.name().to_string(), (0..5).map(|q| of.iter().filter(|f| quintile(f.cosine) == q).count()).collect::<Vec<_>>());
    }
    print_report(&rows, &fp_counts, &weight_by_kind, &by_quintile, &counts, &bounds, args);
    write_json(
        &args.json,
        &Report {
            config: base,
            backbone: args.backbone.name().into(),
            seeds: args.fit.seeds.clone(),
            epochs: args.fit.epochs,
            fp_counts,
            methods: rows,
            weight_by_kind,
            weight_by_kind_and_quintile: by_quintile,
            count_by_kind_and_quintile: counts,
            quintile_bounds: bounds,
        },
    )
}

fn print_report(
    rows: &[MethodRow],
    counts: &BTreeMap<String, usize>,
    weights: &BTreeMap<String, f64>,
    by_quintile: &BTreeMap<String, Vec<Option<f64>>>,
    n_by_quintile: &BTreeMap<String, Vec<usize>>,
    bounds: &[f32],
    args: &SimKinds,
) {
    let kinds: Vec<&str> = ClickKind::FP_KINDS.iter().map(|k| k.name()).collect();
    println!(
        "\n{} d = {}, FP share {}, FP mix (misclick, curiosity, mild, context) {:?}; {} seeds; mean ± sd",
        args.backbone.name(),
        args.fit.dim,
        args.fp_share,
        [args.fp_mix.misclick, args.fp_mix.curiosity, args.fp_mix.mild, args.fp_mix.context],
        args.fit.seeds.len()
    );
    let counted: Vec<String> = kinds.iter().map(|k| format!("{k} {}", counts.get(*k).unwrap_or(&0))).collect();
    println!("test-step FPs (first seed): {}", counted.join(", "));
    print!("{:<14}", "FP@20 of");
    for k in &kinds {
        print!(" {k:>15}");
    }
    println!(" {:>15} {:>15}", "HR@20", "MRR@20");
    for r in rows {
        print!("{:<14}", r.method);
        for k in &kinds {
            let (m, sd) = mean_sd(r.fp20_by_kind.get(*k).map_or(&[][..], |v| v.as_slice()));
            print!(" {:>15}", format!("{m:.4}±{sd:.4}"));
        }
        let (h, hs) = mean_sd(&r.hr20);
        let (m, ms) = mean_sd(&r.mrr20);
        println!(" {:>15} {:>15}", format!("{h:.4}±{hs:.4}"), format!("{m:.4}±{ms:.4}"));
    }
    println!("\nf_FPA's weight by kind (FP-AdaMetric, pooled over seeds); by quintile of cosine to the session (FPs):");
    print!("{:<10} {:>6}", "kind", "all");
    for (q, b) in bounds.iter().enumerate() {
        print!(" {:>12}", format!("q{} ≤{b:.2}", q + 1));
    }
    println!();
    for k in &kinds {
        print!("{k:<10} {:>6}", weights.get(*k).map_or("-".into(), |w| format!("{w:.3}")));
        let n = n_by_quintile.get(*k).map_or(&[][..], |v| v.as_slice());
        for (q, w) in by_quintile.get(*k).map_or(&[][..], |v| v.as_slice()).iter().enumerate() {
            print!(" {:>12}", w.map_or("-".into(), |w| format!("{w:.3} ({})", n.get(q).unwrap_or(&0))));
        }
        println!();
    }
}
