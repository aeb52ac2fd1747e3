//! Every fixture in `fixtures/patients/` through the HTTP service with its fixed "now":
//! the rules it names fire with the expected indicator and suggestion resource types, and
//! the near-misses stay silent.

use std::path::PathBuf;

use serde_json::Value;

use cart_sentinel::cds::card_check::check_card;
use cart_sentinel::cds::response::CdsResponse;

use crate::helpers::{load_json, root, spawn_app};

/// Every fixture request with its expectation file, sorted by path.
pub(crate) fn cases() -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for rule_dir in std::fs::read_dir(root().join("fixtures/patients")).unwrap() {
        let rule_dir = rule_dir.unwrap().path();
        if !rule_dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&rule_dir).unwrap() {
            let f = f.unwrap().path();
            let name = f.file_name().unwrap().to_str().unwrap().to_owned();
            if let Some(stem) = name.strip_suffix(".request.json") {
                out.push((f.clone(), rule_dir.join(format!("{stem}.expect.json"))));
            }
        }
    }
    out.sort();
    out
}

fn suggestion_types(card: &Value) -> Vec<String> {
    card["suggestions"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["actions"].as_array().cloned().unwrap_or_default())
        .map(|a| match a["type"].as_str() {
            Some("delete") => "delete".to_owned(),
            _ => a["resource"]["resourceType"]
                .as_str()
                .unwrap_or("?")
                .to_owned(),
        })
        .collect()
}

/// The rules of the shipped pack that ship as `status: draft`.
/// Longest rendered card detail, in characters: what a narrow EHR side panel shows without
/// scrolling (`rules.max_detail_chars`'s default).
const MAX_DETAIL_CHARS: usize = 500;

/// What makes a card too long for where EHRs show it: a summary of 140 characters or more, a
/// detail over [`MAX_DETAIL_CHARS`], or an evidence list inside the detail (it belongs in the
/// links).
fn concise(name: &str, card: &cart_sentinel::cds::Card) -> Vec<String> {
    let mut problems = Vec::new();
    if card.summary.chars().count() >= 140 {
        problems.push(format!(
            "{name}: summary of 140 characters or more: {}",
            card.summary
        ));
    }
    let detail = card.detail.as_deref().unwrap_or_default();
    let n = detail.chars().count();
    if n > MAX_DETAIL_CHARS {
        problems.push(format!(
            "{name}: {n}-character detail ({}): {detail}",
            card.summary
        ));
    }
    if detail.contains("**Evidence**") {
        problems.push(format!(
            "{name}: evidence listed inside the detail ({})",
            card.summary
        ));
    }
    for action in card.suggestions.iter().flat_map(|s| &s.actions) {
        if let Some(problem) = not_applicable(action) {
            problems.push(format!("{name}: {problem} ({})", card.summary));
        }
    }
    problems
}

/// Why an EHR could not apply a suggested action: an order without a coded medication or service,
/// without draft status, intent or subject, or a delete without the id of the order.
fn not_applicable(action: &cart_sentinel::cds::Action) -> Option<String> {
    use cart_sentinel::cds::ActionType;
    if matches!(action.r#type, ActionType::Delete) {
        return action
            .resource_id
            .is_none()
            .then(|| "a delete without the draft order's id".to_owned());
    }
    let r = action.resource.as_ref()?;
    let coded = |field: &str| {
        r[field]["coding"].as_array().is_some_and(|c| {
            c.iter()
                .any(|c| c["system"].is_string() && c["code"].is_string())
        })
    };
    let kind = r["resourceType"].as_str().unwrap_or_default();
    let ok = match kind {
        "MedicationRequest" => coded("medicationCodeableConcept"),
        "ServiceRequest" => coded("code"),
        _ => true,
    };
    let complete =
        r["status"] == "draft" && r["intent"].is_string() && r["subject"]["reference"].is_string();
    (!ok || (!complete && matches!(kind, "MedicationRequest" | "ServiceRequest")))
        .then(|| format!("a suggested {kind} an EHR cannot apply: {r}"))
}

pub(crate) fn draft_rules() -> Vec<String> {
    std::fs::read_dir(root().join("cds-hooks/rules"))
        .unwrap()
        .flatten()
        .filter(|f| {
            std::fs::read_to_string(f.path())
                .unwrap()
                .lines()
                .any(|l| l == "status: draft")
        })
        .map(|f| f.path().file_stem().unwrap().to_str().unwrap().to_owned())
        .collect()
}

