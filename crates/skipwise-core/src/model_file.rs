//! The model file, the contract between native training and the page: `skipwise train` writes
//! it, `eval` and `recommend` read it, and the page can load it into its FP-aware slot. It holds
//! the training configuration (the model's shape with it), the item id of each embedding row,
//! the original names of string-keyed items, and every weight.

use crate::burn::tensor::Device;
use crate::data::ItemIndex;
use crate::train::{TrainConfig, Trainer};
use crate::weights::{self, Weights};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelFile {
    pub format: String,
    pub version: u32,
    pub config: TrainConfig,
    /// The item id of each dense row (row 0, padding, is left out): `items[r - 1]`.
    pub items: Vec<u64>,
    /// Original ids of string-keyed items (MSSD tracks, Last.fm tracks, CSV items).
    pub names: HashMap<u64, String>,
    pub weights: Weights,
}

impl ModelFile {
    pub const FORMAT: &str = "skipwise-model";
    pub const VERSION: u32 = 1;

    /// Reads a model file's text; `name` names it in the errors, which say why anything else
    /// (another file, another version) is refused.
    pub fn parse(text: &str, name: &str) -> Result<Self, String> {
        let model: ModelFile = serde_json::from_str(text).map_err(|e| format!("{name}:{}: not a Skipwise model file: {e}", e.line()))?;
        if model.format != Self::FORMAT || model.version != Self::VERSION {
            return Err(format!("{name}: format {:?} version {}, expected {:?} version {}", model.format, model.version, Self::FORMAT, Self::VERSION));
        }
        Ok(model)
    }

    /// A trainer holding this file's model (for `eval` and `recommend`); `path` names the file
    /// in the error when the weights do not fit the configuration.
    pub fn trainer(&self, device: &Device, path: &str) -> Result<Trainer, String> {
        let mut trainer = Trainer::new(self.config.clone(), self.items.len() + 1, device).map_err(|e| e.to_string())?;
        trainer.model = weights::load(trainer.model.clone(), &self.weights).map_err(|e| format!("{path}: {e}"))?;
        Ok(trainer)
    }

    /// The weights with the item table's rows in `index`'s order, for a model over exactly the
    /// same items numbered another way (a log's first-appearance order against a catalog's).
    /// Any other item set is refused, naming what differs. The item table is the model's first
    /// parameter (`Recommender::items`, `[n_items + 1, d]`); nothing else is indexed by item.
    pub fn weights_for(&self, index: &ItemIndex) -> Result<Weights, String> {
        let row_of: HashMap<u64, usize> = self.items.iter().enumerate().map(|(i, id)| (*id, i + 1)).collect();
        let wanted: Vec<u64> = (1..=index.len() as u32).filter_map(|r| index.external(r)).collect();
        let missing: Vec<u64> = wanted.iter().copied().filter(|id| !row_of.contains_key(id)).collect();
        if !missing.is_empty() || self.items.len() != wanted.len() {
            let example = missing.first().map_or(String::new(), |id| format!("; item {id} is not in the model"));
            return Err(format!(
                "the model was trained on {} items, this catalog has {} ({} of them unknown to the model{example}): a model only fits the items it was trained on",
                self.items.len(),
                wanted.len(),
                missing.len()
            ));
        }
        let (Some(table), Some(shape)) = (self.weights.values.first(), self.weights.shapes.first()) else {
            return Err("the model file has no weights".into());
        };
        let [rows, d] = shape[..] else { return Err(format!("the item table has shape {shape:?}, expected [items + 1, d]")) };
        if rows != self.items.len() + 1 || table.len() != rows * d {
            return Err(format!("the item table has {rows} rows for {} items", self.items.len()));
        }
        let mut remapped = vec![0.0; table.len()];
        for (r, id) in std::iter::once(None).chain(wanted.iter().map(Some)).enumerate() {
            let from = id.map_or(0, |id| row_of[id]);
            remapped[r * d..(r + 1) * d].copy_from_slice(&table[from * d..(from + 1) * d]);
        }
        let mut w = self.weights.clone();
        w.values[0] = remapped;
        Ok(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Backbone, ModelConfig};

    fn file(items: Vec<u64>, device: &Device) -> (ModelFile, Trainer) {
        let config = TrainConfig { model: ModelConfig { backbone: Backbone::Stamp, dim: 4, hidden: 4, ..ModelConfig::default() }, ..TrainConfig::default() };
        let trainer = Trainer::new(config.clone(), items.len() + 1, device).expect("trainer");
        let weights = weights::read_sync(&trainer.model).expect("weights");
        (ModelFile { format: ModelFile::FORMAT.into(), version: ModelFile::VERSION, config, items, names: HashMap::new(), weights }, trainer)
    }

    #[test]
    fn the_item_table_follows_the_catalogs_numbering_and_another_item_set_is_refused() {
        let device = Device::flex();
        let (f, _) = file(vec![30, 10, 20], &device);
        let mut index = ItemIndex::default();
        for id in [10, 20, 30] {
            index.get_or_insert(id);
        }
        let w = f.weights_for(&index).expect("same items");
        let d = 4;
        let row = |v: &[f32], r: usize| v[r * d..(r + 1) * d].to_vec();
        // The catalog's row 1 is item 10: the file's row 2.
        assert_eq!(row(&w.values[0], 1), row(&f.weights.values[0], 2));
        assert_eq!(row(&w.values[0], 3), row(&f.weights.values[0], 1));
        assert_eq!(row(&w.values[0], 0), row(&f.weights.values[0], 0), "padding stays");
        assert_eq!(w.values[1..], f.weights.values[1..], "nothing else is indexed by item");
        index.get_or_insert(40);
        let err = f.weights_for(&index).expect_err("a fourth item");
        assert!(err.contains("trained on 3 items, this catalog has 4 (1 of them unknown to the model; item 40"), "{err}");
        let err = ModelFile::parse("{\"format\": \"skipwise-model\", \"version\": 9}", "m.json").expect_err("not this version");
        assert!(err.starts_with("m.json:1: not a Skipwise model file") || err.contains("version 9"), "{err}");
    }
}
