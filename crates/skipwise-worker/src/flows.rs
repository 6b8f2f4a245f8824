//! The page's visitor flows (issue #12), run natively on the worker's [`Player`]: the same
//! models, online steps, lists and persona rules as the page, without a browser, so each
//! catalog and several seeds fit in a test. Each prints what it measured.

use crate::player::{Player, TOP_K};
use skipwise_core::burn::tensor::Device;
use skipwise_core::catalog::{CatalogKind, catalog};
use skipwise_core::objective::Method;
use skipwise_core::rng::Rng;
use skipwise_page_logic::persona::{Persona, REPLAY_AFTER};
use skipwise_protocol::{Catalog, Play, Ranked, WARM_STEPS};

const SEEDS: [u64; 3] = [7, 8, 9];
const GUARD_SEEDS: [u64; 8] = [7, 8, 9, 10, 11, 12, 13, 14];
const SKIP_SECS: f32 = skipwise_protocol::DEFAULT_SKIP_SECS;

/// A player after the page's warm start.
fn warm_player(c: Catalog, seed: u64) -> Player {
    let mut p = Player::new(c, SKIP_SECS, seed, &Device::flex()).expect("player");
    p.warm_start_sync(WARM_STEPS as usize).expect("finite steps");
    p
}

struct Visit {
    player: Player,
    durations: Vec<(u64, f32, usize)>,
    /// The lists shown now, external ids: FP-aware, Vanilla.
    lists: [Vec<u64>; 2],
    /// The same with scores and reasons.
    ranked: [Vec<Ranked>; 2],
    skipped: Vec<u64>,
    plays: Vec<u64>,
}

impl Visit {
    fn new(c: Catalog, seed: u64) -> Self {
        let shown = catalog(match c {
            Catalog::Music => CatalogKind::Music,
            Catalog::Movies => CatalogKind::Movies,
        });
        let durations = shown.items.iter().map(|i| (i.id, i.duration_secs, i.genre_index)).collect();
        let mut v = Visit { player: warm_player(c, seed), durations, lists: [Vec::new(), Vec::new()], ranked: [Vec::new(), Vec::new()], skipped: Vec::new(), plays: Vec::new() };
        v.refresh();
        v
    }

    fn refresh(&mut self) {
        let [a, b] = self.player.lists_sync().expect("lists");
        let ids = |l: &[Ranked]| l.iter().map(|r| r.item).collect::<Vec<_>>();
        self.lists = [ids(&a), ids(&b)];
        self.ranked = [a, b];
    }

    fn genre(&self, item: u64) -> Option<usize> {
        self.durations.iter().find(|d| d.0 == item).map(|d| d.2)
    }

    /// Plays `item` for `secs` (its whole length when `None`), then shows the new lists.
    fn play(&mut self, item: u64, secs: Option<f32>) -> bool {
        let d = self.durations.iter().find(|d| d.0 == item).map_or(200.0, |d| d.1);
        let played_secs = secs.unwrap_or(d).min(d);
        let fp = self.player.observe_sync(&Play { item, played_secs, duration_secs: d, skip_secs: SKIP_SECS, liked: false }).expect("play");
        if fp {
            self.skipped.push(item);
        }
        self.plays.push(item);
        self.refresh();
        fp
    }

    /// What auto-next plays: the FP-aware list's best item not skipped in this visit.
    fn next(&self) -> u64 {
        *self.lists[0].iter().find(|i| !self.skipped.contains(i)).expect("the list offers something not skipped")
    }

    /// 1-based rank of `item` in "Recommendations"; `TOP_K + 1` when it is not in the list.
    fn rank(&self, item: u64) -> usize {
        self.lists[0].iter().position(|i| *i == item).map_or(TOP_K + 1, |r| r + 1)
    }
}

fn mean(v: &[f32]) -> f32 {
    v.iter().sum::<f32>() / v.len().max(1) as f32
}

/// Twelve skips of whatever auto-next plays, after `positives` play-throughs; the rank of each
/// just-skipped item in "Recommendations" right after its skip.
fn skip_flow(c: Catalog, seed: u64, positives: usize, skips: usize) -> Vec<usize> {
    let mut v = Visit::new(c, seed);
    for _ in 0..positives {
        let item = v.next();
        // As the browser test plays them: to 15 s, past the 10-s threshold.
        v.play(item, Some(15.0));
    }
    (0..skips)
        .map(|_| {
            let item = v.next();
            assert!(v.play(item, Some(1.0)), "a 1-s play is an FP");
            v.rank(item)
        })
        .collect()
}

