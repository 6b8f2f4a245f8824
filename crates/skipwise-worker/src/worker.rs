//! The message loop: one request at a time, in arrival order, each answered with responses.

use crate::backend;
use crate::session::TrainingSession;
use skipwise_core::burn::tensor::Device;
use skipwise_core::batch::Example;
use skipwise_protocol::{Request, Response};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

#[derive(Default)]
struct State {
    device: Option<Device>,
    session: Option<TrainingSession>,
    queue: VecDeque<Request>,
    busy: bool,
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(response: &Response) {
    if let Ok(value) = serde_wasm_bindgen::to_value(response) {
        // A failed post means the page is gone; there is no one left to tell.
        scope().post_message(&value).ok();
    }
}

fn now() -> f64 {
    js_sys::Date::now()
}

pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        post(&Response::Panic { message: info.to_string() });
        console_error_panic_hook::hook(info);
    }));
    let state = Rc::new(RefCell::new(State::default()));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        match serde_wasm_bindgen::from_value::<Request>(event.data()) {
            Ok(request) => {
                let start_loop = {
                    let mut s = state.borrow_mut();
                    s.queue.push_back(request);
                    !std::mem::replace(&mut s.busy, true)
                };
                if start_loop {
                    wasm_bindgen_futures::spawn_local(drain(state.clone()));
                }
            }
            Err(e) => post(&Response::Error { message: format!("unreadable request: {e}") }),
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(&Response::Booted);
}

async fn drain(state: Rc<RefCell<State>>) {
    loop {
        let next = state.borrow_mut().queue.pop_front();
        let Some(request) = next else {
            state.borrow_mut().busy = false;
            return;
        };
        handle(&state, request).await;
    }
}

async fn handle(state: &Rc<RefCell<State>>, request: Request) {
    match request {
        Request::Init { allow_gpu, reason } => {
            let (device, info) = backend::choose(allow_gpu, reason).await;
            let mut s = state.borrow_mut();
            s.device = Some(device);
            s.session = None;
            drop(s);
            post(&Response::Ready { backend: info });
        }
        Request::Train { steps, seed } => {
            if let Err(message) = train(state, steps, seed).await {
                post(&Response::Error { message });
            }
        }
    }
}

async fn train(state: &Rc<RefCell<State>>, steps: u32, seed: u64) -> Result<(), String> {
    let device = state.borrow().device.clone().ok_or("no backend yet: send Init first")?;
    let mut session = match state.borrow_mut().session.take() {
        Some(s) => s,
        None => TrainingSession::new(seed, &device).map_err(|e| e.to_string())?,
    };
    let result = run_steps(&mut session, &device, steps).await;
    // The session goes back even after an error: a refused step changed nothing.
    state.borrow_mut().session = Some(session);
    result
}

async fn run_steps(session: &mut TrainingSession, device: &Device, steps: u32) -> Result<(), String> {
    let started = now();
    let training_device = device.clone().autodiff();
    for step in 1..=steps {
        let t0 = now();
        let batch: Vec<Example> = session.next_batch().into_iter().cloned().collect();
        let refs: Vec<&Example> = batch.iter().collect();
        let tensors = session.trainer.batch(&refs, &training_device);
        let (loss, grads) = session.trainer.forward_backward(&tensors);
        let value = loss.total.into_scalar_async::<f32>().await.map_err(|e| format!("reading the loss failed: {e:?}"))?;
        if !value.is_finite() {
            return Err(format!("the loss became {value}; the model was left as it was"));
        }
        session.trainer.apply(grads);
        post(&Response::Loss { step, loss: value, millis: now() - t0 });
    }
    post(&Response::TrainDone { steps, millis: now() - started });
    Ok(())
}
