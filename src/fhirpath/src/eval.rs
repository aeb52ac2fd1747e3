//! Evaluation of a compiled expression over a resource.

use std::borrow::Cow;

use crate::json::{get_str, Value};
use sonic_rs::{JsonContainerTrait, JsonValueTrait, Object};

use crate::ast::{BinOp, Literal, Node};
use crate::item::{compare, equal, equivalent, Item, Plain};
use crate::iterate::bools;
use crate::{choice, functions, types, Env, EvalError};

/// A collection.
pub type Collection<'a> = Vec<Item<'a>>;

/// What an expression is evaluated in: the environment, the resource, and the iteration
/// variables of the enclosing function (`$this`, `$index`, `$total`).
pub(crate) struct Scope<'s, 'a> {
    pub env: &'s dyn Env<'a>,
    pub resource: &'a Value,
    pub this: Option<Item<'a>>,
    pub index: Option<usize>,
    pub total: Option<Collection<'a>>,
    pub offset: i32,
}

impl<'s, 'a> Scope<'s, 'a> {
    /// The scope for one item of an iterating function.
    pub fn with_item(&self, item: Item<'a>, index: usize) -> Scope<'s, 'a> {
        Scope {
            env: self.env,
            resource: self.resource,
            this: Some(item),
            index: Some(index),
            total: self.total.clone(),
            offset: self.offset,
        }
    }
}

pub(crate) fn fail<T>(message: impl Into<String>) -> Result<T, EvalError> {
    Err(EvalError(message.into()))
}

/// Evaluates `node` with `input` as the focus.
pub(crate) fn eval<'a>(
    node: &'a Node,
    input: &Collection<'a>,
    scope: &Scope<'_, 'a>,
) -> Result<Collection<'a>, EvalError> {
    Ok(match node {
        Node::Empty => Vec::new(),
        Node::Literals(ls) => ls.iter().map(literal).collect(),
        Node::Literal(l) => vec![literal(l)],
        Node::This => scope.this.clone().into_iter().collect(),
        Node::Index => scope
            .index
            .map(|i| Item::Integer(i as i64))
            .into_iter()
            .collect(),
        Node::Total => scope.total.clone().unwrap_or_default(),
        Node::Variable { name, .. } => variable(name, scope)?,
        Node::Member { target, name } => match target {
            Some(t) => member(&eval(t, input, scope)?, name),
            None => member(input, name),
        },
        Node::Call {
            target, name, args, ..
        } => {
            let focus = match target {
                Some(t) => eval(t, input, scope)?,
                None => input.clone(),
            };
            if name == "iif" && target.is_some() {
                // Called on a collection, iif's arguments see that collection as `$this`.
                let inner = match focus.as_slice() {
                    [] => return functions::call(name, focus, args, input, scope),
                    [item] => scope.with_item(item.clone(), 0),
                    _ => return fail("iif() is called on a single item"),
                };
                return functions::call(name, focus.clone(), args, &focus, &inner);
            }
            functions::call(name, focus, args, input, scope)?
        }
        Node::Indexer(target, index) => {
            let focus = eval(target, input, scope)?;
            let at = integer(&eval(index, input, scope)?)?;
            match at {
                Some(i) if i >= 0 => focus.into_iter().nth(i as usize).into_iter().collect(),
                _ => Vec::new(),
            }
        }
        Node::Negate(x) => {
            let v = eval(x, input, scope)?;
            match singleton(&v)? {
                None => Vec::new(),
                Some(item) => vec![match item.plain(false) {
                    Plain::Integer(n) => Item::Integer(-n),
                    Plain::Decimal(d) => Item::Decimal(-d),
                    Plain::Quantity(v, u) => Item::Quantity(-v, Cow::Owned(u.to_owned())),
                    _ => return fail("'-' applied to a value that is not a number"),
                }],
            }
        }
        Node::Binary(op, a, b) => binary(*op, a, b, input, scope)?,
        Node::Is(x, t) => {
            let v = eval(x, input, scope)?;
            match singleton(&v)? {
                None => Vec::new(),
                Some(item) => vec![Item::Boolean(types::is(item, t))],
            }
        }
        Node::As(x, t) => {
            let v = eval(x, input, scope)?;
            v.into_iter().filter(|i| types::is(i, t)).collect()
        }
    })
}

fn literal<'a>(l: &'a Literal) -> Item<'a> {
    match l {
        Literal::Boolean(b) => Item::Boolean(*b),
        Literal::String(s) => Item::String(Cow::Borrowed(s)),
        Literal::Integer(n) => Item::Integer(*n),
        Literal::Decimal(d) => Item::Decimal(*d),
        Literal::Temporal(t) => Item::Temporal(*t),
        Literal::Quantity(v, u) => Item::Quantity(*v, Cow::Borrowed(u)),
    }
}

