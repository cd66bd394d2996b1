//! report (being built).

pub mod compare;
