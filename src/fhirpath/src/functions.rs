//! The functions of the supported subset, and arithmetic.

use std::borrow::Cow;

use crate::arith::convert;
use crate::ast::Node;
use crate::eval::{boolean, eval, fail, integer, singleton, Collection, Scope};
use crate::item::{equal, Item, Plain};
use crate::iterate::{bools, distinct, iterate};
use crate::json::{get_str, view, View};
use crate::temporal::Temporal;
use crate::{types, EvalError};

/// The functions of the subset with their fewest and most arguments.
pub(crate) const FUNCTIONS: &[(&str, usize, usize)] = &[
    ("empty", 0, 0),
    ("exists", 0, 1),
    ("all", 1, 1),
    ("allTrue", 0, 0),
    ("anyTrue", 0, 0),
    ("allFalse", 0, 0),
    ("anyFalse", 0, 0),
    ("count", 0, 0),
    ("distinct", 0, 0),
    ("isDistinct", 0, 0),
    ("where", 1, 1),
    ("select", 1, 1),
    ("repeat", 1, 1),
    ("ofType", 1, 1),
    ("is", 1, 1),
    ("as", 1, 1),
    ("single", 0, 0),
    ("first", 0, 0),
    ("last", 0, 0),
    ("tail", 0, 0),
    ("skip", 1, 1),
    ("take", 1, 1),
    ("intersect", 1, 1),
    ("exclude", 1, 1),
    ("union", 1, 1),
    ("combine", 1, 1),
    ("iif", 2, 3),
    ("not", 0, 0),
    ("toString", 0, 0),
    ("toInteger", 0, 0),
    ("toDecimal", 0, 0),
    ("toBoolean", 0, 0),
    ("toDate", 0, 0),
    ("toDateTime", 0, 0),
    ("startsWith", 1, 1),
    ("endsWith", 1, 1),
    ("contains", 1, 1),
    ("indexOf", 1, 1),
    ("substring", 1, 2),
    ("upper", 0, 0),
    ("lower", 0, 0),
    ("length", 0, 0),
    ("replace", 2, 2),
    ("matches", 1, 1),
    ("trim", 0, 0),
    ("abs", 0, 0),
    ("ceiling", 0, 0),
    ("floor", 0, 0),
    ("today", 0, 0),
    ("now", 0, 0),
    ("trace", 1, 2),
    ("hasValue", 0, 0),
    ("children", 0, 0),
    ("descendants", 0, 0),
    ("extension", 1, 1),
    ("memberOf", 1, 1),
];

/// Functions whose arguments are evaluated per item of the focus (`$this` is the item), or
/// name a type, rather than evaluated once on the input.
fn per_item(name: &str) -> bool {
    matches!(name, "where" | "select" | "all" | "exists" | "repeat")
}

fn type_arg(args: &[Node]) -> Result<String, EvalError> {
    match &args[0] {
        Node::Member { target: None, name } => Ok(name.clone()),
        Node::Member {
            target: Some(t),
            name,
        } => match &**t {
            Node::Member {
                target: None,
                name: ns,
            } => Ok(format!("{ns}.{name}")),
            _ => fail("a type name was expected"),
        },
        _ => fail("a type name was expected"),
    }
}

fn text_arg<'a>(
    args: &'a [Node],
    k: usize,
    input: &Collection<'a>,
    scope: &Scope<'_, 'a>,
) -> Result<Option<String>, EvalError> {
    let v = eval(&args[k], input, scope)?;
    Ok(singleton(&v)?.and_then(|i| i.text().map(str::to_owned)))
}

