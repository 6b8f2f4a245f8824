//! The visitor's history file: what the page keeps in localStorage, what Export writes and what
//! Import reads. Import validates everything before anything is replaced, and every error names
//! the place (JSON line and column, or the field of the play) and the reason.

use crate::catalog::Catalog;
use crate::{Catalog as Kind, Play};
use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "skipwise-history";
/// Version 2 stores each play's own threshold and like (labels fixed when the play happened);
/// version 1 files (one threshold for the whole file, likes stored as longer plays) are migrated.
pub const VERSION: u32 = 2;
/// At most this many plays are kept; beyond it the oldest are dropped (and counted in `dropped`).
pub const MAX_PLAYS: usize = 20_000;
/// A history file larger than this is refused before it is read: 20 000 plays with weights take
/// about 3 MB, so nothing an Export writes comes near it.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    pub format: String,
    pub version: u32,
    pub catalog: Kind,
    /// The threshold the page was set to when this was written (the next play's threshold).
    pub skip_secs: f32,
    pub plays: Vec<Play>,
    /// Plays dropped from the front since the history reached [`MAX_PLAYS`].
    #[serde(default)]
    pub dropped: u64,
    /// Export only: both models' warm-start weights as the worker wrote them (opaque here; the
    /// worker checks them when they are used, and trains afresh if they do not fit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm: Option<String>,
}

/// Both models' weights after the first `events` plays of a history (the worker's `Snapshot`),
/// cached by the page so that a reload relearns only the plays since, not the whole history.
/// `fingerprint` is [`fingerprint`] of those plays: weights learnt from another history (an
/// import, a reset, plays dropped at the cap) do not match and are not used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearntWeights {
    pub events: u32,
    pub fingerprint: u64,
    /// Opaque text for `Request::Start::warm`.
    pub weights: String,
}

impl LearntWeights {
    /// How many of `plays` these weights have learnt, if they were learnt from `plays`' start.
    pub fn covers(&self, plays: &[Play]) -> Option<u32> {
        let n = self.events as usize;
        (n > 0 && n <= plays.len() && fingerprint(&plays[..n]) == self.fingerprint).then_some(self.events)
    }
}

/// FNV-1a over every field of every play, in order.
pub fn fingerprint(plays: &[Play]) -> u64 {
    let mut h = crate::fnv::Fnv1a::default();
    for p in plays {
        h.eat(&p.item.to_le_bytes());
        for v in [p.played_secs, p.duration_secs, p.skip_secs] {
            h.eat(&v.to_bits().to_le_bytes());
        }
        h.eat(&[p.liked as u8]);
    }
    h.finish()
}

/// What every version has in common: read first, so that the version decides the rest.
#[derive(Deserialize)]
struct Header {
    format: String,
    version: u32,
}

#[derive(Deserialize)]
struct PlayV1 {
    item: u64,
    played_secs: f32,
    duration_secs: f32,
}

#[derive(Deserialize)]
struct SavedV1 {
    catalog: Kind,
    skip_secs: f32,
    plays: Vec<PlayV1>,
    #[serde(default)]
    warm: Option<String>,
}

impl Saved {
    pub fn new(catalog: Kind, skip_secs: f32, plays: Vec<Play>) -> Self {
        Self { format: FORMAT.into(), version: VERSION, catalog, skip_secs, plays, dropped: 0, warm: None }
    }

