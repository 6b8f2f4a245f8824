//! Dropout whose mask is drawn on the host from a hash, for training on Flex.
//!
//! burn's `Dropout` draws every value through its distribution sampler (ChaCha, one value at a
//! time, then a Bernoulli test): ~22 % of a SASRec training step at the ML-100K anchor's sizes
//! (perf, 2026-12-02: `DistributionSampler::sample`, `Distribution::sampler`,
//! `TensorData::random`, `chacha20`), where SASRec drops ~105 M values a step (attention
//! probabilities `[4096, 2, 50, 50]` and three `[4096, 50, 64]` activations per block). Here a
//! step draws one seed from the device's generator (so a seeded run repeats) and hashes it with
//! each value's flat index: the same distribution (keep with 1 − p, scale by 1 / (1 − p)), another
//! stream. The fused GRU drops its input with the same mask. NARM's small `[B, 2h]` dropout keeps
//! burn's layer (1 M values, ~1 % of its step: not worth changing its committed numbers).
//! Elsewhere than Flex (wgpu, WebGPU) burn's own layer runs: a host mask would cross to the GPU
//! every step.

use burn::backend::{Autodiff, Flex};
use burn::nn::Dropout;
use burn::tensor::{Device, Distribution, Tensor, TensorData};

/// One forward's dropout mask: value `i` (flat index) is kept when a hash of `(seed, i)` is at
/// least `threshold`, and then scaled by `scale`.
#[derive(Clone, Copy, Debug)]
pub struct HashMask {
    pub seed: u64,
    pub threshold: u32,
    pub scale: f32,
}

impl HashMask {
    /// A mask for probability `prob` with a fresh seed from `device`'s generator (seeded by the
    /// trainer); `None` when the seed cannot be read back.
    pub fn draw(prob: f64, device: &Device) -> Option<Self> {
        let u: Vec<f32> = Tensor::<1>::random([2], Distribution::Default, device).into_data().convert::<f32>().try_into_vec::<f32>().ok()?;
        let seed = ((u[0].to_bits() as u64) << 32) ^ u[1].to_bits() as u64;
        Some(Self::with_seed(prob, seed))
    }

    pub fn with_seed(prob: f64, seed: u64) -> Self {
        let threshold = (prob * 4_294_967_296.0).round().min(u32::MAX as f64) as u32;
        Self { seed, threshold, scale: (1.0 / (1.0 - prob)) as f32 }
    }

    /// Multiplies `values`, which start at flat index `start`, by the mask.
    pub fn apply(&self, start: usize, values: &mut [f32]) {
        for (k, v) in values.iter_mut().enumerate() {
            *v *= self.factor(start + k);
        }
    }

    /// The mask's value at flat index `i`: 0 or `scale`.
    pub fn factor(&self, i: usize) -> f32 {
        // SplitMix64's finaliser over seed + i·φ: independent bits for every index.
        let mut z = self.seed.wrapping_add((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        if ((z >> 32) as u32) >= self.threshold { self.scale } else { 0.0 }
    }

    /// The first `n` values of the mask.
    pub fn values(&self, n: usize) -> Vec<f32> {
        const ROW: usize = 1024;
        let mut out = vec![1.0f32; n];
        crate::par::rows_mut1(&mut out, ROW, |row, values| self.apply(row * ROW, values));
        out
    }
}

/// `layer`'s dropout on `x`: as burn's `Dropout::forward` (nothing outside training, on a device
/// without autodiff, or at p = 0), with the mask from [`HashMask`] when `x` trains on Flex.
pub fn forward<const D: usize>(layer: &Dropout, x: Tensor<D>) -> Tensor<D> {
    let p = layer.prob;
    let training = layer.training.is_enabled() && x.device().is_autodiff() && p > 0.0;
    if !training || p >= 1.0 || x.clone().try_into_primitive::<Autodiff<Flex>>().is_err() {
        return layer.forward(x);
    }
    let device = x.device();
    let Some(mask) = HashMask::draw(p, &device) else { return layer.forward(x) };
    let shape = x.dims();
    let mask = Tensor::<D>::from_data(TensorData::new(mask.values(shape.iter().product()), shape), &device);
    x * mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::DropoutConfig;

    #[test]
    fn the_mask_keeps_one_minus_p_scaled_and_repeats_with_its_seed() {
        let mask = HashMask::with_seed(0.3, 42);
        let values = mask.values(100_003);
        let kept = values.iter().filter(|&&f| f != 0.0).count() as f64 / values.len() as f64;
        assert!((kept - 0.7).abs() < 0.01, "kept {kept}");
        assert!(values.iter().all(|&f| f == 0.0 || f == mask.scale));
        // The parallel fill is the serial hash, chunk boundaries included.
        assert!(values.iter().enumerate().all(|(i, &f)| f == mask.factor(i)));
        assert_ne!(values, HashMask::with_seed(0.3, 43).values(values.len()));
    }

    #[test]
    fn on_flex_it_drops_scales_stops_the_gradient_and_follows_the_device_seed() {
        let device = Device::flex().autodiff();
        let layer = DropoutConfig::new(0.5).init();
        let run = |seed: u64| {
            device.seed(seed);
            let x = Tensor::<2>::ones([64, 50], &device).require_grad();
            let y = forward(&layer, x.clone());
            let grads = y.clone().sum().backward();
            let y: Vec<f32> = y.into_data().try_into_vec().expect("floats");
            let g: Vec<f32> = x.grad(&grads).expect("x has a gradient").into_data().try_into_vec().expect("floats");
            (y, g)
        };
        let (y, g) = run(3);
        assert!(y.iter().all(|&v| v == 0.0 || v == 2.0), "0 or 1 / (1 − p)");
        let kept = y.iter().filter(|&&v| v != 0.0).count();
        assert!((1300..1900).contains(&kept), "about half of 3200 kept: {kept}");
        assert_eq!(y, g, "the gradient of sum(x · mask) is the mask");
        assert_eq!(run(3), (y.clone(), g), "the same device seed, the same mask");
        assert_ne!(run(4).0, y);
        // Outside training (no autodiff) it is the identity, as burn's layer.
        let plain = Tensor::<2>::ones([4, 5], &Device::flex());
        let same: Vec<f32> = forward(&layer, plain).into_data().try_into_vec().expect("floats");
        assert!(same.iter().all(|&v| v == 1.0));
    }
}
