//! Rendering tests: whole frames on a `TestBackend` at a fixed clock, at
//! 80x24 and 160x45, asserted row by row. Reports come from the real engine
//! over certificates made in-process with rcgen.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;
use rcgen::DnType;

use super::*;
use crate::diagnose::{DiagnoseOptions, diagnose};
use crate::report::Report;
use crate::report::finding::Status;
use crate::report::observation::{ConnCode, ConnFailure, Observation, Timings};
use crate::target::Target;
use crate::testkit::{DAY, T0, TestPki as Pki, observation};
use crate::tui::keys::BINDINGS;
use crate::tui::model::{CopyItem, Detail, Focus, HostState, Message, MessageKind, Model, Overlay};

/// The fixed "now" of every test.
const NOW: i64 = T0 + DAY;

// ---------------------------------------------------------------------------
// A small PKI and the engine.
// ---------------------------------------------------------------------------

fn pki() -> Pki {
    Pki::new()
}

/// Leaf for `name` (SAN and CN unless `cn` is given) valid from `nb` to
/// `na`, sent with the intermediate.
fn leaf(pki: &Pki, name: &str, cn: Option<&str>, nb: i64, na: i64) -> Vec<Vec<u8>> {
    pki.chain(&[name], nb, na, |p| {
        if let Some(cn) = cn {
            p.distinguished_name.push(DnType::CommonName, cn);
        }
    })
}

fn target(name: &str) -> Target {
    Target::parse(&format!("{name}:443"), 443).expect("target")
}

fn observe(name: &str, chain: Vec<Vec<u8>>, error: Option<ConnFailure>) -> Observation {
    Observation {
        address: None,
        tls: None,
        error,
        timings: Timings::default(),
        ..observation(&format!("{name}:443"), chain, NOW)
    }
}

fn judge(pki: &Pki, obs: &Observation) -> Report {
    diagnose(obs, &pki.trust(), NOW, &DiagnoseOptions::default())
}

fn report(pki: &Pki, name: &str, cn: Option<&str>, nb: i64, na: i64) -> Report {
    judge(pki, &observe(name, leaf(pki, name, cn, nb, na), None))
}

fn refused(pki: &Pki, name: &str) -> Report {
    let err = ConnFailure {
        code: ConnCode::Unreachable,
        step: "connect",
        message: "connection refused".to_string(),
        alert: None,
        peer_said: None,
        local: false,
    };
    judge(pki, &observe(name, Vec::new(), Some(err)))
}

// ---------------------------------------------------------------------------
// Models and frames.
// ---------------------------------------------------------------------------

fn model_with(hosts: Vec<(&str, HostState)>) -> Model {
    let mut m = Model::new(hosts.iter().map(|(n, _)| target(n)).collect(), NOW);
    for (h, (_, state)) in m.hosts.iter_mut().zip(hosts) {
        h.state = state;
    }
    m.now_ms = 1_234;
    m.refresh_view();
    m
}

/// One of each kind of row.
fn mixed(pki: &Pki) -> Model {
    model_with(vec![
        (
            "ok.test",
            HostState::Done(Box::new(report(
                pki,
                "ok.test",
                None,
                T0 - 10 * DAY,
                T0 + 80 * DAY,
            ))),
        ),
        (
            "expired.test",
            HostState::Done(Box::new(report(
                pki,
                "expired.test",
                None,
                T0 - 90 * DAY,
                T0 - 2 * DAY,
            ))),
        ),
        (
            "soon.test",
            HostState::Done(Box::new(report(
                pki,
                "soon.test",
                None,
                T0 - 80 * DAY,
                T0 + 9 * DAY,
            ))),
        ),
        ("queued.test", HostState::Queued),
        ("conn.test", HostState::Connecting { since_ms: 1_000 }),
        (
            "down.test",
            HostState::Done(Box::new(refused(pki, "down.test"))),
        ),
        (
            "broken.test",
            HostState::Failed("the probe task stopped: boom".to_string()),
        ),
    ])
}

fn select(m: &mut Model, name: &str) {
    m.selected = m
        .view
        .iter()
        .position(|&i| m.hosts[i].target.host_port().starts_with(name))
        .expect("host in view");
}

fn draw(model: &Model, w: u16, h: u16) -> Buffer {
    let mut m = model.clone();
    m.size = (w, h);
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    term.draw(|f| render(f, &m)).expect("draw");
    term.backend().buffer().clone()
}

