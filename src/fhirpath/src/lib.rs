//! The subset of FHIRPath (N1, <http://hl7.org/fhirpath/N1/>) that cart-sentinel's rules use,
//! compiled once when a rule pack loads and evaluated over FHIR R4 resources as sonic-rs
//! values ([`json`]).
//!
//! Why our own: the Rust FHIRPath crates that build on our toolchain evaluate asynchronously
//! with a model provider (octofhir-fhirpath) or bring their own FHIR model and OpenSSL
//! (helios-fhirpath); the rule engine is synchronous and pure, and runs an expression on
//! hundreds of resources per call. The grammar is written on winnow, not by hand.
//!
//! What is supported is listed in `README.md` beside this file, with the results of HL7's
//! official test suite (`tests/suite`). FHIR JSON has no type annotations: a node's type is
//! what its element name says (`valueQuantity` is a Quantity) or its JSON kind admits, and a
//! string is read as a date where an operation needs a date.
//!
//! ```
//! let expr = fhirpath::compile("status in ('final' | 'amended') and value.ofType(Quantity).value > 5").unwrap();
//! let obs = sonic_rs::json!({"resourceType": "Observation", "status": "final",
//!     "valueQuantity": {"value": 7.5, "unit": "mg"}});
//! assert_eq!(expr.test(&obs, &fhirpath::NoEnv).unwrap(), Some(true));
//! ```

mod arith;
mod ast;
mod choice;
mod eval;
mod functions;
mod item;
mod iterate;
pub mod json;
mod parse;
mod temporal;
mod types;
mod union;

use chrono::{DateTime, FixedOffset};
pub use json::Value;

pub use eval::Collection;
pub use item::{Item, Plain};
pub use temporal::{Kind, Temporal};

use ast::Node;

/// What an expression reads from outside the resource: variables, value sets and the clock.
pub trait Env<'a> {
    /// The collection of `%name`, or `None` when there is no such variable.
    fn variable(&self, name: &str) -> Option<Collection<'a>> {
        let _ = name;
        None
    }
    /// Whether a code, Coding or CodeableConcept is in the value set `id` (`memberOf`).
    fn member_of(&self, item: &Item<'a>, id: &str) -> bool {
        let _ = (item, id);
        false
    }
    /// Now, for `now()` and `today()` (the offset is the local one).
    fn now(&self) -> DateTime<FixedOffset> {
        DateTime::UNIX_EPOCH.fixed_offset()
    }
}

/// An environment with no variables and no value sets, whose clock is the Unix epoch.
pub struct NoEnv;

impl Env<'_> for NoEnv {}

/// An expression was refused when compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct CompileError {
    /// 1-based column (in characters) in the expression.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// An expression failed on one input (a type mismatch, several values where one was
/// expected). The message never contains resource content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

/// A compiled expression.
#[derive(Debug, Clone)]
pub struct Expr {
    source: String,
    root: Node,
    /// The branches of the root when it is a union, for [`Expr::find_map`].
    branches: Option<union::Branches>,
    value_sets: Vec<(String, usize)>,
    variables: Vec<(String, usize)>,
}

/// Parses and checks `source`: syntax, known functions and their argument counts, type names,
/// and `memberOf` with a literal value set id.
pub fn compile(source: &str) -> Result<Expr, CompileError> {
    let column = |offset: usize| source[..offset.min(source.len())].chars().count() + 1;
    let root = parse::parse(source).map_err(|(offset, message)| CompileError {
        column: column(offset),
        message: format!("syntax error: {message}"),
    })?;
    let root = fold(root);
    let mut expr = Expr {
        source: source.to_owned(),
        branches: union::Branches::of(&root),
        root,
        value_sets: Vec::new(),
        variables: Vec::new(),
    };
    let mut problems = Vec::new();
    let root = expr.root.clone();
    check(&root, &mut expr, &mut problems);
    match problems.into_iter().next() {
        Some((offset, message)) => Err(CompileError {
            column: column(offset),
            message,
        }),
        None => Ok(expr),
    }
}

/// Folds unions of string literals (`'final' | 'amended' | 'corrected'`) into one node, so that
/// a status list is not rebuilt and deduplicated on every evaluation. Only strings: their
/// equality is the literals' (`1 | 1.0` is one value at run time, two literals).
fn fold(node: Node) -> Node {
    let boxed = |n: Box<Node>| Box::new(fold(*n));
    match node {
        Node::Binary(ast::BinOp::Union, a, b) => {
            let (a, b) = (fold(*a), fold(*b));
            let literals = |n: &Node| match n {
                Node::Literal(l @ ast::Literal::String(_)) => Some(vec![l.clone()]),
                Node::Literals(ls) => Some(ls.clone()),
                _ => None,
            };
            match (literals(&a), literals(&b)) {
                (Some(mut all), Some(more)) => {
                    for l in more {
                        if !all.contains(&l) {
                            all.push(l);
                        }
                    }
                    Node::Literals(all)
                }
                _ => Node::Binary(ast::BinOp::Union, Box::new(a), Box::new(b)),
            }
        }
        Node::Binary(op, a, b) => Node::Binary(op, boxed(a), boxed(b)),
        Node::Member { target, name } => Node::Member {
            target: target.map(boxed),
            name,
        },
        Node::Call {
            target,
            name,
            args,
            at,
        } => Node::Call {
            target: target.map(boxed),
            name,
            args: args.into_iter().map(fold).collect(),
            at,
        },
        Node::Indexer(a, b) => Node::Indexer(boxed(a), boxed(b)),
        Node::Negate(a) => Node::Negate(boxed(a)),
        Node::Is(a, t) => Node::Is(boxed(a), t),
        Node::As(a, t) => Node::As(boxed(a), t),
        other => other,
    }
}

