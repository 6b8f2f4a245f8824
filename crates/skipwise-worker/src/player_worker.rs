//! The player's worker: its requests (Init, Start, Train, Observe, …) over the shared message
//! loop (`crate::web`).
//!
//! Every device read is async (sync reads panic on wasm). A step whose loss is not finite never
//! reaches the model; on the GPU it also ends the GPU's turn (`DeviceFailed`), since the same
//! step is finite on the CPU (seen with Chromium's software adapter), and the page restarts the
//! worker on the CPU with the history.

use crate::backend;
use crate::player::{Player, imported_learner};
use crate::web::{self, Failure, now, post};
use skipwise_core::model_file::ModelFile;
use skipwise_core::batch::Example;
use skipwise_core::burn::tensor::Device;
use skipwise_core::online::OnlineLearner;
use skipwise_core::weights::{self, Weights};
use skipwise_protocol::{BackendKind, EmbeddingMap, Fault, FpWeight, Labels, Play, Ranked, Recommendations, Request, Response};
use std::cell::RefCell;
use std::rc::Rc;

#[derive(Default)]
struct State {
    device: Option<Device>,
    on_gpu: bool,
    player: Option<Player>,
    /// FP-AdaMetric loss steps reported so far (the page's "Training loss" list).
    loss_steps: u32,
    /// A test-only fault from `Init`, and the Observes seen so far.
    fault: Option<Fault>,
    observes: u32,
}

