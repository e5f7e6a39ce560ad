//! TUI responsiveness with 2,000 targets probing: render time of one frame
//! and key-to-frame latency (update + render), at 160x45, on TestBackend
//! (the buffer work; the terminal then only receives the changed cells).
//!
//! Run: `cargo bench --bench tui`. The budget is 16 ms per frame.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use certscope::report::observation::ConnCode;
use certscope::target::Target;
use certscope::testkit::{DAY, T0, TestPki, connection_failure};
use certscope::tui::model::Model;
use certscope::tui::update::{Action, start, update};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const HOSTS: usize = 2_000;
const ROUNDS: usize = 300;

fn stats(name: &str, mut v: Vec<Duration>) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = v.iter().map(|d| ms(*d)).sum::<f64>() / v.len() as f64;
    println!(
        "{name:<44} mean {:>6.2} ms   p50 {:>6.2} ms   p99 {:>6.2} ms   max {:>6.2} ms",
        mean,
        ms(v[v.len() / 2]),
        ms(v[v.len() * 99 / 100]),
        ms(v[v.len() - 1])
    );
}

fn main() {
    let pki = TestPki::new();
    let samples = [
        pki.report(
            "s.bench.test:443",
            pki.chain(&["s.bench.test"], T0 - DAY, T0 + 80 * DAY, |_| {}),
            T0,
        ),
        pki.report(
            "s.bench.test:443",
            pki.chain(&["s.bench.test"], T0 - 100 * DAY, T0 - DAY, |_| {}),
            T0,
        ),
        pki.report(
            "s.bench.test:443",
            pki.chain(&["other.bench.test"], T0 - DAY, T0 + 5 * DAY, |_| {}),
            T0,
        ),
        connection_failure(
            "s.bench.test:443",
            ConnCode::Timeout,
            "no TLS handshake within 10s",
            T0,
        ),
    ];
    let targets: Vec<Target> = (0..HOSTS)
        .map(|i| Target::parse(&format!("host{i:04}.bench.test:443"), 443).expect("target"))
        .collect();
    let mut m = Model::new(targets, T0);
    m.size = (160, 45);
    let _ = start(&mut m);
    // Half finished, a quarter connecting, a quarter queued: "2,000 probing".
    for i in 0..HOSTS / 2 {
        let g = m.hosts[i].generation;
        let mut r = samples[i % samples.len()].clone();
        r.target = m.hosts[i].target.clone();
        update(
            &mut m,
            Action::ProbeFinished {
                host: i,
                generation: g,
                report: Box::new(r),
            },
        );
    }
    for i in HOSTS / 2..HOSTS * 3 / 4 {
        let g = m.hosts[i].generation;
        update(
            &mut m,
            Action::ProbeStarted {
                host: i,
                generation: g,
            },
        );
    }
    let mut term = Terminal::new(TestBackend::new(160, 45)).expect("terminal");

    let mut render = Vec::new();
    for i in 0..ROUNDS {
        update(
            &mut m,
            Action::Tick {
                now_ms: i as u64 * 100,
                now_unix: T0,
            },
        );
        let t = Instant::now();
        term.draw(|f| certscope::tui::ui::render(f, &m))
            .expect("draw");
        render.push(t.elapsed());
    }
    let mut key = Vec::new();
    for i in 0..ROUNDS {
        let code = if (i / 50) % 2 == 0 {
            KeyCode::Char('j')
        } else {
            KeyCode::Char('k')
        };
        let t = Instant::now();
        update(&mut m, Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        term.draw(|f| certscope::tui::ui::render(f, &m))
            .expect("draw");
        key.push(t.elapsed());
    }
    let mut result = Vec::new();
    for i in HOSTS / 2..HOSTS / 2 + ROUNDS {
        let g = m.hosts[i].generation;
        let mut r = samples[i % samples.len()].clone();
        r.target = m.hosts[i].target.clone();
        let t = Instant::now();
        update(
            &mut m,
            Action::ProbeFinished {
                host: i,
                generation: g,
                report: Box::new(r),
            },
        );
        term.draw(|f| certscope::tui::ui::render(f, &m))
            .expect("draw");
        result.push(t.elapsed());
    }
    println!("certscope TUI, {HOSTS} hosts, 160x45, {ROUNDS} rounds each");
    stats("render one frame", render);
    stats("key press (j/k) to frame", key);
    stats("probe result (placed among 2,000) to frame", result);
}