fn rows(buf: &Buffer) -> Vec<String> {
    let a = buf.area;
    (a.y..a.bottom())
        .map(|y| (a.x..a.right()).map(|x| buf[(x, y)].symbol()).collect())
        .collect()
}

fn screen(buf: &Buffer) -> String {
    rows(buf).join("\n")
}

fn has(rows: &[String], needle: &str) -> bool {
    rows.iter().any(|r| r.contains(needle))
}

#[track_caller]
fn assert_has(buf: &Buffer, needle: &str) {
    assert!(
        has(&rows(buf), needle),
        "{needle:?} not on screen:\n{}",
        screen(buf)
    );
}

/// The row that contains `needle`, trimmed at the end.
#[track_caller]
fn row_with(buf: &Buffer, needle: &str) -> String {
    rows(buf)
        .into_iter()
        .find(|r| r.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not on screen:\n{}", screen(buf)))
        .trim_end()
        .to_string()
}

// ---------------------------------------------------------------------------
// (1) The three panes on a mixed set of hosts.
// ---------------------------------------------------------------------------

#[test]
fn panes_on_mixed_hosts_80x24() {
    let pki = pki();
    let mut m = mixed(&pki);
    select(&mut m, "expired.test");
    let buf = draw(&m, 80, 24);
    let r = rows(&buf);
    // Host list on top under the one-line fleet header, sorted worst
    // first, every state in its row (the last, queued, is one scroll away).
    let spin = spinner(1_234);
    let want = [
        "┏ Hosts (7) · sort: severity ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓",
        "┃✓1 !1 ✗1 ?2 …2 · expired █████ 1  <7d  0  <30d █████ 1  later █████ 1         ┃",
        "┃? error broken.test:443      — the probe task stopped: boom                   ┃",
        "┃? error down.test:443        — Cannot connect                                 ┃",
        "┃✗ crit  expired.test:443   -3d Certificate expired 3 days ago                 ┃",
        "┃! warn  soon.test:443       8d Certificate expires in 8 days                  ┃",
        "┃✓ ok    ok.test:443        79d                                                ┃",
        &format!(
            "┃{spin}       conn.test:443          connecting                                     ┃"
        ),
        "┗━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┛",
    ];
    for (y, w) in want.iter().enumerate() {
        assert_eq!(&r[y], w, "row {y}");
    }
    // Chain tree below: leaf blamed, intermediate, then the store anchor.
    assert!(r[9].starts_with("┌ Chain (3) "), "{}", r[9]);
    assert_eq!(
        r[10].trim_end(),
        "│✗ expired.test          2025-10-03 → 2025-12-30  server                       │"
    );
    assert!(r[11].starts_with("│  └─ Test Intermediate  "), "{}", r[11]);
    assert!(r[11].contains("  server"), "{}", r[11]);
    assert!(r[12].starts_with("│    └─ Test Root        "), "{}", r[12]);
    assert!(r[12].contains("  trust store"), "{}", r[12]);
    // Diagnosis at the bottom: the root cause and its first lines.
    assert!(
        r[14].starts_with("┌ Diagnosis · expired.test:443 "),
        "{}",
        r[14]
    );
    assert_eq!(
        r[15].trim_end(),
        "│✗ CRITICAL Certificate expired 3 days ago                                     │"
    );
    assert!(
        r[16].starts_with("│  expired · on the leaf, expired.test"),
        "{}",
        r[16]
    );
    // The status bar: hints only, dropped from the end to fit 80 columns.
    assert_eq!(
        r[23].trim_end(),
        "Tab pane  Enter open  / filter  r re-probe  a add  c copy  s save  ? help"
    );
}

#[test]
fn panes_on_mixed_hosts_160x45() {
    let pki = pki();
    let mut m = mixed(&pki);
    select(&mut m, "expired.test");
    m.focus = Focus::Diagnosis;
    let buf = draw(&m, 160, 45);
    let r = rows(&buf);
    // Host list left (40%), tree top-right, diagnosis bottom-right.
    assert!(
        r[0].starts_with("┌ Hosts (7) · sort: severity "),
        "{}",
        r[0]
    );
    assert_eq!(r[0].chars().nth(64), Some('┌'), "{}", r[0]);
    assert!(r[0][r[0].char_indices().nth(64).unwrap().0..].starts_with("┌ Chain (3) "));
    let right = |y: usize| -> String { r[y].chars().skip(64).collect::<String>() };
    assert!(right(1).starts_with("│✗ expired.test "), "{}", right(1));
    assert!(right(3).contains("Test Root") && right(3).contains("trust store"));
    assert!(
        right(5).starts_with("┏ Diagnosis · expired.test:443 ━"),
        "{}",
        right(5)
    );
    let t = screen(&buf);
    for needle in [
        "✗ CRITICAL Certificate expired",
        "Chrome:       NET::ERR_CERT_DATE_INVALID",
        "Firefox:      SEC_ERROR_EXPIRED_CERTIFICATE",
        "curl/OpenSSL: certificate has expired",
        "Fix:",
        "  1. ",
        "▶ $ ",
    ] {
        assert!(t.contains(needle), "{needle:?} missing:\n{t}");
    }
    // The highlighted command is the selected one.
    let cmd = m.selected_fix_command().expect("a fix command");
    let first: String = cmd.chars().take(40).collect();
    assert!(
        row_with(&buf, "▶ $ ").contains(&first),
        "{}",
        row_with(&buf, "▶ $ ")
    );
    // All seven rows fit, and the pending rows say what they are doing.
    for needle in [
        "✓ ok",
        "! warn",
        "✗ crit",
        "? error",
        "queued",
        "connecting",
    ] {
        assert_has(&buf, needle);
    }
}

#[test]
fn tree_focus_shows_the_findings_of_the_selected_certificate() {
    let pki = pki();
    let mut m = mixed(&pki);
    select(&mut m, "expired.test");
    m.focus = Focus::Tree;
    m.tree_selected = 1;
    let buf = draw(&m, 160, 45);
    assert_has(&buf, "Diagnosis · certificate Test Intermediate");
    assert_has(&buf, "✓ No finding blames Test Intermediate.");
    // The selected row is reversed, and its text is there.
    let y = rows(&buf)
        .iter()
        .position(|r| r.contains("└─ Test Intermediate"))
        .unwrap();
    assert!(
        buf[(66, y as u16)]
            .modifier
            .contains(ratatui::style::Modifier::REVERSED)
    );
    m.tree_selected = 0;
    let buf = draw(&m, 160, 45);
    assert_has(&buf, "✗ CRITICAL Certificate expired");
}

#[test]
fn collapsed_tree_shows_the_leaf_and_a_count() {
    let pki = pki();
    let mut m = mixed(&pki);
    select(&mut m, "ok.test");
    m.tree_collapsed = true;
    let buf = draw(&m, 80, 24);
    assert_has(&buf, "┌ Chain (collapsed) ");
    assert_has(&buf, "│  ok.test ");
    assert_has(&buf, "(+2 more)");
    assert!(!has(&rows(&buf), "Test Intermediate"));
    // Nothing wrong: the diagnosis says so.
    assert_has(&buf, "✓ No problems found");
}

// ---------------------------------------------------------------------------
// (2) The detail view.
// ---------------------------------------------------------------------------

#[test]
fn detail_view_of_a_leaf() {
    let pki = pki();
    let mut m = mixed(&pki);
    select(&mut m, "ok.test");
    m.detail = Some(Detail { cert: 0, scroll: 0 });
    let leaf = m.selected_report().unwrap().chain[0].info.clone();
    for (w, h) in [(80, 24), (160, 45)] {
        m.size = (w, h);
        let buf = draw(&m, w, h);
        let r = rows(&buf);
        assert!(r[0].starts_with("┏ Certificate #0 · ok.test ━"), "{}", r[0]);
        assert_has(&buf, "Subject:      CN=ok.test");
        assert_has(&buf, "Issuer:       CN=Test Intermediate");
        assert_has(&buf, "Not after:    2026-03-22T00:00:00Z");
        assert_has(&buf, "Days left:    79 days left");
        assert_has(&buf, "SANs:         DNS:ok.test");
        // Scrolled to the end: the fingerprints and the whole PEM.
        m.detail = Some(Detail {
            cert: 0,
            scroll: detail_max_scroll(&m),
        });
        let buf = draw(&m, w, h);
        assert_has(&buf, "-----END CERTIFICATE-----");
        if h >= 45 {
            assert_has(&buf, "-----BEGIN CERTIFICATE-----");
            assert_has(&buf, &format!("SHA-256:      {}", leaf.sha256));
            assert_has(&buf, &format!("SPKI SHA-256: {}", leaf.spki_sha256));
            assert_has(&buf, &format!("SHA-1:        {}", leaf.sha1));
        }
        // Scrolling past the end is clamped, not blank.
        m.detail = Some(Detail {
            cert: 0,
            scroll: u16::MAX,
        });
        assert_eq!(rows(&draw(&m, w, h)), rows(&buf));
        m.detail = Some(Detail { cert: 0, scroll: 0 });
    }
    // At 80 columns the SHA-256 wraps under its value; joined it is whole.
    let lines = detail_lines(m.selected_report().unwrap(), 0, NOW);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("-----BEGIN CERTIFICATE-----"))
    );
    let sha = lines.iter().position(|l| l.contains("SHA-256:")).unwrap();
    assert!(lines[sha].ends_with(&leaf.sha256));
    let begin = lines
        .iter()
        .position(|l| l.contains("BEGIN CERTIFICATE"))
        .unwrap();
    m.size = (80, 24);
    m.detail = Some(Detail {
        cert: 0,
        scroll: u16::try_from(begin).unwrap() - 1,
    });
    let buf = draw(&m, 80, 24);
    let r = rows(&buf);
    assert!(
        r.iter().any(|l| l.contains("-----BEGIN CERTIFICATE-----")),
        "{}",
        screen(&buf)
    );
    // Every extension is listed with its criticality.
    let all = lines.join("\n");
    for e in &leaf.extensions {
        assert!(all.contains(&e.name), "{} missing", e.name);
    }
    assert!(all.contains("critical"));
}

