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
        "┃? error down.test:443        — unreachable                                    ┃",
        "┃✗ crit  expired.test:443   -3d expired                                        ┃",
        "┃! warn  soon.test:443       8d expiring-soon                                  ┃",
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
    // The status bar: hints only, dropped from the end to fit 80 columns,
    // but help and quit always stay.
    assert_eq!(
        r[23].trim_end(),
        "Tab pane  Enter open  / filter  r re-probe  a add  c copy  ? help  q quit"
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
    // Host list left (half), tree top-right, diagnosis bottom-right.
    assert!(
        r[0].starts_with("┌ Hosts (7) · sort: severity "),
        "{}",
        r[0]
    );
    assert_eq!(r[0].chars().nth(80), Some('┌'), "{}", r[0]);
    assert!(r[0][r[0].char_indices().nth(80).unwrap().0..].starts_with("┌ Chain (3) "));
    let right = |y: usize| -> String { r[y].chars().skip(80).collect::<String>() };
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

// ---------------------------------------------------------------------------
// The demo's kind of hosts: many different problems side by side.
// ---------------------------------------------------------------------------

/// `target` (host:port) presenting `chain`, judged against the test root.
fn lab_report(pki: &Pki, target: &str, chain: Vec<Vec<u8>>) -> Report {
    let mut obs = observation(target, chain, NOW);
    obs.address = None;
    judge(pki, &obs)
}

/// A connection failure of `target` with `code`.
fn lab_failure(pki: &Pki, target: &str, code: ConnCode) -> Report {
    let mut obs = observation(target, Vec::new(), NOW);
    obs.address = None;
    obs.tls = None;
    obs.error = Some(ConnFailure {
        code,
        step: "connect",
        message: "it failed".to_string(),
        alert: None,
        peer_said: None,
        local: false,
    });
    judge(pki, &obs)
}

/// Like `certscope demo`: lab names with their ports, an IP target, and a
/// different problem on each (four of them name mismatches).
fn lab(pki: &Pki) -> Model {
    use rcgen::{ExtendedKeyUsagePurpose, IsCa, KeyPair};
    let valid = |sans: &[&str], tweak: &dyn Fn(&mut rcgen::CertificateParams)| {
        pki.chain(sans, T0 - 10 * DAY, T0 + 80 * DAY, |p| tweak(p))
    };
    let other = Pki::new();
    let mut untrusted = other.chain(
        &["untrusted-root.lab.test"],
        T0 - DAY,
        T0 + 80 * DAY,
        |_| {},
    );
    untrusted.push(other.root_der.clone());
    let self_signed = {
        let p =
            rcgen::CertificateParams::new(vec!["self-signed.lab.test".to_string()]).expect("names");
        let key = KeyPair::generate().expect("key");
        vec![p.self_signed(&key).expect("self-signed").der().to_vec()]
    };
    let reports: Vec<(&str, Report)> = vec![
        (
            "wrong-host.lab.test:41001",
            lab_report(
                pki,
                "wrong-host.lab.test:41001",
                valid(&["other.lab.test"], &|_| {}),
            ),
        ),
        (
            "cn-only.lab.test:41002",
            lab_report(
                pki,
                "cn-only.lab.test:41002",
                valid(&["cn-only.lab.test"], &|p| p.subject_alt_names.clear()),
            ),
        ),
        (
            "deep.wildcard-deep.lab.test:41003",
            lab_report(
                pki,
                "deep.wildcard-deep.lab.test:41003",
                valid(&["*.lab.test"], &|_| {}),
            ),
        ),
        (
            "127.0.0.1:41004",
            lab_report(
                pki,
                "127.0.0.1:41004",
                valid(&["ip-mismatch.lab.test"], &|_| {}),
            ),
        ),
        (
            "invalid-purpose.lab.test:41005",
            lab_report(
                pki,
                "invalid-purpose.lab.test:41005",
                valid(&["invalid-purpose.lab.test"], &|p| {
                    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth]
                }),
            ),
        ),
        (
            "untrusted-root.lab.test:41006",
            lab_report(pki, "untrusted-root.lab.test:41006", untrusted),
        ),
        (
            "expired.lab.test:41007",
            lab_report(
                pki,
                "expired.lab.test:41007",
                leaf(pki, "expired.lab.test", None, T0 - 90 * DAY, T0 - 10 * DAY),
            ),
        ),
        (
            "not-yet-valid.lab.test:41008",
            lab_report(
                pki,
                "not-yet-valid.lab.test:41008",
                leaf(
                    pki,
                    "not-yet-valid.lab.test",
                    None,
                    T0 + 10 * DAY,
                    T0 + 90 * DAY,
                ),
            ),
        ),
        (
            "ca-as-leaf.lab.test:41009",
            lab_report(
                pki,
                "ca-as-leaf.lab.test:41009",
                valid(&["ca-as-leaf.lab.test"], &|p| {
                    p.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained)
                }),
            ),
        ),
        (
            "self-signed.lab.test:41010",
            lab_report(pki, "self-signed.lab.test:41010", self_signed),
        ),
        (
            "closed.lab.test:41011",
            lab_failure(pki, "closed.lab.test:41011", ConnCode::Unreachable),
        ),
        (
            "silent.lab.test:41012",
            lab_failure(pki, "silent.lab.test:41012", ConnCode::Timeout),
        ),
        (
            "not-tls.lab.test:41013",
            lab_failure(pki, "not-tls.lab.test:41013", ConnCode::NotTls),
        ),
        (
            "expiring-soon.lab.test:41014",
            lab_report(
                pki,
                "expiring-soon.lab.test:41014",
                leaf(
                    pki,
                    "expiring-soon.lab.test",
                    None,
                    T0 - 80 * DAY,
                    T0 + 5 * DAY,
                ),
            ),
        ),
        (
            "good.lab.test:41015",
            lab_report(
                pki,
                "good.lab.test:41015",
                valid(&["good.lab.test"], &|_| {}),
            ),
        ),
    ];
    let mut m = Model::new(
        reports
            .iter()
            .map(|(t, _)| Target::parse(t, 443).expect("target"))
            .collect(),
        NOW,
    );
    for (h, (_, r)) in m.hosts.iter_mut().zip(reports) {
        h.state = HostState::Done(Box::new(r));
    }
    m.refresh_view();
    m
}

