//! From sessions to training/evaluation examples, and from examples to padded device tensors.

use crate::data::{PAD, Session};
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One prediction step: the prefix the backbone sees, the item to predict, the FP items that the
/// metric term pushes away.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    pub prefix: Vec<u32>,
    pub target: u32,
    pub fps: Vec<u32>,
    /// The session this step came from (for per-session bookkeeping).
    pub session: u64,
}

/// What the backbone sees and what it must predict during training.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TrainView {
    /// Vanilla (paper eq. 1): every click is an input and a target, FPs included.
    AllClicks,
    /// FP-Simple and the metric variants (eq. 2): FPs removed from inputs and targets.
    PositivesOnly,
}

/// Which FPs make a session's FP set (NOTES §1.5.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FpScope {
    /// The session's own FPs (forced when the data has no users).
    Session,
    /// All of the user's training-period FPs (paper Definition 1); falls back to the session's.
    User,
}

/// Training examples: every prediction step k ≥ 2 of every session (RecBole-style augmentation).
pub fn train_examples(sessions: &[Session], view: TrainView, scope: FpScope, fp_cap: usize) -> Vec<Example> {
    let user_fps = user_fp_sets(sessions);
    let mut out = Vec::new();
    for s in sessions {
        let seq: Vec<u32> = match view {
            TrainView::AllClicks => s.clicks.iter().map(|c| c.item).collect(),
            TrainView::PositivesOnly => s.positives(),
        };
        let fps = match (scope, s.user, view) {
            // Vanilla's view has no FPs: they are positives there.
            (_, _, TrainView::AllClicks) => Vec::new(),
            (FpScope::User, Some(u), _) => user_fps.get(&u).cloned().unwrap_or_default(),
            _ => newest_distinct(s.clicks.iter().filter(|c| c.fp).map(|c| c.item)),
        };
        for k in 1..seq.len() {
            let fps = fp_set(&fps, &seq[..k], Some(seq[k]), fp_cap);
            out.push(Example { prefix: seq[..k].to_vec(), target: seq[k], fps, session: s.id });
        }
    }
    out
}

/// Evaluation examples: every positive click that has at least one earlier click in the view is
/// a target (NOTES §1.5.8: all methods are judged on the same positive-only targets).
/// `keep_fps_in_prefix` chooses Vanilla's natural input (FPs kept) or the FP-free one.
/// Each example also carries the session's FPs so far (distinct, by last occurrence): the metrics
/// ask how many of them come back in the top K. As in training (Proposition 1), an FP that is the
/// step's target or a positive earlier in the session is not one of that step's FPs.
pub fn eval_examples(sessions: &[Session], keep_fps_in_prefix: bool) -> Vec<Example> {
    let mut out = Vec::new();
    for s in sessions {
        let mut prefix: Vec<u32> = Vec::new();
        let mut positives: Vec<u32> = Vec::new();
        let mut fps: Vec<u32> = Vec::new();
        for c in &s.clicks {
            if !c.fp && !prefix.is_empty() {
                let fps = fp_set(&fps, &positives, Some(c.item), usize::MAX);
                out.push(Example { prefix: prefix.clone(), target: c.item, fps, session: s.id });
            }
            if !c.fp || keep_fps_in_prefix {
                prefix.push(c.item);
            }
            match c.fp {
                true => {
                    fps.retain(|f| *f != c.item);
                    fps.push(c.item);
                }
                false => positives.push(c.item),
            }
        }
    }
    out
}

/// RecBole's chronological leave-one-out over whole user sequences: every prefix of the sequence
/// without its last two items predicts the next item (training), the second-to-last item is the
/// validation target and the last the test target, each with the full history before it.
pub struct LeaveOneOut {
    pub train: Vec<Example>,
    pub valid: Vec<Example>,
    pub test: Vec<Example>,
}

