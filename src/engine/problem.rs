//! A problem in a pack, named by its file and the path in it: what reading ([`super::load`]),
//! validating ([`super::validate`]) and deriving the prefetch ([`super::prefetch`]) report.

use serde::Serialize;

/// One problem in a pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// File, relative to the pack directory (`rules/<id>.yaml`).
    pub file: String,
    /// Path inside the file (`when.all[1].exists`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.path, self.message)
    }
}
