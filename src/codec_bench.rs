//! `?bench=codec`: how long one recommendations answer (two top-10s, eight weights, the map's 300
//! points) takes to cross `postMessage` as JSON text, as serde-wasm-bindgen's JS objects, and as
//! JSON text with the map's points as one `Float32Array` (`skipwise_protocol::wire`, what the page
//! and worker use: serde-wasm-bindgen, fast here on the main thread, took 300–730 ms per answer in
//! the training worker). Each
//! variant does its encode, a real structured-clone hop through a `MessageChannel` (what a
//! worker's `postMessage` does) and its decode, `ROUNDS` times; the figures go to
//! `#codec-bench`, where a browser test reads and prints them.

use crate::state::now_ms;
use js_sys::Promise;
use leptos::prelude::*;
use skipwise_protocol::{EmbeddingMap, Envelope, FpWeight, Labels, Ranked, Recommendations, Response};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageChannel, MessageEvent, MessagePort};

const ROUNDS: usize = 500;

#[derive(Clone, Copy, Debug)]
enum Codec {
    Json,
    Objects,
    JsonWithTypedPoints,
}

impl Codec {
    fn name(self) -> &'static str {
        match self {
            Codec::Json => "JSON text",
            Codec::Objects => "serde-wasm-bindgen",
            Codec::JsonWithTypedPoints => "JSON text + Float32Array points",
        }
    }
}

/// An answer of the size the player sends after every play (music: 300 items).
fn sample() -> Response {
    let ranked = |k: u64| (0..10).map(|i| Ranked { item: k + i, score: 1.0 / (i as f32 + 1.3), reason: Default::default() }).collect();
    Response::Recommendations(Recommendations {
        events: 42,
        labels: Labels::Play(true),
        fp_aware: ranked(1),
        vanilla: ranked(50),
        fp_weights: (0..8).map(|i| FpWeight { item: 100 + i, weight: 0.1 * i as f32 + 0.05 }).collect(),
        map: Some(EmbeddingMap {
            items: (0..300).map(|i| [(i as f32 * 0.37).sin() * 3.1, (i as f32 * 0.11).cos() * 2.7]).collect(),
            session: Some([0.25, -1.5]),
        }),
        millis: 12.5,
    })
}

fn js(e: impl std::fmt::Debug) -> String {
    format!("{e:?}")
}

fn encode(codec: Codec, msg: Response) -> Result<JsValue, String> {
    match codec {
        Codec::Json => skipwise_protocol::encode(1, &msg).map(JsValue::from),
        Codec::Objects => serde_wasm_bindgen::to_value(&Envelope { id: 1, body: msg }).map_err(js),
        Codec::JsonWithTypedPoints => skipwise_protocol::wire::to_js(1, msg),
    }
}

fn decode(codec: Codec, value: JsValue) -> Result<Envelope<Response>, String> {
    match codec {
        Codec::Json => skipwise_protocol::decode(&value.as_string().ok_or("not text")?),
        Codec::Objects => serde_wasm_bindgen::from_value(value).map_err(js),
        Codec::JsonWithTypedPoints => skipwise_protocol::wire::from_js(value),
    }
}

/// Posts `value` on `out` and resolves with what arrives on `into`.
async fn hop(out: &MessagePort, into: &MessagePort, value: &JsValue) -> Result<JsValue, String> {
    let promise = Promise::new(&mut |resolve, _| {
        let on = Closure::once_into_js(move |e: MessageEvent| {
            let _ = resolve.call1(&JsValue::NULL, &e.data());
        });
        into.set_onmessage(Some(on.unchecked_ref()));
    });
    out.post_message(value).map_err(js)?;
    JsFuture::from(promise).await.map_err(js)
}

/// Milliseconds per answer, sorted (for the median and the 95th percentile).
async fn measure(codec: Codec, channel: &MessageChannel) -> Result<Vec<f64>, String> {
    let expected = sample();
    let mut times = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS + 10 {
        let msg = expected.clone();
        let t0 = now_ms();
        let value = encode(codec, msg)?;
        let back = decode(codec, hop(&channel.port1(), &channel.port2(), &value).await?)?;
        let t = now_ms() - t0;
        if back.body != expected {
            return Err(format!("{} changed the message on the way", codec.name()));
        }
        // The first rounds warm the JIT and the allocator.
        if round >= 10 {
            times.push(t);
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(times)
}

pub async fn run() -> Result<String, String> {
    let channel = MessageChannel::new().map_err(js)?;
    let json_bytes = skipwise_protocol::encode(1, &sample())?.len();
    let mut lines = vec![format!("one answer: {json_bytes} bytes as JSON; {ROUNDS} rounds each (encode, MessageChannel hop, decode)")];
    for codec in [Codec::Json, Codec::Objects, Codec::JsonWithTypedPoints] {
        let t = measure(codec, &channel).await?;
        let p = |q: f64| t[((t.len() - 1) as f64 * q).round() as usize];
        // The page's clock is coarsened to 0.1 ms: the mean over all rounds resolves finer.
        let mean = t.iter().sum::<f64>() / t.len() as f64;
        lines.push(format!("{}: mean {mean:.3} ms, p50 {:.3} ms, p95 {:.3} ms", codec.name(), p(0.5), p(0.95)));
    }
    Ok(lines.join("\n"))
}

/// Shows the figures once measured (only on `?bench=codec`).
#[component]
pub fn CodecBench() -> impl IntoView {
    let result = RwSignal::new("measuring…".to_string());
    leptos::task::spawn_local(async move {
        result.set(match run().await {
            Ok(text) => format!("{text}\ndone"),
            Err(e) => format!("failed: {e}"),
        });
    });
    view! { <pre id="codec-bench" class="panel">{move || result.get()}</pre> }
}