/// A fingerprint of `examples` in order (FNV-1a over every field of each), so that saved
/// training state — a checkpoint — can tell whether it was made from these examples. Lengths
/// are hashed too: `[1, 2] [3]` and `[1] [2, 3]` differ.
pub fn fingerprint<'a>(examples: impl IntoIterator<Item = &'a Example>) -> u64 {
    let mut h = skipwise_protocol::fnv::Fnv1a::default();
    for e in examples {
        for items in [&e.prefix, &e.fps] {
            h.eat(&(items.len() as u64).to_le_bytes());
            for item in items {
                h.eat(&item.to_le_bytes());
            }
        }
        h.eat(&e.target.to_le_bytes());
        h.eat(&e.session.to_le_bytes());
    }
    h.finish()
}

pub fn leave_one_out(sequences: &[(u64, Vec<u32>)]) -> LeaveOneOut {
    let mut out = LeaveOneOut { train: Vec::new(), valid: Vec::new(), test: Vec::new() };
    for (user, seq) in sequences {
        let n = seq.len();
        if n < 3 {
            continue;
        }
        for k in 1..n - 2 {
            out.train.push(Example { prefix: seq[..k].to_vec(), target: seq[k], fps: vec![], session: *user });
        }
        out.valid.push(Example { prefix: seq[..n - 2].to_vec(), target: seq[n - 2], fps: vec![], session: *user });
        out.test.push(Example { prefix: seq[..n - 1].to_vec(), target: seq[n - 1], fps: vec![], session: *user });
    }
    out
}

/// Each user's FPs over all their sessions, distinct, ordered by their last occurrence.
fn user_fp_sets(sessions: &[Session]) -> HashMap<u32, Vec<u32>> {
    let mut all: HashMap<u32, Vec<u32>> = HashMap::new();
    for s in sessions {
        if let Some(u) = s.user {
            all.entry(u).or_default().extend(s.clicks.iter().filter(|c| c.fp).map(|c| c.item));
        }
    }
    all.into_iter().map(|(u, items)| (u, newest_distinct(items))).collect()
}

/// The distinct items of `items`, each at its *last* occurrence, oldest first: a skip repeated
/// later counts as a new skip.
pub fn newest_distinct(items: impl IntoIterator<Item = u32>) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::new();
    for i in items {
        out.retain(|x| *x != i);
        out.push(i);
    }
    out
}

/// The FP set of one prediction step: the newest `cap` of `fps` (distinct, oldest first, as
/// [`newest_distinct`] orders them) that are neither the step's `target` nor in its `prefix`.
/// Proposition 1 assumes an FP is not a positive of the step it is attached to; an item skipped
/// once and played elsewhere stays an FP of the other steps (a context skip is exactly that). The
/// newest, not the oldest: in the page a whole visit is one session, and its 9th and later skips
/// must reach the metric term.
pub fn fp_set(fps: &[u32], prefix: &[u32], target: Option<u32>, cap: usize) -> Vec<u32> {
    let mut kept: Vec<u32> = fps.iter().rev().copied().filter(|f| Some(*f) != target && !prefix.contains(f)).take(cap).collect();
    kept.reverse();
    kept
}

/// The session graph SR-GNN needs, as dense per-batch tensors.
#[derive(Clone, Debug)]
pub struct GraphBatch {
    /// Unique items of each session, padded with PAD: `[B, U]`.
    pub nodes: Tensor<2, Int>,
    /// 1 for real nodes: `[B, U]`.
    pub node_mask: Tensor<2>,
    /// Incoming edges normalised by in-degree: `[B, U, U]`.
    pub a_in: Tensor<3>,
    /// Outgoing edges normalised by out-degree: `[B, U, U]`.
    pub a_out: Tensor<3>,
    /// One-hot map from sequence position to node: `[B, L, U]` (zero rows at padding).
    pub alias: Tensor<3>,
}

/// A padded mini-batch on a device. Sequences are left-padded, so position `L − 1` is always the
/// last real item.
#[derive(Clone, Debug)]
pub struct Batch {
    pub items: Tensor<2, Int>,
    pub mask: Tensor<2>,
    pub targets: Tensor<1, Int>,
    /// `[B, F]`, PAD where a row has fewer FPs (F ≥ 1).
    pub fp_items: Tensor<2, Int>,
    pub fp_mask: Tensor<2>,
    pub graph: Option<GraphBatch>,
    pub size: usize,
    /// Host copy of the targets (for metrics and bookkeeping).
    pub target_ids: Vec<u32>,
    /// Each row's user (row of the user table; 0 = unknown), for a model with the user term;
    /// the trainer fills it in (`Trainer::set_users`).
    pub users: Option<Tensor<1, Int>>,
}

