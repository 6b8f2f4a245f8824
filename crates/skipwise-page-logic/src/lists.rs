//! Rank moves between two recommendation lists.

use skipwise_protocol::{Ranked, Reason};

/// A row of a recommendation list: the item and how far it moved since the previous list
/// (`None`: it is new in the list).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub item: u64,
    pub score: f32,
    pub delta: Option<i32>,
    pub reason: Reason,
}

/// `new` as rows, each with its move since `old` (positive: it went up).
pub fn rows(new: &[Ranked], old: &[Row]) -> Vec<Row> {
    // The first list of a start has nothing to move from.
    let fresh = old.is_empty();
    new.iter()
        .enumerate()
        .map(|(i, r)| Row {
            item: r.item,
            score: r.score,
            reason: r.reason,
            delta: match fresh {
                true => Some(0),
                false => old.iter().position(|o| o.item == r.item).map(|j| j as i32 - i as i32),
            },
        })
        .collect()
}

/// The badge text and its style class for a move.
pub fn delta_badge(delta: Option<i32>) -> (String, &'static str) {
    match delta {
        None => ("new".into(), "new"),
        Some(d) if d > 0 => (format!("↑{d}"), "up"),
        Some(d) if d < 0 => (format!("↓{}", -d), "down"),
        Some(_) => (String::new(), "same"),
    }
}

/// Items of `old` that `new` no longer lists, in their old order: the "dropped since your last
/// play" strip.
pub fn dropped(old: &[Row], new: &[Ranked]) -> Vec<u64> {
    old.iter().map(|r| r.item).filter(|i| !new.iter().any(|n| n.item == *i)).collect()
}

/// A list item's reason in words (`title_of` names items; `skipped`: the visitor's skips;
/// `vanilla`: the list is Vanilla's, whose input counts skips as likes).
pub fn reason_text(reason: &Reason, title_of: impl Fn(u64) -> Option<String>, skipped: &[u64], vanilla: bool) -> String {
    let name = |id: u64| title_of(id).map_or_else(|| format!("item {id}"), |t| format!("“{t}”"));
    let mut parts = Vec::new();
    match reason.change {
        None => parts.push("First list since the models were built".to_string()),
        Some(c) if c.abs() < 0.005 => parts.push("Score unchanged since your last play".to_string()),
        Some(c) => parts.push(format!("Score {}{:.2} since your last play", if c > 0.0 { "+" } else { "−" }, c.abs())),
    }
    if let Some((id, sim)) = reason.near_input {
        let what = match (skipped.contains(&id), vanilla) {
            (true, true) => "which you skipped and Vanilla counts as a like",
            (true, false) => "which you skipped",
            (false, _) => "which you played",
        };
        parts.push(format!("closest to {}, {what} (similarity {sim:.2})", name(id)));
    }
    if let (Some((id, _)), Some(c)) = (reason.near_skip, reason.change) {
        if c < 0.0 {
            parts.push(format!("pushed down with your skip of {}", name(id)));
        }
    }
    parts.join(" · ")
}

/// What auto-next plays: the list's best item that is not `now` and that the visitor has not
/// skipped (a skipped item stays in the lists, so it can be watched falling, but the player never
/// brings it back by itself).
pub fn next_to_play(list: &[Row], now: Option<u64>, skipped: &[u64]) -> Option<u64> {
    list.iter().map(|r| r.item).find(|i| Some(*i) != now && !skipped.contains(i))
}

/// Genres the visitor skipped more often than played through: (genre, was it an FP) per play.
pub fn skipped_genres(plays: impl IntoIterator<Item = (usize, bool)>) -> Vec<usize> {
    let mut net: std::collections::BTreeMap<usize, i64> = std::collections::BTreeMap::new();
    for (genre, fp) in plays {
        *net.entry(genre).or_default() += if fp { 1 } else { -1 };
    }
    net.into_iter().filter(|(_, n)| *n > 0).map(|(g, _)| g).collect()
}

/// How many items of `list` belong to one of `genres` (by `genre_of`).
pub fn count_in_genres(list: &[u64], genres: &[usize], genre_of: impl Fn(u64) -> Option<usize>) -> usize {
    list.iter().filter(|i| genre_of(**i).is_some_and(|g| genres.contains(&g))).count()
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn skipped_genres_are_counted_in_a_list() {
        // Genre 1: skipped twice, played once; genre 2: skipped once, played twice; genre 3: skipped.
        let plays = [(1, true), (1, true), (1, false), (2, true), (2, false), (2, false), (3, true)];
        assert_eq!(skipped_genres(plays), vec![1, 3]);
        let genre_of = |i: u64| Some((i % 4) as usize);
        assert_eq!(count_in_genres(&[1, 5, 2, 3, 7, 8], &[1, 3], genre_of), 4);
    }

    #[test]
    fn auto_next_never_brings_back_a_skip() {
        let list = rows(&ranked(&[4, 7, 9, 2]), &[]);
        assert_eq!(next_to_play(&list, Some(4), &[7]), Some(9));
        assert_eq!(next_to_play(&list, None, &[]), Some(4));
        assert_eq!(next_to_play(&list, Some(9), &[4, 7, 2]), None);
    }

    #[test]
    fn dropped_items_and_reasons_read_plainly() {
        let old = rows(&ranked(&[1, 2, 3]), &[]);
        assert_eq!(dropped(&old, &ranked(&[3, 4, 1])), vec![2]);
        assert_eq!(dropped(&[], &ranked(&[3])), Vec::<u64>::new());
        let title = |id: u64| (id < 10).then(|| format!("T{id}"));
        let r = Reason { change: Some(-1.234), near_input: Some((5, 0.8)), near_skip: Some((6, 0.4)) };
        assert_eq!(
            reason_text(&r, title, &[6], false),
            "Score −1.23 since your last play · closest to “T5”, which you played (similarity 0.80) · pushed down with your skip of “T6”"
        );
        let r = Reason { change: Some(0.5), near_input: Some((6, 0.9)), near_skip: Some((6, 0.9)) };
        assert_eq!(reason_text(&r, title, &[6], true), "Score +0.50 since your last play · closest to “T6”, which you skipped and Vanilla counts as a like (similarity 0.90)");
        assert_eq!(reason_text(&Reason::default(), title, &[], false), "First list since the models were built");
        let r = Reason { change: Some(0.001), near_input: Some((42, 0.1)), near_skip: None };
        assert_eq!(reason_text(&r, title, &[], false), "Score unchanged since your last play · closest to item 42, which you played (similarity 0.10)");
    }

    fn ranked(items: &[u64]) -> Vec<Ranked> {
        items.iter().map(|&item| Ranked { item, score: 0.0, reason: Default::default() }).collect()
    }

    #[test]
    fn moves_are_counted_from_the_previous_list() {
        let first = rows(&ranked(&[1, 2, 3]), &[]);
        assert!(first.iter().all(|r| r.delta == Some(0)), "a first list has nothing to move from");
        let second = rows(&ranked(&[3, 1, 4]), &first);
        assert_eq!(second.iter().map(|r| r.delta).collect::<Vec<_>>(), vec![Some(2), Some(-1), None]);
        assert_eq!(delta_badge(Some(2)), ("↑2".into(), "up"));
        assert_eq!(delta_badge(Some(-1)), ("↓1".into(), "down"));
        assert_eq!(delta_badge(None), ("new".into(), "new"));
        assert_eq!(delta_badge(Some(0)), (String::new(), "same"));
    }
}
