//! `warm-weights`: the page's shipped warm start. A first visit at the default seed loads these
//! files instead of training its two models for `WARM_STEPS` steps in the browser (5–7 s on
//! the CPU path); the weights are the worker's own `Player` after the same steps, natively.

use crate::cli::WarmWeightsArgs;
use skipwise_core::burn::tensor::Device;
use skipwise_protocol::{Catalog, DEFAULT_SEED, DEFAULT_SKIP_SECS, WARM_STEPS, warm_key};
use skipwise_worker::player::Player;

pub fn warm_weights(args: &WarmWeightsArgs) -> Result<(), String> {
    let out = &args.out;
    std::fs::create_dir_all(out).map_err(|e| format!("{out}: {e}"))?;
    for catalog in [Catalog::Music, Catalog::Movies] {
        let path = format!("{out}/{}.json", warm_key(catalog, DEFAULT_SEED, WARM_STEPS));
        let text = make(catalog)?;
        let kb = text.len() / 1024;
        crate::commands::write_text(&path, text)?;
        println!("{path}: {kb} KB ({WARM_STEPS} steps, seed {DEFAULT_SEED})");
    }
    Ok(())
}

/// Both models' weights after the page's warm start at its defaults, as the page caches them.
fn make(catalog: Catalog) -> Result<String, String> {
    let mut player = Player::new(catalog, DEFAULT_SKIP_SECS, DEFAULT_SEED, &Device::flex()).map_err(|e| e.to_string())?;
    player.warm_start_sync(WARM_STEPS as usize).map_err(|e| e.to_string())?;
    player.warm_text_sync().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use skipwise_core::weights::Weights;

    /// The weights the page ships are what this command makes now, within 1e-5: a change to the
    /// models, the simulator or the warm start that is not followed by `skipwise warm-weights`
    /// fails here rather than serving stale weights.
    #[test]
    fn the_shipped_warm_start_is_what_the_cli_makes() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/warm");
        for catalog in [Catalog::Music, Catalog::Movies] {
            let path = format!("{dir}/{}.json", warm_key(catalog, DEFAULT_SEED, WARM_STEPS));
            let shipped = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e} (run ./scripts/skipwise warm-weights)"));
            let shipped: [Weights; 2] = serde_json::from_str(&shipped).expect("shipped weights parse");
            let made: [Weights; 2] = serde_json::from_str(&make(catalog).expect("warm start")).expect("made weights parse");
            for (s, m) in shipped.iter().zip(&made) {
                assert_eq!(s.shapes, m.shapes, "{path}: shapes");
                let worst = s.values.iter().flatten().zip(m.values.iter().flatten()).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
                assert!(worst <= 1e-5, "{path}: differs by up to {worst} from what `skipwise warm-weights` makes now");
            }
        }
    }
}
