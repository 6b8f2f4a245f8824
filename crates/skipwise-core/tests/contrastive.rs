//! DuoRec's and AdaptiveRec's contrastive term inside the trainer (Flex): what it trains, what
//! it refuses, and that SimThres learns only once its regulariser has a target.

use skipwise_core::batch::Example;
use skipwise_core::burn::module::{Module, ModuleVisitor, Param};
use skipwise_core::burn::tensor::{Device, Tensor};
use skipwise_core::contrastive::{Contrast, ContrastConfig};
use skipwise_core::model::{Backbone, ModelConfig, SasrecConfig};
use skipwise_core::objective::{Method, ObjectiveConfig};
use skipwise_core::train::{TrainConfig, Trainer};

fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn config(kind: Contrast, batch: usize) -> TrainConfig {
    TrainConfig {
        model: ModelConfig {
            backbone: Backbone::SasRec,
            dim: 16,
            sasrec: SasrecConfig { layers: 1, heads: 2, inner: 32, positions: 8, ..SasrecConfig::default() },
            ..ModelConfig::default()
        },
        objective: ObjectiveConfig { method: Method::Vanilla, contrast: ContrastConfig::of(kind), ..ObjectiveConfig::default() },
        epochs: 2,
        batch_size: batch,
        lr: 0.01,
        max_len: 8,
        seed: 3,
        patience: 10,
        ..TrainConfig::default()
    }
}

/// 30 training steps over 12 items whose targets repeat (so supervised views exist).
fn examples() -> Vec<Example> {
    (0..30u32).map(|i| Example { prefix: vec![1 + i % 12, 1 + (i * 5) % 12], target: 1 + (i * 7) % 6, fps: vec![], session: i as u64 }).collect()
}

struct Sum(f64);
impl ModuleVisitor for Sum {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0 += param.val().abs().sum().into_data().try_to_vec::<f32>().expect("floats")[0] as f64;
    }
}

fn weight_sum(m: &impl Module) -> f64 {
    let mut s = Sum(0.0);
    m.visit(&mut s);
    s.0
}

#[test]
fn adaptiverec_trains_simthres_only_once_its_target_exists() {
    let _serial = serial();
    let train = examples();
    let mut trainer = Trainer::new(TrainConfig { epochs: 1, ..config(Contrast::AdaptiveRec, 8) }, 13, &Device::flex()).expect("trainer");
    let g0 = weight_sum(&trainer.contrast.as_ref().and_then(|c| c.simthres.as_ref()).expect("SimThres").0);
    let fit = trainer.fit_examples(&train, &[], "MRR@10", &mut |_| {}).expect("epoch 1");
    let state = trainer.contrast.as_ref().expect("state");
    // Epoch 1: no target yet, so no regulariser and no gradient for g; its target is now the
    // mean of the epoch's 3 full batches' quantiles (30 steps, batch 8: the short one dropped).
    assert_eq!(weight_sum(&state.simthres.as_ref().expect("g").0), g0);
    let t = state.threshold.expect("a threshold after epoch 1");
    assert!(t.is_finite() && t.abs() <= 1.0 + 1e-5, "cosine quantile {t}");
    assert!(fit.epochs[0].contrast.is_some_and(|c| c > 0.0), "{:?}", fit.epochs[0]);
    // Epoch 2: the regulariser moves g.
    trainer.config.epochs = 2;
    let fit = trainer
        .fit_from(&train, &[], "MRR@10", skipwise_core::train::FitProgress { logs: fit.epochs, ..Default::default() }, &mut |_, _, _| {})
        .expect("epoch 2");
    assert_eq!(fit.epochs.len(), 2);
    let g2 = weight_sum(&trainer.contrast.as_ref().and_then(|c| c.simthres.as_ref()).expect("g").0);
    assert!((g2 - g0).abs() > 1e-6, "SimThres did not move: {g0} → {g2}");
}

#[test]
fn duorec_adds_its_term_and_moves_the_encoder() {
    let _serial = serial();
    let train = examples();
    let plain = {
        let mut t = Trainer::new(config(Contrast::None, 8), 13, &Device::flex()).expect("trainer");
        let refs: Vec<&Example> = train.iter().take(8).collect();
        t.step_sync(&refs).expect("step").0
    };
    let mut t = Trainer::new(config(Contrast::DuoRec, 8), 13, &Device::flex()).expect("trainer");
    assert!(t.contrast.as_ref().is_some_and(|c| c.simthres.is_none()), "DuoRec has no SimThres");
    let refs: Vec<&Example> = train.iter().take(8).collect();
    let partners: Vec<&Example> = train.iter().skip(8).take(8).collect();
    let before = weight_sum(&t.model);
    let (total, nll, _, contrast) = t.step_contrast_sync(&refs, &partners).expect("step");
    // InfoNCE over 2·8 vectors is at least log(1) and at most around log(15): λ = 0.1 of it.
    assert!(contrast > 0.0 && contrast < 0.1 * 16f32.ln(), "{contrast}");
    assert!((total - nll - contrast).abs() < 1e-4, "{total} = {nll} + {contrast}");
    // Same seed, same CE view: the NLL is the plain model's (up to dropout's draw).
    assert!(nll.is_finite() && plain.is_finite());
    assert!((weight_sum(&t.model) - before).abs() > 1e-6);
}

#[test]
fn impossible_contrast_configurations_are_refused_before_training() {
    let _serial = serial();
    let err = Trainer::new(config(Contrast::DuoRec, 1), 13, &Device::flex()).err().expect("batch 1").to_string();
    assert!(err.contains("batch_size") && err.contains("at least 2"), "{err}");
    // Fewer steps than one whole batch: SimThres would never see its batch size.
    let mut t = Trainer::new(config(Contrast::AdaptiveRec, 64), 13, &Device::flex()).expect("trainer");
    let err = t.fit_examples(&examples(), &[], "MRR@10", &mut |_| {}).expect_err("no whole batch").to_string();
    assert!(err.contains("batch_size: 64") && err.contains("30 training steps"), "{err}");
    // An AdaptiveRec run is not resumable: SimThres is not in the checkpoint.
    let t = Trainer::new(config(Contrast::AdaptiveRec, 8), 13, &Device::flex()).expect("trainer");
    let ck = t.checkpoint(&Default::default()).expect("checkpoint");
    let err = Trainer::resume(ck, &Device::flex()).err().expect("refused").to_string();
    assert!(err.contains("AdaptiveRec") && err.contains("resumed"), "{err}");
}
