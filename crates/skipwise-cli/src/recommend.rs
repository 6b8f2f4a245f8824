//! `recommend`: a model file's top-k for a session given on the command line. Items are the
//! model's item numbers or the names the log gave them (titles for Last.fm, string ids for MSSD
//! and CSV logs; the model file keeps them); `~` before an item marks a skip. As in training,
//! the FP-aware methods leave skips out of the input and Vanilla keeps them; the session's items
//! are never recommended back.

use crate::cli::Recommend;
use crate::eval::read_model;
use skipwise_core::burn::tensor::Device;
use skipwise_core::train::top_k;
use std::collections::HashMap;

/// One typed play: the model's row of the item, and whether it was a skip.
fn parse_session(text: &str, rows: &HashMap<String, u32>) -> Result<Vec<(u32, bool)>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .enumerate()
        .map(|(i, t)| {
            let (skip, id) = match t.strip_prefix('~') {
                Some(rest) => (true, rest.trim()),
                None => (false, t),
            };
            rows.get(id).map(|&r| (r, skip)).ok_or_else(|| format!("--session, item {}: {id:?} is not an item of this model", i + 1))
        })
        .collect()
}

pub fn recommend(args: &Recommend) -> Result<(), String> {
    let model = read_model(&args.model)?;
    // Each row by what a person would type: its number, or the name the log gave it (a title
    // for Last.fm, the string id for MSSD and CSV logs).
    let label = |id: u64| model.names.get(&id).cloned().unwrap_or_else(|| id.to_string());
    let mut rows: HashMap<String, u32> = HashMap::new();
    for (i, &id) in model.items.iter().enumerate() {
        rows.insert(id.to_string(), i as u32 + 1);
        rows.insert(label(id), i as u32 + 1);
    }
    let session = parse_session(&args.session, &rows)?;
    if session.is_empty() {
        return Err("--session: no items given".into());
    }
    let keep_skips = model.config.objective.method.keeps_fps_in_input();
    let prefix: Vec<u32> = session.iter().filter(|(_, skip)| keep_skips || !skip).map(|(r, _)| *r).collect();
    let trainer = model.trainer(&Device::flex(), &args.model)?;
    let scores: Vec<f32> = trainer
        .score_tensor(&prefix)
        .into_data()
        .try_to_vec::<f32>()
        .map_err(|e| format!("reading the scores failed: {e:?}"))?;
    let seen: Vec<u32> = session.iter().map(|(r, _)| *r).collect();
    println!(
        "{} {}: top {} after {} plays ({} skips{})",
        model.config.objective.method.name(),
        model.config.model.backbone.name(),
        args.top,
        session.len(),
        session.iter().filter(|(_, s)| *s).count(),
        if keep_skips { ", kept in the input" } else { ", left out of the input" }
    );
    for (rank, (row, score)) in top_k(&scores, args.top, &seen).into_iter().enumerate() {
        let id = model.items.get(row as usize - 1).copied().unwrap_or_default();
        println!("{:>3}. {:<24} {score:.4}", rank + 1, label(id));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_session;
    use std::collections::HashMap;

    #[test]
    fn a_typed_session_names_rows_and_skips_and_an_unknown_item_is_refused_by_place() {
        let rows: HashMap<String, u32> = [("12", 1), ("t_abc", 2), ("7", 3)].into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        assert_eq!(parse_session("12, ~t_abc,7", &rows), Ok(vec![(1, false), (2, true), (3, false)]));
        assert_eq!(parse_session("12,,~ 7", &rows), Ok(vec![(1, false), (3, true)]));
        let err = parse_session("12,99", &rows).expect_err("unknown");
        assert_eq!(err, r#"--session, item 2: "99" is not an item of this model"#);
    }
}
