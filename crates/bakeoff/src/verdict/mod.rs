//! verdict (being built).
