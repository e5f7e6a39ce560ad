//! Servers that rustls cannot talk to (TLS 1.0/1.1 only, no common cipher
//! suite): one raw ClientHello, and a small bounded parser for the
//! ServerHello and the plaintext Certificate message.
//!
//! Nothing here completes a handshake: certscope sends one ClientHello,
//! reads until it has seen the server's choice and its certificates, and
//! hangs up. Every length read from the server is checked against what is
//! actually there and against fixed caps, so hostile bytes give an `Err`,
//! never a panic or an unbounded allocation.

use std::time::Duration;

use ring::rand::{SecureRandom, SystemRandom};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What a legacy handshake revealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyHello {
    /// The version the server chose, e.g. 0x0301 for TLS 1.0.
    pub version: u16,
    pub cipher: u16,
    /// DER certificates from the Certificate message, leaf first.
    pub chain: Vec<Vec<u8>>,
}

/// "TLSv1.0" for 0x0301, etc.
pub fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSLv3".into(),
        0x0301 => "TLSv1.0".into(),
        0x0302 => "TLSv1.1".into(),
        0x0303 => "TLSv1.2".into(),
        0x0304 => "TLSv1.3".into(),
        other => format!("0x{other:04x}"),
    }
}

/// Send one TLS 1.0-1.2 ClientHello with a wide cipher list on `stream`
/// (connected, and upgraded when STARTTLS applies) and read back the
/// ServerHello and Certificate. `sni` is sent when it is a DNS name.
/// Bounded in time and bytes.
pub async fn hello(
    mut stream: TcpStream,
    sni: Option<&str>,
    timeout: Duration,
) -> Result<LegacyHello, String> {
    match tokio::time::timeout(timeout, exchange(&mut stream, sni)).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "no ServerHello and Certificate within {} ms",
            timeout.as_millis()
        )),
    }
}

async fn exchange(stream: &mut TcpStream, sni: Option<&str>) -> Result<LegacyHello, String> {
    let mut random = [0u8; 32];
    SystemRandom::new()
        .fill(&mut random)
        .map_err(|_| "no random bytes for the ClientHello".to_string())?;
    let ch = client_hello(&random, sni);
    stream
        .write_all(&ch)
        .await
        .map_err(|e| format!("sending the ClientHello: {}", crate::probe::io_words(&e)))?;
    let mut parser = Parser::default();
    let mut buf = vec![0u8; 8192];
    loop {
        let n = stream.read(&mut buf).await.map_err(|e| {
            format!(
                "reading the server's answer: {}",
                crate::probe::io_words(&e)
            )
        })?;
        if n == 0 {
            return Err(parser.eof_message());
        }
        let data = buf
            .get(..n)
            .ok_or_else(|| "read past the buffer".to_string())?;
        if let Step::Done(h) = parser.feed(data)? {
            return Ok(h);
        }
    }
}

// ---------------------------------------------------------------------------
// The ClientHello

/// Cipher suites offered, strongest first: everything rustls offers for
/// TLS 1.2 that matters here plus what it never offers (CBC, DHE, plain RSA
/// key exchange, 3DES, RC4), so that any server still in service picks one.
const SUITES: &[u16] = &[
    0xc02b, // ECDHE-ECDSA-AES128-GCM-SHA256
    0xc02f, // ECDHE-RSA-AES128-GCM-SHA256
    0xc02c, // ECDHE-ECDSA-AES256-GCM-SHA384
    0xc030, // ECDHE-RSA-AES256-GCM-SHA384
    0xc023, // ECDHE-ECDSA-AES128-SHA256
    0xc027, // ECDHE-RSA-AES128-SHA256
    0xc024, // ECDHE-ECDSA-AES256-SHA384
    0xc028, // ECDHE-RSA-AES256-SHA384
    0xc009, // ECDHE-ECDSA-AES128-SHA
    0xc013, // ECDHE-RSA-AES128-SHA
    0xc00a, // ECDHE-ECDSA-AES256-SHA
    0xc014, // ECDHE-RSA-AES256-SHA
    0x009e, // DHE-RSA-AES128-GCM-SHA256
    0x009f, // DHE-RSA-AES256-GCM-SHA384
    0x0067, // DHE-RSA-AES128-SHA256
    0x006b, // DHE-RSA-AES256-SHA256
    0x0033, // DHE-RSA-AES128-SHA
    0x0039, // DHE-RSA-AES256-SHA
    0x00a2, // DHE-DSS-AES128-GCM-SHA256 (DSA keys)
    0x00a3, // DHE-DSS-AES256-GCM-SHA384
    0x0040, // DHE-DSS-AES128-SHA256
    0x006a, // DHE-DSS-AES256-SHA256
    0x0032, // DHE-DSS-AES128-SHA
    0x0038, // DHE-DSS-AES256-SHA
    0x009c, // AES128-GCM-SHA256
    0x009d, // AES256-GCM-SHA384
    0x003c, // AES128-SHA256
    0x003d, // AES256-SHA256
    0x002f, // AES128-SHA
    0x0035, // AES256-SHA
    0xc012, // ECDHE-RSA-DES-CBC3-SHA
    0x0016, // EDH-RSA-DES-CBC3-SHA
    0x000a, // DES-CBC3-SHA
    0x0005, // RC4-SHA
    0x0004, // RC4-MD5
];

