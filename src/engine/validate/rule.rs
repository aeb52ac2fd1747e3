//! The checks of one rule: its parameters, bindings, lists, condition and card, each problem
//! with the rule's file and the path in it.

use super::super::rule::{Binding, Cond, Num, NumOp, Rule};
use super::super::template::{placeholders, resource_from_yaml, sole_placeholder};
use super::cycles::binding_cycles;
use super::{source, valued, Checker, BUILTINS, HOOKS};
use crate::record::units;

pub(super) struct RuleChecker<'c, 'p> {
    pub(super) c: &'c mut Checker<'p>,
    pub(super) rule: &'p Rule,
}

impl RuleChecker<'_, '_> {
    pub(super) fn num(&mut self, path: &str, n: &Num) {
        let Num::Op(op) = n else { return };
        match op.as_ref() {
            NumOp::Param(p) if !self.rule.parameters.contains_key(p) => self
                .c
                .err(&format!("{path}.param"), format!("unknown parameter `{p}`")),
            NumOp::Param(_) | NumOp::Patient(_) => {}
            NumOp::Var(v) => match self.rule.bindings.get(v) {
                None => self
                    .c
                    .err(&format!("{path}.var"), format!("unknown binding `{v}`")),
                Some(Binding::Num(_)) => {}
                Some(_) => self.c.err(
                    &format!("{path}.var"),
                    format!("type error: `{v}` is a query; use value_of"),
                ),
            },
            NumOp::ValueOf(v) => {
                self.query_binding(&format!("{path}.value_of"), v);
                if let Some(kind) = self.query_source(v) {
                    if !valued(self.c.pack, kind) {
                        self.c.err(
                            &format!("{path}.value_of"),
                            format!("type error: `{v}` finds {kind}, which have no numeric value"),
                        );
                    }
                }
            }
            NumOp::Count(q) => self.query(&format!("{path}.count"), q),
            NumOp::Path(p) => self.path_of(&format!("{path}.path"), p),
            NumOp::Add(p) | NumOp::Sub(p) | NumOp::Mul(p) | NumOp::Div(p) => {
                let op = match op.as_ref() {
                    NumOp::Add(_) => "add",
                    NumOp::Sub(_) => "sub",
                    NumOp::Mul(_) => "mul",
                    _ => "div",
                };
                self.num(&format!("{path}.{op}[0]"), &p[0]);
                self.num(&format!("{path}.{op}[1]"), &p[1]);
            }
            NumOp::Case(case) => {
                for (i, b) in case.when.iter().enumerate() {
                    self.cond(&format!("{path}.case.when[{i}].if"), &b.cond);
                    self.num(&format!("{path}.case.when[{i}].then"), &b.then);
                }
                self.num(&format!("{path}.case.else"), &case.otherwise);
            }
        }
    }

    fn cond(&mut self, path: &str, c: &Cond) {
        match c {
            Cond::All(cs) | Cond::Any(cs) => {
                let key = if matches!(c, Cond::All(_)) {
                    "all"
                } else {
                    "any"
                };
                if cs.is_empty() {
                    self.c.err(&format!("{path}.{key}"), "must not be empty");
                }
                for (i, c) in cs.iter().enumerate() {
                    self.cond(&format!("{path}.{key}[{i}]"), c);
                }
            }
            Cond::Not(c) => self.cond(&format!("{path}.not"), c),
            Cond::Hook(hooks) => {
                for h in hooks.iter().filter(|h| !HOOKS.contains(&h.as_str())) {
                    self.c
                        .err(&format!("{path}.hook"), format!("unknown hook `{h}`"));
                }
            }
            Cond::Product(ids) => {
                for p in ids
                    .iter()
                    .filter(|p| !self.c.pack.cohort.products.contains_key(*p))
                {
                    self.c
                        .err(&format!("{path}.product"), format!("unknown product `{p}`"));
                }
            }
            Cond::Day(r) => {
                for (k, n) in [("from", &r.from), ("to", &r.to)] {
                    if let Some(n) = n {
                        self.num(&format!("{path}.day.{k}"), n);
                    }
                }
            }
            Cond::Exists(b) => match self.rule.bindings.get(b.as_str()) {
                Some(Binding::Text(_)) => {}
                _ => self.query_binding(&format!("{path}.exists"), b),
            },
            Cond::Within(w) => {
                self.query_binding(&format!("{path}.within.of"), &w.of);
                match (&w.days, &w.hours) {
                    (Some(n), None) => self.num(&format!("{path}.within.days"), n),
                    (None, Some(n)) => self.num(&format!("{path}.within.hours"), n),
                    _ => self.c.err(
                        &format!("{path}.within"),
                        "give exactly one of days or hours",
                    ),
                }
            }
            Cond::Nonempty(l) if !self.rule.lists.contains_key(l) => self
                .c
                .err(&format!("{path}.nonempty"), format!("unknown list `{l}`")),
            Cond::Nonempty(_) => {}
            Cond::Rule(r) if !self.c.pack.rules.contains_key(r) => self
                .c
                .err(&format!("{path}.rule"), format!("unknown rule `{r}`")),
            Cond::Rule(_) => {}
            Cond::Lt(p) | Cond::Le(p) | Cond::Gt(p) | Cond::Ge(p) => {
                let op = match c {
                    Cond::Lt(_) => "lt",
                    Cond::Le(_) => "le",
                    Cond::Gt(_) => "gt",
                    _ => "ge",
                };
                self.num(&format!("{path}.{op}[0]"), &p[0]);
                self.num(&format!("{path}.{op}[1]"), &p[1]);
            }
        }
    }

