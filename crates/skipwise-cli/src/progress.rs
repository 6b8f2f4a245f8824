//! Progress of long runs on stderr: an `indicatif` bar over the epochs (loss, validation score,
//! ETA) when stderr is a terminal, one plain line per epoch when it is not (CI logs, a pipe).

use indicatif::{ProgressBar, ProgressStyle};
use skipwise_core::train::EpochLog;
use std::io::IsTerminal;

pub struct Epochs {
    bar: Option<ProgressBar>,
    label: String,
    /// The validation metric early stopping watches (printed with the HR at its cut-off).
    monitor: String,
}

impl Epochs {
    /// A run of at most `total` epochs (early stopping may end it sooner), named `label`.
    pub fn new(total: usize, label: &str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            let style = ProgressStyle::with_template("{prefix:>24} [{bar:30}] epoch {pos}/{len} · {msg} · ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(label.to_string());
            bar
        });
        Self { bar, label: label.to_string(), monitor: "MRR@20".into() }
    }

    /// A run that early-stops on `monitor` rather than the paper protocol's MRR@20.
    pub fn monitoring(mut self, monitor: &str) -> Self {
        self.monitor = monitor.to_string();
        self
    }

    pub fn epoch(&self, log: &EpochLog) {
        let hr = format!("HR@{}", self.monitor.rsplit('@').next().unwrap_or("20"));
        let valid = log.valid.as_ref().map_or(String::new(), |r| format!(", valid {} {:.4} {hr} {:.4}", self.monitor, r.get(&self.monitor), r.get(&hr)));
        let contrast = log.contrast.map_or(String::new(), |c| format!(", contrast {c:.4}"));
        self.line(log.epoch, &format!("loss {:.4} (nll {:.4}, metric {:.4}{contrast}){valid}", log.loss, log.nll, log.metric));
    }

    /// Epoch `epoch` ended with `line` (what the bar's message or the plain line says).
    pub fn line(&self, epoch: usize, line: &str) {
        let (log_epoch, line) = (epoch, line.to_string());
        match &self.bar {
            Some(bar) => {
                bar.set_position(log_epoch as u64);
                bar.set_message(line);
            }
            None => eprintln!("{}: epoch {:>3}: {line}", self.label, log_epoch),
        }
    }

    /// Ends the bar (early stopping leaves it short of its length) with `summary`.
    pub fn finish(&self, summary: &str) {
        match &self.bar {
            Some(bar) => bar.finish_with_message(summary.to_string()),
            None => eprintln!("{}: {summary}", self.label),
        }
    }
}
