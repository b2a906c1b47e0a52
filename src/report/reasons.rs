//! Reason codes.
