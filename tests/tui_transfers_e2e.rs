//! The transfers panel in the real binary, in tmux, against the real sshd
//! farm: a large put cancelled midway says "cancelled" (not FAILED),
//! keeps its part file, and `R` resumes it to a byte-exact copy.

use crate::support;

use std::time::{Duration, Instant};

use support::farm::Farm;
use support::tmux::{Tmux, farm_config, tmux_available, wrapped};

/// The percentage on the transfers panel's job line ("…  42% · …").
fn job_percent(screen: &str, state: &str) -> Option<u64> {
    let line = screen.lines().find(|l| l.contains(&format!("│{state} ")))?;
    let before = line.split("% ·").next()?;
    before.split_whitespace().last()?.parse().ok()
}

#[test]
fn a_put_cancelled_in_the_transfers_panel_resumes_with_r_in_tmux() {
    assert!(
        tmux_available(),
        "tmux is required (scripts/test installs it)"
    );
    let farm = Farm::start(1);
    let cfg = farm_config(&farm);
    let local = farm.root.join("local");
    std::fs::create_dir_all(&local).unwrap();
    let src = local.join("big.img");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&src).unwrap();
        let mut block = vec![0u8; 1 << 20];
        for i in 0..384u32 {
            for (j, b) in block.iter_mut().enumerate() {
                *b = ((j as u32).wrapping_mul(29) ^ i.wrapping_mul(2_246_822_519)) as u8;
            }
            f.write_all(&block).unwrap();
        }
    }
    let size = std::fs::metadata(&src).unwrap().len();
    let dst = farm.hosts[0].files().join("big.img");
    let part = farm.hosts[0].files().join(".big.img.sshdeck-part");
    let bin = env!("CARGO_BIN_EXE_sshdeck");
    // The local pane starts in the working directory.
    let launch = wrapped(&format!(
        "cd {} && export HOME={r} XDG_CACHE_HOME={r}/cache; {bin} -c {} tui",
        local.display(),
        cfg.display(),
        r = farm.root.display()
    ));
    let tmux = Tmux::start("e2e-transfers", &launch, 140, 36);
    tmux.wait_for("the host list", |s| s.contains("node0"));
    tmux.send(&["a"]);
    tmux.send(&["F2"]);
    tmux.wait_for("both panes listed", |s| {
        s.contains("big.img") && s.contains("1 selected host (listing node0)")
    });
    // big.img is the only entry on the left, under the cursor.
    tmux.send(&["F5"]);
    let deadline = Instant::now() + Duration::from_secs(120);
    // A third in: proving that much of the part file on resume takes long
    // enough that a screen shows the progress meanwhile.
    while std::fs::metadata(&part).map_or(0, |m| m.len()) < size / 3 {
        assert!(
            Instant::now() < deadline,
            "the copy never reached node0: {}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // The panel opens on the running job: x cancels it.
    tmux.send(&["t"]);
    tmux.send(&["x"]);
    let screen = tmux.wait_for("the job cancelled", |s| s.contains("cancelled · R resumes"));
    assert!(
        !screen.contains("FAILED"),
        "a cancel is no failure: {screen}"
    );
    assert!(
        !dst.exists(),
        "finished before the cancel ({size} bytes): make the file larger"
    );
    let at_cancel = job_percent(&screen, "cancelled").expect("the job's percentage");
    assert!(part.exists(), "the part file is kept for resuming");

    tmux.send(&["R"]);
    // Every screen until done: the progress never falls back below where
    // the cancel left it.
    let deadline = Instant::now() + Duration::from_secs(120);
    let screen = loop {
        let s = tmux.screen();
        if s.contains("done on 1 host") {
            break s;
        }
        if let Some(p) = job_percent(&s, "running") {
            assert!(
                p >= at_cancel,
                "progress restarted: {p}% < {at_cancel}%\n{s}"
            );
        }
        assert!(
            Instant::now() < deadline,
            "the resumed copy never ended:\n{s}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!screen.contains("started over"), "not resumed: {screen}");
    assert_eq!(
        support::sha256_of(&dst),
        support::sha256_of(&src),
        "node0's copy differs"
    );
    assert!(!part.exists(), "the part file became the file");
    // Clear finished jobs, leave the panel, quit.
    tmux.send(&["D"]);
    tmux.wait_for("the panel emptied", |s| s.contains("no transfers"));
    tmux.send(&["Escape"]);
    tmux.send(&["q"]);
    assert_eq!(tmux.wait_exit(), "0");
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "0",
        "alternate screen left on"
    );
}
