//! The worklist side of population runs: the runner (`crate::population`, which knows no
//! store) joined to the store, for the command line and the admin API alike (`job`); at most
//! one run at a time in a serving process, with its live progress (`runs`); and the
//! worklist as a table or CSV (`sheet`). Must not import `actix_web`.

mod export;
mod job;
mod runs;
mod sheet;

pub use export::BulkSource;
pub use job::{Ended, Job, RunSource};
pub use runs::{ExportDirError, Runs, StartError};
pub use sheet::Sheet;
