//! The grammar of FHIRPath (N1), on winnow's Pratt parser: operands are literals, variables,
//! invocations and parenthesised expressions; `.`, `[ ]`, `is` and `as` are postfix operators
//! whose fold reads the rest of the invocation; the infix operators carry the specification's
//! precedence table as binding powers.

use winnow::combinator::{alt, cut_err, delimited, expression, fail, opt, preceded, separated};
use winnow::combinator::{Infix, Postfix, Prefix};
use winnow::error::{AddContext, ContextError, ErrMode, StrContext, StrContextValue};
use winnow::stream::{LocatingSlice, Location, Stream};
use winnow::token::{any, one_of, take_till, take_while};
use winnow::{ModalResult, Parser};

use crate::ast::{BinOp, Literal, Node};
use crate::temporal::Temporal;

pub(crate) type In<'a> = LocatingSlice<&'a str>;
type R<O> = ModalResult<O, ContextError>;

/// Parses a whole expression; the error is the byte offset where parsing stopped.
pub(crate) fn parse(source: &str) -> Result<Node, (usize, String)> {
    let input = LocatingSlice::new(source);
    delimited(ws, expr, ws).parse(input).map_err(|e| {
        let expected = e.inner().to_string();
        let what = if expected.is_empty() {
            "unexpected input".to_owned()
        } else {
            expected
        };
        (e.offset(), what)
    })
}

fn expected(what: &'static str) -> StrContext {
    StrContext::Expected(StrContextValue::Description(what))
}

/// Whitespace and comments.
fn ws(i: &mut In) -> R<()> {
    loop {
        let _: &str = take_while(0.., |c: char| c.is_whitespace()).parse_next(i)?;
        if i.starts_with("//") {
            let _: &str = take_till(0.., '\n').parse_next(i)?;
        } else if i.starts_with("/*") {
            let _ = i.next_slice(2);
            let _: &str = cut_err(take_until_close).parse_next(i)?;
        } else {
            return Ok(());
        }
    }
}

fn take_until_close<'a>(i: &mut In<'a>) -> R<&'a str> {
    let body = winnow::token::take_until(0.., "*/").parse_next(i)?;
    let _ = i.next_slice(2);
    Ok(body)
}

pub(crate) fn expr(i: &mut In) -> R<Node> {
    expression(preceded(ws, term))
        .prefix(preceded(ws, prefix_op))
        .postfix(preceded(ws, postfix_op))
        .infix(preceded(ws, infix_op))
        .parse_next(i)
}

type E = ErrMode<ContextError>;

fn prefix_op<'a>(i: &mut In<'a>) -> R<Prefix<In<'a>, Node, E>> {
    alt((
        '+'.value(Prefix(18, |_: &mut In<'a>, a| Ok(a))),
        '-'.value(Prefix(18, |_: &mut In<'a>, a| {
            Ok(Node::Negate(Box::new(a)))
        })),
    ))
    .parse_next(i)
}

fn postfix_op<'a>(i: &mut In<'a>) -> R<Postfix<In<'a>, Node, E>> {
    if i.starts_with('.') {
        '.'.parse_next(i)?;
        return Ok(Postfix(20, |i: &mut In<'a>, target| {
            cut_err(preceded(ws, invocation(Some(target))))
                .context(expected("a name or function after '.'"))
                .parse_next(i)
        }));
    }
    if i.starts_with('[') {
        '['.parse_next(i)?;
        return Ok(Postfix(20, |i: &mut In<'a>, target| {
            let index = cut_err(expr).parse_next(i)?;
            cut_err(preceded(ws, ']'))
                .context(expected("']'"))
                .parse_next(i)?;
            Ok(Node::Indexer(Box::new(target), Box::new(index)))
        }));
    }
    match keyword(i)? {
        "is" => Ok(Postfix(12, |i: &mut In<'a>, a| {
            let t = cut_err(preceded(ws, type_name)).parse_next(i)?;
            Ok(Node::Is(Box::new(a), t))
        })),
        "as" => Ok(Postfix(12, |i: &mut In<'a>, a| {
            let t = cut_err(preceded(ws, type_name)).parse_next(i)?;
            Ok(Node::As(Box::new(a), t))
        })),
        _ => fail.parse_next(i),
    }
}

macro_rules! infix {
    ($power:expr, $op:expr) => {
        Infix::Left($power, |_: &mut In<'a>, a, b| {
            Ok(Node::Binary($op, Box::new(a), Box::new(b)))
        })
    };
}

