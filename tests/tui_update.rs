//! The TUI without a terminal: keys and probe results through `update`,
//! asserting the model and the effects.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use certscope::report::finding::Status;
use certscope::report::observation::ConnCode;
use certscope::target::Target;
use certscope::testkit::{DAY, T0, TestPki, connection_failure};
use certscope::tui::model::{Focus, HostState, Model, Overlay};
use certscope::tui::update::{Action, Effect, start, update};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

fn key(m: &mut Model, code: KeyCode) -> Vec<Effect> {
    update(m, Action::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn ch(m: &mut Model, c: char) -> Vec<Effect> {
    key(m, KeyCode::Char(c))
}

fn typed(m: &mut Model, s: &str) {
    for c in s.chars() {
        ch(m, c);
    }
}

/// Three hosts: ok, expired (critical), unreachable (error), all finished.
fn finished_model() -> (Model, TestPki) {
    let pki = TestPki::new();
    let names = [
        "ok.tui.test:443",
        "expired.tui.test:443",
        "down.tui.test:443",
    ];
    let targets = names
        .iter()
        .map(|n| Target::parse(n, 443).unwrap())
        .collect();
    let mut m = Model::new(targets, T0);
    m.size = (160, 45);
    let effects = start(&mut m);
    assert_eq!(
        effects
            .iter()
            .filter(|e| matches!(e, Effect::Probe { .. }))
            .count(),
        3
    );
    let reports = [
        pki.report(
            names[0],
            pki.chain(&["ok.tui.test"], T0 - DAY, T0 + 80 * DAY, |_| {}),
            T0,
        ),
        pki.report(
            names[1],
            pki.chain(&["expired.tui.test"], T0 - 100 * DAY, T0 - 10 * DAY, |_| {}),
            T0,
        ),
        connection_failure(names[2], ConnCode::Unreachable, "connection refused", T0),
    ];
    for (i, r) in reports.into_iter().enumerate() {
        let generation = m.hosts[i].generation;
        update(
            &mut m,
            Action::ProbeStarted {
                host: i,
                generation,
            },
        );
        assert!(matches!(m.hosts[i].state, HostState::Connecting { .. }));
        update(
            &mut m,
            Action::ProbeFinished {
                host: i,
                generation,
                report: Box::new(r),
            },
        );
    }
    (m, pki)
}

fn selected_name(m: &Model) -> String {
    m.selected_host().unwrap().target.host_port()
}

#[test]
fn hosts_sort_worst_first_and_navigation_moves() {
    let (mut m, _) = finished_model();
    let order: Vec<String> = m
        .view
        .iter()
        .map(|i| m.hosts[*i].target.host_port())
        .collect();
    assert_eq!(
        order,
        [
            "down.tui.test:443",
            "expired.tui.test:443",
            "ok.tui.test:443"
        ]
    );
    assert_eq!(selected_name(&m), "down.tui.test:443");
    ch(&mut m, 'j');
    assert_eq!(selected_name(&m), "expired.tui.test:443");
    key(&mut m, KeyCode::Down);
    key(&mut m, KeyCode::Down);
    assert_eq!(selected_name(&m), "ok.tui.test:443", "stops at the end");
    ch(&mut m, 'g');
    assert_eq!(m.selected, 0);
    ch(&mut m, 'G');
    assert_eq!(m.selected, 2);
    ch(&mut m, 'k');
    assert_eq!(selected_name(&m), "expired.tui.test:443");
    ch(&mut m, 'o');
    assert_eq!(
        selected_name(&m),
        "expired.tui.test:443",
        "sorting keeps the selection"
    );
    assert_eq!(
        m.view
            .iter()
            .map(|i| m.hosts[*i].target.host_port())
            .collect::<Vec<_>>()[0],
        "down.tui.test:443"
    );
}

#[test]
fn focus_cycles_and_enter_drills_into_the_leaf() {
    let (mut m, _) = finished_model();
    ch(&mut m, 'j'); // expired
    assert_eq!(m.focus, Focus::Hosts);
    key(&mut m, KeyCode::Tab);
    assert_eq!(m.focus, Focus::Tree);
    key(&mut m, KeyCode::Tab);
    assert_eq!(m.focus, Focus::Diagnosis);
    key(&mut m, KeyCode::Tab);
    assert_eq!(m.focus, Focus::Hosts);
    key(&mut m, KeyCode::BackTab);
    assert_eq!(m.focus, Focus::Diagnosis);
    key(&mut m, KeyCode::BackTab);
    assert_eq!(m.focus, Focus::Tree);
    // The tree shows the chain; the diagnosis follows the selected certificate.
    assert_eq!(
        m.shown_findings()
            .iter()
            .map(|f| f.code.as_str())
            .collect::<Vec<_>>(),
        ["expired"]
    );
    ch(&mut m, 'j');
    assert_eq!(m.tree_selected, 1);
    assert!(m.shown_findings().is_empty(), "the intermediate is fine");
    ch(&mut m, 'k');
    key(&mut m, KeyCode::Enter);
    assert_eq!(m.detail.map(|d| d.cert), Some(0));
    // On a small terminal the detail (fields, extensions, PEM) overflows.
    m.size = (80, 24);
    ch(&mut m, 'j');
    assert_eq!(m.detail.map(|d| d.scroll), Some(1), "j scrolls the detail");
    ch(&mut m, 'G');
    let bottom = m.detail.map(|d| d.scroll).unwrap();
    assert!(bottom > 1, "G goes to the end of the detail");
    ch(&mut m, 'j');
    assert_eq!(
        m.detail.map(|d| d.scroll),
        Some(bottom),
        "scrolling stops at the end"
    );
    ch(&mut m, 'a');
    assert_eq!(
        m.overlay,
        Overlay::None,
        "adding hosts is not bound in the detail view"
    );
    key(&mut m, KeyCode::Esc);
    assert!(m.detail.is_none());
    assert_eq!(m.focus, Focus::Tree);
}

#[test]
fn filter_narrows_the_list_and_esc_clears_it() {
    let (mut m, _) = finished_model();
    ch(&mut m, '/');
    assert!(m.filter_editing);
    typed(&mut m, "expired");
    assert_eq!(m.view.len(), 1);
    assert_eq!(selected_name(&m), "expired.tui.test:443");
    key(&mut m, KeyCode::Enter);
    assert!(!m.filter_editing);
    assert_eq!(m.filter, "expired");
    // Filter by problem title too.
    ch(&mut m, '/');
    for _ in 0.."expired".len() {
        key(&mut m, KeyCode::Backspace);
    }
    typed(&mut m, "cannot connect");
    assert_eq!(
        m.view
            .iter()
            .map(|i| m.hosts[*i].target.host_port())
            .collect::<Vec<_>>(),
        ["down.tui.test:443"]
    );
    key(&mut m, KeyCode::Esc);
    assert!(m.filter.is_empty());
    assert_eq!(m.view.len(), 3);
    // q typed into the filter is text, not quit.
    ch(&mut m, '/');
    assert!(ch(&mut m, 'q').is_empty());
    assert!(!m.quit);
}

#[test]
fn add_host_validates_and_names_the_bad_input() {
    let (mut m, _) = finished_model();
    ch(&mut m, 'a');
    typed(&mut m, "bad..name.test");
    let effects = key(&mut m, KeyCode::Enter);
    assert!(effects.is_empty());
    match &m.overlay {
        Overlay::AddHost {
            error: Some(e),
            input,
        } => {
            assert!(e.contains("bad..name.test"), "{e}");
            assert_eq!(input, "bad..name.test", "the input stays for correction");
        }
        o => panic!("expected the add prompt with an error, got {o:?}"),
    }
    for _ in 0..14 {
        key(&mut m, KeyCode::Backspace);
    }
    typed(&mut m, "ok.tui.test");
    key(&mut m, KeyCode::Enter);
    assert!(matches!(&m.overlay, Overlay::AddHost { error: Some(e), .. } if e.contains("already")));
    for _ in 0..11 {
        key(&mut m, KeyCode::Backspace);
    }
    typed(&mut m, "new.tui.test:8443");
    let effects = key(&mut m, KeyCode::Enter);
    assert_eq!(m.overlay, Overlay::None);
    assert_eq!(m.hosts.len(), 4);
    assert!(effects.iter().any(|e| matches!(e, Effect::Probe { host: 3, target, .. } if target.host_port() == "new.tui.test:8443")));
    assert_eq!(selected_name(&m), "new.tui.test:8443");
    assert!(matches!(m.hosts[3].state, HostState::Queued));
}

#[test]
fn copy_menu_copies_exactly_the_selected_command() {
    let (mut m, _) = finished_model();
    ch(&mut m, 'j'); // expired
    key(&mut m, KeyCode::Tab);
    key(&mut m, KeyCode::Tab); // diagnosis
    let cmds = m.fix_commands();
    assert!(cmds.len() >= 2);
    ch(&mut m, 'j');
    assert_eq!(m.fix_selected, 1);
    let want = cmds[1].2.clone();
    ch(&mut m, 'c');
    let Overlay::CopyMenu { items, selected } = m.overlay.clone() else {
        panic!("copy menu expected");
    };
    assert_eq!(selected, 0);
    assert_eq!(
        items[0].text, want,
        "the first item is the selected fix command"
    );
    assert!(
        items[1].text.starts_with("openssl s_client -connect"),
        "{}",
        items[1].text
    );
    assert!(items[2].text.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(items[3].text.contains("CRITICAL"));
    let effects = key(&mut m, KeyCode::Enter);
    assert_eq!(effects, vec![Effect::Copy(want)]);
    assert_eq!(m.overlay, Overlay::None);
    // The digit picks an item directly; Esc closes without copying.
    ch(&mut m, 'c');
    let effects = ch(&mut m, '2');
    assert!(matches!(&effects[..], [Effect::Copy(t)] if t.starts_with("openssl s_client")));
    ch(&mut m, 'c');
    assert!(key(&mut m, KeyCode::Esc).is_empty());
    assert_eq!(m.overlay, Overlay::None);
    // The result is reported honestly.
    update(
        &mut m,
        Action::Copied(Ok("sent to the terminal (OSC 52)".into())),
    );
    assert!(m.message.as_ref().unwrap().text.contains("OSC 52"));
    update(&mut m, Action::Copied(Err("no terminal".into())));
    assert!(
        m.message
            .as_ref()
            .unwrap()
            .text
            .contains("copy failed: no terminal")
    );
}

#[test]
fn reprobe_cancels_and_drops_the_late_result() {
    let (mut m, pki) = finished_model();
    ch(&mut m, 'G'); // ok.tui.test
    let i = m.selected_index().unwrap();
    let old = m.hosts[i].generation;
    let effects = ch(&mut m, 'r');
    assert_eq!(effects[0], Effect::Cancel { host: i });
    assert!(
        matches!(&effects[1], Effect::Probe { host, generation, .. } if *host == i && *generation == old + 1)
    );
    assert!(matches!(m.hosts[i].state, HostState::Queued));
    // A late result of the old probe is dropped.
    let late = pki.report(
        "ok.tui.test:443",
        pki.chain(&["ok.tui.test"], T0 - 100 * DAY, T0 - DAY, |_| {}),
        T0,
    );
    update(
        &mut m,
        Action::ProbeFinished {
            host: i,
            generation: old,
            report: Box::new(late),
        },
    );
    assert!(matches!(m.hosts[i].state, HostState::Queued));
    update(
        &mut m,
        Action::ProbeFailed {
            host: i,
            generation: old + 1,
            error: "boom\u{1b}[2J".into(),
        },
    );
    match &m.hosts[i].state {
        HostState::Failed(e) => assert!(!e.contains('\u{1b}')),
        s => panic!("{s:?}"),
    }
    assert_eq!(m.hosts[i].status(), Some(Status::Error));
    let all = ch(&mut m, 'R');
    assert_eq!(
        all.iter()
            .filter(|e| matches!(e, Effect::Probe { .. }))
            .count(),
        3
    );
    // The replaced results go out to be freed off the event loop, and every
    // host waits for its new result.
    let released: Vec<_> = all
        .iter()
        .filter_map(|e| match e {
            Effect::Release(r) => Some(r.0.len()),
            _ => None,
        })
        .collect();
    assert_eq!(released, [3]);
    assert!(m.hosts.iter().all(|h| matches!(h.state, HostState::Queued)));
}

#[test]
fn quit_keys_and_key_release_events() {
    let (mut m, _) = finished_model();
    let mut release = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
    release.kind = KeyEventKind::Release;
    assert!(
        update(&mut m, Action::Key(release)).is_empty(),
        "only presses count"
    );
    assert!(!m.quit);
    ch(&mut m, '?');
    assert_eq!(m.overlay, Overlay::Help { scroll: 0 });
    ch(&mut m, '?');
    assert_eq!(m.overlay, Overlay::None);
    ch(&mut m, 'a');
    let effects = update(
        &mut m,
        Action::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    );
    assert_eq!(
        effects,
        vec![Effect::Quit],
        "Ctrl-C quits even from a prompt"
    );
    let (mut m, _) = finished_model();
    assert_eq!(ch(&mut m, 'q'), vec![Effect::Quit]);
    assert!(m.quit);
}

#[test]
fn save_prompt_suggests_a_file_and_saves_the_chain() {
    let (mut m, _) = finished_model();
    ch(&mut m, 'j'); // expired
    ch(&mut m, 's');
    let Overlay::SaveChain { input, .. } = m.overlay.clone() else {
        panic!("save prompt")
    };
    assert_eq!(input, "expired.tui.test-chain.pem");
    let effects = key(&mut m, KeyCode::Enter);
    match &effects[..] {
        [
            Effect::Save {
                path,
                contents,
                overwrite,
            },
        ] => {
            assert_eq!(path.to_str(), Some("expired.tui.test-chain.pem"));
            assert!(!overwrite, "an existing file is not replaced unasked");
            assert_eq!(
                contents.matches("-----BEGIN CERTIFICATE-----").count(),
                2,
                "leaf and intermediate, not the store root"
            );
        }
        e => panic!("{e:?}"),
    }
    // Nothing to save for an unreachable host.
    ch(&mut m, 'g');
    ch(&mut m, 's');
    assert_eq!(m.overlay, Overlay::None);
    assert!(m.message.as_ref().unwrap().text.contains("no chain"));
}

#[test]
fn mouse_click_selects_and_wheel_scrolls() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    use ratatui::layout::Rect;
    let (mut m, _) = finished_model();
    let panes = certscope::tui::ui::layout(Rect::new(0, 0, m.size.0, m.size.1), &m);
    let mouse = |kind, column, row| {
        Action::Mouse(MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    // The list starts under the border and the fleet header.
    let header = certscope::tui::model::header_rows(usize::from(panes.hosts.height - 2)) as u16;
    assert_eq!(header, 2);
    // A click on the header selects nothing.
    update(
        &mut m,
        mouse(
            MouseEventKind::Down(MouseButton::Left),
            panes.hosts.x + 3,
            panes.hosts.y + 1,
        ),
    );
    assert_eq!(selected_name(&m), "down.tui.test:443");
    // Click the third row of the host list.
    update(
        &mut m,
        mouse(
            MouseEventKind::Down(MouseButton::Left),
            panes.hosts.x + 3,
            panes.hosts.y + 1 + header + 2,
        ),
    );
    assert_eq!(m.focus, Focus::Hosts);
    assert_eq!(selected_name(&m), "ok.tui.test:443");
    // Wheel over the host list moves the selection; focus stays.
    update(
        &mut m,
        mouse(
            MouseEventKind::ScrollUp,
            panes.hosts.x + 3,
            panes.hosts.y + 3,
        ),
    );
    assert_eq!(selected_name(&m), "expired.tui.test:443");
    // A click in the chain pane focuses it and selects the clicked certificate.
    update(
        &mut m,
        mouse(
            MouseEventKind::Down(MouseButton::Left),
            panes.tree.x + 3,
            panes.tree.y + 2,
        ),
    );
    assert_eq!(m.focus, Focus::Tree);
    assert_eq!(m.tree_selected, 1);
    // A click on the border row selects nothing new.
    update(
        &mut m,
        mouse(
            MouseEventKind::Down(MouseButton::Left),
            panes.hosts.x + 3,
            panes.hosts.y,
        ),
    );
    assert_eq!(m.focus, Focus::Hosts);
    assert_eq!(selected_name(&m), "expired.tui.test:443");
}

/// Results move one host at a time to its place (no re-sort per result):
/// after every result the view is exactly what a full re-sort gives, under
/// each sort mode and with a filter, and the cursor stays on its host.
#[test]
fn results_are_placed_incrementally_like_a_full_sort() {
    let pki = TestPki::new();
    let n = 40;
    let names: Vec<String> = (0..n)
        .map(|i| format!("h{:02}.tui.test:443", (i * 7) % n))
        .collect();
    let targets = names
        .iter()
        .map(|s| Target::parse(s, 443).unwrap())
        .collect();
    let mut m = Model::new(targets, T0);
    m.size = (160, 45);
    start(&mut m);
    let ok = pki.chain(&["x.tui.test"], T0 - DAY, T0 + 80 * DAY, |_| {});
    let old = pki.chain(&["x.tui.test"], T0 - 100 * DAY, T0 - 10 * DAY, |_| {});
    let soon = pki.chain(&["x.tui.test"], T0 - DAY, T0 + 3 * DAY, |_| {});
    for pass in 0..4 {
        match pass {
            1 => ch(&mut m, 'o'), // sort by name
            2 => ch(&mut m, 'o'), // sort by expiry
            _ => Vec::new(),
        };
        if pass == 3 {
            ch(&mut m, 'o'); // back to severity
            ch(&mut m, '/');
            typed(&mut m, "h1");
            key(&mut m, KeyCode::Enter);
        }
        // Put the cursor on some host and remember it.
        key(&mut m, KeyCode::Down);
        let cursor = m.selected_index();
        // Results arrive in a scrambled order.
        for k in 0..n {
            let i = (k * 13 + pass * 5) % n;
            let generation = m.hosts[i].generation;
            let report = match (i + pass) % 4 {
                0 => connection_failure(&names[i], ConnCode::Unreachable, "refused", T0),
                1 => pki.report(&names[i], old.clone(), T0),
                2 => pki.report(&names[i], soon.clone(), T0),
                _ => pki.report(&names[i], ok.clone(), T0),
            };
            update(
                &mut m,
                Action::ProbeFinished {
                    host: i,
                    generation,
                    report: Box::new(report),
                },
            );
            let mut full = m.clone();
            full.refresh_view();
            assert_eq!(m.view, full.view, "pass {pass}, after result {k}");
            if let Some(c) = cursor
                && m.view.contains(&c)
            {
                assert_eq!(m.selected_index(), Some(c), "the cursor stays on its host");
            }
        }
    }
}

fn finish(m: &mut Model, host: usize, report: certscope::report::Report) -> Vec<Effect> {
    let generation = m.hosts[host].generation;
    update(m, Action::ProbeStarted { host, generation });
    update(
        m,
        Action::ProbeFinished {
            host,
            generation,
            report: Box::new(report),
        },
    )
}

fn tick(m: &mut Model, now: i64) -> Vec<Effect> {
    update(
        m,
        Action::Tick {
            now_ms: 0,
            now_unix: now,
        },
    )
}

/// --interval: a host is probed again when due (its last result stays
/// shown meanwhile), and the new result is compared with the one before:
/// a new leaf is "renewed", a new finding makes it worse, and the summary
/// of changes records each.
#[test]
fn watch_reprobes_when_due_and_marks_what_changed() {
    use certscope::tui::watch::Change;
    let pki = TestPki::new();
    let name = "w.tui.test:443";
    let mut m = Model::new(vec![Target::parse(name, 443).unwrap()], T0);
    m.interval = Some(300);
    start(&mut m);
    let good = pki.report(
        name,
        pki.chain(&["w.tui.test"], T0 - DAY, T0 + 80 * DAY, |_| {}),
        T0,
    );
    finish(&mut m, 0, good);
    let h = &m.hosts[0];
    assert_eq!(h.history.len(), 1);
    assert!(
        h.changes.is_empty(),
        "nothing to compare the first result with"
    );
    let due = h.next_at.expect("scheduled");
    assert!((T0 + 270..=T0 + 330).contains(&due), "{due}");

    // Not yet due: nothing happens.
    assert!(tick(&mut m, due - 1).is_empty());
    // Due: probed again, the old result still shown.
    let effects = tick(&mut m, due);
    let gen0 = m.hosts[0].generation;
    assert!(
        matches!(&effects[..], [Effect::Probe { host: 0, generation, .. }] if *generation == gen0)
    );
    assert!(tick(&mut m, due + 1).is_empty(), "not twice");
    update(
        &mut m,
        Action::ProbeStarted {
            host: 0,
            generation: gen0,
        },
    );
    assert!(m.hosts[0].rechecking);
    assert!(matches!(m.hosts[0].state, HostState::Done(_)));

    // The new result: an expired certificate, newly issued.
    let expired = pki.report(
        name,
        pki.chain(&["w.tui.test"], T0 - 100 * DAY, T0 - 10 * DAY, |_| {}),
        due,
    );
    update(
        &mut m,
        Action::ProbeFinished {
            host: 0,
            generation: gen0,
            report: Box::new(expired),
        },
    );
    let h = &m.hosts[0];
    assert!(!h.rechecking);
    assert_eq!(
        h.changes,
        [
            Change::Worse {
                from: Status::Ok,
                to: Status::Critical
            },
            Change::Renewed,
            Change::NewFinding("expired".into()),
        ]
    );
    // The result arrived at the last tick's time.
    let at = m.now_unix;
    assert_eq!(h.changed_at, Some(at));
    assert_eq!(
        h.history.iter().map(|s| s.status).collect::<Vec<_>>(),
        [Status::Ok, Status::Critical]
    );
    assert_eq!(m.change_log.len(), 3);
    assert!(m.change_log.iter().all(|e| e.host == 0 && e.at == at));
    assert!(h.next_at.is_some_and(|t| t > due));
    // The summary is one key away.
    ch(&mut m, 'C');
    assert!(matches!(m.overlay, Overlay::Changes { scroll: 0 }));
    key(&mut m, KeyCode::Esc);
    assert!(matches!(m.overlay, Overlay::None));
}

/// The history keeps the last ten results, oldest first.
#[test]
fn history_keeps_the_last_entries_in_order() {
    let pki = TestPki::new();
    let name = "h.tui.test:443";
    let mut m = Model::new(vec![Target::parse(name, 443).unwrap()], T0);
    start(&mut m);
    let chain = pki.chain(&["h.tui.test"], T0 - DAY, T0 + 80 * DAY, |_| {});
    for k in 0..12 {
        m.now_unix = T0 + k * 60;
        let r = pki.report(name, chain.clone(), T0);
        finish(&mut m, 0, r);
        ch(&mut m, 'r');
    }
    let h = &m.hosts[0];
    let times: Vec<i64> = h.history.iter().map(|s| s.at).collect();
    assert_eq!(times, (2..12).map(|k| T0 + k * 60).collect::<Vec<_>>());
    assert!(
        h.changes.is_empty(),
        "the same result again changes nothing"
    );
    assert!(m.change_log.is_empty());
}

/// A status word filters by status; sorting by "changed" puts the hosts
/// that changed last first.
#[test]
fn filter_by_status_and_sort_by_changed() {
    let (mut m, pki) = finished_model();
    ch(&mut m, '/');
    typed(&mut m, "crit");
    key(&mut m, KeyCode::Enter);
    let shown: Vec<String> = m
        .view
        .iter()
        .map(|i| m.hosts[*i].target.host_port())
        .collect();
    assert_eq!(shown, ["expired.tui.test:443"]);
    ch(&mut m, '/');
    for _ in 0..4 {
        key(&mut m, KeyCode::Backspace);
    }
    key(&mut m, KeyCode::Enter);
    assert_eq!(m.view.len(), 3);
    // ok.tui.test changes (a new leaf); it sorts first by "changed".
    let i = m
        .hosts
        .iter()
        .position(|h| h.target.host_port() == "ok.tui.test:443")
        .unwrap();
    m.now_unix = T0 + 60;
    ch(&mut m, 'g');
    let renewed = pki.report(
        "ok.tui.test:443",
        pki.chain(&["ok.tui.test"], T0, T0 + 80 * DAY, |_| {}),
        T0,
    );
    m.hosts[i].generation += 1;
    finish(&mut m, i, renewed);
    for _ in 0..3 {
        ch(&mut m, 'o');
    }
    assert_eq!(m.sort, certscope::tui::model::SortMode::Changed);
    assert_eq!(m.view[0], i);
}

/// A later result that changes nothing keeps the last change marked.
#[test]
fn the_last_change_stays_marked() {
    let pki = TestPki::new();
    let name = "k.tui.test:443";
    let mut m = Model::new(vec![Target::parse(name, 443).unwrap()], T0);
    start(&mut m);
    let a = pki.chain(&["k.tui.test"], T0 - DAY, T0 + 80 * DAY, |_| {});
    let b = pki.chain(&["k.tui.test"], T0, T0 + 80 * DAY, |_| {});
    finish(&mut m, 0, pki.report(name, a, T0));
    ch(&mut m, 'r');
    m.now_unix = T0 + 60;
    finish(&mut m, 0, pki.report(name, b.clone(), T0));
    assert_eq!(m.hosts[0].changes, [certscope::tui::watch::Change::Renewed]);
    ch(&mut m, 'r');
    m.now_unix = T0 + 120;
    finish(&mut m, 0, pki.report(name, b, T0));
    assert_eq!(m.hosts[0].changes, [certscope::tui::watch::Change::Renewed]);
    assert_eq!(m.hosts[0].changed_at, Some(T0 + 60));
    assert_eq!(m.change_log.len(), 1);
}

#[test]
fn n_reprobes_comparing_the_answer_without_sni() {
    let (mut m, _pki) = finished_model();
    ch(&mut m, 'G');
    let i = m.selected_index().unwrap();
    let effects = ch(&mut m, 'n');
    assert_eq!(effects[0], Effect::Cancel { host: i });
    assert!(
        matches!(&effects[1], Effect::Probe { host, compare_no_sni: true, .. } if *host == i),
        "{effects:?}"
    );
    // A plain re-probe does not.
    let effects = ch(&mut m, 'r');
    assert!(matches!(
        &effects[1],
        Effect::Probe {
            compare_no_sni: false,
            ..
        }
    ));
}

/// Until the user moves it, the cursor is on the worst host (the first in
/// severity order), whatever answered first; once moved it stays on its
/// host (not its row) as later results re-sort the list.
#[test]
fn the_cursor_starts_on_the_worst_host_and_then_stays_on_its_host() {
    let pki = TestPki::new();
    // In name order (the order while all are pending) the fine host is
    // first.
    let names = [
        "a-ok.tui.test:443",
        "b-expired.tui.test:443",
        "c-down.tui.test:443",
        "d-late.tui.test:443",
        "e-soon.tui.test:443",
    ];
    let targets = names
        .iter()
        .map(|n| Target::parse(n, 443).unwrap())
        .collect();
    let mut m = Model::new(targets, T0);
    m.size = (160, 45);
    start(&mut m);
    assert_eq!(selected_name(&m), "a-ok.tui.test:443");
    let ok = pki.report(
        names[0],
        pki.chain(&["a-ok.tui.test"], T0 - DAY, T0 + 80 * DAY, |_| {}),
        T0,
    );
    let expired = pki.report(
        names[1],
        pki.chain(
            &["b-expired.tui.test"],
            T0 - 100 * DAY,
            T0 - 10 * DAY,
            |_| {},
        ),
        T0,
    );
    let soon = pki.report(
        names[4],
        pki.chain(&["e-soon.tui.test"], T0 - 80 * DAY, T0 + 5 * DAY, |_| {}),
        T0,
    );
    // The fine host answers first: it is the worst so far.
    finish(&mut m, 0, ok);
    assert_eq!(selected_name(&m), "a-ok.tui.test:443");
    // A worse one arrives: the cursor goes to it, at the top of its chain.
    m.tree_selected = 1;
    finish(&mut m, 1, expired);
    assert_eq!(m.selected, 0);
    assert_eq!(selected_name(&m), "b-expired.tui.test:443");
    assert_eq!(m.tree_selected, 0, "a new host starts at its leaf");
    finish(
        &mut m,
        2,
        connection_failure(names[2], ConnCode::Unreachable, "refused", T0),
    );
    assert_eq!(selected_name(&m), "c-down.tui.test:443");
    // The user moves to the expired host: from now on the cursor stays on
    // it, though later results move its row.
    ch(&mut m, 'j');
    assert_eq!(selected_name(&m), "b-expired.tui.test:443");
    assert_eq!(m.selected, 1);
    finish(
        &mut m,
        3,
        connection_failure(names[3], ConnCode::Timeout, "timed out", T0),
    );
    assert_eq!(m.selected, 2, "its row moved down under the new error");
    assert_eq!(selected_name(&m), "b-expired.tui.test:443");
    finish(&mut m, 4, soon);
    assert_eq!(selected_name(&m), "b-expired.tui.test:443");
    // Re-probing everything keeps it too.
    ch(&mut m, 'R');
    assert_eq!(selected_name(&m), "b-expired.tui.test:443");
}

/// A click in the list pins the cursor as a key does.
#[test]
fn a_click_pins_the_cursor() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let names = ["a.tui.test:443", "b.tui.test:443"];
    let targets = names
        .iter()
        .map(|n| Target::parse(n, 443).unwrap())
        .collect();
    let mut m = Model::new(targets, T0);
    m.size = (160, 45);
    start(&mut m);
    let panes = certscope::tui::ui::layout(ratatui::layout::Rect::new(0, 0, 160, 45), &m);
    let header = certscope::tui::model::header_rows(usize::from(panes.hosts.height - 2)) as u16;
    // Click the second row (b), then a worse result arrives for a.
    update(
        &mut m,
        Action::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: panes.hosts.x + 3,
            row: panes.hosts.y + 1 + header + 1,
            modifiers: KeyModifiers::NONE,
        }),
    );
    assert_eq!(selected_name(&m), "b.tui.test:443");
    finish(
        &mut m,
        0,
        connection_failure(names[0], ConnCode::Unreachable, "refused", T0),
    );
    assert_eq!(selected_name(&m), "b.tui.test:443");
}

/// The copy menu names its first entry by the fix step it copies, so the
/// confirm step (step 1, an `openssl s_client` check) is never offered as
/// "the fix".
#[test]
fn copy_menu_labels_say_which_fix_step_they_copy() {
    let (mut m, _) = finished_model();
    ch(&mut m, 'j'); // expired
    // From the host list: the first command, labelled as step 1.
    ch(&mut m, 'c');
    let Overlay::CopyMenu { items, .. } = m.overlay.clone() else {
        panic!("copy menu expected");
    };
    let f = m.shown_findings()[0].clone();
    let (si, step) = f
        .fix
        .iter()
        .enumerate()
        .find(|(_, s)| s.command.is_some())
        .unwrap();
    assert_eq!(
        items[0].label,
        format!("Fix step {} for expired: {}", si + 1, step.title)
    );
    assert_eq!(Some(&items[0].text), step.command.as_ref());
    assert!(items.iter().all(|i| i.label != "Fix command"));
    key(&mut m, KeyCode::Esc);
    // In the diagnosis, on the second command: its own step and title.
    key(&mut m, KeyCode::Tab);
    key(&mut m, KeyCode::Tab);
    ch(&mut m, 'j');
    let (fi, si, cmd) = m.fix_commands()[1].clone();
    let step = m.shown_findings()[fi].fix[si].clone();
    ch(&mut m, 'c');
    let Overlay::CopyMenu { items, .. } = m.overlay.clone() else {
        panic!("copy menu expected");
    };
    assert_eq!(
        items[0].label,
        format!("Fix step {} for expired: {}", si + 1, step.title)
    );
    assert_eq!(items[0].text, cmd);
    assert_ne!(si, 0, "not the confirm step");
}

/// `s` never overwrites an existing file unasked: the write is exclusive,
/// an existing file brings up "overwrite? y/N", `y` overwrites, `n` goes
/// back to the file name, Esc cancels.
#[test]
fn save_asks_before_overwriting_an_existing_file() {
    use certscope::tui::runtime::{Saved, save_file};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.pem");
    std::fs::write(&path, "precious").unwrap();
    // The runtime's write: exclusive unless told to overwrite.
    assert_eq!(save_file(&path, "new", false), Saved::Exists);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious");
    let fresh = dir.path().join("fresh.pem");
    assert!(matches!(save_file(&fresh, "pem", false), Saved::Written(_)));
    assert_eq!(std::fs::read_to_string(&fresh).unwrap(), "pem");
    assert!(matches!(
        save_file(&dir.path().join("no/such/dir.pem"), "x", false),
        Saved::Failed(e) if e.contains("no/such/dir.pem")
    ));

    let (mut m, _) = finished_model();
    ch(&mut m, 'j'); // expired
    ch(&mut m, 's');
    let Overlay::SaveChain { input, .. } = m.overlay.clone() else {
        panic!("save prompt")
    };
    for _ in 0..input.len() {
        key(&mut m, KeyCode::Backspace);
    }
    typed(&mut m, path.to_str().unwrap());
    let effects = key(&mut m, KeyCode::Enter);
    let [
        Effect::Save {
            contents,
            overwrite: false,
            ..
        },
    ] = &effects[..]
    else {
        panic!("{effects:?}")
    };
    let contents = contents.clone();
    // The file exists: the runtime says so, and the TUI asks.
    update(
        &mut m,
        Action::SaveExists {
            path: path.clone(),
            contents: contents.clone(),
        },
    );
    assert_eq!(
        m.overlay,
        Overlay::ConfirmOverwrite {
            path: path.clone(),
            contents: contents.clone()
        }
    );
    // n (the default): back to the name, nothing written.
    assert!(ch(&mut m, 'n').is_empty());
    match &m.overlay {
        Overlay::SaveChain {
            input,
            error: Some(e),
        } => {
            assert_eq!(input, path.to_str().unwrap());
            assert!(e.contains("exists"), "{e}");
        }
        o => panic!("{o:?}"),
    }
    // Esc from the question: nothing written, the prompt closes.
    key(&mut m, KeyCode::Enter);
    update(
        &mut m,
        Action::SaveExists {
            path: path.clone(),
            contents: contents.clone(),
        },
    );
    assert!(key(&mut m, KeyCode::Esc).is_empty());
    assert_eq!(m.overlay, Overlay::None);
    // y: overwrite.
    ch(&mut m, 's');
    let Overlay::SaveChain { input, .. } = m.overlay.clone() else {
        panic!("save prompt")
    };
    for _ in 0..input.len() {
        key(&mut m, KeyCode::Backspace);
    }
    typed(&mut m, path.to_str().unwrap());
    key(&mut m, KeyCode::Enter);
    update(
        &mut m,
        Action::SaveExists {
            path: path.clone(),
            contents: contents.clone(),
        },
    );
    let effects = ch(&mut m, 'y');
    assert_eq!(
        effects,
        vec![Effect::Save {
            path: path.clone(),
            contents: contents.clone(),
            overwrite: true
        }]
    );
    assert_eq!(m.overlay, Overlay::None);
    assert!(matches!(
        save_file(&path, &contents, true),
        Saved::Written(_)
    ));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), contents);
}

