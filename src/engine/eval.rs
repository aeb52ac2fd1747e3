//! Evaluation of conditions, numbers and bindings for one call, on the call's state
//! (`ctx.rs`). Queries, windows and a rule's FHIRPath ask numbers and bindings back through
//! [`RuleValues`], implemented here.
//!
//! Each rule's bindings are computed on demand and memoised for the call; another rule's
//! condition (`rule:`) is memoised too. Cycles are refused at load time; at run time a cycle
//! that slipped through evaluates to "unknown" instead of recursing.

use std::borrow::Cow;
use std::rc::Rc;

use chrono::Datelike;

use super::ctx::{Bound, Ctx, RuleEval, RuleValues};
use super::item::Item;
use super::query;
use super::rule::{Binding, CohortRequirement, Cond, Num, NumOp, PatientNum, RuleStatus};
use super::rule_path;
use crate::record::units;

impl Ctx<'_> {
    /// Whether rule `index`'s condition holds (cohort requirement included).
    pub fn holds(&self, index: usize) -> bool {
        if let Some(r) = self.rule_results.borrow()[index] {
            return r.unwrap_or(false);
        }
        self.rule_results.borrow_mut()[index] = Some(None);
        let re = self.rule_eval(index);
        let cohort_ok = re.rule.cohort == CohortRequirement::Any || self.cohort.member;
        let result = cohort_ok && re.cond(&re.rule.when);
        self.rule_results.borrow_mut()[index] = Some(Some(result));
        result
    }
}

impl RuleValues for RuleEval<'_, '_> {
    /// A number and its unit. The unit is borrowed from the rule where it can be (parameters,
    /// day and age): numbers are read for every rule of a pack.
    fn num(&self, n: &Num) -> Option<(f64, Option<Cow<'_, str>>)> {
        let op = match n {
            Num::Lit(v) => return Some((*v, None)),
            Num::Op(op) => op,
        };
        match op.as_ref() {
            NumOp::Param(name) => {
                let p = self.rule.parameters.get(name)?;
                let value = p.value_for(self.ctx.cohort.product.as_deref());
                Some((value, Some(Cow::Borrowed(p.unit.as_str()))))
            }
            NumOp::Var(name) => match self.binding(name) {
                Bound::Num(v) => v.map(|(v, u)| (v, u.map(Cow::Owned))),
                _ => None,
            },
            NumOp::ValueOf(name) => {
                let item = self.item(name)?;
                Some((item.value?, item.unit.clone().map(Cow::Owned)))
            }
            NumOp::Count(q) => Some((query::run(self, q).len() as f64, None)),
            NumOp::Path(p) => rule_path::num_of(self, p).map(|(v, u)| (v, u.map(Cow::Owned))),
            NumOp::Patient(PatientNum::Day) => {
                self.ctx.day().map(|d| (d as f64, Some(Cow::Borrowed("d"))))
            }
            NumOp::Patient(PatientNum::Age) => {
                let b = self.ctx.input.record.birth_date?;
                let t = self.ctx.today;
                let mut age = t.year() - b.year();
                if (t.month(), t.day()) < (b.month(), b.day()) {
                    age -= 1;
                }
                Some((age as f64, Some(Cow::Borrowed("a"))))
            }
            NumOp::Add(p) => self.arith(p, true, |a, b| Some(a + b)),
            NumOp::Sub(p) => self.arith(p, true, |a, b| Some(a - b)),
            NumOp::Mul(p) => self.arith(p, false, |a, b| Some(a * b)),
            NumOp::Div(p) => self.arith(p, false, |a, b| (b != 0.0).then(|| a / b)),
            NumOp::Case(case) => {
                let branch = case.when.iter().find(|b| self.cond(&b.cond));
                self.num(branch.map_or(&case.otherwise, |b| &b.then))
            }
        }
    }

    /// A number converted to `unit` (when it carries a unit).
    fn num_in(&self, n: &Num, unit: &str) -> Option<f64> {
        let (v, u) = self.num(n)?;
        match u {
            Some(u) if u != unit => units::convert(v, &u, unit),
            _ => Some(v),
        }
    }

    /// The item a query binding found.
    fn item(&self, name: &str) -> Option<Rc<Item>> {
        match self.binding(name) {
            Bound::Item(i) => i,
            _ => None,
        }
    }
}

