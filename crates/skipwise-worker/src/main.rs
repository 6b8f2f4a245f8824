//! The Skipwise training worker: a dedicated Web Worker that owns the burn model, so training
//! never blocks the page. It picks WebGPU when the browser offers a working adapter and falls back
//! to burn's Flex CPU backend otherwise, saying why.
//!
//! Loaded by `www/worker.js` (which also applies the WebGPU `subgroups` workaround before this
//! module starts). Messages are `skipwise_protocol::{Request, Response}`.

#[cfg(target_arch = "wasm32")]
mod backend;
#[cfg(target_arch = "wasm32")]
mod worker;

#[cfg(target_arch = "wasm32")]
unsafe extern "C" {
    /// The module's static constructors (cubecl registers its kernels' types through
    /// `inventory`), synthesised by wasm-ld.
    fn __wasm_call_ctors();
}

#[cfg(target_arch = "wasm32")]
fn main() {
    // Running them here, once, is what keeps wasm-ld from wrapping every export of this binary
    // in a call to them: without an explicit call it treats the module as a "new-style command"
    // that is entered once, and re-ran all of cubecl's registrations on every call from
    // JavaScript into the worker (each message, each awaited read, each JsValue handed over) —
    // 45 % of the worker's busy time in a profile of 20 plays (see README, Performance).
    unsafe { __wasm_call_ctors() };
    worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("skipwise-worker runs in a browser: build it with trunk (see README.md)");
}
