//! The GRU's forward and backward as one operation on burn's Flex CPU backend.
//!
//! Written as burn ops, a GRU step is ~15 tensor operations, each allocating and filling a fresh
//! `[B, 3h]` or `[B, h]` tensor, and autodiff keeps them all: at the ML-100K anchor's sizes
//! (B = 4096, L = 50, h = 128) a training step spent a quarter of its time in the kernel zeroing
//! freshly faulted pages, a fifth copying, and ran on one core. Here the same equations run on
//! host buffers: two matrix products per step (through `gemm`, on both cores), one pass over the
//! gates per row, and the backward written by hand. It is registered as a custom autodiff
//! operation (`burn_autodiff::ops::Backward`), so the rest of the model, the objectives and Adam
//! see an ordinary tensor.
//!
//! **Same numbers.** The equations are [`crate::nn::Gru`]'s (PyTorch's gate order r, z, n; reset
//! after the hidden product; σ clamped to ±30 and tanh to ±15). A padded step (`mask = 0`) leaves
//! the state as it was: the burn version computes that step and multiplies its change by 0, this
//! one skips the row, which gives the same state and the same (zero) gradient through the gates.
//! Skipping is also what saves work: the anchor's prefixes are shorter than 50 on average. Sums
//! run in another order, so results agree up to float rounding (the tests compare states and
//! every gradient with the burn version).
//!
//! Used only where it applies: the Flex backend (natively and in the page's CPU fallback), a GRU
//! without biases (GRU4Rec's and NARM's, as in RecBole) and a 0/1 mask. Anything else — WebGPU,
//! wgpu, a fractional mask — returns `None` and the caller runs the burn version.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::{Autodiff, Flex};
use burn::tensor::module::embedding;
use burn::tensor::{Int, Tensor, TensorData};
use crate::dropout::HashMask;
use crate::par::{rows_mut1, rows_mut2, rows_mut3};
use std::sync::Arc;

/// Which states the caller needs: the rank of the result says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Output {
    /// `[B, h]`: the state after the last step (GRU4Rec).
    Last,
    /// `[B, L, h]`: every step's state (NARM).
    All,
}

/// The GRU's input.
#[derive(Clone, Copy)]
pub enum Input<'a> {
    /// `x: [B, L, d]`.
    Values(&'a Tensor<3>),
    /// Rows `ids: [B, L]` of `table: [n, d]` (the item embeddings), read at real positions only.
    /// Reading them here spares the `[B, L, d]` embedding tensor, its padding mask and their
    /// backward; the gradient goes straight into the table's rows.
    Rows { table: &'a Tensor<2>, ids: &'a Tensor<2, Int> },
}

impl Input<'_> {
    /// The input as burn values, for the burn-ops GRU: padding positions zeroed by `mask`.
    pub fn values(&self, mask: &Tensor<2>) -> Tensor<3> {
        match self {
            Input::Values(x) => (*x).clone(),
            Input::Rows { table, ids } => embedding((*table).clone(), (*ids).clone()) * mask.clone().unsqueeze_dim::<3>(2),
        }
    }

    /// Whether the input lives on Flex with autodiff (`Some(true)`), on Flex without
    /// (`Some(false)`), or elsewhere (`None`).
    fn on_flex(&self) -> Option<bool> {
        fn check<const K: usize>(t: &Tensor<K>) -> Option<bool> {
            match (t.clone().try_into_primitive::<Autodiff<Flex>>(), t.clone().try_into_primitive::<Flex>()) {
                (Ok(_), _) => Some(true),
                (_, Ok(_)) => Some(false),
                _ => None,
            }
        }
        match self {
            Input::Values(x) => check(*x),
            Input::Rows { table, .. } => check(*table),
        }
    }
}