/// Whether a case runs with the drafts active: it expects a draft rule to fire, or names one in
/// `activate` (a near-miss of a draft rule must stay silent with the rule active, or it could
/// not fail).
pub(crate) fn needs_drafts(expect: &Value, drafts: &[String]) -> bool {
    let fires = expect["fires"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["rule"]);
    let activated = expect["activate"].as_array().into_iter().flatten();
    fires
        .chain(activated)
        .any(|rule| drafts.iter().any(|d| rule == d.as_str()))
}

/// A copy of the pack with every draft rule activated, as a site would after local approval.
pub(crate) fn pack_with_drafts_active(into: &std::path::Path) {
    crate::helpers::copy_pack(into, &|_, text| {
        text.replace("\nstatus: draft\n", "\nstatus: active\n")
    });
}

#[tokio::test]
async fn every_fixture_fires_its_rules_and_every_near_miss_stays_silent() {
    let app = spawn_app().await;
    let drafts = draft_rules();
    let pack_dir = tempfile::tempdir().unwrap();
    pack_with_drafts_active(pack_dir.path());
    let approved = pack_dir.path().to_path_buf();
    let site = crate::helpers::spawn_with(move |s| s.rules.dir = approved).await;
    let all = cases();
    // Every rule of the shipped pack has a case that fires it and a near-miss.
    for rule in std::fs::read_dir(root().join("cds-hooks/rules")).unwrap() {
        let path = rule.unwrap().path();
        let id = path.file_stem().unwrap().to_str().unwrap().to_owned();
        for prefix in ["fires-", "nm-"] {
            let dir = root().join("fixtures/patients").join(&id);
            assert!(
                all.iter().any(|(request, _)| request.starts_with(&dir)
                    && request
                        .file_name()
                        .unwrap()
                        .to_str()
                        .unwrap()
                        .starts_with(prefix)),
                "no {prefix}* case for rule {id}"
            );
        }
    }
    let mut failures = Vec::new();
    for (request, expect) in &all {
        let name = request.strip_prefix(root()).unwrap().display().to_string();
        let expect = load_json(expect.strip_prefix(root()).unwrap());
        let app = if needs_drafts(&expect, &drafts) {
            &site
        } else {
            &app
        };
        app.set_now(expect["now"].as_str().unwrap().parse().unwrap());
        let resp = app
            .call(
                expect["service"].as_str().unwrap(),
                &load_json(request.strip_prefix(root()).unwrap()),
            )
            .await;
        if resp.status() != 200 {
            failures.push(format!("{name}: HTTP {}", resp.status()));
            continue;
        }
        let body: Value = resp.json().await.unwrap();
        let typed: CdsResponse = serde_json::from_value(body.clone())
            .expect("response round-trips through the wire types");
        for card in &typed.cards {
            let problems = check_card(card);
            if !problems.is_empty() {
                failures.push(format!(
                    "{name}: card {} violates CDS Hooks 2.0: {problems:?}",
                    card.summary
                ));
            }
            failures.extend(concise(&name, card));
        }
        let cards = body["cards"].as_array().unwrap();
        let request_json = load_json(request.strip_prefix(root()).unwrap());
        failures.extend(suggestion_problems(&name, cards, &request_json));
        let by_rule = |rule: &str| cards.iter().find(|c| c["source"]["topic"]["code"] == rule);
        for want in expect["fires"].as_array().unwrap() {
            let rule = want["rule"].as_str().unwrap();
            match by_rule(rule) {
                None => failures.push(format!("{name}: {rule} did not fire")),
                Some(card) => {
                    if card["indicator"] != want["indicator"] {
                        failures.push(format!(
                            "{name}: {rule} indicator {} != {}",
                            card["indicator"], want["indicator"]
                        ));
                    }
                    let types: Vec<Value> = suggestion_types(card)
                        .into_iter()
                        .map(Value::from)
                        .collect();
                    if Value::from(types.clone()) != want["suggestions"] {
                        failures.push(format!(
                            "{name}: {rule} suggestions {types:?} != {}",
                            want["suggestions"]
                        ));
                    }
                }
            }
        }
        for silent in expect["silent"].as_array().unwrap() {
            if by_rule(silent.as_str().unwrap()).is_some() {
                failures.push(format!("{name}: {silent} fired but must not"));
            }
        }
        let mut ids: Vec<&str> = cards
            .iter()
            .map(|c| c["source"]["topic"]["code"].as_str().unwrap())
            .collect();
        let n = ids.len();
        ids.dedup();
        if ids.len() != n {
            failures.push(format!("{name}: a rule produced two cards"));
        }
        let order: Vec<u8> = cards
            .iter()
            .map(|c| match c["indicator"].as_str() {
                Some("critical") => 0,
                Some("warning") => 1,
                _ => 2,
            })
            .collect();
        if !order.windows(2).all(|w| w[0] <= w[1]) {
            failures.push(format!("{name}: cards not ordered critical, warning, info"));
        }
    }
    assert_eq!(
        drafts,
        ["t-cell-lymphoproliferation-vigilance"],
        "the catalogue ships exactly one draft rule"
    );
    assert!(
        failures.is_empty(),
        "{} of {} fixture cases failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn a_draft_rule_never_fires_in_the_default_pack() {
    let app = spawn_app().await;
    for (request, expect) in cases() {
        let expect = load_json(expect.strip_prefix(root()).unwrap());
        if !expect["fires"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "t-cell-lymphoproliferation-vigilance")
        {
            continue;
        }
        app.set_now(expect["now"].as_str().unwrap().parse().unwrap());
        let body: Value = app
            .call(
                expect["service"].as_str().unwrap(),
                &load_json(request.strip_prefix(root()).unwrap()),
            )
            .await
            .json()
            .await
            .unwrap();
        assert!(body["cards"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["source"]["topic"]["code"] != "t-cell-lymphoproliferation-vigilance"));
    }
}

/// Suggested resources are drafts about this patient; deletes name an order of `draftOrders`.
fn suggestion_problems(name: &str, cards: &[Value], request: &Value) -> Vec<String> {
    let patient = format!(
        "Patient/{}",
        request["context"]["patientId"].as_str().unwrap_or_default()
    );
    let drafts: Vec<String> = request["context"]["draftOrders"]["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            Some(format!(
                "{}/{}",
                e["resource"]["resourceType"].as_str()?,
                e["resource"]["id"].as_str()?
            ))
        })
        .collect();
    let mut out = Vec::new();
    for card in cards {
        let rule = card["source"]["topic"]["code"].as_str().unwrap_or_default();
        for action in card["suggestions"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s["actions"].as_array().cloned().unwrap_or_default())
        {
            match action["type"].as_str() {
                Some("delete") => {
                    let id = action["resourceId"].as_str().unwrap_or_default();
                    if !drafts.iter().any(|d| d == id) {
                        out.push(format!(
                            "{name}: {rule} deletes {id:?}, which is not in draftOrders {drafts:?}"
                        ));
                    }
                }
                _ => {
                    let r = &action["resource"];
                    let status_ok = r.get("status").is_none_or(|s| s == "draft")
                        && (r.get("status").is_some() || r["resourceType"] == "AdverseEvent");
                    let subject = r["subject"]["reference"]
                        .as_str()
                        .or(r["patient"]["reference"].as_str());
                    if !status_ok || subject != Some(patient.as_str()) {
                        out.push(format!(
                            "{name}: {rule} suggests a {} that is not a draft about {patient}",
                            r["resourceType"]
                        ));
                    }
                }
            }
        }
    }
    out
}