    fn text(&mut self, path: &str, template: &str, in_resource: bool) {
        for name in placeholders(template) {
            if let Some(problem) = self.placeholder_problem(
                name,
                in_resource && template.trim() == format!("{{{{{name}}}}}"),
            ) {
                self.c.err(path, problem);
            }
        }
        if template.matches("{{").count() != template.matches("}}").count() {
            self.c.err(path, "unbalanced {{ }}");
        }
    }

    fn placeholder_problem(&self, name: &str, whole_value: bool) -> Option<String> {
        if BUILTINS.contains(&name) {
            return None;
        }
        let (head, attr) = name.split_once('.').unwrap_or((name, ""));
        let ok = match head {
            "param" => self.rule.parameters.contains_key(attr),
            "list" | "count" => self.rule.lists.contains_key(attr),
            _ => match self.rule.bindings.get(head) {
                None => false,
                Some(Binding::Num(_) | Binding::Text(_)) => attr.is_empty(),
                Some(Binding::Latest(q) | Binding::Previous(q)) => {
                    let kind = source(q).first().copied().unwrap_or_default();
                    match attr {
                        "" | "display" | "date" | "time" | "ref" => true,
                        "value" => valued(self.c.pack, kind),
                        "gene" | "vaf" => kind == "variants",
                        "code" => {
                            if !whole_value {
                                return Some(format!("`{{{{{name}}}}}` is structured: use it as a whole string value inside a resource"));
                            }
                            true
                        }
                        _ => false,
                    }
                }
            },
        };
        (!ok).then(|| format!("unknown placeholder `{{{{{name}}}}}`"))
    }
}

fn dummy(name: &str) -> serde_json::Value {
    if name.ends_with(".code") {
        return serde_json::json!({"text": "example"});
    }
    let s = match name {
        "today" | "day0" => "2026-01-01",
        n if n.ends_with(".date") => "2026-01-01",
        n if n.ends_with(".time") => "2026-01-01T00:00:00Z",
        n if n.ends_with(".ref") || n == "patient.ref" => "Patient/example",
        _ => "example",
    };
    serde_json::Value::String(s.to_owned())
}

