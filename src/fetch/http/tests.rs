use super::body::{BodyKind, Chunked, body_kind};
use super::head::{head_end, parse_head};
use super::progress::fmt_duration;
use super::proxy::no_proxy_matches;
use super::url::remove_dot_segments;
use super::*;
use tokio::io::AsyncReadExt;

fn url(s: &str) -> Url {
    parse_url(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn bad_url(s: &str) -> String {
    match parse_url(s) {
        Err(FetchError::BadUrl(m)) => m,
        other => panic!("{s}: expected BadUrl, got {other:?}"),
    }
}

#[test]
fn parses_http_urls() {
    let u = url("http://ca.example.com/ca.der");
    assert_eq!(
        (u.host.as_str(), u.port, u.target.as_str()),
        ("ca.example.com", 80, "/ca.der")
    );
    assert_eq!(u.authority(), "ca.example.com");
    let u = url("HTTP://CA.Example.COM:8080");
    assert_eq!(
        (u.host.as_str(), u.port, u.target.as_str()),
        ("ca.example.com", 8080, "/")
    );
    assert_eq!(u.to_string(), "http://ca.example.com:8080/");
    let u = url("http://10.0.0.1:80?x=1#frag");
    assert_eq!(
        (u.host.as_str(), u.port, u.target.as_str()),
        ("10.0.0.1", 80, "/?x=1")
    );
    let u = url("http://[2001:DB8::1]:8888/ocsp/MEow?a=b#f");
    assert_eq!(
        (u.host.as_str(), u.port, u.target.as_str()),
        ("2001:db8::1", 8888, "/ocsp/MEow?a=b")
    );
    assert_eq!(u.authority(), "[2001:db8::1]:8888");
    assert_eq!(url("http://[::1]").to_string(), "http://[::1]/");
    assert_eq!(url("http://h:/p").port, 80);
    assert_eq!(url("http://under_score.example/p%20q").target, "/p%20q");
}

#[test]
fn rejects_other_urls() {
    assert!(bad_url("https://ca.example/ca.der").contains("https://ca.example/ca.der"));
    assert!(bad_url("https://ca.example/").contains("only plain http://"));
    for s in [
        "ldap://ldap.example/cn=CA",
        "ftp://x/y",
        "",
        "ca.example/ca.der",
        "/relative",
        "http:ca.example",
        "http://",
        "http:///path",
        "http://:80/",
        "http://user:pw@host/",
        "http://host:0/",
        "http://host:65536/",
        "http://host:+80/",
        "http://host:8x/",
        "http://ho st/",
        "http://host/a b",
        "http://host/\r\nX-Injected: 1",
        "http://hüst/",
        "http://host/ü",
        "http://[::1/",
        "http://[nonsense]/",
        "http://[::1]x/",
        "http://1.2.3.4]/",
        "http://host%41/",
    ] {
        bad_url(s);
    }
    assert!(bad_url(&format!("http://h/{}", "a".repeat(MAX_URL))).contains("longer"));
    // Control characters are shown escaped.
    let m = bad_url("http://host/\u{1b}[31m");
    assert!(m.contains("\\x1b") && !m.contains('\u{1b}'), "{m}");
}

#[test]
fn resolves_redirect_locations() {
    let base = url("http://ca.example:8080/a/b/c.crt?q=1");
    let j = |l: &str| join(&base, l).map(|u| u.to_string());
    assert_eq!(
        j("http://other.example/x").unwrap(),
        "http://other.example/x"
    );
    assert_eq!(
        j("//other.example:81/x").unwrap(),
        "http://other.example:81/x"
    );
    assert_eq!(j("/root.crt").unwrap(), "http://ca.example:8080/root.crt");
    assert_eq!(j("d.crt").unwrap(), "http://ca.example:8080/a/b/d.crt");
    assert_eq!(j("../d.crt#x").unwrap(), "http://ca.example:8080/a/d.crt");
    assert_eq!(
        j("./../../../d.crt").unwrap(),
        "http://ca.example:8080/d.crt"
    );
    assert_eq!(j("?z=2").unwrap(), "http://ca.example:8080/a/b/c.crt?z=2");
    assert_eq!(j("  /spaced  ").unwrap(), "http://ca.example:8080/spaced");
    assert!(matches!(
        j("https://ca.example/x"),
        Err(FetchError::BadUrl(_))
    ));
    assert!(matches!(j("/a b"), Err(FetchError::BadUrl(_))));
    assert!(matches!(j("/\u{7f}"), Err(FetchError::BadUrl(_))));
    assert_eq!(remove_dot_segments("/a/b/.."), "/a/");
    assert_eq!(remove_dot_segments("/a/./b/"), "/a/b/");
    assert_eq!(remove_dot_segments("/"), "/");
    assert_eq!(remove_dot_segments("/../x?../y"), "/x?../y");
}

fn decode(input: &[u8], max: usize) -> Result<(bool, Vec<u8>), FetchError> {
    let mut d = Chunked::new(max);
    let mut out = Vec::new();
    let done = d.feed(input, &mut out)?;
    Ok((done, out))
}

fn decode_bytewise(input: &[u8], max: usize) -> Result<(bool, Vec<u8>), FetchError> {
    let mut d = Chunked::new(max);
    let mut out = Vec::new();
    let mut done = false;
    for b in input {
        done = d.feed(std::slice::from_ref(b), &mut out)?;
    }
    Ok((done, out))
}

#[test]
fn decodes_chunked_bodies() {
    let cases: &[(&[u8], &[u8])] = &[
        (b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", b"hello world"),
        (b"0\r\n\r\n", b""),
        (
            b"A;name=value\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n",
            b"0123456789",
        ),
        (b"3 ; ext\r\nabc\r\n00\r\n\r\n", b"abc"),
        (b"3\nabc\n0\n\n", b"abc"),
        (b"00000001\r\n\x00\r\n0\r\n\r\n", b"\x00"),
        (b"2\r\n\r\n\r\n0\r\n\r\n", b"\r\n"),
    ];
    for (input, want) in cases {
        for result in [decode(input, 1 << 20), decode_bytewise(input, 1 << 20)] {
            let (done, out) = result.unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert!(done, "{input:?}");
            assert_eq!(&out, want, "{input:?}");
        }
    }
    // Bytes after the end are ignored; incomplete input is not done.
    assert_eq!(
        decode(b"1\r\nx\r\n0\r\n\r\nGARBAGE", 10).unwrap(),
        (true, b"x".to_vec())
    );
    assert_eq!(decode(b"5\r\nhel", 10).unwrap(), (false, b"hel".to_vec()));
    assert_eq!(
        decode(b"0\r\nTrailer: x\r\n", 10).unwrap(),
        (false, Vec::new())
    );
    // Exactly the cap is fine.
    assert!(decode(b"4\r\nabcd\r\n0\r\n\r\n", 4).unwrap().0);
}

#[test]
fn rejects_malformed_chunked_bodies() {
    for input in [
        &b"\r\n"[..],
        b"x\r\n",
        b";ext\r\n",
        b"-1\r\n",
        b"+1\r\n",
        b"0x10\r\n",
        b"5\rhello",
        b"5\r\nhelloXX",
        b"5\r\nhello\r\r",
        b"0\r\nTrailer\rX",
        b"1 2 3\r\nx\r\r",
    ] {
        for result in [decode(input, 1 << 20), decode_bytewise(input, 1 << 20)] {
            match result {
                Err(FetchError::Io(m)) => assert!(m.contains("chunked"), "{m}"),
                other => panic!("{input:?}: {other:?}"),
            }
        }
    }
    let long_line = [b"1;".as_slice(), &vec![b'a'; MAX_CHUNK_LINE]].concat();
    assert!(matches!(decode(&long_line, 100), Err(FetchError::Io(_))));
    let long_trailers = [b"0\r\n".as_slice(), &vec![b'a'; MAX_TRAILERS + 1]].concat();
    assert!(matches!(
        decode(&long_trailers, 100),
        Err(FetchError::Io(_))
    ));
    let many_zeros = [&vec![b'0'; MAX_CHUNK_LINE + 1][..], b"1\r\n"].concat();
    assert!(matches!(decode(&many_zeros, 100), Err(FetchError::Io(_))));
}

#[test]
fn bounds_chunk_sizes() {
    // Announced sizes over the cap fail before any data arrives.
    assert_eq!(decode(b"5\r\n", 4), Err(FetchError::TooLarge(4)));
    assert_eq!(
        decode(b"3\r\nabc\r\n2\r\n", 4),
        Err(FetchError::TooLarge(4))
    );
    assert_eq!(
        decode(b"ffffffffffffffffffff\r\n", usize::MAX),
        Err(FetchError::TooLarge(usize::MAX))
    );
    assert_eq!(
        decode(b"10000000000000000\r\n", usize::MAX),
        Err(FetchError::TooLarge(usize::MAX))
    );
}

#[test]
fn parses_heads() {
    let h = parse_head(b"HTTP/1.1 200 OK\r\nContent-Length:  12 \r\nX-Odd\r\n folded\r\nTransfer-Encoding: chunked\r\n\r\n")
            .unwrap();
    assert_eq!((h.code, h.reason.as_str()), (200, "OK"));
    assert_eq!(h.first("content-length"), Some("12"));
    assert_eq!(body_kind(&h), Ok(BodyKind::Chunked));
    let h = parse_head(b"HTTP/1.0 404 Not \x1b[31mFound\n\n").unwrap();
    assert_eq!((h.code, h.reason.as_str()), (404, "Not \\x1b[31mFound"));
    assert_eq!(parse_head(b"HTTP/1.1 204\r\n\r\n").unwrap().code, 204);
    for bad in [
        &b""[..],
        b"HTTP/2 200 OK",
        b"HTTP/1.1 20 OK",
        b"HTTP/1.1 2000 OK",
        b"HTTP/1.1 099 X",
        b"SSH-2.0-x",
        b"HTTP/1.x 200 OK",
        b"\xff\xfe",
    ] {
        assert!(matches!(parse_head(bad), Err(FetchError::Io(_))), "{bad:?}");
    }
    assert_eq!(head_end(b"HTTP/1.1 200 OK\r\n\r\nbody", 0), Some(19));
    assert_eq!(head_end(b"HTTP/1.1 200 OK\n\nbody", 0), Some(17));
    assert_eq!(head_end(b"HTTP/1.1 200 OK\r\n\r", 0), None);
}

fn kind(head: &str) -> Result<BodyKind, FetchError> {
    body_kind(&parse_head(head.as_bytes()).unwrap())
}

#[test]
fn chooses_the_body_framing() {
    assert_eq!(
        kind("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"),
        Ok(BodyKind::Length(5))
    );
    assert_eq!(
        kind("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n"),
        Ok(BodyKind::Length(5))
    );
    assert_eq!(kind("HTTP/1.1 200 OK\r\n\r\n"), Ok(BodyKind::ToEof));
    assert_eq!(
        kind("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"),
        Ok(BodyKind::Empty)
    );
    assert_eq!(
        kind("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: Chunked\r\n\r\n"),
        Ok(BodyKind::Chunked)
    );
    assert_eq!(
        kind("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n"),
        Ok(BodyKind::ToEof)
    );
    assert_eq!(
        kind("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
        Ok(BodyKind::Length(u64::MAX))
    );
    for bad in [
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    ] {
        assert!(matches!(kind(bad), Err(FetchError::Io(_))), "{bad}");
    }
}

#[test]
fn builds_requests() {
    let u = url("http://ca.example:8080/x?y");
    let get = String::from_utf8(build_request(&u, Method::Get, false)).unwrap();
    assert_eq!(
        get,
        format!(
            "GET /x?y HTTP/1.1\r\nHost: ca.example:8080\r\nUser-Agent: certscope/{}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        )
    );
    let post = Method::Post {
        content_type: "application/ocsp-request",
        body: b"\x30\x03abc",
    };
    let req = build_request(&u, post, true);
    let text = String::from_utf8_lossy(&req);
    assert!(
        text.starts_with("POST http://ca.example:8080/x?y HTTP/1.1\r\n"),
        "{text}"
    );
    assert!(
        text.contains("\r\nContent-Type: application/ocsp-request\r\nContent-Length: 5\r\n\r\n")
    );
    assert!(req.ends_with(b"\r\n\r\n\x30\x03abc"));
}

#[test]
fn picks_the_proxy() {
    let env = |p: Option<&str>, np: Option<&str>| ProxyEnv {
        http_proxy: p.map(String::from),
        no_proxy: np.map(String::from),
    };
    let target = url("http://ca.example.com/ca.der");
    assert_eq!(env(None, None).proxy_for(&target), Ok(None));
    let via = env(Some("proxy.corp:3128"), None)
        .proxy_for(&target)
        .unwrap()
        .unwrap();
    assert_eq!((via.host.as_str(), via.port), ("proxy.corp", 3128));
    let via = env(Some("http://proxy.corp/"), Some("other.com"))
        .proxy_for(&target)
        .unwrap()
        .unwrap();
    assert_eq!((via.host.as_str(), via.port), ("proxy.corp", 80));
    for np in [
        "*",
        "example.com",
        ".example.com",
        "*.example.com",
        " x , CA.EXAMPLE.COM ",
        "ca.example.com",
    ] {
        assert_eq!(
            env(Some("proxy:1"), Some(np)).proxy_for(&target),
            Ok(None),
            "{np}"
        );
    }
    for np in ["le.com", "ca.example.com.evil", "", ",", "."] {
        assert!(
            env(Some("proxy:1"), Some(np))
                .proxy_for(&target)
                .unwrap()
                .is_some(),
            "{np}"
        );
    }
    for local in [
        "http://127.0.0.1:9/",
        "http://[::1]/",
        "http://localhost/",
        "http://a.localhost/",
    ] {
        assert_eq!(
            env(Some("proxy:1"), None).proxy_for(&url(local)),
            Ok(None),
            "{local}"
        );
    }
    assert!(no_proxy_matches("[2001:db8::1]", "2001:db8::1"));
    match env(Some("https://user:secret@proxy:1"), None).proxy_for(&target) {
        Err(FetchError::BadUrl(m)) => assert!(!m.contains("secret"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn describes_timeouts() {
    assert_eq!(fmt_duration(Duration::from_secs(2)), "2s");
    assert_eq!(fmt_duration(Duration::from_millis(1500)), "1.5s");
    assert_eq!(fmt_duration(Duration::from_millis(1250)), "1.25s");
    assert_eq!(fmt_duration(Duration::from_millis(250)), "250ms");
    let mut p = Progress::new(&url("http://a.example/x"));
    p.at(&url("http://b.example/y"), 2);
    p.stage = Stage::Body;
    p.got = 1_048_576;
    assert_eq!(
        p.describe(Duration::from_secs(2)),
        "no complete response from http://b.example/y within 2s (got 1048576 bytes), after 2 redirects from http://a.example/x"
    );
}

#[tokio::test]
async fn goes_through_an_http_proxy() {
    use tokio::net::TcpListener;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut req = Vec::new();
        let mut buf = [0u8; 1024];
        while head_end(&req, 0).is_none() {
            let n = s.read(&mut buf).await.unwrap();
            assert!(n > 0);
            req.extend_from_slice(&buf[..n]);
        }
        let req = String::from_utf8(req).unwrap();
        let ok = req.starts_with("GET http://ca.invalid:8080/ca.der HTTP/1.1\r\n")
            && req.contains("\r\nHost: ca.invalid:8080\r\n");
        let reply: &[u8] = if ok {
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n\x30\x01\x00"
        } else {
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
        };
        s.write_all(reply).await.unwrap();
    });
    let env = ProxyEnv {
        http_proxy: Some(format!("http://127.0.0.1:{port}")),
        no_proxy: None,
    };
    let limits = Limits {
        timeout: Duration::from_secs(5),
        max_bytes: 1024,
    };
    let got = tokio::time::timeout(
        Duration::from_secs(10),
        fetch("http://ca.invalid:8080/ca.der", Method::Get, &limits, &env),
    )
    .await
    .expect("bounded");
    server.abort();
    assert_eq!(got, Ok(vec![0x30, 0x01, 0x00]));
}
