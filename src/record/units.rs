//! Unit normalisation for the UCUM units the rule catalogue names (and the spellings EHRs
//! commonly send for them). Conversions are exact factors except temperature (affine).

/// Dimension and factor of a unit: value × factor = value in the dimension's base unit.
fn scale(unit: &str) -> Option<(&'static str, f64)> {
    let u = unit.trim();
    Some(match u {
        // Cell counts, base 10*9/L (= 10*3/uL).
        "10*9/L" | "10^9/L" | "x10E9/L" | "10*3/uL" | "10^3/uL" | "x10E3/uL" | "K/uL"
        | "10*3/mm3" => ("count", 1.0),
        "/uL" | "cells/uL" | "{cells}/uL" | "/mm3" | "cells/mm3" => ("count", 1e-3),
        // Mass concentration, base mg/dL.
        "g/dL" => ("mass", 1000.0),
        "g/L" => ("mass", 100.0),
        "mg/dL" => ("mass", 1.0),
        "mg/L" => ("mass", 0.1),
        // Durations, base day.
        "d" => ("time", 1.0),
        "h" => ("time", 1.0 / 24.0),
        "wk" => ("time", 7.0),
        "a" => ("time", 365.25),
        "%" => ("percent", 1.0),
        "1" => ("ratio", 1.0),
        _ => return None,
    })
}

fn temperature_to_cel(unit: &str, v: f64) -> Option<f64> {
    match unit.trim() {
        "Cel" | "degC" | "°C" | "C" => Some(v),
        "[degF]" | "degF" | "°F" | "F" => Some((v - 32.0) * 5.0 / 9.0),
        _ => None,
    }
}

/// True when `unit` is a unit this module knows.
pub fn known(unit: &str) -> bool {
    scale(unit).is_some() || temperature_to_cel(unit, 0.0).is_some()
}

/// Converts `v` from `from` to `to`; `None` when either is unknown or they measure different things.
pub fn convert(v: f64, from: &str, to: &str) -> Option<f64> {
    if let (Some(c), Some(_)) = (temperature_to_cel(from, v), temperature_to_cel(to, 0.0)) {
        return match to.trim() {
            "Cel" | "degC" | "°C" | "C" => Some(c),
            _ => Some(c * 9.0 / 5.0 + 32.0),
        };
    }
    linear(from, to).map(|(ff, ft)| v * ff / ft)
}

/// [`convert`] for many values of one query: the factors of the last pair of units are kept,
/// so a run of values in one unit does not match unit names for each. The result
/// is exactly [`convert`]'s.
#[derive(Default)]
pub struct Converter<'u> {
    /// The last units converted from and to, and their factors (`None`: not linear).
    last: Option<(&'u str, &'u str, Factors)>,
}

/// What `convert` multiplies and divides by, for linear units of one dimension.
type Factors = Option<(f64, f64)>;

impl<'u> Converter<'u> {
    pub fn convert(&mut self, v: f64, from: &'u str, to: &'u str) -> Option<f64> {
        let factors = match self.last {
            // The same strings are usually passed again (the query's target unit always).
            Some((f, t, factors))
                if (std::ptr::eq(f, from) || f == from) && (std::ptr::eq(t, to) || t == to) =>
            {
                factors
            }
            _ => {
                let factors = linear(from, to);
                self.last = Some((from, to, factors));
                factors
            }
        };
        match factors {
            // As `convert` computes it, to the last bit.
            Some((ff, ft)) => Some(v * ff / ft),
            None => convert(v, from, to),
        }
    }
}

/// The factors `convert` multiplies and divides by, when both units are linear ones of one
/// dimension.
fn linear(from: &str, to: &str) -> Factors {
    let (df, ff) = scale(from)?;
    let (dt, ft) = scale(to)?;
    (df == dt).then_some((ff, ft))
}

/// How a unit is shown to clinicians.
pub fn display(unit: &str) -> String {
    match unit.trim() {
        "Cel" | "degC" => "°C".into(),
        "[degF]" | "degF" => "°F".into(),
        "10*9/L" => "×10⁹/L".into(),
        "10*3/uL" => "×10³/µL".into(),
        "/uL" => "/µL".into(),
        "d" => "days".into(),
        "h" => "hours".into(),
        "a" => "years".into(),
        "1" => String::new(),
        other => other.replace("uL", "µL"),
    }
}

/// A number as clinicians write it: no trailing zeros, at most two decimals.
pub fn fmt_num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_the_catalogue_units() {
        assert_eq!(convert(1000.0, "/uL", "10*9/L"), Some(1.0));
        assert_eq!(convert(1.0, "10*3/uL", "10*9/L"), Some(1.0));
        assert_eq!(convert(80.0, "g/L", "g/dL"), Some(8.0));
        assert_eq!(convert(4.0, "g/L", "mg/dL"), Some(400.0));
        assert_eq!(convert(40.0, "mg/L", "mg/dL"), Some(4.0));
        let f = convert(100.4, "[degF]", "Cel").unwrap();
        assert!((f - 38.0).abs() < 1e-9);
        assert_eq!(convert(24.0, "h", "d"), Some(1.0));
    }

    #[test]
    fn a_converter_gives_exactly_what_convert_gives_across_changing_units() {
        let mut c = Converter::default();
        let pairs = [
            (80.0, "g/L", "g/dL"),
            (81.0, "g/L", "g/dL"),
            (1234.0, "/uL", "10*9/L"),
            (100.4, "[degF]", "Cel"),
            (7.3, "g/L", "g/dL"),
            (1.0, "g/dL", "10*9/L"),
            (3.0, "mystery", "mystery"),
            (0.3, "g/L", "mg/dL"),
        ];
        for (v, from, to) in pairs.into_iter().chain(pairs) {
            assert_eq!(
                c.convert(v, from, to),
                convert(v, from, to),
                "{v} {from} -> {to}"
            );
        }
        // 80 g/L is exactly 8 g/dL: the factors are applied in convert's order.
        assert_eq!(c.convert(80.0, "g/L", "g/dL"), Some(8.0));
    }

    #[test]
    fn refuses_to_mix_dimensions_or_guess() {
        assert_eq!(convert(1.0, "g/dL", "10*9/L"), None);
        assert_eq!(convert(1.0, "mmol/L", "mg/dL"), None);
        assert_eq!(convert(1.0, "Cel", "mg/dL"), None);
    }

    #[test]
    fn formats_numbers_for_people() {
        assert_eq!(fmt_num(400.0), "400");
        assert_eq!(fmt_num(0.85), "0.85");
        assert_eq!(fmt_num(38.333), "38.33");
        assert_eq!(display("10*9/L"), "×10⁹/L");
    }
}
