//! The signals that ask a headless command to stop: Ctrl-C (SIGINT), and
//! SIGTERM and SIGHUP (a closed terminal, `kill`, a CI runner giving up).
//! All three stop the work on the hosts before sshdeck exits; none of
//! them may leave a command running behind a process that has gone.

use tokio::signal::unix::{Signal, SignalKind, signal};

pub struct StopSignals {
    int: Option<Signal>,
    term: Option<Signal>,
    hup: Option<Signal>,
}

impl StopSignals {
    /// Take over the three signals. One that cannot be hooked keeps its
    /// default action (the process then dies as before).
    pub fn new() -> StopSignals {
        StopSignals {
            int: signal(SignalKind::interrupt()).ok(),
            term: signal(SignalKind::terminate()).ok(),
            hup: signal(SignalKind::hangup()).ok(),
        }
    }

    /// The next stop signal's name.
    pub async fn recv(&mut self) -> &'static str {
        async fn next(s: &mut Option<Signal>) {
            match s {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            _ = next(&mut self.int) => "interrupt",
            _ = next(&mut self.term) => "SIGTERM",
            _ = next(&mut self.hup) => "SIGHUP",
        }
    }
}
