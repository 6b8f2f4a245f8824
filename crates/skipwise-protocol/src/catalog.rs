//! The demo catalog file format (`www/catalog/<name>.json`, written by `skipwise catalog` from the
//! core's simulator): the fields the page shows. Here, not in the page, so that it is tested natively
//! without compiling the page's UI.

use serde::{Deserialize, Serialize};

/// An item as the page shows it. The file also carries each item's latent vector, which only the
/// simulator needs: `skipwise_core::catalog::CatalogItem` is this plus that vector, so the
/// generator and the page read one definition of the fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// External id: simulator index + 1 (0 is the model's padding row).
    pub id: u64,
    pub title: String,
    /// Artist (music) or director (movies).
    pub creator: String,
    pub genre: String,
    pub genre_index: usize,
    /// A word for the item's mood position inside its genre.
    pub mood: String,
    /// Music only: beats per minute of the synthesised clip.
    pub tempo_bpm: Option<u32>,
    /// Movies only.
    pub year: Option<u32>,
    pub runtime_min: Option<u32>,
    /// Length of what the player plays (the track, or the movie's trailer), seconds.
    pub duration_secs: f32,
    /// Colour of the generated cover or poster, degrees on the colour wheel.
    pub hue: u32,
}

impl Item {
    /// "Artist · Genre · mood" or "Director · 1978 · Drama".
    pub fn byline(&self) -> String {
        match self.year {
            Some(year) => format!("{} · {year} · {}", self.creator, self.genre),
            None => format!("{} · {} · {}", self.creator, self.genre, self.mood),
        }
    }

    /// The generated cover or poster: two hues of the item's colour.
    pub fn cover_style(&self) -> String {
        let h = self.hue;
        format!("background: linear-gradient(135deg, hsl({h} 70% 55%), hsl({} 60% 30%))", (h + 40) % 360)
    }

    pub fn initials(&self) -> String {
        self.title.split_whitespace().filter(|w| *w != "The" && *w != "of").filter_map(|w| w.chars().next()).take(2).collect()
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Catalog {
    pub genres: Vec<String>,
    pub items: Vec<Item>,
}

impl Catalog {
    pub fn get(&self, id: u64) -> Option<&Item> {
        // Ids are dense from 1; fall back to a search should a file ever not be.
        self.items.get((id as usize).wrapping_sub(1)).filter(|i| i.id == id).or_else(|| self.items.iter().find(|i| i.id == id))
    }
}
