//! Choosing the compute backend in the browser: WebGPU if an adapter exists and a first kernel
//! runs, else Flex on the CPU with the reason.

use js_sys::{Promise, Reflect};
use skipwise_core::burn::tensor::wgpu::WgpuBackend;
use skipwise_core::burn::tensor::{Device, Tensor};
use skipwise_protocol::{BackendInfo, BackendKind};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

fn get(target: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(target, &JsValue::from_str(key)).ok().filter(|v| !v.is_undefined() && !v.is_null())
}

fn js_message(e: &JsValue) -> String {
    get(e, "message").and_then(|m| m.as_string()).or_else(|| e.as_string()).unwrap_or_else(|| format!("{e:?}"))
}

/// The adapter's name, or why there is none (reads `navigator.gpu` in the worker's scope).
async fn probe_adapter() -> Result<String, String> {
    let global = js_sys::global();
    let gpu = get(&global, "navigator").and_then(|n| get(&n, "gpu")).ok_or("navigator.gpu is missing")?;
    let request: js_sys::Function = get(&gpu, "requestAdapter")
        .and_then(|f| f.dyn_into().ok())
        .ok_or("navigator.gpu.requestAdapter is missing")?;
    let promise: Promise = request.call0(&gpu).map_err(|e| js_message(&e))?.dyn_into().map_err(|e| js_message(&e))?;
    let adapter = JsFuture::from(promise).await.map_err(|e| js_message(&e))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err("no WebGPU adapter (requestAdapter returned null)".into());
    }
    let info = get(&adapter, "info");
    let field = |k: &str| info.as_ref().and_then(|i| get(i, k)).and_then(|v| v.as_string()).filter(|s| !s.is_empty());
    let name = field("description")
        .or_else(|| match (field("vendor"), field("architecture")) {
            (Some(v), Some(a)) => Some(format!("{v} {a}")),
            (v, a) => v.or(a),
        })
        .unwrap_or_else(|| "unnamed adapter".into());
    Ok(name)
}

/// A WebGPU device that has run a matrix product (the kernel the subgroups bug breaks).
async fn webgpu_device() -> Result<(Device, String), String> {
    let adapter = probe_adapter().await?;
    let device = Device::wgpu_options()
        .graphics_api(WgpuBackend::WebGpu)
        .init_async()
        .await
        .map_err(|e| format!("WebGPU device could not start: {e:?}"))?;
    let a = Tensor::<2>::ones([8, 8], &device);
    let product = a.clone().matmul(a).sum();
    let value = product.into_scalar_async::<f32>().await.map_err(|e| format!("WebGPU test kernel failed: {e:?}"))?;
    if (value - 512.0).abs() > 1e-3 {
        return Err(format!("WebGPU test kernel returned {value}, expected 512"));
    }
    Ok((device, adapter))
}

pub async fn choose(allow_gpu: bool, reason: Option<String>) -> (Device, BackendInfo) {
    let failure = if allow_gpu {
        match webgpu_device().await {
            Ok((device, adapter)) => {
                let info = BackendInfo { kind: BackendKind::WebGpu, adapter: Some(adapter), fallback_reason: None };
                return (device, info);
            }
            Err(e) => e,
        }
    } else {
        reason.unwrap_or_else(|| "disabled".into())
    };
    (Device::flex(), BackendInfo { kind: BackendKind::Cpu, adapter: None, fallback_reason: Some(failure) })
}
