//! Streaming readers for the logs people have, each line read into one reused buffer (memory
//! grows with the events kept, never with the file), every bad line an error naming the file,
//! the line and the field.
//!
//! | format | file | what makes an FP |
//! |---|---|---|
//! | `inter` | RecBole's atomic `.inter` (header `user_id:token …`) | rating ≤ the rule's `rating_max` |
//! | `udata` | MovieLens-100K `u.data`: `user \t item \t rating \t time`, no header | rating |
//! | `ml1m` | MovieLens-1M `ratings.dat`: `user::item::rating::time` | rating |
//! | `ratings-csv` | newer MovieLens `ratings.csv`: header `userId,movieId,rating,timestamp` | rating |
//! | `mssd` | Spotify's MSSD logs (CSV with `session_id, session_position, track_id_clean, skip_1, skip_2, skip_3, not_skipped, …`) | the chosen skip flag ([`SkipFlag`]) |
//! | `lastfm` | Last.fm-1K `user \t time (ISO 8601) \t artist-id \t artist \t track-id \t track` | played time, inferred from the gap to the user's next play (capped), under the rule's `skip_secs` |
//! | `csv` | any CSV with a header, columns named by a [`ColumnMap`] | rating, played time or a skip column, as the rule reads them |
//!
//! String ids (MSSD's tracks and sessions, Last.fm's users and tracks) are numbered in order of
//! first appearance; [`Loaded::names`] keeps each item's original id, for output.

use crate::data::Event;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::io::BufRead;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Inter,
    UData,
    Ml1m,
    RatingsCsv,
    Mssd,
    Lastfm,
    Csv,
}

impl Format {
    pub const ALL: [Format; 7] = [Format::Inter, Format::UData, Format::Ml1m, Format::RatingsCsv, Format::Mssd, Format::Lastfm, Format::Csv];

    pub fn name(self) -> &'static str {
        match self {
            Format::Inter => "inter",
            Format::UData => "udata",
            Format::Ml1m => "ml1m",
            Format::RatingsCsv => "ratings-csv",
            Format::Mssd => "mssd",
            Format::Lastfm => "lastfm",
            Format::Csv => "csv",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == s)
    }

    /// Every format's name, for the messages that list them.
    pub fn names() -> String {
        Self::ALL.map(Self::name).join(", ")
    }

    /// The format a file's first line says it is in; `None` when it could be several.
    pub fn guess(first_line: &str) -> Option<Self> {
        let l = first_line.trim_end_matches(['\r', '\n']);
        if l.contains("user_id:") && l.contains('\t') {
            Some(Format::Inter)
        } else if l.starts_with("userId,movieId,rating") {
            Some(Format::RatingsCsv)
        } else if l.starts_with("session_id,") && l.contains("track_id_clean") {
            Some(Format::Mssd)
        } else if l.split("::").count() == 4 {
            Some(Format::Ml1m)
        } else if l.split('\t').count() == 4 && l.split('\t').all(|f| f.trim().parse::<f64>().is_ok()) {
            Some(Format::UData)
        } else if l.split('\t').count() == 6 && l.split('\t').nth(1).is_some_and(|t| parse_iso8601(t).is_some()) {
            Some(Format::Lastfm)
        } else {
            None
        }
    }
}

/// Which MSSD flag makes a play an FP: skipped very briefly (`skip_1`), briefly (`skip_2`, the
/// default: the closest to the paper's "played < 10 s"), most of it (`skip_3`), or any skip at
/// all (`not_skipped` false).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SkipFlag {
    Skip1,
    #[default]
    Skip2,
    Skip3,
    NotSkipped,
}

impl SkipFlag {
    pub fn column(self) -> &'static str {
        match self {
            SkipFlag::Skip1 => "skip_1",
            SkipFlag::Skip2 => "skip_2",
            SkipFlag::Skip3 => "skip_3",
            SkipFlag::NotSkipped => "not_skipped",
        }
    }
}