// ---------------------------------------------------------------------------
// (3) Help.
// ---------------------------------------------------------------------------

#[test]
fn help_lists_every_binding() {
    let pki = pki();
    let mut m = mixed(&pki);
    m.overlay = Overlay::Help;
    let buf = draw(&m, 160, 45);
    for b in BINDINGS {
        let row = row_with(&buf, b.description);
        let keys = crate::tui::keys::keys_label(b);
        assert!(
            row.contains(&keys),
            "{keys} not beside {:?}: {row}",
            b.description
        );
    }
    assert_has(&buf, "Everywhere");
    assert_has(&buf, "In the panes");
    assert_has(&buf, "✓ ok   ! warning   ✗ critical   ? error");
    // At 80x24 every binding still gets its row (descriptions may be cut).
    let buf = draw(&m, 80, 24);
    for b in BINDINGS {
        let start: String = b.description.chars().take(20).collect();
        assert_has(&buf, &start);
    }
}

// ---------------------------------------------------------------------------
// (4) Failed hosts.
// ---------------------------------------------------------------------------

#[test]
fn connection_error_report_shows_the_connection_finding() {
    let pki = pki();
    let mut m = mixed(&pki);
    select(&mut m, "down.test");
    let r = m.selected_report().unwrap();
    assert_eq!(r.status, Status::Error);
    let title = r.findings[0].title.clone();
    for (w, h) in [(80, 24), (160, 45)] {
        let buf = draw(&m, w, h);
        assert_has(&buf, &format!("✗ CRITICAL {title}"));
        assert_has(&buf, "unreachable · on the connection");
        assert_has(&buf, "connection refused (step: connect).");
        assert_has(&buf, "No certificate was received");
    }
}

