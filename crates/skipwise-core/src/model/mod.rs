//! The recommender: an item embedding table, a session encoder (one file per backbone, as in
//! RecBole's model zoo) and FP-AdaMetric's weighting module. Scores are `e_seq · e_i` over the whole
//! catalog (paper eq. 4–5).

pub mod fpa;
pub mod gru4rec;
pub mod narm;
pub mod sasrec;
pub mod srgnn;
pub mod stamp;

use crate::batch::Batch;
use crate::data::PAD;
use crate::nn::{Init, Input, param2};
use crate::rng::Rng;
use burn::module::{Module, Param};
use burn::tensor::module::embedding;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

pub use fpa::{Fpa, FpaActivation, FpaConfig, FpaOutput};
pub use gru4rec::Gru4Rec;
pub use narm::Narm;
pub use sasrec::{Sasrec, SasrecConfig, SasrecVariant};
pub use srgnn::SrGnn;
pub use stamp::Stamp;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Backbone {
    Gru4Rec,
    Narm,
    Stamp,
    SrGnn,
    SasRec,
}

impl Backbone {
    pub const ALL: [Backbone; 5] = [Backbone::Gru4Rec, Backbone::Narm, Backbone::Stamp, Backbone::SrGnn, Backbone::SasRec];

    pub fn name(self) -> &'static str {
        match self {
            Backbone::Gru4Rec => "GRU4Rec",
            Backbone::Narm => "NARM",
            Backbone::Stamp => "STAMP",
            Backbone::SrGnn => "SR-GNN",
            Backbone::SasRec => "SASRec",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "gru4rec" | "gru" => Some(Backbone::Gru4Rec),
            "narm" => Some(Backbone::Narm),
            "stamp" => Some(Backbone::Stamp),
            "srgnn" => Some(Backbone::SrGnn),
            "sasrec" => Some(Backbone::SasRec),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub backbone: Backbone,
    /// Embedding size d (RecBole's default 64).
    pub dim: usize,
    /// Recurrent width for GRU4Rec and NARM (RecBole's default 128).
    pub hidden: usize,
    /// Dropout on the item embeddings (GRU4Rec, NARM).
    pub dropout_emb: f64,
    /// Dropout on NARM's combined representation.
    pub dropout_hidden: f64,
    pub srgnn_steps: usize,
    pub fpa: FpaConfig,
    /// SASRec's layers, heads, inner width, dropouts, positions and variant.
    #[serde(default)]
    pub sasrec: SasrecConfig,
    /// Users of the data, for the paper's user term (eq. 3); 0 = no user term. With users, each
    /// has an embedding `e_u` (row 0: a user the model never saw) and the session vector becomes
    /// `f_concat([e_seq; e_u]) = W [e_seq; e_u] + b`, `W: 2d → d`. The paper leaves f_concat open
    /// (NOTES §1.5.10); one linear layer is the least it can be and keeps scores `e_seq · e_i`
    /// on the same scale. f_FPA then sees that session vector, user included (§1.5.1's "add e_u
    /// only when users exist"); positives and FPs stay raw item embeddings (§1.5.3).
    #[serde(default)]
    pub users: usize,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            backbone: Backbone::Narm,
            dim: 64,
            hidden: 128,
            dropout_emb: 0.25,
            dropout_hidden: 0.5,
            srgnn_steps: 1,
            fpa: FpaConfig::default(),
            sasrec: SasrecConfig::default(),
            users: 0,
        }
    }
}

impl ModelConfig {
    /// RecBole's GRU4Rec as in its documented ML-100K run (NOTES §8.1): emb 64, hidden 128,
    /// embedding dropout 0.3. The CLI's anchor trains it; a test pins its parameter count.
    pub fn recbole_gru4rec() -> Self {
        Self { backbone: Backbone::Gru4Rec, dim: 64, hidden: 128, dropout_emb: 0.3, ..Self::default() }
    }
}

#[derive(Module, Debug)]
pub enum Encoder {
    Gru4Rec(Gru4Rec),
    Narm(Narm),
    Stamp(Stamp),
    SrGnn(SrGnn),
    Sasrec(Sasrec),
}

#[derive(Module, Debug)]
pub struct Recommender {
    /// `[n_items + 1, d]`; row 0 is padding and is masked wherever it is read.
    pub items: Param<Tensor<2>>,
    pub encoder: Encoder,
    pub fpa: Fpa,
    /// The user term (see [`ModelConfig::users`]): `[users + 1, d]` and f_concat.
    pub user_table: Option<Param<Tensor<2>>>,
    pub concat: Option<crate::nn::Dense>,
}

