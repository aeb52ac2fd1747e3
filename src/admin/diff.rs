//! A structural diff of two JSON documents (pack versions, rules): every changed leaf or
//! subtree with its path, what it was and what it became.

use serde::Serialize;
use serde_json::Value;

/// One difference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// JSON path, e.g. `rules.cbc-surveillance-overdue.parameters.interval_phase1_days.value`.
    pub path: String,
    /// Value before (absent when added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// Value after (absent when removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn walk(path: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<Change>) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                walk(&join(path, k), x.get(k), y.get(k), out);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                walk(&format!("{path}[{i}]"), Some(p), Some(q), out);
            }
        }
        (a, b) if a != b => out.push(Change {
            path: path.to_owned(),
            before: a.cloned(),
            after: b.cloned(),
        }),
        _ => {}
    }
}

/// Differences from `a` to `b`, in path order.
pub fn diff(a: &Value, b: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    walk("", Some(a), Some(b), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_changed_added_and_removed_members() {
        let a = json!({"rules": {"r": {"parameters": {"x": {"value": 30}}, "status": "active"}, "gone": 1}});
        let b = json!({"rules": {"r": {"parameters": {"x": {"value": 15}}, "status": "active"}, "new": 2}});
        let d = diff(&a, &b);
        let paths: Vec<&str> = d.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(
            paths,
            ["rules.gone", "rules.new", "rules.r.parameters.x.value"]
        );
        assert_eq!(d[2].before, Some(json!(30)));
        assert_eq!(d[2].after, Some(json!(15)));
        assert!(d[0].after.is_none() && d[1].before.is_none());
        assert!(diff(&a, &a).is_empty());
    }
}
