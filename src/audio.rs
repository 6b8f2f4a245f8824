//! A tiny Web Audio synthesiser: each music item plays a clip whose genre picks the timbre and the
//! scale, and whose tempo and mood come from the catalog. Notes are scheduled a little ahead on
//! the audio clock (the page's 100 ms tick calls [`Synth::pump`]), the usual way to keep Web Audio
//! in time without a busy loop. Audio is a nicety: every failure here is silent.

use crate::catalog::Item;
use web_sys::{AudioContext, GainNode, OscillatorNode, OscillatorType};

/// Semitone steps of the scale each genre uses, with its waveform and notes per beat.
fn flavour(genre: usize) -> (OscillatorType, &'static [i32], u32) {
    match genre % 10 {
        0 => (OscillatorType::Sine, &[0, 2, 4, 7, 9], 1),              // ambient: major pentatonic, slow
        1 => (OscillatorType::Sawtooth, &[0, 2, 3, 5, 7, 8, 10], 2),   // synthwave: minor
        2 => (OscillatorType::Triangle, &[0, 2, 4, 5, 7, 9, 11], 2),   // folk: major
        3 => (OscillatorType::Triangle, &[0, 2, 3, 5, 7, 9, 10], 3),   // jazz: dorian, swung thirds
        4 => (OscillatorType::Square, &[0, 3, 5, 7, 10], 4),           // techno: minor pentatonic, 16ths
        5 => (OscillatorType::Sine, &[0, 4, 7, 11, 14], 2),            // lo-fi: major sevenths
        6 => (OscillatorType::Triangle, &[0, 2, 3, 5, 7, 8, 11], 2),   // classical: harmonic minor
        7 => (OscillatorType::Square, &[0, 2, 4, 5, 7, 9, 10], 4),     // funk: mixolydian
        8 => (OscillatorType::Sawtooth, &[0, 1, 3, 5, 7, 8, 10], 4),   // metal: phrygian, low
        _ => (OscillatorType::Square, &[0, 2, 4, 7, 9], 2),            // reggae: off-beat
    }
}

struct Voice {
    wave: OscillatorType,
    scale: &'static [i32],
    root_hz: f32,
    note_secs: f64,
    seed: u64,
    step: u64,
    next_at: f64,
}

#[derive(Default)]
pub struct Synth {
    ctx: Option<AudioContext>,
    master: Option<GainNode>,
    voice: Option<Voice>,
    sounding: Vec<(OscillatorNode, f64)>,
}

impl Synth {
    /// Starts `item`'s clip (a user gesture is on the stack, so the browser lets audio start).
    pub fn start(&mut self, item: &Item) {
        self.stop();
        if self.ctx.is_none() {
            let Ok(ctx) = AudioContext::new() else { return };
            let Ok(master) = ctx.create_gain() else { return };
            master.gain().set_value(0.06);
            if master.connect_with_audio_node(&ctx.destination()).is_err() {
                return;
            }
            self.ctx = Some(ctx);
            self.master = Some(master);
        }
        let Some(ctx) = &self.ctx else { return };
        // A context created before any gesture starts suspended; resuming is harmless otherwise.
        let _ = ctx.resume();
        let (wave, scale, per_beat) = flavour(item.genre_index);
        let octave = if item.genre_index % 10 == 8 { 110.0 } else { 220.0 };
        let tempo = item.tempo_bpm.unwrap_or(100).max(40) as f64;
        self.voice = Some(Voice {
            wave,
            scale,
            root_hz: octave * 2f32.powf((item.id % 12) as f32 / 12.0),
            note_secs: 60.0 / tempo / per_beat as f64,
            seed: item.id,
            step: 0,
            next_at: ctx.current_time() + 0.05,
        });
        self.pump();
    }

    pub fn stop(&mut self) {
        self.voice = None;
        for (osc, _) in self.sounding.drain(..) {
            let _ = osc.stop();
        }
    }

    /// Schedules the notes of the next quarter second.
    pub fn pump(&mut self) {
        let (Some(ctx), Some(master), Some(v)) = (&self.ctx, &self.master, &mut self.voice) else { return };
        let now = ctx.current_time();
        self.sounding.retain(|(_, end)| *end > now);
        while v.next_at < now + 0.25 {
            // A repeating 8-note phrase per item, so a track sounds like itself.
            let h = (v.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (v.step % 8 * 5)) as usize;
            let degree = v.scale[h % v.scale.len()] + if h % 7 == 0 { 12 } else { 0 };
            let hz = v.root_hz * 2f32.powf(degree as f32 / 12.0);
            let (t, len) = (v.next_at, v.note_secs * 0.9);
            if let (Ok(osc), Ok(env)) = (ctx.create_oscillator(), ctx.create_gain()) {
                osc.set_type(v.wave);
                osc.frequency().set_value(hz);
                let _ = env.gain().set_value_at_time(0.0, t);
                let _ = env.gain().linear_ramp_to_value_at_time(1.0, t + 0.01);
                let _ = env.gain().linear_ramp_to_value_at_time(0.0, t + len);
                if osc.connect_with_audio_node(&env).is_ok() && env.connect_with_audio_node(master).is_ok() {
                    let _ = osc.start_with_when(t);
                    let _ = osc.stop_with_when(t + len);
                    self.sounding.push((osc, t + len));
                }
            }
            v.step += 1;
            v.next_at += v.note_secs;
        }
    }
}