pub(super) fn check_rule<'p>(c: &mut Checker<'p>, rule: &'p Rule) {
    let mut rc = RuleChecker { c, rule };
    if rule.hooks.is_empty() {
        rc.c.err("hooks", "at least one hook");
    }
    for (i, h) in rule.hooks.iter().enumerate() {
        if !HOOKS.contains(&h.as_str()) {
            rc.c.err(&format!("hooks[{i}]"), format!("unknown hook `{h}`"));
        }
    }
    for (name, p) in &rule.parameters {
        let path = format!("parameters.{name}");
        if !units::known(&p.unit) {
            rc.c.err(
                &format!("{path}.unit"),
                format!("unknown unit `{}`", p.unit),
            );
        }
        if p.min.is_some_and(|m| p.value < m) || p.max.is_some_and(|m| p.value > m) {
            rc.c.err(
                &format!("{path}.value"),
                format!("{} is outside [{:?}, {:?}]", p.value, p.min, p.max),
            );
        }
        if !p.value.is_finite() {
            rc.c.err(&format!("{path}.value"), "must be a finite number");
        }
        for (product, value) in &p.products {
            let at = format!("{path}.products.{product}");
            if !rc.c.pack.cohort.products.contains_key(product) {
                rc.c.err(&at, format!("unknown product `{product}`"));
            }
            let outside = p.min.is_some_and(|m| *value < m) || p.max.is_some_and(|m| *value > m);
            if !value.is_finite() || outside {
                rc.c.err(
                    &at,
                    format!(
                        "{value} is not a finite number in [{:?}, {:?}]",
                        p.min, p.max
                    ),
                );
            }
        }
    }
    for (name, b) in &rule.bindings {
        let path = format!("let.{name}");
        match b {
            Binding::Latest(q) => rc.query(&format!("{path}.latest"), q),
            Binding::Previous(q) => rc.query(&format!("{path}.previous"), q),
            Binding::Num(n) => rc.num(&format!("{path}.num"), n),
            Binding::Text(p) => rc.path_of(&format!("{path}.text"), p),
        }
    }
    for (name, items) in &rule.lists {
        for (i, item) in items.iter().enumerate() {
            rc.cond(&format!("lists.{name}[{i}].when"), &item.when);
            rc.text(&format!("lists.{name}[{i}].text"), &item.text, false);
        }
    }
    rc.cond("when", &rule.when);
    let card = &rule.card;
    let indicator_ok = |i: &str| matches!(i, "info" | "warning" | "critical");
    if !indicator_ok(&card.indicator) {
        rc.c.err(
            "card.indicator",
            format!("`{}` is not info, warning or critical", card.indicator),
        );
    }
    rc.text("card.summary", &card.summary, false);
    rc.text("card.detail", &card.detail, false);
    if card.summary.trim().is_empty() {
        rc.c.err("card.summary", "must not be empty");
    }
    for (i, v) in card.variants.iter().enumerate() {
        let path = format!("card.variants[{i}]");
        rc.cond(&format!("{path}.when"), &v.when);
        if v.indicator.as_deref().is_some_and(|x| !indicator_ok(x)) {
            rc.c.err(
                &format!("{path}.indicator"),
                "not info, warning or critical",
            );
        }
        for (k, t) in [("summary", &v.summary), ("detail", &v.detail)] {
            if let Some(t) = t {
                rc.text(&format!("{path}.{k}"), t, false);
            }
        }
    }
    if let Some(sb) = &card.selection_behavior {
        if sb != "any" && sb != "at-most-one" {
            rc.c.err("card.selection_behavior", "must be any or at-most-one");
        }
    }
    for (i, s) in card.suggestions.iter().enumerate() {
        let path = format!("card.suggestions[{i}]");
        rc.text(&format!("{path}.label"), &s.label, false);
        if let Some(w) = &s.when {
            rc.cond(&format!("{path}.when"), w);
        }
        if s.actions.is_empty() {
            rc.c.err(&format!("{path}.actions"), "at least one action");
        }
        for (j, a) in s.actions.iter().enumerate() {
            let ap = format!("{path}.actions[{j}]");
            rc.text(&format!("{ap}.description"), &a.description, false);
            match (a.kind.as_str(), &a.resource, &a.resource_id) {
                ("create" | "update", Some(_), None) => {}
                ("delete", None, Some(id)) => rc.text(&format!("{ap}.resource_id"), id, false),
                ("create" | "update", _, _) => rc.c.err(
                    &ap,
                    "create and update need `resource` and no `resource_id`",
                ),
                ("delete", _, _) => {
                    rc.c.err(&ap, "delete needs `resource_id` and no `resource`")
                }
                (k, _, _) => rc.c.err(
                    &format!("{ap}.type"),
                    format!("`{k}` is not create, update or delete"),
                ),
            }
            if let Some(t) = &a.resource {
                let mut texts = Vec::new();
                let rendered = resource_from_yaml(t, &mut |s| {
                    texts.push(s.to_owned());
                    if let Some(name) = sole_placeholder(s) {
                        return dummy(name);
                    }
                    let names = placeholders(s);
                    serde_json::Value::String(names.iter().fold(s.to_owned(), |acc, n| {
                        acc.replace(&format!("{{{{{n}}}}}"), "x")
                    }))
                });
                for s in texts {
                    rc.text(&format!("{ap}.resource"), &s, true);
                }
                if let Err(e) = fhir_r4::to_json(&rendered) {
                    rc.c.err(&format!("{ap}.resource"), e.to_string());
                }
                if let Some((field, problem)) = super::suggestion::missing_code(&rendered) {
                    rc.c.err(&format!("{ap}.resource.{field}"), problem);
                }
            }
        }
    }
    for (i, l) in card.links.iter().enumerate() {
        if !(l.url.starts_with("https://") || l.url.starts_with("http://")) {
            rc.c.err(&format!("card.links[{i}].url"), "must be an absolute URL");
        }
        if l.kind != "absolute" && l.kind != "smart" {
            rc.c.err(
                &format!("card.links[{i}].type"),
                "must be absolute or smart",
            );
        }
        rc.text(&format!("card.links[{i}].label"), &l.label, false);
    }
    for (i, o) in card.override_reasons.iter().enumerate() {
        if o.display.trim().is_empty() || o.code.trim().is_empty() || o.system.trim().is_empty() {
            rc.c.err(
                &format!("card.override_reasons[{i}]"),
                "system, code and display are required",
            );
        }
    }
    if rule.evidence.is_empty() {
        rc.c.err(
            "evidence",
            "every card must cite its evidence: at least one entry",
        );
    }
    for (i, e) in rule.evidence.iter().enumerate() {
        if !e.url.starts_with("https://") && !e.url.starts_with("http://") {
            rc.c.err(&format!("evidence[{i}].url"), "must be an absolute URL");
        }
        if !matches!(e.status.as_str(), "V" | "V2" | "M") {
            rc.c.err(&format!("evidence[{i}].status"), "must be V, V2 or M");
        }
    }
    if let Some(due) = &rule.due {
        rc.due(due);
    }
    if let Some(s) = &card.snooze {
        rc.snooze(s, &card.override_reasons);
    }
    binding_cycles(rc.c, rule);
}
