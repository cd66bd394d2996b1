//! suite (being built).