thread_local! {
    /// Training steps run on this worker's device, for the failure message.
    static STEPS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

pub fn start() {
    web::serve::<State, _, _>(|_| false, |state, request| async move { handle(&state, request).await });
}

async fn handle(state: &Rc<RefCell<State>>, request: Request) -> Result<(), Failure> {
    match request {
        Request::Init { allow_gpu, reason, fault } => {
            let (device, info) = backend::choose(allow_gpu, reason).await;
            let mut s = state.borrow_mut();
            s.device = Some(device);
            s.on_gpu = info.kind == BackendKind::WebGpu;
            s.player = None;
            s.fault = fault;
            drop(s);
            post(Response::Ready { backend: info });
            Ok(())
        }
        Request::CheckModel { catalog, skip_secs, seed, name, text } => {
            let device = state.borrow().device.clone().ok_or("no backend yet: send Init first".to_string())?;
            let file = ModelFile::parse(&text, &name)?;
            imported_learner(catalog, skip_secs, seed, &file, &device).map_err(|e| format!("{name}: {e}"))?;
            post(Response::ModelChecked { description: Player::describe(&file) });
            Ok(())
        }
        Request::Start { catalog, skip_secs, seed, warm_steps, history, warm, trained, model } => {
            let t0 = now();
            let device = state.borrow().device.clone().ok_or("no backend yet: send Init first".to_string())?;
            let imported = model.is_some();
            let mut player = match model {
                Some(text) => Player::with_model(catalog, skip_secs, seed, &ModelFile::parse(&text, "the imported model")?, &device)?,
                None => Player::new(catalog, skip_secs, seed, &device).map_err(|e| e.to_string())?,
            };
            // New models: their loss steps count from 1 (the page clears its chart with them).
            state.borrow_mut().player = None;
            state.borrow_mut().loss_steps = 0;
            let on_gpu = state.borrow().on_gpu;
            let loaded = match warm.map(|text| player.load_warm(&text, imported)) {
                Some(Ok(())) => true,
                Some(Err(e)) => {
                    post(Response::Warning { message: format!("The cached weights could not be used ({e}); training from scratch.") });
                    false
                }
                None => false,
            };
            let steps = if loaded { 0 } else { warm_steps };
            // Plays the loaded weights have learnt already: recorded, not trained on again.
            let recalled = if loaded { (trained as usize).min(history.len()) } else { 0 };
            let total = steps + (history.len() - recalled) as u32;
            if loaded {
                post(Response::WarmLoaded { catalog });
            }
            for step in 1..=steps {
                post(Response::Progress { what: "Warm start on simulated listeners".into(), done: step - 1, total });
                train_both(state, &mut player, on_gpu).await?;
            }
            // An imported model's weights are not the page's warm start: never cached as one.
            if steps > 0 && !imported {
                let weights = Player::warm_text(&read_weights(&player.fp_aware).await?, &read_weights(&player.vanilla).await?);
                post(Response::WarmWeights { catalog, warm_steps, weights });
            }
            let mut labels = Vec::with_capacity(history.len());
            for play in &history[..recalled] {
                labels.push(player.count_play(play).map_err(|e| e.to_string())?);
            }
            for (i, play) in history[recalled..].iter().enumerate() {
                post(Response::Progress { what: "Learning your history".into(), done: steps + i as u32, total });
                labels.push(learn(&mut player, play, on_gpu).await?);
            }
            post(Response::Progress { what: "Ready".into(), done: total, total });
            let recs = recommendations(&mut player, Labels::Start(labels), t0).await?;
            state.borrow_mut().player = Some(player);
            post(Response::Recommendations(recs));
            Ok(())
        }
        Request::Train { steps } => {
            let t0 = now();
            let mut player = state.borrow_mut().player.take().ok_or("the models are not built yet".to_string())?;
            let on_gpu = state.borrow().on_gpu;
            let mut result = Ok(());
            for _ in 0..steps {
                result = train_both(state, &mut player, on_gpu).await;
                if result.is_err() {
                    break;
                }
            }
            // The player goes back even after an error: a refused step changed nothing.
            state.borrow_mut().player = Some(player);
            result?;
            post(Response::TrainDone { steps, millis: now() - t0 });
            Ok(())
        }
        Request::LabLoad { .. } | Request::LabRun { .. } | Request::LabCancel => Err("the Lab runs in a worker of its own (lab-worker.js)".to_string().into()),
        Request::Snapshot => {
            let player = state.borrow_mut().player.take().ok_or("the models are not built yet".to_string())?;
            let weights = async { Ok::<_, String>(Player::warm_text(&read_weights(&player.fp_aware).await?, &read_weights(&player.vanilla).await?)) }.await;
            let events = player.events;
            state.borrow_mut().player = Some(player);
            post(Response::Snapshot { events, weights: weights? });
            Ok(())
        }
        Request::Observe { play } => {
            let t0 = now();
            let fault = {
                let mut s = state.borrow_mut();
                s.observes += 1;
                let n = s.observes;
                s.fault.filter(|f| matches!(f, Fault::ErrorOnObserve(k) | Fault::PanicOnObserve(k) if *k == n))
            };
            match fault {
                Some(Fault::ErrorOnObserve(n)) => return Err(Failure::Error(format!("test fault: an error on play {n}"))),
                Some(Fault::PanicOnObserve(n)) => panic!("test fault: a panic on play {n}"),
                None => {}
            }
            let mut player = state.borrow_mut().player.take().ok_or("the models are not built yet".to_string())?;
            let on_gpu = state.borrow().on_gpu;
            let result = async {
                let fp = learn(&mut player, &play, on_gpu).await?;
                Ok::<_, Failure>(recommendations(&mut player, Labels::Play(fp), t0).await?)
            }
            .await;
            state.borrow_mut().player = Some(player);
            post(Response::Recommendations(result?));
            Ok(())
        }
    }
}

/// One simulated-session step for each model; both losses go to the page.
async fn train_both(state: &Rc<RefCell<State>>, player: &mut Player, on_gpu: bool) -> Result<(), Failure> {
    let t0 = now();
    let mut losses = [f32::NAN; 2];
    for (learner, slot) in player.learners().into_iter().zip(losses.iter_mut()) {
        let batch = learner.replay_sample(learner.trainer.config.batch_size);
        *slot = step(learner, &batch, on_gpu).await?;
    }
    let step = {
        let mut s = state.borrow_mut();
        s.loss_steps += 1;
        s.loss_steps
    };
    post(Response::Loss { step, loss: losses[0], vanilla_loss: losses[1], millis: now() - t0 });
    Ok(())
}

/// Records a play in both models (or, if it is invalid, in neither) and runs their online
/// updates; returns the FP label. A refused step leaves both twins with the play recorded.
async fn learn(player: &mut Player, play: &Play, on_gpu: bool) -> Result<bool, Failure> {
    let fp = player.count_play(play).map_err(|e| e.to_string())?;
    for learner in player.learners() {
        for batch in learner.update_batches() {
            step(learner, &batch, on_gpu).await?;
        }
        let max = learner.config.now.map_or(0, |n| n.max_steps);
        for _ in 0..max {
            if !now_step(learner, on_gpu).await? {
                break;
            }
        }
    }
    Ok(fp)
}

/// One step of the online FP term alone (`OnlineLearner::now_step_sync`, with async readback):
/// `false` when it does not apply or every hinge is met, and then nothing changed.
async fn now_step(learner: &mut OnlineLearner, on_gpu: bool) -> Result<bool, Failure> {
    let Some(now) = learner.now_input(&learner.trainer.device().clone()) else { return Ok(false) };
    let loss = now.loss(&learner.trainer.model);
    // Read first: the backward is only worth running when a hinge is still open.
    let value = loss.clone().into_scalar_async::<f32>().await.map_err(|e| Failure::Error(format!("reading the loss failed: {e:?}")))?;
    match (value.is_finite(), on_gpu) {
        (true, _) if value <= 0.0 => Ok(false),
        (true, _) => {
            let grads = learner.trainer.backward_of(loss);
            learner.apply_now(grads);
            Ok(true)
        }
        (false, true) => Err(Failure::Device(format!("WebGPU returned a {value} online FP term"))),
        (false, false) => Err(Failure::Error(format!("the online FP term became {value}; the model was left as it was"))),
    }
}

/// Forward, async loss readback, and the update only if the loss is finite.
async fn step(learner: &mut OnlineLearner, examples: &[Example], on_gpu: bool) -> Result<f32, Failure> {
    let refs: Vec<&Example> = examples.iter().collect();
    let device = learner.trainer.device().clone();
    let tensors = learner.trainer.batch(&refs, &device);
    let now = learner.now_input(&device);
    let (loss, grads) = learner.trainer.forward_backward_plus(&tensors, |model| now.map(|n| n.loss(model)));
    let value = loss
        .total
        .into_scalar_async::<f32>()
        .await
        .map_err(|e| Failure::Error(format!("reading the loss failed: {e:?}")))?;
    let n = STEPS.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    if value.is_finite() {
        learner.trainer.apply(grads);
        Ok(value)
    } else if on_gpu {
        Err(Failure::Device(format!("WebGPU returned a {value} loss at training step {n}")))
    } else {
        Err(Failure::Error(format!("the loss became {value}; the model was left as it was")))
    }
}

/// A model's parameters, read back asynchronously (sync reads panic on a browser GPU).
async fn read_weights(learner: &OnlineLearner) -> Result<Weights, String> {
    let mut w = Weights::default();
    for (shape, t) in weights::param_tensors(&learner.trainer.model) {
        w.values.push(read(t).await?);
        w.shapes.push(shape);
    }
    Ok(w)
}

async fn read(t: skipwise_core::burn::tensor::Tensor<1>) -> Result<Vec<f32>, String> {
    let data = t.into_data_async().await.map_err(|e| format!("reading scores failed: {e:?}"))?;
    data.try_to_vec::<f32>().map_err(|e| format!("reading scores failed: {e:?}"))
}

/// Model `which`'s list with its reasons (see [`Player::pick`], [`Player::explain`]), and the
/// model's item embedding table they were read from (the map reuses FP-AdaMetric's).
async fn top(player: &mut Player, which: usize) -> Result<(Vec<Ranked>, Vec<f32>), String> {
    let learner = player.learner(which);
    let scores = read(learner.score_tensor()).await?;
    let table = read_table(learner).await?;
    let picks = player.pick(which, &scores);
    Ok((player.explain(which, &picks, &table), table))
}

/// A model's item embedding table, flat `[n_rows · d]`.
async fn read_table(learner: &OnlineLearner) -> Result<Vec<f32>, String> {
    let table = learner.trainer.item_embeddings();
    let [rows, d] = table.dims();
    read(table.reshape([rows * d])).await
}

/// FP-AdaMetric's items and session on the first two principal axes of its item embeddings.
/// `flat` is its item embedding table, as [`top`] read it.
async fn embedding_map(player: &mut Player, flat: &[f32]) -> Result<Option<EmbeddingMap>, String> {
    let learner = &player.fp_aware;
    let d = learner.trainer.model.dim();
    // Row 0 is padding.
    let items: Vec<&[f32]> = flat.chunks(d).skip(1).collect();
    let Some(projection) = skipwise_core::pca::Projection::fit(&items, player.map.as_ref()) else { return Ok(None) };
    let prefix = learner.prefix();
    let session = match prefix.is_empty() {
        true => None,
        false => Some(projection.project(&read(learner.trainer.session_embedding(&prefix)).await?)),
    };
    let items = items.iter().map(|r| projection.project(r)).collect();
    player.map = Some(projection);
    Ok(Some(EmbeddingMap { items, session }))
}

async fn recommendations(player: &mut Player, labels: Labels, t0: f64) -> Result<Recommendations, String> {
    let (fp_aware, table) = top(player, 0).await?;
    let (vanilla, _) = top(player, 1).await?;
    let fps = player.session_fps();
    // The weights the online FP term trains with, for the set it trains on.
    let fp_weights = match player.fp_aware.now_weights() {
        None => Vec::new(),
        Some(weights) => {
            let weights = read(weights.flatten(0, 1)).await?;
            fps.iter()
            .zip(weights)
                .filter_map(|(f, weight)| player.fp_aware.items.external(*f).map(|item| FpWeight { item, weight }))
                .collect()
        }
    };
    let map = embedding_map(player, &table).await?;
    let recs = Recommendations { events: player.events, labels, fp_aware, vanilla, fp_weights, map, millis: now() - t0 };
    // JSON has no NaN: an unusable answer is an error that says where, not an unreadable message.
    recs.check_finite().map_err(|e| format!("the models produced a non-finite value ({e})"))?;
    Ok(recs)
}
