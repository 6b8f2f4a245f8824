//! The player's worker without WebGPU: the same code as `skipwise-worker`, built with
//! `--no-default-features`, so burn has only Flex and the module a quarter of the size. The page
//! starts it (`www/worker.js?cpu`) when the browser offers no WebGPU adapter or the GPU failed.

#[cfg(target_arch = "wasm32")]
fn main() {
    skipwise_worker::web::boot(skipwise_worker::player_worker::start);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("skipwise-cpu-worker runs in a browser: build it with trunk (see README.md)");
}
