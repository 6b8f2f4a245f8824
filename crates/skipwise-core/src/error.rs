//! The one error type of the core library: every bad input is named, never a panic.

use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum Error {
    /// A data file could not be parsed: which file, which line, which field, and why.
    #[error("{file}:{line}: field `{field}`: {reason}")]
    Parse { file: String, line: usize, field: String, reason: String },
    #[error("I/O error on {file}: {reason}")]
    Io { file: String, reason: String },
    #[error("unknown item id {0} (the catalog has {1} items)")]
    UnknownItem(u32, usize),
    #[error("invalid value for {field}: {reason}")]
    InvalidInput { field: String, reason: String },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("nothing to train on: {0}")]
    Empty(String),
    /// A non-finite loss (training stops before the model is overwritten) or score (evaluation
    /// stops: a NaN ranks nothing).
    #[error("not a finite number: {0}")]
    NonFinite(String),
    #[error("backend error: {0}")]
    Backend(String),
}

pub type Result<T> = core::result::Result<T, Error>;
