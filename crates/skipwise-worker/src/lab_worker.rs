//! The Lab's worker: `LabLoad`, `LabRun` and `LabCancel` over the shared message loop
//! (`crate::web`), the experiment itself in `crate::lab`. Always on the CPU.

use skipwise_core::burn::tensor::Device;
use skipwise_core::experiment::Prepared;
use skipwise_protocol::lab::LabSpec;
use skipwise_protocol::{Request, Response};
use crate::lab::{self, LabEvent};
use crate::web::{self, Failure, now, post, yield_to_events};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// The loaded log.
#[derive(Default)]
struct State {
    lab: Option<Rc<Prepared>>,
}

thread_local! {
    /// Set by a `LabCancel` as it arrives (it does not queue behind the run it stops); cleared
    /// by the arrival of the next `LabRun`.
    static CANCEL: Cell<bool> = const { Cell::new(false) };
}

fn arrived(request: &Request) -> bool {
    match request {
        Request::LabCancel => {
            CANCEL.with(|c| c.set(true));
            true
        }
        Request::LabRun { .. } => {
            CANCEL.with(|c| c.set(false));
            false
        }
        _ => false,
    }
}

pub fn start() {
    web::serve::<State, _, _>(arrived, |state, request| async move { handle(&state, request).await });
}

async fn handle(state: &Rc<RefCell<State>>, request: Request) -> Result<(), Failure> {
    match request {
        Request::LabLoad { data, options } => {
            // A log that cannot be read leaves the one loaded before.
            let (prepared, summary) = lab::load(&data, &options)?;
            state.borrow_mut().lab = Some(Rc::new(prepared));
            post(Response::LabLoaded(summary));
            Ok(())
        }
        Request::LabRun { spec } => {
            let prepared = state.borrow().lab.clone().ok_or("no log loaded: choose a dataset first".to_string())?;
            run(spec, &prepared).await
        }
        Request::LabCancel => Ok(()),
        _ => Err("the Lab's worker runs the Lab only".to_string().into()),
    }
}

/// Trains the spec's systems × seeds, handing the event loop back every ~30 ms so that a
/// `LabCancel` is heard between steps; progress at most every 100 ms, every epoch's losses, then
/// the results file.
async fn run(spec: LabSpec, prepared: &Prepared) -> Result<(), Failure> {
    let mut job = lab::LabJob::new(spec, prepared, Device::flex(), now())?;
    let (mut yielded, mut reported) = (now(), f64::NEG_INFINITY);
    loop {
        if CANCEL.with(|c| c.get()) {
            post(Response::LabCancelled);
            return Ok(());
        }
        match job.step(prepared, now())? {
            LabEvent::Progress(p) => {
                if now() - reported >= 100.0 || p.batch == 0 {
                    reported = now();
                    post(Response::LabProgress(p));
                }
            }
            LabEvent::Epoch(e) => post(Response::LabEpoch(e)),
            LabEvent::Done(file) => {
                let json = serde_json::to_string_pretty(&*file).map_err(|e| format!("the results could not be written: {e}"))?;
                post(Response::LabDone { json, methods: file.methods, seconds: file.seconds });
                return Ok(());
            }
        }
        if now() - yielded >= 30.0 {
            yield_to_events().await;
            yielded = now();
        }
    }
}
