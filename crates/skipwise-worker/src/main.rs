//! The Skipwise training worker: a dedicated Web Worker that owns the burn model, so training
//! never blocks the page. It picks WebGPU when the browser offers a working adapter and falls back
//! to burn's Flex CPU backend otherwise, saying why.
//!
//! Loaded by `www/worker.js` (which also applies the WebGPU `subgroups` workaround before this
//! module starts). Messages are `skipwise_protocol::{Request, Response}`.

#[cfg(target_arch = "wasm32")]
fn main() {
    skipwise_worker::web::boot(skipwise_worker::player_worker::start);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("skipwise-worker runs in a browser: build it with trunk (see README.md)");
}