#[test]
fn failed_probe_shows_its_error() {
    let pki = pki();
    let mut m = mixed(&pki);
    select(&mut m, "broken.test");
    let buf = draw(&m, 80, 24);
    assert_has(&buf, "? The probe of broken.test:443 failed.");
    assert_has(&buf, "  the probe task stopped: boom");
    assert_has(&buf, "Press r to try again.");
    assert_has(&buf, "? No chain: the probe failed");
}

// ---------------------------------------------------------------------------
// (5) Escape sequences from certificates.
// ---------------------------------------------------------------------------

#[test]
fn escape_sequences_in_a_subject_are_harmless() {
    let pki = pki();
    let evil = report(
        &pki,
        "evil.test",
        Some("\u{1b}[31mred\u{1b}[0m"),
        T0 - DAY,
        T0 + 60 * DAY,
    );
    let mut m = model_with(vec![("evil.test", HostState::Done(Box::new(evil)))]);
    m.focus = Focus::Tree;
    for (w, h) in [(80, 24), (160, 45)] {
        let buf = draw(&m, w, h);
        assert!(!screen(&buf).contains('\u{1b}'), "{}", screen(&buf));
        assert!(
            buf.content
                .iter()
                .all(|c| !c.symbol().chars().any(char::is_control))
        );
        assert_has(&buf, r"\x1b[31mred\x1b[0m");
    }
    m.detail = Some(Detail { cert: 0, scroll: 0 });
    let buf = draw(&m, 160, 45);
    assert!(!screen(&buf).contains('\u{1b}'));
    assert_has(&buf, r"Subject:      CN=\x1b[31mred\x1b[0m");
    // A message with raw control characters, too.
    m.detail = None;
    m.message = Some(Message {
        text: "bad\u{1b}]52;c;x\u{7}".to_string(),
        kind: MessageKind::Error,
    });
    let buf = draw(&m, 80, 24);
    assert!(!screen(&buf).contains('\u{1b}') && !screen(&buf).contains('\u{7}'));
    assert_has(&buf, "✗ bad?]52;c;x?");
}

