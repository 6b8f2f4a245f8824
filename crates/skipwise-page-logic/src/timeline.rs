//! The visitor's plays in order, each with the label the worker's FP rule gave it, capped at
//! [`MAX_PLAYS`] (the oldest go first, and are counted).

use skipwise_protocol::Play;
pub use skipwise_protocol::history::MAX_PLAYS;

/// A play in the timeline. `seq` numbers plays from the first one ever kept (dropped ones
/// included), so an answer about a play still finds it after older plays were dropped.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub seq: u64,
    pub play: Play,
    /// `None` until the worker labelled it.
    pub fp: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    pub entries: Vec<Entry>,
    /// Plays dropped from the front by the cap.
    pub dropped: u64,
}

impl Timeline {
    /// A saved history, not labelled yet (the worker relearns it and labels it).
    pub fn from_plays(plays: Vec<Play>, dropped: u64) -> Self {
        let entries = plays.into_iter().enumerate().map(|(i, play)| Entry { seq: dropped + i as u64, play, fp: None }).collect();
        Self { entries, dropped }
    }

    /// The sequence number the next play will get.
    pub fn next_seq(&self) -> u64 {
        self.dropped + self.entries.len() as u64
    }

    /// Appends a play and returns its sequence number; past the cap the oldest play is dropped.
    pub fn push(&mut self, play: Play) -> u64 {
        let seq = self.next_seq();
        self.entries.push(Entry { seq, play, fp: None });
        if self.entries.len() > MAX_PLAYS {
            let excess = self.entries.len() - MAX_PLAYS;
            self.entries.drain(..excess);
            self.dropped += excess as u64;
        }
        seq
    }

    /// Gives the play `seq` its label; false when it is no longer in the timeline.
    pub fn label(&mut self, seq: u64, fp: bool) -> bool {
        match seq.checked_sub(self.dropped).and_then(|i| self.entries.get_mut(i as usize)) {
            Some(e) => {
                e.fp = Some(fp);
                true
            }
            None => false,
        }
    }

    /// Labels after a start: one per play, in order.
    pub fn label_all(&mut self, labels: &[bool]) {
        self.entries.iter_mut().zip(labels).for_each(|(e, fp)| e.fp = Some(*fp));
    }

    pub fn plays(&self) -> Vec<Play> {
        self.entries.iter().map(|e| e.play).collect()
    }

    pub fn get(&self, seq: u64) -> Option<&Entry> {
        seq.checked_sub(self.dropped).and_then(|i| self.entries.get(i as usize))
    }

    /// Items labelled FP (a play still on its way has no label yet).
    pub fn skipped(&self) -> Vec<u64> {
        self.entries.iter().filter(|e| e.fp == Some(true)).map(|e| e.play.item).collect()
    }

    /// Items of the newest `n` plays: what is "just heard" (Autopilot's persona does not replay
    /// them, the lists leave out the positives among them).
    pub fn recent_items(&self, n: usize) -> Vec<u64> {
        self.entries[self.entries.len().saturating_sub(n)..].iter().map(|e| e.play.item).collect()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// What the player shows once a play is labelled.
pub fn label_text(fp: bool, play: &Play) -> String {
    let secs = play.played_secs.round();
    match (fp, play.liked) {
        (true, _) => format!("FP: skipped after {secs} s"),
        (false, true) => format!("Positive: liked after {secs} s"),
        (false, false) => format!("Positive: played {secs} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn play(item: u64) -> Play {
        Play { item, played_secs: 1.0, duration_secs: 100.0, skip_secs: 10.0, liked: false }
    }

    #[test]
    fn labels_find_their_play_after_the_oldest_were_dropped() {
        let mut t = Timeline::default();
        let first = t.push(play(1));
        for i in 0..MAX_PLAYS as u64 {
            t.push(play(i + 2));
        }
        assert_eq!(t.len(), MAX_PLAYS);
        assert_eq!(t.dropped, 1);
        assert!(!t.label(first, true), "the first play was dropped");
        let last = t.next_seq() - 1;
        assert!(t.label(last, true));
        assert_eq!(t.get(last).map(|e| (e.play.item, e.fp)), Some((MAX_PLAYS as u64 + 1, Some(true))));
        assert_eq!(t.skipped(), vec![MAX_PLAYS as u64 + 1]);
    }

    #[test]
    fn recent_items_are_the_newest_plays() {
        let mut t = Timeline::default();
        for i in 1..=5 {
            t.push(play(i));
        }
        assert_eq!(t.recent_items(2), vec![4, 5]);
        assert_eq!(t.recent_items(30), vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn a_saved_history_keeps_its_numbering() {
        let mut t = Timeline::from_plays(vec![play(5), play(6)], 40);
        assert_eq!(t.entries[1].seq, 41);
        assert_eq!(t.push(play(7)), 42);
        t.label_all(&[true, false]);
        assert_eq!(t.entries.iter().map(|e| e.fp).collect::<Vec<_>>(), vec![Some(true), Some(false), None]);
    }

    #[test]
    fn likes_are_named_as_likes() {
        let liked = Play { liked: true, ..play(1) };
        assert_eq!(label_text(false, &liked), "Positive: liked after 1 s");
        assert_eq!(label_text(true, &play(1)), "FP: skipped after 1 s");
        assert_eq!(label_text(false, &Play { played_secs: 99.6, ..play(1) }), "Positive: played 100 s");
    }
}
