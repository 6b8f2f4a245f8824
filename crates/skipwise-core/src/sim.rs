//! A seeded synthetic listener simulator with known ground truth.
//!
//! Items belong to a genre and sit at a "mood" position inside it; listeners like a few genres.
//! A session walks through the liked genres: the next liked item is usually a mood-neighbour of
//! the previous one (so order carries signal, as in real listening), sometimes a jump to another
//! liked genre. With probability `fp_share` a click is a *curiosity click* on an item of a genre
//! the listener does not like; it is skipped after a few seconds (an FP). Positive plays last
//! most of the track. The page, the benchmarks and the tests all draw from this one simulator.
//!
//! Dislike has degrees (paper Remark 1), so an FP can be of four kinds, each a share of the FP
//! clicks ([`FpMix`]; the default is curiosity clicks only, as before the mix existed):
//! * **misclick**: a uniformly random item, skipped within 3 s — whatever its genre, liked ones
//!   included: the skip says nothing about taste;
//! * **curiosity**: an item of a disliked genre, skipped within 8 s;
//! * **mild dislike**: an item of the listener's *mild* genre (one disliked genre per listener that
//!   they sometimes play through): played through with probability [`MILD_PLAY_THROUGH`], which
//!   makes it a positive, else skipped after 3–9 s;
//! * **context skip**: the liked item the session was about to play, skipped within 8 s (heard
//!   just before, or off-mood right now); with probability [`CONTEXT_COMES_BACK`] the next
//!   positive play is that item, played through.
//!
//! Each play's kind is ground truth ([`SimPlay::kind`]), for measuring what a method does with
//! each kind of FP.

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
    /// What the FP clicks are (see the module's doc).
    #[serde(default)]
    pub fp_mix: FpMix,
    pub seed: u64,
}

/// Shares of the four kinds of FP click; they are normalised, so only their ratios matter.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FpMix {
    pub misclick: f32,
    pub curiosity: f32,
    pub mild: f32,
    pub context: f32,
}

impl Default for FpMix {
    fn default() -> Self {
        Self { misclick: 0.0, curiosity: 1.0, mild: 0.0, context: 0.0 }
    }
}

impl FpMix {
    /// All four kinds in equal shares.
    pub fn even() -> Self {
        Self { misclick: 1.0, curiosity: 1.0, mild: 1.0, context: 1.0 }
    }

    /// `misclick,curiosity,mild,context`, e.g. `1,2,1,1`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let v: Vec<f32> = spec.split(',').map(|x| x.trim().parse::<f32>().map_err(|_| format!("{x:?} is not a number"))).collect::<Result<_, _>>()?;
        let shares: [f32; 4] = v[..].try_into().map_err(|_| format!("{} shares, expected 4: misclick,curiosity,mild,context", v.len()))?;
        Self::from_shares(shares)
    }

    /// The shares misclick, curiosity, mild, context (the page's Lab sliders); refused unless
    /// all are ≥ 0 and not all 0.
    pub fn from_shares(shares: [f32; 4]) -> Result<Self, String> {
        let [misclick, curiosity, mild, context] = shares;
        let mix = Self { misclick, curiosity, mild, context };
        if shares.iter().any(|x| !x.is_finite() || *x < 0.0) || mix.total() <= 0.0 {
            return Err("the shares must be ≥ 0 and not all 0".into());
        }
        Ok(mix)
    }

    fn total(&self) -> f32 {
        self.misclick + self.curiosity + self.mild + self.context
    }

    /// The kind a uniform draw `u` in [0, 1) picks.
    fn pick(&self, u: f32) -> ClickKind {
        let t = u * self.total();
        if t < self.misclick {
            ClickKind::Misclick
        } else if t < self.misclick + self.curiosity {
            ClickKind::Curiosity
        } else if t < self.misclick + self.curiosity + self.mild {
            ClickKind::Mild
        } else {
            ClickKind::Context
        }
    }
}

/// What a simulated play was, in truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ClickKind {
    /// A play of something the listener likes, played through.
    Positive,
    Misclick,
    Curiosity,
    /// An item of the listener's mild genre (played through or skipped: see [`SimPlay::secs`]).
    Mild,
    Context,
}

impl ClickKind {
    pub const FP_KINDS: [ClickKind; 4] = [ClickKind::Misclick, ClickKind::Curiosity, ClickKind::Mild, ClickKind::Context];

