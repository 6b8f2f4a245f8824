//! GELU (`x · Φ(x)`, the exact form RecBole's SASRec uses) as one autodiff operation on Flex.
//!
//! burn-flex computes GELU and its backward one value at a time through libm's scalar `erff` and
//! `expf`: ~10 % of a SASRec training step at the anchor's sizes (perf, 2026-12-02), where each
//! block applies it to `[4096, 50, 256]` values. Here `erf` is a rational approximation that the
//! compiler vectorises (|error| < 1e-6 against f64's erf over the whole line, tested), the pass
//! runs on both cores natively, and the backward reuses the saved input. Elsewhere than Flex with
//! autodiff (inference, wgpu, WebGPU) burn's `gelu` runs.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::{Autodiff, Flex};
use burn::tensor::{Tensor, TensorData};
use crate::par::rows_mut1;
use std::sync::Arc;

/// GELU on `x`; see the module doc for where it is fused.
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let Ok(prim) = x.clone().try_into_primitive::<Autodiff<Flex>>() else {
        return burn::tensor::activation::gelu(x);
    };
    let shape = x.dims().to_vec();
    let Ok(values) = x.clone().into_data().convert::<f32>().try_into_vec::<f32>() else {
        return burn::tensor::activation::gelu(x);
    };
    let mut out = vec![0.0f32; values.len()];
    rows_mut1(&mut out, ROW, |row, ys| {
        for (x, y) in values[row * ROW..].iter().zip(ys.iter_mut()) {
            *y = x * cdf(*x);
        }
    });
    let out = FlexTensor::from_data(TensorData::new(out, shape.clone()));
    let prim = match GeluBackward.prepare::<NoCheckpointing>([prim.node()]).compute_bound().stateful() {
        OpsKind::Tracked(prep) => prep.finish(Saved { x: Arc::new(values), shape }, out),
        OpsKind::UnTracked(prep) => prep.finish(out),
    };
    Tensor::<D>::from_primitive::<Autodiff<Flex>>(prim)
}

/// The width of the rows the passes split the values into (see [`rows_mut1`]).
const ROW: usize = 1024;

/// Φ(x) = ½ (1 + erf(x / √2)).
#[inline]
fn cdf(x: f32) -> f32 {
    0.5 * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// erf as x·P(x²)/Q(x²) on [−4, 4] (±1 beyond, within 2e-8 of the true value): the
/// rational form Eigen and XLA use for f32, without a branch or a libm call.
#[inline]
fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = -2.726_142_3e-10f32;
    for a in [2.770_681_4e-8, -2.101_024e-6, -5.692_506_4e-5, -7.349_906_3e-4, -2.954_600e-3, -1.609_603_3e-2] {
        p = p * x2 + a;
    }
    let mut q = -1.456_607_2e-5f32;
    for b in [-2.133_740_6e-4, -1.682_827e-3, -7.373_329_2e-3, -1.426_474e-2] {
        q = q * x2 + b;
    }
    x * p / q
}

/// d/dx x·Φ(x) = Φ(x) + x·φ(x).
#[inline]
fn slope(x: f32) -> f32 {
    const INV_SQRT_2PI: f32 = 0.398_942_3;
    cdf(x) + x * INV_SQRT_2PI * (-0.5 * x * x).exp()
}

#[derive(Clone)]
struct Saved {
    x: Arc<Vec<f32>>,
    shape: Vec<usize>,
}

impl std::fmt::Debug for Saved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "fused GELU input {:?}", self.shape)
    }
}

#[derive(Debug)]
struct GeluBackward;

impl Backward<Flex, 1> for GeluBackward {
    type State = Saved;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let dy: FlexTensor = grads.consume::<Flex>(&ops.node);
        let Ok(mut dx) = dy.into_data().convert::<f32>().try_into_vec::<f32>() else { return };
        let x = &ops.state.x;
        if dx.len() != x.len() {
            // Cannot happen (autodiff hands back the output's shape); no gradient beats a wrong one.
            return;
        }
        rows_mut1(&mut dx, ROW, |row, gs| {
            for (x, g) in x[row * ROW..].iter().zip(gs.iter_mut()) {
                *g *= slope(*x);
            }
        });
        let [parent] = ops.parents;
        if let Some(node) = parent {
            grads.register::<Flex>(node.id, FlexTensor::from_data(TensorData::new(dx, ops.state.shape.clone())));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn erf64(x: f64) -> f64 {
        // Abramowitz–Stegun 7.1.28 is too coarse for a reference; integrate instead (Simpson).
        let n = 2000;
        let h = x / n as f64;
        let f = |t: f64| (-t * t).exp();
        let mut s = f(0.0) + f(x);
        for i in 1..n {
            s += f(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        s * h / 3.0 * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn erf_is_within_1e6_of_the_true_value_over_the_line() {
        let mut worst = 0.0f64;
        for i in -1200..=1200 {
            let x = i as f64 / 200.0; // −6 … 6
            worst = worst.max((erf(x as f32) as f64 - erf64(x)).abs());
        }
        assert!(worst < 1e-6, "worst |error| {worst}");
        assert!((erf(9.0) - 1.0).abs() < 1e-6 && (erf(-9.0) + 1.0).abs() < 1e-6 && erf(0.0) == 0.0);
    }

    #[test]
    fn the_fused_gelu_and_its_gradient_are_burns() {
        let device = Device::flex().autodiff();
        let values: Vec<f32> = (0..4 * 300).map(|i| (i as f32 - 600.0) / 80.0).collect();
        let run = |fused: bool| {
            let x = Tensor::<2>::from_data(TensorData::new(values.clone(), [4, 300]), &device).require_grad();
            let y = if fused { gelu(x.clone()) } else { burn::tensor::activation::gelu(x.clone()) };
            // A weighted sum, so that the incoming gradient is not all ones.
            let w = Tensor::<2>::from_data(TensorData::new((0..1200).map(|i| (i % 7) as f32 - 3.0).collect::<Vec<_>>(), [4, 300]), &device);
            let grads = (y.clone() * w).sum().backward();
            let y: Vec<f32> = y.into_data().try_into_vec().expect("floats");
            let g: Vec<f32> = x.grad(&grads).expect("x has a gradient").into_data().try_into_vec().expect("floats");
            (y, g)
        };
        let ((y, g), (y_burn, g_burn)) = (run(true), run(false));
        let diff = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(diff(&y, &y_burn) < 1e-5, "values differ by {}", diff(&y, &y_burn));
        assert!(diff(&g, &g_burn) < 1e-5, "gradients differ by {}", diff(&g, &g_burn));
        // Inference (no autodiff) is burn's own.
        let plain = Tensor::<1>::from_data(TensorData::new(vec![-1.0f32, 0.5], [2]), &Device::flex());
        let got: Vec<f32> = gelu(plain.clone()).into_data().try_into_vec().expect("floats");
        let want: Vec<f32> = burn::tensor::activation::gelu(plain).into_data().try_into_vec().expect("floats");
        assert_eq!(got, want);
    }
}
