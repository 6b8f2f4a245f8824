//! The Lab's wasm (`skipwise_page::mount_lab`), loaded by `www/lab-page.js` when the Lab tab
//! first opens.

fn main() {
    skipwise_page::mount_lab();
}
