//! The page's demo catalogs: invented music tracks and movies laid over the listener simulator.
//!
//! Each catalog *is* a [`Simulator`] item list with names and metadata attached, so an item's
//! genre, mood position, duration and latent taste vector are exactly the ones the simulator uses
//! to generate the warm-start sessions the page trains on. Titles, artists and directors are
//! assembled from word lists here (no third-party content). `skipwise catalog` writes them to
//! `www/catalog/*.json`, and a test checks that the shipped files equal this generator's output.

use crate::rng::Rng;
use crate::sim::{SimConfig, Simulator};
use skipwise_protocol::catalog::Item;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CatalogKind {
    Music,
    Movies,
}

impl CatalogKind {
    pub const ALL: [CatalogKind; 2] = [CatalogKind::Music, CatalogKind::Movies];

    pub fn name(self) -> &'static str {
        match self {
            CatalogKind::Music => "music",
            CatalogKind::Movies => "movies",
        }
    }

    pub fn genres(self) -> &'static [&'static str] {
        match self {
            CatalogKind::Music => {
                &["Ambient", "Synthwave", "Folk", "Jazz", "Techno", "Lo-fi", "Classical", "Funk", "Metal", "Reggae"]
            }
            CatalogKind::Movies => {
                &["Comedy", "Drama", "Sci-fi", "Horror", "Romance", "Western", "Animation", "Documentary"]
            }
        }
    }

    /// The simulator behind the catalog. Its curiosity share is the page's default persona: one
    /// click in three is a skip, as in the paper's music data.
    pub fn sim_config(self) -> SimConfig {
        let (n_items, seed) = match self {
            CatalogKind::Music => (300, 11),
            CatalogKind::Movies => (200, 12),
        };
        SimConfig {
            n_items,
            n_genres: self.genres().len(),
            n_listeners: 120,
            sessions_per_listener: 4,
            fp_share: 0.3,
            seed,
            ..SimConfig::default()
        }
    }
}

/// An item of a demo catalog: what the page shows (`skipwise_protocol`'s [`Item`], the one
/// definition of those fields) and the simulator's latent taste vector (genre one-hot, mood on a
/// circle), flattened into one JSON object per item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogItem {
    #[serde(flatten)]
    pub shown: Item,
    pub latent: Vec<f32>,
}