/// Runs the GRU on the Flex backend, or returns `None` where this operation does not apply (see
/// the module doc). `mask: [B, L]`, `w_ih: [d, 3h]`, `w_hh: [h, 3h]`; the result is the last
/// state `[B, h]` for `D = 2`, every state `[B, L, h]` for `D = 3`.
///
/// `dropout` is the probability of dropping each input value (the caller's `Dropout` layer,
/// 0 outside training). The mask is drawn here, for the real positions only: burn's dropout drew
/// `B × L × d` values through the backend's generator one at a time, a quarter of a training
/// step. Same distribution (keep with `1 − p`, scale kept values by `1 / (1 − p)`), another
/// stream: a counter-based hash whose seed comes from the device's generator, so a seeded run
/// repeats exactly.
pub fn forward<const D: usize>(input: Input, mask: &Tensor<2>, w_ih: &Tensor<2>, w_hh: &Tensor<2>, dropout: f64) -> Option<Tensor<D>> {
    let [b, l] = mask.dims();
    let (d, source) = match input {
        Input::Values(x) => {
            let [xb, xl, d] = x.dims();
            if [xb, xl] != [b, l] {
                return None;
            }
            (d, Source::Values(host(x.clone())?))
        }
        Input::Rows { table, ids } => {
            let [n, d] = table.dims();
            if ids.dims() != [b, l] {
                return None;
            }
            let ids: Vec<usize> = ids.clone().into_data().convert::<i64>().try_into_vec::<i64>().ok()?.into_iter().map(|i| i as usize).collect();
            (d, Source::Rows { table: host(table.clone())?, n, ids })
        }
    };
    let h = w_hh.dims()[0];
    let output = match D {
        2 => Output::Last,
        3 => Output::All,
        _ => return None,
    };
    if b == 0 || l == 0 || w_ih.dims() != [d, 3 * h] || w_hh.dims() != [h, 3 * h] {
        return None;
    }
    // Only tensors that live on Flex (tracked by autodiff or not) take this path.
    let tracked = input.on_flex()?;
    let mask_host = host(mask.clone())?;
    if mask_host.iter().any(|&m| m != 0.0 && m != 1.0) {
        return None;
    }
    if let Source::Rows { n, ids, .. } = &source {
        // A real position must name a row of the table (padding positions are never read).
        if ids.iter().zip(&mask_host).any(|(&id, &m)| m != 0.0 && id >= *n) {
            return None;
        }
    }
    let dims = Dims { b, l, d, h };
    let dropout = (dropout > 0.0 && dropout < 1.0).then(|| HashMask::draw(dropout, &mask.device())).flatten();
    let weights = Weights { w_ih: host(w_ih.clone())?, w_hh: host(w_hh.clone())? };
    let (saved, out) = run_forward(&source, &mask_host, &weights, dims, output, dropout);
    let shape: Vec<usize> = match output {
        Output::Last => vec![b, h],
        Output::All => vec![b, l, h],
    };
    let out = FlexTensor::from_data(TensorData::new(out, shape));
    let tensor = if tracked {
        let wih_ad = w_ih.clone().try_into_primitive::<Autodiff<Flex>>().ok()?;
        let whh_ad = w_hh.clone().try_into_primitive::<Autodiff<Flex>>().ok()?;
        let (x_node, rows) = match (&input, source) {
            (Input::Values(x), _) => ((*x).clone().try_into_primitive::<Autodiff<Flex>>().ok()?.node(), None),
            (Input::Rows { table, .. }, Source::Rows { n, ids, .. }) => ((*table).clone().try_into_primitive::<Autodiff<Flex>>().ok()?.node(), Some((n, ids))),
            _ => return None,
        };
        let state = Saved { inner: Arc::new(SavedInner { saved, weights, dims, output, rows }) };
        let prim = match GruBackward.prepare::<NoCheckpointing>([x_node, wih_ad.node(), whh_ad.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => prep.finish(state, out),
            OpsKind::UnTracked(prep) => prep.finish(out),
        };
        Tensor::<D>::from_primitive::<Autodiff<Flex>>(prim)
    } else {
        Tensor::<D>::from_primitive::<Flex>(out)
    };
    Some(tensor)
}

/// The input on the host.
enum Source {
    Values(Vec<f32>),
    Rows { table: Vec<f32>, n: usize, ids: Vec<usize> },
}

impl Source {
    /// Input values of position `at` (= row · L + step).
    fn row(&self, at: usize, d: usize) -> &[f32] {
        match self {
            Source::Values(x) => &x[at * d..(at + 1) * d],
            Source::Rows { table, ids, .. } => &table[ids[at] * d..(ids[at] + 1) * d],
        }
    }
}

fn host<const D: usize>(t: Tensor<D>) -> Option<Vec<f32>> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().ok()
}

#[derive(Clone, Copy, Debug)]
struct Dims {
    b: usize,
    l: usize,
    d: usize,
    h: usize,
}

struct Weights {
    w_ih: Vec<f32>,
    w_hh: Vec<f32>,
}

/// What the backward needs from the forward, over the `N` active (row, step) pairs in step order.
struct SavedSteps {
    /// Per step: the rows that are real at that step.
    active: Vec<Vec<u32>>,
    /// Per step: where its rows start in the flat buffers.
    offset: Vec<usize>,
    /// `[N, d]`: the inputs of the active pairs.
    x: Vec<f32>,
    /// `[N, h]`: the state before each active step.
    h_prev: Vec<f32>,
    /// `[N, 4h]`: r, z, n and the hidden product's n part (`W_hn h`) of each active step.
    gates: Vec<f32>,
    dropout: Option<HashMask>,
}

