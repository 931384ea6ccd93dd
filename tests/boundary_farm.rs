//! The one boundary against real OpenSSH hosts: a multi-host operation
//! runs each host on that host's own listing, and a host-to-host copy
//! never writes through a link standing on the destination host.

use crate::support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use sshdeck::engine::HostLink;
use sshdeck::engine::files::copy_job::{CopySpec, Direction};
use sshdeck::engine::files::queue::{JobState, JobView, QueueJob, Relay, TransferQueue};
use sshdeck::engine::files::transfer::TransferOpts;
use support::farm::Farm;
use support::farm_engine_drained;
use tokio::sync::mpsc::UnboundedReceiver;

const LIMIT: Duration = Duration::from_secs(90);

fn spec(dir: Direction, sources: &[&str], dest: &Path) -> CopySpec {
    CopySpec {
        dir,
        sources: sources.iter().map(|s| s.to_string()).collect(),
        dest: dest.to_string_lossy().into_owned(),
        recursive: true,
        opts: TransferOpts::default(),
        unsafe_links: false,
        per_host_dir: dir == Direction::Get,
        renames: BTreeMap::new(),
        only_listed: false,
    }
}

async fn finished(views: &mut UnboundedReceiver<JobView>, id: u64) -> JobView {
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        let v = tokio::time::timeout_at(deadline, views.recv())
            .await
            .expect("the queue did not finish in time")
            .expect("queue closed");
        if v.id == id && v.state.is_finished() {
            return v;
        }
    }
}

fn notes(v: &JobView, host: usize) -> Vec<String> {
    match &v.hosts[host].result {
        Some(Ok(t)) => t.notes.clone(),
        other => panic!("host {host}: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_in_move_acts_on_each_hosts_own_listing() {
    let farm = Farm::start(2);
    let (e, ids) = farm_engine_drained(&farm);
    let links: Vec<HostLink> = ids.iter().map(|&id| e.link(id)).collect();
    let (q, mut views) = TransferQueue::new();
    for h in 0..2 {
        let home = farm.hosts[h].files();
        std::fs::create_dir_all(home.join("logs")).unwrap();
        std::fs::write(home.join("logs/a.txt"), format!("a{h}")).unwrap();
        std::fs::write(home.join("victim.txt"), b"keep me").unwrap();
    }
    std::fs::write(farm.hosts[0].files().join("logs/only0.txt"), b"0").unwrap();
    let dest = farm.root.join("fanin");
    // What the files tab sends: names from host 0's listing. The last one
    // is what a hostile listing (`../victim.txt` inside logs/) would have
    // made of it before names were checked.
    let mut get = spec(
        Direction::Get,
        &["logs/a.txt", "logs/only0.txt", "logs/../victim.txt"],
        &dest,
    );
    get.only_listed = true;
    let id = q.submit(QueueJob {
        title: "move logs".into(),
        spec: get,
        hosts: links,
        remove_sources: true,
        relay: None,
    });
    let v = finished(&mut views, id).await;
    assert_eq!(v.state, JobState::Done, "{v:?}");
    for h in 0..2 {
        let home = farm.hosts[h].files();
        assert_eq!(
            std::fs::read(home.join("victim.txt")).unwrap(),
            b"keep me",
            "host {h}: a file outside logs/ was touched"
        );
        assert!(
            !home.join("logs/a.txt").exists(),
            "host {h}: moved, so gone"
        );
        let got = dest.join(farm.label(h));
        assert_eq!(
            std::fs::read_to_string(got.join("a.txt")).unwrap(),
            format!("a{h}"),
            "each host's own file"
        );
        assert!(!got.join("victim.txt").exists());
        let n = notes(&v, h).join("\n");
        assert!(n.contains("not a name from a listing"), "{n}");
    }
    assert!(dest.join(farm.label(0)).join("only0.txt").exists());
    assert!(!farm.hosts[0].files().join("logs/only0.txt").exists());
    let n = notes(&v, 1).join("\n");
    assert!(
        n.contains("logs/only0.txt: not on this host; skipped"),
        "{n}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_to_host_copy_never_writes_outside_the_destination_host() {
    let farm = Farm::start(2);
    let (e, ids) = farm_engine_drained(&farm);
    let links: Vec<HostLink> = ids.iter().map(|&id| e.link(id)).collect();
    let (q, mut views) = TransferQueue::new();
    let cache = farm.root.join("cache");
    let a = farm.hosts[0].files();
    let b = farm.hosts[1].files();
    // Host A serves links that each look safe as text.
    std::fs::create_dir_all(a.join("src/d1/d2")).unwrap();
    std::fs::write(a.join("src/f.txt"), b"f").unwrap();
    std::os::unix::fs::symlink("../..", a.join("src/d1/d2/up")).unwrap();
    std::os::unix::fs::symlink("d1/d2/up/../..", a.join("src/esc")).unwrap();
    let copy = |q: &TransferQueue| {
        let relay = Relay::in_dir(links[0].clone(), vec!["src".into()], &cache).expect("spool");
        q.submit(QueueJob {
            title: "copy A → B".into(),
            spec: spec(Direction::Put, &["src"], Path::new(".")),
            hosts: vec![links[1].clone()],
            remove_sources: false,
            relay: Some(relay),
        })
    };
    let v = finished(&mut views, copy(&q)).await;
    assert_eq!(v.state, JobState::Done, "{v:?}");
    assert_eq!(std::fs::read(b.join("src/f.txt")).unwrap(), b"f");
    assert!(
        b.join("src/d1/d2/up").symlink_metadata().is_ok(),
        "a link that stays inside is copied"
    );
    assert!(
        b.join("src/esc").symlink_metadata().is_err(),
        "a chain that resolves outside is left out on B"
    );
    let n = notes(&v, 0).join("\n");
    assert!(n.contains("esc: symlink to"), "{n} {v:?}");

    // Say B still has such a link from before; A now serves `esc/` as a
    // directory. Nothing may be written through B's link.
    std::os::unix::fs::symlink("..", b.join("src/esc")).unwrap();
    std::fs::remove_file(a.join("src/esc")).unwrap();
    std::fs::create_dir(a.join("src/esc")).unwrap();
    std::fs::write(a.join("src/esc/PWNED.txt"), b"pwned").unwrap();
    let v = finished(&mut views, copy(&q)).await;
    assert_eq!(v.state, JobState::Failed, "{v:?}");
    let why = format!("{:?}", v.hosts[0].result);
    assert!(why.contains("symbolic link"), "{why}");
    assert!(!b.join("PWNED.txt").exists(), "written through B's link");
    assert!(!b.join("src/PWNED.txt").exists());
}
