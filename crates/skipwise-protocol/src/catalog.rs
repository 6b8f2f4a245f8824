//! The demo catalog file format (`www/catalog/<name>.json`, written by `skipwise catalog` from the
//! core's simulator): the fields the page shows. Here, not in the page, so that it is tested natively
//! without compiling the page's UI.

use serde::Deserialize;

/// The fields the page shows; the file also carries the latent vectors, which only the worker's
/// simulator needs.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Item {
    pub id: u64,
    pub title: String,
    pub creator: String,
    pub genre: String,
    pub genre_index: usize,
    pub mood: String,
    pub tempo_bpm: Option<u32>,
    pub year: Option<u32>,
    pub runtime_min: Option<u32>,
    pub duration_secs: f32,
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
