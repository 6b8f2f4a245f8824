//! The Skipwise Lab's worker: a dedicated Web Worker of the page's Lab tab, started only when the
//! tab first opens (the player's first visit never loads it). Loaded by `www/lab-worker.js`.

#[cfg(target_arch = "wasm32")]
mod lab_worker;

#[cfg(target_arch = "wasm32")]
unsafe extern "C" {
    /// The module's static constructors (see `main.rs`: the same reason, the same fix).
    fn __wasm_call_ctors();
}

#[cfg(target_arch = "wasm32")]
fn main() {
    unsafe { __wasm_call_ctors() };
    lab_worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("skipwise-lab-worker runs in a browser: build it with trunk (see README.md)");
}