/// The host list's rows as (host cell, problem cell), trimmed, read off
/// the screen at the columns the list uses.
fn list_cells(m: &Model, w: u16, h: u16) -> Vec<(String, String)> {
    let buf = draw(m, w, h);
    let pane = layout(Rect::new(0, 0, w, h), m).hosts;
    let inner_h = usize::from(pane.height - 2);
    let text_w = text_width(pane.width - 2);
    let (host_w, _) = host_list::columns(m, text_w);
    let header = crate::tui::model::header_rows(inner_h);
    let r = rows(&buf);
    (header..inner_h)
        .map(|k| {
            let row: Vec<char> = r[usize::from(pane.y) + 1 + k].chars().collect();
            let x = usize::from(pane.x) + 1;
            let cell = |a: usize, b: usize| -> String {
                row[x + a..x + b]
                    .iter()
                    .collect::<String>()
                    .trim()
                    .to_string()
            };
            let host_at = 1 + 1 + 5 + 1;
            let problem_at = host_at + host_w + 1 + 5 + 1;
            // The margin column before the border stays blank.
            assert_eq!(row[x + text_w], ' ', "row {k} touches the border");
            (cell(host_at, host_at + host_w), cell(problem_at, text_w))
        })
        .filter(|(host, _)| !host.is_empty())
        .collect()
}