struct SavedInner {
    saved: SavedSteps,
    weights: Weights,
    dims: Dims,
    output: Output,
    /// For [`Input::Rows`]: the table's row count and every position's row.
    rows: Option<(usize, Vec<usize>)>,
}

impl Drop for SavedInner {
    fn drop(&mut self) {
        let s = &mut self.saved;
        for buffer in [&mut s.x, &mut s.h_prev, &mut s.gates] {
            pool::give(std::mem::take(buffer));
        }
    }
}

/// Large buffers kept from one step to the next. Freed and allocated afresh, each was faulted in
/// and zeroed by the kernel again every step (a fifth of the step's time); a buffer from here
/// holds stale values, so only buffers that are written in full before being read come from it.
mod pool {
    use std::sync::Mutex;

    static FREE: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());
    /// One step holds 9 at most; a few more cover a forward that has not been backpropagated.
    const KEEP: usize = 16;

    /// A buffer of `len` values, not zeroed.
    pub fn take(len: usize) -> Vec<f32> {
        let mut free = FREE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // The smallest that is large enough, so that big buffers stay for big requests.
        let best = free.iter().enumerate().filter(|(_, v)| v.capacity() >= len).min_by_key(|(_, v)| v.capacity()).map(|(i, _)| i);
        let mut v = match best {
            Some(i) => free.swap_remove(i),
            None => Vec::with_capacity(len),
        };
        drop(free);
        if v.len() >= len {
            v.truncate(len);
        } else {
            v.resize(len, 0.0);
        }
        v
    }

    pub fn give(v: Vec<f32>) {
        if v.capacity() == 0 {
            return;
        }
        let mut free = FREE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if free.len() < KEEP {
            free.push(v);
        }
    }
}

/// The autodiff state (autodiff wants it `Clone + Debug`; the buffers are shared, not copied).
#[derive(Clone)]
struct Saved {
    inner: Arc<SavedInner>,
}

impl std::fmt::Debug for Saved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "fused GRU state {:?}", self.inner.dims)
    }
}

/// `e^x` for `x` in [−88, 88] without a libm call, so that the gate loops vectorise: libm's
/// `tanhf` (through `expm1f`) and `expf` took a sixth of a training step. Cody–Waite range
/// reduction and Cephes' degree-6 polynomial: within 2 ulp of `f32::exp` over the range.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Round to nearest by adding and subtracting 1.5·2²³ (vectorises where `round` may not).
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * LOG2E + ROUND;
    let k = shifted - ROUND;
    // k's integer value sits in the low mantissa bits of `shifted`: no float-to-int conversion
    // (Rust's saturating `as` kept the loop scalar).
    let k_int = shifted.to_bits() as i32 - ROUND.to_bits() as i32;
    let r = x - k * LN2_HI - k * LN2_LO;
    let p = 1.987_569_2e-4_f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 0.166_666_66;
    let p = p * r + 0.5;
    let e_r = p * r * r + r + 1.0;
    e_r * f32::from_bits(((k_int + 127) << 23) as u32)
}

/// σ with its input clamped to ±30, as [`crate::nn::sigmoid`].
#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x.clamp(-30.0, 30.0)))
}

/// tanh with its input clamped to ±15, as [`crate::nn::tanh`]: `1 − 2 / (e^{2x} + 1)`.
#[inline(always)]
fn tanh(x: f32) -> f32 {
    1.0 - 2.0 / (exp(2.0 * x.clamp(-15.0, 15.0)) + 1.0)
}

