//! The warm-start weights cache in IndexedDB: a reload (or a catalog switch back) loads the
//! weights the worker trained before instead of training again. Everything here can fail
//! (private windows, quota, blocked storage); a failure only costs the next load its warm start,
//! and the page says so.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbOpenDbRequest, IdbRequest, IdbTransactionMode};

const DB: &str = "skipwise";
const STORE: &str = "warm-weights";

fn js_err(e: JsValue) -> String {
    e.as_string().or_else(|| e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message()))).unwrap_or_else(|| format!("{e:?}"))
}

/// Resolves with the request's result once it succeeds, or its error.
async fn done(request: &IdbRequest) -> Result<JsValue, String> {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let ok_request = request.clone();
        let on_ok = Closure::once_into_js(move |_: web_sys::Event| {
            let _ = resolve.call1(&JsValue::NULL, &ok_request.result().unwrap_or(JsValue::UNDEFINED));
        });
        let err_request = request.clone();
        let on_err = Closure::once_into_js(move |_: web_sys::Event| {
            let why = err_request.error().ok().flatten().map(|e| e.message()).unwrap_or_else(|| "unknown error".into());
            let _ = reject.call1(&JsValue::NULL, &JsValue::from_str(&why));
        });
        request.set_onsuccess(Some(on_ok.unchecked_ref()));
        request.set_onerror(Some(on_err.unchecked_ref()));
    });
    JsFuture::from(promise).await.map_err(js_err)
}

async fn open() -> Result<IdbDatabase, String> {
    let factory = web_sys::window()
        .ok_or("no window")?
        .indexed_db()
        .map_err(js_err)?
        .ok_or("this browser offers no IndexedDB")?;
    let request: IdbOpenDbRequest = factory.open_with_u32(DB, 1).map_err(js_err)?;
    let upgrade_request = request.clone();
    let on_upgrade = Closure::once_into_js(move |_: web_sys::Event| {
        if let Ok(db) = upgrade_request.result().and_then(|r| r.dyn_into::<IdbDatabase>().map_err(JsValue::from)) {
            // A failure here surfaces as the open request's error.
            let _ = db.create_object_store(STORE);
        }
    });
    request.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
    done(&request).await?.dyn_into::<IdbDatabase>().map_err(|_| "IndexedDB returned no database".to_string())
}

/// The cached text under `key`, if any.
pub async fn get(key: &str) -> Result<Option<String>, String> {
    let db = open().await?;
    let store = db.transaction_with_str(STORE).and_then(|t| t.object_store(STORE)).map_err(js_err)?;
    let value = done(&store.get(&JsValue::from_str(key)).map_err(js_err)?).await?;
    Ok(value.as_string())
}

pub async fn put(key: &str, text: &str) -> Result<(), String> {
    let db = open().await?;
    let store = db
        .transaction_with_str_and_mode(STORE, IdbTransactionMode::Readwrite)
        .and_then(|t| t.object_store(STORE))
        .map_err(js_err)?;
    done(&store.put_with_key(&JsValue::from_str(text), &JsValue::from_str(key)).map_err(js_err)?).await.map(|_| ())
}

/// Removes the weights under `key` (one catalog's, one seed's): the other catalog keeps its own.
pub async fn delete(key: &str) -> Result<(), String> {
    let db = open().await?;
    let store = db
        .transaction_with_str_and_mode(STORE, IdbTransactionMode::Readwrite)
        .and_then(|t| t.object_store(STORE))
        .map_err(js_err)?;
    done(&store.delete(&JsValue::from_str(key)).map_err(js_err)?).await.map(|_| ())
}
