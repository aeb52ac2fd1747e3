//! When the thing a rule reports as missing became due: read by population runs only (the
//! worklist's "overdue by more than N days"); cards do not carry it.

use serde::{Deserialize, Serialize};

use super::Num;

/// `due: {after: <query binding>, every: <days>, day: <day N>}`: the later of the date of
/// what `after` found plus `every` days and day `day` after day 0, of those that can be
/// computed (`after` found something, day 0 is known). Without either the finding has no due
/// date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Due {
    /// The query binding whose date starts the interval (the last result, the last visit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Days after that date (fractional days are floored, as in windows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<Num>,
    /// Day N after day 0: the first day it can be due (and the due date when `after` found
    /// nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<Num>,
}
