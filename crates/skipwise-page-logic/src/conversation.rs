//! The page's side of the worker conversation: every request gets an id, answers are matched to
//! it, and answers to requests the page no longer waits for are dropped.
//!
//! A catalog switch, a reset, an import or a worker restart starts a new *epoch*: whatever was
//! asked before it can no longer apply (its lists are for another catalog or history), so those
//! answers are stale. An `Error` answer ends its request like any other answer, so no failure can
//! leave the page waiting for ever.

use std::collections::BTreeMap;

/// What a request in flight was for.
#[derive(Clone, Debug, PartialEq)]
pub enum Pending {
    /// Build the models for the current catalog and history.
    Start,
    /// Learn one play: the timeline entry's sequence number, and when it was sent (page ms).
    Observe { seq: u64, sent_at: f64 },
    /// Train some extra steps.
    Train,
    /// Pick a backend.
    Init,
    /// Both models' weights, for the page's history snapshot.
    Snapshot,
    /// Whether a model file (its name and text) fits the FP-aware slot.
    CheckModel { name: String, text: String },
}

#[derive(Debug, Default)]
pub struct Conversation {
    next_id: u64,
    /// Ids below this belong to an earlier epoch.
    floor: u64,
    pending: BTreeMap<u64, Pending>,
}

/// How an answer relates to what the page waits for.
#[derive(Debug, PartialEq)]
pub enum Answer {
    /// The final answer to a request in flight: it is no longer pending.
    Done(Pending),
    /// An intermediate message (progress, a loss) of a request in flight.
    Progress,
    /// An answer to a request of an earlier epoch, or to none the page knows: ignore it.
    Stale,
    /// Said by the worker on its own (id 0): `Booted`, a panic outside any request.
    Unsolicited,
}

impl Conversation {
    pub fn new() -> Self {
        Self { next_id: 1, floor: 1, pending: BTreeMap::new() }
    }

    /// Registers a request and returns its id.
    pub fn send(&mut self, what: Pending) -> u64 {
        let id = self.next_id.max(1);
        self.next_id = id + 1;
        self.pending.insert(id, what);
        id
    }

    /// Everything asked so far is stale from now on.
    pub fn new_epoch(&mut self) {
        self.floor = self.next_id.max(1);
        self.pending.clear();
    }

    /// A final answer (lists, `TrainDone`, `Ready`, `Error`) to request `id`.
    pub fn answer(&mut self, id: u64) -> Answer {
        if id == skipwise_protocol::UNSOLICITED {
            return Answer::Unsolicited;
        }
        match self.pending.remove(&id) {
            Some(p) if id >= self.floor => Answer::Done(p),
            _ => Answer::Stale,
        }
    }

    /// An intermediate message for request `id`: kept only while that request is in flight.
    pub fn progress(&self, id: u64) -> Answer {
        match (id, self.pending.contains_key(&id)) {
            (skipwise_protocol::UNSOLICITED, _) => Answer::Unsolicited,
            (_, true) => Answer::Progress,
            (_, false) => Answer::Stale,
        }
    }

    /// Which epoch this is: it changes with every [`Conversation::new_epoch`], so an async step
    /// can tell whether the page moved on while it waited.
    pub fn epoch(&self) -> u64 {
        self.floor
    }

    /// Plays sent that have no answer yet.
    pub fn observing(&self) -> usize {
        self.pending.values().filter(|p| matches!(p, Pending::Observe { .. })).count()
    }

    pub fn is_pending(&self, what: impl Fn(&Pending) -> bool) -> bool {
        self.pending.values().any(what)
    }

    /// The requests in flight, oldest first.
    pub fn in_flight(&self) -> impl Iterator<Item = (&u64, &Pending)> {
        self.pending.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_matched_to_their_request() {
        let mut c = Conversation::new();
        let a = c.send(Pending::Observe { seq: 0, sent_at: 1.0 });
        let b = c.send(Pending::Observe { seq: 1, sent_at: 2.0 });
        assert_ne!(a, b);
        assert_eq!(c.observing(), 2);
        // Out of order is fine: each answer ends its own request.
        assert_eq!(c.answer(b), Answer::Done(Pending::Observe { seq: 1, sent_at: 2.0 }));
        assert_eq!(c.progress(a), Answer::Progress);
        assert_eq!(c.answer(a), Answer::Done(Pending::Observe { seq: 0, sent_at: 1.0 }));
        assert_eq!(c.observing(), 0);
        // A second answer to the same request is stale, as is one to an id never sent.
        assert_eq!(c.answer(a), Answer::Stale);
        assert_eq!(c.answer(99), Answer::Stale);
        assert_eq!(c.answer(0), Answer::Unsolicited);
    }

    #[test]
    fn a_new_epoch_makes_everything_before_it_stale() {
        let mut c = Conversation::new();
        let start = c.send(Pending::Start);
        let play = c.send(Pending::Observe { seq: 0, sent_at: 0.0 });
        let before = c.epoch();
        c.new_epoch();
        assert_ne!(c.epoch(), before);
        assert_eq!(c.observing(), 0, "nothing of the old catalog is waited for");
        assert_eq!(c.progress(start), Answer::Stale);
        assert_eq!(c.answer(start), Answer::Stale);
        assert_eq!(c.answer(play), Answer::Stale);
        let fresh = c.send(Pending::Start);
        assert!(fresh > play);
        assert_eq!(c.progress(fresh), Answer::Progress);
        assert_eq!(c.answer(fresh), Answer::Done(Pending::Start));
    }

    #[test]
    fn nothing_in_flight_after_every_request_was_answered_even_by_errors() {
        let mut c = Conversation::new();
        let ids: Vec<u64> = (0..5).map(|seq| c.send(Pending::Observe { seq, sent_at: 0.0 })).collect();
        // An `Error` answer is an answer: the caller ends the request the same way.
        for id in ids {
            assert!(matches!(c.answer(id), Answer::Done(_)));
        }
        assert_eq!(c.observing(), 0);
        assert_eq!(c.in_flight().count(), 0);
    }
}
