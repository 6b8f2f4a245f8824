//! Loading a log of 5 M plays takes memory in proportion to its events, never to its file:
//! `skipwise bench --parts loaders` writes a 5 M-row MovieLens `u.data` file and a 5 M-row MSSD
//! log (all 21 columns, ~0.66 GB), and loads each, sessions included, in a child process whose
//! peak resident memory it reads from the kernel (`wait4`). No timing is asserted.

use skipwise_core::data::Event;

const ROWS: usize = 5_000_000;

#[test]
fn five_million_rows_load_in_memory_proportional_to_their_events() {
    let json = std::env::temp_dir().join(format!("skipwise-memory-{}.json", std::process::id()));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_skipwise"))
        .args(["bench", "--parts", "loaders", "--load-rows", &ROWS.to_string(), "--json"])
        .arg(&json)
        .output()
        .expect("runs skipwise bench");
    assert!(out.status.success(), "bench failed: {}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("bench JSON")).expect("JSON");
    std::fs::remove_file(&json).ok();
    // The events themselves, one sessions' click (8 B) and one sort index (8 B) each, and room
    // for the rest: 64 MB + 128 B a row, 0.70 GB here. Before the loaders reserved their events
    // from the file's size, the doubling Vec alone took 1.08 GB for u.data.
    let bound = 64.0 + (ROWS * (std::mem::size_of::<Event>() + 48)) as f64 / 1e6;
    let rows = report["loaders"].as_array().expect("loader rows");
    assert_eq!(rows.len(), 2, "{report}");
    for row in rows {
        let (format, peak, file) = (row["format"].as_str().unwrap_or("?"), row["child_peak_rss_mb"].as_f64().expect("peak"), row["megabytes"].as_f64().expect("size"));
        println!("# {format}: {ROWS} rows, {file:.0} MB file, child peak {peak:.0} MB (bound {bound:.0} MB)");
        assert_eq!(row["rows"].as_u64(), Some(ROWS as u64));
        assert!(peak > 50.0 && peak < bound, "{format}: peak {peak:.0} MB for {ROWS} rows");
        if format == "mssd" {
            assert!(peak < file, "mssd: the loader held {peak:.0} MB, more than the {file:.0} MB file");
        }
    }
}
