//! Skipwise core: session-based recommendation that knows about false positives.
//!
//! data → batch → model (backbones) → objective (Vanilla, FP-Simple, FP-Metric, FP-AdaMetric)
//! → train → metrics, plus a seeded listener simulator. Everything runs on whichever burn
//! [`Device`](burn::tensor::Device) it is given: Flex on the CPU, wgpu natively, WebGPU in the page.

pub mod batch;
pub mod catalog;
pub mod checkpoint;
pub mod contrastive;
pub mod data;
pub mod dropout;
pub mod error;
pub mod experiment;
pub mod fused_gru;
pub mod gelu;
pub mod loaders;
pub mod metrics;
pub mod model;
pub mod model_file;
pub mod movielens;
pub mod nn;
pub mod objective;
pub mod online;
mod par;
pub mod pca;
pub mod rng;
pub mod sim;
pub mod sml;
pub mod system;
pub mod train;
pub mod ufn;
pub mod weights;

/// Lets gemm (burn-flex's matrix products and the fused GRU's) use its WebAssembly SIMD128
/// kernels. gemm compiles them into every wasm32 build (each with its own `target_feature`), but
/// runs them only once told to, unless its `wasm-simd128-enable` feature was on at build time
/// (burn-flex's `simd` turns it on, and with it a much longer cold build). Call before the
/// first product: gemm picks its kernel once. Every browser with WebGPU has SIMD128 (Chrome 91,
/// Firefox 89, Safari 16.4), and a module with SIMD instructions in it, as this one already is,
/// does not even compile without it. Natively this does nothing.
pub fn enable_wasm_simd() {
    gemm::set_wasm_simd128(true);
}

pub use burn;
pub use error::{Error, Result};