/// Status-bar messages expire with the model's clock: 5 s, errors 10 s.
#[test]
fn status_messages_expire() {
    let (mut m, _) = finished_model();
    let at = |m: &mut Model, ms: u64| {
        update(
            m,
            Action::Tick {
                now_ms: ms,
                now_unix: T0,
            },
        );
    };
    at(&mut m, 1_000);
    ch(&mut m, 'o'); // "sorted by name"
    assert!(m.message.as_ref().unwrap().text.contains("sorted by"));
    at(&mut m, 5_999);
    assert!(m.message.is_some(), "still there before 5 s");
    at(&mut m, 6_000);
    assert!(m.message.is_none(), "gone after 5 s");
    // A newer message starts its own time.
    at(&mut m, 7_000);
    update(&mut m, Action::Copied(Ok("copied \"x\"".into())));
    at(&mut m, 11_000);
    ch(&mut m, 'o');
    at(&mut m, 13_000);
    assert!(m.message.as_ref().unwrap().text.contains("sorted by"));
    at(&mut m, 16_000);
    assert!(m.message.is_none());
    // Errors stay longer.
    update(&mut m, Action::Copied(Err("no terminal".into())));
    at(&mut m, 21_000);
    assert!(m.message.is_some(), "an error stays 10 s");
    at(&mut m, 26_000);
    assert!(m.message.is_none());
}