#[test]
fn problems_read_differently_on_every_row_at_80_120_and_160_columns() {
    let pki = pki();
    let mut m = lab(&pki);
    let codes: Vec<_> = m
        .hosts
        .iter()
        .filter_map(|h| h.report()?.root_cause().map(|f| f.code.as_str()))
        .collect();
    assert_eq!(
        codes.iter().filter(|c| **c == "hostname-mismatch").count(),
        4,
        "{codes:?}"
    );
    for (w, h) in [(80u16, 24u16), (120, 35), (160, 45)] {
        let mut seen: std::collections::BTreeMap<String, String> = Default::default();
        // Scroll through the whole list.
        for sel in 0..m.view.len() {
            m.selected = sel;
            let cells = list_cells(&m, w, h);
            assert!(cells.len() >= 5, "{w}x{h}: {cells:?}");
            let problems: Vec<&String> = cells.iter().map(|(_, p)| p).collect();
            for (i, a) in problems.iter().enumerate() {
                for b in &problems[i + 1..] {
                    assert_ne!(a, b, "{w}x{h}: two rows read the same: {cells:?}");
                }
            }
            for (host, p) in cells {
                seen.insert(host, p);
            }
        }
        // Every host seen; only the one without a problem has no text.
        assert_eq!(seen.len(), m.hosts.len(), "{w}x{h}: {seen:?}");
        assert_eq!(
            seen.values().filter(|p| p.is_empty()).count(),
            1,
            "{seen:?}"
        );
        let p = |host: &str| -> &str {
            seen.iter()
                .find(|(k, _)| k.starts_with(host))
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("{host} not listed: {seen:?}"))
        };
        // The name mismatches say why; the IP target is whole.
        assert!(p("wrong-host").contains("name not in SAN"), "{seen:?}");
        assert!(p("cn-only").contains("CN only"), "{seen:?}");
        assert!(p("deep.wildcard").contains("wildcard too deep"), "{seen:?}");
        assert!(p("127.0.0.1").contains("IP not in SAN"), "{seen:?}");
        assert_eq!(p("expired."), "expired");
        assert_eq!(p("closed"), "unreachable");
        // Names get their room: whole at 80 and 160 columns, at least 20
        // columns at 120.
        let text_w = text_width(layout(Rect::new(0, 0, w, h), &m).hosts.width - 2);
        let (host_w, _) = host_list::columns(&m, text_w);
        // The IP target says which certificate answered there: whole, or
        // without its port when short of room.
        if w == 120 {
            assert!(host_w >= 20, "{host_w}");
            assert!(
                seen.keys().any(|k| k.starts_with("127.0.0.1 (ip-mismatch")),
                "{seen:?}"
            );
        } else {
            assert!(
                seen.contains_key("127.0.0.1:41004 (ip-mismatch.lab.test)"),
                "{seen:?}"
            );
            assert!(
                seen.contains_key("deep.wildcard-deep.lab.test:41003"),
                "{seen:?}"
            );
        }
    }
    // Wide enough for both, the full form: code and reason.
    let cells = {
        m.selected = 0;
        list_cells(&m, 200, 50)
    };
    assert!(
        cells
            .iter()
            .any(|(_, p)| p == "hostname-mismatch (wildcard too deep)"),
        "{cells:?}"
    );
    // The filter finds what the rows show.
    m.filter = "wildcard".into();
    m.refresh_view();
    assert_eq!(m.view.len(), 1);
    m.filter = "hostname-mismatch".into();
    m.refresh_view();
    assert_eq!(m.view.len(), 4);
    m.filter = "ip-mismatch".into();
    m.refresh_view();
    assert_eq!(m.view.len(), 1);
}