fn variable<'a>(name: &str, scope: &Scope<'_, 'a>) -> Result<Collection<'a>, EvalError> {
    Ok(match name {
        "resource" | "context" | "rootResource" => vec![Item::node(scope.resource)],
        "ucum" => vec![Item::String(Cow::Borrowed("http://unitsofmeasure.org"))],
        "sct" => vec![Item::String(Cow::Borrowed("http://snomed.info/sct"))],
        "loinc" => vec![Item::String(Cow::Borrowed("http://loinc.org"))],
        _ => match scope.env.variable(name) {
            Some(c) => c,
            None => return fail(format!("unknown variable %{name}")),
        },
    })
}

/// The children named `name` of every object in `focus`, arrays flattened, nulls dropped.
/// A choice element is found by its stem (`value` finds `valueQuantity`). At the start of an
/// expression or after a `resource` element, a type name (`Observation`) selects the
/// resources of that type.
pub(crate) fn member<'a>(focus: &Collection<'a>, name: &str) -> Collection<'a> {
    let mut out = Vec::new();
    let is_type = name.starts_with(|c: char| c.is_ascii_uppercase());
    for item in focus {
        let &Item::Node { value, .. } = item else {
            continue;
        };
        let Some(map) = value.as_object() else {
            continue;
        };
        if is_type {
            if get_str(value, "resourceType") == Some(name) {
                out.push(item.clone());
            }
            continue;
        }
        if let Some((v, choice)) = lookup(map, name) {
            push(&mut out, v, choice);
        }
    }
    out
}

/// The member `name` of `map` (the first, if the name repeats), or else its first choice
/// element (`name` followed by the name of a FHIR type, [`choice::is_type`]) with the type
/// suffix: one pass over the members, which a choice element would otherwise take two (the
/// exact name, then the stem). Another member that merely starts with the name
/// (`dosageInstruction` for `dosage`) is not the element.
fn lookup<'a>(map: &'a Object, name: &str) -> Option<(&'a Value, Option<&'a str>)> {
    let stem = name.as_bytes();
    let mut choice = None;
    for (key, v) in map.iter() {
        let k = key.as_bytes();
        // The first byte rejects most members without a comparison call.
        if stem.first().is_some_and(|s| k.first() != Some(s)) || !k.starts_with(stem) {
            continue;
        }
        match k.get(stem.len()) {
            None => return Some((v, None)),
            Some(c)
                if c.is_ascii_uppercase()
                    && choice.is_none()
                    && key.get(stem.len()..).is_some_and(choice::is_type) =>
            {
                choice = Some((v, key.get(stem.len()..)));
            }
            Some(_) => {}
        }
    }
    choice
}

fn push<'a>(out: &mut Collection<'a>, v: &'a Value, choice: Option<&'a str>) {
    if let Some(items) = v.as_array() {
        out.extend(
            items
                .iter()
                .filter(|v| !v.is_null())
                .map(|value| Item::Node { value, choice }),
        );
    } else if !v.is_null() {
        out.push(Item::Node { value: v, choice });
    }
}

/// The one item of a collection, `None` when empty; more than one is an error.
pub(crate) fn singleton<'c, 'a>(c: &'c Collection<'a>) -> Result<Option<&'c Item<'a>>, EvalError> {
    match c.len() {
        0 => Ok(None),
        1 => Ok(c.first()),
        n => fail(format!("a single value was expected, found {n}")),
    }
}

/// A collection read as a boolean: empty is unknown; one Boolean is itself; one other item is
/// true (the specification's singleton evaluation).
pub(crate) fn boolean(c: &Collection) -> Result<Option<bool>, EvalError> {
    Ok(singleton(c)?.map(|i| match i.plain(false) {
        Plain::Boolean(b) => b,
        _ => true,
    }))
}

pub(crate) fn integer(c: &Collection) -> Result<Option<i64>, EvalError> {
    match singleton(c)? {
        None => Ok(None),
        Some(i) => match i.plain(false) {
            Plain::Integer(n) => Ok(Some(n)),
            _ => fail("an integer was expected"),
        },
    }
}

/// `node` read as a condition: what [`boolean`] makes of its result, without collecting the
/// Booleans of logical operators and in-place comparisons (a source's filter is one per
/// resource).
pub(crate) fn test<'a>(
    node: &'a Node,
    input: &Collection<'a>,
    scope: &Scope<'_, 'a>,
) -> Result<Option<bool>, EvalError> {
    if let Node::Binary(op, a, b) = node {
        if let Some(result) = decide(*op, a, b, input, scope)? {
            return Ok(result);
        }
    }
    boolean(&eval(node, input, scope)?)
}

