//! Skipwise core: session-based recommendation that knows about false positives.
//!
//! data → batch → model (backbones) → objective (Vanilla, FP-Simple, FP-Metric, FP-AdaMetric)
//! → train → metrics, plus a seeded listener simulator. Everything runs on whichever burn
//! [`Device`](burn::tensor::Device) it is given: Flex on the CPU, wgpu natively, WebGPU in the page.

pub mod batch;
pub mod catalog;
pub mod checkpoint;
pub mod data;
pub mod error;
pub mod fused_gru;
pub mod loaders;
pub mod metrics;
pub mod model;
pub mod movielens;
pub mod nn;
pub mod objective;
pub mod online;
pub mod pca;
pub mod rng;
pub mod sim;
pub mod train;
pub mod weights;

pub use burn;
pub use error::{Error, Result};
