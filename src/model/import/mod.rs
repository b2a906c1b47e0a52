//! Importers of models saved by other libraries, into the shared [`TreeEnsemble`](super::TreeEnsemble).

pub mod lightgbm;
pub mod xgboost;