/// Builds a batch; the last `max_len` items of each prefix are kept.
pub fn make_batch(examples: &[&Example], max_len: usize, with_graph: bool, device: &Device) -> Batch {
    make_batch_padded(examples, max_len, 1, 1, with_graph, device)
}

/// As [`make_batch`], padding the sequence length to at least `min_len` and the FP width to at
/// least `min_fps`. On WebGPU every new tensor shape compiles new kernels (seconds each on a
/// software adapter), so the browser trainer keeps its shapes fixed.
pub fn make_batch_padded(
    examples: &[&Example],
    max_len: usize,
    min_len: usize,
    min_fps: usize,
    with_graph: bool,
    device: &Device,
) -> Batch {
    let b = examples.len();
    let l = examples.iter().map(|e| e.prefix.len().min(max_len)).max().unwrap_or(1).max(min_len.min(max_len)).max(1);
    let f = examples.iter().map(|e| e.fps.len()).max().unwrap_or(0).max(min_fps).max(1);
    let mut items = vec![PAD as i64; b * l];
    let mut mask = vec![0f32; b * l];
    let mut fp_items = vec![PAD as i64; b * f];
    let mut fp_mask = vec![0f32; b * f];
    for (row, e) in examples.iter().enumerate() {
        let keep = &e.prefix[e.prefix.len().saturating_sub(max_len)..];
        let offset = l - keep.len();
        for (j, item) in keep.iter().enumerate() {
            items[row * l + offset + j] = *item as i64;
            mask[row * l + offset + j] = 1.0;
        }
        for (j, fp) in e.fps.iter().enumerate() {
            fp_items[row * f + j] = *fp as i64;
            fp_mask[row * f + j] = 1.0;
        }
    }
    let targets: Vec<i64> = examples.iter().map(|e| e.target as i64).collect();
    let graph = with_graph.then(|| graph_batch(&items, b, l, device));
    Batch {
        items: Tensor::from_data(TensorData::new(items, [b, l]), device),
        mask: Tensor::from_data(TensorData::new(mask, [b, l]), device),
        targets: Tensor::from_data(TensorData::new(targets, [b]), device),
        fp_items: Tensor::from_data(TensorData::new(fp_items, [b, f]), device),
        fp_mask: Tensor::from_data(TensorData::new(fp_mask, [b, f]), device),
        graph,
        size: b,
        target_ids: examples.iter().map(|e| e.target).collect(),
        users: None,
    }
}

/// SR-GNN's session graph (RecBole `SRGNN._get_slice`): unique items as nodes, an edge for each
/// consecutive pair, in-edges normalised by the target's in-degree, out-edges by the source's
/// out-degree.
fn graph_batch(items: &[i64], b: usize, l: usize, device: &Device) -> GraphBatch {
    let rows: Vec<Vec<i64>> = (0..b)
        .map(|r| {
            let mut nodes: Vec<i64> = items[r * l..(r + 1) * l].iter().copied().filter(|i| *i != PAD as i64).collect();
            nodes.sort_unstable();
            nodes.dedup();
            nodes
        })
        .collect();
    let u = rows.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let mut nodes = vec![PAD as i64; b * u];
    let mut node_mask = vec![0f32; b * u];
    let mut a_in = vec![0f32; b * u * u];
    let mut a_out = vec![0f32; b * u * u];
    let mut alias = vec![0f32; b * l * u];
    for (r, row_nodes) in rows.iter().enumerate() {
        let pos = |item: i64| row_nodes.binary_search(&item).ok();
        for (j, n) in row_nodes.iter().enumerate() {
            nodes[r * u + j] = *n;
            node_mask[r * u + j] = 1.0;
        }
        let seq = &items[r * l..(r + 1) * l];
        let mut adj = vec![0f32; u * u];
        for t in 0..l {
            if let Some(k) = pos(seq[t]).filter(|_| seq[t] != PAD as i64) {
                alias[(r * l + t) * u + k] = 1.0;
                if let Some(next) = seq.get(t + 1).and_then(|n| pos(*n)) {
                    adj[k * u + next] = 1.0;
                }
            }
        }
        for i in 0..u {
            let out_deg: f32 = (0..u).map(|j| adj[i * u + j]).sum();
            let in_deg: f32 = (0..u).map(|j| adj[j * u + i]).sum();
            for j in 0..u {
                if out_deg > 0.0 {
                    a_out[(r * u + i) * u + j] = adj[i * u + j] / out_deg;
                }
                if in_deg > 0.0 {
                    a_in[(r * u + i) * u + j] = adj[j * u + i] / in_deg;
                }
            }
        }
    }
    GraphBatch {
        nodes: Tensor::from_data(TensorData::new(nodes, [b, u]), device),
        node_mask: Tensor::from_data(TensorData::new(node_mask, [b, u]), device),
        a_in: Tensor::from_data(TensorData::new(a_in, [b, u, u]), device),
        a_out: Tensor::from_data(TensorData::new(a_out, [b, u, u]), device),
        alias: Tensor::from_data(TensorData::new(alias, [b, l, u]), device),
    }
}

