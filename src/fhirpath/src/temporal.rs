//! Dates, date-times and times with their precision, as FHIRPath compares them: two values of
//! different precision are equal or ordered only when the fields both have decide it, else the
//! result is empty.

use chrono::{
    Datelike, Duration, FixedOffset, Months, NaiveDate, NaiveDateTime, NaiveTime, Timelike,
};
use std::cmp::Ordering;

/// Which kind of temporal value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Date,
    DateTime,
    Time,
}

/// A date, date-time or time: `fields` are year, month, day, hour, minute, second,
/// millisecond, of which the first `precision` are known (a time's start at the hour).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Temporal {
    pub kind: Kind,
    fields: [i64; 7],
    precision: usize,
    /// UTC offset in minutes, when written.
    offset: Option<i32>,
}

fn digits(s: &str, n: usize) -> Option<(i64, &str)> {
    let head = s.get(..n)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head.parse().ok()?, &s[n..]))
}

impl Temporal {
    /// A literal after `@`: `2024`, `2024-01-31`, `2024-01-31T10:00:00.5+01:00`, `T10:30`.
    pub fn parse_literal(text: &str) -> Option<Temporal> {
        match text.strip_prefix('T') {
            Some(time) => Temporal::parse_time(time),
            None => Temporal::parse_date_time(text, true),
        }
    }

    /// A FHIR date or dateTime as written in a resource (`2024-01-31`, `2024-01-31T10:00:00Z`).
    pub fn parse_fhir(text: &str) -> Option<Temporal> {
        Temporal::parse_date_time(text, false)
    }

    fn parse_date_time(text: &str, literal: bool) -> Option<Temporal> {
        let mut fields = [0i64; 7];
        let (year, rest) = digits(text, 4)?;
        fields[0] = year;
        let (precision, rest) = two_digit_fields(rest, '-', &mut fields[1..3])?;
        let precision = 1 + precision;
        let mut t = Temporal {
            kind: Kind::Date,
            fields,
            precision,
            offset: None,
        };
        if let Some(time) = rest.strip_prefix('T') {
            if precision != 3 && !literal {
                return None;
            }
            t.kind = Kind::DateTime;
            // `@2015T` and `@2015-02T` are partial date-times in the literal syntax.
            if !time.is_empty() {
                let (time_fields, p, offset) = parse_clock(time)?;
                if precision != 3 {
                    return None;
                }
                t.fields[3..].copy_from_slice(&time_fields);
                t.precision = 3 + p;
                t.offset = offset;
            }
        } else if !rest.is_empty() {
            return None;
        }
        t.valid().then_some(t)
    }

    fn parse_time(text: &str) -> Option<Temporal> {
        // A time's offset, where written, is not kept: FHIR times have none.
        let (fields, precision, _) = parse_clock(text)?;
        let mut all = [0i64; 7];
        all[3..].copy_from_slice(&fields);
        Some(Temporal {
            kind: Kind::Time,
            fields: all,
            precision: 3 + precision,
            offset: None,
        })
    }

    fn valid(&self) -> bool {
        let f = &self.fields;
        let month_ok = self.precision < 2 || (1..=12).contains(&f[1]);
        let day_ok = self.precision < 3
            || NaiveDate::from_ymd_opt(f[0] as i32, f[1] as u32, f[2] as u32).is_some();
        month_ok && day_ok
    }

    /// A date of day precision.
    pub fn from_date(d: NaiveDate) -> Temporal {
        Temporal {
            kind: Kind::Date,
            fields: [
                d.year() as i64,
                d.month() as i64,
                d.day() as i64,
                0,
                0,
                0,
                0,
            ],
            precision: 3,
            offset: None,
        }
    }

    /// A date-time of millisecond precision with its offset.
    pub fn from_date_time(t: chrono::DateTime<FixedOffset>) -> Temporal {
        let mut v = Temporal::from_date(t.date_naive());
        v.kind = Kind::DateTime;
        v.fields[3] = t.hour() as i64;
        v.fields[4] = t.minute() as i64;
        v.fields[5] = t.second() as i64;
        v.fields[6] = (t.nanosecond() / 1_000_000) as i64;
        v.precision = 7;
        v.offset = Some(t.offset().local_minus_utc() / 60);
        v
    }

