#!/usr/bin/env python3
"""Generate the synthetic patients of cart-sentinel's benchmarks.

Writes full CDS Hooks 2.0 `patient-view` requests for the `cart-monitoring` service (every
prefetch key its discovery entry gives with the shipped pack, filled as searchset Bundles the way an
EHR answers them) for three sizes of CAR-T recipient:

    small    about    50 resources: infused 8 months ago, monthly CBCs since
    typical  about   400 resources: infused 4 years ago, monthly CBCs with components, IgG and
                                    CD4 follow-up, medications, conditions, encounters
    large    about 5,000 resources: infused 10 years ago, a decade of weekly labs

Every patient is in the CAR-T cohort (an infusion Procedure and an axi-cel
MedicationAdministration), so every rule of the default pack really evaluates: queries run over
the whole record, and a few rules fire (late cytopenia, overdue IgG, missing prophylaxis...).

Deterministic: a seeded `random.Random` per patient and every date computed from the fixed NOW
below, so a rerun writes identical bytes. The benches evaluate at NOW too. Standard library only.

    python3 benches/gen_patient.py                 # writes benches/data/{small,typical,large}.json
    python3 benches/gen_patient.py --out DIR large # one size, elsewhere
"""

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# The benches' evaluation instant (keep in sync with `NOW` in benches/common/mod.rs).
NOW = dt.datetime(2026, 11, 15, 12, 0, 0, tzinfo=dt.timezone.utc)
FHIR_BASE = "https://ehr.example.org/fhir"

LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
ATC = "http://www.whocc.no/atc"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CVX = "http://hl7.org/fhir/sid/cvx"
UCUM = "http://unitsofmeasure.org"
OBS_CAT = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERP = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
COND_CLIN = "http://terminology.hl7.org/CodeSystem/condition-clinical"
COND_VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

# Analytes of a CBC: (LOINC, display, UCUM unit, unit text, normal mean, sd, low, high).
CBC = [
    ("6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*9/L", "10^9/L", 5.5, 1.8, 4.0, 11.0),
    ("751-8", "Neutrophils [#/volume] in Blood by Automated count", "10*9/L", "10^9/L", 3.2, 1.2, 1.5, 7.5),
    ("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", "g/dL", 12.5, 1.4, 12.0, 17.0),
    ("777-3", "Platelets [#/volume] in Blood by Automated count", "10*9/L", "10^9/L", 190, 60, 150, 400),
    ("731-0", "Lymphocytes [#/volume] in Blood by Automated count", "10*9/L", "10^9/L", 1.1, 0.5, 1.0, 4.8),
]
PANEL = ("57021-8", "CBC with automated differential panel - Blood")

# Sizes: how many years since infusion, and how often each kind of data occurs.
SIZES = {
    "small": dict(seed=11, years=0.67, cbc_days=60, split_cbc=True, igg_days=60, cd4_days=0,
                  temp_days=60, encounter_days=60, med_requests=4, ivig_days=0, conditions=3,
                  immunizations=1, variants=0),
    "typical": dict(seed=22, years=4, cbc_days=30, split_cbc=True, igg_days=60, cd4_days=90,
                    temp_days=90, encounter_days=60, med_requests=15, ivig_days=90,
                    conditions=8, immunizations=6, variants=2),
    "large": dict(seed=33, years=10, cbc_days=7, split_cbc=True, igg_days=14, cd4_days=60,
                  temp_days=7, encounter_days=7, med_requests=200, ivig_days=30,
                  conditions=30, immunizations=25, variants=6),
}