/// Columns of a generic CSV: the header names to read each field from (`item` and `time` are
/// needed; the rest optional).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ColumnMap {
    pub session: Option<String>,
    pub user: Option<String>,
    pub item: String,
    pub time: String,
    pub played: Option<String>,
    pub duration: Option<String>,
    pub rating: Option<String>,
    pub skipped: Option<String>,
}

impl ColumnMap {
    /// `session=sid,user=uid,item=track,time=ts,played=secs,duration=len,rating=stars,skipped=skip`.
    pub fn parse(spec: &str) -> std::result::Result<Self, String> {
        let mut m = ColumnMap::default();
        for pair in spec.split(',').filter(|p| !p.trim().is_empty()) {
            let (key, column) = pair.split_once('=').ok_or_else(|| format!("{pair:?} is not field=column"))?;
            let column = column.trim().to_string();
            match key.trim() {
                "session" => m.session = Some(column),
                "user" => m.user = Some(column),
                "item" => m.item = column,
                "time" => m.time = column,
                "played" => m.played = Some(column),
                "duration" => m.duration = Some(column),
                "rating" => m.rating = Some(column),
                "skipped" => m.skipped = Some(column),
                other => return Err(format!("unknown field {other:?} (session, user, item, time, played, duration, rating, skipped)")),
            }
        }
        if m.item.is_empty() || m.time.is_empty() {
            return Err("item=… and time=… are needed".into());
        }
        Ok(m)
    }
}

/// Last.fm: the longest a play can have lasted by default (`--max-play-secs`), s.
pub const MAX_PLAY_SECS: f32 = 600.0;

#[derive(Clone, Debug, Default)]
pub struct Options {
    pub skip_flag: SkipFlag,
    /// `csv` only.
    pub columns: Option<ColumnMap>,
    /// Last.fm: the longest a play can have lasted (the gap to the next play is capped here; a
    /// user's last play gets this).
    pub max_play_secs: f32,
    /// About how many events the file holds ([`rows_hint`]), reserved up front: a `Vec` that
    /// doubles as it grows holds up to twice its events, and three times while it moves them
    /// (1.08 GB to load 5 M MovieLens rows that take 0.4 GB as events; 0.66 GB with the hint).
    pub rows_hint: Option<usize>,
}

/// An estimate of a file's rows from its size and its first lines' mean length (a little over,
/// so that the estimate is rarely exceeded); `None` when the file cannot be read.
pub fn rows_hint(path: &std::path::Path) -> Option<usize> {
    use std::io::Read;
    let size = std::fs::metadata(path).ok()?.len();
    let mut head = Vec::with_capacity(64 * 1024);
    std::fs::File::open(path).ok()?.take(64 * 1024).read_to_end(&mut head).ok()?;
    let lines = head.iter().filter(|b| **b == b'\n').count().max(1);
    Some(((size as f64 / (head.len() as f64 / lines as f64)) * 1.02) as usize + 16)
}

/// A file's events and the original ids of its items (external id → name, for string ids).
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    pub events: Vec<Event>,
    pub names: HashMap<u64, String>,
    pub lines: usize,
}

/// Numbers strings in order of first appearance.
#[derive(Default)]
pub(crate) struct Interner {
    ids: HashMap<String, u64>,
}

impl Interner {
    pub(crate) fn id(&mut self, s: &str) -> (u64, bool) {
        if let Some(id) = self.ids.get(s) {
            return (*id, false);
        }
        let id = self.ids.len() as u64 + 1;
        self.ids.insert(s.to_string(), id);
        (id, true)
    }
}

