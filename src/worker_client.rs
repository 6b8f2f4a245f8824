//! The page's side of the worker protocol: start the training worker, send requests, route
//! responses. The worker is the only place burn runs, so the page's wasm stays small.

use skipwise_protocol::{Envelope, Request, Response};
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker};

/// A running worker; dropping it terminates the worker.
pub struct WorkerHandle {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

impl WorkerHandle {
    /// Starts the worker `script` boots (`./worker.js`, the player's; `./lab-worker.js`, the
    /// Lab's). `on_response` gets every message; `on_crash` a worker that died (a script error or
    /// a trap) with the reason.
    pub fn spawn(
        script: &str,
        on_response: impl Fn(Envelope<Response>) + 'static,
        on_crash: impl Fn(String) + 'static,
    ) -> Result<Self, String> {
        let worker = Worker::new(script).map_err(|e| format!("cannot start the training worker: {e:?}"))?;
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            match skipwise_protocol::wire::from_js::<Response>(event.data()) {
                Ok(envelope) => on_response(envelope),
                // Without a readable id this cannot end a request; it is reported, and the
                // worker's own `Error` answers (never undecodable) end theirs.
                Err(e) => on_response(Envelope {
                    id: skipwise_protocol::UNSOLICITED,
                    body: Response::Warning { message: format!("the training worker sent an {e}") },
                }),
            }
        });
        let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
            on_crash(event.message());
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Self { worker, _on_message: on_message, _on_error: on_error })
    }

    pub fn send(&self, id: u64, request: Request) -> Result<(), String> {
        let value = skipwise_protocol::wire::to_js(id, request)?;
        self.worker.post_message(&value).map_err(|e| format!("{e:?}"))
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        // Events already queued from this worker must find no handler: its closures go with it.
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}