/// Runs [`skip_flow`] for both catalogs and every seed, printing the ranks; each run's mean
/// rank must reach `at_least`.
fn check_skip_flow(positives: usize, skips: usize, at_least: f32) {
    for c in [Catalog::Music, Catalog::Movies] {
        for seed in SEEDS {
            let ranks = skip_flow(c, seed, positives, skips);
            let m = mean(&ranks.iter().map(|r| *r as f32).collect::<Vec<_>>());
            eprintln!("{c:?} seed {seed}: ranks after each skip {ranks:?}, mean {m:.2}");
            assert!(m >= at_least, "{c:?} seed {seed}: mean rank {m:.2} ({ranks:?})");
        }
    }
}

/// Issue #12's first flow: play two items through, then skip the top item twelve times; the
/// just-skipped item's mean rank after its skip must be ≥ 8 (11 = out of the top 10), for both
/// catalogs and three seeds.
#[test]
fn a_skipped_top_item_falls_out_of_the_fp_aware_list() {
    check_skip_flow(2, 12, 8.0);
}

/// Eight skips on a fresh page, before any positive: each skipped item falls by the model
/// (the cold state's scores), mean rank after its skip ≥ 6.
#[test]
fn skips_before_any_play_move_the_cold_start_list() {
    check_skip_flow(0, 8, 6.0);
}

/// The cold-start list spreads over the genres rather than the warm start's favourite.
#[test]
fn the_cold_start_list_is_balanced_across_genres() {
    for c in [Catalog::Music, Catalog::Movies] {
        let v = Visit::new(c, SEEDS[0]);
        for list in &v.lists {
            let mut genres: Vec<usize> = list.iter().filter_map(|i| v.genre(*i)).collect();
            genres.sort_unstable();
            let most = genres.chunk_by(|a, b| a == b).map(<[usize]>::len).max().unwrap_or(0);
            assert_eq!(list.len(), TOP_K);
            assert!(most <= 2, "{c:?}: {most} items of one genre in {genres:?}");
        }
    }
}

/// Autopilot's run: `events` plays by the default persona, from the FP-aware list as in the page
/// (`from_list`) or by browsing the catalog; the hit rate @10 after every play of the FP-aware
/// list, the Vanilla list and an FP-Simple learner's list fed the same plays, and the share of
/// skips.
fn autopilot(c: Catalog, seed: u64, events: usize, from_list: bool) -> (Vec<[f32; 3]>, f32) {
    let mut v = Visit::new(c, seed);
    let mut simple = crate::player::learner(c, SKIP_SECS, seed, Method::FpSimple, &Device::flex()).expect("learner");
    simple.replay_steps_sync(WARM_STEPS as usize).expect("finite steps");
    let persona = Persona::default();
    let items: Vec<(u64, usize)> = v.durations.iter().map(|d| (d.0, d.2)).collect();
    let mut rng = Rng::new(seed ^ 0xA070);
    let mut hits = Vec::new();
    let mut skips = 0;
    for _ in 0..events {
        let recent: Vec<u64> = v.plays[v.plays.len().saturating_sub(REPLAY_AFTER)..].to_vec();
        let list = if from_list { v.lists[0].clone() } else { Vec::new() };
        let next = persona.choose(&items, &recent, &list, &mut || rng.uniform() as f64).expect("the persona finds something");
        let genre = v.genre(next).expect("in the catalog");
        let secs = persona.stop_secs(genre, SKIP_SECS);
        skips += usize::from(v.play(next, Some(secs)));
        let d = v.durations.iter().find(|d| d.0 == next).map_or(200.0, |d| d.1);
        let play = Play { item: next, played_secs: secs.min(d), duration_secs: d, skip_secs: SKIP_SECS, liked: false };
        simple.observe_sync(&Player::event(&play)).expect("play");
        let simple_list = simple.recommend_sync(TOP_K, &v.player.exclude()).expect("list");
        let simple_list: Vec<u64> = simple_list.iter().filter_map(|(i, _)| simple.items.external(*i)).collect();
        let rate = |l: &[u64]| persona.hit_rate(l, |i| v.genre(i));
        hits.push([rate(&v.lists[0]), rate(&v.lists[1]), rate(&simple_list)]);
    }
    (hits, skips as f32 / events as f32)
}