// ---------------------------------------------------------------------------
// (6) NO_COLOR.
// ---------------------------------------------------------------------------

#[test]
fn no_color_uses_no_color_and_keeps_the_symbols() {
    let pki = pki();
    let mut m = mixed(&pki);
    m.color = false;
    select(&mut m, "expired.test");
    for focus in Focus::ORDER {
        m.focus = focus;
        for (w, h) in [(80, 24), (160, 45)] {
            let buf = draw(&m, w, h);
            for c in &buf.content {
                assert_eq!((c.fg, c.bg), (Color::Reset, Color::Reset), "{:?}", c);
            }
            for sym in ["✓ ok", "! warn", "✗ crit", "? error"] {
                assert_has(&buf, sym);
            }
        }
    }
    // Overlays and the detail view too.
    m.overlay = Overlay::Help;
    let overlays = [
        Overlay::Help,
        Overlay::CopyMenu {
            items: vec![CopyItem {
                label: "x".into(),
                text: "y".into(),
            }],
            selected: 0,
        },
        Overlay::AddHost {
            input: "a".into(),
            error: Some("bad".into()),
        },
    ];
    for o in overlays {
        m.overlay = o;
        let buf = draw(&m, 80, 24);
        assert!(
            buf.content
                .iter()
                .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
        );
    }
    m.overlay = Overlay::None;
    m.detail = Some(Detail { cert: 0, scroll: 0 });
    let buf = draw(&m, 80, 24);
    assert!(
        buf.content
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
    );
    // With color on, the same frame does use color.
    m.color = true;
    m.detail = None;
    let buf = draw(&m, 80, 24);
    assert!(buf.content.iter().any(|c| c.fg != Color::Reset));
}

// ---------------------------------------------------------------------------
// (7) The copy menu.
// ---------------------------------------------------------------------------

/// The text rows of the copy popup (below its separator), inner part only.
fn copy_text_rows(buf: &Buffer) -> Vec<String> {
    let r = rows(buf);
    let top = r.iter().position(|l| l.contains("┏ Copy ")).expect("popup");
    let chars: Vec<Vec<char>> = r.iter().map(|l| l.chars().collect()).collect();
    let left = chars[top].iter().position(|&c| c == '┏').unwrap();
    let right = chars[top].iter().rposition(|&c| c == '┓').unwrap();
    let inner = |y: usize| -> String { chars[y][left + 1..right].iter().collect() };
    let sep = (top + 1..r.len())
        .find(|&y| inner(y).chars().all(|c| c == '─'))
        .expect("separator");
    let bottom = (sep..r.len())
        .find(|&y| chars[y][left] == '┗')
        .expect("bottom");
    (sep + 1..bottom).map(inner).collect()
}

fn rebuild(text_rows: &[String]) -> String {
    // Full rows are exactly as wide as the area; only the last is padded.
    let n = text_rows.len();
    let mut s: String = text_rows[..n - 1].concat();
    s.push_str(text_rows[n - 1].trim_end());
    s
}

