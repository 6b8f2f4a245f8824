//! The worker's models as plain Rust, natively testable: [`player::Player`] holds the twin
//! learners the page shows (FP-AdaMetric and Vanilla). The Web Workers (wasm only: two
//! binaries over [`web`]) drive it; natively the CLI's `warm-weights` makes the page's shipped
//! warm start with it, and the flow tests play the page's visits against it.
//!
//! The binaries: `skipwise-worker`, the player's (WebGPU, else Flex), and `skipwise-lab-worker`,
//! the Lab's (always on the CPU), each `main` a `web::boot` of its module.

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
