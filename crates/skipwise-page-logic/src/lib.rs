//! The Skipwise page's logic in plain types: no Leptos, no web API, no burn, so every rule the
//! page follows is unit-tested natively (`cargo test -p skipwise-page-logic`). The page's modules
//! hold signals and call into these; the views only render.
//!
//! | module | what it decides |
//! |---|---|
//! | [`conversation`] | which worker answers the page still waits for (request ids, stale answers) |
//! | [`clock`] | the played position from the clock × speed, and exact stop points |
//! | [`latency`] | click-to-new-list times and their p50 / p95 |
//! | [`timeline`] | the visitor's plays, their labels, the cap on their number |
//! | [`lists`] | the rank moves between two recommendation lists, auto-next, skipped-genre counts, what dropped out, each item's reason in words |
//! | [`trails`] | where skipped items and the session moved on the embedding map |
//! | [`chart`] | the points of the page's line charts |
//! | [`lab`] | the Lab's progress, curves, bars, table cells and shipped samples |
//! | [`persona`] | Autopilot's listener: what it likes, plays, skips, and its hit rate |
//! | [`params`] | the page's state in its address, clamped with a note |

pub mod chart;
pub mod clock;
pub mod conversation;
pub mod lab;
pub mod latency;
pub mod lists;
pub mod params;
pub mod persona;
pub mod timeline;
pub mod trails;
