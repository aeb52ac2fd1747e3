//! Numbers in rules: a literal, or a map with one key (a parameter, a binding, a count,
//! arithmetic, a case). `serde_json`'s `arbitrary_precision` (turned on by fhirbolt) hands numbers
//! to `deserialize_any` as a private map, which the deserialiser below accepts.

use serde::{Deserialize, Serialize};

use super::{Cond, PathOf, Query};

/// A number: a literal, or a map with one key.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Num {
    /// A literal.
    Lit(f64),
    /// Anything else.
    Op(Box<NumOp>),
}

/// Computed numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[expect(
    clippy::large_enum_variant,
    reason = "held boxed only (`Num::Op`): the size is paid once per computed number"
)]
pub enum NumOp {
    /// A rule parameter (converted to a query's unit where compared with a result).
    Param(String),
    /// A numeric binding.
    Var(String),
    /// The numeric value of a query binding (in the query's unit).
    ValueOf(String),
    /// The number of items a query finds.
    Count(Query),
    /// The first number (an integer, a decimal, or a Quantity's value with its unit) that a
    /// FHIRPath finds in the resource a query binding found.
    Path(PathOf),
    /// `age` (whole years, needs Patient.birthDate) or `day` (day N).
    Patient(PatientNum),
    /// Sum.
    Add([Num; 2]),
    /// Difference.
    Sub([Num; 2]),
    /// Product.
    Mul([Num; 2]),
    /// Quotient.
    Div([Num; 2]),
    /// First branch whose condition holds, else the default.
    Case(Case),
}

/// Patient-level numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatientNum {
    /// Age in whole years today.
    Age,
    /// Day N after day 0.
    Day,
}

/// `case: {when: [...], else: N}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Branches, in order.
    pub when: Vec<CaseBranch>,
    /// Value when no branch holds.
    #[serde(rename = "else")]
    pub otherwise: Num,
}

/// One branch of a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseBranch {
    /// Condition.
    #[serde(rename = "if")]
    pub cond: Cond,
    /// Value.
    pub then: Num,
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NumVisitor;
        impl<'de> serde::de::Visitor<'de> for NumVisitor {
            type Value = Num;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number or a map with one of: param, var, value_of, count, path, patient, add, sub, mul, div, case")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Num, E> {
                Ok(Num::Lit(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num::Lit(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num::Lit(v as f64))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Num, A::Error> {
                use serde::de::Error;
                let key: String = map
                    .next_key()?
                    .ok_or_else(|| A::Error::custom("expected a number or a map with one key"))?;
                let op = match key.as_str() {
                    // serde_json's arbitrary_precision hands numbers over as this private map.
                    "$serde_json::private::Number" => {
                        let text: String = map.next_value()?;
                        let v = text.parse::<f64>().map_err(A::Error::custom)?;
                        return Ok(Num::Lit(v));
                    }
                    "param" => NumOp::Param(map.next_value()?),
                    "var" => NumOp::Var(map.next_value()?),
                    "value_of" => NumOp::ValueOf(map.next_value()?),
                    "count" => NumOp::Count(map.next_value()?),
                    "path" => NumOp::Path(map.next_value()?),
                    "patient" => NumOp::Patient(map.next_value()?),
                    "add" => NumOp::Add(map.next_value()?),
                    "sub" => NumOp::Sub(map.next_value()?),
                    "mul" => NumOp::Mul(map.next_value()?),
                    "div" => NumOp::Div(map.next_value()?),
                    "case" => NumOp::Case(map.next_value()?),
                    other => {
                        return Err(A::Error::unknown_variant(
                            other,
                            &[
                                "param", "var", "value_of", "count", "path", "patient", "add",
                                "sub", "mul", "div", "case",
                            ],
                        ))
                    }
                };
                if map.next_key::<String>()?.is_some() {
                    return Err(A::Error::custom("a number expression has exactly one key"));
                }
                Ok(Num::Op(Box::new(op)))
            }
        }
        d.deserialize_any(NumVisitor)
    }
}

impl Num {
    /// A parameter reference.
    pub fn param(name: &str) -> Num {
        Num::Op(Box::new(NumOp::Param(name.to_owned())))
    }
}
