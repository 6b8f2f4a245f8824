//! The player's clock: the played position is the wall clock × speed since the play (re)started,
//! not a sum of timer ticks. A timer only decides *when* the page looks; what it reads is exact,
//! so a skip at 2 s is labelled 2 s at ×60 too (one 100-ms tick is 6 s of play there), and a
//! planned stop (Autopilot's, or the item's end) is recorded at its exact second.

/// One play's clock. Times are page milliseconds (`performance.now()`), positions seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct PlayClock {
    /// When the position was last fixed, and what it was then.
    anchor_ms: f64,
    anchor_secs: f32,
    speed: f32,
    running: bool,
    /// The play ends here at the latest (the item's duration, or a planned stop before it).
    stop_secs: f32,
    duration_secs: f32,
}

impl PlayClock {
    /// A play of an item `duration_secs` long, started at `now_ms`, running at `speed`.
    pub fn start(now_ms: f64, speed: f32, duration_secs: f32) -> Self {
        let duration_secs = duration_secs.max(0.0);
        Self { anchor_ms: now_ms, anchor_secs: 0.0, speed: speed.max(0.0), running: true, stop_secs: duration_secs, duration_secs }
    }

    /// Seconds played at `now_ms`, never past the stop point.
    pub fn position(&self, now_ms: f64) -> f32 {
        let run = match self.running {
            true => ((now_ms - self.anchor_ms).max(0.0) / 1000.0) as f32 * self.speed,
            false => 0.0,
        };
        (self.anchor_secs + run).min(self.stop_secs)
    }

    /// Where the play will end by itself: the item's end, or an earlier planned stop.
    pub fn stop_secs(&self) -> f32 {
        self.stop_secs
    }

    /// Plans the play to end at `secs` (never after the item's end).
    pub fn stop_at(&mut self, secs: f32) {
        self.stop_secs = self.stop_secs.min(secs.max(0.0));
    }

    /// The play ends at a stop planned before the item's end (not by running out).
    pub fn planned_stop(&self) -> bool {
        self.stop_secs < self.duration_secs
    }

    /// The play reached its stop point at `now_ms`.
    pub fn ended(&self, now_ms: f64) -> bool {
        self.position(now_ms) >= self.stop_secs
    }

    fn reanchor(&mut self, now_ms: f64) {
        self.anchor_secs = self.position(now_ms);
        self.anchor_ms = now_ms;
    }

    pub fn set_speed(&mut self, now_ms: f64, speed: f32) {
        self.reanchor(now_ms);
        self.speed = speed.max(0.0);
    }

    pub fn pause(&mut self, now_ms: f64) {
        self.reanchor(now_ms);
        self.running = false;
    }

    pub fn resume(&mut self, now_ms: f64) {
        self.reanchor(now_ms);
        self.running = true;
    }

    pub fn running(&self) -> bool {
        self.running
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_position_is_the_clock_times_the_speed() {
        let c = PlayClock::start(1000.0, 60.0, 200.0);
        // 2 s of play at ×60 is 33.3 ms of wall time: far less than one 100-ms tick.
        assert!((c.position(1000.0 + 2000.0 / 60.0) - 2.0).abs() < 1e-4);
        assert_eq!(c.position(1000.0 + 100.0), 6.0);
        // Never past the end, however late the page looks.
        assert_eq!(c.position(1e9), 200.0);
        assert!(c.ended(1e9));
    }

    #[test]
    fn a_planned_stop_is_recorded_at_its_exact_second_however_late_the_tick() {
        let mut c = PlayClock::start(0.0, 60.0, 200.0);
        assert!(!c.planned_stop());
        c.stop_at(2.0);
        assert!(c.planned_stop());
        // The tick comes 100 ms later (6 s of play at ×60): the play still ended at 2 s.
        assert!(c.ended(100.0));
        assert_eq!(c.position(100.0), 2.0);
        // A stop after the item's end is the end.
        c.stop_at(500.0);
        assert_eq!(c.stop_secs(), 2.0);
    }

    #[test]
    fn speed_changes_and_pauses_keep_what_was_played() {
        let mut c = PlayClock::start(0.0, 1.0, 100.0);
        c.set_speed(5000.0, 10.0); // 5 s at ×1
        assert_eq!(c.position(6000.0), 15.0); // + 1 s at ×10
        c.pause(6000.0);
        assert!(!c.running());
        assert_eq!(c.position(60_000.0), 15.0);
        c.resume(60_000.0);
        assert_eq!(c.position(61_000.0), 25.0);
    }
}