    pub fn to_json(&self) -> String {
        // Serialising plain numbers and strings cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Refuses, before any parsing, a text too large to be a history or holding more plays than
    /// the page keeps (counted by their `"item"` keys, which costs one scan, not a parse).
    pub fn precheck(text: &str) -> Result<(), String> {
        check_size(text.len() as u64)?;
        let plays = text.matches("\"item\"").count();
        if plays > MAX_PLAYS {
            return Err(format!("the file holds about {plays} plays; this page keeps at most {MAX_PLAYS}"));
        }
        Ok(())
    }

    /// Reads an exported or stored history of any version this page knows (version 1 is migrated);
    /// structure and numbers are checked here, item ids by [`Saved::check_items`] once the file's
    /// catalog is at hand.
    pub fn parse(text: &str) -> Result<Self, String> {
        Self::precheck(text)?;
        let header: Header = serde_json::from_str(text).map_err(|e| format!("not a Skipwise history file: {e}"))?;
        if header.format != FORMAT {
            return Err(format!("field `format`: expected \"{FORMAT}\", found {:?}", header.format));
        }
        let saved = match header.version {
            1 => {
                let v1: SavedV1 = serde_json::from_str(text).map_err(|e| format!("not a Skipwise history file (version 1): {e}"))?;
                // Version 1 labelled every play with the file's one threshold, and stored a like
                // as a play lengthened to that threshold: both survive as they were labelled.
                let plays = v1
                    .plays
                    .into_iter()
                    .map(|p| Play { item: p.item, played_secs: p.played_secs, duration_secs: p.duration_secs, skip_secs: v1.skip_secs, liked: false })
                    .collect();
                Saved { warm: v1.warm, ..Saved::new(v1.catalog, v1.skip_secs, plays) }
            }
            VERSION => serde_json::from_str(text).map_err(|e| format!("not a Skipwise history file: {e}"))?,
            v => return Err(format!("field `version`: this page reads versions 1 and {VERSION}, the file is version {v}")),
        };
        check_secs("skip_secs", saved.skip_secs)?;
        if saved.plays.len() > MAX_PLAYS {
            return Err(format!("field `plays`: {} plays; this page keeps at most {MAX_PLAYS}", saved.plays.len()));
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
            check_secs(&format!("plays[{i}].skip_secs"), p.skip_secs)?;
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

/// A file of `bytes` bytes may be read as a history (checked before reading it).
pub fn check_size(bytes: u64) -> Result<(), String> {
    match bytes > MAX_FILE_BYTES {
        true => Err(format!(
            "the file is {:.1} MB; a Skipwise history is at most {} MB",
            bytes as f64 / 1_048_576.0,
            MAX_FILE_BYTES / 1_048_576
        )),
        false => Ok(()),
    }
}

fn check_secs(field: &str, v: f32) -> Result<(), String> {
    match v.is_finite() && (0.0..=600.0).contains(&v) {
        true => Ok(()),
        false => Err(format!("field `{field}`: {v} is not a number of seconds in 0–600")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_round_trips() {
        let mut saved = Saved::new(Kind::Movies, 7.5, vec![play(3, 2.0, 150.0), Play { liked: true, ..play(4, 1.0, 90.0) }]);
        saved.dropped = 12;
        saved.warm = Some("[1, 2]".into());
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
        let text = r#"{"format":"skipwise-history","version":2,"catalog":"music","skip_secs":10,
            "plays":[{"item":1,"played_secs":3,"duration_secs":100,"skip_secs":900,"liked":false}]}"#;
        assert_eq!(Saved::parse(text).unwrap_err(), "field `plays[0].skip_secs`: 900 is not a number of seconds in 0–600");
        let err = Saved::parse(r#"{"format":"skipwise-history","version":3,"catalog":"music"}"#).unwrap_err();
        assert_eq!(err, "field `version`: this page reads versions 1 and 2, the file is version 3");
    }

    fn play(item: u64, played_secs: f32, duration_secs: f32) -> Play {
        Play { item, played_secs, duration_secs, skip_secs: 10.0, liked: false }
    }

    #[test]
    fn version_1_is_migrated_with_the_files_threshold() {
        let text = r#"{"format":"skipwise-history","version":1,"catalog":"movies","skip_secs":6,
            "plays":[{"item":1,"played_secs":3,"duration_secs":100},{"item":2,"played_secs":50,"duration_secs":100}],"warm":"[]"}"#;
        let saved = Saved::parse(text).expect("a version 1 file");
        assert_eq!(saved.version, VERSION);
        assert_eq!(saved.catalog, Kind::Movies);
        assert_eq!(saved.warm.as_deref(), Some("[]"));
        let six = |p: Play| Play { skip_secs: 6.0, ..p };
        assert_eq!(saved.plays, vec![six(play(1, 3.0, 100.0)), six(play(2, 50.0, 100.0))]);
    }

    #[test]
    fn huge_files_are_refused_before_parsing() {
        assert_eq!(check_size(50 * 1024 * 1024).unwrap_err(), "the file is 50.0 MB; a Skipwise history is at most 8 MB");
        assert!(check_size(MAX_FILE_BYTES).is_ok());
        // 100 000 plays in compact JSON are under 8 MB, and are refused by their count, with it,
        // even though the text is not even valid JSON past the first play.
        let one = r#"{"item":1,"played_secs":3,"duration_secs":100,"skip_secs":10,"liked":false},"#;
        let text = format!(r#"{{"format":"skipwise-history","version":2,"catalog":"music","skip_secs":10,"plays":[{}"#, one.repeat(100_000));
        assert!((text.len() as u64) < MAX_FILE_BYTES);
        assert_eq!(Saved::parse(&text).unwrap_err(), "the file holds about 100000 plays; this page keeps at most 20000");
    }

    #[test]
    fn unknown_items_are_named() {
        let catalog: Catalog = serde_json::from_str(
            r#"{"genres":["A"],"items":[{"id":1,"title":"T","creator":"C","genre":"A","genre_index":0,"mood":"calm",
            "tempo_bpm":90,"year":null,"runtime_min":null,"duration_secs":100,"hue":10}]}"#,
        )
        .expect("catalog");
        let saved = Saved::new(Kind::Music, 10.0, vec![play(1, 1.0, 100.0), play(9, 1.0, 100.0)]);
        assert_eq!(saved.check_items(&catalog).unwrap_err(), "plays[1].item: 9 is not in the music catalog (1 items)");
    }

    #[test]
    fn learnt_weights_cover_only_the_history_they_were_learnt_from() {
        let play = |item: u64, secs: f32| Play { item, played_secs: secs, duration_secs: 200.0, skip_secs: 10.0, liked: false };
        let plays: Vec<Play> = (1..=12).map(|i| play(i, 3.0 * i as f32)).collect();
        let w = LearntWeights { events: 10, fingerprint: fingerprint(&plays[..10]), weights: String::new() };
        assert_eq!(w.covers(&plays), Some(10));
        assert_eq!(w.covers(&plays[..10]), Some(10));
        assert_eq!(w.covers(&plays[..9]), None, "fewer plays than learnt: a reset or another history");
        let mut changed = plays.clone();
        changed[4].played_secs += 1.0;
        assert_eq!(w.covers(&changed), None, "another play at the same place");
        assert_eq!(w.covers(&plays[1..]), None, "the oldest play dropped");
        assert_eq!(LearntWeights { events: 0, ..w.clone() }.covers(&plays), None);
    }
}
