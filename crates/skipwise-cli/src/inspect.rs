//! `inspect`: a log as `train` would read it — events, sessions, items, FPs and the split —
//! without training. It is also what `bench` runs in a child process to read the peak memory of
//! loading a large file from the OS.

use crate::cli::Inspect;
use crate::commands::write_json;
use crate::train::prepare;
use serde::Serialize;

#[derive(Serialize)]
struct Summary<'a> {
    data: &'a str,
    format: &'a str,
    lines: usize,
    events: usize,
    sessions: usize,
    items: usize,
    fp_share: f32,
    mean_session_length: f64,
    split: [usize; 3],
    /// This process's own peak (Linux `VmHWM`); `bench` reads the kernel's account instead.
    peak_rss_mb: Option<f64>,
}

pub fn inspect(args: &Inspect) -> Result<(), String> {
    let p = prepare(&args.data)?;
    let clicks: usize = p.data.sessions.iter().map(|s| s.clicks.len()).sum();
    let summary = Summary {
        data: &args.data.data,
        format: p.format.name(),
        lines: p.loaded.lines,
        events: p.loaded.events.len(),
        sessions: p.data.sessions.len(),
        items: p.data.items.len(),
        fp_share: p.data.fp_share(),
        mean_session_length: clicks as f64 / p.data.sessions.len().max(1) as f64,
        split: [p.split.train.len(), p.split.valid.len(), p.split.test.len()],
        peak_rss_mb: crate::bench::peak_rss_mb(),
    };
    println!("{} ({} format)", summary.data, summary.format);
    println!("  {} lines, {} events", summary.lines, summary.events);
    println!("  {} sessions of {:.1} plays on average, {} items, {:.1} % FPs", summary.sessions, summary.mean_session_length, summary.items, 100.0 * summary.fp_share);
    println!("  split by start time: {} train, {} valid, {} test sessions", summary.split[0], summary.split[1], summary.split[2]);
    if let Some(mb) = summary.peak_rss_mb {
        println!("  peak memory {mb:.0} MB");
    }
    match &args.json {
        Some(path) => write_json(path, &summary),
        None => Ok(()),
    }
}