impl std::ops::Deref for CatalogItem {
    type Target = Item;
    fn deref(&self) -> &Item {
        &self.shown
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    pub kind: CatalogKind,
    pub genres: Vec<String>,
    pub items: Vec<CatalogItem>,
}

const MOODS: [&str; 6] = ["calm", "warm", "bright", "playful", "dark", "driving"];
const WORDS_A: [&str; 24] = [
    "Silver", "Hollow", "Paper", "Velvet", "Neon", "Quiet", "Broken", "Golden", "Northern", "Static", "Lucky", "Crimson",
    "Distant", "Wild", "Glass", "Electric", "Midnight", "Tender", "Iron", "Rusty", "Lunar", "Saffron", "Amber", "Cobalt",
];
const WORDS_B: [&str; 24] = [
    "Harbor", "Orchard", "Signal", "Lantern", "Meadow", "Engine", "River", "Avenue", "Comet", "Garden", "Mirror", "Canyon",
    "Satellite", "Parade", "Window", "Horizon", "Fever", "Kingdom", "Compass", "Echo", "Cathedral", "Desert", "Tide", "Circuit",
];
const FIRST: [&str; 16] = [
    "Ada", "Bruno", "Cleo", "Dara", "Emil", "Fenna", "Gus", "Hana", "Ivo", "Juno", "Kai", "Lotte", "Milo", "Nina", "Otto", "Pia",
];
const LAST: [&str; 16] = [
    "Vance", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Reyes", "Holm", "Castell", "Duarte", "Novak", "Ferri", "Abara",
    "Quist", "Sato", "Brandt", "Kell",
];
const BANDS: [&str; 8] = ["the Lanterns", "Low Orbit", "Paper Kites Club", "Northbound", "Velvet Static", "the Comets", "Glasshouse", "Tidal"];

/// The catalog of `kind`, deterministic (same every build, every machine).
pub fn catalog(kind: CatalogKind) -> Catalog {
    let sim = Simulator::new(kind.sim_config());
    let genres = kind.genres();
    // Names have their own stream, so renaming never changes the simulator's items.
    let mut rng = Rng::new(0xCA7A_106 ^ sim.config.seed);
    let mut used = std::collections::HashSet::new();
    let items = sim
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let mut title = String::new();
            let variant = rng.below(4);
            for attempt in 0.. {
                let a = WORDS_A[rng.below(WORDS_A.len())];
                let b = WORDS_B[rng.below(WORDS_B.len())];
                title = match (kind, (attempt + variant) % 4) {
                    (CatalogKind::Movies, 0) => format!("The {a} {b}"),
                    (CatalogKind::Movies, 1) => format!("{b} of {a} Days"),
                    (CatalogKind::Music, 1) => format!("{a} {b} (Reprise)"),
                    _ => format!("{a} {b}"),
                };
                if used.insert(title.clone()) || attempt > 40 {
                    break;
                }
            }
            let person = format!("{} {}", FIRST[rng.below(FIRST.len())], LAST[rng.below(LAST.len())]);
            let creator = match kind {
                CatalogKind::Music if rng.chance(0.3) => BANDS[rng.below(BANDS.len())].to_string(),
                _ => person,
            };
            let mood = MOODS[((it.mood * MOODS.len() as f32) as usize).min(MOODS.len() - 1)].to_string();
            // Genres own a sector of the colour wheel; the mood moves the hue inside it.
            let hue = ((it.genre as f32 + 0.8 * it.mood) * 360.0 / genres.len() as f32) as u32 % 360;
            let (tempo_bpm, year, runtime_min) = match kind {
                CatalogKind::Music => (Some(60 + (it.mood * 110.0) as u32 + 4 * it.genre as u32), None, None),
                CatalogKind::Movies => (None, Some(1950 + rng.below(75) as u32), Some(80 + rng.below(80) as u32)),
            };
            let shown = Item {
                id: i as u64 + 1,
                title,
                creator,
                genre: genres[it.genre % genres.len()].to_string(),
                genre_index: it.genre,
                mood,
                tempo_bpm,
                year,
                runtime_min,
                duration_secs: it.duration_secs.round(),
                hue,
            };
            CatalogItem { shown, latent: it.latent.iter().map(|v| (v * 1000.0).round() / 1000.0).collect() }
        })
        .collect();
    Catalog { kind, genres: genres.iter().map(|g| g.to_string()).collect(), items }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogs_are_big_enough_and_match_the_simulator() {
        for (kind, min) in [(CatalogKind::Music, 300), (CatalogKind::Movies, 200)] {
            let c = catalog(kind);
            assert!(c.items.len() >= min);
            let sim = Simulator::new(kind.sim_config());
            for (item, s) in c.items.iter().zip(&sim.items) {
                assert_eq!(item.genre_index, s.genre);
                assert_eq!(item.genre, c.genres[s.genre]);
            }
            let titles: std::collections::HashSet<_> = c.items.iter().map(|i| &i.title).collect();
            assert!(titles.len() * 10 >= c.items.len() * 9, "{kind:?}: too many repeated titles");
        }
    }

    /// The files the page loads are this generator's output, byte for byte
    /// (regenerate with `skipwise catalog`).
    #[test]
    fn shipped_catalog_files_are_current() {
        let shipped = [
            (CatalogKind::Music, include_str!("../../../www/catalog/music.json")),
            (CatalogKind::Movies, include_str!("../../../www/catalog/movies.json")),
        ];
        for (kind, text) in shipped {
            let expected = serde_json::to_string(&catalog(kind)).expect("serialises");
            assert!(text.trim_end() == expected, "www/catalog/{}.json is stale: run `skipwise catalog`", kind.name());
        }
    }
}
