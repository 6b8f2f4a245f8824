//! The demo catalogs the page loads from `www/catalog/<name>.json` (written by `skipwise catalog`
//! from the core's simulator, so every item here is an item the models were trained on).

pub use skipwise_protocol::catalog::{Catalog, Item};
use skipwise_protocol::Catalog as Kind;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Fetches and parses `catalog/<name>.json`; errors say which file and why.
pub async fn load(kind: Kind) -> Result<Catalog, String> {
    let url = format!("catalog/{}.json", kind.name());
    let fail = |why: String| format!("Could not load the {} catalog ({url}): {why}", kind.name());
    let window = web_sys::window().ok_or_else(|| fail("no window".into()))?;
    let response = JsFuture::from(window.fetch_with_str(&url)).await.map_err(|e| fail(format!("{e:?}")))?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| fail("not a response".into()))?;
    if !response.ok() {
        return Err(fail(format!("HTTP {}", response.status())));
    }
    let text = JsFuture::from(response.text().map_err(|e| fail(format!("{e:?}")))?).await.map_err(|e| fail(format!("{e:?}")))?;
    let text = text.as_string().ok_or_else(|| fail("not text".into()))?;
    serde_json::from_str(&text).map_err(|e| fail(e.to_string()))
}