fn check(node: &Node, expr: &mut Expr, problems: &mut Vec<(usize, String)>) {
    match node {
        Node::Variable { name, at } => expr.variables.push((name.clone(), *at)),
        Node::Member { target, .. } => {
            if let Some(t) = target {
                check(t, expr, problems);
            }
        }
        Node::Call {
            target,
            name,
            args,
            at,
        } => {
            if let Some(t) = target {
                check(t, expr, problems);
            }
            match functions::FUNCTIONS.iter().find(|(n, ..)| n == name) {
                None => problems.push((*at, format!("unknown or unsupported function {name}()"))),
                Some((_, min, max)) if args.len() < *min || args.len() > *max => problems.push((
                    *at,
                    format!(
                        "{name}() takes {min} to {max} arguments, not {}",
                        args.len()
                    ),
                )),
                Some(_) => {}
            }
            if matches!(name.as_str(), "ofType" | "is" | "as") {
                let known = match args.first() {
                    Some(Node::Member { target: None, name }) => types::known(name),
                    Some(Node::Member {
                        target: Some(t),
                        name,
                    }) => matches!(&**t,
                        Node::Member { target: None, name: ns } if types::known(&format!("{ns}.{name}"))),
                    _ => false,
                };
                if !known {
                    problems.push((*at, format!("{name}() needs a type name")));
                }
                return;
            }
            if name == "memberOf" {
                match args.first() {
                    Some(Node::Literal(ast::Literal::String(id))) => {
                        expr.value_sets.push((id.clone(), *at))
                    }
                    _ => {
                        problems.push((*at, "memberOf() needs a value set id in quotes".to_owned()))
                    }
                }
            }
            for a in args {
                check(a, expr, problems);
            }
        }
        Node::Indexer(a, b) | Node::Binary(_, a, b) => {
            check(a, expr, problems);
            check(b, expr, problems);
        }
        Node::Negate(a) => check(a, expr, problems),
        Node::Is(a, t) | Node::As(a, t) => {
            if !types::known(t) {
                problems.push((0, format!("unknown type {t}")));
            }
            check(a, expr, problems);
        }
        Node::Empty
        | Node::Literal(_)
        | Node::Literals(_)
        | Node::This
        | Node::Index
        | Node::Total => {}
    }
}

impl Expr {
    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The value set ids named by `memberOf`, with their 1-based columns.
    pub fn value_sets(&self) -> impl Iterator<Item = (&str, usize)> {
        self.value_sets
            .iter()
            .map(|(id, at)| (id.as_str(), self.source[..*at].chars().count() + 1))
    }

    /// The `%variables` read, with their 1-based columns.
    pub fn variables(&self) -> impl Iterator<Item = (&str, usize)> {
        self.variables
            .iter()
            .map(|(n, at)| (n.as_str(), self.source[..*at].chars().count() + 1))
    }

    /// Evaluates the expression with `resource` as its focus and `%resource`. Results may
    /// borrow the expression's literals, so the expression outlives them.
    pub fn evaluate<'a>(
        &'a self,
        resource: &'a Value,
        env: &dyn Env<'a>,
    ) -> Result<Collection<'a>, EvalError> {
        self.evaluate_on(vec![Item::node(resource)], resource, env)
    }

    /// Evaluates the expression with `input` as its focus, in `resource`.
    pub fn evaluate_on<'a>(
        &'a self,
        input: Collection<'a>,
        resource: &'a Value,
        env: &dyn Env<'a>,
    ) -> Result<Collection<'a>, EvalError> {
        eval::eval(&self.root, &input, &scope(&input, resource, env))
    }

    /// What `f` first makes of the items the expression finds on `resource`: the same as
    /// `self.evaluate(resource, env)?.iter().find_map(f)`, except that when the expression is a
    /// union whose later branches cannot fail, those after the branch where `f` finds its
    /// answer are not evaluated (a source's date, `effective.ofType(dateTime) | … | issued`).
    pub fn find_map<'a, T>(
        &'a self,
        resource: &'a Value,
        env: &dyn Env<'a>,
        f: impl FnMut(&Item<'a>) -> Option<T>,
    ) -> Result<Option<T>, EvalError> {
        let input = vec![Item::node(resource)];
        let scope = scope(&input, resource, env);
        match &self.branches {
            Some(branches) => branches.find_map(&input, &scope, f),
            None => Ok(eval::eval(&self.root, &input, &scope)?.iter().find_map(f)),
        }
    }

    /// Evaluates the expression as a condition on `resource`: `Some(true)`, `Some(false)`, or
    /// `None` when the result is empty.
    pub fn test<'a>(
        &'a self,
        resource: &'a Value,
        env: &dyn Env<'a>,
    ) -> Result<Option<bool>, EvalError> {
        let input = vec![Item::node(resource)];
        eval::test(&self.root, &input, &scope(&input, resource, env))
    }
}

/// The scope of an evaluation with `input` as its focus, in `resource`.
fn scope<'s, 'a>(
    input: &Collection<'a>,
    resource: &'a Value,
    env: &'s dyn Env<'a>,
) -> eval::Scope<'s, 'a> {
    eval::Scope {
        env,
        resource,
        this: input.first().cloned(),
        index: None,
        total: None,
        offset: env.now().offset().local_minus_utc() / 60,
    }
}

#[cfg(test)]
mod tests;
