//! The visitor's history in this browser: localStorage for the saved plays (the file format and its
//! checks live in `skipwise_protocol::history`) and sessionStorage for a GPU that failed in this tab.

pub use skipwise_protocol::history::Saved;
use skipwise_protocol::Catalog as Kind;

fn storage() -> Result<web_sys::Storage, String> {
    let window = web_sys::window().ok_or("no window")?;
    match window.local_storage() {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err("this browser offers no local storage".into()),
        Err(e) => Err(format!("local storage is blocked ({e:?})")),
    }
}

fn key(kind: Kind) -> String {
    format!("skipwise.history.{}", kind.name())
}

/// The saved history of `kind`; `Ok(None)` when there is none. A stored value that no longer
/// parses is reported, not silently dropped.
pub fn load_local(kind: Kind) -> Result<Option<Saved>, String> {
    let Some(text) = storage()?.get_item(&key(kind)).map_err(|e| format!("{e:?}"))? else { return Ok(None) };
    Saved::parse(&text).map(Some).map_err(|e| format!("the saved {} history could not be read: {e}", kind.name()))
}

pub fn save_local(saved: &Saved) -> Result<(), String> {
    storage()?
        .set_item(&key(saved.catalog), &serde_json::to_string(saved).unwrap_or_default())
        .map_err(|e| format!("your history could not be saved (storage full or blocked: {e:?}); it is kept in this tab"))
}

pub fn clear_local(kind: Kind) -> Result<(), String> {
    storage()?.remove_item(&key(kind)).map_err(|e| format!("{e:?}"))
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