fn run_forward(x: &Source, mask: &[f32], w: &Weights, dims: Dims, output: Output, dropout: Option<HashMask>) -> (SavedSteps, Vec<f32>) {
    let Dims { b, l, d, h } = dims;
    let active: Vec<Vec<u32>> = (0..l).map(|t| (0..b as u32).filter(|&r| mask[r as usize * l + t] != 0.0).collect()).collect();
    let mut offset = Vec::with_capacity(l);
    let mut n_all = 0;
    for rows in &active {
        offset.push(n_all);
        n_all += rows.len();
    }
    // Each active pair's position (row · L + step), in the flat buffers' order.
    let positions: Vec<usize> = (0..l).flat_map(|t| active[t].iter().map(move |&r| r as usize * l + t)).collect();
    let mut xs = pool::take(n_all * d);
    rows_mut1(&mut xs, d, |k, dst| {
        dst.copy_from_slice(x.row(positions[k], d));
        if let Some(drop) = &dropout {
            drop.apply(positions[k] * d, dst);
        }
    });
    // Every active step's input projection in one product.
    let mut gi = pool::take(n_all * 3 * h);
    matmul(&mut gi, Mat::rows(&xs, n_all, d), Mat::rows(&w.w_ih, d, 3 * h), false);
    let mut h_prev = pool::take(n_all * h);
    let mut gates = pool::take(n_all * 4 * h);
    let mut state = vec![0f32; b * h];
    let mut out = match output {
        Output::Last => Vec::new(),
        Output::All => vec![0f32; b * l * h],
    };
    let n_max = active.iter().map(Vec::len).max().unwrap_or(0);
    let mut gh = pool::take(n_max * 3 * h);
    let mut h_new = pool::take(n_max * h);
    for t in 0..l {
        let rows = &active[t];
        let (n, off) = (rows.len(), offset[t]);
        if n > 0 {
            let hp = &mut h_prev[off * h..(off + n) * h];
            for (i, &r) in rows.iter().enumerate() {
                hp[i * h..(i + 1) * h].copy_from_slice(&state[r as usize * h..(r as usize + 1) * h]);
            }
            let gh = &mut gh[..n * 3 * h];
            matmul(gh, Mat::rows(hp, n, h), Mat::rows(&w.w_hh, h, 3 * h), false);
            let gi = &gi[off * 3 * h..(off + n) * 3 * h];
            let hp = &h_prev[off * h..(off + n) * h];
            let g = &mut gates[off * 4 * h..(off + n) * 4 * h];
            rows_mut2(g, 4 * h, &mut h_new[..n * h], h, |i, g, hn| {
                gates_forward(&gi[i * 3 * h..(i + 1) * 3 * h], &gh[i * 3 * h..(i + 1) * 3 * h], &hp[i * h..(i + 1) * h], g, hn);
            });
            for (i, &r) in rows.iter().enumerate() {
                state[r as usize * h..(r as usize + 1) * h].copy_from_slice(&h_new[i * h..(i + 1) * h]);
            }
        }
        if output == Output::All {
            for r in 0..b {
                out[(r * l + t) * h..(r * l + t + 1) * h].copy_from_slice(&state[r * h..(r + 1) * h]);
            }
        }
    }
    pool::give(gi);
    pool::give(gh);
    pool::give(h_new);
    let out = match output {
        Output::Last => state,
        Output::All => out,
    };
    (SavedSteps { active, offset, x: xs, h_prev, gates, dropout }, out)
}

/// One row's gates: `gi, gh: [3h]` (input and hidden products), `hp: [h]` (the state before) →
/// `g: [4h]` (r, z, n, W_hn h) and `hn: [h]` (the new state). Written over equal-length
/// sub-slices, so that the compiler drops the bounds checks and vectorises the loop.
#[inline(always)]
fn gates_forward(gi: &[f32], gh: &[f32], hp: &[f32], g: &mut [f32], hn: &mut [f32]) {
    let h = hp.len();
    let (gi_r, gi_z, gi_n) = (&gi[..h], &gi[h..2 * h], &gi[2 * h..3 * h]);
    let (gh_r, gh_z, gh_n) = (&gh[..h], &gh[h..2 * h], &gh[2 * h..3 * h]);
    let (g_r, rest) = g.split_at_mut(h);
    let (g_z, rest) = rest.split_at_mut(h);
    let (g_n, g_hn) = rest.split_at_mut(h);
    let (g_n, g_hn, hn) = (&mut g_n[..h], &mut g_hn[..h], &mut hn[..h]);
    for j in 0..h {
        let r = sigmoid(gi_r[j] + gh_r[j]);
        let z = sigmoid(gi_z[j] + gh_z[j]);
        let nn = tanh(gi_n[j] + r * gh_n[j]);
        g_r[j] = r;
        g_z[j] = z;
        g_n[j] = nn;
        g_hn[j] = gh_n[j];
        hn[j] = nn + z * (hp[j] - nn);
    }
}