/// Reads every event of `reader` in `format`; `name` names the file in errors.
pub fn read(reader: impl BufRead, name: &str, format: Format, options: &Options) -> Result<Loaded> {
    match format {
        Format::Inter => {
            let (events, names) = crate::movielens::read_inter(reader, name)?;
            let lines = events.len() + 1;
            Ok(Loaded { events, names, lines })
        }
        Format::UData => delimited(reader, name, "\t", false, options),
        Format::Ml1m => delimited(reader, name, "::", false, options),
        Format::RatingsCsv => delimited(reader, name, ",", true, options),
        Format::Mssd => {
            let columns = ColumnMap {
                session: Some("session_id".into()),
                item: "track_id_clean".into(),
                time: "session_position".into(),
                skipped: Some(options.skip_flag.column().into()),
                ..ColumnMap::default()
            };
            let negate = options.skip_flag == SkipFlag::NotSkipped;
            csv_columns(reader, name, &columns, negate, options)
        }
        Format::Csv => {
            let columns = options.columns.as_ref().ok_or_else(|| Error::Config("--format csv needs --columns item=…,time=…".into()))?;
            csv_columns(reader, name, columns, false, options)
        }
        Format::Lastfm => lastfm(reader, name, options),
    }
}

fn parse_err(file: &str, line: usize, field: &str, reason: String) -> Error {
    Error::Parse { file: file.into(), line, field: field.into(), reason }
}

/// Calls `each(line_no, line)` for every non-empty line, one reused buffer.
fn lines(mut reader: impl BufRead, name: &str, mut each: impl FnMut(usize, &str) -> Result<()>) -> Result<usize> {
    let mut buf = String::new();
    let mut n = 0;
    loop {
        buf.clear();
        let read = reader.read_line(&mut buf).map_err(|e| parse_err(name, n + 1, "line", e.to_string()))?;
        if read == 0 {
            return Ok(n);
        }
        n += 1;
        let line = buf.trim_end_matches(['\r', '\n']);
        if !line.trim().is_empty() {
            each(n, line)?;
        }
    }
}

fn number<T: std::str::FromStr>(s: &str, file: &str, line: usize, field: &str) -> Result<T> {
    s.trim().parse::<T>().map_err(|_| parse_err(file, line, field, format!("{:?} is not a number of the expected kind", s.trim())))
}

fn finite(s: &str, file: &str, line: usize, field: &str) -> Result<f64> {
    let v: f64 = number(s, file, line, field)?;
    if !v.is_finite() {
        return Err(parse_err(file, line, field, format!("{s:?} is not finite")));
    }
    Ok(v)
}

/// `user SEP item SEP rating SEP time`, numeric, with an optional header line.
fn delimited(reader: impl BufRead, name: &str, sep: &str, header: bool, options: &Options) -> Result<Loaded> {
    let mut out = Loaded::default();
    out.events.reserve(options.rows_hint.unwrap_or(0));
    out.lines = lines(reader, name, |n, line| {
        if header && n == 1 {
            return Ok(());
        }
        let f: Vec<&str> = line.split(sep).collect();
        if f.len() < 4 {
            return Err(parse_err(name, n, "line", format!("{} fields, expected user{sep}item{sep}rating{sep}time", f.len())));
        }
        out.events.push(Event {
            session: None,
            user: Some(number(f[0], name, n, "user")?),
            item: number(f[1], name, n, "item")?,
            rating: Some(finite(f[2], name, n, "rating")? as f32),
            timestamp: finite(f[3], name, n, "time")?,
            played_secs: None,
            duration_secs: None,
            skipped: None,
        });
        Ok(())
    })?;
    Ok(out)
}

/// The `csv` crate's error in this module's words: the line, and what was expected there.
fn csv_err(name: &str, e: &csv::Error) -> Error {
    let line = e.position().map_or(0, |p| p.line() as usize);
    let reason = match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => format!("{len} fields, expected {expected_len} as in the header"),
        csv::ErrorKind::Utf8 { err, .. } => format!("field {} is not valid UTF-8", err.field() + 1),
        csv::ErrorKind::Io(io) => io.to_string(),
        _ => e.to_string(),
    };
    parse_err(name, line, "line", reason)
}

