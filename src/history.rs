//! The visitor's history in this browser: localStorage for the saved plays (the file format and its
//! checks live in `skipwise_protocol::history`) and sessionStorage for a GPU that failed in this tab.
//! A saved history that no longer reads is never overwritten: it is moved aside under its own key
//! first, and stays there until the visitor downloads or discards it.

pub use skipwise_protocol::history::Saved;
use skipwise_protocol::Catalog as Kind;

fn storage() -> Result<web_sys::Storage, String> {
    let window = web_sys::window().ok_or("no window")?;
    match window.local_storage() {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err("this browser offers no local storage".into()),
        Err(e) => Err(format!("local storage is blocked ({})", js_text(&e))),
    }
}

fn js_text(e: &wasm_bindgen::JsValue) -> String {
    js_sys::Reflect::get(e, &"message".into()).ok().and_then(|m| m.as_string()).or_else(|| e.as_string()).unwrap_or_else(|| format!("{e:?}"))
}

fn key(kind: Kind) -> String {
    format!("skipwise.history.{}", kind.name())
}

const ASIDE: &str = "skipwise.unreadable.";

/// What was found under a catalog's key.
pub enum Loaded {
    Nothing,
    Saved(Saved),
    /// It did not read; it was moved aside under `aside` (or, if even that failed, left where it
    /// was, and `aside` is `None`: then nothing may be saved over it).
    Unreadable { why: String, aside: Option<String> },
}

/// The saved history of `kind`.
pub fn load_local(kind: Kind) -> Result<Loaded, String> {
    let s = storage()?;
    let Some(text) = s.get_item(&key(kind)).map_err(|e| js_text(&e))? else { return Ok(Loaded::Nothing) };
    match Saved::parse(&text) {
        Ok(saved) => Ok(Loaded::Saved(saved)),
        Err(e) => {
            let why = format!("the saved {} history could not be read: {e}", kind.name());
            let aside = format!("{ASIDE}{}.{}", kind.name(), js_sys::Date::now() as u64);
            let moved = s.set_item(&aside, &text).is_ok() && s.remove_item(&key(kind)).is_ok();
            Ok(Loaded::Unreadable { why, aside: moved.then_some(aside) })
        }
    }
}

/// The histories kept aside for `kind`, oldest first (their keys).
pub fn kept_aside(kind: Kind) -> Vec<String> {
    let Ok(s) = storage() else { return Vec::new() };
    let prefix = format!("{ASIDE}{}.", kind.name());
    let mut keys: Vec<String> = (0..s.length().unwrap_or(0)).filter_map(|i| s.key(i).ok().flatten()).filter(|k| k.starts_with(&prefix)).collect();
    keys.sort();
    keys
}

pub fn read_raw(key: &str) -> Option<String> {
    storage().ok()?.get_item(key).ok()?
}

pub fn remove_raw(key: &str) -> Result<(), String> {
    storage()?.remove_item(key).map_err(|e| js_text(&e))
}

/// The key a catalog's history is saved under.
pub fn main_key(kind: Kind) -> String {
    key(kind)
}

pub fn save_local(saved: &Saved) -> Result<(), String> {
    storage()?
        .set_item(&key(saved.catalog), &serde_json::to_string(saved).unwrap_or_default())
        .map_err(|e| format!("storage full or blocked: {}", js_text(&e)))
}

pub fn clear_local(kind: Kind) -> Result<(), String> {
    storage()?.remove_item(&key(kind)).map_err(|e| js_text(&e))
}

/// Which catalog the visitor used last.
pub fn last_catalog() -> Kind {
    let stored = storage().ok().and_then(|s| s.get_item("skipwise.catalog").ok().flatten());
    match stored.as_deref() {
        Some("movies") => Kind::Movies,
        _ => Kind::Music,
    }
}

pub fn set_last_catalog(kind: Kind) {
    if let Ok(s) = storage() {
        // Only a preference: losing it costs the visitor one click.
        s.set_item("skipwise.catalog", kind.name()).ok();
    }
}

/// Why WebGPU failed earlier in this tab, if it did: a reload then starts on the CPU at once
/// instead of failing the same way again (sessionStorage: a new tab tries the GPU again).
pub fn gpu_failure() -> Option<String> {
    let s = web_sys::window()?.session_storage().ok()??;
    s.get_item("skipwise.gpu_failed").ok()?
}

pub fn set_gpu_failure(reason: &str) {
    if let Some(s) = web_sys::window().and_then(|w| w.session_storage().ok().flatten()) {
        // Best effort: without it a reload only tries the GPU once more.
        s.set_item("skipwise.gpu_failed", reason).ok();
    }
}
