//! The functions whose argument is evaluated for each item of the focus (`where`, `select`,
//! `all`, `exists`, `repeat`), and deduplication.

use crate::ast::Node;
use crate::eval::{eval, test, Collection, Scope};
use crate::item::{equal, Item};
use crate::EvalError;

/// An optional Boolean as a collection (empty for `None`).
pub(crate) fn bools<'a>(v: Option<bool>) -> Collection<'a> {
    v.map(Item::Boolean).into_iter().collect()
}

pub(crate) fn iterate<'a>(
    name: &str,
    focus: Collection<'a>,
    args: &'a [Node],
    scope: &Scope<'_, 'a>,
) -> Result<Collection<'a>, EvalError> {
    let holds = |item: &Item<'a>, k: usize| -> Result<Option<bool>, EvalError> {
        let inner = scope.with_item(item.clone(), k);
        test(&args[0], &vec![item.clone()], &inner)
    };
    Ok(match name {
        "where" => {
            let mut out = Vec::new();
            for (k, item) in focus.into_iter().enumerate() {
                if holds(&item, k)? == Some(true) {
                    out.push(item);
                }
            }
            out
        }
        "exists" if args.is_empty() => bools(Some(!focus.is_empty())),
        "exists" | "all" => {
            let want_all = name == "all";
            for (k, item) in focus.iter().enumerate() {
                let hit = holds(item, k)? == Some(true);
                if hit != want_all {
                    return Ok(bools(Some(!want_all)));
                }
            }
            bools(Some(want_all))
        }
        "select" => {
            let mut out = Vec::new();
            for (k, item) in focus.into_iter().enumerate() {
                let inner = scope.with_item(item.clone(), k);
                out.extend(eval(&args[0], &vec![item], &inner)?);
            }
            out
        }
        _ => {
            // repeat: the projection applied again to what it found, until nothing new.
            let mut out: Collection = Vec::new();
            let mut level = focus;
            while !level.is_empty() && out.len() < 100_000 {
                let mut next = Vec::new();
                for (k, item) in level.into_iter().enumerate() {
                    let inner = scope.with_item(item.clone(), k);
                    for found in eval(&args[0], &vec![item], &inner)? {
                        if !out
                            .iter()
                            .any(|o| equal(o, &found, scope.offset) == Some(true))
                        {
                            out.push(found.clone());
                            next.push(found);
                        }
                    }
                }
                level = next;
            }
            out
        }
    })
}

pub(crate) fn distinct<'a>(items: Collection<'a>, offset: i32) -> Collection<'a> {
    let mut out: Collection = Vec::new();
    for item in items {
        if !out.iter().any(|o| equal(o, &item, offset) == Some(true)) {
            out.push(item);
        }
    }
    out
}
