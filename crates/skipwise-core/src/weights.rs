//! A model's parameters as plain numbers, and back: what the page caches in IndexedDB and puts
//! in an export file.
//!
//! burn's own `into_record` reads tensors synchronously, which panics on a browser GPU. Here the
//! parameters are first collected as device tensors ([`param_tensors`]); the caller reads them
//! (async in the worker, [`read_sync`] natively), and [`load`] writes numbers back into a model of
//! the same shape, keeping every parameter's id (so the optimiser state still applies) and its
//! gradient requirement.

use crate::error::{Error, Result};
use crate::model::Recommender;
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// Every float parameter of a model, in the module's visiting order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    pub shapes: Vec<Vec<usize>>,
    pub values: Vec<Vec<f32>>,
}

impl Weights {
    pub fn len(&self) -> usize {
        self.values.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

struct Collect(Vec<(Vec<usize>, Tensor<1>)>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let shape = t.dims().to_vec();
        let n: usize = shape.iter().product();
        self.0.push((shape, t.reshape([n])));
    }
}

/// The parameters as flat device tensors with their shapes, ready to be read.
pub fn param_tensors(model: &Recommender) -> Vec<(Vec<usize>, Tensor<1>)> {
    let mut c = Collect(Vec::new());
    model.visit(&mut c);
    c.0
}

/// Reads every parameter synchronously (native backends).
pub fn read_sync(model: &Recommender) -> Result<Weights> {
    let mut w = Weights::default();
    for (shape, t) in param_tensors(model) {
        let data = t.try_into_data().map_err(|e| Error::Backend(format!("{e:?}")))?;
        w.values.push(data.try_to_vec::<f32>().map_err(|e| Error::Backend(format!("{e:?}")))?);
        w.shapes.push(shape);
    }
    Ok(w)
}

struct Ids(Vec<u64>);

impl ModuleVisitor for Ids {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(param.id.val());
    }
}

/// Every float parameter's id, in the module's visiting order (the order of [`Weights`]). Adam's
/// state is keyed by these ids, so a resumed run gives them back to its fresh model
/// ([`load_with_ids`]).
pub fn param_ids(model: &Recommender) -> Vec<u64> {
    let mut ids = Ids(Vec::new());
    model.visit(&mut ids);
    ids.0
}

struct Assign<'a> {
    weights: &'a Weights,
    /// Ids to give the parameters (a resumed run), or none to keep the model's own.
    ids: Option<&'a [u64]>,
    next: usize,
    error: Option<String>,
}

impl ModuleMapper for Assign<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let i = self.next;
        self.next += 1;
        if self.error.is_some() {
            return param;
        }
        let (Some(shape), Some(values)) = (self.weights.shapes.get(i), self.weights.values.get(i)) else {
            self.error = Some(format!("the weights hold {} parameters, the model has more", self.weights.shapes.len()));
            return param;
        };
        let wanted = param.val().dims().to_vec();
        if *shape != wanted || values.len() != wanted.iter().product::<usize>() || values.iter().any(|v| !v.is_finite()) {
            self.error = Some(format!(
                "parameter {i}: shape {shape:?} with {} values does not fit the model's {wanted:?} (or is not finite)",
                values.len()
            ));
            return param;
        }
        let values = values.clone();
        let mut param = param.map(move |old| {
            let t = Tensor::<D>::from_data(TensorData::new(values, wanted), &old.device());
            if old.is_require_grad() { t.require_grad() } else { t }
        });
        if let Some(id) = self.ids.and_then(|ids| ids.get(i)) {
            param.id = ParamId::from(*id);
        }
        param
    }
}

/// `model` with `weights` written in; a typed error (and no change) when they do not fit.
pub fn load(model: Recommender, weights: &Weights) -> Result<Recommender> {
    assign(model, weights, None)
}

/// As [`load`], and the parameters take the ids `ids` (from [`param_ids`] of the model that was
/// saved), so that an optimiser state saved with that model applies to this one.
pub fn load_with_ids(model: Recommender, weights: &Weights, ids: &[u64]) -> Result<Recommender> {
    if ids.len() != weights.shapes.len() {
        return Err(Error::InvalidInput {
            field: "param_ids".into(),
            reason: format!("{} ids for {} parameters", ids.len(), weights.shapes.len()),
        });
    }
    assign(model, weights, Some(ids))
}

fn assign(model: Recommender, weights: &Weights, ids: Option<&[u64]>) -> Result<Recommender> {
    let mut check = Assign { weights, ids, next: 0, error: None };
    // A dry run on a copy first, so a bad file never leaves a half-loaded model behind.
    let _ = model.clone().map(&mut check);
    if let Some(e) = check.error {
        return Err(Error::InvalidInput { field: "weights".into(), reason: e });
    }
    if check.next != weights.shapes.len() {
        return Err(Error::InvalidInput {
            field: "weights".into(),
            reason: format!("the weights hold {} parameters, the model has {}", weights.shapes.len(), check.next),
        });
    }
    Ok(model.map(&mut Assign { weights, ids, next: 0, error: None }))
}