OTHER_MEDS = [
    ("amlodipine 5 mg oral tablet", "197361"),
    ("atorvastatin 20 mg oral tablet", "617310"),
    ("omeprazole 20 mg delayed release capsule", "402014"),
    ("metformin 500 mg oral tablet", "860975"),
    ("ondansetron 4 mg oral tablet", "312086"),
    ("levothyroxine 50 mcg oral tablet", "966222"),
    ("sertraline 50 mg oral tablet", "312940"),
    ("furosemide 20 mg oral tablet", "310429"),
]
CONDITIONS = [
    (ICD10CM, "C83.30", "Diffuse large B-cell lymphoma, unspecified site", "active"),
    (ICD10CM, "I10", "Essential (primary) hypertension", "active"),
    (ICD10CM, "E78.5", "Hyperlipidemia, unspecified", "active"),
    (ICD10CM, "D80.1", "Nonfamilial hypogammaglobulinemia", "active"),
    (ICD10CM, "E11.9", "Type 2 diabetes mellitus without complications", "active"),
    (ICD10CM, "K21.9", "Gastro-esophageal reflux disease without esophagitis", "resolved"),
    (ICD10CM, "J06.9", "Acute upper respiratory infection, unspecified", "resolved"),
    (ICD10CM, "D61.818", "Other pancytopenia", "resolved"),
    (ICD10CM, "F41.1", "Generalized anxiety disorder", "active"),
    (ICD10CM, "M54.5", "Low back pain", "resolved"),
]


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S+00:00")