/// One row's gate gradients from `dh: [h]` (the gradient of the new state): `dgi: [3h]` and
/// `dgh: [3h]` (of the input and hidden products) and `dhp: [h]`, the part of the previous
/// state's gradient that bypasses `W_hh`.
#[inline(always)]
fn gates_backward(g: &[f32], hp: &[f32], dh: &[f32], dgi: &mut [f32], dgh: &mut [f32], dhp: &mut [f32]) {
    let h = hp.len();
    let (g_r, g_z, g_n, g_hn) = (&g[..h], &g[h..2 * h], &g[2 * h..3 * h], &g[3 * h..4 * h]);
    let dh = &dh[..h];
    let (dgi_r, rest) = dgi.split_at_mut(h);
    let (dgi_z, dgi_n) = rest.split_at_mut(h);
    let dgi_n = &mut dgi_n[..h];
    let (dgh_r, rest) = dgh.split_at_mut(h);
    let (dgh_z, dgh_n) = rest.split_at_mut(h);
    let (dgh_n, dhp) = (&mut dgh_n[..h], &mut dhp[..h]);
    for j in 0..h {
        let (r, z, nn) = (g_r[j], g_z[j], g_n[j]);
        let dn_pre = dh[j] * (1.0 - z) * (1.0 - nn * nn);
        let dz_pre = dh[j] * (hp[j] - nn) * z * (1.0 - z);
        let dr_pre = dn_pre * g_hn[j] * r * (1.0 - r);
        dgi_r[j] = dr_pre;
        dgi_z[j] = dz_pre;
        dgi_n[j] = dn_pre;
        dgh_r[j] = dr_pre;
        dgh_z[j] = dz_pre;
        dgh_n[j] = dn_pre * r;
        dhp[j] = dh[j] * z;
    }
}

/// Gradients of the inputs and weights from the gradient of the output.
struct Grads {
    x: Vec<f32>,
    w_ih: Vec<f32>,
    w_hh: Vec<f32>,
}

fn run_backward(s: &SavedInner, dy: &[f32]) -> Grads {
    let Dims { b, l, d, h } = s.dims;
    let sv = &s.saved;
    let n_all = sv.h_prev.len() / h;
    let mut dh = match s.output {
        Output::Last => dy.to_vec(),
        Output::All => vec![0f32; b * h],
    };
    let mut dgi = pool::take(n_all * 3 * h);
    let mut dw_hh = vec![0f32; h * 3 * h];
    let n_max = sv.active.iter().map(Vec::len).max().unwrap_or(0);
    let mut dgh = pool::take(n_max * 3 * h);
    let mut dh_prev = pool::take(n_max * h);
    for t in (0..l).rev() {
        if s.output == Output::All {
            for r in 0..b {
                let src = &dy[(r * l + t) * h..(r * l + t + 1) * h];
                for (a, g) in dh[r * h..(r + 1) * h].iter_mut().zip(src) {
                    *a += g;
                }
            }
        }
        let rows = &sv.active[t];
        let (n, off) = (rows.len(), sv.offset[t]);
        if n == 0 {
            continue;
        }
        let g = &sv.gates[off * 4 * h..(off + n) * 4 * h];
        let hp = &sv.h_prev[off * h..(off + n) * h];
        let dgi_t = &mut dgi[off * 3 * h..(off + n) * 3 * h];
        let dh_ref = &dh;
        rows_mut3(dgi_t, 3 * h, &mut dgh[..n * 3 * h], 3 * h, &mut dh_prev[..n * h], h, |i, dgi, dgh, dhp| {
            let r0 = rows[i] as usize;
            gates_backward(&g[i * 4 * h..(i + 1) * 4 * h], &hp[i * h..(i + 1) * h], &dh_ref[r0 * h..(r0 + 1) * h], dgi, dgh, dhp);
        });
        let dgh = &dgh[..n * 3 * h];
        matmul(&mut dh_prev[..n * h], Mat::rows(dgh, n, 3 * h), Mat::rows(&s.weights.w_hh, h, 3 * h).t(), true);
        matmul(&mut dw_hh, Mat::rows(hp, n, h).t(), Mat::rows(dgh, n, 3 * h), true);
        for (i, &r) in rows.iter().enumerate() {
            dh[r as usize * h..(r as usize + 1) * h].copy_from_slice(&dh_prev[i * h..(i + 1) * h]);
        }
    }
    let mut dx_active = pool::take(n_all * d);
    matmul(&mut dx_active, Mat::rows(&dgi, n_all, 3 * h), Mat::rows(&s.weights.w_ih, d, 3 * h).t(), false);
    let mut dw_ih = vec![0f32; d * 3 * h];
    matmul(&mut dw_ih, Mat::rows(&sv.x, n_all, d).t(), Mat::rows(&dgi, n_all, 3 * h), false);
    pool::give(dgh);
    pool::give(dh_prev);
    let dx = match &s.rows {
        None => {
            // Which active pair, if any, each position (row · L + step) of `x` is.
            let mut pair = vec![usize::MAX; b * l];
            for t in 0..l {
                for (i, &r) in sv.active[t].iter().enumerate() {
                    pair[r as usize * l + t] = sv.offset[t] + i;
                }
            }
            let mut dx = vec![0f32; b * l * d];
            rows_mut1(&mut dx, d, |at, out| {
                if let Some(&k) = pair.get(at).filter(|&&k| k != usize::MAX) {
                    out.copy_from_slice(&dx_active[k * d..(k + 1) * d]);
                    if let Some(drop) = &sv.dropout {
                        drop.apply(at * d, out);
                    }
                }
            });
            dx
        }
        Some((n, ids)) => {
            // Each position's gradient into its table row (rows repeat: summed in order).
            let mut table = vec![0f32; n * d];
            let mut row = vec![0f32; d];
            let positions = (0..l).flat_map(|t| sv.active[t].iter().map(move |&r| r as usize * l + t));
            for (k, at) in positions.enumerate() {
                row.copy_from_slice(&dx_active[k * d..(k + 1) * d]);
                if let Some(drop) = &sv.dropout {
                    drop.apply(at * d, &mut row);
                }
                for (t, v) in table[ids[at] * d..(ids[at] + 1) * d].iter_mut().zip(&row) {
                    *t += v;
                }
            }
            table
        }
    };
    pool::give(dgi);
    pool::give(dx_active);
    Grads { x: dx, w_ih: dw_ih, w_hh: dw_hh }
}

