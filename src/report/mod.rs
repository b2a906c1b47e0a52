//! Reason codes and the self-contained audit report.

pub mod reasons;
