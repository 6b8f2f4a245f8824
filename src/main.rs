//! The player page's wasm (`skipwise_page::mount_player`).

fn main() {
    skipwise_page::mount_player();
}
