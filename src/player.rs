//! The player: what is playing, its clock, and the actions Play, Pause, Skip, Like. The played
//! position is read from `skipwise_page_logic::clock::PlayClock` (clock × speed), so a play is
//! recorded at the second it really ended, whatever the timer's rhythm.

use crate::conversation;
use crate::state::{Ctx, now_ms};
use leptos::prelude::*;
use skipwise_page_logic::clock::PlayClock;
use skipwise_protocol::Play;

/// Ends the current play where the clock says it is: it joins the history and the models.
pub fn finish(ctx: Ctx) {
    let Some(id) = ctx.now.get_untracked() else { return };
    let Some(item) = ctx.item(id) else { return };
    let played = ctx.clock.with_value(|c| c.as_ref().map_or(0.0, |c| c.position(now_ms())));
    let liked = ctx.liked.get_untracked();
    let play = Play { item: id, played_secs: played, duration_secs: item.duration_secs, skip_secs: ctx.skip_secs.get_untracked(), liked };
    let mut seq = 0;
    ctx.timeline.update(|t| seq = t.push(play));
    let how = match (liked, played < item.duration_secs) {
        (true, _) => "Liked",
        (false, true) => "Stopped",
        (false, false) => "Played to the end",
    };
    ctx.message.set(format!("{how} after {played:.0} s — the models are learning…"));
    crate::storage::persist(ctx);
    if ctx.models_ready.get_untracked() {
        conversation::observe(ctx, seq, play);
    }
    ctx.stop_playing();
}


/// Plays `id` from the start, ending whatever played before.
pub fn play(ctx: Ctx, id: u64) {
    finish(ctx);
    let Some(item) = ctx.item(id) else { return };
    ctx.now.set(Some(id));
    ctx.position.set(0.0);
    ctx.liked.set(false);
    ctx.playing.set(true);
    ctx.clock.set_value(Some(PlayClock::start(now_ms(), ctx.speed.get_untracked(), item.duration_secs)));
    if item.tempo_bpm.is_some() {
        ctx.synth.update_value(|s| s.start(&item));
    }
}

/// Ends the current play by itself at `secs` (Autopilot's skip, or its play past the threshold).
pub fn stop_at(ctx: Ctx, secs: f32) {
    ctx.clock.update_value(|c| {
        if let Some(c) = c {
            c.stop_at(secs);
        }
    });
}

/// The next item: the FP-aware list's best that is not playing now and was never skipped.
fn next_item(ctx: Ctx, after: Option<u64>) -> Option<u64> {
    let skipped = ctx.timeline.with_untracked(|t| t.skipped());
    ctx.recs.with_untracked(|r| skipwise_page_logic::lists::next_to_play(r, after, &skipped))
}

pub fn skip(ctx: Ctx) {
    let current = ctx.now.get_untracked();
    if current.is_none() {
        return;
    }
    let next = next_item(ctx, current);
    finish(ctx);
    if let Some(next) = next {
        play(ctx, next);
    }
}

pub fn toggle(ctx: Ctx) {
    match ctx.now.get_untracked() {
        None => {
            if let Some(next) = next_item(ctx, None) {
                play(ctx, next);
            }
        }
        Some(id) => {
            let playing = !ctx.playing.get_untracked();
            ctx.playing.set(playing);
            let t = now_ms();
            ctx.clock.update_value(|c| match (c, playing) {
                (Some(c), true) => c.resume(t),
                (Some(c), false) => c.pause(t),
                (None, _) => {}
            });
            match (playing, ctx.item(id)) {
                (true, Some(item)) if item.tempo_bpm.is_some() => ctx.synth.update_value(|s| s.start(&item)),
                _ => ctx.synth.update_value(|s| s.stop()),
            }
        }
    }
}

pub fn like(ctx: Ctx) {
    if ctx.now.get_untracked().is_some() {
        ctx.liked.update(|l| *l = !*l);
    }
}

pub fn set_speed(ctx: Ctx, speed: f32) {
    ctx.speed.set(speed);
    let t = now_ms();
    ctx.clock.update_value(|c| {
        if let Some(c) = c {
            c.set_speed(t, speed);
        }
    });
}

/// The timer's call: shows the clock's position, ends a play at its stop point (a planned stop
/// just ends it; the item's end moves on to the next recommendation), feeds the synth.
pub fn tick(ctx: Ctx) {
    let Some((position, ended, planned)) = ctx.clock.with_value(|c| {
        c.as_ref().map(|c| {
            let t = now_ms();
            (c.position(t), c.ended(t), c.planned_stop())
        })
    }) else {
        return;
    };
    ctx.position.set(position);
    match (ended, planned) {
        (true, true) => finish(ctx),
        (true, false) => skip(ctx),
        (false, _) if ctx.playing.get_untracked() => ctx.synth.update_value(|s| s.pump()),
        (false, _) => {}
    }
}
