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

#[cfg(test)]
mod tests {
    use super::*;

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
