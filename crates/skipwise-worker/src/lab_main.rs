//! The Skipwise Lab's worker: a dedicated Web Worker of the page's Lab tab, started only when the
//! tab first opens (the player's first visit never loads it). Loaded by `www/lab-worker.js`.

#[cfg(target_arch = "wasm32")]
fn main() {
    skipwise_worker::web::boot(skipwise_worker::lab_worker::start);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("skipwise-lab-worker runs in a browser: build it with trunk (see README.md)");
}