class Patient:
    def __init__(self, name, spec):
        self.name = name
        self.spec = spec
        self.rng = random.Random(spec["seed"])
        self.pid = f"bench-{name}"
        self.day0 = (NOW - dt.timedelta(days=round(spec["years"] * 365.25))).replace(
            hour=10, minute=0, second=0)
        self.counter = 0
        self.bundles = {k: [] for k in (
            "conditions", "observations", "variants", "medicationrequests",
            "medicationadministrations", "medicationstatements", "procedures",
            "immunizations", "encounters")}

    def new_id(self, prefix):
        self.counter += 1
        return f"{self.pid}-{prefix}{self.counter}"

    def meta(self, t):
        return {"versionId": "1", "lastUpdated": iso(t + dt.timedelta(hours=2))}

    def subject(self):
        return {"reference": f"Patient/{self.pid}", "display": "Bench Patient"}

    def add(self, key, resource):
        self.bundles[key].append(resource)

    # --- observations ---------------------------------------------------------------------
    def quantity(self, value, unit_text, ucum):
        return {"value": value, "unit": unit_text, "system": UCUM, "code": ucum}

    def lab(self, t, code, display, value=None, unit=None, components=None, key="observations"):
        low_high = None
        obs = {
            "resourceType": "Observation",
            "id": self.new_id("obs"),
            "meta": self.meta(t),
            "status": "final",
            "category": [{"coding": [{"system": OBS_CAT, "code": "laboratory",
                                      "display": "Laboratory"}]}],
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}],
                     "text": display.split(" [")[0]},
            "subject": self.subject(),
            "effectiveDateTime": iso(t),
            "issued": iso(t + dt.timedelta(hours=3)),
            "performer": [{"reference": "Organization/lab", "display": "Central Lab"}],
        }
        if value is not None:
            ucum, text, low, high = unit
            obs["valueQuantity"] = self.quantity(value, text, ucum)
            flag = "L" if value < low else "H" if value > high else "N"
            obs["interpretation"] = [{"coding": [{"system": INTERP, "code": flag}]}]
            low_high = {"low": self.quantity(low, text, ucum), "high": self.quantity(high, text, ucum)}
            obs["referenceRange"] = [low_high]
        if components:
            obs["component"] = components
        self.add(key, obs)

    def cbc(self, t, late_cytopenia):
        values = []
        for code, display, ucum, text, mean, sd, low, high in CBC:
            v = max(0.05, self.rng.gauss(mean, sd))
            if late_cytopenia and code == "777-3":
                v = self.rng.uniform(20, 45)
            v = round(v, 1) if mean < 50 else int(v)
            values.append((code, display, ucum, text, low, high, v))
        components = [
            {"code": {"coding": [{"system": LOINC, "code": c, "display": d}]},
             "valueQuantity": self.quantity(v, text, ucum),
             "referenceRange": [{"low": self.quantity(lo, text, ucum),
                                 "high": self.quantity(hi, text, ucum)}]}
            for c, d, ucum, text, lo, hi, v in values
        ]
        self.lab(t, PANEL[0], PANEL[1], components=components)
        if self.spec["split_cbc"]:
            for c, d, ucum, text, lo, hi, v in values:
                self.lab(t, c, d, v, (ucum, text, lo, hi))

    def labs(self):
        s = self.spec
        days = (NOW - self.day0).days
        for day in range(1, days + 1, s["cbc_days"]):
            t = self.day0 + dt.timedelta(days=day, hours=-2)
            self.cbc(t, late_cytopenia=days - day < 60 and day > 90)
        if s["igg_days"]:
            for day in range(14, days - 200, s["igg_days"]):
                t = self.day0 + dt.timedelta(days=day, hours=-1)
                v = int(self.rng.uniform(330, 700))
                self.lab(t, "2465-3", "IgG [Mass/volume] in Serum or Plasma", v,
                         ("mg/dL", "mg/dL", 700, 1600))
        if s["cd4_days"]:
            for day in range(30, days, s["cd4_days"]):
                t = self.day0 + dt.timedelta(days=day, hours=-1)
                v = int(self.rng.uniform(120, 600))
                if day + s["cd4_days"] >= days:
                    v = 150  # latest CD4 < 200 without antiviral: a card
                self.lab(t, "24467-3", "CD3+CD4+ (T4 helper) cells [#/volume] in Blood", v,
                         ("/uL", "cells/uL", 500, 1500))
        for day in range(0, days, s["temp_days"]):
            t = self.day0 + dt.timedelta(days=day, hours=1)
            v = round(self.rng.gauss(36.8, 0.3), 1)
            obs = {
                "resourceType": "Observation", "id": self.new_id("vs"), "meta": self.meta(t),
                "status": "final",
                "category": [{"coding": [{"system": OBS_CAT, "code": "vital-signs"}]}],
                "code": {"coding": [{"system": LOINC, "code": "8310-5",
                                     "display": "Body temperature"}], "text": "Temperature"},
                "subject": self.subject(), "effectiveDateTime": iso(t),
                "valueQuantity": self.quantity(v, "C", "Cel"),
            }
            self.add("observations", obs)
        hbv = self.day0 - dt.timedelta(days=20)
        for code, display in (("5196-1", "Hepatitis B virus surface Ag [Presence] in Serum"),
                              ("16933-4", "Hepatitis B virus core Ab [Presence] in Serum")):
            obs = {
                "resourceType": "Observation", "id": self.new_id("obs"), "meta": self.meta(hbv),
                "status": "final", "code": {"coding": [{"system": LOINC, "code": code,
                                                        "display": display}]},
                "subject": self.subject(), "effectiveDateTime": iso(hbv),
                "valueCodeableConcept": {"coding": [{"system": SCT, "code": "260385009",
                                                     "display": "Negative"}], "text": "Negative"},
            }
            self.add("observations", obs)
        for i in range(s["variants"]):
            t = self.day0 + dt.timedelta(days=-30 + i * 365)
            gene, vaf = [("DNMT3A", 1.2), ("TET2", 0.8)][i % 2]
            comps = [
                {"code": {"coding": [{"system": LOINC, "code": "48018-6",
                                      "display": "Gene studied [ID]"}]},
                 "valueCodeableConcept": {"text": gene}},
                {"code": {"coding": [{"system": LOINC, "code": "53037-8",
                                      "display": "Genetic variation clinical significance"}]},
                 "valueCodeableConcept": {"text": "Uncertain significance"}},
                {"code": {"coding": [{"system": LOINC, "code": "81258-6",
                                      "display": "Sample variant allelic frequency"}]},
                 "valueQuantity": self.quantity(vaf, "%", "%")},
            ]
            self.lab(t, "69548-6", "Genetic variant assessment", components=comps, key="variants")

    # --- medications ----------------------------------------------------------------------
    def med_concept(self, text, rxnorm=None):
        c = {"text": text}
        if rxnorm:
            c["coding"] = [{"system": RXNORM, "code": rxnorm, "display": text}]
        return c

    def med_request(self, t, concept, status):
        self.add("medicationrequests", {
            "resourceType": "MedicationRequest", "id": self.new_id("mr"), "meta": self.meta(t),
            "status": status, "intent": "order", "medicationCodeableConcept": concept,
            "subject": self.subject(), "authoredOn": iso(t),
            "requester": {"reference": "Practitioner/onc", "display": "Dr Oncologist"},
            "dosageInstruction": [{"text": "as directed", "timing": {"repeat": {
                "frequency": 1, "period": 1, "periodUnit": "d"}}}],
        })

    def medications(self):
        s = self.spec
        t0 = self.day0
        self.add("medicationadministrations", {
            "resourceType": "MedicationAdministration", "id": self.new_id("ma"),
            "meta": self.meta(t0), "status": "completed",
            "medicationCodeableConcept": {"coding": [{"system": HCPCS, "code": "Q2041",
                                                      "display": "Axicabtagene ciloleucel"}],
                                          "text": "Yescarta (axicabtagene ciloleucel)"},
            "subject": self.subject(), "effectiveDateTime": iso(t0),
        })
        # Antiviral prophylaxis stopped at one year; no PJP prophylaxis: both rules evaluate.
        self.med_request(t0 - dt.timedelta(days=3),
                         self.med_concept("valacyclovir 500 mg oral tablet", "313812"),
                         "stopped" if s["years"] > 1 else "active")
        days = (NOW - t0).days
        for i in range(s["med_requests"]):
            name, rx = OTHER_MEDS[i % len(OTHER_MEDS)]
            t = t0 + dt.timedelta(days=self.rng.randrange(-200, days))
            status = "active" if i < len(OTHER_MEDS) else self.rng.choice(["completed", "stopped"])
            self.med_request(t, self.med_concept(name, rx), status)
        if s["ivig_days"]:
            for day in range(60, days, s["ivig_days"]):
                t = t0 + dt.timedelta(days=day, hours=3)
                self.add("medicationadministrations", {
                    "resourceType": "MedicationAdministration", "id": self.new_id("ma"),
                    "meta": self.meta(t), "status": "completed",
                    "medicationCodeableConcept": {"coding": [{"system": ATC, "code": "J06BA02"}],
                                                  "text": "intravenous immune globulin"},
                    "subject": self.subject(), "effectiveDateTime": iso(t),
                    "dosage": {"dose": {"value": 30, "unit": "g", "system": UCUM, "code": "g"}},
                })
        self.add("medicationstatements", {
            "resourceType": "MedicationStatement", "id": self.new_id("ms"),
            "meta": self.meta(t0), "status": "completed",
            "medicationCodeableConcept": self.med_concept("bendamustine"),
            "subject": self.subject(),
            "effectivePeriod": {"start": iso(t0 - dt.timedelta(days=400)),
                                "end": iso(t0 - dt.timedelta(days=250))},
        })

    # --- conditions, procedures, encounters, immunizations ----------------------------------
    def others(self):
        s = self.spec
        days = (NOW - self.day0).days
        for i in range(s["conditions"]):
            system, code, display, clinical = CONDITIONS[i % len(CONDITIONS)]
            t = self.day0 - dt.timedelta(days=300) + dt.timedelta(days=self.rng.randrange(0, days + 300))
            self.add("conditions", {
                "resourceType": "Condition", "id": self.new_id("cond"), "meta": self.meta(t),
                "clinicalStatus": {"coding": [{"system": COND_CLIN, "code": clinical}]},
                "verificationStatus": {"coding": [{"system": COND_VER, "code": "confirmed"}]},
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                          "code": "problem-list-item"}]}],
                "code": {"coding": [{"system": system, "code": code, "display": display}],
                         "text": display},
                "subject": self.subject(), "onsetDateTime": iso(t), "recordedDate": iso(t),
            })
        self.add("procedures", {
            "resourceType": "Procedure", "id": self.new_id("proc"), "meta": self.meta(self.day0),
            "status": "completed",
            "code": {"coding": [{"system": SCT, "code": "1156961008",
                                 "display": "Chimeric antigen receptor T-cell immunotherapy (procedure)"}]},
            "subject": self.subject(), "performedDateTime": iso(self.day0),
        })
        self.add("procedures", {
            "resourceType": "Procedure", "id": self.new_id("proc"),
            "meta": self.meta(self.day0), "status": "completed",
            "code": {"text": "Leukapheresis"}, "subject": self.subject(),
            "performedDateTime": iso(self.day0 - dt.timedelta(days=35)),
        })
        for day in range(0, days, s["encounter_days"]):
            t = self.day0 + dt.timedelta(days=day)
            kind = "Survivorship clinic visit" if day % 365 < s["encounter_days"] and day > 0 \
                else "Hematology follow-up"
            self.add("encounters", {
                "resourceType": "Encounter", "id": self.new_id("enc"), "meta": self.meta(t),
                "status": "finished",
                "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
                "type": [{"text": kind}],
                "subject": self.subject(),
                "participant": [{"individual": {"reference": "Practitioner/onc"}}],
                "period": {"start": iso(t), "end": iso(t + dt.timedelta(minutes=40))},
                "serviceProvider": {"reference": "Organization/hospital"},
            })
        for i in range(s["immunizations"]):
            t = self.day0 + dt.timedelta(days=400 + i * 90)
            if t > NOW:
                t = self.day0 - dt.timedelta(days=100 + i * 30)
            self.add("immunizations", {
                "resourceType": "Immunization", "id": self.new_id("imm"), "meta": self.meta(t),
                "status": "completed",
                "vaccineCode": {"coding": [{"system": CVX, "code": "141",
                                            "display": "Influenza, seasonal, injectable"}]},
                "patient": {"reference": f"Patient/{self.pid}"},
                "occurrenceDateTime": iso(t),
            })

    def request(self):
        self.labs()
        self.medications()
        self.others()
        prefetch = {"patient": {
            "resourceType": "Patient", "id": self.pid,
            "meta": {"versionId": "3", "lastUpdated": iso(self.day0)},
            "identifier": [{"system": "urn:oid:1.2.36.146.595.217.0.1", "value": "MRN-0001"}],
            "name": [{"family": "Bench", "given": ["Patient"]}],
            "gender": "female", "birthDate": "1962-04-09",
        }}
        for key, resources in self.bundles.items():
            resources.sort(key=lambda r: json.dumps(r.get("effectiveDateTime")
                                                    or r.get("authoredOn") or ""), reverse=True)
            prefetch[key] = {
                "resourceType": "Bundle", "type": "searchset", "total": len(resources),
                "link": [{"relation": "self", "url": f"{FHIR_BASE}/{key}?patient={self.pid}"}],
                "entry": [{"fullUrl": f"{FHIR_BASE}/{r['resourceType']}/{r['id']}",
                           "resource": r, "search": {"mode": "match"}} for r in resources],
            }
        return {
            "hook": "patient-view",
            "hookInstance": f"00000000-0000-4000-8000-{self.spec['seed']:012d}",
            "context": {"userId": "Practitioner/onc", "patientId": self.pid},
            "prefetch": prefetch,
        }

    def count(self, req):
        return 1 + sum(len(b["entry"]) for k, b in req["prefetch"].items() if k != "patient")