fn infix_op<'a>(i: &mut In<'a>) -> R<Infix<In<'a>, Node, E>> {
    let symbol = alt((
        "<=", ">=", "!=", "!~", "<", ">", "=", "~", "|", "*", "/", "+", "-", "&",
    ));
    if let Some(s) = opt(symbol).parse_next(i)? {
        return Ok(match s {
            "*" => infix!(16, BinOp::Mul),
            "/" => infix!(16, BinOp::Div),
            "+" => infix!(14, BinOp::Add),
            "-" => infix!(14, BinOp::Sub),
            "&" => infix!(14, BinOp::Concat),
            "|" => infix!(10, BinOp::Union),
            "<" => infix!(8, BinOp::Lt),
            "<=" => infix!(8, BinOp::Le),
            ">" => infix!(8, BinOp::Gt),
            ">=" => infix!(8, BinOp::Ge),
            "=" => infix!(6, BinOp::Eq),
            "~" => infix!(6, BinOp::Equiv),
            "!=" => infix!(6, BinOp::Ne),
            _ => infix!(6, BinOp::NotEquiv),
        });
    }
    Ok(match keyword(i)? {
        "div" => infix!(16, BinOp::IntDiv),
        "mod" => infix!(16, BinOp::Mod),
        "in" => infix!(4, BinOp::In),
        "contains" => infix!(4, BinOp::Contains),
        "and" => infix!(3, BinOp::And),
        "or" => infix!(2, BinOp::Or),
        "xor" => infix!(2, BinOp::Xor),
        "implies" => Infix::Right(1, |_: &mut In<'a>, a, b| {
            Ok(Node::Binary(BinOp::Implies, Box::new(a), Box::new(b)))
        }),
        _ => return fail.parse_next(i),
    })
}

/// A bare word (letters, digits, `_`).
fn keyword<'a>(i: &mut In<'a>) -> R<&'a str> {
    (
        one_of(|c: char| c.is_ascii_alphabetic() || c == '_'),
        take_while(0.., |c: char| c.is_ascii_alphanumeric() || c == '_'),
    )
        .take()
        .parse_next(i)
}

/// An identifier: a word or a backtick-delimited name.
fn identifier(i: &mut In) -> R<String> {
    alt((
        keyword.map(str::to_owned),
        delimited('`', cut_err(escaped('`')), cut_err('`')),
    ))
    .context(expected("an identifier"))
    .parse_next(i)
}

/// A type specifier: `Quantity`, `FHIR.Quantity`, `System.String`.
fn type_name(i: &mut In) -> R<String> {
    let first = identifier(i)?;
    match opt(preceded('.', identifier)).parse_next(i)? {
        Some(second) => Ok(format!("{first}.{second}")),
        None => Ok(first),
    }
}

/// A name or function call on `target` (None: at the start of an expression).
fn invocation<'a>(target: Option<Node>) -> impl FnMut(&mut In<'a>) -> R<Node> {
    let mut target = Some(target);
    move |i: &mut In<'a>| {
        let target = target.take().expect("invocation parser is used once");
        let at = i.current_token_start();
        if let Some(special) = opt(preceded('$', keyword)).parse_next(i)? {
            return match special {
                "this" => Ok(Node::This),
                "index" => Ok(Node::Index),
                "total" => Ok(Node::Total),
                _ => cut_err(fail)
                    .context(expected("$this, $index or $total"))
                    .parse_next(i),
            };
        }
        let name = identifier(i)?;
        let target = target.map(Box::new);
        if opt(preceded(ws, '(')).parse_next(i)?.is_some() {
            let args = cut_err(separated(0.., expr, preceded(ws, ','))).parse_next(i)?;
            cut_err(preceded(ws, ')'))
                .context(expected("')' closing the arguments"))
                .parse_next(i)?;
            return Ok(Node::Call {
                target,
                name,
                args,
                at,
            });
        }
        Ok(Node::Member { target, name })
    }
}

fn term(i: &mut In) -> R<Node> {
    alt((
        delimited('(', cut_err(expr), cut_err(preceded(ws, ')'))),
        ('{', ws, '}').value(Node::Empty),
        preceded('@', cut_err(temporal)).map(|t| Node::Literal(Literal::Temporal(t))),
        string.map(|s| Node::Literal(Literal::String(s))),
        number,
        variable,
        word_literal,
        invocation(None),
    ))
    .context(expected("an expression"))
    .parse_next(i)
}

