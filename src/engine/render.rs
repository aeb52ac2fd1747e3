//! Turning a rule that fired into a [`Finding`]: placeholders filled, variants applied,
//! suggestion resources rendered and serialised through fhirbolt. The bindings and conditions
//! it reads are evaluated by `eval.rs` (`RuleEval::binding`, `RuleEval::cond`).

use fhir_r4::Concept;
use serde_json::{json, Value};

use super::ctx::{Bound, RuleEval};
use super::rule::ActionTemplate;
use super::template::{next_placeholder, resource_from_yaml, sole_placeholder};
use super::{Finding, FindingAction, FindingSuggestion};
use crate::record::units::{display, fmt_num};

/// What a placeholder resolves to.
pub(super) enum Filled {
    Text(String),
    Json(Value),
}

fn concept_json(c: &Concept) -> Value {
    let codings: Vec<Value> = c
        .codings
        .iter()
        .map(|k| {
            let mut m = serde_json::Map::new();
            for (key, v) in [
                ("system", &k.system),
                ("code", &k.code),
                ("display", &k.display),
            ] {
                if let Some(v) = v {
                    m.insert(key.into(), Value::String(v.clone()));
                }
            }
            Value::Object(m)
        })
        .collect();
    let mut m = serde_json::Map::new();
    if !codings.is_empty() {
        m.insert("coding".into(), Value::Array(codings));
    }
    if let Some(t) = &c.text {
        m.insert("text".into(), Value::String(t.clone()));
    }
    Value::Object(m)
}

/// A concept for people: text, else the first display, else the first code.
pub(super) fn concept_label(c: &Concept) -> String {
    c.text
        .clone()
        .or_else(|| c.codings.iter().find_map(|k| k.display.clone()))
        .or_else(|| c.codings.iter().find_map(|k| k.code.clone()))
        .unwrap_or_else(|| "unnamed".to_owned())
}

const NONE: &str = "none on record";

impl RuleEval<'_, '_> {
    pub(super) fn fill(&self, name: &str) -> Filled {
        let ctx = self.ctx;
        let product = ctx
            .cohort
            .product
            .as_ref()
            .and_then(|p| ctx.pack.pack.cohort.products.get(p));
        let text = |s: String| Filled::Text(s);
        match name {
            "product" => {
                return text(
                    product.map_or("CAR-T therapy (product not recorded)".into(), |p| p.label()),
                )
            }
            "target" => return text(product.map_or("unknown target".into(), |p| p.target.clone())),
            "day" => return text(ctx.day().map_or("unknown".into(), |d| d.to_string())),
            "day0" => return text(ctx.cohort.day0.map_or("unknown".into(), |d| d.to_string())),
            "today" => return text(ctx.today.to_string()),
            "patient.ref" => return text(format!("Patient/{}", ctx.input.record.patient_id)),
            _ => {}
        }
        let (head, attr) = name.split_once('.').unwrap_or((name, ""));
        match head {
            "param" => {
                let product = ctx.cohort.product.as_deref();
                return text(self.rule.parameters.get(attr).map_or(String::new(), |p| {
                    format!("{} {}", fmt_num(p.value_for(product)), display(&p.unit))
                        .trim()
                        .to_owned()
                }));
            }
            "list" | "count" => {
                let items: Vec<String> = self
                    .rule
                    .lists
                    .get(attr)
                    .into_iter()
                    .flatten()
                    .filter(|i| self.cond(&i.when))
                    .map(|i| self.render(&i.text))
                    .collect();
                return text(match (head, items.is_empty()) {
                    ("count", _) => items.len().to_string(),
                    (_, true) => "none".to_owned(),
                    _ => items.join("; "),
                });
            }
            _ => {}
        }
        match self.binding(head) {
            Bound::Num(n) => text(n.map_or("unknown".into(), |(v, u)| {
                format!(
                    "{} {}",
                    fmt_num(v),
                    u.as_deref().map(display).unwrap_or_default()
                )
                .trim()
                .to_owned()
            })),
            Bound::Text(t) => text(t.unwrap_or_else(|| NONE.into())),
            Bound::InProgress => text("unknown".into()),
            Bound::Item(None) => match attr {
                "code" => Filled::Json(json!({"text": NONE})),
                _ => text(NONE.into()),
            },
            Bound::Item(Some(item)) => match attr {
                "" | "display" => text(item.concept.as_ref().map_or(NONE.into(), concept_label)),
                "value" => text(item.shown.clone().unwrap_or_else(|| NONE.into())),
                "date" => text(item.when.map_or("undated".into(), |w| w.date.to_string())),
                "time" => text(item.when.map_or("undated".into(), |w| {
                    w.at.with_timezone(&ctx.input.tz)
                        .format("%Y-%m-%d %H:%M %:z")
                        .to_string()
                })),
                "ref" => text(item.reference.clone()),
                "gene" => text(item.gene.clone().unwrap_or_else(|| NONE.into())),
                "vaf" => text(
                    item.vaf
                        .map_or("not reported".into(), |v| format!("{} %", fmt_num(v))),
                ),
                "code" => Filled::Json(
                    item.concept
                        .as_ref()
                        .map_or(json!({"text": NONE}), concept_json),
                ),
                _ => text(String::new()),
            },
        }
    }

