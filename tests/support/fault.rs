//! A fault-injection relay: a loopback TCP proxy in front of one farm host.
//! Tests point a host's target at the proxy's port, then tell the proxy to
//! drop every connection, stall (stop relaying while keeping the sockets
//! open, as a dead network path does), throttle to a byte rate, or cut the
//! connection after N more bytes in one direction.
//!
//! The relay runs on its own runtime thread, so it keeps relaying (or
//! stalling) whatever the test's runtime is busy with.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the relay does to traffic right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Faults {
    /// Relay nothing; bytes wait in the kernel's buffers.
    stalled: bool,
    /// Bytes per second in each direction of each connection.
    rate: Option<u64>,
    /// Drop every connection once the client has sent this many bytes in total.
    cut_up_at: Option<u64>,
    /// Drop every connection once the server has sent this many bytes in total.
    cut_down_at: Option<u64>,
    /// Bumped to drop every open connection.
    epoch: u64,
}

struct Ctl {
    faults: watch::Sender<Faults>,
    /// Bytes relayed client → server and server → client, over all connections.
    up: AtomicU64,
    down: AtomicU64,
    accepted: AtomicUsize,
    /// Connections whose sockets were closed by a fault.
    dropped: AtomicUsize,
}

pub struct FaultProxy {
    pub port: u16,
    ctl: Arc<Ctl>,
    /// Dropped with the proxy: its thread then stops the relay and closes
    /// every socket.
    _stop: tokio::sync::oneshot::Sender<()>,
}

#[derive(Clone, Copy)]
enum Dir {
    Up,
    Down,
}

impl FaultProxy {
    /// Relay 127.0.0.1:<new port> to 127.0.0.1:`upstream`.
    pub fn start(upstream: u16) -> FaultProxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy port");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("proxy addr").port();
        let (faults, _) = watch::channel(Faults::default());
        let ctl = Arc::new(Ctl {
            faults,
            up: AtomicU64::new(0),
            down: AtomicU64::new(0),
            accepted: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let c = ctl.clone();
        // Its own thread and runtime: tests may call this from inside theirs.
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("proxy runtime");
            rt.block_on(async move {
                let listener = TcpListener::from_std(listener).expect("proxy listener");
                let accept = async {
                    while let Ok((client, _)) = listener.accept().await {
                        c.accepted.fetch_add(1, Ordering::SeqCst);
                        tokio::spawn(relay(client, upstream, c.clone()));
                    }
                };
                tokio::select! {
                    _ = stopped => {}
                    _ = accept => {}
                }
            });
        });
        FaultProxy {
            port,
            ctl,
            _stop: stop,
        }
    }

    fn set(&self, f: impl FnOnce(&mut Faults)) {
        self.ctl.faults.send_modify(f);
    }

    /// Close every open connection now (new ones are relayed normally).
    pub fn drop_all(&self) {
        self.set(|f| f.epoch += 1);
    }

    /// Stop relaying in both directions; sockets stay open.
    pub fn stall(&self) {
        self.set(|f| f.stalled = true);
    }

    pub fn resume(&self) {
        self.set(|f| f.stalled = false);
    }

    /// Limit each direction of each connection to `bytes_per_sec`.
    pub fn throttle(&self, bytes_per_sec: u64) {
        self.set(|f| f.rate = Some(bytes_per_sec.max(1)));
    }

    pub fn unthrottle(&self) {
        self.set(|f| f.rate = None);
    }

    /// Drop every connection once the client has sent `n` more bytes.
    pub fn cut_after_up(&self, n: u64) {
        let at = self.bytes_up() + n;
        self.set(|f| f.cut_up_at = Some(at));
    }

    /// Drop every connection once the server has sent `n` more bytes.
    pub fn cut_after_down(&self, n: u64) {
        let at = self.bytes_down() + n;
        self.set(|f| f.cut_down_at = Some(at));
    }

    pub fn bytes_up(&self) -> u64 {
        self.ctl.up.load(Ordering::SeqCst)
    }

    pub fn bytes_down(&self) -> u64 {
        self.ctl.down.load(Ordering::SeqCst)
    }

    /// TCP connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.ctl.accepted.load(Ordering::SeqCst)
    }

    /// Connections closed by `drop_all` or a cut.
    pub fn dropped(&self) -> usize {
        self.ctl.dropped.load(Ordering::SeqCst)
    }
}

async fn relay(client: TcpStream, upstream: u16, ctl: Arc<Ctl>) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let mut faults = ctl.faults.subscribe();
    let epoch = faults.borrow().epoch;
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let up = pump(cr, sw, Dir::Up, ctl.clone());
    let down = pump(sr, cw, Dir::Down, ctl.clone());
    let killed = async {
        let _ = faults.wait_for(|f| f.epoch != epoch).await;
    };
    // Whichever ends first ends the connection: both halves drop here.
    tokio::select! {
        _ = killed => {
            ctl.dropped.fetch_add(1, Ordering::SeqCst);
        }
        _ = async { tokio::join!(up, down) } => {}
    }
}

/// Copy one direction, applying the current faults before every write.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    dir: Dir,
    ctl: Arc<Ctl>,
) {
    let mut faults = ctl.faults.subscribe();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        // While stalled, do not even read: the sender's window fills up
        // exactly as it would behind a dead route.
        if faults.wait_for(|f| !f.stalled).await.is_err() {
            return;
        }
        let f = *faults.borrow();
        let max = match f.rate {
            // At most a tenth of a second's worth per write, so a rate
            // change or a stall takes effect quickly.
            Some(rate) => ((rate / 10).max(1) as usize).min(buf.len()),
            None => buf.len(),
        };
        let n = match from.read(&mut buf[..max]).await {
            Ok(0) | Err(_) => {
                let _ = to.shutdown().await;
                return;
            }
            Ok(n) => n,
        };
        if let Some(rate) = f.rate {
            tokio::time::sleep(Duration::from_secs_f64(n as f64 / rate as f64)).await;
        }
        // A stall that began while this chunk was read holds it back too.
        if faults.wait_for(|f| !f.stalled).await.is_err() {
            return;
        }
        let (counter, cut_at) = match dir {
            Dir::Up => (&ctl.up, faults.borrow().cut_up_at),
            Dir::Down => (&ctl.down, faults.borrow().cut_down_at),
        };
        let before = counter.load(Ordering::SeqCst);
        let allowed = match cut_at {
            Some(at) => (at.saturating_sub(before) as usize).min(n),
            None => n,
        };
        if allowed > 0 && to.write_all(&buf[..allowed]).await.is_err() {
            return;
        }
        counter.fetch_add(allowed as u64, Ordering::SeqCst);
        if cut_at.is_some_and(|at| before + allowed as u64 >= at) {
            // Disarm, then drop every connection (this one included).
            ctl.faults.send_modify(|f| {
                match dir {
                    Dir::Up => f.cut_up_at = None,
                    Dir::Down => f.cut_down_at = None,
                }
                f.epoch += 1;
            });
            return;
        }
    }
}
