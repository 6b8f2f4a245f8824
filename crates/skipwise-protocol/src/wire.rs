//! The messages as they cross `postMessage` (feature `wire`): JS objects made by
//! serde-wasm-bindgen, with the embedding map's points, the one large numeric array, moved into a
//! `Float32Array` beside them: `{ m: <the envelope>, p: Float32Array }`.
//!
//! Measured in headless Chromium on the CPU path (`?bench=codec`, `tests/e2e/bench.test.mjs`), one
//! recommendations answer (7.9 kB as JSON) through encode, a `MessageChannel` hop and decode, mean
//! over 500 rounds in three runs: JSON text 0.35–0.53 ms (p95 0.6–2.0), serde-wasm-bindgen objects
//! 0.44–0.66 ms (p95 1.1–2.8), objects with the points as a `Float32Array` 0.12–0.29 ms (p95
//! 0.2–0.5). The last is what the page and worker use.

use crate::{Envelope, Request, Response};
use js_sys::{Float32Array, Object, Reflect};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};

/// A message whose large numeric array travels as a typed array.
pub trait Points {
    /// Takes the points out (flat: x0, y0, x1, y1, …), leaving none.
    fn take_points(&mut self) -> Vec<f32>;
    /// Puts flat points back.
    fn put_points(&mut self, flat: Vec<f32>);
}

impl Points for Request {
    fn take_points(&mut self) -> Vec<f32> {
        Vec::new()
    }
    fn put_points(&mut self, _: Vec<f32>) {}
}

impl Points for Response {
    fn take_points(&mut self) -> Vec<f32> {
        match self {
            Response::Recommendations(r) => r.map.as_mut().map(|m| std::mem::take(&mut m.items).into_iter().flatten().collect()),
            _ => None,
        }
        .unwrap_or_default()
    }
    fn put_points(&mut self, flat: Vec<f32>) {
        if let Response::Recommendations(r) = self {
            if let Some(m) = r.map.as_mut() {
                m.items = flat.chunks_exact(2).map(|c| [c[0], c[1]]).collect();
            }
        }
    }
}

fn js(e: impl std::fmt::Debug) -> String {
    format!("{e:?}")
}

/// `body`, answering (or being) request `id`, as the value to post.
pub fn to_js<T: Serialize + Points>(id: u64, mut body: T) -> Result<JsValue, String> {
    let points = body.take_points();
    let out = Object::new();
    let m = serde_wasm_bindgen::to_value(&Envelope { id, body }).map_err(|e| format!("cannot encode a message: {e}"))?;
    Reflect::set(&out, &"m".into(), &m).map_err(js)?;
    Reflect::set(&out, &"p".into(), &Float32Array::from(&points[..])).map_err(js)?;
    Ok(out.into())
}

/// A posted value back as a message; anything else is an error that says what it was.
pub fn from_js<T: DeserializeOwned + Points>(value: JsValue) -> Result<Envelope<T>, String> {
    let m = Reflect::get(&value, &"m".into()).map_err(js)?;
    let mut envelope: Envelope<T> = serde_wasm_bindgen::from_value(m).map_err(|e| format!("unreadable message: {e}"))?;
    let points = Reflect::get(&value, &"p".into()).map_err(js)?;
    if let Some(p) = points.dyn_ref::<Float32Array>() {
        envelope.body.put_points(p.to_vec());
    }
    Ok(envelope)
}
