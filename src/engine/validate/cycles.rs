//! What refers to what in a rule (bindings to bindings, conditions to rules), for the cycle
//! checks.

use std::collections::{HashMap, HashSet};

use super::Checker;
use crate::engine::rule::{Binding, Cond, Num, NumOp, Query, Rule};

fn refs_in_query(q: &Query, out: &mut Vec<String>) {
    if let Some(b) = &q.before {
        out.push(b.of.clone());
    }
    if let Some(w) = &q.where_ {
        out.extend(w.expr().variables().map(|(name, _)| name.to_owned()));
    }
}

fn binding_refs(b: &Binding) -> Vec<String> {
    fn num(n: &Num, out: &mut Vec<String>) {
        let Num::Op(op) = n else { return };
        match op.as_ref() {
            NumOp::Var(v) | NumOp::ValueOf(v) => out.push(v.clone()),
            NumOp::Count(q) => refs_in_query(q, out),
            NumOp::Path(p) => {
                out.push(p.of.clone());
                out.extend(p.expr.expr().variables().map(|(n, _)| n.to_owned()));
            }
            NumOp::Add(p) | NumOp::Sub(p) | NumOp::Mul(p) | NumOp::Div(p) => {
                p.iter().for_each(|n| num(n, out))
            }
            NumOp::Case(c) => {
                c.when.iter().for_each(|b| num(&b.then, out));
                num(&c.otherwise, out);
            }
            NumOp::Param(_) | NumOp::Patient(_) => {}
        }
    }
    let mut out = Vec::new();
    match b {
        Binding::Latest(q) | Binding::Previous(q) => refs_in_query(q, &mut out),
        Binding::Num(n) => num(n, &mut out),
        Binding::Text(p) => {
            out.push(p.of.clone());
            out.extend(p.expr.expr().variables().map(|(n, _)| n.to_owned()));
        }
    }
    out
}

pub(super) fn binding_cycles(c: &mut Checker, rule: &Rule) {
    let graph: HashMap<&str, Vec<String>> = rule
        .bindings
        .iter()
        .map(|(k, b)| (k.as_str(), binding_refs(b)))
        .collect();
    for start in graph.keys() {
        let mut stack = vec![start.to_string()];
        let mut seen = HashSet::new();
        while let Some(n) = stack.pop() {
            for next in graph.get(n.as_str()).into_iter().flatten() {
                if next == start {
                    c.err(&format!("let.{start}"), "binding refers to itself (cycle)");
                    stack.clear();
                    break;
                }
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
    }
}

pub(super) fn rule_refs(c: &Cond, out: &mut Vec<String>) {
    match c {
        Cond::All(cs) | Cond::Any(cs) => cs.iter().for_each(|c| rule_refs(c, out)),
        Cond::Not(c) => rule_refs(c, out),
        Cond::Rule(r) => out.push(r.clone()),
        _ => {}
    }
}