/// A CSV with a header, read with the `csv` crate (quoted fields, commas inside quotes).
fn csv_columns(reader: impl BufRead, name: &str, map: &ColumnMap, negate_skip: bool, options: &Options) -> Result<Loaded> {
    let mut r = csv::ReaderBuilder::new().flexible(false).from_reader(reader);
    let headers = r.headers().map_err(|e| csv_err(name, &e))?.clone();
    let col = |c: &str| headers.iter().position(|h| h.trim() == c).ok_or_else(|| parse_err(name, 1, c, "no such column in the header".into()));
    let opt = |c: &Option<String>| c.as_ref().map(|c| col(c)).transpose();
    let (item, time) = (col(&map.item)?, col(&map.time)?);
    let (session, user, played, duration, rating, skipped) =
        (opt(&map.session)?, opt(&map.user)?, opt(&map.played)?, opt(&map.duration)?, opt(&map.rating)?, opt(&map.skipped)?);
    let mut out = Loaded::default();
    out.events.reserve(options.rows_hint.unwrap_or(0));
    let (mut items, mut sessions, mut users) = (Interner::default(), Interner::default(), Interner::default());
    let mut record = csv::StringRecord::new();
    loop {
        let more = r.read_record(&mut record).map_err(|e| csv_err(name, &e))?;
        if !more {
            break;
        }
        let n = record.position().map_or(0, |p| p.line() as usize);
        let field = |c: usize| record.get(c).unwrap_or("").trim();
        let (item_id, new) = items.id(field(item));
        if new {
            out.names.insert(item_id, field(item).to_string());
        }
        let flag = |c: usize, what: &str| -> Result<bool> {
            match field(c).to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                other => Err(parse_err(name, n, what, format!("{other:?} is not true/false"))),
            }
        };
        out.events.push(Event {
            session: session.map(|c| sessions.id(field(c)).0),
            user: user.map(|c| users.id(field(c)).0),
            item: item_id,
            timestamp: finite(field(time), name, n, &headers[time])?,
            played_secs: played.map(|c| finite(field(c), name, n, &headers[c]).map(|v| v as f32)).transpose()?,
            duration_secs: duration.map(|c| finite(field(c), name, n, &headers[c]).map(|v| v as f32)).transpose()?,
            rating: rating.map(|c| finite(field(c), name, n, &headers[c]).map(|v| v as f32)).transpose()?,
            skipped: skipped.map(|c| flag(c, &headers[c]).map(|s| s != negate_skip)).transpose()?,
        });
        out.lines = n;
    }
    Ok(out)
}

/// Last.fm-1K: plays per user, newest first in the file; a play lasted until the user's next
/// play, at most `max_play_secs`.
fn lastfm(reader: impl BufRead, name: &str, options: &Options) -> Result<Loaded> {
    let cap = if options.max_play_secs > 0.0 { options.max_play_secs } else { 600.0 };
    let mut out = Loaded::default();
    out.events.reserve(options.rows_hint.unwrap_or(0));
    let (mut users, mut items) = (Interner::default(), Interner::default());
    out.lines = lines(reader, name, |n, line| {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 6 {
            return Err(parse_err(name, n, "line", format!("{} fields, expected user, time, artist-id, artist, track-id, track", f.len())));
        }
        let t = parse_iso8601(f[1]).ok_or_else(|| parse_err(name, n, "timestamp", format!("{:?} is not YYYY-MM-DDTHH:MM:SSZ", f[1])))?;
        // Tracks without a MusicBrainz id are named by artist and title.
        let key = if f[4].trim().is_empty() { format!("{} — {}", f[3].trim(), f[5].trim()) } else { f[4].trim().to_string() };
        let (item, new) = items.id(&key);
        if new {
            out.names.insert(item, format!("{} — {}", f[3].trim(), f[5].trim()));
        }
        out.events.push(Event {
            session: None,
            user: Some(users.id(f[0].trim()).0),
            item,
            timestamp: t,
            played_secs: None,
            duration_secs: None,
            rating: None,
            skipped: None,
        });
        Ok(())
    })?;
    // Each play's length: the gap to the same user's next play, capped.
    let mut order: Vec<usize> = (0..out.events.len()).collect();
    order.sort_by(|a, b| {
        let (ea, eb) = (&out.events[*a], &out.events[*b]);
        ea.user.cmp(&eb.user).then(ea.timestamp.total_cmp(&eb.timestamp))
    });
    for w in 0..order.len() {
        let next = order.get(w + 1).map(|j| &out.events[*j]).filter(|n| n.user == out.events[order[w]].user).map(|n| n.timestamp);
        let e = &mut out.events[order[w]];
        e.played_secs = Some(next.map_or(cap, |t| ((t - e.timestamp) as f32).clamp(0.0, cap)));
    }
    Ok(out)
}

