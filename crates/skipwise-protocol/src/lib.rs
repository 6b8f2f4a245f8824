//! The messages that cross between the Skipwise page and its training worker.
//!
//! Both sides serialise these with serde (serde-wasm-bindgen over `postMessage`); this crate
//! has no burn and no web dependency, so the page's wasm stays small.

use serde::{Deserialize, Serialize};

/// Which compute backend the worker trains on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum BackendKind {
    WebGpu,
    Cpu,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackendInfo {
    pub kind: BackendKind,
    /// The adapter's name as the browser reports it (WebGPU only).
    pub adapter: Option<String>,
    /// Why WebGPU is not used (CPU only).
    pub fallback_reason: Option<String>,
}

impl BackendInfo {
    /// What the page shows: "WebGPU (adapter)" or "CPU (WebGPU unavailable: reason)".
    pub fn label(&self) -> String {
        match self.kind {
            BackendKind::WebGpu => match &self.adapter {
                Some(a) if !a.is_empty() => format!("WebGPU ({a})"),
                _ => "WebGPU".to_string(),
            },
            BackendKind::Cpu => format!(
                "CPU (WebGPU unavailable: {})",
                self.fallback_reason.as_deref().unwrap_or("not requested")
            ),
        }
    }
}

/// Page → worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Pick a backend. `allow_gpu = false` forces the CPU (used after a GPU failure), with the reason.
    Init { allow_gpu: bool, reason: Option<String> },
    /// Run `steps` training steps on simulated sessions, reporting the loss after each.
    Train { steps: u32, seed: u64 },
}

/// Worker → page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// The worker's module has started and listens; the page sends `Init` only after this.
    Booted,
    Ready { backend: BackendInfo },
    Loss { step: u32, loss: f32, millis: f64 },
    TrainDone { steps: u32, millis: f64 },
    Error { message: String },
    /// The worker is about to abort (a Rust panic); the page restarts it on the CPU.
    Panic { message: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_the_backend_and_the_reason() {
        let gpu = BackendInfo { kind: BackendKind::WebGpu, adapter: Some("swiftshader".into()), fallback_reason: None };
        assert_eq!(gpu.label(), "WebGPU (swiftshader)");
        let cpu = BackendInfo { kind: BackendKind::Cpu, adapter: None, fallback_reason: Some("no adapter".into()) };
        assert_eq!(cpu.label(), "CPU (WebGPU unavailable: no adapter)");
    }

    #[test]
    fn messages_round_trip_through_json() {
        let msgs = vec![
            Response::Loss { step: 3, loss: 1.5, millis: 2.0 },
            Response::Ready { backend: BackendInfo { kind: BackendKind::Cpu, adapter: None, fallback_reason: None } },
        ];
        for m in msgs {
            let text = serde_json::to_string(&m).expect("serialises");
            let back: Response = serde_json::from_str(&text).expect("deserialises");
            assert_eq!(back, m);
        }
    }
}
