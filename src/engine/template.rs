//! The template syntax of a rule's card: `{{ name }}` placeholders in its texts, and the
//! suggestion resources written as YAML whose strings may hold them. Rendering fills them
//! (`render`); validation checks every name they use (`validate`).

use serde_json::{json, Value};

/// The next placeholder of `text`: the text before it, its name (trimmed) and the text after
/// it. `memchr` finds the braces: rendering is most of evaluating a large pack.
pub(super) fn next_placeholder(text: &str) -> Option<(&str, &str, &str)> {
    let bytes = text.as_bytes();
    let mut from = 0;
    let start = loop {
        let at = from + memchr::memchr(b'{', &bytes[from..])?;
        if bytes.get(at + 1) == Some(&b'{') {
            break at;
        }
        from = at + 1;
    };
    let after = &text[start + 2..];
    let end = memchr::memmem::find(after.as_bytes(), b"}}")?;
    Some((&text[..start], after[..end].trim(), &after[end + 2..]))
}

/// Names of the placeholders in a template, in order.
pub(super) fn placeholders(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some((_, name, after)) = next_placeholder(rest) {
        out.push(name);
        rest = after;
    }
    out
}

/// The characters of `template` outside its placeholders: what a card shows however short the
/// values filled in are.
pub(super) fn text_length(template: &str) -> usize {
    let mut n = 0;
    let mut rest = template;
    while let Some((before, _, after)) = next_placeholder(rest) {
        n += before.chars().count();
        rest = after;
    }
    n + rest.chars().count()
}

/// The name of the placeholder `text` consists of (surrounding blanks aside), if it is one.
pub(super) fn sole_placeholder(text: &str) -> Option<&str> {
    match next_placeholder(text.trim())? {
        ("", name, "") => Some(name),
        _ => None,
    }
}

/// Converts a YAML resource template to JSON, mapping every string through `string`.
pub(super) fn resource_from_yaml(
    v: &serde_yaml::Value,
    string: &mut dyn FnMut(&str) -> Value,
) -> Value {
    use serde_yaml::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(*b),
        Y::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => json!(i),
            (None, Some(f)) => json!(f),
            _ => Value::Null,
        },
        Y::String(s) => string(s),
        Y::Sequence(items) => Value::Array(
            items
                .iter()
                .map(|i| resource_from_yaml(i, string))
                .collect(),
        ),
        Y::Mapping(m) => Value::Object(
            m.iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), resource_from_yaml(v, string))))
                .collect(),
        ),
        Y::Tagged(t) => resource_from_yaml(&t.value, string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_length_leaves_the_placeholders_out() {
        assert_eq!(text_length("Day {{day}} after {{ product }}."), 12);
        assert_eq!(text_length("no placeholder"), 14);
        assert_eq!(text_length("é{{a}}"), 1);
        assert_eq!(text_length("unclosed {{a"), 12);
    }

    #[test]
    fn placeholders_are_found_in_order() {
        assert_eq!(
            placeholders("a {{ day }} b {{x.value}}{{"),
            vec!["day", "x.value"]
        );
        assert_eq!(placeholders("{a} {{{b}}} {c}}"), vec!["{b"]);
        assert_eq!(placeholders("no braces, {one} {"), Vec::<&str>::new());
    }

    #[test]
    fn a_sole_placeholder_is_recognised_with_blanks_around_it_only() {
        assert_eq!(sole_placeholder(" {{ x.code }} "), Some("x.code"));
        assert_eq!(sole_placeholder("{{x.code}}"), Some("x.code"));
        assert_eq!(sole_placeholder("code: {{x.code}}"), None);
        assert_eq!(sole_placeholder("{{a}}{{b}}"), None);
        assert_eq!(sole_placeholder("{{a}"), None);
    }
}
