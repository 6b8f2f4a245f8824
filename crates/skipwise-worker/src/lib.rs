//! The worker's models as plain Rust, natively testable: [`player::Player`] holds the twin
//! learners the page shows (FP-AdaMetric and Vanilla). The Web Workers (wasm only: three
//! binaries over [`web`]) drive it; natively the CLI's `warm-weights` makes the page's shipped
//! warm start with it, and the flow tests play the page's visits against it.
//!
//! The binaries: `skipwise-worker`, the player's, with WebGPU (the `webgpu` feature, on by
//! default); `skipwise-cpu-worker`, the same player without it (`--no-default-features`: burn
//! then has no CubeCL, ~3/4 of the module), which the page starts when the browser offers no
//! WebGPU adapter; `skipwise-lab-worker`, the Lab's (CPU only, also without it).

pub mod lab;
pub mod player;
#[cfg(target_arch = "wasm32")]
mod backend;
#[cfg(target_arch = "wasm32")]
pub mod lab_worker;
#[cfg(target_arch = "wasm32")]
pub mod player_worker;
#[cfg(target_arch = "wasm32")]
pub mod web;
#[cfg(test)]
mod flows;
