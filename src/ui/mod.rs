//! The pages under `/ui/`.

pub mod timeline;
pub mod timeline_chart;
