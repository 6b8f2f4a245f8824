//! The messages as they cross `postMessage` (feature `wire`): the envelope as JSON text, with the
//! embedding map's points, the one large numeric array, moved into a `Float32Array` beside it:
//! `{ m: <JSON text>, p: Float32Array }`.
//!
//! The envelope used to be JS objects made by serde-wasm-bindgen, which the page's codec bench
//! (`?bench=codec`, on the main thread) measured at under a millisecond. In the training worker
//! the same call took 300–730 ms for one 9.4 kB recommendations answer, against under 1 ms for
//! serde_json (measured in headless Chromium on the CPU path, 2026-12-01): most of a click's wait
//! for its new list. JSON text costs the same everywhere.

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
    let m = serde_json::to_string(&Envelope { id, body }).map_err(|e| format!("cannot encode a message: {e}"))?;
    Reflect::set(&out, &"m".into(), &JsValue::from_str(&m)).map_err(js)?;
    Reflect::set(&out, &"p".into(), &Float32Array::from(&points[..])).map_err(js)?;
    Ok(out.into())
}

/// A posted value back as a message; anything else is an error that says what it was.
pub fn from_js<T: DeserializeOwned + Points>(value: JsValue) -> Result<Envelope<T>, String> {
    let m = Reflect::get(&value, &"m".into()).map_err(js)?;
    let text = m.as_string().ok_or_else(|| format!("unreadable message: not text but {m:?}"))?;
    let mut envelope: Envelope<T> = serde_json::from_str(&text).map_err(|e| format!("unreadable message: {e}"))?;
    let points = Reflect::get(&value, &"p".into()).map_err(js)?;
    if let Some(p) = points.dyn_ref::<Float32Array>() {
        envelope.body.put_points(p.to_vec());
    }
    Ok(envelope)
}
