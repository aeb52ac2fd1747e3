//! The state of one evaluation call: the call's cohort, date and memos ([`Ctx`]), the rule
//! being evaluated ([`RuleEval`]) and what its bindings hold ([`Bound`]). Queries, windows, a
//! rule's FHIRPath and rendering read it; the condition evaluator (`eval.rs`) computes it.
//!
//! A number may count a query or read a binding, and a binding is a query, so queries and
//! windows need numbers and bindings back from the evaluator above them: they ask through
//! [`RuleValues`], which `eval.rs` implements for [`RuleEval`] (its only implementation,
//! called statically).

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use chrono::NaiveDate;
use rustc_hash::FxHashMap;

use super::cohort::{self, Cohort};
use super::item::Item;
use super::rule::{Binding, Num, Rule};
use super::scans::Scans;
use super::{CompiledPack, EvalInput};

/// What a binding holds for the rule being evaluated.
#[derive(Debug, Clone)]
pub(super) enum Bound {
    /// Shared: a binding is read by conditions, windows and placeholders, and cloning an item
    /// copies its codes and texts.
    Item(Option<Rc<Item>>),
    Num(Option<(f64, Option<String>)>),
    Text(Option<String>),
    InProgress,
}

/// Per-call state shared by all rules.
pub(super) struct Ctx<'a> {
    pub pack: &'a CompiledPack,
    pub input: &'a EvalInput<'a>,
    pub cohort: Cohort,
    pub today: NaiveDate,
    /// The memo of [`Ctx::holds`] (in `eval.rs`), by rule index: `None` not yet asked,
    /// `Some(None)` being evaluated (a cycle that slipped through reads it as false),
    /// `Some(Some(result))`. Vectors, not hash maps: a pack of 2,000 rules asks them thousands
    /// of times per call.
    pub rule_results: RefCell<Vec<Option<Option<bool>>>>,
    rule_envs: RefCell<Vec<Option<Rc<RuleEnv>>>>,
    /// Value-set scans shared by every rule of the call.
    pub scans: Scans,
    /// Resources a `where:` failed on (a type mismatch): skipped for that rule.
    pub where_failures: Cell<usize>,
}

/// Per-rule memo of bindings.
#[derive(Default)]
pub(super) struct RuleEnv {
    /// By the binding's definition (its address in the pack, which outlives the call): no
    /// name is copied per rule and call.
    pub bound: RefCell<FxHashMap<*const Binding, Bound>>,
}

/// A rule being evaluated.
pub(super) struct RuleEval<'a, 'c> {
    pub ctx: &'c Ctx<'a>,
    pub rule: &'a Rule,
    pub env: Rc<RuleEnv>,
}

/// What queries, windows and a rule's FHIRPath ask of the rule being evaluated: its numbers
/// and the items its query bindings found, computed (and memoised) by `eval.rs`.
pub(super) trait RuleValues {
    /// A number and its unit.
    fn num(&self, n: &Num) -> Option<(f64, Option<Cow<'_, str>>)>;

    /// A number converted to `unit` (when it carries a unit).
    fn num_in(&self, n: &Num, unit: &str) -> Option<f64>;

    /// The item a query binding found.
    fn item(&self, name: &str) -> Option<Rc<Item>>;
}

impl<'a> Ctx<'a> {
    pub fn new(pack: &'a CompiledPack, input: &'a EvalInput<'a>) -> Ctx<'a> {
        let where_failures = Cell::new(0);
        let scans = Scans::default();
        Ctx {
            pack,
            input,
            cohort: cohort::compute(pack, input, &where_failures, &scans),
            today: input.now.with_timezone(&input.tz).date_naive(),
            rule_results: RefCell::new(vec![None; pack.rules.len()]),
            rule_envs: RefCell::new(vec![None; pack.rules.len()]),
            scans,
            where_failures,
        }
    }

    /// Rule `index`, with its bindings memoised for the call.
    pub fn rule_eval<'c>(&'c self, index: usize) -> RuleEval<'a, 'c> {
        let env = self.rule_envs.borrow_mut()[index]
            .get_or_insert_with(Rc::default)
            .clone();
        RuleEval {
            ctx: self,
            rule: &self.pack.rules[index],
            env,
        }
    }

    /// Day N, when day 0 is known.
    pub fn day(&self) -> Option<i64> {
        self.cohort.day0.map(|d0| (self.today - d0).num_days())
    }
}