    /// The date part of a date or date-time (`toDate()`); `None` for a time.
    pub fn to_date(&self) -> Option<Temporal> {
        (self.kind != Kind::Time).then(|| {
            let mut d = *self;
            d.kind = Kind::Date;
            d.precision = d.precision.min(3);
            d.offset = None;
            d.fields[3..].fill(0);
            d
        })
    }

    /// The calendar date, when the day is known.
    pub fn date(&self) -> Option<NaiveDate> {
        (self.kind != Kind::Time && self.precision >= 3).then(|| {
            NaiveDate::from_ymd_opt(
                self.fields[0] as i32,
                self.fields[1] as u32,
                self.fields[2] as u32,
            )
        })?
    }

    /// Fields normalised to UTC when the value has a time and an offset (`default_offset`,
    /// in minutes, stands for a missing one).
    fn normalised(&self, default_offset: i32) -> [i64; 7] {
        if self.kind != Kind::DateTime || self.precision < 5 {
            return self.fields;
        }
        let offset = self.offset.unwrap_or(default_offset);
        let Some(naive) = self.naive() else {
            return self.fields;
        };
        let utc = naive - Duration::minutes(offset as i64);
        let mut f = self.fields;
        f[0] = utc.year() as i64;
        f[1] = utc.month() as i64;
        f[2] = utc.day() as i64;
        f[3] = utc.hour() as i64;
        f[4] = utc.minute() as i64;
        f
    }

    fn naive(&self) -> Option<NaiveDateTime> {
        let date = self.date()?;
        let time = NaiveTime::from_hms_milli_opt(
            self.fields[3] as u32,
            self.fields[4] as u32,
            self.fields[5] as u32,
            self.fields[6] as u32,
        )?;
        Some(date.and_time(time))
    }

    /// FHIRPath ordering: `None` when the precisions leave it undecided, or when a time is
    /// compared with a date. Dates compare with date-times at the date's precision.
    pub fn compare(&self, other: &Temporal, default_offset: i32) -> Option<Ordering> {
        if (self.kind == Kind::Time) != (other.kind == Kind::Time) {
            return None;
        }
        let (a, b) = (
            self.normalised(default_offset),
            other.normalised(default_offset),
        );
        let start = if self.kind == Kind::Time { 3 } else { 0 };
        // Seconds and milliseconds are one precision in the specification.
        let p = |t: &Temporal| if t.precision == 6 { 7 } else { t.precision };
        let shared = p(self).min(p(other));
        for k in start..shared {
            match a[k].cmp(&b[k]) {
                Ordering::Equal => continue,
                unequal => return Some(unequal),
            }
        }
        (p(self) == p(other)).then_some(Ordering::Equal)
    }

    /// `self + amount unit` for a calendar duration or its UCUM code; `None` for another unit
    /// or a result out of range.
    pub fn add(&self, amount: f64, unit: &str) -> Option<Temporal> {
        let whole = amount.trunc() as i64;
        // Calendar words may be plural; UCUM codes (`s`, `ms`) are left as they are.
        let unit = if unit.len() > 3 {
            unit.trim_end_matches('s')
        } else {
            unit
        };
        let mut out = *self;
        let months = match unit {
            "year" | "a" => Some(whole * 12),
            "month" | "mo" => Some(whole),
            _ => None,
        };
        if let Some(m) = months {
            let total = out.fields[0] * 12 + (out.fields[1].max(1) - 1) + m;
            out.fields[0] = total.div_euclid(12);
            if out.precision >= 2 {
                out.fields[1] = total.rem_euclid(12) + 1;
            }
            if out.precision >= 3 {
                // The day is clamped to the end of a shorter month.
                let first = NaiveDate::from_ymd_opt(out.fields[0] as i32, out.fields[1] as u32, 1)?;
                let last = (first + Months::new(1)).pred_opt()?.day() as i64;
                out.fields[2] = out.fields[2].min(last);
            }
            return Some(out);
        }
        let millis = match unit {
            "week" | "wk" => whole * 7 * 86_400_000,
            "day" | "d" => whole * 86_400_000,
            "hour" | "h" => whole * 3_600_000,
            "minute" | "min" => whole * 60_000,
            "second" | "s" => (amount * 1000.0) as i64,
            "millisecond" | "ms" => whole,
            _ => return None,
        };
        if self.kind == Kind::Time {
            let base = self.fields[3] * 3_600_000
                + self.fields[4] * 60_000
                + self.fields[5] * 1000
                + self.fields[6];
            let t = (base + millis).rem_euclid(86_400_000);
            out.fields[3..].copy_from_slice(&[
                t / 3_600_000,
                t / 60_000 % 60,
                t / 1000 % 60,
                t % 1000,
            ]);
            return Some(out);
        }
        if self.precision < 3 {
            return Some(out);
        }
        let mut padded = *self;
        padded.precision = 7;
        let moved = padded.naive()? + Duration::milliseconds(millis);
        out.fields = [
            moved.year() as i64,
            moved.month() as i64,
            moved.day() as i64,
            moved.hour() as i64,
            moved.minute() as i64,
            moved.second() as i64,
            (moved.nanosecond() / 1_000_000) as i64,
        ];
        Some(out)
    }

