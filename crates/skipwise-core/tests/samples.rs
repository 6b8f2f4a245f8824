//! Every loader on its sample in `tests/data/` (written by `tests/data/make-samples.py` in each
//! format's exact layout), then on the same file with one line broken: the error names the file,
//! the line and the field, word for word.

use skipwise_core::data::{Dataset, FpRule};
use skipwise_core::loaders::{self, ColumnMap, Format, Options};

const GENERIC_COLUMNS: &str = "user=listener,item=track,time=when,played=seconds_played,duration=track_seconds";

fn path(name: &str) -> String {
    format!("{}/../../tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn options(format: Format) -> Options {
    let columns = (format == Format::Csv).then(|| ColumnMap::parse(GENERIC_COLUMNS).expect("columns"));
    Options { columns, max_play_secs: 600.0, ..Options::default() }
}

fn text(name: &str) -> String {
    std::fs::read_to_string(path(name)).expect("the sample is committed")
}

fn load(name: &str, body: &str, format: Format) -> skipwise_core::Result<loaders::Loaded> {
    loaders::read(body.as_bytes(), name, format, &options(format))
}

/// `text` with its line `n` (1-based) passed through `edit`.
fn with_line(text: &str, n: usize, edit: impl Fn(&str) -> String) -> String {
    text.lines().enumerate().map(|(i, l)| if i + 1 == n { edit(l) } else { l.to_string() } + "\n").collect()
}

const SAMPLES: [(&str, Format, bool); 7] = [
    ("ml-100k-u.data", Format::UData, false),
    ("ml-100k.inter", Format::Inter, true),
    ("ml-1m-ratings.dat", Format::Ml1m, false),
    ("ml-latest-ratings.csv", Format::RatingsCsv, true),
    ("mssd-log.csv", Format::Mssd, true),
    ("lastfm-1k.tsv", Format::Lastfm, false),
    ("plays-generic.csv", Format::Csv, true),
];

#[test]
fn each_sample_is_recognised_loaded_and_has_sessions_with_fps() {
    for (name, format, header) in SAMPLES {
        let body = text(name);
        let first = body.lines().next().unwrap_or_default();
        let guessed = Format::guess(first);
        match format {
            // A generic CSV's columns are whatever its header says: it must be named.
            Format::Csv => assert_eq!(guessed, None, "{name}"),
            _ => assert_eq!(guessed, Some(format), "{name}: guessed from {first:?}"),
        }
        let loaded = load(name, &body, format).unwrap_or_else(|e| panic!("{name}: {e}"));
        let rows = body.lines().count() - usize::from(header);
        assert_eq!(loaded.events.len(), rows, "{name}: one event per row");
        let rule = FpRule::default();
        let fps = loaded.events.iter().filter(|e| rule.is_fp(e)).count();
        assert!(fps > rows / 10 && fps < rows * 2 / 3, "{name}: {fps} FPs of {rows}");
        let data = Dataset::from_events(&loaded.events, &rule, 1800.0, 2).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(data.sessions.len() >= 60, "{name}: {} sessions", data.sessions.len());
    }
}

#[test]
fn a_broken_line_in_each_sample_is_named_by_file_line_and_field() {
    let cases: [(&str, Format, usize, fn(&str) -> String, &str); 9] = [
        ("ml-100k-u.data", Format::UData, 7, |l| l.replacen('\t', "\tx", 1), "ml-100k-u.data:7: field `item`: \"x111\" is not a number of the expected kind"),
        ("ml-100k-u.data", Format::UData, 3, |l| l.split('\t').take(3).collect::<Vec<_>>().join("\t"), "ml-100k-u.data:3: field `line`: 3 fields, expected user\titem\trating\ttime"),
        ("ml-100k.inter", Format::Inter, 5, |l| l.rsplit_once('\t').map_or(String::new(), |(a, _)| format!("{a}\tyesterday")), "ml-100k.inter:5: field `timestamp`: \"yesterday\" is not a finite number"),
        ("ml-1m-ratings.dat", Format::Ml1m, 4, |l| l.replacen("::", "::::", 1), "ml-1m-ratings.dat:4: field `item`: \"\" is not a number of the expected kind"),
        ("ml-latest-ratings.csv", Format::RatingsCsv, 9, |l| l.replace(".0,", ".0e999,").replace(".5,", ".5e999,"), "ml-latest-ratings.csv:9: field `rating`: \"5.0e999\" is not finite"),
        ("mssd-log.csv", Format::Mssd, 6, |l| l.replacen(",false,", ",nope,", 1).replacen(",true,", ",nope,", 1), "mssd-log.csv:6: field `skip_2`: \"nope\" is not true/false"),
        ("mssd-log.csv", Format::Mssd, 8, |l| l.rsplitn(2, ',').nth(1).unwrap_or_default().to_string(), "mssd-log.csv:8: field `line`: 20 fields, expected 21 as in the header"),
        ("lastfm-1k.tsv", Format::Lastfm, 2, |l| l.replacen('T', " ", 1), "lastfm-1k.tsv:2: field `timestamp`: \"1997-11-21 05:14:48Z\" is not YYYY-MM-DDTHH:MM:SSZ"),
        ("plays-generic.csv", Format::Csv, 3, |l| l.replacen(",88", ",not-a-time,88", 1), "plays-generic.csv:3: field `line`: 6 fields, expected 5 as in the header"),
    ];
    let mut wrong = Vec::new();
    for (name, format, line, edit, want) in cases {
        let broken = with_line(&text(name), line, edit);
        let err = load(name, &broken, format).err().unwrap_or_else(|| panic!("{name}: line {line} broken, yet it loaded")).to_string();
        if err != want {
            wrong.push(format!(" got  {err}\n want {want}"));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn a_file_that_is_not_utf8_is_refused_at_its_line() {
    let mut bytes = text("ml-100k-u.data").into_bytes();
    let third = bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(1).map_or(0, |(i, _)| i + 1);
    bytes[third] = 0xff;
    let err = loaders::read(&bytes[..], "latin1.data", Format::UData, &Options::default()).err().expect("not UTF-8").to_string();
    assert_eq!(err, "latin1.data:3: field `line`: stream did not contain valid UTF-8");
}

#[test]
fn a_csv_that_is_not_utf8_is_refused_at_its_line_and_field() {
    let body = text("plays-generic.csv").into_bytes();
    let mut bytes = body.clone();
    let fourth = bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(2).map_or(0, |(i, _)| i + 1);
    bytes[fourth + 1] = 0xe9; // inside the quoted listener name: Latin-1's é
    let err = loaders::read(&bytes[..], "latin1.csv", Format::Csv, &options(Format::Csv)).err().expect("not UTF-8").to_string();
    assert_eq!(err, "latin1.csv:4: field `line`: field 1 is not valid UTF-8");
}