/// x25519, secp256r1, secp384r1, secp521r1.
const GROUPS: &[u16] = &[0x001d, 0x0017, 0x0018, 0x0019];

/// SHA-2 schemes first, then the SHA-1 ones old servers may need.
const SIG_ALGS: &[u16] = &[
    0x0403, // ecdsa_secp256r1_sha256
    0x0804, // rsa_pss_rsae_sha256
    0x0401, // rsa_pkcs1_sha256
    0x0503, // ecdsa_secp384r1_sha384
    0x0805, // rsa_pss_rsae_sha384
    0x0501, // rsa_pkcs1_sha384
    0x0603, // ecdsa_secp521r1_sha512
    0x0806, // rsa_pss_rsae_sha512
    0x0601, // rsa_pkcs1_sha512
    0x0807, // ed25519
    0x0201, // rsa_pkcs1_sha1
    0x0203, // ecdsa_sha1
    0x0402, // dsa_sha256 (TLS 1.2 only)
    0x0202, // dsa_sha1
];

fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Append `body` preceded by its length in `width` bytes (1, 2 or 3).
fn put_vec(out: &mut Vec<u8>, width: usize, body: &[u8]) {
    let len = body.len().to_be_bytes();
    let start = len.len().saturating_sub(width);
    out.extend_from_slice(len.get(start..).unwrap_or_default());
    out.extend_from_slice(body);
}

fn put_ext(out: &mut Vec<u8>, kind: u16, body: &[u8]) {
    put_u16(out, kind);
    put_vec(out, 2, body);
}

/// The name to put in server_name, if `sni` is a plausible DNS name
/// (ASCII, no trailing dot, at most 253 bytes).
fn sni_name(sni: Option<&str>) -> Option<&str> {
    let name = sni?.trim_end_matches('.');
    (!name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_'))
    .then_some(name)
}

/// One TLS record (type handshake, record version TLS 1.0) holding a
/// ClientHello with client_version TLS 1.2.
fn client_hello(random: &[u8; 32], sni: Option<&str>) -> Vec<u8> {
    let mut ext = Vec::new();
    if let Some(name) = sni_name(sni) {
        let mut entry = vec![0u8]; // name_type host_name
        put_vec(&mut entry, 2, name.as_bytes());
        let mut list = Vec::new();
        put_vec(&mut list, 2, &entry);
        put_ext(&mut ext, 0x0000, &list);
    }
    let groups: Vec<u8> = GROUPS.iter().flat_map(|g| g.to_be_bytes()).collect();
    let mut body = Vec::new();
    put_vec(&mut body, 2, &groups);
    put_ext(&mut ext, 0x000a, &body);
    put_ext(&mut ext, 0x000b, &[1, 0]); // ec_point_formats: uncompressed
    let algs: Vec<u8> = SIG_ALGS.iter().flat_map(|a| a.to_be_bytes()).collect();
    let mut body = Vec::new();
    put_vec(&mut body, 2, &algs);
    put_ext(&mut ext, 0x000d, &body);
    put_ext(&mut ext, 0xff01, &[0]); // renegotiation_info, empty

    let mut hello = Vec::new();
    put_u16(&mut hello, 0x0303);
    hello.extend_from_slice(random);
    hello.push(0); // empty session id
    let suites: Vec<u8> = SUITES.iter().flat_map(|s| s.to_be_bytes()).collect();
    put_vec(&mut hello, 2, &suites);
    hello.extend_from_slice(&[1, 0]); // compression: null only
    put_vec(&mut hello, 2, &ext);

    let mut msg = vec![1u8]; // client_hello
    put_vec(&mut msg, 3, &hello);

    let mut record = vec![0x16];
    put_u16(&mut record, 0x0301);
    put_vec(&mut record, 2, &msg);
    record
}

// ---------------------------------------------------------------------------
// The server's answer

/// Bytes read from the server, all records together.
const MAX_TOTAL: usize = 256 * 1024;
/// One record's payload: 2^14 plus the expansion a TLS 1.2 record may have.
const MAX_RECORD: usize = 16 * 1024 + 2048;
const MAX_CERTS: usize = 64;
const MAX_CERT: usize = 64 * 1024;

/// A bounds-checked big-endian reader: every read is `None` past the end.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.buf.len() {
            return None;
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }

    fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
    }

    fn u24(&mut self) -> Option<usize> {
        let b = self.take(3)?;
        Some(
            usize::from(*b.first()?) << 16 | usize::from(*b.get(1)?) << 8 | usize::from(*b.get(2)?),
        )
    }

    fn remaining(&self) -> usize {
        self.buf.len()
    }

    fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// Name of a TLS alert description (RFC 8446 §6 and earlier).