/// Calls `name` on `focus`; arguments are evaluated on `input` (the expression's input at
/// the call), or per item for the iterating functions.
pub(crate) fn call<'a>(
    name: &str,
    focus: Collection<'a>,
    args: &'a [Node],
    input: &Collection<'a>,
    scope: &Scope<'_, 'a>,
) -> Result<Collection<'a>, EvalError> {
    if per_item(name) {
        return iterate(name, focus, args, scope);
    }
    let one =
        |c: &Collection<'a>| -> Result<Option<Item<'a>>, EvalError> { Ok(singleton(c)?.cloned()) };
    let string_of = |c: &Collection<'a>| -> Result<Option<String>, EvalError> {
        match singleton(c)? {
            None => Ok(None),
            Some(i) => match i.text() {
                Some(t) => Ok(Some(t.to_owned())),
                None => fail(format!("{name}() applies to a string")),
            },
        }
    };
    let offset = scope.offset;
    Ok(match name {
        "empty" => bools(Some(focus.is_empty())),
        "count" => vec![Item::Integer(focus.len() as i64)],
        "allTrue" | "anyTrue" | "allFalse" | "anyFalse" => {
            let want = matches!(name, "allTrue" | "anyTrue");
            let mut flags = focus
                .iter()
                .map(|i| matches!(i.plain(false), Plain::Boolean(b) if b == want));
            bools(Some(if name.starts_with("all") {
                flags.all(|f| f)
            } else {
                flags.any(|f| f)
            }))
        }
        "distinct" => distinct(focus, offset),
        "isDistinct" => bools(Some(distinct(focus.clone(), offset).len() == focus.len())),
        "ofType" => {
            let t = type_arg(args)?;
            focus.into_iter().filter(|i| types::is(i, &t)).collect()
        }
        "is" => match one(&focus)? {
            None => Vec::new(),
            Some(i) => bools(Some(types::is(&i, &type_arg(args)?))),
        },
        "as" => {
            let t = type_arg(args)?;
            focus.into_iter().filter(|i| types::is(i, &t)).collect()
        }
        "single" => one(&focus)?.into_iter().collect(),
        "first" => focus.into_iter().take(1).collect(),
        "last" => focus.into_iter().last().into_iter().collect(),
        "tail" => focus.into_iter().skip(1).collect(),
        "skip" | "take" => {
            let n = integer(&eval(&args[0], input, scope)?)?.unwrap_or(0).max(0) as usize;
            if name == "skip" {
                focus.into_iter().skip(n).collect()
            } else {
                focus.into_iter().take(n).collect()
            }
        }
        "intersect" | "exclude" => {
            let other = eval(&args[0], input, scope)?;
            let keep = name == "intersect";
            let kept: Collection = focus
                .into_iter()
                .filter(|i| other.iter().any(|o| equal(i, o, offset) == Some(true)) == keep)
                .collect();
            if keep {
                distinct(kept, offset)
            } else {
                kept
            }
        }
        "union" => {
            let mut all = focus;
            all.extend(eval(&args[0], input, scope)?);
            distinct(all, offset)
        }
        "combine" => {
            let mut all = focus;
            all.extend(eval(&args[0], input, scope)?);
            all
        }
        "iif" => {
            let cond = boolean(&eval(&args[0], input, scope)?)?;
            match (cond, args.get(2)) {
                (Some(true), _) => eval(&args[1], input, scope)?,
                (_, Some(otherwise)) => eval(otherwise, input, scope)?,
                _ => Vec::new(),
            }
        }
        "not" => bools(boolean(&focus)?.map(|b| !b)),
        "toString" => one(&focus)?
            .and_then(|i| i.to_text())
            .map(|s| Item::String(Cow::Owned(s)))
            .into_iter()
            .collect(),
        "toInteger" | "toDecimal" | "toBoolean" | "toDate" | "toDateTime" => match one(&focus)? {
            None => Vec::new(),
            Some(i) => convert(name, &i).into_iter().collect(),
        },
        "startsWith" | "endsWith" | "contains" | "indexOf" => {
            let (Some(s), Some(arg)) = (string_of(&focus)?, text_arg(args, 0, input, scope)?)
            else {
                return Ok(Vec::new());
            };
            match name {
                "startsWith" => bools(Some(s.starts_with(&arg))),
                "endsWith" => bools(Some(s.ends_with(&arg))),
                "contains" => bools(Some(s.contains(&arg))),
                _ => vec![Item::Integer(
                    s.find(&arg).map_or(-1, |b| s[..b].chars().count() as i64),
                )],
            }
        }
        "substring" => {
            let Some(s) = string_of(&focus)? else {
                return Ok(Vec::new());
            };
            let start = integer(&eval(&args[0], input, scope)?)?;
            let len = match args.get(1) {
                Some(a) => integer(&eval(a, input, scope)?)?,
                None => None,
            };
            match start {
                Some(b) if b >= 0 && (b as usize) < s.chars().count() => {
                    let rest = s.chars().skip(b as usize);
                    let out: String = match len {
                        Some(l) => rest.take(l.max(0) as usize).collect(),
                        None => rest.collect(),
                    };
                    vec![Item::String(Cow::Owned(out))]
                }
                _ => Vec::new(),
            }
        }
        "upper" | "lower" | "trim" | "length" => {
            let Some(s) = string_of(&focus)? else {
                return Ok(Vec::new());
            };
            vec![match name {
                "upper" => Item::String(Cow::Owned(s.to_uppercase())),
                "lower" => Item::String(Cow::Owned(s.to_lowercase())),
                "trim" => Item::String(Cow::Owned(s.trim().to_owned())),
                _ => Item::Integer(s.chars().count() as i64),
            }]
        }
        "replace" => {
            let Some(s) = string_of(&focus)? else {
                return Ok(Vec::new());
            };
            let (Some(from), Some(to)) = (
                text_arg(args, 0, input, scope)?,
                text_arg(args, 1, input, scope)?,
            ) else {
                return Ok(Vec::new());
            };
            vec![Item::String(Cow::Owned(s.replace(&from, &to)))]
        }
        "matches" => {
            let (Some(s), Some(pattern)) = (string_of(&focus)?, text_arg(args, 0, input, scope)?)
            else {
                return Ok(Vec::new());
            };
            // Single-line mode: `.` matches a line break too, as the specification asks.
            match regex::Regex::new(&format!("(?s){pattern}")) {
                Ok(re) => bools(Some(re.is_match(&s))),
                Err(_) => return fail("matches(): the pattern is not a valid regular expression"),
            }
        }
        "abs" | "ceiling" | "floor" => match one(&focus)? {
            None => Vec::new(),
            Some(i) => vec![match (i.plain(false), name) {
                (Plain::Integer(n), "abs") => Item::Integer(n.abs()),
                (Plain::Integer(n), _) => Item::Integer(n),
                (Plain::Decimal(d), "abs") => Item::Decimal(d.abs()),
                (Plain::Decimal(d), "ceiling") => Item::Integer(d.ceil() as i64),
                (Plain::Decimal(d), _) => Item::Integer(d.floor() as i64),
                (Plain::Quantity(v, u), "abs") => Item::Quantity(v.abs(), Cow::Owned(u.to_owned())),
                _ => return fail(format!("{name}() applies to a number")),
            }],
        },
        "today" => vec![Item::Temporal(Temporal::from_date(
            scope.env.now().date_naive(),
        ))],
        "now" => vec![Item::Temporal(Temporal::from_date_time(scope.env.now()))],
        "trace" => focus,
        "hasValue" => bools(Some(
            focus.len() == 1 && !matches!(focus[0].plain(false), Plain::Object(_) | Plain::Nothing),
        )),
        "children" => children(&focus),
        "descendants" => {
            let mut out = Vec::new();
            let mut level = children(&focus);
            while !level.is_empty() {
                let next = children(&level);
                out.extend(level);
                level = next;
            }
            out
        }
        "extension" => {
            let Some(url) = text_arg(args, 0, input, scope)? else {
                return Ok(Vec::new());
            };
            crate::eval::member(&focus, "extension")
                .into_iter()
                .filter(|e| match e {
                    Item::Node { value, .. } => get_str(value, "url") == Some(url.as_str()),
                    _ => false,
                })
                .collect()
        }
        "memberOf" => {
            let Some(vs) = text_arg(args, 0, input, scope)? else {
                return Ok(Vec::new());
            };
            match one(&focus)? {
                None => Vec::new(),
                Some(i) => bools(Some(scope.env.member_of(&i, &vs))),
            }
        }
        other => return fail(format!("unknown function {other}()")),
    })
}

fn children<'a>(focus: &Collection<'a>) -> Collection<'a> {
    let mut out = Vec::new();
    for item in focus {
        let Item::Node { value, .. } = item else {
            continue;
        };
        let View::Object(map) = view(value) else {
            continue;
        };
        for (key, v) in map.iter() {
            if key.starts_with('_') || key == "resourceType" {
                continue;
            }
            match view(v) {
                View::Array(a) => out.extend(a.iter().map(Item::node)),
                View::Null => {}
                _ => out.push(Item::node(v)),
            }
        }
    }
    out
}