/// Seconds since 1970 of `YYYY-MM-DDTHH:MM:SSZ`.
pub fn parse_iso8601(s: &str) -> Option<f64> {
    let s = s.trim().strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let d: Vec<i64> = date.split('-').map(|x| x.parse().ok()).collect::<Option<_>>()?;
    let t: Vec<i64> = time.split(':').map(|x| x.parse().ok()).collect::<Option<_>>()?;
    let ([y, m, day], [hh, mm, ss]) = (<[i64; 3]>::try_from(d).ok()?, <[i64; 3]>::try_from(t).ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hh * 3600 + mm * 60 + ss) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Dataset, FpRule};

    fn load(text: &str, f: Format, o: &Options) -> Result<Loaded> {
        read(text.as_bytes(), "f", f, o)
    }

    #[test]
    fn movielens_in_all_its_forms() {
        let o = Options::default();
        let udata = load("196\t242\t3\t881250949\n186\t302\t1\t891717742\n", Format::UData, &o).expect("u.data");
        let ml1m = load("196::242::3::881250949\n186::302::1::891717742\n", Format::Ml1m, &o).expect("ratings.dat");
        let csv = load("userId,movieId,rating,timestamp\n196,242,3.0,881250949\n186,302,1.0,891717742\n", Format::RatingsCsv, &o).expect("ratings.csv");
        for l in [&udata, &ml1m, &csv] {
            assert_eq!(l.events.len(), 2);
            assert_eq!((l.events[1].user, l.events[1].item, l.events[1].rating), (Some(186), 302, Some(1.0)));
        }
        let e = load("196\t242\t3\t881250949\n186\tx\t1\t891717742\n", Format::UData, &o).unwrap_err();
        assert_eq!(e.to_string(), "f:2: field `item`: \"x\" is not a number of the expected kind");
        let e = load("196::242::3\n", Format::Ml1m, &o).unwrap_err();
        assert!(e.to_string().starts_with("f:1: field `line`: 3 fields"), "{e}");
        assert_eq!(Format::guess("196\t242\t3\t881250949"), Some(Format::UData));
        assert_eq!(Format::guess("1::1193::5::978300760"), Some(Format::Ml1m));
        assert_eq!(Format::guess("userId,movieId,rating,timestamp"), Some(Format::RatingsCsv));
        assert_eq!(Format::guess("user_id:token\titem_id:token\trating:float\ttimestamp:float"), Some(Format::Inter));
        assert_eq!(Format::guess("a,b,c"), None);
    }

    #[test]
    fn mssd_skips_follow_the_chosen_flag() {
        let text = "session_id,session_position,session_length,track_id_clean,skip_1,skip_2,skip_3,not_skipped\n\
                    s1,1,3,t_a,false,false,false,true\n\
                    s1,2,3,t_b,false,true,true,false\n\
                    s1,3,3,t_a,true,true,true,false\n";
        assert_eq!(Format::guess(text.lines().next().unwrap_or("")), Some(Format::Mssd));
        let skips = |flag| {
            let l = load(text, Format::Mssd, &Options { skip_flag: flag, ..Options::default() }).expect("mssd");
            l.events.iter().map(|e| e.skipped.unwrap_or(false)).collect::<Vec<_>>()
        };
        assert_eq!(skips(SkipFlag::Skip1), vec![false, false, true]);
        assert_eq!(skips(SkipFlag::Skip2), vec![false, true, true]);
        assert_eq!(skips(SkipFlag::NotSkipped), vec![false, true, true]);
        let l = load(text, Format::Mssd, &Options::default()).expect("mssd");
        assert_eq!(l.events.iter().map(|e| e.item).collect::<Vec<_>>(), vec![1, 2, 1], "string ids numbered");
        assert_eq!(l.names.get(&2).map(String::as_str), Some("t_b"));
        let data = Dataset::from_events(&l.events, &FpRule::default(), 1800.0, 2).expect("sessions");
        assert_eq!(data.sessions.len(), 1);
        assert_eq!(data.sessions[0].clicks.iter().map(|c| c.fp).collect::<Vec<_>>(), vec![false, true, true]);
        let bad = text.replace("s1,2,3,t_b,false,true", "s1,2,3,t_b,false,maybe");
        let e = load(&bad, Format::Mssd, &Options::default()).unwrap_err().to_string();
        assert_eq!(e, "f:3: field `skip_2`: \"maybe\" is not true/false");
        let e = load("session_id,track_id_clean\n", Format::Mssd, &Options::default()).unwrap_err().to_string();
        assert!(e.contains("session_position") && e.contains("no such column"), "{e}");
    }

    #[test]
    fn lastfm_play_time_is_the_gap_to_the_next_play_capped() {
        // Newest first, as the dataset ships; two users.
        let text = "user_000001\t2009-05-04T13:08:57Z\ta1\tArtist\tt2\tSecond\n\
                    user_000001\t2009-05-04T13:08:52Z\ta1\tArtist\tt1\tFirst\n\
                    user_000002\t2009-05-04T12:00:00Z\ta2\tOther\t\tNo Id\n";
        assert_eq!(Format::guess(text.lines().next().unwrap_or("")), Some(Format::Lastfm));
        let l = load(text, Format::Lastfm, &Options { max_play_secs: 300.0, ..Options::default() }).expect("lastfm");
        let played: Vec<f32> = l.events.iter().map(|e| e.played_secs.unwrap_or(-1.0)).collect();
        assert_eq!(played, vec![300.0, 5.0, 300.0]);
        assert_eq!(l.names.get(&3).map(String::as_str), Some("Other — No Id"));
        assert!(FpRule::default().is_fp(&l.events[1]), "5 s then the next track: a skip");
        let e = load("u\t2009-13-04T13:08:57Z\ta\tA\tt\tT\n", Format::Lastfm, &Options::default()).unwrap_err().to_string();
        assert!(e.starts_with("f:1: field `timestamp`"), "{e}");
        assert_eq!(parse_iso8601("1970-01-02T00:00:01Z"), Some(86_401.0));
        assert_eq!(parse_iso8601("2000-03-01T00:00:00Z"), Some(951_868_800.0));
    }

    #[test]
    fn a_generic_csv_maps_its_columns() {
        let text = "listener,track,\"when, unix\",secs,len\nann,\"Song, A\",100,3,200\nann,B,110,180,200\n";
        let columns = ColumnMap::parse("user=listener,item=track,time=when, unix,played=secs,duration=len");
        assert!(columns.is_err(), "a comma inside a column name cannot be given this way");
        let mut text = text.replace("\"when, unix\"", "at");
        let columns = ColumnMap::parse("user=listener,item=track,time=at,played=secs,duration=len").expect("spec");
        let o = Options { columns: Some(columns.clone()), ..Options::default() };
        let l = load(&text, Format::Csv, &o).expect("csv");
        assert_eq!(l.events.len(), 2);
        assert_eq!(l.names.get(&1).map(String::as_str), Some("Song, A"));
        assert!(FpRule::default().is_fp(&l.events[0]) && !FpRule::default().is_fp(&l.events[1]));
        text.push_str("ann,C,oops,1,2\n");
        let e = load(&text, Format::Csv, &o).unwrap_err().to_string();
        assert_eq!(e, "f:4: field `at`: \"oops\" is not a number of the expected kind");
        assert!(load(&text, Format::Csv, &Options::default()).is_err(), "csv needs its columns");
        assert!(ColumnMap::parse("item=a").is_err() && ColumnMap::parse("item=a,time=b,colour=c").is_err());
    }
}
