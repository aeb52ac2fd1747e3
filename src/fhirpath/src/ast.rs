//! The syntax tree of a compiled expression.

use crate::temporal::Temporal;

/// A literal of the language.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `true`, `false`.
    Boolean(bool),
    /// `'text'`.
    String(String),
    /// `42`.
    Integer(i64),
    /// `4.5`.
    Decimal(f64),
    /// `@2024-01-31`, `@2024-01-31T10:00:00Z`, `@T10:00`.
    Temporal(Temporal),
    /// `90 days`, `4.5 'mg'`.
    Quantity(f64, String),
}

/// Binary operators, by the specification's precedence groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Mul,
    Div,
    IntDiv,
    Mod,
    Add,
    Sub,
    Concat,
    Union,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Equiv,
    Ne,
    NotEquiv,
    In,
    Contains,
    And,
    Or,
    Xor,
    Implies,
}

/// One node of an expression; `at` is the byte offset of the node in the source.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `{}`.
    Empty,
    Literal(Literal),
    /// A union of literals (`'final' | 'amended'`), folded when compiled: distinct values in
    /// order.
    Literals(Vec<Literal>),
    /// `$this`, `$index`, `$total`.
    This,
    Index,
    Total,
    /// `%name`.
    Variable {
        name: String,
        at: usize,
    },
    /// `name` on the focus (`target` None: the input collection).
    Member {
        target: Option<Box<Node>>,
        name: String,
    },
    /// `name(args)` on the focus.
    Call {
        target: Option<Box<Node>>,
        name: String,
        args: Vec<Node>,
        at: usize,
    },
    /// `target[index]`.
    Indexer(Box<Node>, Box<Node>),
    /// `-x` (`+x` is `x`).
    Negate(Box<Node>),
    Binary(BinOp, Box<Node>, Box<Node>),
    /// `x is Type` / `x as Type`.
    Is(Box<Node>, String),
    As(Box<Node>, String),
}
