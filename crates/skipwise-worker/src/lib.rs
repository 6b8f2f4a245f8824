//! The worker's models as plain Rust, natively testable: [`player::Player`] holds the twin
//! learners the page shows (FP-AdaMetric and Vanilla). The Web Worker (`main.rs`, wasm only)
//! drives it; natively the CLI's `warm-weights` makes the page's shipped warm start with it, and
//! the flow tests play the page's visits against it.

pub mod lab;
pub mod player;
#[cfg(target_arch = "wasm32")]
pub mod web;
#[cfg(test)]
mod flows;