    pub fn name(self) -> &'static str {
        match self {
            ClickKind::Positive => "positive",
            ClickKind::Misclick => "misclick",
            ClickKind::Curiosity => "curiosity",
            ClickKind::Mild => "mild",
            ClickKind::Context => "context",
        }
    }
}

/// One simulated play: the simulator's item index, how long it played, and what it was.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SimPlay {
    pub item: usize,
    pub secs: f32,
    pub kind: ClickKind,
}

/// How often a mild dislike is played through (a positive) rather than skipped.
pub const MILD_PLAY_THROUGH: f32 = 0.4;
/// How often the positive play after a context skip is the skipped item (the listener comes
/// back to it); otherwise the walk goes on as usual.
pub const CONTEXT_COMES_BACK: f32 = 0.8;

impl SimConfig {
    /// Refuses a simulator that cannot run, naming the `simulate` flags (the Lab's fields).
    pub fn validate(&self) -> Result<(), String> {
        if self.n_items < 2 || self.n_listeners == 0 || !(0.0..1.0).contains(&self.fp_share) {
            return Err(format!(
                "--items {} / --listeners {} / --fp-share {}: need at least 2 items, 1 listener and a share in [0, 1)",
                self.n_items, self.n_listeners, self.fp_share
            ));
        }
        Ok(())
    }
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
            fp_mix: FpMix::default(),
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
    /// The disliked genre this listener sometimes plays through (mild dislikes); `None` when
    /// every genre is liked.
    #[serde(default)]
    pub mild: Option<usize>,
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
                let liked = config.liked_genres.clamp(1, genres);
                let mild = all.get(liked).copied();
                all.truncate(liked);
                Listener { liked: all, mild }
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

    /// One session of plays with their ground truth. With the default mix (curiosity clicks
    /// only) it draws exactly what it drew before the mix existed: the other kinds' draws happen
    /// only when their share is positive.
    pub fn session(&mut self, listener: usize) -> Vec<SimPlay> {
        let Some(l) = self.listeners.get(listener).cloned() else { return Vec::new() };
        let cfg = self.config.clone();
        let only_curiosity = cfg.fp_mix == FpMix::default();
        let len = cfg.min_len + self.rng.below(cfg.max_len.saturating_sub(cfg.min_len) + 1);
        let disliked: Vec<usize> = (0..self.by_genre.len()).filter(|g| !l.liked.contains(g)).collect();
        let mut genre = l.liked[self.rng.below(l.liked.len())];
        let mut pos = self.rng.below(self.by_genre[genre].len().max(1));
        let mut out = Vec::with_capacity(len);
        // After a context skip: the next positive play returns to the skipped item (usually).
        let mut comes_back = false;
        for step in 0..len {
            let curious = step > 0 && !disliked.is_empty() && self.rng.chance(cfg.fp_share);
            if curious {
                let kind = if only_curiosity { ClickKind::Curiosity } else { cfg.fp_mix.pick(self.rng.uniform()) };
                match kind {
                    ClickKind::Misclick => {
                        let item = self.rng.below(self.items.len().max(1));
                        out.push(SimPlay { item, secs: self.rng.uniform_in(0.5, 3.0), kind });
                    }
                    ClickKind::Mild if l.mild.is_some() => {
                        let list = &self.by_genre[l.mild.unwrap_or_default()];
                        if let Some(item) = list.get(self.rng.below(list.len().max(1))).copied() {
                            let d = self.items[item].duration_secs;
                            let secs = if self.rng.chance(MILD_PLAY_THROUGH) { self.rng.uniform_in(0.6, 1.0) * d } else { self.rng.uniform_in(3.0, 9.0) };
                            out.push(SimPlay { item, secs, kind });
                        }
                    }
                    ClickKind::Context => {
                        // The item the walk would play next, skipped; the walk stays put.
                        let n = self.by_genre[genre].len().max(1);
                        if let Some(item) = self.by_genre[genre].get((pos + 1) % n).copied() {
                            out.push(SimPlay { item, secs: self.rng.uniform_in(1.0, 8.0), kind });
                            comes_back = self.rng.chance(CONTEXT_COMES_BACK);
                        }
                    }
                    // Curiosity, and a mild dislike for a listener without a mild genre.
                    _ => {
                        let decoy = (genre + 1) % self.by_genre.len();
                        let g = if cfg.decoy_fps && disliked.contains(&decoy) { decoy } else { disliked[self.rng.below(disliked.len())] };
                        let list = &self.by_genre[g];
                        if let Some(item) = list.get(self.rng.below(list.len().max(1))).copied() {
                            out.push(SimPlay { item, secs: self.rng.uniform_in(1.0, 8.0), kind: ClickKind::Curiosity });
                        }
                    }
                }
                continue;
            }
            if std::mem::take(&mut comes_back) {
                pos = (pos + 1) % self.by_genre[genre].len().max(1);
            } else if step > 0 {
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
                out.push(SimPlay { item: *item, secs: self.rng.uniform_in(0.6, 1.0) * d, kind: ClickKind::Positive });
            }
        }
        out
    }