impl Recommender {
    /// `n_rows` = number of items + 1 (padding).
    pub fn new(config: &ModelConfig, n_rows: usize, seed: u64, device: &Device) -> Self {
        let mut rng = Rng::new(seed);
        let d = config.dim;
        let item_init = match config.backbone {
            // RecBole: xavier_normal_ for GRU4Rec/NARM embeddings, N(0, 0.002) for STAMP,
            // U(±1/√d) for SR-GNN.
            Backbone::Gru4Rec | Backbone::Narm => Init::Normal((2.0 / (n_rows + d) as f32).sqrt()),
            Backbone::Stamp => Init::Normal(0.002),
            Backbone::SrGnn => Init::Uniform(1.0 / (d as f32).sqrt()),
            // RecBole: N(0, initializer_range = 0.02); pmixer: xavier_normal_ on every parameter.
            Backbone::SasRec => match config.sasrec.variant {
                SasrecVariant::RecBole => Init::Normal(0.02),
                SasrecVariant::Pmixer => Init::Normal((2.0 / (n_rows + d) as f32).sqrt()),
            },
        };
        let items = param2(&mut rng, [n_rows, d], item_init, device);
        let encoder = match config.backbone {
            Backbone::Gru4Rec => Encoder::Gru4Rec(Gru4Rec::new(&mut rng, d, config.hidden, config.dropout_emb, device)),
            Backbone::Narm => Encoder::Narm(Narm::new(
                &mut rng,
                d,
                config.hidden,
                [config.dropout_emb, config.dropout_hidden],
                device,
            )),
            Backbone::Stamp => Encoder::Stamp(Stamp::new(&mut rng, d, device)),
            Backbone::SrGnn => Encoder::SrGnn(SrGnn::new(&mut rng, d, config.srgnn_steps, device)),
            Backbone::SasRec => Encoder::Sasrec(Sasrec::new(&mut rng, d, &config.sasrec, device)),
        };
        let fpa = Fpa::new(&mut rng, d, &config.fpa, device);
        let (user_table, concat) = match config.users {
            0 => (None, None),
            n => (
                Some(param2(&mut rng, [n + 1, d], Init::Normal((2.0 / (n + 1 + d) as f32).sqrt()), device)),
                Some(crate::nn::Dense::new(&mut rng, 2 * d, d, true, Init::Xavier, device)),
            ),
        };
        Self { items, encoder, fpa, user_table, concat }
    }

    pub fn n_rows(&self) -> usize {
        self.items.dims()[0]
    }

    pub fn dim(&self) -> usize {
        self.items.dims()[1]
    }

    pub fn needs_graph(&self) -> bool {
        matches!(self.encoder, Encoder::SrGnn(_))
    }

    /// Embeddings of `ids` with padding rows zeroed.
    pub fn embed(&self, ids: Tensor<2, Int>, mask: Tensor<2>) -> Tensor<3> {
        embedding(self.items.val(), ids) * mask.unsqueeze_dim::<3>(2)
    }

    /// The session representation `e_seq: [B, d]`, with the user term when the model has one.
    pub fn encode(&self, batch: &Batch) -> Tensor<2> {
        let e_seq = self.encode_session(batch);
        match (&self.user_table, &self.concat) {
            (Some(table), Some(concat)) => {
                let [b, _] = e_seq.dims();
                let users = match &batch.users {
                    Some(u) => u.clone(),
                    None => Tensor::<1, Int>::zeros([b], &e_seq.device()),
                };
                let e_u = table.val().select(0, users);
                concat.forward2(Tensor::cat(vec![e_seq, e_u], 1))
            }
            _ => e_seq,
        }
    }

    /// What the backbone makes of the session alone.
    fn encode_session(&self, batch: &Batch) -> Tensor<2> {
        match &self.encoder {
            Encoder::Gru4Rec(m) => m.forward(Input::Rows { table: &self.items.val(), ids: &batch.items }, batch.mask.clone()),
            Encoder::Narm(m) => m.forward(Input::Rows { table: &self.items.val(), ids: &batch.items }, batch.mask.clone()),
            Encoder::Stamp(m) => m.forward(self.embed(batch.items.clone(), batch.mask.clone()), batch.mask.clone()),
            Encoder::Sasrec(m) => m.forward(self.items.val(), batch.items.clone(), batch.mask.clone()),
            Encoder::SrGnn(m) => match &batch.graph {
                Some(graph) => {
                    let nodes = self.embed(graph.nodes.clone(), graph.node_mask.clone());
                    m.forward(nodes, graph, batch.mask.clone())
                }
                // A batch built without its graph: SR-GNN cannot run; fall back to the mean
                // embedding rather than panic (batches from this crate always carry it).
                None => self.embed(batch.items.clone(), batch.mask.clone()).mean_dim(1).squeeze_dim(1),
            },
        }
    }

    /// Scores over the whole catalog, padding at −1e9: `[B, n_rows]`.
    pub fn scores(&self, e_seq: Tensor<2>) -> Tensor<2> {
        let pad = padding_scores(self.n_rows(), &e_seq.device());
        e_seq.matmul(self.items.val().transpose()) + pad
    }
}

/// `[1, n_rows]`: 0 everywhere but −1e9 at the padding row, added to a score matrix so that
/// padding never ranks.
pub fn padding_scores(n_rows: usize, device: &Device) -> Tensor<2> {
    let mut pad = vec![0f32; n_rows];
    pad[PAD as usize] = -1e9;
    Tensor::from_data(TensorData::new(pad, [1, n_rows]), device)
}
