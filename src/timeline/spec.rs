//! What the timeline draws, named by the pack's own ids: value sets and sources to read, and the
//! rule parameters whose values are the threshold lines. No clinical number is written here:
//! a threshold is whatever the active pack's parameter holds now (per product where the rule
//! gives one), so a line moves when an administrator tunes the rule. Units are the units the
//! rules' queries compare in. A name the active pack lacks (a retired rule, a renamed value set)
//! leaves that line or lane out, and the page says which.

/// How a rule compares a value with its threshold (as the rule's condition reads it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Strictly below (`lt`).
    Below,
    /// At or below (`le`).
    AtOrBelow,
    /// At or above (`ge`).
    AtOrAbove,
}

impl Direction {
    /// Whether `v` is on the rule's side of `threshold`.
    pub fn beyond(self, v: f64, threshold: f64) -> bool {
        match self {
            Direction::Below => v < threshold,
            Direction::AtOrBelow => v <= threshold,
            Direction::AtOrAbove => v >= threshold,
        }
    }

    /// The comparison as clinicians write it.
    pub fn symbol(self) -> &'static str {
        match self {
            Direction::Below => "<",
            Direction::AtOrBelow => "≤",
            Direction::AtOrAbove => "≥",
        }
    }
}

/// A day N bound of a threshold's window: a parameter of the same rule plus `offset` (the
/// rules' "after day 90" is `from: {add: [{param: after_day}, 1]}`), or day `offset` itself.
#[derive(Debug, Clone, Copy)]
pub struct DayBound {
    pub parameter: Option<&'static str>,
    pub offset: i64,
}

/// A threshold line: a parameter of a rule, how that rule compares with it, and the days N on
/// which the rule applies it (none: every day).
#[derive(Debug, Clone, Copy)]
pub struct ThresholdSpec {
    pub rule: &'static str,
    pub parameter: &'static str,
    pub direction: Direction,
    pub from: Option<DayBound>,
    pub to: Option<DayBound>,
}

const AFTER_DAY_90: Option<DayBound> = Some(DayBound {
    parameter: Some("after_day"),
    offset: 1,
});

/// Doses drawn on a series' chart (IVIG on the IgG chart).
#[derive(Debug, Clone, Copy)]
pub struct DosesSpec {
    pub label: &'static str,
    pub source: &'static str,
    pub valueset: &'static str,
}

/// A series of results with its thresholds.
#[derive(Debug, Clone, Copy)]
pub struct SeriesSpec {
    pub key: &'static str,
    pub label: &'static str,
    pub valueset: &'static str,
    /// UCUM unit the values are converted to (the unit of the rules' queries).
    pub unit: &'static str,
    pub thresholds: &'static [ThresholdSpec],
    pub doses: Option<DosesSpec>,
}

/// Medications shown as periods of coverage.
#[derive(Debug, Clone, Copy)]
pub struct CoverageSpec {
    pub key: &'static str,
    pub label: &'static str,
    pub source: &'static str,
    pub valueset: &'static str,
}

/// Dated events (conditions, positive results).
#[derive(Debug, Clone, Copy)]
pub struct EventSpec {
    pub key: &'static str,
    pub label: &'static str,
    pub source: &'static str,
    pub valueset: &'static str,
    /// Only results whose value is in this value set.
    pub value_in: Option<&'static str>,
}

const CYTOPENIA_RULE: &str = "prolonged-cytopenia-marrow-evaluation";