#[cfg(test)]
mod tests {
    /// The fingerprint changes with any field, an item moved between prefix and FPs included,
    /// and not with anything else.
    #[test]
    fn the_fingerprint_sees_every_field() {
        let e = Example { prefix: vec![1, 2], target: 3, fps: vec![4], session: 5 };
        let base = fingerprint([&e]);
        // Pinned (computed by hand from the bytes: u64 lengths, u32 items, u32 target, u64
        // session, little-endian): committed checkpoints keep fingerprints made this way, and a
        // change of byte order would refuse every one of them.
        assert_eq!(base, 0x460c_ac5f_dbd1_8bd7);
        assert_eq!(base, fingerprint([&e.clone()]));
        let variants = [
            Example { prefix: vec![1], fps: vec![2, 4], ..e.clone() },
            Example { prefix: vec![2, 1], ..e.clone() },
            Example { target: 4, ..e.clone() },
            Example { fps: vec![], ..e.clone() },
            Example { session: 6, ..e.clone() },
        ];
        for v in &variants {
            assert_ne!(fingerprint([v]), base, "{v:?}");
        }
        assert_ne!(fingerprint([&e, &e]), base);
    }

    use super::*;
    use crate::data::Click;

    fn session(clicks: &[(u32, bool)]) -> Session {
        Session {
            id: 0,
            user: None,
            start: 0.0,
            clicks: clicks.iter().map(|(item, fp)| Click { item: *item, fp: *fp }).collect(),
        }
    }

    #[test]
    fn fp_sets_hold_the_newest_skips_and_never_a_positive_of_their_step() {
        assert_eq!(newest_distinct([1, 2, 1, 3]), vec![2, 1, 3]);
        // Twelve distinct skips, cap 8: the newest eight, oldest first.
        let twelve: Vec<u32> = (101..=112).collect();
        assert_eq!(fp_set(&twelve, &[], None, 8), (105..=112).collect::<Vec<_>>());
        // The step's target and its input are never in its FP set.
        assert_eq!(fp_set(&[5, 6, 7], &[1, 6], Some(7), 8), vec![5]);
        // A session that skips 2, then plays it: 2 is an FP of the steps that neither predict
        // nor contain it, and of no other.
        let s = Session {
            id: 0,
            user: None,
            start: 0.0,
            clicks: vec![
                Click { item: 1, fp: false },
                Click { item: 2, fp: true },
                Click { item: 3, fp: false },
                Click { item: 2, fp: false },
                Click { item: 4, fp: false },
            ],
        };
        let ex = train_examples(&[s], TrainView::PositivesOnly, FpScope::Session, 8);
        let steps: Vec<(u32, Vec<u32>)> = ex.iter().map(|e| (e.target, e.fps.clone())).collect();
        assert_eq!(steps, vec![(3, vec![2]), (2, vec![]), (4, vec![])]);
    }