fn alert_name(code: u8) -> &'static str {
    match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => "unknown",
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// Need more bytes.
    More,
    Done(LegacyHello),
}

/// Incremental parser for the server's first flight.
#[derive(Debug, Default)]
struct Parser {
    /// Bytes received and not yet consumed as whole records.
    records: Vec<u8>,
    /// Handshake bytes received and not yet consumed as whole messages.
    handshake: Vec<u8>,
    total: usize,
    /// (version, cipher) from the ServerHello.
    server_hello: Option<(u16, u16)>,
}

impl Parser {
    /// Consume `data`; `Done` once the ServerHello and the Certificate (or
    /// ServerHelloDone) have been seen.
    fn feed(&mut self, data: &[u8]) -> Result<Step, String> {
        self.total = self.total.saturating_add(data.len());
        if self.total > MAX_TOTAL {
            return Err(format!(
                "the server sent more than {MAX_TOTAL} bytes without a complete ServerHello and Certificate"
            ));
        }
        self.records.extend_from_slice(data);
        loop {
            let mut r = Reader::new(&self.records);
            let (Some(kind), Some(version), Some(len)) = (r.u8(), r.u16(), r.u16()) else {
                return Ok(Step::More);
            };
            if !matches!(kind, 0x14..=0x17) || version >> 8 != 3 {
                return Err(format!(
                    "the server's answer is not TLS (record header {kind:02x} {version:04x})"
                ));
            }
            let len = usize::from(len);
            if len > MAX_RECORD {
                return Err(format!(
                    "record of {len} bytes exceeds the maximum of {MAX_RECORD}"
                ));
            }
            let Some(payload) = r.take(len) else {
                return Ok(Step::More);
            };
            let payload = payload.to_vec();
            self.records.drain(..(5 + len).min(self.records.len()));
            match kind {
                0x15 => {
                    let mut a = Reader::new(&payload);
                    let (Some(level), Some(desc)) = (a.u8(), a.u8()) else {
                        return Err("malformed alert record".into());
                    };
                    // A warning (e.g. unrecognized_name) is not the end.
                    if level == 1 && desc != 0 {
                        continue;
                    }
                    return Err(format!("alert {} ({desc})", alert_name(desc)));
                }
                0x16 => {
                    if payload.is_empty() {
                        return Err("empty handshake record".into());
                    }
                    self.handshake.extend_from_slice(&payload);
                    if let Some(done) = self.messages()? {
                        return Ok(Step::Done(done));
                    }
                }
                0x14 => return Err("unexpected ChangeCipherSpec before the Certificate".into()),
                _ => return Err("unexpected application data before the Certificate".into()),
            }
        }
    }