/// Results, each with the rule parameters it is judged by.
pub const SERIES: &[SeriesSpec] = &[
    SeriesSpec {
        key: "anc",
        label: "ANC",
        valueset: "anc",
        unit: "10*9/L",
        thresholds: &[
            ThresholdSpec {
                rule: CYTOPENIA_RULE,
                parameter: "anc_threshold",
                direction: Direction::Below,
                from: AFTER_DAY_90,
                to: None,
            },
            ThresholdSpec {
                rule: CYTOPENIA_RULE,
                parameter: "hematotoxicity_anc_threshold",
                direction: Direction::AtOrBelow,
                from: Some(DayBound {
                    parameter: Some("hematotoxicity_from_day"),
                    offset: 0,
                }),
                to: Some(DayBound {
                    parameter: Some("after_day"),
                    offset: 0,
                }),
            },
        ],
        doses: None,
    },
    SeriesSpec {
        key: "platelets",
        label: "Platelets",
        valueset: "platelets",
        unit: "10*9/L",
        thresholds: &[ThresholdSpec {
            rule: CYTOPENIA_RULE,
            parameter: "platelet_threshold",
            direction: Direction::Below,
            from: AFTER_DAY_90,
            to: None,
        }],
        doses: None,
    },
    SeriesSpec {
        key: "hemoglobin",
        label: "Hemoglobin",
        valueset: "hemoglobin",
        unit: "g/dL",
        thresholds: &[ThresholdSpec {
            rule: CYTOPENIA_RULE,
            parameter: "hemoglobin_threshold",
            direction: Direction::Below,
            from: AFTER_DAY_90,
            to: None,
        }],
        doses: None,
    },
    SeriesSpec {
        key: "igg",
        label: "IgG",
        valueset: "igg",
        unit: "mg/dL",
        thresholds: &[ThresholdSpec {
            rule: "hypogammaglobulinemia-ivig",
            parameter: "igg_threshold",
            direction: Direction::AtOrBelow,
            from: None,
            to: None,
        }],
        doses: Some(DosesSpec {
            label: "IVIG / SCIG given",
            source: "given_or_ordered",
            valueset: "immunoglobulin-replacement",
        }),
    },
    SeriesSpec {
        key: "cd4",
        label: "CD4",
        valueset: "cd4",
        unit: "/uL",
        thresholds: &[ThresholdSpec {
            rule: "cd4-monitoring-due",
            parameter: "cd4_threshold",
            direction: Direction::AtOrBelow,
            from: Some(DayBound {
                parameter: Some("from_day"),
                offset: 0,
            }),
            to: None,
        }],
        doses: None,
    },
    SeriesSpec {
        key: "temperature",
        label: "Temperature (fevers)",
        valueset: "body-temperature",
        unit: "Cel",
        thresholds: &[ThresholdSpec {
            rule: "possible-crs-fever",
            parameter: "fever_threshold",
            direction: Direction::AtOrAbove,
            from: Some(DayBound {
                parameter: None,
                offset: 0,
            }),
            to: Some(DayBound {
                parameter: Some("window_end_day"),
                offset: 0,
            }),
        }],
        doses: None,
    },
];

/// Prophylaxis and antiviral coverage, as the prophylaxis rules read it.
pub const COVERAGE: &[CoverageSpec] = &[
    CoverageSpec {
        key: "pjp",
        label: "PJP prophylaxis",
        source: "medications",
        valueset: "pjp-prophylaxis",
    },
    CoverageSpec {
        key: "hsv-vzv",
        label: "HSV/VZV antiviral",
        source: "medications",
        valueset: "antivirals-hsv-vzv",
    },
    CoverageSpec {
        key: "hbv",
        label: "HBV antiviral",
        source: "medications",
        valueset: "hbv-antivirals",
    },
];

/// Malignancy and infection events. The pack has no value set of infection diagnoses (no code
/// for one is verified in the evidence), so infections are the positive CMV DNA results the
/// pack reads, and conditions of a value set `infection` once a site adds one.
pub const EVENTS: &[EventSpec] = &[
    EventSpec {
        key: "malignancy",
        label: "Malignancy",
        source: "conditions",
        valueset: "malignancy",
        value_in: None,
    },
    EventSpec {
        key: "t-cell-malignancy",
        label: "T-cell malignancy",
        source: "conditions",
        valueset: "t-cell-malignancy",
        value_in: None,
    },
    EventSpec {
        key: "cmv",
        label: "CMV DNA detected",
        source: "results",
        valueset: "cmv-pcr",
        value_in: Some("positive-result"),
    },
    EventSpec {
        key: "infection",
        label: "Infection",
        source: "conditions",
        valueset: "infection",
        value_in: None,
    },
];