/// Autopilot over 200 events: FP-AdaMetric's hit rate above Vanilla's over the second half
/// (mean of three seeds), never 0 for 20 events in a row, the skip share within 0.15 of the
/// persona's curiosity.
#[test]
fn autopilot_shows_fp_adametric_ahead() {
    for c in [Catalog::Music, Catalog::Movies] {
        let mut second_half = Vec::new();
        for seed in SEEDS {
            let (hits, skip_share) = autopilot(c, seed, 200, true);
            let half = &hits[hits.len() / 2..];
            let series: Vec<String> = hits.iter().step_by(10).map(|h| format!("{:.1}/{:.1}", h[0], h[1])).collect();
            let pair = [column(half, 0), column(half, 1)];
            eprintln!(
                "{c:?} seed {seed}: second half FP-AdaMetric {:.3}, Vanilla {:.3}; skips {skip_share:.2}; every 10th event (FP-AdaMetric/Vanilla) {}",
                pair[0],
                pair[1],
                series.join(" ")
            );
            let zero_run = hits.iter().fold((0, 0), |(run, worst), h| if h[0] == 0.0 { (run + 1, worst.max(run + 1)) } else { (0, worst) }).1;
            assert!(zero_run < 20, "{c:?} seed {seed}: FP-AdaMetric at 0 for {zero_run} events in a row");
            assert!((skip_share - Persona::default().curiosity).abs() <= 0.15, "{c:?} seed {seed}: skip share {skip_share}");
            second_half.push(pair);
        }
        let (ada, van) = (mean_of(&second_half, 0), mean_of(&second_half, 1));
        eprintln!("{c:?}: second half, mean of {} seeds: FP-AdaMetric {ada:.3}, Vanilla {van:.3}", SEEDS.len());
        assert!(ada > van, "{c:?}: FP-AdaMetric vs Vanilla {second_half:?}");
    }
}

/// The online FP term costs the liked items nothing: the same plays (a persona browsing the
/// catalog, so that neither list is the one being played from) go to the FP-aware learner and
/// to an FP-Simple one, and the FP-aware list's hit rate on the persona's liked genres is not
/// lower (all events, mean of eight seeds: one run's hit rate moves by ±0.05 with the seed, so
/// three would decide by chance; measured 0.490 vs 0.453 on Music, 0.563 vs 0.521 on Movies).
#[test]
fn the_fp_term_costs_the_positives_nothing() {
    for c in [Catalog::Music, Catalog::Movies] {
        let mut runs = Vec::new();
        for seed in GUARD_SEEDS {
            let (hits, _) = autopilot(c, seed, 200, false);
            let pair = [column(&hits, 0), column(&hits, 2)];
            eprintln!("{c:?} seed {seed}: hit rate FP-AdaMetric {:.3}, FP-Simple {:.3}, Vanilla {:.3}", pair[0], pair[1], column(&hits, 1));
            runs.push(pair);
        }
        let (ada, simple) = (mean_of(&runs, 0), mean_of(&runs, 1));
        eprintln!("{c:?}: mean of {} seeds: FP-AdaMetric {ada:.3}, FP-Simple {simple:.3}", GUARD_SEEDS.len());
        assert!(ada >= simple, "{c:?}: FP-AdaMetric vs FP-Simple {runs:?}");
    }
}

fn column(hits: &[[f32; 3]], k: usize) -> f32 {
    mean(&hits.iter().map(|h| h[k]).collect::<Vec<_>>())
}

fn mean_of(runs: &[[f32; 2]], k: usize) -> f32 {
    mean(&runs.iter().map(|r| r[k]).collect::<Vec<_>>())
}

/// Every listed item says why, from the model: its score change since the last list (the score
/// difference exactly), the nearest item of the model's input (FP-AdaMetric: a play-through;
/// Vanilla: any click, skips included) and, for FP-AdaMetric, the nearest skip.
#[test]
fn each_listed_item_has_a_reason_from_the_model() {
    let mut v = Visit::new(Catalog::Music, SEEDS[0]);
    assert!(v.ranked[0].iter().all(|r| r.reason.change.is_none() && r.reason.near_input.is_none()), "nothing to explain yet");
    let mut positives = Vec::new();
    for _ in 0..2 {
        let item = v.next();
        v.play(item, Some(15.0));
        positives.push(item);
    }
    let before = v.ranked[0].clone();
    for _ in 0..3 {
        let item = v.next();
        v.play(item, Some(1.0));
    }
    let [ada, vanilla] = &v.ranked;
    for r in ada {
        let (near, sim) = r.reason.near_input.expect("a nearest play");
        assert!(positives.contains(&near) && (-1.0..=1.0001).contains(&sim), "{r:?}");
        assert!(r.reason.near_skip.is_none_or(|(s, sim)| v.skipped.contains(&s) && sim > 0.0), "{r:?}");
        assert!(r.reason.change.is_some(), "{r:?}");
    }
    assert!(ada.iter().any(|r| r.reason.near_skip.is_some()), "some item is near a skip");
    for r in vanilla {
        let near = r.reason.near_input.expect("a nearest click").0;
        assert!(v.plays.contains(&near) && r.reason.near_skip.is_none(), "{r:?}");
    }
    // One more play: an item listed before and after moves by exactly its reason's change.
    assert!(ada.iter().any(|a| before.iter().any(|b| b.item == a.item)), "some item stayed listed");
    let last = ada.clone();
    let item = v.next();
    v.play(item, Some(1.0));
    for now in &v.ranked[0] {
        if let Some(then) = last.iter().find(|l| l.item == now.item) {
            let change = now.reason.change.expect("a change");
            assert!((now.score - then.score - change).abs() < 1e-4, "{now:?} after {then:?}");
        }
    }
}