/// The column just inside each pane's right border stays blank: text
/// wraps (or is cut) one column short of it, in the host list, the chain,
/// the diagnosis, the detail view and the help.
#[test]
fn text_keeps_a_column_clear_of_the_right_border() {
    let pki = pki();
    let mut m = lab(&pki);
    let blank_before_border = |buf: &Buffer, r: Rect, what: &str| {
        for y in r.y + 1..r.bottom().saturating_sub(1) {
            let x = r.right() - 2;
            assert_eq!(
                buf[(x, y)].symbol(),
                " ",
                "{what}: text touches the border at row {y}:\n{}",
                screen(buf)
            );
        }
    };
    for (w, h) in [(80u16, 24u16), (120, 35), (160, 45)] {
        for sel in 0..m.view.len() {
            m.selected = sel;
            for focus in Focus::ORDER {
                m.focus = focus;
                m.size = (w, h);
                let buf = draw(&m, w, h);
                let p = layout(Rect::new(0, 0, w, h), &m);
                blank_before_border(&buf, p.hosts, "hosts");
                blank_before_border(&buf, p.tree, "chain");
                blank_before_border(&buf, p.diagnosis, "diagnosis");
            }
        }
        m.focus = Focus::Hosts;
        m.selected = 0;
        select(&mut m, "expired.lab.test");
        m.detail = Some(Detail { cert: 0, scroll: 0 });
        m.size = (w, h);
        let max = detail_max_scroll(&m);
        for scroll in (0..=max).step_by(usize::from(h / 2)) {
            m.detail = Some(Detail { cert: 0, scroll });
            let buf = draw(&m, w, h);
            blank_before_border(&buf, layout(Rect::new(0, 0, w, h), &m).body(), "detail");
        }
        m.detail = None;
        m.overlay = Overlay::Help { scroll: 0 };
        let buf = draw(&m, w, h);
        let r = rows(&buf);
        let top = r.iter().position(|l| l.contains("┏ Help")).unwrap();
        let chars: Vec<char> = r[top].chars().collect();
        let left = chars.iter().position(|&c| c == '┏').unwrap();
        let right = chars.iter().rposition(|&c| c == '┓').unwrap();
        let bottom = (top..r.len())
            .find(|&y| r[y].chars().nth(left) == Some('┗'))
            .unwrap();
        let rect = Rect::new(
            u16::try_from(left).unwrap(),
            u16::try_from(top).unwrap(),
            u16::try_from(right - left + 1).unwrap(),
            u16::try_from(bottom - top + 1).unwrap(),
        );
        blank_before_border(&buf, rect, "help");
        m.overlay = Overlay::None;
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
        buf[(82, y as u16)]
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

/// Every SAN (and every blamed finding) on its own line: the first
/// labelled, the others aligned under it, never a stray ":".
#[test]
fn detail_lists_each_san_aligned_under_the_label() {
    let pki = pki();
    let sans = [
        "multi.test",
        "www.multi.test",
        "api.multi.test",
        "127.0.0.1",
    ];
    let chain = pki.chain(&sans, T0 - 10 * DAY, T0 + 80 * DAY, |_| {});
    let mut m = model_with(vec![(
        "multi.test",
        HostState::Done(Box::new(judge(&pki, &observe("multi.test", chain, None)))),
    )]);
    m.detail = Some(Detail { cert: 0, scroll: 0 });
    let lines = detail_lines(m.selected_report().unwrap(), 0, NOW);
    let at = lines
        .iter()
        .position(|l| l.starts_with("SANs:"))
        .expect("the SANs");
    assert_eq!(lines[at], "SANs:         DNS:multi.test");
    assert_eq!(lines[at + 1], "              DNS:www.multi.test");
    assert_eq!(lines[at + 2], "              DNS:api.multi.test");
    assert_eq!(lines[at + 3], "              IP:127.0.0.1");
    assert!(lines[at + 4].starts_with("Key:"), "{}", lines[at + 4]);
    assert!(
        !lines.iter().any(|l| l.trim_start().starts_with(':')),
        "{lines:#?}"
    );
    for (w, h) in [(80, 24), (160, 45)] {
        let buf = draw(&m, w, h);
        assert_has(&buf, "┃SANs:         DNS:multi.test");
        assert_has(&buf, "┃              DNS:www.multi.test");
        assert!(
            !rows(&buf).iter().any(|r| r.starts_with("┃:")),
            "{}",
            screen(&buf)
        );
    }
}

/// The embedded SCT list of a certificate, with one SCT from `ms`
/// (milliseconds since the epoch), as RFC 6962 encodes it.
fn sct_extension(ms: u64) -> rcgen::CustomExtension {
    let mut sct = vec![0u8]; // v1
    sct.extend([0xAB; 32]); // log id
    sct.extend(ms.to_be_bytes());
    sct.extend([0, 0]); // no extensions
    sct.extend([4, 3, 0, 2, 0x30, 0x00]); // SHA-256/ECDSA, a 2-byte signature
    let mut list = u16::try_from(sct.len() + 2).unwrap().to_be_bytes().to_vec();
    list.extend(u16::try_from(sct.len()).unwrap().to_be_bytes());
    list.extend(sct);
    let mut value = vec![0x04, u8::try_from(list.len()).unwrap()];
    value.extend(list);
    rcgen::CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 11129, 2, 4, 2], value)
}

