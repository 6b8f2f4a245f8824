//! The page's state in its address, so a view can be shared or bookmarked:
//! `?catalog=movies&threshold=8&speed=10&persona=2&curiosity=20&seed=7`. Values outside their
//! range are clamped (or ignored) with a note the page shows, never a stuck page. `warm` (the
//! warm-start length) and `fault` (test-only faults) are read too and written back as they came.

use skipwise_protocol::{Catalog, Fault};

pub const THRESHOLD_RANGE: (f32, f32) = (1.0, 30.0);
pub const SPEEDS: [f32; 3] = [1.0, 10.0, 60.0];
pub const CURIOSITY_RANGE: (f32, f32) = (0.0, 60.0);
pub const WARM_RANGE: (u32, u32) = (1, 2000);
pub use skipwise_protocol::DEFAULT_SEED;

/// What the address can set. `None`: not given (the page keeps its own value).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Params {
    pub catalog: Option<Catalog>,
    /// FP threshold, seconds.
    pub threshold: Option<f32>,
    pub speed: Option<f32>,
    /// Index into the catalog's persona presets (checked against them by [`clamp_persona`]).
    pub persona: Option<usize>,
    /// Autopilot's curiosity, percent.
    pub curiosity: Option<f32>,
    pub seed: Option<u64>,
    pub warm: Option<u32>,
    pub fault: Option<Fault>,
    /// What was out of range or unreadable, and what the page did instead.
    pub notes: Vec<String>,
}

fn clamp(name: &str, v: f32, (lo, hi): (f32, f32), notes: &mut Vec<String>) -> f32 {
    let c = v.clamp(lo, hi);
    if c != v {
        notes.push(format!("{name}={v} is outside {lo}–{hi}; using {c}"));
    }
    c
}

/// Reads `location.search` (with or without its `?`).
pub fn parse(search: &str) -> Params {
    let mut p = Params::default();
    for pair in search.trim_start_matches('?').split('&').filter(|s| !s.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let notes = &mut p.notes;
        let number = |notes: &mut Vec<String>| match value.parse::<f32>() {
            Ok(v) if v.is_finite() => Some(v),
            _ => {
                notes.push(format!("{key}={value:?} is not a number; ignored"));
                None
            }
        };
        match key {
            "catalog" => match value {
                "music" => p.catalog = Some(Catalog::Music),
                "movies" => p.catalog = Some(Catalog::Movies),
                _ => notes.push(format!("catalog={value:?} is not music or movies; ignored")),
            },
            "threshold" => p.threshold = number(notes).map(|v| clamp("threshold", v.round(), THRESHOLD_RANGE, notes)),
            "speed" => {
                p.speed = number(notes).map(|v| {
                    // The nearest of the player's speeds.
                    let s = SPEEDS.iter().copied().min_by(|a, b| (a - v).abs().total_cmp(&(b - v).abs())).unwrap_or(1.0);
                    if s != v {
                        notes.push(format!("speed={v} is not one of ×1, ×10, ×60; using ×{s}"));
                    }
                    s
                })
            }
            "persona" => match value.parse::<usize>() {
                Ok(i) => p.persona = Some(i),
                Err(_) => notes.push(format!("persona={value:?} is not a persona number; ignored")),
            },
            "curiosity" => p.curiosity = number(notes).map(|v| clamp("curiosity", v, CURIOSITY_RANGE, notes)),
            "seed" => match value.parse::<u64>() {
                Ok(s) => p.seed = Some(s),
                Err(_) => notes.push(format!("seed={value:?} is not a whole number ≥ 0; ignored")),
            },
            "warm" => match value.parse::<u32>() {
                Ok(w) => {
                    let c = w.clamp(WARM_RANGE.0, WARM_RANGE.1);
                    if c != w {
                        notes.push(format!("warm={w} is outside {}–{}; using {c}", WARM_RANGE.0, WARM_RANGE.1));
                    }
                    p.warm = Some(c)
                }
                Err(_) => notes.push(format!("warm={value:?} is not a number of steps; ignored")),
            },
            "fault" => p.fault = parse_fault(value),
            _ => {}
        }
    }
    p
}

