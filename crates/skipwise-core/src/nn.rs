//! Small layers with host-side initialisation (see [`crate::rng`]): a dense layer and a GRU that
//! projects every time step's input in one matrix product, so a step costs one product instead of
//! six (it matters on WebGPU, where each kernel launch is expensive).

use crate::rng::Rng;
use burn::module::{Module, Param};
use burn::nn::Dropout;
pub use crate::fused_gru::Input;
use burn::tensor::activation;
use burn::tensor::{Device, Tensor, TensorData};

/// σ(x) with its input clamped to ±30. burn computes σ as exp(−log(1 + exp(−x))), which
/// overflows to ∞ for very negative x, and WGSL promises nothing about ∞ (a shader may treat it as
/// any value): a browser GPU can turn one large input into a NaN loss. In f32 the clamp moves no
/// output by more than 1e-13.
pub fn sigmoid<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    activation::sigmoid(x.clamp(-30.0, 30.0))
}

/// tanh(x) with its input clamped to ±15, for the same reason as [`sigmoid`] (cubecl guards
/// WGSL's tanh above +43 only); tanh(±15) is ±1 in f32.
pub fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    activation::tanh(x.clamp(-15.0, 15.0))
}

/// How a weight matrix is initialised.
#[derive(Clone, Copy, Debug)]
pub enum Init {
    /// N(0, std²).
    Normal(f32),
    /// U(−a, a).
    Uniform(f32),
    /// Xavier (Glorot) uniform for a `[fan_in, fan_out]` matrix.
    Xavier,
}

pub fn param2(rng: &mut Rng, shape: [usize; 2], init: Init, device: &Device) -> Param<Tensor<2>> {
    let n = shape[0] * shape[1];
    let values: Vec<f32> = match init {
        Init::Normal(std) => (0..n).map(|_| rng.normal() * std).collect(),
        Init::Uniform(a) => (0..n).map(|_| rng.uniform_in(-a, a)).collect(),
        Init::Xavier => {
            let a = (6.0 / (shape[0] + shape[1]) as f32).sqrt();
            (0..n).map(|_| rng.uniform_in(-a, a)).collect()
        }
    };
    Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device))
}

pub fn param1(rng: &mut Rng, len: usize, init: Init, device: &Device) -> Param<Tensor<1>> {
    let values: Vec<f32> = match init {
        Init::Normal(std) => (0..len).map(|_| rng.normal() * std).collect(),
        Init::Uniform(a) => (0..len).map(|_| rng.uniform_in(-a, a)).collect(),
        Init::Xavier => vec![0.0; len],
    };
    Param::from_tensor(Tensor::from_data(TensorData::new(values, [len]), device))
}

/// `y = x W (+ b)` over the last dimension.
#[derive(Module, Debug)]
pub struct Dense {
    pub weight: Param<Tensor<2>>,
    pub bias: Option<Param<Tensor<1>>>,
}

impl Dense {
    pub fn new(rng: &mut Rng, d_in: usize, d_out: usize, bias: bool, init: Init, device: &Device) -> Self {
        let weight = param2(rng, [d_in, d_out], init, device);
        let bias = bias.then(|| {
            let bias_init = match init {
                Init::Xavier => Init::Uniform(1.0 / (d_in as f32).sqrt()),
                other => other,
            };
            param1(rng, d_out, bias_init, device)
        });
        Self { weight, bias }
    }

    pub fn forward2(&self, x: Tensor<2>) -> Tensor<2> {
        let y = x.matmul(self.weight.val());
        match &self.bias {
            Some(b) => y + b.val().unsqueeze_dim(0),
            None => y,
        }
    }

    pub fn forward3(&self, x: Tensor<3>) -> Tensor<3> {
        let [b, l, d] = x.dims();
        let d_out = self.weight.dims()[1];
        self.forward2(x.reshape([b * l, d])).reshape([b, l, d_out])
    }
}

/// The probability `dropout` drops with on `x`: as burn's `Dropout::forward`, none outside
/// training (a device without autodiff, or the layer switched off).
fn dropout_prob(dropout: &Dropout, on: &Tensor<2>) -> f64 {
    if dropout.training.is_enabled() && on.device().is_autodiff() { dropout.prob } else { 0.0 }
}

/// A single-layer GRU with PyTorch's gate equations (reset applied after the hidden product).
///
/// Sequences are left-padded; `mask[b, t] = 0` keeps the state unchanged at padded steps, so the
/// last time step always holds the state after the last real item.
#[derive(Module, Debug)]
pub struct Gru {
    /// `[d_in, 3h]`, gates in the order reset, update, new.
    pub w_ih: Param<Tensor<2>>,
    /// `[h, 3h]`.
    pub w_hh: Param<Tensor<2>>,
    pub b_ih: Option<Param<Tensor<1>>>,
    pub b_hh: Option<Param<Tensor<1>>>,
    pub hidden: usize,
}

