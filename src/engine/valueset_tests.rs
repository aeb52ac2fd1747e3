use super::*;

fn text_set(patterns: &[&str], exclude: &[&str]) -> Compiled {
    Compiled::new(&ValueSet {
        id: "t".into(),
        title: "t".into(),
        description: "t".into(),
        codes: Vec::new(),
        prefixes: Vec::new(),
        text: patterns
            .iter()
            .map(|p| TextEntry {
                pattern: (*p).into(),
                product: Some(format!("tag {p}")),
            })
            .collect(),
        exclude_text: exclude.iter().map(|x| (*x).into()).collect(),
        include: Vec::new(),
    })
}

#[test]
fn a_value_set_has_the_entries_of_those_it_includes_and_refuses_a_cycle() {
    let vs = |id: &str, prefix: &str, include: &[&str]| ValueSet {
        id: id.into(),
        title: id.into(),
        description: id.into(),
        codes: Vec::new(),
        prefixes: vec![CodeEntry {
            system: "http://hl7.org/fhir/sid/icd-10-cm".into(),
            code: prefix.into(),
            display: None,
            status: "M".into(),
            product: None,
        }],
        text: Vec::new(),
        exclude_text: Vec::new(),
        include: include.iter().map(|s| (*s).to_owned()).collect(),
    };
    let mut all: BTreeMap<String, ValueSet> = [
        ("group", vs("group", "X00", &["a", "b"])),
        ("a", vs("a", "C83.3", &[])),
        ("b", vs("b", "C90.0", &["a"])),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let group = expanded(&all, "group").unwrap();
    let codes: Vec<&str> = group.prefixes.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(codes, ["X00", "C83.3", "C90.0", "C83.3"]);
    assert!(group.include.is_empty());
    all.get_mut("a").unwrap().include.push("group".into());
    assert!(expanded(&all, "group")
        .unwrap_err()
        .contains("include each other"));
    all.get_mut("a").unwrap().include = vec!["missing".into()];
    assert!(expanded(&all, "b")
        .unwrap_err()
        .contains("unknown value set `missing`"));
}

#[test]
fn text_entries_match_whole_words_in_order_case_insensitively_unless_excluded() {
    let vs = text_set(&["cytomegalovirus dna", "ebv"], &["not detected"]);
    let tag = |p: &str| Some(Some(format!("tag {p}")));
    let cases = [
        (
            "Cytomegalovirus DNA [#/volume] in Plasma",
            tag("cytomegalovirus dna"),
        ),
        ("CYTOMEGALOVIRUS-DNA", tag("cytomegalovirus dna")),
        ("EBV load", tag("ebv")),
        ("DNA cytomegalovirus", None),
        ("cytomegalovirus", None),
        ("cytomegalovirus dnase", None),
        ("ebvx", None),
        // Same length and first letter as a pattern word, other text.
        ("ebx load", None),
        ("cytomegalovirus dnb", None),
        ("xebv", None),
        ("EBV not detected", None),
        ("EBV not   DETECTED.", None),
        ("EBV detected, not found", tag("ebv")),
        ("", None),
    ];
    for (text, want) in cases {
        assert_eq!(vs.match_text(text), want, "{text}");
        // The memoised form gives the same answer from the same words.
        let hay = words(text);
        assert_eq!(vs.match_text_with(text, |_| hay.clone()), want, "{text}");
    }
    assert_eq!(
        text_set(&[], &[]).match_text_with("ebv", |_| -> Vec<String> {
            unreachable!("no text entries: the words are not needed")
        }),
        None
    );
}
