//! The worklist side of population runs: the runner (`crate::population`, which knows no
//! store) joined to the store, for the command line and the admin API alike (`job`); at most
//! one run at a time in a serving process, with its live progress (`runs`); the worklist as
//! a table or CSV (`sheet`); the overdue filter's bound (`overdue`). Must not import
//! `actix_web`.

mod export;
mod job;
mod overdue;
mod runs;
mod sheet;

pub use export::BulkSource;
pub use job::{Ended, Job, RunSource, HEARTBEAT, SILENT};
pub use overdue::due_before;
pub use runs::{ExportDirError, Runs, StartError};
pub use sheet::Sheet;
