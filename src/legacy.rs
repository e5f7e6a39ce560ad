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
        .map_err(|e| format!("sending the ClientHello: {e}"))?;
    let mut parser = Parser::default();
    let mut buf = vec![0u8; 8192];
    loop {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| format!("reading the server's answer: {e}"))?;
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
mod tests {
    use super::*;

    fn u24(n: usize) -> [u8; 3] {
        let b = n.to_be_bytes();
        let k = b.len();
        [b[k - 3], b[k - 2], b[k - 1]]
    }

    fn record(kind: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![kind, 3, 1];
        v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![kind];
        v.extend_from_slice(&u24(body.len()));
        v.extend_from_slice(body);
        v
    }

    fn server_hello_body(version: u16, cipher: u16, ext: &[u8]) -> Vec<u8> {
        let mut b = version.to_be_bytes().to_vec();
        b.extend_from_slice(&[7; 32]);
        b.push(32);
        b.extend_from_slice(&[9; 32]);
        b.extend_from_slice(&cipher.to_be_bytes());
        b.push(0);
        if !ext.is_empty() {
            b.extend_from_slice(&(ext.len() as u16).to_be_bytes());
            b.extend_from_slice(ext);
        }
        b
    }

    fn certificate_body(certs: &[&[u8]]) -> Vec<u8> {
        let mut list = Vec::new();
        for c in certs {
            list.extend_from_slice(&u24(c.len()));
            list.extend_from_slice(c);
        }
        let mut b = u24(list.len()).to_vec();
        b.extend_from_slice(&list);
        b
    }

    const LEAF: &[u8] = b"leaf certificate DER";
    const INTER: &[u8] = b"intermediate DER";

    /// ServerHello + Certificate as a handshake byte stream.
    fn flight() -> Vec<u8> {
        let mut hs = message(
            2,
            &server_hello_body(0x0301, 0xc013, &[0xff, 0x01, 0x00, 0x01, 0x00]),
        );
        hs.extend(message(11, &certificate_body(&[LEAF, INTER])));
        hs
    }

    /// The flight split across two records in the middle of the Certificate.
    fn split_response() -> Vec<u8> {
        let hs = flight();
        let cut = hs.len() - 10;
        let mut v = record(0x16, &hs[..cut]);
        v.extend(record(0x16, &hs[cut..]));
        v
    }

    fn expected() -> LegacyHello {
        LegacyHello {
            version: 0x0301,
            cipher: 0xc013,
            chain: vec![LEAF.to_vec(), INTER.to_vec()],
        }
    }

    /// Parse a complete answer; running out of bytes is an error (EOF).
    fn parse(bytes: &[u8]) -> Result<LegacyHello, String> {
        let mut p = Parser::default();
        match p.feed(bytes)? {
            Step::Done(h) => Ok(h),
            Step::More => Err(p.eof_message()),
        }
    }

    #[test]
    fn hello_and_certificate_across_records() {
        assert_eq!(parse(&split_response()), Ok(expected()));
    }

    #[test]
    fn byte_at_a_time() {
        let bytes = split_response();
        let mut p = Parser::default();
        let mut got = None;
        for (i, b) in bytes.iter().enumerate() {
            match p.feed(std::slice::from_ref(b)).expect("valid so far") {
                Step::More => assert!(i + 1 < bytes.len(), "done only at the end"),
                Step::Done(h) => got = Some(h),
            }
        }
        assert_eq!(got, Some(expected()));
    }

    #[test]
    fn one_record_per_message_and_trailing_messages() {
        let mut bytes = record(0x16, &message(2, &server_hello_body(0x0303, 0x002f, &[])));
        bytes.extend(record(0x16, &message(11, &certificate_body(&[LEAF]))));
        bytes.extend(record(0x16, &message(14, &[])));
        let h = parse(&bytes).expect("parses");
        assert_eq!((h.version, h.cipher, h.chain.len()), (0x0303, 0x002f, 1));
    }

    #[test]
    fn truncated_stream_is_an_error() {
        let bytes = split_response();
        for k in 0..bytes.len() {
            assert!(parse(&bytes[..k]).is_err(), "prefix of {k} bytes");
        }
    }

    #[test]
    fn truncated_messages_inside_a_whole_record_are_errors() {
        let hs = flight();
        for k in 0..hs.len() {
            assert!(
                parse(&record(0x16, &hs[..k])).is_err(),
                "handshake cut at {k}"
            );
        }
        // Cut bodies under correct message headers: the inner parsers see
        // short input.
        let sh = server_hello_body(0x0301, 0xc013, &[0xff, 0x01, 0x00, 0x01, 0x00]);
        for k in 0..sh.len() {
            let short = &sh[..k];
            // k == 38 + 32 + 3 is a valid hello without extensions; the
            // Certificate is still missing.
            let mut hs = message(2, short);
            hs.extend(message(11, &certificate_body(&[LEAF])));
            let r = parse(&record(0x16, &hs));
            if k == 2 + 32 + 1 + 32 + 2 + 1 {
                assert!(r.is_ok(), "{r:?}");
            } else {
                assert!(r.is_err(), "ServerHello body cut at {k}: {r:?}");
            }
        }
        let cert = certificate_body(&[LEAF, INTER]);
        for k in 0..cert.len() {
            let mut hs = message(2, &sh);
            hs.extend(message(11, &cert[..k]));
            assert!(parse(&record(0x16, &hs)).is_err(), "Certificate cut at {k}");
        }
    }

