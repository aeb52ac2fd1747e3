//! Conversions (`toInteger()`…) and arithmetic (`+ - * / div mod &`).

use std::borrow::Cow;

use crate::ast::BinOp;
use crate::eval::{fail, singleton, Collection};
use crate::item::{Item, Plain};
use crate::EvalError;

pub(crate) fn convert<'a>(name: &str, item: &Item<'a>) -> Option<Item<'a>> {
    let plain = item.plain(false);
    match name {
        "toInteger" => match plain {
            Plain::Integer(n) => Some(Item::Integer(n)),
            Plain::Boolean(b) => Some(Item::Integer(b as i64)),
            Plain::String(s) => s.parse().ok().map(Item::Integer),
            _ => None,
        },
        "toDecimal" => match plain {
            Plain::Integer(n) => Some(Item::Decimal(n as f64)),
            Plain::Decimal(d) => Some(Item::Decimal(d)),
            Plain::Boolean(b) => Some(Item::Decimal(b as i64 as f64)),
            Plain::String(s) => s.parse().ok().map(Item::Decimal),
            _ => None,
        },
        "toBoolean" => match plain {
            Plain::Boolean(b) => Some(Item::Boolean(b)),
            Plain::Integer(0) => Some(Item::Boolean(false)),
            Plain::Integer(1) => Some(Item::Boolean(true)),
            Plain::String(s) => match s.to_lowercase().as_str() {
                "true" | "t" | "yes" | "y" | "1" | "1.0" => Some(Item::Boolean(true)),
                "false" | "f" | "no" | "n" | "0" | "0.0" => Some(Item::Boolean(false)),
                _ => None,
            },
            _ => None,
        },
        "toDate" => match item.plain(true) {
            Plain::Temporal(t) => t.to_date().map(Item::Temporal),
            _ => None,
        },
        _ => match item.plain(true) {
            Plain::Temporal(t) if t.kind != crate::temporal::Kind::Time => Some(Item::Temporal(t)),
            _ => None,
        },
    }
}

/// `+ - * / div mod &` on two collections.
pub(crate) fn arithmetic<'a>(
    op: BinOp,
    x: &Collection<'a>,
    y: &Collection<'a>,
) -> Result<Collection<'a>, EvalError> {
    if op == BinOp::Concat {
        let text = |c: &Collection| -> Result<String, EvalError> {
            Ok(singleton(c)?
                .and_then(|i| i.text().map(str::to_owned))
                .unwrap_or_default())
        };
        return Ok(vec![Item::String(Cow::Owned(text(x)? + &text(y)?))]);
    }
    let (Some(a), Some(b)) = (singleton(x)?, singleton(y)?) else {
        return Ok(Vec::new());
    };
    let temporal = matches!(b, Item::Quantity(..)) && matches!(op, BinOp::Add | BinOp::Sub);
    let result = match (a.plain(temporal), b.plain(false)) {
        (Plain::Integer(p), Plain::Integer(q)) => match op {
            BinOp::Add => p.checked_add(q).map(Item::Integer),
            BinOp::Sub => p.checked_sub(q).map(Item::Integer),
            BinOp::Mul => p.checked_mul(q).map(Item::Integer),
            BinOp::Div => (q != 0).then(|| Item::Decimal(p as f64 / q as f64)),
            BinOp::IntDiv => (q != 0).then(|| Item::Integer(p.div_euclid(q))),
            _ => (q != 0).then(|| Item::Integer(p % q)),
        },
        (Plain::String(p), Plain::String(q)) if op == BinOp::Add => {
            Some(Item::String(Cow::Owned(format!("{p}{q}"))))
        }
        (Plain::Temporal(t), Plain::Quantity(v, u)) => {
            let v = if op == BinOp::Sub { -v } else { v };
            match t.add(v, u) {
                Some(moved) => Some(Item::Temporal(moved)),
                None => return fail(format!("a date cannot be moved by a quantity in '{u}'")),
            }
        }
        (Plain::Quantity(p, u), Plain::Quantity(q, w))
            if u == w && matches!(op, BinOp::Add | BinOp::Sub) =>
        {
            Some(Item::Quantity(
                if op == BinOp::Add { p + q } else { p - q },
                Cow::Owned(u.to_owned()),
            ))
        }
        (pa, pb) => {
            let num = |p: &Plain| match p {
                Plain::Integer(n) => Some(*n as f64),
                Plain::Decimal(d) => Some(*d),
                _ => None,
            };
            let (Some(p), Some(q)) = (num(&pa), num(&pb)) else {
                return fail("arithmetic on values that are not numbers");
            };
            match op {
                BinOp::Add => Some(Item::Decimal(p + q)),
                BinOp::Sub => Some(Item::Decimal(p - q)),
                BinOp::Mul => Some(Item::Decimal(p * q)),
                BinOp::Div => (q != 0.0).then(|| Item::Decimal(p / q)),
                BinOp::IntDiv => (q != 0.0).then(|| Item::Integer((p / q).trunc() as i64)),
                _ => (q != 0.0).then(|| Item::Decimal(p % q)),
            }
        }
    };
    Ok(result.into_iter().collect())
}
