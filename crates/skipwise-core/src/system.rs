//! A *system*: what one row of a comparison trains — a backbone, an FP treatment ([`Method`])
//! and an optional contrastive term — named the way the seed papers name them.
//!
//! Written as `+`-joined parts, any order: `gru4rec`, `sasrec`, `duorec`, `adaptiverec`,
//! `fp-adametric`, `duorec+fp-simple`, `sasrec+fp-metric`. A part that is a backbone picks it;
//! `duorec`/`adaptiverec` pick their term and RecBole's SASRec (the papers' encoder) unless a
//! backbone part says otherwise; a method part picks the FP treatment (Vanilla when none). Parts
//! left out come from the comparison's defaults (its `--backbone`).

use crate::contrastive::Contrast;
use crate::model::Backbone;
use crate::objective::Method;
use crate::sml::{SmlEncoder, SmlLoss};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct System {
    /// None: the comparison's default backbone.
    pub backbone: Option<Backbone>,
    pub method: Method,
    pub contrast: Contrast,
    /// UFNRec's own training (BCE over sampled negatives on pmixer's SASRec, [`crate::ufn`]):
    /// `Some(true)` UFNRec, `Some(false)` the SASRec-BCE baseline it is compared with.
    #[serde(default)]
    pub ufn: Option<bool>,
    /// SML's metric learning ([`crate::sml`]) with its loss and session encoder.
    #[serde(default)]
    pub sml: Option<(SmlLoss, SmlEncoder)>,
}

impl System {
    pub fn of(method: Method) -> Self {
        Self { backbone: None, method, contrast: Contrast::None, ufn: None, sml: None }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let (mut backbone, mut method, mut contrast, mut ufn, mut sml) = (None, None, Contrast::None, None, None);
        for part in text.split('+').map(str::trim) {
            let key = part.to_ascii_lowercase().replace(['-', '_'], "");
            let set_once = |what: &str, taken: bool| match taken {
                true => Err(format!("{text:?}: two {what}s in one system")),
                false => Ok(()),
            };
            if let Some(b) = Backbone::parse(part) {
                set_once("backbone", backbone.is_some())?;
                backbone = Some(b);
            } else if let Some(m) = Method::parse(part) {
                set_once("method", method.is_some())?;
                method = Some(m);
            } else if let Some(rest) = key.strip_prefix("sml") {
                set_once("SML loss", sml.is_some())?;
                let (loss, encoder) = match rest.strip_prefix("triplet") {
                    Some(e) => (SmlLoss::Triplet, e),
                    None => (SmlLoss::Ncas, rest.strip_prefix("ncas").ok_or_else(|| format!("{part:?}: SML's loss is triplet or ncas (sml-triplet-gru, sml-ncas-textcnn)"))?),
                };
                let encoder = match encoder {
                    "" | "gru" => SmlEncoder::Gru,
                    "textcnn" => SmlEncoder::TextCnn,
                    "maxpool" | "max" => SmlEncoder::MaxPool,
                    "meanpool" | "mean" | "avgpool" => SmlEncoder::MeanPool,
                    other => return Err(format!("{part:?}: SML's encoder {other:?} is not one of gru, textcnn, maxpool, meanpool")),
                };
                sml = Some((loss, encoder));
            } else if key == "ufnrec" || key == "sasrecbce" {
                set_once("BCE trainer", ufn.is_some())?;
                ufn = Some(key == "ufnrec");
            } else if key == "duorec" || key == "adaptiverec" {
                set_once("contrastive term", contrast != Contrast::None)?;
                contrast = if key == "duorec" { Contrast::DuoRec } else { Contrast::AdaptiveRec };
            } else {
                return Err(format!(
                    "unknown system part {part:?} in {text:?} (a backbone: gru4rec, narm, stamp, srgnn, sasrec; a method: vanilla, fp-simple, fp-metric, fp-adametric; or duorec, adaptiverec, ufnrec, sasrec-bce, sml-triplet-gru, sml-ncas-textcnn, …)"
                ));
            }
        }
        if ufn.is_some() {
            if contrast != Contrast::None || method.is_some_and(|m| m != Method::Vanilla) || backbone.is_some_and(|b| b != Backbone::SasRec) {
                return Err(format!("{text:?}: ufnrec and sasrec-bce train their own BCE objective on SASRec; they take no FP method, contrastive term or other backbone"));
            }
            backbone = Some(Backbone::SasRec);
        }
        if sml.is_some() && (contrast != Contrast::None || ufn.is_some() || backbone.is_some() || method.is_some_and(|m| !matches!(m, Method::Vanilla | Method::FpSimple))) {
            return Err(format!("{text:?}: SML has its own towers and loss; it takes only vanilla or fp-simple (FPs removed from its sessions)"));
        }
        if contrast != Contrast::None && backbone.is_none() {
            backbone = Some(Backbone::SasRec);
        }
        Ok(Self { backbone, method: method.unwrap_or(Method::Vanilla), contrast, ufn, sml })
    }

