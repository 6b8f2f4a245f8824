//! Autopilot's listener: a persona likes some genres, clicks a disliked one now and then out of
//! curiosity, plays what it likes past the FP threshold and skips the rest at once.

/// Seconds into a disliked item at which the persona skips it.
pub const SKIP_AT_SECS: f32 = 2.0;
/// Seconds past the FP threshold a liked item is played for.
pub const PLAY_PAST_THRESHOLD_SECS: f32 = 5.0;
/// A played item may come back (in the lists, and as the persona's replay) once this many newer
/// plays followed it — the worker's `RETURN_AFTER` too. Real listeners replay favourites; a hit
/// rate whose persona never replays runs out of items to hit, and then measures the catalog.
pub const REPLAY_AFTER: usize = 30;

#[derive(Clone, Debug, PartialEq)]
pub struct Persona {
    /// Genre indices it likes.
    pub liked: Vec<usize>,
    /// Share of clicks on a genre it does not like, 0–1.
    pub curiosity: f32,
}

impl Default for Persona {
    fn default() -> Self {
        Self { liked: vec![0, 1], curiosity: 0.3 }
    }
}

/// The presets: pairs of neighbouring genres.
pub fn presets(genres: usize) -> Vec<Vec<usize>> {
    (0..genres / 2).map(|i| vec![2 * i, 2 * i + 1]).collect()
}

impl Persona {
    pub fn likes(&self, genre: usize) -> bool {
        self.liked.contains(&genre)
    }

    /// Where the persona ends a play of an item of `genre`: a skip at [`SKIP_AT_SECS`], or a
    /// play well past the threshold.
    pub fn stop_secs(&self, genre: usize, skip_secs: f32) -> f32 {
        match self.likes(genre) {
            true => skip_secs + PLAY_PAST_THRESHOLD_SECS,
            false => SKIP_AT_SECS,
        }
    }

    /// Share of `items` whose genre (by `genre_of`) the persona likes.
    pub fn hit_rate(&self, items: &[u64], genre_of: impl Fn(u64) -> Option<usize>) -> f32 {
        let liked = items.iter().filter(|id| genre_of(**id).is_some_and(|g| self.likes(g))).count();
        liked as f32 / items.len().max(1) as f32
    }

    /// What the persona clicks next: with probability `curiosity` an item of a genre it does not
    /// like, else the first item of `list` it likes, else (the list offers nothing it likes) an
    /// item of its genres found by browsing — never one of `recent` (the items of its last
    /// [`REPLAY_AFTER`] plays), so a liked item offered again later is replayed. `catalog` is
    /// (id, genre) of every item; `random` draws uniformly from [0, 1).
    pub fn choose(&self, catalog: &[(u64, usize)], recent: &[u64], list: &[u64], random: &mut dyn FnMut() -> f64) -> Option<u64> {
        let pick = |likes: bool, random: &mut dyn FnMut() -> f64| {
            let ids: Vec<u64> = catalog.iter().filter(|(id, g)| self.likes(*g) == likes && !recent.contains(id)).map(|(id, _)| *id).collect();
            (!ids.is_empty()).then(|| ids[((random() * ids.len() as f64) as usize).min(ids.len() - 1)])
        };
        if (random() as f32) < self.curiosity {
            return pick(false, random);
        }
        let genre_of = |i: u64| catalog.iter().find(|(id, _)| *id == i).map(|(_, g)| *g);
        let from_list = list.iter().copied().find(|i| !recent.contains(i) && genre_of(*i).is_some_and(|g| self.likes(g)));
        from_list.or_else(|| pick(true, random))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Six items, genres 0, 0, 1, 1, 2, 2.
    fn catalog() -> Vec<(u64, usize)> {
        (1..=6).map(|id| (id, (id as usize - 1) / 2)).collect()
    }

    #[test]
    fn hit_rate_is_the_share_of_liked_genres() {
        let p = Persona { liked: vec![0], curiosity: 0.0 };
        let c = catalog();
        let genre = |i: u64| c.iter().find(|(id, _)| *id == i).map(|(_, g)| *g);
        assert_eq!(p.hit_rate(&[1, 2, 3, 5], genre), 0.5);
        assert_eq!(p.hit_rate(&[], genre), 0.0);
    }

    #[test]
    fn it_skips_at_two_seconds_and_plays_past_the_threshold() {
        let p = Persona { liked: vec![1], curiosity: 0.0 };
        assert_eq!(p.stop_secs(0, 10.0), 2.0);
        assert_eq!(p.stop_secs(1, 10.0), 15.0);
    }

    #[test]
    fn choices_follow_the_list_then_browse_then_curiosity() {
        let p = Persona { liked: vec![1], curiosity: 0.3 };
        let c = catalog();
        // Not curious (0.9 ≥ 0.3): the first liked, unplayed item of the list.
        let mut not_curious = || 0.9;
        assert_eq!(p.choose(&c, &[3], &[5, 3, 4], &mut not_curious), Some(4));
        // The list offers nothing liked: browse the liked genre's unplayed items.
        let mut draws = [0.9, 0.0].into_iter();
        assert_eq!(p.choose(&c, &[], &[1, 5], &mut || draws.next().unwrap_or(0.0)), Some(3));
        // Curious: an item of a disliked genre.
        let mut draws = [0.1, 0.99].into_iter();
        assert_eq!(p.choose(&c, &[], &[3], &mut || draws.next().unwrap_or(0.0)), Some(6));
        // Everything liked was played and the list has nothing: nothing to choose.
        assert_eq!(p.choose(&c, &[3, 4], &[1], &mut not_curious), None);
        assert_eq!(presets(5), vec![vec![0, 1], vec![2, 3]]);
    }
}
