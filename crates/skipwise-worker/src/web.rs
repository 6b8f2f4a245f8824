//! What both Web Workers share (wasm only): the message loop — one request at a time, in arrival
//! order, each answered with responses that carry the request's id (an `Error` is an answer
//! too, so the page never waits for ever) — posting, the clock, and handing the event loop back.
//!
//! The player's worker (`worker.rs`) and the Lab's (`lab_worker.rs`) are two binaries over this
//! loop, so that the player's first visit loads only the player's code.

use skipwise_protocol::{Request, Response, UNSOLICITED};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

unsafe extern "C" {
    /// The module's static constructors (cubecl registers its kernels' types through
    /// `inventory`), synthesised by wasm-ld.
    fn __wasm_call_ctors();
}

/// A worker binary's `main`: runs the static constructors once, then `start`.
///
/// Calling them explicitly is what keeps wasm-ld from wrapping every export of the binary in a
/// call to them: without a call it treats the module as a "new-style command" that is entered
/// once, and re-ran all of cubecl's registrations on every call from JavaScript into the worker
/// (each message, each awaited read, each JsValue handed over) — 45 % of the worker's busy time
/// in a profile of 20 plays (see README, Performance).
pub fn boot(start: fn()) {
    // SAFETY: wasm-ld defines it for every module with constructors (or as a no-op); nothing has
    // run them yet, since no export is wrapped.
    unsafe { __wasm_call_ctors() };
    start();
}

/// Why a request stopped: an ordinary error, or a GPU that can no longer be trusted.
pub enum Failure {
    Error(String),
    Device(String),
}

impl From<String> for Failure {
    fn from(s: String) -> Self {
        Failure::Error(s)
    }
}

thread_local! {
    /// The id of the request being handled, for everything posted meanwhile (and a panic's report).
    static CURRENT: Cell<u64> = const { Cell::new(UNSOLICITED) };
}

pub fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Posts `response` as an answer to the request being handled.
pub fn post(response: Response) {
    if let Ok(value) = skipwise_protocol::wire::to_js(CURRENT.with(|c| c.get()), response) {
        // A failed post means the page is gone; there is no one left to tell.
        scope().post_message(&value).ok();
    }
}

pub fn now() -> f64 {
    js_sys::Date::now()
}

/// Resolves on a zero-delay timer: the messages that arrived meanwhile are dispatched first.
pub async fn yield_to_events() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0).ok();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.ok();
}

struct Queue<S> {
    state: Rc<RefCell<S>>,
    requests: VecDeque<(u64, Request)>,
    busy: bool,
}

/// Serves requests with `handle` over a state `S`. `arrived` sees each request as it arrives and
/// returns `true` for one it has dealt with there and then (a Cancel must not queue behind the
/// run it stops).
pub fn serve<S, F, Fut>(arrived: fn(&Request) -> bool, handle: F)
where
    S: Default + 'static,
    F: Fn(Rc<RefCell<S>>, Request) -> Fut + 'static,
    Fut: Future<Output = Result<(), Failure>> + 'static,
{
    skipwise_core::enable_wasm_simd();
    std::panic::set_hook(Box::new(|info| {
        post(Response::Panic { message: info.to_string() });
        console_error_panic_hook::hook(info);
    }));
    let queue = Rc::new(RefCell::new(Queue { state: Rc::new(RefCell::new(S::default())), requests: VecDeque::new(), busy: false }));
    let handle = Rc::new(handle);
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        match skipwise_protocol::wire::from_js::<Request>(event.data()) {
            Ok(envelope) if arrived(&envelope.body) => {}
            Ok(envelope) => {
                let start_loop = {
                    let mut q = queue.borrow_mut();
                    q.requests.push_back((envelope.id, envelope.body));
                    !std::mem::replace(&mut q.busy, true)
                };
                if start_loop {
                    wasm_bindgen_futures::spawn_local(drain(queue.clone(), handle.clone()));
                }
            }
            Err(e) => post(Response::Error { message: format!("the page sent an {e}") }),
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(Response::Booted);
}

async fn drain<S, F, Fut>(queue: Rc<RefCell<Queue<S>>>, handle: Rc<F>)
where
    F: Fn(Rc<RefCell<S>>, Request) -> Fut,
    Fut: Future<Output = Result<(), Failure>>,
{
    loop {
        let next = queue.borrow_mut().requests.pop_front();
        let Some((id, request)) = next else {
            queue.borrow_mut().busy = false;
            return;
        };
        CURRENT.with(|c| c.set(id));
        let state = queue.borrow().state.clone();
        match handle(state, request).await {
            Ok(()) => {}
            Err(Failure::Error(message)) => post(Response::Error { message }),
            Err(Failure::Device(message)) => {
                // Nothing more runs here: the page replaces this worker.
                queue.borrow_mut().requests.clear();
                post(Response::DeviceFailed { message });
            }
        }
        CURRENT.with(|c| c.set(UNSOLICITED));
    }
}
