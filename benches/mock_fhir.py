#!/usr/bin/env python3
"""A mock FHIR server for benches/load.sh: answers each query after a fixed delay.

Serves the prefetch of a generated patient request (benches/gen_patient.py) as a FHIR server
would answer the `cart-monitoring` prefetch queries: `GET <base>/Patient/<id>` gives the Patient
and `GET <base>/<Type>?...` gives the searchset Bundle of that type (Observation queries for the
genetic-variant codes 69548-6 / 81247-9 give the `variants` Bundle). Every answer is sent
`--delay-ms` after the request arrived (20 ms by default), with keep-alive, one thread per
connection, so parallel queries wait in parallel. Loopback only; standard library only.

    python3 benches/mock_fhir.py --port 0 --request benches/data/typical.json
    (prints "port N" on its first line once listening)
"""

import argparse
import json
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEY_BY_TYPE = {
    "Condition": "conditions",
    "Observation": "observations",
    "MedicationRequest": "medicationrequests",
    "MedicationAdministration": "medicationadministrations",
    "MedicationStatement": "medicationstatements",
    "Procedure": "procedures",
    "Immunization": "immunizations",
    "Encounter": "encounters",
}
EMPTY = {"resourceType": "Bundle", "type": "searchset", "total": 0}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--request", required=True, help="a generated hook request (JSON)")
    ap.add_argument("--delay-ms", type=float, default=20.0)
    args = ap.parse_args()
    with open(args.request, "rb") as f:
        prefetch = json.load(f)["prefetch"]
    bodies = {k: json.dumps(v if v is not None else EMPTY, separators=(",", ":")).encode()
              for k, v in prefetch.items()}
    delay = args.delay_ms / 1000.0

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and the
        # client's delayed ACK hold the body back ~40 ms on a reused connection.
        disable_nagle_algorithm = True

        def do_GET(self):
            started = time.monotonic()
            url = urllib.parse.urlsplit(self.path)
            parts = [p for p in url.path.split("/") if p]
            key = None
            if len(parts) >= 2 and parts[-2] == "Patient":
                key = "patient"
            elif parts and parts[-1] in KEY_BY_TYPE:
                key = KEY_BY_TYPE[parts[-1]]
                if key == "observations" and "69548-6" in urllib.parse.unquote(url.query):
                    key = "variants"
            body = bodies.get(key)
            time.sleep(max(0.0, delay - (time.monotonic() - started)))
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"port {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