    #[test]
    fn train_views_drop_or_keep_fps() {
        let s = session(&[(1, false), (2, true), (3, false), (4, false)]);
        let vanilla = train_examples(std::slice::from_ref(&s), TrainView::AllClicks, FpScope::Session, 50);
        assert_eq!(vanilla.len(), 3);
        assert_eq!(vanilla[0].target, 2);
        assert!(vanilla.iter().all(|e| e.fps.is_empty()));
        let simple = train_examples(&[s], TrainView::PositivesOnly, FpScope::Session, 50);
        assert_eq!(simple.iter().map(|e| e.target).collect::<Vec<_>>(), vec![3, 4]);
        assert_eq!(simple[1].prefix, vec![1, 3]);
        assert_eq!(simple[0].fps, vec![2]);
    }

    #[test]
    fn eval_targets_are_positive_only_in_both_input_views() {
        let s = session(&[(1, true), (2, false), (3, true), (4, false)]);
        let kept = eval_examples(std::slice::from_ref(&s), true);
        assert_eq!(kept.iter().map(|e| e.target).collect::<Vec<_>>(), vec![2, 4]);
        assert_eq!(kept[1].prefix, vec![1, 2, 3]);
        // The FPs so far (items 1 and 3) travel with each example, for the FP@K metric.
        assert_eq!((kept[0].fps.clone(), kept[1].fps.clone()), (vec![1], vec![1, 3]));
        let removed = eval_examples(&[s], false);
        assert_eq!(removed[0].fps, vec![1, 3]);
        // Item 2 has no positive before it, so only item 4 is a target.
        assert_eq!(removed.len(), 1);
        assert_eq!(removed[0].prefix, vec![2]);
    }

    #[test]
    fn leave_one_out_holds_out_the_last_two() {
        let loo = leave_one_out(&[(1, vec![5, 6, 7, 8, 9]), (2, vec![1, 2])]);
        assert_eq!(loo.train.iter().map(|e| e.target).collect::<Vec<_>>(), vec![6, 7]);
        assert_eq!((loo.valid[0].prefix.clone(), loo.valid[0].target), (vec![5, 6, 7], 8));
        assert_eq!((loo.test[0].prefix.clone(), loo.test[0].target), (vec![5, 6, 7, 8], 9));
        assert_eq!(loo.test.len(), 1);
    }

    #[test]
    fn batch_is_left_padded_and_truncated() {
        let device = Device::flex();
        let a = Example { prefix: vec![5, 6, 7], target: 8, fps: vec![9], session: 0 };
        let b = Example { prefix: vec![1], target: 2, fps: vec![], session: 1 };
        let batch = make_batch(&[&a, &b], 2, false, &device);
        let items: Vec<i64> = batch.items.into_data().convert::<i64>().try_to_vec().unwrap_or_default();
        assert_eq!(items, vec![6, 7, 0, 1]);
        let mask: Vec<f32> = batch.mask.into_data().try_to_vec().unwrap_or_default();
        assert_eq!(mask, vec![1.0, 1.0, 0.0, 1.0]);
        let fp_mask: Vec<f32> = batch.fp_mask.into_data().try_to_vec().unwrap_or_default();
        assert_eq!(fp_mask, vec![1.0, 0.0]);
    }

    #[test]
    fn session_graph_normalises_in_and_out_edges() {
        let device = Device::flex();
        // 1 → 2 → 1 → 3: node 1 has out-edges to 2 and 3, in-edge from 2.
        let e = Example { prefix: vec![1, 2, 1, 3], target: 4, fps: vec![], session: 0 };
        let batch = make_batch(&[&e], 10, true, &device);
        let g = batch.graph.expect("graph requested");
        let a_out: Vec<f32> = g.a_out.into_data().try_to_vec().unwrap_or_default();
        // Nodes sorted: [1, 2, 3]; row of node 1: half to 2, half to 3.
        assert_eq!(&a_out[0..3], &[0.0, 0.5, 0.5]);
        let a_in: Vec<f32> = g.a_in.into_data().try_to_vec().unwrap_or_default();
        // Node 1's only in-edge is from node 2.
        assert_eq!(&a_in[0..3], &[0.0, 1.0, 0.0]);
        let alias: Vec<f32> = g.alias.into_data().try_to_vec().unwrap_or_default();
        assert_eq!(&alias[0..3], &[1.0, 0.0, 0.0]);
        assert_eq!(&alias[3..6], &[0.0, 1.0, 0.0]);
    }
}
