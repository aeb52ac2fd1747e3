//! Hostile requests (being written).
