//! The Skipwise page as a library of two entry points, each its own wasm: the player
//! ([`mount_player`], bin `skipwise-page`, what a first visit loads) and the Lab
//! ([`mount_lab`], bin `skipwise-lab-page`, loaded the first time the Lab tab opens by
//! `www/lab-page.js`), so that the Lab's views never weigh on the player's first visit.

mod app;
mod audio;
mod autopilot;
mod cache;
mod catalog;
mod codec_bench;
mod conversation;
mod files;
mod history;
mod lab;
mod lab_loader;
mod map;
mod player;
mod state;
mod storage;
mod tour;
mod worker_client;

/// Mounts the player page (the tabs, the player, the lists) on the body.
pub fn mount_player() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}

/// Mounts the Lab into the player's `#lab-root` (see [`lab_loader`]), or says why it cannot.
pub fn mount_lab() {
    console_error_panic_hook::set_once();
    lab_loader::mount();
}
