//! measure (being built).