    #[test]
    fn corrupted_bytes_never_panic() {
        let bytes = split_response();
        for i in 0..bytes.len() {
            for v in [0x00, 0x01, 0x7f, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[i] = v;
                let _ = parse(&b);
            }
        }
    }

    #[test]
    fn oversized_record_is_rejected() {
        let mut bytes = vec![0x16, 3, 1];
        bytes.extend_from_slice(&((MAX_RECORD + 1) as u16).to_be_bytes());
        let e = parse(&bytes).unwrap_err();
        assert!(e.contains("exceeds"), "{e}");
    }

    #[test]
    fn oversized_message_is_rejected_before_it_arrives() {
        let mut hs = vec![11];
        hs.extend_from_slice(&u24(0xff_ffff));
        let e = parse(&record(0x16, &hs)).unwrap_err();
        assert!(e.contains("exceeds"), "{e}");
    }

    /// A Certificate message split into maximal records after a ServerHello.
    fn big_flight(certs: &[&[u8]]) -> Vec<u8> {
        let mut hs = message(2, &server_hello_body(0x0301, 0x002f, &[]));
        hs.extend(message(11, &certificate_body(certs)));
        hs.chunks(16 * 1024).flat_map(|c| record(0x16, c)).collect()
    }

    #[test]
    fn oversized_certificate_is_rejected() {
        let big = vec![0x30; MAX_CERT + 1];
        let e = parse(&big_flight(&[&big])).unwrap_err();
        assert!(e.contains("exceeds"), "{e}");
        let ok = vec![0x30; MAX_CERT];
        assert_eq!(parse(&big_flight(&[&ok])).map(|h| h.chain.len()), Ok(1));
    }

    #[test]
    fn too_many_certificates_are_rejected() {
        let certs: Vec<&[u8]> = vec![b"x"; MAX_CERTS + 1];
        let e = parse(&big_flight(&certs)).unwrap_err();
        assert!(e.contains("more than"), "{e}");
        assert_eq!(
            parse(&big_flight(&certs[..MAX_CERTS])).map(|h| h.chain.len()),
            Ok(MAX_CERTS)
        );
    }

    #[test]
    fn total_bytes_are_bounded() {
        // Endless warning alerts never finish the handshake.
        let warning = record(0x15, &[1, 112]);
        let mut p = Parser::default();
        let mut result = Ok(Step::More);
        for _ in 0..(MAX_TOTAL / warning.len() + 2) {
            result = p.feed(&warning);
            if result.is_err() {
                break;
            }
        }
        assert!(result.unwrap_err().contains("more than"));
    }

    #[test]
    fn alerts_are_named() {
        let e = parse(&record(0x15, &[2, 70])).unwrap_err();
        assert_eq!(e, "alert protocol_version (70)");
        let e = parse(&record(0x15, &[2, 40])).unwrap_err();
        assert_eq!(e, "alert handshake_failure (40)");
        let e = parse(&record(0x15, &[2, 201])).unwrap_err();
        assert_eq!(e, "alert unknown (201)");
        assert!(parse(&record(0x15, &[2])).is_err());
        // A fatal alert after the ServerHello.
        let mut bytes = record(0x16, &message(2, &server_hello_body(0x0301, 0x002f, &[])));
        bytes.extend(record(0x15, &[2, 80]));
        assert_eq!(parse(&bytes).unwrap_err(), "alert internal_error (80)");
    }

    #[test]
    fn warning_alert_then_hello() {
        let mut bytes = record(0x15, &[1, 112]);
        bytes.extend(split_response());
        assert_eq!(parse(&bytes), Ok(expected()));
    }

    #[test]
    fn not_tls_is_an_error() {
        assert!(parse(b"HTTP/1.1 400 Bad Request\r\n\r\n").is_err());
        assert!(parse(b"220 mail.example ESMTP\r\n").is_err());
        assert!(parse(&record(0x17, b"data")).is_err());
        assert!(parse(&record(0x14, &[1])).is_err());
        assert!(parse(&record(0x16, &[])).is_err());
        let mut bad_version = split_response();
        bad_version[1] = 2;
        assert!(parse(&bad_version).is_err());
    }

    #[test]
    fn out_of_order_messages_are_errors() {
        let cert_first = record(0x16, &message(11, &certificate_body(&[LEAF])));
        assert!(parse(&cert_first).is_err());
        let mut two = record(0x16, &message(2, &server_hello_body(0x0301, 0x002f, &[])));
        two.extend(record(
            0x16,
            &message(2, &server_hello_body(0x0301, 0x002f, &[])),
        ));
        assert!(parse(&two).is_err());
    }

