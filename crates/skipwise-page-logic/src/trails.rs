//! The embedding map's trails: where each skipped item (and the session) sat on the map after
//! each of the last plays, so a visitor sees skipped items move away from the session over time
//! (the paper's Figure 3) rather than two snapshots to compare from memory.

/// Points kept per trail.
pub const TRAIL_LEN: usize = 12;

/// Trails by item id; the session's is kept apart.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trails {
    pub items: Vec<(u64, Vec<[f32; 2]>)>,
    pub session: Vec<[f32; 2]>,
}

impl Trails {
    /// Adds one map's positions: each item of `skipped` (by `point_of`) and the session's. Items
    /// no longer skipped (played since) lose their trail.
    pub fn add(&mut self, skipped: &[u64], point_of: impl Fn(u64) -> Option<[f32; 2]>, session: Option<[f32; 2]>) {
        self.items.retain(|(id, _)| skipped.contains(id));
        for id in skipped {
            let Some(p) = point_of(*id) else { continue };
            match self.items.iter_mut().find(|(i, _)| i == id) {
                Some((_, trail)) => push(trail, p),
                None => self.items.push((*id, vec![p])),
            }
        }
        if let Some(p) = session {
            push(&mut self.session, p);
        }
    }
}

fn push(trail: &mut Vec<[f32; 2]>, p: [f32; 2]) {
    trail.push(p);
    if trail.len() > TRAIL_LEN {
        trail.remove(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trails_follow_skipped_items_and_stay_short() {
        let mut t = Trails::default();
        let at = |k: f32| move |id: u64| Some([id as f32, k]);
        t.add(&[3], at(0.0), Some([0.0, 0.0]));
        t.add(&[3, 5], at(1.0), None);
        assert_eq!(t.items, vec![(3, vec![[3.0, 0.0], [3.0, 1.0]]), (5, vec![[5.0, 1.0]])]);
        assert_eq!(t.session.len(), 1);
        // Item 3 was played since: no longer a skip, no trail.
        t.add(&[5], at(2.0), Some([1.0, 1.0]));
        assert_eq!(t.items, vec![(5, vec![[5.0, 1.0], [5.0, 2.0]])]);
        for k in 0..20 {
            t.add(&[5], at(k as f32), Some([0.0, 0.0]));
        }
        assert_eq!(t.items[0].1.len(), TRAIL_LEN);
        assert_eq!(t.session.len(), TRAIL_LEN);
    }
}
