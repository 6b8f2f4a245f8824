//! The page's static data: the demo catalogs from `www/catalog/<name>.json` (written by
//! `skipwise catalog` from the core's simulator, so every item here is an item the models were
//! trained on) and the shipped warm starts from `www/warm/<key>.json` (`skipwise warm-weights`).

pub use skipwise_protocol::catalog::{Catalog, Item};
use skipwise_protocol::Catalog as Kind;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Fetches and parses `catalog/<name>.json`; errors say which file and why.
pub async fn load(kind: Kind) -> Result<Catalog, String> {
    let url = format!("catalog/{}.json", kind.name());
    let fail = |why: String| format!("Could not load the {} catalog ({url}): {why}", kind.name());
    let text = fetch_text(&url).await.map_err(fail)?;
    serde_json::from_str(&text).map_err(|e| fail(e.to_string()))
}

/// The shipped warm start of `kind`, if the page has one: only the default seed's and warm-start
/// length's are shipped (asking for others would only log 404s), so any other seed trains in the
/// page. The worker checks the weights' shapes before it uses them.
pub async fn shipped_warm(kind: Kind, seed: u64, warm_steps: u32) -> Option<String> {
    if seed != skipwise_protocol::DEFAULT_SEED || warm_steps != skipwise_protocol::WARM_STEPS {
        return None;
    }
    fetch_text(&format!("warm/{}.json", skipwise_protocol::warm_key(kind, seed, warm_steps))).await.ok()
}

/// The body of `url` (relative to the page) as text; an error for anything but HTTP 2xx.
pub(crate) async fn fetch_text(url: &str) -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response = JsFuture::from(window.fetch_with_str(url)).await.map_err(|e| format!("{e:?}"))?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| "not a response".to_string())?;
    if !response.ok() {
        return Err(format!("HTTP {}", response.status()));
    }
    let text = JsFuture::from(response.text().map_err(|e| format!("{e:?}"))?).await.map_err(|e| format!("{e:?}"))?;
    text.as_string().ok_or_else(|| "not text".to_string())
}
