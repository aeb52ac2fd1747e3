#!/usr/bin/env python3
"""Generate a synthetic FHIR Bulk Data export of a CAR-T centre for the population bench.

Writes one NDJSON file per resource type (as `$export` does) into --out: --patients patients,
of whom --recipients are CAR-T recipients built by `gen_patient.py`'s generator (infusion
Procedure, axi-cel administration, years of CBCs, IgG and CD4, medications, conditions,
encounters, immunizations), each infused between 6 months and --max-years ago; the others
have a Patient resource and a few years of CBCs only. Resources are written in patient order
within each file, patients interleaved across files, as an export's files are: nothing is
grouped by patient across files.

Deterministic: every patient's generator is seeded from its index, and every date is computed
from gen_patient's NOW (the bench evaluates at that instant), so a rerun writes identical bytes.
Standard library only.

    python3 benches/gen_population.py --out /tmp/export                  # the issue's centre:
                                                                         # 2,000 of 50,000
    python3 benches/gen_population.py --out /tmp/small --patients 500 --recipients 20
"""

import argparse
import datetime as dt
import json
import os
import random

import gen_patient as g

# Lab follow-up of a recipient: gen_patient's "typical" recipient, its length varied per patient.
RECIPIENT = dict(g.SIZES["typical"])
# A patient who never received CAR-T: blood counts only.
OTHER = dict(seed=0, years=3, cbc_days=90, split_cbc=False, igg_days=0, cd4_days=0,
             temp_days=180, encounter_days=0, med_requests=0, ivig_days=0, conditions=0,
             immunizations=0, variants=0)


def patient_resource(p):
    return {
        "resourceType": "Patient", "id": p.pid,
        "name": [{"family": "Synthetic", "given": [f"Patient {p.pid}"]}],
        "gender": "female" if p.rng.random() < 0.5 else "male",
        "birthDate": f"{1940 + p.rng.randrange(60)}-0{1 + p.rng.randrange(9)}-1{p.rng.randrange(10)}",
    }


def generate(index, recipient, max_years):
    rng = random.Random(index)
    if recipient:
        spec = dict(RECIPIENT, seed=index, years=round(rng.uniform(0.5, max_years), 2))
    else:
        spec = dict(OTHER, seed=index, years=round(rng.uniform(0.5, 3), 2))
    p = g.Patient(f"{'r' if recipient else 'p'}{index}", spec)
    p.pid = f"pop-{index}"
    p.labs()
    if recipient:
        p.medications()
        p.others()
    yield patient_resource(p)
    for resources in p.bundles.values():
        yield from resources


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--patients", type=int, default=50_000)
    ap.add_argument("--recipients", type=int, default=2_000)
    ap.add_argument("--max-years", type=float, default=8.0)
    args = ap.parse_args()
    if not 0 <= args.recipients <= args.patients:
        ap.error("--recipients must be between 0 and --patients")
    os.makedirs(args.out, exist_ok=True)
    files, counts, size = {}, {}, 0
    # Recipients spread evenly among the patients.
    step = args.patients / args.recipients if args.recipients else 0
    recipients = {int(i * step) for i in range(args.recipients)}
    try:
        for index in range(args.patients):
            for r in generate(index, index in recipients, args.max_years):
                kind = r["resourceType"]
                if kind not in files:
                    files[kind] = open(os.path.join(args.out, f"{kind}.ndjson"), "w")
                line = json.dumps(r, separators=(",", ":"), ensure_ascii=False) + "\n"
                files[kind].write(line)
                counts[kind] = counts.get(kind, 0) + 1
                size += len(line)
    finally:
        for f in files.values():
            f.close()
    total = sum(counts.values())
    print(f"{args.out}: {args.patients:,} patients, {args.recipients:,} recipients, "
          f"{total:,} resources, {size:,} bytes, evaluated at {g.NOW.isoformat()}")
    for kind in sorted(counts):
        print(f"  {kind}: {counts[kind]:,}")


if __name__ == "__main__":
    main()