/// `error-on-observe:N` or `panic-on-observe:N`.
fn parse_fault(value: &str) -> Option<Fault> {
    let (kind, n) = value.split_once(':')?;
    let n = n.parse::<u32>().ok()?;
    match kind {
        "error-on-observe" => Some(Fault::ErrorOnObserve(n)),
        "panic-on-observe" => Some(Fault::PanicOnObserve(n)),
        _ => None,
    }
}

fn fault_text(f: Fault) -> String {
    match f {
        Fault::ErrorOnObserve(n) => format!("error-on-observe:{n}"),
        Fault::PanicOnObserve(n) => format!("panic-on-observe:{n}"),
    }
}

/// A persona index from the address, checked against the catalog's `presets` (count).
pub fn clamp_persona(index: usize, presets: usize, notes: &mut Vec<String>) -> usize {
    let last = presets.saturating_sub(1);
    if index > last {
        notes.push(format!("persona={index} does not exist (0–{last}); using {last}"));
    }
    index.min(last)
}

/// The page's shareable state, written back into the address as the visitor changes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Shared {
    pub catalog: Catalog,
    pub threshold: f32,
    pub speed: f32,
    pub persona: usize,
    pub curiosity: f32,
    pub seed: u64,
}

/// The address's query for `s`, keeping a `warm` and `fault` that came in with it.
pub fn query(s: &Shared, warm: Option<u32>, fault: Option<Fault>) -> String {
    let mut q = format!(
        "?catalog={}&threshold={}&speed={}&persona={}&curiosity={}&seed={}",
        s.catalog.name(),
        s.threshold,
        s.speed,
        s.persona,
        s.curiosity,
        s.seed
    );
    if let Some(w) = warm {
        q.push_str(&format!("&warm={w}"));
    }
    if let Some(f) = fault {
        q.push_str(&format!("&fault={}", fault_text(f)));
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_address_reads_back_the_same() {
        let s = Shared { catalog: Catalog::Movies, threshold: 8.0, speed: 10.0, persona: 2, curiosity: 20.0, seed: 42 };
        let p = parse(&query(&s, Some(30), Some(Fault::PanicOnObserve(3))));
        assert_eq!(p.notes, Vec::<String>::new());
        assert_eq!(
            (p.catalog, p.threshold, p.speed, p.persona, p.curiosity, p.seed, p.warm, p.fault),
            (Some(Catalog::Movies), Some(8.0), Some(10.0), Some(2), Some(20.0), Some(42), Some(30), Some(Fault::PanicOnObserve(3)))
        );
    }

    #[test]
    fn out_of_range_values_are_clamped_with_a_note() {
        let p = parse("?threshold=500&speed=7&curiosity=-3&warm=0&catalog=books&seed=x&threshold2=1");
        assert_eq!(p.threshold, Some(30.0));
        assert_eq!(p.speed, Some(10.0));
        assert_eq!(p.curiosity, Some(0.0));
        assert_eq!(p.warm, Some(1));
        assert_eq!(p.catalog, None);
        assert_eq!(p.seed, None);
        assert_eq!(
            p.notes,
            vec![
                "threshold=500 is outside 1–30; using 30",
                "speed=7 is not one of ×1, ×10, ×60; using ×10",
                "curiosity=-3 is outside 0–60; using 0",
                "warm=0 is outside 1–2000; using 1",
                "catalog=\"books\" is not music or movies; ignored",
                "seed=\"x\" is not a whole number ≥ 0; ignored",
            ]
        );
        let p = parse("threshold=NaN&persona=-1");
        assert_eq!((p.threshold, p.persona), (None, None));
        assert_eq!(p.notes.len(), 2);
        let mut notes = Vec::new();
        assert_eq!(clamp_persona(9, 5, &mut notes), 4);
        assert_eq!(notes, vec!["persona=9 does not exist (0–4); using 4"]);
    }

    #[test]
    fn unknown_faults_are_ignored() {
        assert_eq!(parse("fault=error-on-observe:2").fault, Some(Fault::ErrorOnObserve(2)));
        assert_eq!(parse("fault=explode:2").fault, None);
        assert_eq!(parse("fault=panic-on-observe").fault, None);
    }
}
