#!/bin/sh
# Generated once for tests/api/fhir_tls.rs and committed; run again only to replace them.
# A test CA, and two server certificates it signs: one naming localhost (the host the tests
# connect to) and one naming ehr.other.example (a certificate for another host). P-256 keys,
# valid for 100 years. Test material only: these keys protect nothing.
set -e
cd "$(dirname "$0")"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 36500 \
  -subj "/CN=cart-sentinel test CA" -keyout ca.key -out ca.pem \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
for host in localhost ehr.other.example; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$host" \
    -keyout "$host.key" -out "$host.csr"
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:%s\n' "$host" > "$host.ext"
  openssl x509 -req -in "$host.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 36500 \
    -extfile "$host.ext" -out "$host.pem"
  rm "$host.csr" "$host.ext"
done
rm -f ca.key ca.srl
