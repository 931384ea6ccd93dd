//! How long one frame takes to draw with N hosts, with nothing running and
//! with every host done and selected (release build):
//!
//!     cargo run --release --example frame_cost -- 100 1000 10000
//!
//! Draws into ratatui's TestBackend (200x60), so it measures sshdeck's
//! layout and rendering, not the terminal.

use std::collections::BTreeMap;
use std::time::Instant;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sshdeck::app::{AppState, Msg, update};

fn per_frame(s: &AppState, frames: u32) -> f64 {
    let mut term = match Terminal::new(TestBackend::new(200, 60)) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("frame_cost: {e}");
            std::process::exit(1);
        }
    };
    let t = Instant::now();
    for _ in 0..frames {
        let _ = term.draw(|f| sshdeck::ui::render(f, s));
    }
    t.elapsed().as_secs_f64() * 1000.0 / f64::from(frames)
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![100, 1000, 10_000]
    } else {
        sizes
    };
    println!("| hosts | frame, idle (ms) | frame, filter typed (ms) |");
    println!("|---|---|---|");
    for n in sizes {
        let hosts = (0..n)
            .map(|i| {
                (
                    format!("f{i:05}"),
                    vec![["web", "db", "batch"][i % 3].to_string()],
                )
            })
            .collect();
        let mut s = AppState::new(hosts, BTreeMap::new(), 1000);
        let _ = update(&mut s, Msg::Resize(200, 60));
        let idle = per_frame(&s, 50);
        s.deck.filter = "f0".into();
        let filtered = per_frame(&s, 50);
        println!("| {n} | {idle:.2} | {filtered:.2} |");
    }
}