impl Gru {
    /// PyTorch's default initialisation: U(−1/√h, 1/√h) for every weight and bias.
    pub fn new(rng: &mut Rng, d_in: usize, hidden: usize, bias: bool, device: &Device) -> Self {
        Self::with_init(rng, d_in, hidden, bias, Init::Uniform(1.0 / (hidden as f32).sqrt()), device)
    }

    /// Both weight matrices drawn with `init` (RecBole's GRU4Rec: Xavier uniform over the whole
    /// `[d_in, 3h]` and `[h, 3h]` matrices); biases as PyTorch, U(−1/√h, 1/√h).
    pub fn with_init(rng: &mut Rng, d_in: usize, hidden: usize, bias: bool, init: Init, device: &Device) -> Self {
        let a = 1.0 / (hidden as f32).sqrt();
        Self {
            w_ih: param2(rng, [d_in, 3 * hidden], init, device),
            w_hh: param2(rng, [hidden, 3 * hidden], init, device),
            b_ih: bias.then(|| param1(rng, 3 * hidden, Init::Uniform(a), device)),
            b_hh: bias.then(|| param1(rng, 3 * hidden, Init::Uniform(a), device)),
            hidden,
        }
    }

    /// `mask: [B, L]` → all states `[B, L, h]` of the GRU over `dropout(input)`.
    pub fn forward(&self, input: Input, mask: Tensor<2>, dropout: &Dropout) -> Tensor<3> {
        self.fused(input, &mask, dropout_prob(dropout, &mask)).unwrap_or_else(|| self.forward_ops(dropout.forward(input.values(&mask)), mask))
    }

    /// The state after the last step only, `[B, h]` (GRU4Rec needs nothing else; not stacking
    /// the others saves a `[B, L, h]` tensor and its gradient).
    pub fn forward_last(&self, input: Input, mask: Tensor<2>, dropout: &Dropout) -> Tensor<2> {
        self.fused(input, &mask, dropout_prob(dropout, &mask)).unwrap_or_else(|| self.forward_last_ops(dropout.forward(input.values(&mask)), mask))
    }

    /// The one-operation GRU of [`crate::fused_gru`] where it applies (Flex, no biases), with
    /// the input dropout drawn inside it.
    pub(crate) fn fused<const D: usize>(&self, input: Input, mask: &Tensor<2>, dropout: f64) -> Option<Tensor<D>> {
        if self.b_ih.is_some() || self.b_hh.is_some() {
            return None;
        }
        crate::fused_gru::forward(input, mask, &self.w_ih.val(), &self.w_hh.val(), dropout)
    }

    /// [`Self::forward`] in burn tensor operations (every backend; the reference the fused
    /// version is tested against).
    pub fn forward_ops(&self, x: Tensor<3>, mask: Tensor<2>) -> Tensor<3> {
        let mut outputs = Vec::with_capacity(x.dims()[1]);
        self.run(x, mask, |state| outputs.push(state));
        Tensor::stack(outputs, 1)
    }

    /// [`Self::forward_last`] in burn tensor operations.
    pub fn forward_last_ops(&self, x: Tensor<3>, mask: Tensor<2>) -> Tensor<2> {
        self.run(x, mask, |_| ())
    }

    /// Runs every step, handing each state to `each`; returns the last.
    fn run(&self, x: Tensor<3>, mask: Tensor<2>, mut each: impl FnMut(Tensor<2>)) -> Tensor<2> {
        let [b, l, d] = x.dims();
        let h = self.hidden;
        let mut gi_all = x.reshape([b * l, d]).matmul(self.w_ih.val());
        if let Some(bias) = &self.b_ih {
            gi_all = gi_all + bias.val().unsqueeze_dim(0);
        }
        let gi_all = gi_all.reshape([b, l, 3 * h]);
        let mut state: Tensor<2> = Tensor::zeros([b, h], &gi_all.device());
        for t in 0..l {
            let gi: Tensor<2> = gi_all.clone().narrow(1, t, 1).reshape([b, 3 * h]);
            let mut gh = state.clone().matmul(self.w_hh.val());
            if let Some(bias) = &self.b_hh {
                gh = gh + bias.val().unsqueeze_dim(0);
            }
            // Both gates in one σ: half the kernel launches, which is what a step costs on a GPU.
            let rz = sigmoid(gi.clone().narrow(1, 0, 2 * h) + gh.clone().narrow(1, 0, 2 * h));
            let (r, z) = (rz.clone().narrow(1, 0, h), rz.narrow(1, h, h));
            let n = tanh(gi.narrow(1, 2 * h, h) + r * gh.narrow(1, 2 * h, h));
            let candidate = n.clone() + z * (state.clone() - n);
            let m: Tensor<2> = mask.clone().narrow(1, t, 1);
            state = state.clone() + (candidate - state) * m;
            each(state.clone());
        }
        state
    }
}
