//! contender (being built).
