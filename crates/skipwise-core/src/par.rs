//! Loops over the rows of flat buffers, on every core natively (rayon) and on the one thread a
//! wasm worker has: the fused GRU's gate passes, the hashed dropout masks, the fused GELU.

/// Runs `f(i, row i of a)` over a buffer of rows of width `wa`, on every core natively.
pub(crate) fn rows_mut1(a: &mut [f32], wa: usize, f: impl Fn(usize, &mut [f32]) + Sync + Send) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        a.par_chunks_mut(wa).enumerate().with_min_len(256).for_each(|(i, a)| f(i, a));
    }
    #[cfg(target_arch = "wasm32")]
    a.chunks_mut(wa).enumerate().for_each(|(i, a)| f(i, a));
}

/// Runs `f(i, row i of a, row i of b)` over two buffers of as many rows, on every core natively.
pub(crate) fn rows_mut2(a: &mut [f32], wa: usize, b: &mut [f32], wb: usize, f: impl Fn(usize, &mut [f32], &mut [f32]) + Sync + Send) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        a.par_chunks_mut(wa).zip(b.par_chunks_mut(wb)).enumerate().with_min_len(64).for_each(|(i, (a, b))| f(i, a, b));
    }
    #[cfg(target_arch = "wasm32")]
    a.chunks_mut(wa).zip(b.chunks_mut(wb)).enumerate().for_each(|(i, (a, b))| f(i, a, b));
}

/// As [`rows_mut2`] over three buffers.
pub(crate) fn rows_mut3(
    a: &mut [f32],
    wa: usize,
    b: &mut [f32],
    wb: usize,
    c: &mut [f32],
    wc: usize,
    f: impl Fn(usize, &mut [f32], &mut [f32], &mut [f32]) + Sync + Send,
) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        a.par_chunks_mut(wa)
            .zip(b.par_chunks_mut(wb))
            .zip(c.par_chunks_mut(wc))
            .enumerate()
            .with_min_len(64)
            .for_each(|(i, ((a, b), c))| f(i, a, b, c));
    }
    #[cfg(target_arch = "wasm32")]
    a.chunks_mut(wa).zip(b.chunks_mut(wb)).zip(c.chunks_mut(wc)).enumerate().for_each(|(i, ((a, b), c))| f(i, a, b, c));
}