def check_keys(req):
    """Every key discovery asks for with the shipped pack is filled (`cart-sentinel rules
    discovery`; CART_SENTINEL_BIN names a built binary, else `cargo run`)."""
    binary = os.environ.get("CART_SENTINEL_BIN")
    command = [binary] if binary else ["cargo", "run", "-q", "--"]
    out = subprocess.run(command + ["rules", "discovery", os.path.join(REPO, "cds-hooks")],
                         cwd=REPO, check=True, capture_output=True, text=True).stdout
    service = next(s for s in json.loads(out)["services"] if s["id"] == "cart-monitoring")
    missing = set(service.get("prefetch", {})) - set(req["prefetch"])
    if missing:
        sys.exit(f"prefetch keys cart-monitoring asks for are missing: {sorted(missing)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sizes", nargs="*", metavar="SIZE", help="small, typical, large (default: all)")
    ap.add_argument("--out", default=os.path.join(HERE, "data"))
    args = ap.parse_args()
    unknown = [s for s in args.sizes if s not in SIZES]
    if unknown:
        ap.error(f"unknown size(s) {unknown}; choose from {list(SIZES)}")
    args.sizes = args.sizes or list(SIZES)
    os.makedirs(args.out, exist_ok=True)
    for name in args.sizes:
        p = Patient(name, SIZES[name])
        req = p.request()
        check_keys(req)
        body = json.dumps(req, separators=(",", ":"), ensure_ascii=False).encode()
        path = os.path.join(args.out, f"{name}.json")
        with open(path, "wb") as f:
            f.write(body)
        print(f"{path}: {p.count(req)} resources, {len(body):,} bytes")


if __name__ == "__main__":
    main()
