//! A seeded synthetic listener simulator with known ground truth.
//!
//! Items belong to a genre and sit at a "mood" position inside it; listeners like a few genres.
//! A session walks through the liked genres: the next liked item is usually a mood-neighbour of
//! the previous one (so order carries signal, as in real listening), sometimes a jump to another
//! liked genre. With probability `fp_share` a click is a *curiosity click* on an item of a genre
//! the listener does not like; it is skipped after a few seconds (an FP). Positive plays last
//! most of the track. The page, the benchmarks and the tests all draw from this one simulator.

use crate::data::{Click, Dataset, Event, FpRule, ItemIndex, Session};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimConfig {
    pub n_items: usize,
    pub n_genres: usize,
    pub n_listeners: usize,
    pub sessions_per_listener: usize,
    pub min_len: usize,
    pub max_len: usize,
    /// Share of clicks that are curiosity clicks, skipped early (0.1–0.5 in the paper's data).
    pub fp_share: f32,
    /// Genres each listener likes.
    pub liked_genres: usize,
    /// Probability that the next liked item stays in the current genre near the last mood.
    pub coherence: f32,
    /// Curiosity clicks go to the current genre's "decoy" genre (the next one, when the listener
    /// dislikes it) instead of a random disliked genre: FPs that co-occur with positives, the hard
    /// case the metric term is meant for.
    pub decoy_fps: bool,
    pub seed: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            n_items: 300,
            n_genres: 10,
            n_listeners: 200,
            sessions_per_listener: 8,
            min_len: 6,
            max_len: 20,
            fp_share: 0.3,
            liked_genres: 2,
            coherence: 0.85,
            decoy_fps: false,
            seed: 1,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimItem {
    pub genre: usize,
    /// Position inside the genre, in [0, 1).
    pub mood: f32,
    pub duration_secs: f32,
    /// Latent taste vector: a genre one-hot plus the mood on a circle (what the page plots).
    pub latent: Vec<f32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Listener {
    pub liked: Vec<usize>,
}

pub struct Simulator {
    pub config: SimConfig,
    pub items: Vec<SimItem>,
    pub listeners: Vec<Listener>,
    /// Items of each genre sorted by mood.
    by_genre: Vec<Vec<usize>>,
    rng: Rng,
}

impl Simulator {
    pub fn new(config: SimConfig) -> Self {
        let mut rng = Rng::new(config.seed);
        let genres = config.n_genres.max(1);
        let items: Vec<SimItem> = (0..config.n_items)
            .map(|i| {
                let genre = i % genres;
                let mood = rng.uniform();
                let mut latent = vec![0.0; genres + 2];
                latent[genre] = 1.0;
                let angle = mood * std::f32::consts::TAU;
                latent[genres] = 0.5 * angle.cos();
                latent[genres + 1] = 0.5 * angle.sin();
                SimItem { genre, mood, duration_secs: rng.uniform_in(120.0, 300.0), latent }
            })
            .collect();
        let mut by_genre = vec![Vec::new(); genres];
        for (i, item) in items.iter().enumerate() {
            by_genre[item.genre].push(i);
        }
        for list in &mut by_genre {
            list.sort_by(|a, b| items[*a].mood.total_cmp(&items[*b].mood));
        }
        let listeners = (0..config.n_listeners)
            .map(|_| {
                let mut all: Vec<usize> = (0..genres).collect();
                rng.shuffle(&mut all);
                all.truncate(config.liked_genres.clamp(1, genres));
                Listener { liked: all }
            })
            .collect();
        Self { config, items, listeners, by_genre, rng }
    }

    /// Ground truth: does this listener like this item (0-based simulator index)?
    pub fn likes(&self, listener: usize, item: usize) -> bool {
        match (self.listeners.get(listener), self.items.get(item)) {
            (Some(l), Some(it)) => l.liked.contains(&it.genre),
            _ => false,
        }
    }

    /// One session of (simulator item index, seconds played).
    pub fn session_plays(&mut self, listener: usize) -> Vec<(usize, f32)> {
        let Some(l) = self.listeners.get(listener).cloned() else { return Vec::new() };
        let cfg = &self.config;
        let len = cfg.min_len + self.rng.below(cfg.max_len.saturating_sub(cfg.min_len) + 1);
        let disliked: Vec<usize> = (0..self.by_genre.len()).filter(|g| !l.liked.contains(g)).collect();
        let mut genre = l.liked[self.rng.below(l.liked.len())];
        let mut pos = self.rng.below(self.by_genre[genre].len().max(1));
        let mut out = Vec::with_capacity(len);
        for step in 0..len {
            let curious = step > 0 && !disliked.is_empty() && self.rng.chance(cfg.fp_share);
            if curious {
                let decoy = (genre + 1) % self.by_genre.len();
                let g = if cfg.decoy_fps && disliked.contains(&decoy) {
                    decoy
                } else {
                    disliked[self.rng.below(disliked.len())]
                };
                let list = &self.by_genre[g];
                if let Some(item) = list.get(self.rng.below(list.len().max(1))) {
                    out.push((*item, self.rng.uniform_in(1.0, 8.0)));
                }
                continue;
            }
            if step > 0 {
                if self.rng.chance(cfg.coherence) {
                    // A mood-neighbour: one or two steps along the genre's mood order.
                    let n = self.by_genre[genre].len().max(1);
                    let delta = 1 + self.rng.below(2);
                    pos = (pos + delta) % n;
                } else {
                    genre = l.liked[self.rng.below(l.liked.len())];
                    pos = self.rng.below(self.by_genre[genre].len().max(1));
                }
            }
            if let Some(item) = self.by_genre[genre].get(pos) {
                let d = self.items[*item].duration_secs;
                out.push((*item, self.rng.uniform_in(0.6, 1.0) * d));
            }
        }
        out
    }

    /// Events for a session, as the player would log them (duration, seconds played).
    pub fn session_events(&mut self, listener: usize, session: u64, t0: f64) -> Vec<Event> {
        let plays = self.session_plays(listener);
        let mut t = t0;
        plays
            .into_iter()
            .map(|(item, played)| {
                let e = Event {
                    session: Some(session),
                    user: Some(listener as u64),
                    item: item as u64 + 1,
                    timestamp: t,
                    played_secs: Some(played),
                    duration_secs: Some(self.items[item].duration_secs),
                    rating: None,
                    skipped: None,
                };
                t += played as f64;
                e
            })
            .collect()
    }

    /// A whole dataset: `sessions_per_listener` sessions for every listener. Dense item ids are
    /// simulator index + 1, so ground truth maps directly.
    pub fn dataset(&mut self, rule: &FpRule) -> Dataset {
        let mut items = ItemIndex::default();
        for i in 0..self.items.len() {
            items.get_or_insert(i as u64 + 1);
        }
        let sessions = self
            .logged_sessions()
            .into_iter()
            .enumerate()
            .map(|(id, events)| {
                let user = events.first().and_then(|e| e.user).map(|u| u as u32);
                let clicks = events.iter().map(|e| Click { item: e.item as u32, fp: rule.is_fp(e) }).collect();
                Session { id: id as u64, user, start: id as f64, clicks }
            })
            .collect();
        Dataset { items, sessions }
    }

    /// Every session of at least two plays as the player would log it, in the order (and with
    /// the session ids) [`Self::dataset`] uses: `sessions_per_listener` rounds over the listeners.
    /// `skipwise simulate` writes these, with [`Self::likes`] as each play's ground truth.
    pub fn logged_sessions(&mut self) -> Vec<Vec<Event>> {
        let mut sessions = Vec::new();
        for round in 0..self.config.sessions_per_listener {
            for listener in 0..self.listeners.len() {
                let id = sessions.len() as u64;
                let events = self.session_events(listener, id, (round * self.listeners.len() + listener) as f64);
                if events.len() >= 2 {
                    sessions.push(events);
                }
            }
        }
        sessions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fp_share_matches_config_and_fps_are_disliked() {
        let rule = FpRule::default();
        for share in [0.1f32, 0.5] {
            let mut sim = Simulator::new(SimConfig { fp_share: share, ..SimConfig::default() });
            let d = sim.dataset(&rule);
            let observed = d.fp_share();
            // The first click is never curious, so the observed share is a little below.
            assert!((observed - share).abs() < 0.07, "share {share}: observed {observed}");
            for s in &d.sessions {
                let user = s.user.unwrap_or(0) as usize;
                for c in &s.clicks {
                    assert_eq!(c.fp, !sim.likes(user, c.item as usize - 1));
                }
            }
        }
    }

    #[test]
    fn decoy_fps_come_from_the_next_genre_when_disliked() {
        let mut sim = Simulator::new(SimConfig { decoy_fps: true, fp_share: 0.5, ..SimConfig::default() });
        let d = sim.dataset(&FpRule::default());
        let genres = sim.config.n_genres;
        let (mut decoys, mut fps) = (0, 0);
        for s in &d.sessions {
            for w in s.clicks.windows(2) {
                if w[1].fp && !w[0].fp {
                    fps += 1;
                    let g0 = sim.items[w[0].item as usize - 1].genre;
                    decoys += usize::from(sim.items[w[1].item as usize - 1].genre == (g0 + 1) % genres);
                }
            }
        }
        // Random disliked genres would give about 1 in 8; decoys dominate.
        assert!(decoys * 2 > fps, "{decoys} of {fps}");
    }

    #[test]
    fn same_seed_same_data() {
        let a = Simulator::new(SimConfig::default()).dataset(&FpRule::default());
        let b = Simulator::new(SimConfig::default()).dataset(&FpRule::default());
        assert_eq!(a.sessions, b.sessions);
    }
}