impl RuleEval<'_, '_> {
    pub fn cond(&self, c: &Cond) -> bool {
        match c {
            Cond::All(cs) => cs.iter().all(|c| self.cond(c)),
            Cond::Any(cs) => cs.iter().any(|c| self.cond(c)),
            Cond::Not(c) => !self.cond(c),
            Cond::Hook(hooks) => hooks.iter().any(|h| h == self.ctx.input.hook),
            Cond::Product(ids) => self
                .ctx
                .cohort
                .product
                .as_ref()
                .is_some_and(|p| ids.contains(p)),
            Cond::Day(range) => {
                let Some(day) = self.ctx.day() else {
                    return false;
                };
                let bound_ok = |n: &Option<Num>, f: fn(f64, f64) -> bool| match n {
                    None => true,
                    Some(n) => self.num_in(n, "d").is_some_and(|b| f(day as f64, b)),
                };
                bound_ok(&range.from, |d, b| d >= b) && bound_ok(&range.to, |d, b| d <= b)
            }
            Cond::Exists(name) => match self.binding(name) {
                Bound::Item(item) => item.is_some(),
                Bound::Text(text) => text.is_some(),
                _ => false,
            },
            Cond::Within(w) => {
                let Some(when) = self.item(&w.of).and_then(|i| i.when) else {
                    return false;
                };
                if let Some(days) = w.days.as_ref().and_then(|n| self.num_in(n, "d")) {
                    return (self.ctx.today - when.date).num_days() as f64 <= days;
                }
                if let Some(hours) = w.hours.as_ref().and_then(|n| self.num_in(n, "h")) {
                    let age = self.ctx.input.now - when.at;
                    return age.num_seconds() as f64 <= hours * 3600.0;
                }
                false
            }
            Cond::Nonempty(list) => self
                .rule
                .lists
                .get(list)
                .is_some_and(|items| items.iter().any(|i| self.cond(&i.when))),
            // A rule that is not active (draft, retired) holds for no one: retiring a rule
            // must not leave the rules that refer to it silenced or firing on its account.
            Cond::Rule(id) => self.ctx.pack.rule_index.get(id).is_some_and(|&i| {
                self.ctx.pack.rules[i].status == RuleStatus::Active && self.ctx.holds(i)
            }),
            Cond::Lt(p) => self.compare(p, |a, b| a < b),
            Cond::Le(p) => self.compare(p, |a, b| a <= b),
            Cond::Gt(p) => self.compare(p, |a, b| a > b),
            Cond::Ge(p) => self.compare(p, |a, b| a >= b),
        }
    }

    fn compare(&self, pair: &[Num; 2], op: impl Fn(f64, f64) -> bool) -> bool {
        let (Some((a, ua)), Some((b, ub))) = (self.num(&pair[0]), self.num(&pair[1])) else {
            return false;
        };
        let b = match (&ua, &ub) {
            (Some(ua), Some(ub)) => match units::convert(b, ub, ua) {
                Some(b) => b,
                None => return false,
            },
            _ => b,
        };
        op(a, b)
    }

    /// Arithmetic. Sums and differences convert the second operand to the first one's unit;
    /// products and quotients scale: a dimensionless operand (`1` or a literal) keeps the
    /// other operand's unit.
    fn arith(
        &self,
        p: &[Num; 2],
        additive: bool,
        f: impl Fn(f64, f64) -> Option<f64>,
    ) -> Option<(f64, Option<Cow<'_, str>>)> {
        let (a, ua) = self.num(&p[0])?;
        let (b, ub) = self.num(&p[1])?;
        let dimensional = |u: &Option<Cow<str>>| u.as_deref().is_some_and(|u| u != "1");
        if !additive {
            let unit = match (dimensional(&ua), dimensional(&ub)) {
                (true, false) => ua,
                (false, true) => ub,
                _ => None,
            };
            return Some((f(a, b)?, unit));
        }
        let b = match (&ua, &ub) {
            (Some(ua), Some(ub)) if ua != ub => units::convert(b, ub, ua)?,
            _ => b,
        };
        Some((f(a, b)?, ua.or(ub)))
    }

    pub fn binding(&self, name: &str) -> Bound {
        let Some(def) = self.rule.bindings.get(name) else {
            return Bound::Item(None);
        };
        let key = def as *const Binding;
        if let Some(b) = self.env.bound.borrow().get(&key) {
            return b.clone();
        }
        self.env.bound.borrow_mut().insert(key, Bound::InProgress);
        let value = match def {
            Binding::Latest(q) => {
                Bound::Item(query::run(self, q).first().map(|h| Rc::new(h.item(self))))
            }
            Binding::Previous(q) => {
                Bound::Item(query::run(self, q).get(1).map(|h| Rc::new(h.item(self))))
            }
            Binding::Num(n) => Bound::Num(self.num(n).map(|(v, u)| (v, u.map(Cow::into_owned)))),
            Binding::Text(p) => Bound::Text(rule_path::text_of(self, p)),
        };
        self.env.bound.borrow_mut().insert(key, value.clone());
        value
    }
}