    /// Events for a session, as the player would log them (duration, seconds played), each with
    /// its ground truth.
    pub fn session_events(&mut self, listener: usize, session: u64, t0: f64) -> Vec<(Event, ClickKind)> {
        let plays = self.session(listener);
        let mut t = t0;
        plays
            .into_iter()
            .map(|p| {
                let e = Event {
                    session: Some(session),
                    user: Some(listener as u64),
                    item: p.item as u64 + 1,
                    timestamp: t,
                    played_secs: Some(p.secs),
                    duration_secs: Some(self.items[p.item].duration_secs),
                    rating: None,
                    skipped: None,
                };
                t += p.secs as f64;
                (e, p.kind)
            })
            .collect()
    }

    /// A whole dataset: `sessions_per_listener` sessions for every listener. Dense item ids are
    /// simulator index + 1, so ground truth maps directly.
    pub fn dataset(&mut self, rule: &FpRule) -> Dataset {
        self.dataset_with_kinds(rule).0
    }

    /// As [`Self::dataset`], with each session's clicks' kinds (`kinds[session.id][click]`).
    pub fn dataset_with_kinds(&mut self, rule: &FpRule) -> (Dataset, Vec<Vec<ClickKind>>) {
        let mut items = ItemIndex::default();
        for i in 0..self.items.len() {
            items.get_or_insert(i as u64 + 1);
        }
        let mut kinds = Vec::new();
        let sessions = self
            .logged_plays()
            .into_iter()
            .enumerate()
            .map(|(id, plays)| {
                let user = plays.first().and_then(|(e, _)| e.user).map(|u| u as u32);
                let clicks = plays.iter().map(|(e, _)| Click { item: e.item as u32, fp: rule.is_fp(e) }).collect();
                kinds.push(plays.iter().map(|(_, k)| *k).collect());
                Session { id: id as u64, user, start: id as f64, clicks }
            })
            .collect();
        (Dataset { items, sessions }, kinds)
    }

    /// Every session of at least two plays as the player would log it, in the order (and with
    /// the session ids) [`Self::dataset`] uses: `sessions_per_listener` rounds over the listeners.
    /// `skipwise simulate` writes these, with [`Self::likes`] as each play's ground truth.
    pub fn logged_sessions(&mut self) -> Vec<Vec<Event>> {
        self.logged_plays().into_iter().map(|s| s.into_iter().map(|(e, _)| e).collect()).collect()
    }

