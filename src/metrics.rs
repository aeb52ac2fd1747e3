//! Prometheus metrics registry (issue #6, in progress).