/// `CompiledPack::firing` (conditions only, timed by the rule-scale bench) names exactly the
/// rules whose findings `evaluate` renders, for every fixture (drafts active, every hook).
#[tokio::test]
async fn firing_names_the_rules_evaluate_renders() {
    use cart_sentinel::cds::{load_services, request::parse_hook_request};
    use cart_sentinel::engine::{load, EvalInput};
    use cart_sentinel::hook;
    let pack_dir = tempfile::tempdir().unwrap();
    pack_with_drafts_active(pack_dir.path());
    let pack = load::compile_dir(pack_dir.path()).expect("the pack compiles");
    let services = load_services(&root().join("cds-hooks/services")).expect("services load");
    let tz = chrono_tz::Tz::UTC;
    let mut fired = 0;
    for (request, expect) in cases() {
        let expect = load_json(expect.strip_prefix(root()).unwrap());
        let body = std::fs::read(&request).unwrap();
        let service = services
            .iter()
            .find(|s| expect["service"] == s.id.as_str())
            .expect("the fixture's service exists");
        let service = &service.with_prefetch(pack.prefetch(&service.hook));
        let mut req = parse_hook_request(&body, &service.hook).expect("a valid request");
        let record = hook::build_record(service, &mut req, hook::Source::Offline)
            .await
            .expect("offline never fails")
            .record;
        let input = EvalInput {
            record: &record,
            hook: &req.hook,
            now: expect["now"].as_str().unwrap().parse().unwrap(),
            tz,
        };
        let mut rendered: Vec<String> = pack
            .evaluate(&input)
            .into_iter()
            .map(|f| f.rule_id)
            .collect();
        let mut firing: Vec<String> = pack.firing(&input).into_iter().map(str::to_owned).collect();
        rendered.sort();
        firing.sort();
        assert_eq!(firing, rendered, "{}", request.display());
        fired += firing.len();
    }
    assert!(
        fired >= 17,
        "the fixtures fire every rule at least once ({fired} firings)"
    );
}