#[test]
fn copy_menu_shows_the_whole_selected_text() {
    let pki = pki();
    let mut m = mixed(&pki);
    select(&mut m, "expired.test");
    let long = format!(
        "openssl s_client -connect {}:443 -servername {} -verify_hostname {} -verify_return_error -brief </dev/null  # {}",
        "a-very-long-host-name.with.many.labels.example.test",
        "a-very-long-host-name.with.many.labels.example.test",
        "a-very-long-host-name.with.many.labels.example.test",
        "x".repeat(120)
    );
    let items = vec![
        CopyItem {
            label: "Fix command".into(),
            text: "certbot renew".into(),
        },
        CopyItem {
            label: "Reproduce with openssl".into(),
            text: long.clone(),
        },
        CopyItem {
            label: "PEM chain".into(),
            text: "-----BEGIN CERTIFICATE-----".into(),
        },
    ];
    m.overlay = Overlay::CopyMenu { items, selected: 1 };
    for (w, h) in [(80, 24), (160, 45)] {
        let buf = draw(&m, w, h);
        let text = copy_text_rows(&buf);
        assert!(text.len() > 2, "wrapped over several rows");
        assert!(text.iter().all(|l| !l.starts_with(' ')), "no indentation");
        assert_eq!(rebuild(&text), long, "at {w}x{h}");
        assert!(!text.concat().contains('…'));
        let sel = row_with(&buf, "Reproduce with openssl");
        assert!(sel.contains("▶ Reproduce with openssl"), "{sel}");
        let y = rows(&buf)
            .iter()
            .position(|r| r.contains("▶ Reproduce"))
            .unwrap();
        let x = rows(&buf)[y].chars().position(|c| c == '▶').unwrap();
        assert!(
            buf[(x as u16, y as u16)]
                .modifier
                .contains(ratatui::style::Modifier::REVERSED)
        );
        assert!(row_with(&buf, "  Fix command").contains("┃  Fix command"));
    }
}

// ---------------------------------------------------------------------------
// Prompts, filter, status bar, layout.
// ---------------------------------------------------------------------------

#[test]
fn prompts_show_input_and_error() {
    let pki = pki();
    let mut m = mixed(&pki);
    m.overlay = Overlay::AddHost {
        input: "bad host".into(),
        error: Some("invalid target \"bad host\"".into()),
    };
    let buf = draw(&m, 80, 24);
    assert_has(&buf, " Add host ");
    assert_has(&buf, "> bad host");
    assert_has(&buf, "✗ invalid target \"bad host\"");
    let y = rows(&buf)
        .iter()
        .position(|r| r.contains("✗ invalid"))
        .unwrap();
    let x = rows(&buf)[y].chars().position(|c| c == '✗').unwrap();
    assert_eq!(buf[(x as u16, y as u16)].fg, Color::Red);
    m.overlay = Overlay::SaveChain {
        input: "x".repeat(200),
        error: None,
    };
    let buf = draw(&m, 80, 24);
    assert_has(&buf, " Save chain ");
    assert_has(&buf, "> …xxxx");
}

#[test]
fn filter_prompt_and_title() {
    let pki = pki();
    let mut m = mixed(&pki);
    m.filter = "exp".into();
    m.filter_editing = true;
    m.refresh_view();
    let buf = draw(&m, 80, 24);
    let r = rows(&buf);
    assert!(
        r[0].starts_with("┏ Hosts (2/7) · sort: severity · filter: exp ━"),
        "{}",
        r[0]
    );
    assert!(
        r[23].starts_with("/exp   Enter done  Esc back"),
        "{}",
        r[23]
    );
    m.filter_editing = false;
    m.sort = m.sort.next();
    m.message = Some(Message {
        text: "copied".into(),
        kind: MessageKind::Info,
    });
    let buf = draw(&m, 80, 24);
    let r = rows(&buf);
    assert!(r[0].contains("sort: name · filter: exp"), "{}", r[0]);
    assert!(r[23].starts_with("i copied  Tab pane"), "{}", r[23]);
}

#[test]
fn hints_drop_from_the_end() {
    let pki = pki();
    let m = mixed(&pki);
    let wide = rows(&draw(&m, 160, 45))[44].trim_end().to_string();
    assert!(wide.ends_with("q quit"), "{wide}");
    let narrow = rows(&draw(&m, 60, 24))[23].trim_end().to_string();
    assert!(
        !narrow.contains("quit") && narrow.starts_with("Tab pane"),
        "{narrow}"
    );
    let mut m = m;
    m.detail = Some(Detail { cert: 0, scroll: 0 });
    let detail = rows(&draw(&m, 160, 45))[44].trim_end().to_string();
    assert!(
        detail.starts_with("Esc back  j/k scroll") && !detail.contains("re-probe"),
        "{detail}"
    );
}