    /// [`Self::logged_sessions`] with each play's kind.
    pub fn logged_plays(&mut self) -> Vec<Vec<(Event, ClickKind)>> {
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


/// The `--columns` that read [`Simulator::csv`]'s file back (`--format csv --columns …`).
pub use skipwise_protocol::lab::SIM_COLUMNS as CSV_COLUMNS;

/// The simulator's sessions as a generic CSV (what `skipwise simulate` writes and the page's Lab
/// reads back through the same loader): each play with its ground truth, `liked` (the listener
/// likes the item's genre) and `kind` (positive, misclick, curiosity, mild or context).
pub struct SimCsv {
    pub text: String,
    pub sessions: usize,
    pub plays: usize,
    /// Plays of items the listener likes.
    pub liked: usize,
}

impl Simulator {
    pub fn csv(&mut self) -> SimCsv {
        use std::fmt::Write as _;
        let sessions = self.logged_plays();
        let mut text = String::from("session,user,item,time,played,duration,liked,kind\n");
        let (mut plays, mut liked) = (0usize, 0usize);
        for events in &sessions {
            for (e, kind) in events {
                let user = e.user.unwrap_or_default();
                let likes = self.likes(user as usize, e.item as usize - 1);
                let _ = writeln!(
                    text,
                    "{},{user},{},{},{},{},{likes},{}",
                    e.session.unwrap_or_default(),
                    e.item,
                    e.timestamp,
                    e.played_secs.unwrap_or_default(),
                    e.duration_secs.unwrap_or_default(),
                    kind.name()
                );
                plays += 1;
                liked += usize::from(likes);
            }
        }
        SimCsv { text, sessions: sessions.len(), plays, liked }
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

    #[test]
    fn each_kind_of_fp_is_what_its_share_and_ground_truth_say() {
        let config = SimConfig { fp_share: 0.4, fp_mix: FpMix::parse("1,2,1,1").expect("mix"), ..SimConfig::default() };
        let mut sim = Simulator::new(config);
        let rule = FpRule::default();
        let (data, kinds) = sim.dataset_with_kinds(&rule);
        let mut count: std::collections::HashMap<ClickKind, (usize, usize, usize)> = Default::default();
        let mut context_back = (0, 0);
        for (s, k) in data.sessions.iter().zip(&kinds) {
            let listener = s.user.expect("a listener") as usize;
            for (j, (c, kind)) in s.clicks.iter().zip(k).enumerate() {
                let item = c.item as usize - 1;
                let e = count.entry(*kind).or_default();
                e.0 += 1;
                e.1 += usize::from(c.fp);
                e.2 += usize::from(sim.likes(listener, item));
                if *kind == ClickKind::Context {
                    context_back.0 += 1;
                    context_back.1 += usize::from(s.clicks[j + 1..].iter().any(|later| later.item == c.item && !later.fp));
                }
            }
        }
        let n = |k| count.get(&k).copied().unwrap_or_default();
        let fps: usize = ClickKind::FP_KINDS.iter().map(|k| n(*k).0).sum();
        // Shares 1:2:1:1 of the FP clicks (mild ones that were played through included).
        for (kind, share) in [(ClickKind::Misclick, 0.2), (ClickKind::Curiosity, 0.4), (ClickKind::Mild, 0.2), (ClickKind::Context, 0.2)] {
            let got = n(kind).0 as f32 / fps as f32;
            assert!((got - share).abs() < 0.03, "{kind:?}: {got:.3} of the FP clicks, expected {share}");
        }
        let (misclick, curiosity, mild, context) = (n(ClickKind::Misclick), n(ClickKind::Curiosity), n(ClickKind::Mild), n(ClickKind::Context));
        assert_eq!((misclick.1, curiosity.1, context.1), (misclick.0, curiosity.0, context.0), "skipped early: FPs by the rule");
        assert_eq!((curiosity.2, mild.2), (0, 0), "curiosity and mild dislikes are of disliked genres");
        assert_eq!(context.2, context.0, "a context skip is of a liked item");
        // Misclicks are uniform: 2 liked genres of 10, so about a fifth are liked items.
        let liked = misclick.2 as f32 / misclick.0 as f32;
        assert!((0.12..0.3).contains(&liked), "{liked:.3} of misclicks were liked items");
        let through = 1.0 - mild.1 as f32 / mild.0 as f32;
        assert!((through - MILD_PLAY_THROUGH).abs() < 0.06, "{through:.3} of mild dislikes played through");
        let back = context_back.1 as f32 / context_back.0 as f32;
        assert!(back > 0.5, "only {back:.2} of context-skipped items came back as positives in the session");
        eprintln!("FP kinds: {count:?}; context skips back later: {back:.2}");
    }

    /// (That the default mix draws what the simulator drew before the mix existed is what the
    /// worker's test of the shipped warm start checks: those weights come from these sessions.)
    #[test]
    fn a_mix_is_four_shares_and_only_its_kinds_occur() {
        let mut sim = Simulator::new(SimConfig { fp_share: 0.5, fp_mix: FpMix::parse("0, 0, 0, 3").expect("mix"), ..SimConfig::default() });
        let kinds: Vec<ClickKind> = (0..20).flat_map(|l| sim.session(l)).map(|p| p.kind).collect();
        assert!(kinds.iter().all(|k| matches!(k, ClickKind::Positive | ClickKind::Context)) && kinds.contains(&ClickKind::Context));
        assert!(FpMix::parse("1,2,3").is_err() && FpMix::parse("0,0,0,0").is_err() && FpMix::parse("1,-1,1,1").is_err() && FpMix::parse("a,1,1,1").is_err());
    }
}
