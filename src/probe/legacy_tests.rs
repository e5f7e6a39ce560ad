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