#[test]
fn layout_stacks_narrow_and_splits_wide() {
    let pki = pki();
    let mut m = mixed(&pki);
    select(&mut m, "expired.test");
    let p = layout(Rect::new(0, 0, 80, 24), &m);
    assert_eq!(p.hosts, Rect::new(0, 0, 80, 9));
    assert_eq!(p.tree, Rect::new(0, 9, 80, 5));
    assert_eq!(p.diagnosis, Rect::new(0, 14, 80, 9));
    assert_eq!(p.status, Rect::new(0, 23, 80, 1));
    let p = layout(Rect::new(0, 0, 160, 45), &m);
    assert_eq!(p.hosts, Rect::new(0, 0, 64, 44));
    assert_eq!(p.tree, Rect::new(64, 0, 96, 5));
    assert_eq!(p.diagnosis, Rect::new(64, 5, 96, 39));
    assert_eq!(p.body(), Rect::new(0, 0, 160, 44));
    // Tiny terminals render without panicking.
    for (w, h) in [
        (1, 1),
        (2, 2),
        (10, 4),
        (20, 3),
        (30, 8),
        (119, 10),
        (120, 5),
    ] {
        for o in [Overlay::None, Overlay::Help] {
            m.overlay = o;
            let _ = draw(&m, w, h);
            m.detail = Some(Detail { cert: 0, scroll: 3 });
            let _ = draw(&m, w, h);
            m.detail = None;
        }
    }
}

#[test]
fn diagnosis_scroll_helpers() {
    let pki = pki();
    let mut m = mixed(&pki);
    select(&mut m, "expired.test");
    m.focus = Focus::Diagnosis;
    m.size = (80, 24);
    let n = diagnosis_line_count(&m, 80);
    assert!(n > 7);
    let max = diagnosis_max_scroll(&m);
    assert_eq!(max, n - 7);
    let line = diagnosis_selected_line(&m, 80).expect("a command line");
    m.diag_scroll = line;
    let buf = draw(&m, 80, 24);
    assert!(rows(&buf)[15].contains("▶ $ "), "{}", screen(&buf));
    m.focus = Focus::Hosts;
    assert_eq!(diagnosis_selected_line(&m, 80), None);
}

#[test]
fn text_helpers() {
    assert_eq!(trunc("abcdef", 4), "abc…");
    assert_eq!(trunc("abc", 4), "abc");
    assert_eq!(trunc("abc", 0), "");
    assert_eq!(pad("ab", 4), "ab  ");
    assert_eq!(pad_left("ab", 4), "  ab");
    assert_eq!(wrap("aa bb cc", 5, "", ""), vec!["aa bb", "cc"]);
    assert_eq!(
        wrap("aaaaaaa", 3, "> ", "  "),
        vec!["> a", "  a", "  a", "  a", "  a", "  a", "  a"]
    );
    assert_eq!(wrap("x yyy", 4, "", ""), vec!["x", "yyy"]);
    // A word longer than any line is broken where it stands.
    assert_eq!(wrap("x yyyyyy", 4, "", ""), vec!["x yy", "yyyy"]);
    assert_eq!(chunk("abcdefg", 3), vec!["abc", "def", "g"]);
    assert_eq!(chunk("", 3), vec![""]);
    assert_eq!(safe("a\u{1b}b\nc\u{202e}"), "a?b?c?");
    assert_eq!(spinner(0), spinner(1_000));
    assert_ne!(spinner(0), spinner(100));
}

// ---------------------------------------------------------------------------
// The fleet header and what re-probes changed.
// ---------------------------------------------------------------------------

#[test]
fn fleet_header_counts_statuses_and_draws_the_expiry_histogram() {
    let pki = pki();
    let m = mixed(&pki);
    for (w, h) in [(160, 45), (80, 24)] {
        let buf = draw(&m, w, h);
        if w < 160 {
            // One compact line on the short list.
            let line = row_with(&buf, "✓1 !1 ✗1 ?2 …2 · expired █");
            assert!(
                line.contains("<7d  0") && line.contains("<30d █") && line.contains("later █"),
                "{line}"
            );
            continue;
        }
        let counts = row_with(&buf, "✓ 1 ok");
        assert!(counts.contains("! 1 warn"), "{w}x{h}: {counts}");
        assert!(counts.contains("✗ 1 crit"), "{w}x{h}: {counts}");
        let bars = row_with(&buf, "expired █");
        // One expired, none under 7 days, one under 30, one later.
        assert!(bars.contains("expired █"), "{w}x{h}: {bars}");
        if w >= 160 {
            assert!(
                counts.contains("? 2 error") && counts.contains("… 2 pending"),
                "{counts}"
            );
            assert!(bars.contains("<7d  0"), "no bar for none: {bars}");
            assert!(
                bars.contains("<30d █") && bars.contains("later █"),
                "{bars}"
            );
            let n = bars.matches('█').count();
            assert!(n >= 3, "bars drawn: {bars}");
        }
    }
    // Equal counts draw equal bars; a larger count draws a longer one.
    let mut m = mixed(&pki);
    let extra = m
        .hosts
        .iter()
        .position(|h| h.target.host.to_string() == "ok.test")
        .unwrap();
    for _ in 0..3 {
        let h = m.hosts[extra].clone();
        m.hosts.push(h);
    }
    m.refresh_view();
    let bars = row_with(&draw(&m, 160, 45), "expired █");
    let seg = |label: &str| -> usize {
        let rest = &bars[bars.find(label).unwrap() + label.len()..];
        rest.chars().skip(1).take_while(|c| *c == '█').count()
    };
    assert!(seg("later") > seg("expired"), "{bars}");
    assert_eq!(seg("expired"), seg("<30d"), "{bars}");
}

