//! workload (being built).