    #[test]
    fn tls13_is_rejected() {
        let direct = record(0x16, &message(2, &server_hello_body(0x0304, 0x1301, &[])));
        assert!(parse(&direct).unwrap_err().contains("TLSv1.3"));
        let ext = [0x00, 0x2b, 0x00, 0x02, 0x03, 0x04];
        let mut sv = record(0x16, &message(2, &server_hello_body(0x0303, 0x1301, &ext)));
        sv.extend(record(0x16, &message(11, &certificate_body(&[LEAF]))));
        assert!(parse(&sv).unwrap_err().contains("TLSv1.3"));
        let sslv2ish = record(0x16, &message(2, &server_hello_body(0x0002, 0x002f, &[])));
        assert!(parse(&sslv2ish).is_err());
    }

    #[test]
    fn hello_done_without_certificate() {
        let mut bytes = record(0x16, &message(2, &server_hello_body(0x0303, 0xc018, &[])));
        bytes.extend(record(0x16, &message(12, b"anonymous ECDH params")));
        bytes.extend(record(0x16, &message(14, &[])));
        let h = parse(&bytes).expect("parses");
        assert!(h.chain.is_empty());
    }

    #[test]
    fn bad_list_lengths_are_errors() {
        // Certificate list length disagrees with the message length.
        let mut body = certificate_body(&[LEAF]);
        body[2] += 1;
        let mut hs = message(2, &server_hello_body(0x0301, 0x002f, &[]));
        hs.extend(message(11, &body));
        assert!(parse(&record(0x16, &hs)).is_err());
        // Zero-length certificate.
        let mut hs = message(2, &server_hello_body(0x0301, 0x002f, &[]));
        hs.extend(message(11, &[0, 0, 3, 0, 0, 0]));
        assert!(parse(&record(0x16, &hs)).is_err());
        // Session id longer than 32.
        let mut sh = server_hello_body(0x0301, 0x002f, &[]);
        sh[34] = 33;
        assert!(parse(&record(0x16, &message(2, &sh))).is_err());
    }

    /// Walk our own ClientHello with the reader.
    fn decode_client_hello(ch: &[u8]) -> (Vec<u16>, Vec<(u16, Vec<u8>)>) {
        let mut r = Reader::new(ch);
        assert_eq!(r.u8(), Some(0x16));
        assert_eq!(r.u16(), Some(0x0301));
        assert_eq!(r.u16().map(usize::from), Some(r.remaining()));
        assert_eq!(r.u8(), Some(1));
        assert_eq!(r.u24(), Some(r.remaining()));
        assert_eq!(r.u16(), Some(0x0303));
        assert_eq!(r.take(32), Some(&[5u8; 32][..]));
        assert_eq!(r.u8(), Some(0));
        let n = usize::from(r.u16().unwrap());
        let mut s = Reader::new(r.take(n).unwrap());
        let mut suites = Vec::new();
        while !s.is_empty() {
            suites.push(s.u16().unwrap());
        }
        assert_eq!(r.take(2), Some(&[1u8, 0][..]));
        assert_eq!(r.u16().map(usize::from), Some(r.remaining()));
        let mut exts = Vec::new();
        while !r.is_empty() {
            let kind = r.u16().unwrap();
            let len = usize::from(r.u16().unwrap());
            exts.push((kind, r.take(len).unwrap().to_vec()));
        }
        (suites, exts)
    }

    #[test]
    fn client_hello_is_well_formed() {
        let (suites, exts) = decode_client_hello(&client_hello(&[5; 32], Some("example.com.")));
        for s in [
            0xc02b, 0xc013, 0x0033, 0x009c, 0x002f, 0x000a, 0x0005, 0x0004,
        ] {
            assert!(suites.contains(&s), "{s:04x}");
        }
        let kinds: Vec<u16> = exts.iter().map(|e| e.0).collect();
        assert_eq!(kinds, [0x0000, 0x000a, 0x000b, 0x000d, 0xff01]);
        let mut sni = b"\x00\x0e\x00\x00\x0b".to_vec();
        sni.extend_from_slice(b"example.com");
        assert_eq!(exts[0].1, sni);
        assert_eq!(exts[1].1, [0, 8, 0, 0x1d, 0, 0x17, 0, 0x18, 0, 0x19]);
        assert_eq!(exts[2].1, [1, 0]);
        let algs = &exts[3].1;
        assert_eq!(
            usize::from(u16::from_be_bytes([algs[0], algs[1]])),
            algs.len() - 2
        );
        for a in [[2u8, 1], [2, 3], [4, 1], [4, 3]] {
            assert!(algs[2..].chunks(2).any(|c| c == a), "{a:?}");
        }
        assert_eq!(exts[4].1, [0]);

        let (_, exts) = decode_client_hello(&client_hello(&[5; 32], None));
        assert!(exts.iter().all(|e| e.0 != 0));
        let (_, exts) = decode_client_hello(&client_hello(&[5; 32], Some("bad name\u{7}")));
        assert!(exts.iter().all(|e| e.0 != 0));
    }
}