/// A Boolean operation decided without collecting Booleans: a logical operator, or a
/// comparison with a literal or list of literals on the right (`status = 'active'`, `status
/// in ('final' | 'amended')`, most of a pack's filters), made in place. `None` when `op` and
/// `b` are neither.
fn decide<'a>(
    op: BinOp,
    a: &'a Node,
    b: &'a Node,
    input: &Collection<'a>,
    scope: &Scope<'_, 'a>,
) -> Result<Option<Option<bool>>, EvalError> {
    let offset = scope.offset;
    Ok(Some(match (op, b) {
        (BinOp::And | BinOp::Or | BinOp::Xor | BinOp::Implies, _) => {
            logic(op, test(a, input, scope)?, || test(b, input, scope))?
        }
        (BinOp::In, Node::Literals(ls)) => singleton(&eval(a, input, scope)?)?.map(|n| {
            ls.iter()
                .any(|l| equal(n, &literal(l), offset) == Some(true))
        }),
        (BinOp::Eq | BinOp::Ne, Node::Literal(l)) => match eval(a, input, scope)?.as_slice() {
            [] => None,
            [p] => equal(p, &literal(l), offset),
            _ => Some(false),
        }
        .map(|same| same == (op == BinOp::Eq)),
        _ => return Ok(None),
    }))
}

/// A logical operator on its left side `x` and its right side, which is evaluated only
/// when `x` does not decide.
fn logic(
    op: BinOp,
    x: Option<bool>,
    y: impl FnOnce() -> Result<Option<bool>, EvalError>,
) -> Result<Option<bool>, EvalError> {
    let short = match (op, x) {
        (BinOp::And, Some(false)) => Some(false),
        (BinOp::Or, Some(true)) => Some(true),
        (BinOp::Implies, Some(false)) => Some(true),
        _ => None,
    };
    if short.is_some() {
        return Ok(short);
    }
    let y = y()?;
    Ok(match op {
        BinOp::And => match (x, y) {
            (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        BinOp::Or => match (x, y) {
            (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        BinOp::Xor => x.zip(y).map(|(x, y)| x != y),
        _ => match (x, y) {
            (Some(true), y) => y,
            (None, Some(true)) => Some(true),
            _ => None,
        },
    })
}

fn binary<'a>(
    op: BinOp,
    a: &'a Node,
    b: &'a Node,
    input: &Collection<'a>,
    scope: &Scope<'_, 'a>,
) -> Result<Collection<'a>, EvalError> {
    if let Some(result) = decide(op, a, b, input, scope)? {
        return Ok(bools(result));
    }
    let offset = scope.offset;
    let x = eval(a, input, scope)?;
    let y = eval(b, input, scope)?;
    Ok(match op {
        BinOp::Union => {
            let mut out: Collection = Vec::new();
            for item in x.into_iter().chain(y) {
                if !out.iter().any(|o| equal(o, &item, offset) == Some(true)) {
                    out.push(item);
                }
            }
            out
        }
        BinOp::Eq | BinOp::Ne => {
            if x.is_empty() || y.is_empty() {
                return Ok(Vec::new());
            }
            let same = if x.len() != y.len() {
                Some(false)
            } else {
                x.iter()
                    .zip(&y)
                    .try_fold(true, |acc, (p, q)| equal(p, q, offset).map(|e| acc && e))
            };
            bools(same.map(|s| if op == BinOp::Eq { s } else { !s }))
        }
        BinOp::Equiv | BinOp::NotEquiv => {
            let same =
                x.len() == y.len() && x.iter().all(|p| y.iter().any(|q| equivalent(p, q, offset)));
            bools(Some(if op == BinOp::Equiv { same } else { !same }))
        }
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let (Some(p), Some(q)) = (singleton(&x)?, singleton(&y)?) else {
                return Ok(Vec::new());
            };
            bools(compare(p, q, offset).map_err(EvalError)?.map(|o| match op {
                BinOp::Lt => o.is_lt(),
                BinOp::Le => o.is_le(),
                BinOp::Gt => o.is_gt(),
                _ => o.is_ge(),
            }))
        }
        BinOp::In | BinOp::Contains => {
            let (needle, hay) = if op == BinOp::In { (&x, &y) } else { (&y, &x) };
            match singleton(needle)? {
                None => Vec::new(),
                Some(n) => bools(Some(hay.iter().any(|h| equal(n, h, offset) == Some(true)))),
            }
        }
        _ => crate::arith::arithmetic(op, &x, &y)?,
    })
}
