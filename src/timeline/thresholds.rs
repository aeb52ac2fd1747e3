//! Threshold lines: the current values of the rules' parameters, in a series' unit, with the
//! days N on which each rule applies its threshold.

use super::spec::{DayBound, Direction, SeriesSpec};
use super::HOOK;
use crate::engine::CompiledPack;
use crate::record::units;

/// A threshold line: the current value of a rule's parameter, in the series' unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub value: f64,
    pub direction: Direction,
    pub rule: String,
    pub parameter: String,
    /// The days N on which the rule applies it (`None`: from day 0, or to the end).
    pub from_day: Option<i64>,
    pub to_day: Option<i64>,
}

impl Threshold {
    /// `< 1 ×10⁹/L`, with its days when it has a window (`, from day 91`, `, days 31-90`).
    pub fn label(&self, unit: &str) -> String {
        let days = match (self.from_day, self.to_day) {
            (Some(a), Some(b)) => format!(", days {a}-{b}"),
            (Some(a), None) => format!(", from day {a}"),
            (None, Some(b)) => format!(", to day {b}"),
            (None, None) => String::new(),
        };
        format!(
            "{} {} {}{days}",
            self.direction.symbol(),
            units::fmt_num(self.value),
            units::display(unit)
        )
    }

    /// Whether a result of day N (`None`: day 0 unknown) is on the rule's side of it: only
    /// inside its window, which needs day N.
    pub fn beyond(&self, day: Option<i64>, v: f64) -> bool {
        let inside = match day {
            Some(n) => self.from_day.is_none_or(|a| n >= a) && self.to_day.is_none_or(|b| n <= b),
            None => self.from_day.is_none() && self.to_day.is_none(),
        };
        inside && self.direction.beyond(v, self.value)
    }
}

/// The series' thresholds from the active pack's parameters (the product's value where the
/// rule gives one), converted to the series' unit; what the pack lacks is added to `missing`.
pub(super) fn thresholds(
    pack: &CompiledPack,
    spec: &SeriesSpec,
    product: Option<&str>,
    missing: &mut Vec<String>,
) -> Vec<Threshold> {
    let mut out = Vec::new();
    for t in spec.thresholds {
        let lacks = |name: &str| format!("parameter {name} of active rule {}", t.rule);
        let Some(rule) = pack.rules_for(HOOK).find(|r| r.id == t.rule) else {
            missing.push(lacks(t.parameter));
            continue;
        };
        let param = |name: &str| rule.parameters.get(name).ok_or_else(|| lacks(name));
        let day = |b: Option<DayBound>| -> Result<Option<i64>, String> {
            let Some(b) = b else { return Ok(None) };
            let base = match b.parameter {
                Some(name) => param(name)?.value_for(product).round() as i64,
                None => 0,
            };
            Ok(Some(base + b.offset))
        };
        let line = param(t.parameter).and_then(|p| {
            let value =
                units::convert(p.value_for(product), &p.unit, spec.unit).ok_or_else(|| {
                    format!(
                        "parameter {} of rule {} in {}",
                        t.parameter, t.rule, spec.unit
                    )
                })?;
            Ok(Threshold {
                value,
                direction: t.direction,
                rule: t.rule.to_owned(),
                parameter: t.parameter.to_owned(),
                from_day: day(t.from)?,
                to_day: day(t.to)?,
            })
        });
        match line {
            Ok(line) => out.push(line),
            Err(e) => missing.push(e),
        }
    }
    out
}