#[test]
fn rows_mark_what_a_reprobe_changed() {
    use crate::tui::watch::Change;
    let pki = pki();
    let mut m = mixed(&pki);
    let i = m
        .hosts
        .iter()
        .position(|h| h.target.host.to_string() == "expired.test")
        .unwrap();
    m.hosts[i].changes = vec![
        Change::Worse {
            from: Status::Ok,
            to: Status::Critical,
        },
        Change::Renewed,
    ];
    m.hosts[i].changed_at = Some(NOW);
    for (w, h) in [(160, 45), (80, 24)] {
        let buf = draw(&m, w, h);
        let row = row_with(&buf, "expired.test");
        assert!(row.contains("▲ worse"), "{w}x{h}: {row}");
        if w >= 160 {
            assert!(row.contains("▲ worse: ok → critical ↻ ·"), "{row}");
        }
    }
}

// ---------------------------------------------------------------------------
// A name served by several addresses.
// ---------------------------------------------------------------------------

/// `multi.test` at three addresses: the first serves a valid leaf, the
/// second an expired one, the third refuses connections.
fn multi(pki: &Pki) -> Report {
    let at = |ip: [u8; 4], chain: Vec<Vec<u8>>, error: Option<ConnFailure>| {
        let mut obs = observe("multi.test", chain, error);
        obs.address = Some(std::net::SocketAddr::from((ip, 443)));
        judge(pki, &obs)
    };
    let good = at(
        [127, 0, 0, 1],
        leaf(pki, "multi.test", None, T0 - 10 * DAY, T0 + 80 * DAY),
        None,
    );
    let old = at(
        [127, 0, 0, 2],
        leaf(pki, "multi.test", None, T0 - 90 * DAY, T0 - 2 * DAY),
        None,
    );
    let down = at(
        [127, 0, 0, 3],
        Vec::new(),
        Some(ConnFailure {
            code: ConnCode::Unreachable,
            step: "connect",
            message: "cannot connect to 127.0.0.3:443: connection refused".into(),
            alert: None,
            peer_said: None,
            local: false,
        }),
    );
    crate::diagnose::endpoints::merge(good, vec![old, down])
}

#[test]
fn a_multi_address_target_shows_each_address_and_what_differs() {
    let pki = pki();
    let r = multi(&pki);
    let mut codes: Vec<&str> = r.findings.iter().map(|f| f.code.as_str()).collect();
    codes.sort();
    assert_eq!(codes, ["expired", "inconsistent-endpoints", "unreachable"]);
    assert_eq!(r.status, Status::Critical);
    let m = model_with(vec![("multi.test", HostState::Done(Box::new(r)))]);
    for (w, h) in [(80, 24), (160, 45)] {
        let buf = draw(&m, w, h);
        // One row in the host list.
        assert_has(&buf, "Hosts (1)");
        assert_has(&buf, "Addresses (3");
        let second = row_with(&buf, "127.0.0.2");
        assert!(second.contains('✗'), "{second}");
        let third = row_with(&buf, "127.0.0.3");
        assert!(third.contains("fails"), "{third}");
        // The diagnosis names the difference.
        assert_has(&buf, "do not serve");
    }
    let buf = draw(&m, 160, 45);
    let first = row_with(&buf, "127.0.0.1  ");
    assert!(first.contains("until") && first.contains('✓'), "{first}");
}