    /// Fills every placeholder of a text template.
    pub(super) fn render(&self, template: &str) -> String {
        let mut out = String::with_capacity(template.len() + 32);
        let mut rest = template;
        while let Some((before, name, after)) = next_placeholder(rest) {
            out.push_str(before);
            match self.fill(name) {
                Filled::Text(t) => out.push_str(&t),
                Filled::Json(v) => out.push_str(&v.to_string()),
            }
            rest = after;
        }
        out.push_str(rest);
        out
    }

    fn resource(&self, template: &serde_yaml::Value) -> Value {
        resource_from_yaml(template, &mut |s| {
            if let Some(name) = sole_placeholder(s) {
                if let Filled::Json(v) = self.fill(name) {
                    return v;
                }
            }
            Value::String(self.render(s))
        })
    }

    fn action(&self, a: &ActionTemplate) -> Option<FindingAction> {
        let resource = match &a.resource {
            Some(t) => Some(fhir_r4::to_json(&self.resource(t)).ok()?),
            None => None,
        };
        Some(FindingAction {
            kind: a.kind.clone(),
            description: self.render(&a.description),
            resource,
            resource_id: a.resource_id.as_ref().map(|r| self.render(r)),
        })
    }
}

/// The standard's limit: a summary has fewer than 140 characters. Rules are written to fit
/// (a test renders every summary with worst-case values); this cut is the last defence
/// against an unusually long display text from the record.
pub(super) const SUMMARY_MAX_CHARS: usize = 139;

fn fit_summary(s: String) -> String {
    if s.chars().count() <= SUMMARY_MAX_CHARS {
        return s;
    }
    let mut cut: String = s.chars().take(SUMMARY_MAX_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// The card's links: the rule's own, then every cited source the card does not link yet (the
/// first is the card's `source`), so the detail stays short and each source is one tap away. A
/// source not verified in its original is labelled so.
fn links(re: &RuleEval) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = re
        .rule
        .card
        .links
        .iter()
        .map(|l| (re.render(&l.label), l.url.clone(), l.kind.clone()))
        .collect();
    for e in re.rule.evidence.iter().skip(1) {
        if e.url.is_empty() || out.iter().any(|(_, url, _)| *url == e.url) {
            continue;
        }
        let label = match e.status.as_str() {
            "V" => e.label.clone(),
            "V2" => format!("{} (secondary source)", e.label),
            _ => format!("{} (unverified)", e.label),
        };
        out.push((label, e.url.clone(), "absolute".to_owned()));
    }
    out
}

/// Renders the finding of a rule whose condition holds.
pub(super) fn finding(re: &RuleEval) -> Finding {
    let card = &re.rule.card;
    let variant = card.variants.iter().find(|v| re.cond(&v.when));
    let pick = |base: &String, over: Option<&Option<String>>| {
        over.and_then(|o| o.clone()).unwrap_or_else(|| base.clone())
    };
    let indicator = pick(&card.indicator, variant.map(|v| &v.indicator));
    let summary = fit_summary(re.render(&pick(&card.summary, variant.map(|v| &v.summary))));
    let detail = re.render(&pick(&card.detail, variant.map(|v| &v.detail)));
    let suggestions = card
        .suggestions
        .iter()
        .filter(|s| s.when.as_ref().is_none_or(|w| re.cond(w)))
        .filter_map(|s| {
            let actions: Option<Vec<_>> = s.actions.iter().map(|a| re.action(a)).collect();
            Some(FindingSuggestion {
                label: re.render(&s.label),
                recommended: s.recommended,
                actions: actions?,
            })
        })
        .collect();
    let first = re.rule.evidence.first();
    Finding {
        rule_id: re.rule.id.clone(),
        title: re.rule.title.clone(),
        indicator,
        summary,
        detail: detail.trim_end().to_owned(),
        source_label: first.map_or_else(|| re.rule.title.clone(), |e| e.label.clone()),
        source_url: first.map(|e| e.url.clone()).unwrap_or_default(),
        suggestions,
        selection_behavior: card
            .selection_behavior
            .clone()
            .unwrap_or_else(|| "any".into()),
        links: links(re),
        override_reasons: card
            .override_reasons
            .iter()
            .map(|c| (c.system.clone(), c.code.clone(), c.display.clone()))
            .collect(),
        due: super::due::date(re),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_summary_is_cut_below_140_characters_with_an_ellipsis() {
        let long = "x".repeat(200);
        let cut = fit_summary(long);
        assert_eq!(cut.chars().count(), 139);
        assert!(cut.ends_with('…'));
        assert_eq!(fit_summary("short".into()), "short");
        let exactly = "é".repeat(139);
        assert_eq!(fit_summary(exactly.clone()), exactly);
    }
}