#[derive(Debug)]
struct GruBackward;

impl Backward<Flex, 3> for GruBackward {
    type State = Saved;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let s = &ops.state.inner;
        let dy: FlexTensor = grads.consume::<Flex>(&ops.node);
        let dy = dy.into_data().convert::<f32>().try_into_vec::<f32>().unwrap_or_default();
        let Dims { b, l, d, h } = s.dims;
        let expected = match s.output {
            Output::Last => b * h,
            Output::All => b * l * h,
        };
        if dy.len() != expected {
            // Cannot happen (autodiff hands back the output's shape); no gradient beats a wrong one.
            return;
        }
        let g = run_backward(s, &dy);
        let [x, w_ih, w_hh] = ops.parents;
        let flex = |v: Vec<f32>, shape: Vec<usize>| FlexTensor::from_data(TensorData::new(v, shape));
        if let Some(node) = x {
            let shape = match &s.rows {
                None => vec![b, l, d],
                Some((n, _)) => vec![*n, d],
            };
            grads.register::<Flex>(node.id, flex(g.x, shape));
        }
        if let Some(node) = w_ih {
            grads.register::<Flex>(node.id, flex(g.w_ih, vec![d, 3 * h]));
        }
        if let Some(node) = w_hh {
            grads.register::<Flex>(node.id, flex(g.w_hh, vec![h, 3 * h]));
        }
    }
}

/// A strided view of a matrix for [`matmul`].
#[derive(Clone, Copy)]
struct Mat<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> Mat<'a> {
    /// A row-major `rows × cols` matrix.
    fn rows(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self { data, rows, cols, row_stride: cols, col_stride: 1 }
    }

    fn t(self) -> Self {
        Self { rows: self.cols, cols: self.rows, row_stride: self.col_stride, col_stride: self.row_stride, ..self }
    }

    fn fits(&self) -> bool {
        self.rows == 0 || self.cols == 0 || (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride < self.data.len()
    }
}

