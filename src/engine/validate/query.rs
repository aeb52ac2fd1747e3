//! Checking a rule's queries: the source and its value set, the filters the source admits,
//! and the FHIRPath a query or a binding carries (its value sets and variables).

use super::rule::RuleChecker;
use super::source;
use crate::engine::rule::{Binding, PathOf, Query};
use crate::record::units;

impl RuleChecker<'_, '_> {
    pub(super) fn query_source(&self, name: &str) -> Option<&str> {
        match self.rule.bindings.get(name)? {
            Binding::Latest(q) | Binding::Previous(q) => source(q).first().copied(),
            Binding::Num(_) | Binding::Text(_) => None,
        }
    }

    /// An expression on the resource a query binding found (`text:` or `path:`): the binding
    /// is a query, the variables are known.
    pub(super) fn path_of(&mut self, path: &str, p: &PathOf) {
        self.query_binding(&format!("{path}.of"), &p.of);
        self.where_like(&format!("{path}.expr"), p.expr.expr());
    }

    /// The value sets and variables an expression names exist.
    pub(super) fn where_like(&mut self, at: &str, expr: &fhirpath::Expr) {
        for (id, column) in expr.value_sets() {
            if !self.c.pack.valuesets.contains_key(id) {
                self.c.err(
                    at,
                    format!("column {column}: memberOf: unknown value set `{id}`"),
                );
            }
        }
        for (name, column) in expr.variables() {
            let binding = matches!(
                self.rule.bindings.get(name),
                Some(Binding::Latest(_) | Binding::Previous(_))
            );
            if !binding && !crate::engine::path::known_variable(name) {
                self.c
                    .err(at, format!("column {column}: unknown variable %{name}"));
            }
        }
    }

    pub(super) fn query_binding(&mut self, path: &str, name: &str) {
        match self.rule.bindings.get(name) {
            None => self.c.err(path, format!("unknown binding `{name}`")),
            Some(Binding::Num(_)) => self.c.err(
                path,
                format!("type error: `{name}` is a number, not a query"),
            ),
            Some(Binding::Text(_)) => self
                .c
                .err(path, format!("type error: `{name}` is a text, not a query")),
            Some(_) => {}
        }
    }

    pub(super) fn query(&mut self, path: &str, q: &Query) {
        let src = source(q);
        let Some(&kind) = src.first() else {
            self.c.err(path, "a query needs one source: results, medications, conditions, procedures, encounters, draft_orders, variants, or source with codes");
            return;
        };
        if q.source.is_some() != q.codes.is_some() {
            self.c.err(path, "`source` and `codes` go together");
        }
        let Some(def) = self.c.pack.sources.get(kind) else {
            let at = if q.source.is_some() {
                format!("{path}.source")
            } else {
                format!("{path}.{kind}")
            };
            self.c
                .err(&at, format!("unknown source `{kind}` (sources.yaml)"));
            return;
        };
        if src.len() > 1 {
            self.c.err(
                path,
                format!("a query has exactly one source, found {}", src.join(", ")),
            );
        }
        let vs = [
            &q.results,
            &q.medications,
            &q.conditions,
            &q.procedures,
            &q.encounters,
            &q.draft_orders,
            &q.variants,
        ]
        .into_iter()
        .flatten()
        .next()
        .cloned()
        .or_else(|| q.codes.clone())
        .unwrap_or_default();
        let vs_path = if q.codes.is_some() {
            format!("{path}.codes")
        } else {
            format!("{path}.{kind}")
        };
        self.c.valueset(&vs_path, &vs);
        let only = |field: &str, set: bool, applies: bool, me: &mut Self| {
            if set && !applies {
                me.c.err(
                    &format!("{path}.{field}"),
                    format!("`{field}` does not apply to {kind}"),
                );
            }
        };
        let valued = def.value.is_some() && kind != "variants";
        only("unit", q.unit.is_some(), valued, self);
        only("numeric", q.numeric.is_some(), valued, self);
        only("value_in", q.value_in.is_some(), valued, self);
        only("value", q.value.is_some(), valued, self);
        let variants = kind == "variants";
        only(
            "vaf_min_percent",
            q.vaf_min_percent.is_some(),
            variants,
            self,
        );
        only("exclude", q.exclude.is_some(), !variants, self);
        only(
            "include_inactive",
            q.include_inactive.is_some(),
            def.history.is_some(),
            self,
        );
        only("active", q.active.is_some(), def.active.is_some(), self);
        only("status", q.status.is_some(), !variants, self);
        let dated = q.since_day.is_some()
            || q.until_day.is_some()
            || q.within_days.is_some()
            || q.within_hours.is_some()
            || q.before.is_some();
        if dated && def.draft_orders {
            self.c
                .err(path, "draft orders are not dated: no time window applies");
        }
        if let Some(u) = &q.unit {
            if !units::known(u) {
                self.c
                    .err(&format!("{path}.unit"), format!("unknown unit `{u}`"));
            }
        }
        for (field, vs) in [("value_in", &q.value_in), ("exclude", &q.exclude)] {
            if let Some(vs) = vs {
                self.c.valueset(&format!("{path}.{field}"), vs);
            }
        }
        if let Some(cmp) = &q.value {
            use crate::engine::rule::Comparison::*;
            let (Lt(n) | Le(n) | Gt(n) | Ge(n)) = cmp;
            self.num(&format!("{path}.value"), n);
        }
        for (field, n) in [
            ("vaf_min_percent", &q.vaf_min_percent),
            ("since_day", &q.since_day),
            ("until_day", &q.until_day),
            ("within_days", &q.within_days),
            ("within_hours", &q.within_hours),
        ] {
            if let Some(n) = n {
                self.num(&format!("{path}.{field}"), n);
            }
        }
        if let Some(w) = &q.where_ {
            let at = format!("{path}.where");
            if kind == "variants" {
                self.c.err(&at, "`where` does not apply to variants");
            }
            self.where_like(&at, w.expr());
        }
        if let Some(b) = &q.before {
            self.query_binding(&format!("{path}.before.of"), &b.of);
            if let Some(n) = &b.minus_days {
                self.num(&format!("{path}.before.minus_days"), n);
            }
        }
    }
}