/// SCT timestamps read as RFC 3339 UTC, not epoch milliseconds.
#[test]
fn detail_shows_sct_times_as_rfc3339() {
    let pki = pki();
    let ms = u64::try_from(T0).unwrap() * 1000 - 86_400_000 + 123;
    let chain = pki.chain(&["ct.test"], T0 - 10 * DAY, T0 + 80 * DAY, |p| {
        p.custom_extensions.push(sct_extension(ms));
    });
    let mut m = model_with(vec![(
        "ct.test",
        HostState::Done(Box::new(judge(&pki, &observe("ct.test", chain, None)))),
    )]);
    let leaf = &m.selected_report().unwrap().chain[0].info;
    let ext = leaf
        .extensions
        .iter()
        .find(|e| e.oid == "1.3.6.1.4.1.11129.2.4.2")
        .expect("the SCT list is parsed");
    assert!(
        ext.value.contains(&format!("timestamp {ms} ms")),
        "{}",
        ext.value
    );
    let lines = detail_lines(m.selected_report().unwrap(), 0, NOW);
    let sct = lines
        .iter()
        .find(|l| l.contains("timestamp"))
        .expect("an SCT line");
    assert!(sct.ends_with("timestamp 2025-12-31T00:00:00.123Z"), "{sct}");
    assert!(!lines.iter().any(|l| l.contains(&ms.to_string())));
    m.detail = Some(Detail { cert: 0, scroll: 0 });
    let line = lines.iter().position(|l| l == sct).unwrap();
    m.size = (160, 45);
    m.detail = Some(Detail {
        cert: 0,
        scroll: u16::try_from(line).unwrap(),
    });
    let buf = draw(&m, 160, 45);
    assert_has(&buf, "timestamp 2025-12-31T00:00:00.123Z");
}

// ---------------------------------------------------------------------------
// (3) Help.
// ---------------------------------------------------------------------------

#[test]
fn help_lists_every_binding() {
    let pki = pki();
    let mut m = mixed(&pki);
    m.overlay = Overlay::Help { scroll: 0 };
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
    // It all fits: nothing to scroll, nothing said about it.
    assert!(!has(&rows(&buf), "more below") && !has(&rows(&buf), "more above"));
}