    pub fn backbone_or(&self, default: Backbone) -> Backbone {
        self.backbone.unwrap_or(default)
    }

    /// What a results file names as its backbone: `default` (`--backbone`) when one of
    /// `systems` trains on it, nothing when each names its own (SASRec for DuoRec, UFNRec, …)
    /// or has its own towers (SML) — a file of SASRec rows must not say GRU4Rec.
    pub fn shared_backbone(systems: &[System], default: Backbone) -> String {
        match systems.iter().any(|s| s.backbone.is_none() && s.sml.is_none()) {
            true => default.name().to_string(),
            false => String::new(),
        }
    }

    /// The row's name: the contrastive model's (DuoRec, AdaptiveRec) or the backbone's when the
    /// system names one, then the FP treatment unless it is Vanilla; the method alone otherwise.
    pub fn label(&self) -> String {
        if let Some((loss, encoder)) = self.sml {
            let head = format!("SML-{} ({})", loss.name(), encoder.name());
            return match self.method {
                Method::Vanilla => head,
                m => format!("{head} + {}", m.name()),
            };
        }
        if let Some(ufn) = self.ufn {
            return if ufn { "UFNRec" } else { "SASRec-BCE" }.to_string();
        }
        let head = match (self.contrast, self.backbone) {
            (Contrast::None, Some(b)) => Some(b.name().to_string()),
            (Contrast::None, None) => None,
            (c, Some(Backbone::SasRec) | None) => Some(c.name().to_string()),
            (c, Some(b)) => Some(format!("{} on {}", c.name(), b.name())),
        };
        match (head, self.method) {
            (Some(h), Method::Vanilla) => h,
            (Some(h), m) => format!("{h} + {}", m.name()),
            (None, m) => m.name().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A results file names `--backbone` only when a row trained on it.
    #[test]
    fn the_shared_backbone_is_the_one_a_row_trained() {
        let p = |s: &str| System::parse(s).expect(s);
        let shared = |names: &[&str]| System::shared_backbone(&names.iter().map(|n| p(n)).collect::<Vec<_>>(), Backbone::Narm);
        assert_eq!(shared(&["sasrec", "duorec", "ufnrec"]), "");
        assert_eq!(shared(&["sml-triplet-gru"]), "");
        assert_eq!(shared(&["duorec", "fp-simple"]), "NARM");
    }

    #[test]
    fn systems_parse_from_their_papers_names() {
        let p = |s: &str| System::parse(s).expect(s);
        assert_eq!(p("fp-adametric"), System::of(Method::FpAdaMetric));
        assert_eq!(p("duorec"), System { backbone: Some(Backbone::SasRec), method: Method::Vanilla, contrast: Contrast::DuoRec, ufn: None, sml: None });
        assert_eq!((p("ufnrec").ufn, p("sasrec-bce").ufn, p("ufnrec").label()), (Some(true), Some(false), "UFNRec".into()));
        assert!(System::parse("ufnrec+fp-metric").expect_err("combo").contains("BCE objective"));
        assert_eq!(p("sml-triplet").sml, Some((SmlLoss::Triplet, SmlEncoder::Gru)));
        assert_eq!(p("SML-NCAS-TextCNN+fp-simple").label(), "SML-NCAS (TextCNN) + FP-Simple");
        assert!(System::parse("sml-ncas+fp-adametric").expect_err("combo").contains("only vanilla or fp-simple"));
        assert!(System::parse("sml-cosine").expect_err("loss").contains("triplet or ncas"));
        assert_eq!(p("FP-Simple+AdaptiveRec").contrast, Contrast::AdaptiveRec);
        assert_eq!(p("gru4rec+duorec").backbone, Some(Backbone::Gru4Rec));
        let labels: Vec<String> = ["gru4rec", "sasrec", "duorec", "adaptiverec+fp-simple", "vanilla", "narm+fp-metric", "gru4rec+duorec"]
            .iter()
            .map(|s| p(s).label())
            .collect();
        assert_eq!(labels, ["GRU4Rec", "SASRec", "DuoRec", "AdaptiveRec + FP-Simple", "Vanilla", "NARM + FP-Metric", "DuoRec on GRU4Rec"]);
        assert!(System::parse("sasrec+narm").expect_err("two").contains("two backbones"));
        let err = System::parse("duorec+bert4rec").expect_err("unknown");
        assert!(err.contains("\"bert4rec\"") && err.contains("adaptiverec"), "{err}");
    }
}