/// `out = a·b`, or `out += a·b` with `accumulate`; `out` is row-major.
fn matmul(out: &mut [f32], a: Mat, b: Mat, accumulate: bool) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert!(b.rows == k && out.len() >= m * n && a.fits() && b.fits(), "fused GRU: matrix shapes disagree");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            out[..m * n].fill(0.0);
        }
        return;
    }
    #[cfg(not(target_arch = "wasm32"))]
    let parallelism = if m * n * k >= 1 << 21 { gemm::Parallelism::Rayon(0) } else { gemm::Parallelism::None };
    #[cfg(target_arch = "wasm32")]
    let parallelism = gemm::Parallelism::None;
    // SAFETY: every index gemm reads or writes lies inside the slices: `fits` checked the
    // inputs' extents and `out` holds m × n row-major values; `out` cannot alias the inputs
    // (it is borrowed mutably).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.data.as_ptr(),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr(),
            b.col_stride as isize,
            b.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::Input;
    use crate::nn::{Gru, Init};
    use crate::rng::Rng;
    use burn::tensor::{Device, Tensor, TensorData};

    const B: usize = 6;
    const L: usize = 7;
    const D: usize = 5;
    const H: usize = 4;

    fn values(rng: &mut Rng, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| rng.normal() * scale).collect()
    }

    /// Left-padded rows of lengths 7, 3, 1, 0, 5 and 7 (a row with no item keeps the zero state).
    fn mask(device: &Device) -> Tensor<2> {
        let lengths = [7, 3, 1, 0, 5, 7];
        let m: Vec<f32> = lengths.iter().flat_map(|&n| (0..L).map(move |t| if t + n >= L { 1.0 } else { 0.0 })).collect();
        Tensor::from_data(TensorData::new(m, [B, L]), device)
    }

    fn close(what: &str, a: Vec<f32>, b: Vec<f32>) {
        assert_eq!(a.len(), b.len(), "{what}: lengths");
        let scale = b.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-3);
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!((x - y).abs() <= 1e-5 * scale.max(1.0), "{what}[{i}]: fused {x} vs burn ops {y}");
        }
    }

    fn host<const K: usize>(t: Tensor<K>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().expect("f32")
    }

    /// The fused GRU against the burn-ops GRU: states and the gradients of the input and both
    /// weight matrices, for the last state (GRU4Rec) and for every state (NARM).
    #[test]
    fn fused_gru_matches_burn_ops_in_states_and_gradients() {
        let device = Device::flex().autodiff();
        for all in [false, true] {
            let mut rng = Rng::new(if all { 11 } else { 5 });
            // Large enough weights that gates saturate somewhere and the clamps matter.
            let gru = Gru::with_init(&mut rng, D, H, false, Init::Normal(0.9), &device);
            let x_values = values(&mut rng, B * L * D, 1.5);
            let n_out = if all { B * L * H } else { B * H };
            let probe = values(&mut rng, n_out, 1.0);
            let mut results = Vec::new();
            for fused in [true, false] {
                let x = Tensor::<3>::from_data(TensorData::new(x_values.clone(), [B, L, D]), &device).require_grad();
                let m = mask(&device);
                let (out, loss) = if all {
                    let y = if fused { gru.fused::<3>(Input::Values(&x), &m, 0.0).expect("fused applies on Flex") } else { gru.forward_ops(x.clone(), m) };
                    let p = Tensor::<3>::from_data(TensorData::new(probe.clone(), [B, L, H]), &device);
                    (host(y.clone()), (y * p).sum())
                } else {
                    let y = if fused { gru.fused::<2>(Input::Values(&x), &m, 0.0).expect("fused applies on Flex") } else { gru.forward_last_ops(x.clone(), m) };
                    let p = Tensor::<2>::from_data(TensorData::new(probe.clone(), [B, H]), &device);
                    (host(y.clone()), (y * p).sum())
                };
                let grads = loss.backward();
                let gx = host(x.grad(&grads).expect("x has a gradient"));
                let gih = host(gru.w_ih.val().grad(&grads).expect("w_ih has a gradient"));
                let ghh = host(gru.w_hh.val().grad(&grads).expect("w_hh has a gradient"));
                results.push((out, gx, gih, ghh));
            }
            let (ops, fused) = (results.pop().expect("ops"), results.pop().expect("fused"));
            close("state", fused.0, ops.0);
            close("d x", fused.1.clone(), ops.1);
            close("d w_ih", fused.2, ops.2);
            close("d w_hh", fused.3, ops.3);
            // Padded positions get no gradient: row 3 has no item at all.
            assert!(fused.1[3 * L * D..4 * L * D].iter().all(|&g| g == 0.0));
        }
    }

    /// Without autodiff (inference) the fused path gives the burn-ops states too.
    #[test]
    fn fused_gru_runs_untracked() {
        let device = Device::flex();
        let mut rng = Rng::new(3);
        let gru = Gru::with_init(&mut rng, D, H, false, Init::Xavier, &device);
        let x = Tensor::<3>::from_data(TensorData::new(values(&mut rng, B * L * D, 1.0), [B, L, D]), &device);
        let fused = gru.fused::<2>(Input::Values(&x), &mask(&device), 0.0).expect("fused applies on Flex");
        close("state", host(fused), host(gru.forward_last_ops(x, mask(&device))));
    }

    /// A GRU with biases, or a mask that is not 0/1, runs the burn-ops version.
    #[test]
    fn fused_gru_declines_what_it_does_not_cover() {
        let device = Device::flex();
        let mut rng = Rng::new(4);
        let x = Tensor::<3>::from_data(TensorData::new(values(&mut rng, B * L * D, 1.0), [B, L, D]), &device);
        let with_bias = Gru::new(&mut rng, D, H, true, &device);
        assert!(with_bias.fused::<2>(Input::Values(&x), &mask(&device), 0.0).is_none());
        let plain = Gru::with_init(&mut rng, D, H, false, Init::Xavier, &device);
        assert!(plain.fused::<2>(Input::Values(&x), &(mask(&device) * 0.5), 0.0).is_none());
        assert!(plain.fused::<2>(Input::Values(&x), &mask(&device), 0.0).is_some());
    }

    /// The fused dropout keeps 1 − p of the values, scales them by 1 / (1 − p), stops the
    /// gradient where it drops, and repeats exactly under the same device seed.
    #[test]
    fn fused_dropout_keeps_one_minus_p_and_repeats_with_the_seed() {
        let p = 0.3;
        let drop = crate::dropout::HashMask::with_seed(p, 42);
        let factors: Vec<f32> = (0..100_000).map(|i| drop.factor(i)).collect();
        let kept = factors.iter().filter(|&&f| f != 0.0).count() as f64 / 1e5;
        assert!((kept - 0.7).abs() < 0.01, "kept {kept}");
        assert!(factors.iter().all(|&f| f == 0.0 || f == drop.scale));

        let device = Device::flex().autodiff();
        let mut rng = Rng::new(8);
        let gru = Gru::with_init(&mut rng, D, H, false, Init::Xavier, &device);
        let x_values = values(&mut rng, B * L * D, 1.0);
        let run = || {
            device.seed(9);
            let x = Tensor::<3>::from_data(TensorData::new(x_values.clone(), [B, L, D]), &device).require_grad();
            let y = gru.fused::<2>(Input::Values(&x), &mask(&device), p).expect("fused applies on Flex");
            let grads = y.clone().sum().backward();
            (host(y), host(x.grad(&grads).expect("x has a gradient")))
        };
        let (y1, g1) = run();
        let (y2, g2) = run();
        assert_eq!((&y1, &g1), (&y2, &g2), "the same seed gives the same mask");
        let plain = host(gru.fused::<2>(Input::Values(&Tensor::<3>::from_data(TensorData::new(x_values.clone(), [B, L, D]), &device)), &mask(&device), 0.0).expect("fused"));
        assert_ne!(y1, plain, "dropout changed the states");
        // Among the real positions (rows of lengths 7, 3, 1, 0, 5, 7: 23 steps × 5 values).
        let m = host(mask(&device));
        let real: Vec<f32> = (0..B * L * D).filter(|i| m[i / D] == 1.0).map(|i| g1[i]).collect();
        let zero = real.iter().filter(|&&g| g == 0.0).count() as f64 / real.len() as f64;
        assert!((0.1..0.5).contains(&zero), "dropped share {zero}");
    }

    /// Reading the input as rows of an embedding table gives the states of the burn-ops GRU over
    /// `embedding(table, ids) · mask`, and the table's gradient summed over repeated rows.
    #[test]
    fn fused_gru_reads_table_rows_like_an_embedding_lookup() {
        use burn::tensor::Int;
        let device = Device::flex().autodiff();
        let mut rng = Rng::new(21);
        let gru = Gru::with_init(&mut rng, D, H, false, Init::Normal(0.7), &device);
        let n = 4; // rows 1..3 are items, 0 is padding; items repeat across and within rows
        let table_values = values(&mut rng, n * D, 1.0);
        let m = host(mask(&device));
        let ids: Vec<i64> = (0..B * L).map(|at| if m[at] == 1.0 { 1 + (at * 7 % 3) as i64 } else { 0 }).collect();
        let probe = values(&mut rng, B * H, 1.0);
        let mut results = Vec::new();
        for fused in [true, false] {
            let table = Tensor::<2>::from_data(TensorData::new(table_values.clone(), [n, D]), &device).require_grad();
            let ids = Tensor::<2, Int>::from_data(TensorData::new(ids.clone(), [B, L]), &device);
            let input = Input::Rows { table: &table, ids: &ids };
            let y = if fused { gru.fused::<2>(input, &mask(&device), 0.0).expect("fused applies on Flex") } else { gru.forward_last_ops(input.values(&mask(&device)), mask(&device)) };
            let p = Tensor::<2>::from_data(TensorData::new(probe.clone(), [B, H]), &device);
            let grads = (y.clone() * p).sum().backward();
            results.push((host(y), host(table.grad(&grads).expect("the table has a gradient")), host(gru.w_ih.val().grad(&grads).expect("w_ih"))));
        }
        let (ops, fused) = (results.pop().expect("ops"), results.pop().expect("fused"));
        close("state", fused.0, ops.0);
        close("d table", fused.1.clone(), ops.1);
        close("d w_ih", fused.2, ops.2);
        assert!(fused.1[..D].iter().all(|&g| g == 0.0), "the padding row gets no gradient");
    }
}