    /// Handle every complete handshake message buffered so far.
    fn messages(&mut self) -> Result<Option<LegacyHello>, String> {
        loop {
            let mut r = Reader::new(&self.handshake);
            let (Some(kind), Some(len)) = (r.u8(), r.u24()) else {
                return Ok(None);
            };
            if len > MAX_TOTAL {
                return Err(format!(
                    "handshake message of {len} bytes exceeds the maximum of {MAX_TOTAL}"
                ));
            }
            let Some(body) = r.take(len) else {
                return Ok(None);
            };
            let body = body.to_vec();
            self.handshake.drain(..(4 + len).min(self.handshake.len()));
            match (kind, self.server_hello) {
                (0, _) => {} // hello_request: ignore
                (2, None) => self.server_hello = Some(parse_server_hello(&body)?),
                (2, Some(_)) => return Err("a second ServerHello".into()),
                (_, None) => {
                    return Err(format!(
                        "handshake message type {kind} before the ServerHello"
                    ));
                }
                (11, Some((version, cipher))) => {
                    return Ok(Some(LegacyHello {
                        version,
                        cipher,
                        chain: parse_certificate(&body)?,
                    }));
                }
                (14, Some((version, cipher))) => {
                    // No Certificate: an anonymous or PSK suite.
                    if !body.is_empty() {
                        return Err("malformed ServerHelloDone".into());
                    }
                    return Ok(Some(LegacyHello {
                        version,
                        cipher,
                        chain: Vec::new(),
                    }));
                }
                // ServerKeyExchange, CertificateRequest, ... (only without a
                // Certificate, which comes first otherwise): keep reading.
                (_, Some(_)) => {}
            }
        }
    }

    fn eof_message(&self) -> String {
        match self.server_hello {
            None => format!(
                "the server closed the connection without a ServerHello (after {} bytes)",
                self.total
            ),
            Some(_) => format!(
                "the server closed the connection before its Certificate (after {} bytes)",
                self.total
            ),
        }
    }
}

/// (version, cipher) from a ServerHello body.
fn parse_server_hello(body: &[u8]) -> Result<(u16, u16), String> {
    let bad = || "malformed ServerHello".to_string();
    let mut r = Reader::new(body);
    let mut version = r.u16().ok_or_else(bad)?;
    r.take(32).ok_or_else(bad)?;
    let sid = usize::from(r.u8().ok_or_else(bad)?);
    if sid > 32 {
        return Err(bad());
    }
    r.take(sid).ok_or_else(bad)?;
    let cipher = r.u16().ok_or_else(bad)?;
    r.u8().ok_or_else(bad)?; // compression method
    if !r.is_empty() {
        let len = usize::from(r.u16().ok_or_else(bad)?);
        if len != r.remaining() {
            return Err(bad());
        }
        while !r.is_empty() {
            let kind = r.u16().ok_or_else(bad)?;
            let len = usize::from(r.u16().ok_or_else(bad)?);
            let data = r.take(len).ok_or_else(bad)?;
            if kind == 0x002b {
                let mut d = Reader::new(data);
                version = d.u16().ok_or_else(bad)?;
            }
        }
    }
    if version >> 8 != 3 {
        return Err(format!("ServerHello with unknown version 0x{version:04x}"));
    }
    if version >= 0x0304 {
        return Err(format!(
            "ServerHello selects {} although it was not offered",
            version_name(version)
        ));
    }
    Ok((version, cipher))
}

/// The DER certificates of a TLS 1.0-1.2 Certificate message body.
fn parse_certificate(body: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let bad = || "malformed Certificate message".to_string();
    let mut r = Reader::new(body);
    let len = r.u24().ok_or_else(bad)?;
    if len != r.remaining() {
        return Err(bad());
    }
    let mut chain = Vec::new();
    while !r.is_empty() {
        let len = r.u24().ok_or_else(bad)?;
        if len == 0 {
            return Err("empty certificate in the Certificate message".into());
        }
        if len > MAX_CERT {
            return Err(format!(
                "certificate of {len} bytes exceeds the maximum of {MAX_CERT}"
            ));
        }
        if chain.len() == MAX_CERTS {
            return Err(format!("more than {MAX_CERTS} certificates"));
        }
        chain.push(r.take(len).ok_or_else(bad)?.to_vec());
    }
    Ok(chain)
}

#[cfg(test)]
#[path = "legacy_tests.rs"]
mod tests;