    /// As written in FHIR (`2024-01-31`, `2024-01-31T10:00:00+01:00`, `10:30:00`).
    pub fn to_text(&self) -> String {
        let f = &self.fields;
        let mut s = String::new();
        if self.kind != Kind::Time {
            s.push_str(&format!("{:04}", f[0]));
            if self.precision >= 2 {
                s.push_str(&format!("-{:02}", f[1]));
            }
            if self.precision >= 3 {
                s.push_str(&format!("-{:02}", f[2]));
            }
            if self.kind == Kind::Date || self.precision <= 3 {
                return s;
            }
            s.push('T');
        }
        s.push_str(&format!("{:02}", f[3]));
        if self.precision >= 5 {
            s.push_str(&format!(":{:02}", f[4]));
        }
        if self.precision >= 6 {
            s.push_str(&format!(":{:02}", f[5]));
        }
        if self.precision >= 7 {
            s.push_str(&format!(".{:03}", f[6]));
        }
        match self.offset {
            Some(0) => s.push('Z'),
            Some(m) => s.push_str(&format!(
                "{}{:02}:{:02}",
                if m < 0 { '-' } else { '+' },
                m.abs() / 60,
                m.abs() % 60
            )),
            None => {}
        }
        s
    }
}

/// Up to `slots.len()` fields of two digits, each after `sep`: how many were read, and the rest.
fn two_digit_fields<'t>(
    mut rest: &'t str,
    sep: char,
    slots: &mut [i64],
) -> Option<(usize, &'t str)> {
    let mut read = 0;
    for slot in slots.iter_mut() {
        let Some(r) = rest.strip_prefix(sep) else {
            break;
        };
        let (v, r) = digits(r, 2)?;
        *slot = v;
        read += 1;
        rest = r;
    }
    Some((read, rest))
}

/// `10:30`, `10:30:00.000`, optionally followed by `Z` or `±hh:mm`: the hour, minute, second
/// and millisecond fields, how many are known, and the offset in minutes.
fn parse_clock(text: &str) -> Option<([i64; 4], usize, Option<i32>)> {
    let mut fields = [0i64; 4];
    let (h, rest) = digits(text, 2)?;
    fields[0] = h;
    let (precision, mut rest) = two_digit_fields(rest, ':', &mut fields[1..3])?;
    let mut precision = 1 + precision;
    if let Some(r) = rest.strip_prefix('.') {
        if precision != 3 {
            return None;
        }
        let n = r.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let frac: String = r[..n].chars().chain("000".chars()).take(3).collect();
        fields[3] = frac.parse().ok()?;
        precision = 4;
        rest = &r[n..];
    }
    let offset = match rest {
        "" => None,
        "Z" => Some(0),
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, r) = digits(&rest[1..], 2)?;
            let (om, r) = digits(r.strip_prefix(':')?, 2)?;
            if !r.is_empty() {
                return None;
            }
            Some(sign * (oh * 60 + om) as i32)
        }
    };
    if fields[0] > 23 || fields[1] > 59 || fields[2] > 59 {
        return None;
    }
    Some((fields, precision, offset))
}
