//! The Lab's two halves: the player's wasm keeps only an empty `#lab-root` and starts
//! `www/lab-page.js` the first time the tab opens; that script fetches the Lab's own wasm
//! (bin `skipwise-lab-page`), whose `main` mounts [`crate::lab::LabTab`] there. Two Leptos
//! apps share nothing but that element: the Lab never reads the player's state.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Where the Lab's wasm mounts; what the player's side shows until it has.
const ROOT: &str = "lab-root";

/// The player's side: an element for the Lab and the script that loads it (added once, as
/// this component is built once: the tab keeps it after its first opening).
#[component]
pub fn LabRoot() -> impl IntoView {
    let root = NodeRef::<leptos::html::Div>::new();
    root.on_load(|_| {
        if let Err(e) = start_script() {
            leptos::logging::error!("the Lab could not start: {e}");
        }
    });
    view! {
        <div id=ROOT node_ref=root>
            <p class="lab-loading" role="status">"Loading the Lab…"</p>
        </div>
    }
}

fn start_script() -> Result<(), String> {
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let script = document.create_element("script").map_err(|e| format!("{e:?}"))?;
    script.set_attribute("src", "./lab-page.js").map_err(|e| format!("{e:?}"))?;
    document.body().ok_or("no body")?.append_child(&script).map_err(|e| format!("{e:?}"))?;
    Ok(())
}

/// The Lab's side: replaces the placeholder with the Lab.
pub fn mount() {
    let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(ROOT)) else {
        leptos::logging::error!("the Lab's wasm found no #{ROOT} to mount in");
        return;
    };
    root.set_inner_html("");
    match root.dyn_into::<web_sys::HtmlElement>() {
        Ok(root) => leptos::mount::mount_to(root, crate::lab::LabTab).forget(),
        Err(_) => leptos::logging::error!("#{ROOT} is not an HTML element"),
    }
}
