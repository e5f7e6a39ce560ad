#!/usr/bin/env bash
# Regenerate fuzz/seeds/ (the fuzz targets' starting corpora) from the lab:
# the certificates its servers present, its CRLs, OCSP answers and AIA
# bodies, keys of every kind, the example files, and hand-written server
# dialogues. Needs the release binary's dependencies, openssl and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
S=fuzz/seeds
work=$(mktemp -d)
lab_pid=""
cleanup() { [ -n "$lab_pid" ] && kill "$lab_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cargo build --quiet --release
BIN=target/release/certscope
mkdir -p $S/{certificate,ocsp,crl,bundle,private_key,text_inputs,server_bytes,http_response}

"$BIN" lab --dir "$work" > "$work/lab.txt" 2>&1 &
lab_pid=$!
for _ in $(seq 50); do grep -q "^Check commands" "$work/lab.txt" 2>/dev/null && break; sleep 0.1; done
http=$(sed -n 's|^AIA, CRL and OCSP server: \(.*\)$|\1|p' "$work/lab.txt")

# Certificates as servers present them (PEM chains), and the lab's roots.
cp "$work/ca.pem" $S/certificate/lab-roots.pem
while read -r id target _; do
  case "$id" in good|expired|self-signed|untrusted-root|chain-order|weak-signature|name-constraints|ip-ok|ca-as-leaf|must-staple)
    port=${target##*:}
    openssl s_client -connect "127.0.0.1:$port" -servername "${target%:*}" -showcerts </dev/null 2>/dev/null \
      | sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' > "$S/certificate/$id.pem" || true
    openssl x509 -in "$S/certificate/$id.pem" -outform DER -out "$S/certificate/$id.der" 2>/dev/null || true
  esac
done < <(sed -n '/^ID /,/^$/p' "$work/lab.txt" | tail -n +2)
cp assets/fixtures/*.pem $S/certificate/ 2>/dev/null || true

# CRLs, OCSP answers and AIA bodies from the lab's HTTP server.
curl -s "${http}lab.crl" -o $S/crl/lab.crl
curl -s "${http}stale.crl" -o $S/crl/stale.crl
openssl crl -inform DER -in $S/crl/lab.crl -out $S/crl/lab-pem.crl 2>/dev/null || true
for o in revoked-ocsp stapled-good stapled-revoked; do
  curl -s "${http}ocsp/$o" -o "$S/ocsp/$o.der"
done
curl -s "${http}lab-intermediate.der" -o $S/bundle/intermediate.der
openssl crl2pkcs7 -nocrl -certfile "$work/ca.pem" -outform DER -out $S/bundle/roots.p7c
cp "$work/ca.pem" $S/bundle/roots.pem

# Keys of every kind and encoding.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $S/private_key/ec-pkcs8.pem 2>/dev/null
openssl ec -in $S/private_key/ec-pkcs8.pem -out $S/private_key/ec-sec1.pem 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out $S/private_key/rsa-pkcs8.pem 2>/dev/null
openssl rsa -in $S/private_key/rsa-pkcs8.pem -traditional -out $S/private_key/rsa-pkcs1.pem 2>/dev/null
openssl genpkey -algorithm ED25519 -out $S/private_key/ed25519.pem 2>/dev/null
openssl pkey -in $S/private_key/ec-pkcs8.pem -outform DER -out $S/private_key/ec-pkcs8.der

# What users type and the files they write.
"$BIN" example-hosts > $S/text_inputs/hosts.toml
"$BIN" example-settings > $S/text_inputs/config.toml
printf 'a.test\nb.test:8443\n[::1]:443\nhttps://c.test/x\n' > $S/text_inputs/list.txt
printf 'www.example.test:443:192.0.2.1,192.0.2.2' > $S/text_inputs/resolve.txt
printf '2027-03-01T00:00:00Z' > $S/text_inputs/at.txt
printf '5m' > $S/text_inputs/interval.txt

# Server dialogues: the first byte picks the reader (0-7 a STARTTLS
# protocol in certscope's order, 8 TLS, 9 the legacy hello).
printf '\x00220 fuzz.test ESMTP\r\n250-fuzz.test\r\n250-SIZE 1000\r\n250 STARTTLS\r\n220 2.0.0 go ahead\r\n' > $S/server_bytes/smtp
printf '\x01* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\na1 OK begin TLS\r\n' > $S/server_bytes/imap
printf '\x02+OK ready\r\n+OK\r\nSTLS\r\n.\r\n+OK begin\r\n' > $S/server_bytes/pop3
printf '\x03220 FTP ready\r\n234 AUTH TLS ok\r\n' > $S/server_bytes/ftp
printf "\x04<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client' from='fuzz.test' version='1.0'><stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features><proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" > $S/server_bytes/xmpp
printf '\x050\x0c\x02\x01\x01x\x07\x0a\x01\x00\x04\x00\x04\x00' > $S/server_bytes/ldap
printf '\x06S' > $S/server_bytes/postgres
printf '\x08\x15\x03\x01\x00\x02\x02\x28' > $S/server_bytes/tls-alert
printf '\x08HTTP/1.1 400 Bad Request\r\n\r\n' > $S/server_bytes/not-tls
printf '\x09\x16\x03\x01\x00\x04\x0e\x00\x00\x00' > $S/server_bytes/legacy

# HTTP answers.
printf 'HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: 5\r\n\r\nhello' > $S/http_response/sized
printf 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' > $S/http_response/chunked
printf 'HTTP/1.1 302 Found\r\nLocation: /other.crl\r\nContent-Length: 0\r\n\r\n' > $S/http_response/redirect
{ printf 'HTTP/1.0 200 OK\r\n\r\n'; cat $S/crl/lab.crl; } > $S/http_response/crl-body

echo "seeds: $(find $S -type f | wc -l) files in $S"
