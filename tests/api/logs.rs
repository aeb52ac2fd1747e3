//! Log leak test (being written).
