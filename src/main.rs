//! Mounts the Skipwise page; everything else lives in the modules below.

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
mod map;
mod player;
mod state;
mod storage;
mod tour;
mod worker_client;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
