//! A union (`a | b | c`) read item by item until a caller finds what it looks for: a source's
//! date is a union of the places a date may be (`effective.ofType(dateTime) | … | issued`), only
//! its first date is used, and the first branch usually has it.

use crate::ast::{BinOp, Node};
use crate::eval::{eval, Collection, Scope};
use crate::item::{equal, Item};
use crate::EvalError;

/// The branches of a union, flattened in order (`(a | b) | c` is `a`, `b`, `c`), each with
/// whether every branch after it is certain not to fail. `None` when the root is no union.
#[derive(Debug, Clone)]
pub(crate) struct Branches(Vec<(Node, bool)>);

impl Branches {
    pub fn of(root: &Node) -> Option<Branches> {
        if !matches!(root, Node::Binary(BinOp::Union, ..)) {
            return None;
        }
        let mut nodes = Vec::new();
        flatten(root, &mut nodes);
        let mut safe_after = true;
        let mut out: Vec<(Node, bool)> = Vec::with_capacity(nodes.len());
        for node in nodes.into_iter().rev() {
            let safe = infallible(node);
            out.push((node.clone(), safe_after));
            safe_after &= safe;
        }
        out.reverse();
        Some(Branches(out))
    }

    /// What `f` first makes of the union's items, as `f` would find it in the evaluated union
    /// (duplicates dropped, as `|` drops them); the branches after the one where it is found
    /// are evaluated only when one of them could fail, so that an error is raised as the whole
    /// union would raise it.
    pub fn find_map<'a, T>(
        &'a self,
        input: &Collection<'a>,
        scope: &Scope<'_, 'a>,
        mut f: impl FnMut(&Item<'a>) -> Option<T>,
    ) -> Result<Option<T>, EvalError> {
        let mut kept: Collection<'a> = Vec::new();
        let mut found = None;
        for (node, safe_after) in &self.0 {
            let items = eval(node, input, scope)?;
            if found.is_some() {
                continue;
            }
            for item in items {
                if kept
                    .iter()
                    .any(|k| equal(k, &item, scope.offset) == Some(true))
                {
                    continue;
                }
                found = f(&item);
                if found.is_some() {
                    break;
                }
                kept.push(item);
            }
            if found.is_some() && *safe_after {
                break;
            }
        }
        Ok(found)
    }
}

fn flatten<'n>(node: &'n Node, out: &mut Vec<&'n Node>) {
    match node {
        Node::Binary(BinOp::Union, a, b) => {
            flatten(a, out);
            flatten(b, out);
        }
        other => out.push(other),
    }
}

/// Whether evaluating `node` can never fail: navigation, `ofType()` and `first()` on it,
/// literals, `$this`, and unions of these (nothing that compares, converts, calls out or reads
/// a variable).
fn infallible(node: &Node) -> bool {
    match node {
        Node::Empty | Node::Literal(_) | Node::Literals(_) | Node::This => true,
        Node::Member { target, .. } => target.as_deref().is_none_or(infallible),
        Node::Call { target, name, .. } if matches!(name.as_str(), "ofType" | "first") => {
            target.as_deref().is_none_or(infallible)
        }
        Node::Binary(BinOp::Union, a, b) => infallible(a) && infallible(b),
        _ => false,
    }
}
