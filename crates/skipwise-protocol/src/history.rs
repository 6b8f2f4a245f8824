//! The visitor's history file: what the page keeps in localStorage, what Export writes and what
//! Import reads. Import validates everything before anything is replaced, and every error names
//! the place (JSON line and column, or the field of the play) and the reason.

use crate::catalog::Catalog;
use crate::{Catalog as Kind, Play};
use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "skipwise-history";
pub const VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    pub format: String,
    pub version: u32,
    pub catalog: Kind,
    pub skip_secs: f32,
    pub plays: Vec<Play>,
    /// Export only: both models' warm-start weights as the worker wrote them (opaque here; the
    /// worker checks them when they are used, and trains afresh if they do not fit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm: Option<String>,
}

impl Saved {
    pub fn new(catalog: Kind, skip_secs: f32, plays: Vec<Play>) -> Self {
        Self { format: FORMAT.into(), version: VERSION, catalog, skip_secs, plays, warm: None }
    }

    pub fn to_json(&self) -> String {
        // Serialising plain numbers and strings cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads an exported file; structure and numbers are checked here, item ids by
    /// [`Saved::check_items`] once the file's catalog is at hand.
    pub fn parse(text: &str) -> Result<Self, String> {
        let saved: Saved = serde_json::from_str(text).map_err(|e| format!("not a Skipwise history file: {e}"))?;
        if saved.format != FORMAT {
            return Err(format!("field `format`: expected \"{FORMAT}\", found {:?}", saved.format));
        }
        if saved.version != VERSION {
            return Err(format!("field `version`: this page reads version {VERSION}, the file is version {}", saved.version));
        }
        if !(saved.skip_secs.is_finite() && (0.0..=600.0).contains(&saved.skip_secs)) {
            return Err(format!("field `skip_secs`: {} is not a number of seconds in 0–600", saved.skip_secs));
        }
        if let Some(w) = &saved.warm {
            if serde_json::from_str::<serde_json::Value>(w).is_err() {
                return Err("field `warm`: the weights are not readable JSON".into());
            }
        }
        for (i, p) in saved.plays.iter().enumerate() {
            for (field, v) in [("played_secs", p.played_secs), ("duration_secs", p.duration_secs)] {
                if !(v.is_finite() && v >= 0.0) {
                    return Err(format!("plays[{i}].{field}: {v} is not a finite number ≥ 0"));
                }
            }
        }
        Ok(saved)
    }

    /// Every play must name an item of the file's catalog.
    pub fn check_items(&self, catalog: &Catalog) -> Result<(), String> {
        match self.plays.iter().enumerate().find(|(_, p)| catalog.get(p.item).is_none()) {
            Some((i, p)) => Err(format!(
                "plays[{i}].item: {} is not in the {} catalog ({} items)",
                p.item,
                self.catalog.name(),
                catalog.items.len()
            )),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_round_trips() {
        let saved = Saved::new(Kind::Movies, 7.5, vec![Play { item: 3, played_secs: 2.0, duration_secs: 150.0 }]);
        assert_eq!(Saved::parse(&saved.to_json()), Ok(saved));
    }

    #[test]
    fn bad_files_say_where() {
        let err = Saved::parse("{\"format\": \"skipwise-history\",\n \"version\": 1,\n \"catalog\": \"music\", oops}").unwrap_err();
        assert!(err.contains("line 3"), "{err}");
        let err = Saved::parse(r#"{"format":"x","version":1,"catalog":"music","skip_secs":10,"plays":[]}"#).unwrap_err();
        assert!(err.contains("`format`"), "{err}");
        let text = r#"{"format":"skipwise-history","version":1,"catalog":"music","skip_secs":10,
            "plays":[{"item":1,"played_secs":3,"duration_secs":100},{"item":2,"played_secs":-1,"duration_secs":100}]}"#;
        assert_eq!(Saved::parse(text).unwrap_err(), "plays[1].played_secs: -1 is not a finite number ≥ 0");
    }

    #[test]
    fn unknown_items_are_named() {
        let catalog: Catalog = serde_json::from_str(
            r#"{"genres":["A"],"items":[{"id":1,"title":"T","creator":"C","genre":"A","genre_index":0,"mood":"calm",
            "tempo_bpm":90,"year":null,"runtime_min":null,"duration_secs":100,"hue":10}]}"#,
        )
        .expect("catalog");
        let saved = Saved::new(Kind::Music, 10.0, vec![Play { item: 1, played_secs: 1.0, duration_secs: 100.0 }, Play { item: 9, played_secs: 1.0, duration_secs: 100.0 }]);
        assert_eq!(saved.check_items(&catalog).unwrap_err(), "plays[1].item: 9 is not in the music catalog (1 items)");
    }
}