fn word_literal(i: &mut In) -> R<Node> {
    let start = i.checkpoint();
    let word = keyword(i)?;
    let boundary = !i.starts_with('(');
    match word {
        "true" if boundary => Ok(Node::Literal(Literal::Boolean(true))),
        "false" if boundary => Ok(Node::Literal(Literal::Boolean(false))),
        _ => {
            i.reset(&start);
            fail.parse_next(i)
        }
    }
}

fn variable(i: &mut In) -> R<Node> {
    let at = i.current_token_start();
    '%'.parse_next(i)?;
    let name = cut_err(alt((identifier, delimited('\'', escaped('\''), '\'')))).parse_next(i)?;
    Ok(Node::Variable { name, at })
}

/// A quoted string: `'it''s'` is not FHIRPath; escapes are `\'`, `\\`, `\n`, `\uXXXX`….
fn string(i: &mut In) -> R<String> {
    delimited('\'', cut_err(escaped('\'')), cut_err('\''))
        .context(expected("a closing quote"))
        .parse_next(i)
}

fn escaped<'a>(quote: char) -> impl Parser<In<'a>, String, ErrMode<ContextError>> {
    move |i: &mut In<'a>| {
        let mut out = String::new();
        loop {
            let run: &str = take_till(0.., |c| c == quote || c == '\\').parse_next(i)?;
            out.push_str(run);
            if i.starts_with(quote) || i.is_empty() {
                return Ok(out);
            }
            '\\'.parse_next(i)?;
            let c = any.parse_next(i)?;
            out.push(match c {
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'f' => '\u{c}',
                'u' => {
                    let hex: &str = take_while(4, |c: char| c.is_ascii_hexdigit()).parse_next(i)?;
                    let code = u32::from_str_radix(hex, 16).expect("four hex digits");
                    char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
                }
                other => other,
            });
        }
    }
}

const CALENDAR_UNITS: [&str; 16] = [
    "years",
    "year",
    "months",
    "month",
    "weeks",
    "week",
    "days",
    "day",
    "hours",
    "hour",
    "minutes",
    "minute",
    "seconds",
    "second",
    "milliseconds",
    "millisecond",
];

fn number(i: &mut In) -> R<Node> {
    let text: &str = (
        take_while(1.., |c: char| c.is_ascii_digit()),
        opt(('.', take_while(1.., |c: char| c.is_ascii_digit()))),
    )
        .take()
        .parse_next(i)?;
    let before_unit = i.checkpoint();
    let _ = ws(i);
    let unit = if i.starts_with('\'') {
        Some(string(i)?)
    } else {
        let start = i.checkpoint();
        match opt(keyword).parse_next(i)? {
            Some(w) if CALENDAR_UNITS.contains(&w) => Some(w.to_owned()),
            _ => {
                i.reset(&start);
                None
            }
        }
    };
    let decimal = text.contains('.');
    let bad = || ErrMode::Cut(ContextError::new());
    match unit {
        Some(unit) => Ok(Node::Literal(Literal::Quantity(
            text.parse().map_err(|_| bad())?,
            unit,
        ))),
        None => {
            i.reset(&before_unit);
            if decimal {
                Ok(Node::Literal(Literal::Decimal(
                    text.parse().map_err(|_| bad())?,
                )))
            } else {
                text.parse()
                    .map(|n| Node::Literal(Literal::Integer(n)))
                    .map_err(|_| bad())
            }
        }
    }
}

/// After `@`: a date, a date-time or (`T…`) a time. A `.` belongs to the literal only before
/// a digit (milliseconds), so `@2015-02-04.is(Date)` reads as a call on the date.
fn temporal(i: &mut In) -> R<Temporal> {
    let text = i.as_ref();
    let bytes = text.as_bytes();
    let mut end = 0;
    while end < bytes.len() {
        let b = bytes[end];
        let ok = b.is_ascii_digit()
            || matches!(b, b'-' | b':' | b'+' | b'T' | b'Z')
            || (b == b'.' && bytes.get(end + 1).is_some_and(u8::is_ascii_digit));
        if !ok {
            break;
        }
        end += 1;
    }
    let literal = i.next_slice(end);
    Temporal::parse_literal(literal).ok_or_else(|| {
        ErrMode::Cut(ContextError::new().add_context(
            i,
            &i.checkpoint(),
            expected("a date, date-time or time after '@'"),
        ))
    })
}
