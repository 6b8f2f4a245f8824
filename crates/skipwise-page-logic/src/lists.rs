//! Rank moves between two recommendation lists.

use skipwise_protocol::Ranked;

/// A row of a recommendation list: the item and how far it moved since the previous list
/// (`None`: it is new in the list).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub item: u64,
    pub score: f32,
    pub delta: Option<i32>,
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

    fn ranked(items: &[u64]) -> Vec<Ranked> {
        items.iter().map(|&item| Ranked { item, score: 0.0 }).collect()
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