/// At 80x24 the help does not fit: it scrolls with j/k, the arrows and
/// the page keys, and its frame says what is above and below.
#[test]
fn help_scrolls_at_80x24() {
    use crate::tui::update::{Action, update};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let pki = pki();
    let mut m = mixed(&pki);
    m.size = (80, 24);
    let press = |m: &mut Model, code: KeyCode| {
        update(m, Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    };
    let scroll = |m: &Model| match m.overlay {
        Overlay::Help { scroll } => scroll,
        ref o => panic!("the help closed: {o:?}"),
    };
    press(&mut m, KeyCode::Char('?'));
    assert_eq!(scroll(&m), 0);
    // The last binding of the last group, and the legend, are below.
    let last = BINDINGS
        .iter()
        .rfind(|b| b.context == crate::tui::keys::Context::Panes)
        .expect("a pane binding");
    let buf = draw(&m, 80, 24);
    let start: String = last.description.chars().take(30).collect();
    assert!(!has(&rows(&buf), &start), "{}", screen(&buf));
    assert!(!has(&rows(&buf), "✓ ok   ! warning"));
    assert!(has(&rows(&buf), "more below"), "{}", screen(&buf));
    assert!(!has(&rows(&buf), "more above"));
    // One line at a time, both ways; never above the top.
    press(&mut m, KeyCode::Char('j'));
    press(&mut m, KeyCode::Down);
    assert_eq!(scroll(&m), 2);
    press(&mut m, KeyCode::Char('k'));
    assert_eq!(scroll(&m), 1);
    press(&mut m, KeyCode::Up);
    press(&mut m, KeyCode::Up);
    assert_eq!(scroll(&m), 0);
    // The wheel: three lines a notch.
    let wheel = |m: &mut Model, kind: crossterm::event::MouseEventKind| {
        update(
            m,
            Action::Mouse(crossterm::event::MouseEvent {
                kind,
                column: 40,
                row: 12,
                modifiers: KeyModifiers::NONE,
            }),
        );
    };
    wheel(&mut m, crossterm::event::MouseEventKind::ScrollDown);
    assert_eq!(scroll(&m), 3);
    wheel(&mut m, crossterm::event::MouseEventKind::ScrollUp);
    assert_eq!(scroll(&m), 0);
    // A page down reaches the end (the text is under two pages here) and
    // stops there.
    let max = help_max_scroll(Rect::new(0, 0, 80, 24));
    assert!(max > 0 && max < help_page(Rect::new(0, 0, 80, 24)));
    press(&mut m, KeyCode::PageDown);
    assert_eq!(scroll(&m), max);
    press(&mut m, KeyCode::Char('j'));
    assert_eq!(scroll(&m), max);
    let buf = draw(&m, 80, 24);
    let start: String = last.description.chars().take(30).collect();
    let row = row_with(&buf, &start);
    assert!(
        row.contains(&crate::tui::keys::keys_label(last)),
        "{}",
        screen(&buf)
    );
    assert_has(&buf, "✓ ok   ! warning   ✗ critical   ? error");
    assert_has(&buf, &format!("↑ {max} more above"));
    assert!(!has(&rows(&buf), "more below"), "{}", screen(&buf));
    // Every binding is on one of the two screens.
    let top = {
        let mut t = m.clone();
        t.overlay = Overlay::Help { scroll: 0 };
        rows(&draw(&t, 80, 24))
    };
    for b in BINDINGS {
        let start: String = b.description.chars().take(30).collect();
        assert!(
            has(&top, &start) || has(&rows(&buf), &start),
            "{:?} never shown",
            b.description
        );
    }
    press(&mut m, KeyCode::PageUp);
    assert_eq!(scroll(&m), 0);
    press(&mut m, KeyCode::Esc);
    assert_eq!(m.overlay, Overlay::None);
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
    let detail: String = r.findings[0].detail.chars().take(20).collect();
    // Only the TUI's wording changes: the finding stays critical.
    assert_eq!(
        r.findings[0].severity,
        crate::report::finding::Severity::Critical
    );
    for (w, h) in [(80, 24), (160, 45)] {
        let buf = draw(&m, w, h);
        // Status error: the connection finding reads "? ERROR", as in the
        // host list and `certscope check`, not "✗ CRITICAL".
        assert_has(&buf, &format!("? ERROR {title}"));
        assert!(!has(&rows(&buf), "CRITICAL"), "{}", screen(&buf));
        assert_has(&buf, "unreachable · on the connection");
        assert_has(&buf, &detail);
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
    // The report keeps the raw text; it reaches the model the way every
    // result does, through the update, which keeps the terminal-safe copy.
    assert!(evil.chain[0].info.subject.contains('\u{1b}'));
    let mut m = model_with(vec![("evil.test", HostState::Connecting { since_ms: 0 })]);
    let generation = m.hosts[0].generation;
    crate::tui::update::update(
        &mut m,
        crate::tui::update::Action::ProbeFinished {
            host: 0,
            generation,
            report: Box::new(evil),
        },
    );
    m.refresh_view();
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
        at_ms: 0,
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
    m.overlay = Overlay::Help { scroll: 0 };
    let overlays = [
        Overlay::Help { scroll: 0 },
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

/// The text rows of the copy popup (below its separator), inner part only
/// and without the blank margin column before the right border.
fn copy_text_rows(buf: &Buffer) -> Vec<String> {
    let r = rows(buf);
    let top = r.iter().position(|l| l.contains("┏ Copy ")).expect("popup");
    let chars: Vec<Vec<char>> = r.iter().map(|l| l.chars().collect()).collect();
    let left = chars[top].iter().position(|&c| c == '┏').unwrap();
    let right = chars[top].iter().rposition(|&c| c == '┓').unwrap();
    let inner = |y: usize| -> String {
        assert_eq!(chars[y][right - 1], ' ', "text touches the border");
        chars[y][left + 1..right - 1].iter().collect()
    };
    let sep = (top + 1..r.len())
        .find(|&y| chars[y][left + 1] == '─')
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
fn saving_over_an_existing_file_asks_first() {
    let pki = pki();
    let mut m = mixed(&pki);
    m.overlay = Overlay::ConfirmOverwrite {
        path: "expired.test-chain.pem".into(),
        contents: "-----BEGIN CERTIFICATE-----".into(),
    };
    for (w, h) in [(80, 24), (160, 45)] {
        let buf = draw(&m, w, h);
        assert_has(&buf, " Save chain ");
        assert_has(&buf, "expired.test-chain.pem already exists.");
        assert_has(&buf, "Overwrite it? y/N");
        assert_has(&buf, "y overwrite · n another name · Esc cancel");
    }
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
        at_ms: 0,
    });
    let buf = draw(&m, 80, 24);
    let r = rows(&buf);
    assert!(r[0].contains("sort: name · filter: exp"), "{}", r[0]);
    assert!(r[23].starts_with("i copied  Tab pane"), "{}", r[23]);
}

#[test]
fn hints_drop_from_the_end_but_help_and_quit_stay() {
    let pki = pki();
    let m = mixed(&pki);
    let last = |m: &Model, w: u16, h: u16| -> String {
        rows(&draw(m, w, h))[usize::from(h) - 1]
            .trim_end()
            .to_string()
    };
    let wide = last(&m, 160, 45);
    assert_eq!(
        wide,
        "Tab pane  Enter open  / filter  r re-probe  a add  c copy  s save  ? help  q quit"
    );
    // Narrower: the other hints go first, from the end; help and quit stay.
    let narrow = last(&m, 60, 24);
    assert_eq!(
        narrow,
        "Tab pane  Enter open  / filter  r re-probe  ? help  q quit"
    );
    for w in [120, 100, 80, 60, 45, 30, 20, 14] {
        let bar = last(&m, w, 24);
        assert!(bar.ends_with("? help  q quit"), "{w}: {bar:?}");
    }
    assert_eq!(last(&m, 30, 24), "Tab pane  ? help  q quit");
    assert_eq!(last(&m, 20, 24), "? help  q quit");
    let mut m = m;
    m.detail = Some(Detail { cert: 0, scroll: 0 });
    let detail = last(&m, 160, 45);
    assert!(
        detail.starts_with("Esc back  j/k scroll") && !detail.contains("re-probe"),
        "{detail}"
    );
    assert!(detail.ends_with("? help  q quit"), "{detail}");
    // Beside a message too.
    m.detail = None;
    m.set_message(
        "saved the chain to expired.test-chain.pem",
        MessageKind::Info,
    );
    for w in [160, 80, 60] {
        let bar = last(&m, w, 24);
        assert!(
            bar.starts_with("i saved the chain to expired.test-chain.pem")
                && bar.ends_with("? help  q quit"),
            "{w}: {bar:?}"
        );
    }
}

/// The OSC 52 fallback hint is whole at 80, 120 and 160 columns: on one
/// row beside help and quit where it fits, else wrapped onto a second row
/// (the panes give it the room), never cut.
#[test]
fn the_osc52_hint_is_whole_at_every_width() {
    let pki = pki();
    let mut m = mixed(&pki);
    let cmd = "openssl s_client -connect expired.test:443 -servername expired.test </dev/null";
    let text = crate::tui::clipboard::osc52_sent(cmd);
    m.set_message(text.clone(), MessageKind::Info);
    for (w, h, want_rows) in [(80u16, 24u16, 2usize), (120, 35, 1), (160, 45, 1)] {
        let buf = draw(&m, w, h);
        let r = rows(&buf);
        let bar = &r[usize::from(h) - want_rows..];
        let joined = bar
            .iter()
            .map(|l| l.trim_end().trim_start())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            joined.starts_with(&format!("i {text}")),
            "{w}x{h}: the hint is cut:\n{}",
            screen(&buf)
        );
        assert!(bar[want_rows - 1].trim_end().ends_with("? help  q quit"));
        // The row above the bar is the panes' bottom border, not the hint.
        let above = &r[usize::from(h) - want_rows - 1];
        assert!(above.starts_with('└') || above.starts_with('┗'), "{above}");
        let panes = layout(Rect::new(0, 0, w, h), &m);
        assert_eq!(usize::from(panes.status.height), want_rows);
    }
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
    assert_eq!(p.hosts, Rect::new(0, 0, 80, 44));
    assert_eq!(p.tree, Rect::new(80, 0, 80, 5));
    assert_eq!(p.diagnosis, Rect::new(80, 5, 80, 39));
    // Half from 120 columns on; at most 100 columns, never under 2/5.
    assert_eq!(layout(Rect::new(0, 0, 120, 35), &m).hosts.width, 60);
    assert_eq!(layout(Rect::new(0, 0, 220, 50), &m).hosts.width, 100);
    assert_eq!(layout(Rect::new(0, 0, 300, 50), &m).hosts.width, 120);
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
        for o in [Overlay::None, Overlay::Help { scroll: 0 }] {
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

/// The tree nests by the path a client builds: a cross-certificate of the
/// intermediate sent before it hangs apart, not as the leaf's issuer.
#[test]
fn the_tree_nests_by_the_path_built_not_the_order_sent() {
    let pki = pki();
    let chain = leaf(&pki, "cross.test", None, T0 - DAY, T0 + 60 * DAY);
    // The intermediate's name and key, issued by a root nobody trusts.
    let other = rcgen::CertifiedIssuer::self_signed(
        crate::testkit::ca_params("Other Root", T0 - 100 * DAY, T0 + 900 * DAY),
        rcgen::KeyPair::generate().expect("key"),
    )
    .expect("root");
    let key = rcgen::KeyPair::from_pem(&pki.int.key().serialize_pem()).expect("key");
    let cross = rcgen::CertifiedIssuer::signed_by(
        crate::testkit::ca_params("Test Intermediate", T0 - 100 * DAY, T0 + 900 * DAY),
        key,
        &other,
    )
    .expect("cross");
    let sent = vec![chain[0].clone(), cross.der().to_vec(), chain[1].clone()];
    let r = judge(&pki, &observe("cross.test", sent, None));
    assert_eq!(r.path, vec![0, 2, 3]);
    let mut m = model_with(vec![("cross.test", HostState::Done(Box::new(r)))]);
    m.focus = Focus::Tree;
    let buf = draw(&m, 160, 45);
    let extra = row_with(&buf, "·  Test Intermediate");
    assert!(extra.contains("server, unused"), "{extra}");
    let issuer = row_with(&buf, "└─ Test Intermediate");
    assert!(!issuer.contains("unused"), "{issuer}");
    // The pane's border, the two-column mark, then the branch.
    assert!(
        issuer.contains("┃  └─ Test Intermediate"),
        "one level below the leaf: {issuer}"
    );
    assert_has(&buf, "┃    └─ Test Root");
}
