//! Who gets the CPU first in a session's server: its clients' keystrokes.
//!
//! During a flood the runtime's threads decrypt and parse output for every
//! host, all the time. On a loaded machine (two cores, say) a keystroke
//! then waits behind them: the threads that read a client's keys and the
//! loop that draws are threads of the same process, and the scheduler
//! shares the process's time between all of them equally. In a session's
//! server the runtime's threads therefore run at a lower priority; they
//! still take every cycle nothing else wants, so a flood on an idle
//! machine moves as fast as before, but a keystroke's path runs first.
//! (Raising a thread's nice value needs no privilege; the threads never
//! ask for it back.)
//!
//! The screen in sshdeck's own process (`--no-session`) does without:
//! there it shortened the flood's keystroke tail (p99 30.7 to 26.0 ms)
//! but raised peak memory by 2 MiB, and that screen met its target
//! without it (BENCHMARKS.md, issue 27). A session's keystrokes cross two
//! more processes, and need the head start more.

/// How much lower: weight 110 against the loop's 1024, so the loop and the
/// input reader get about nine tenths of the process's time when they want it.
const RUNTIME_NICE: libc::c_int = 10;

/// Called on each runtime thread as it starts (tokio's `on_thread_start`).
pub fn lower_this_thread() {
    // SAFETY: gettid has no preconditions; setpriority on our own thread id
    // with a plain integer. A failure (a sandbox that forbids it) only
    // leaves the thread at its normal priority.
    unsafe {
        let tid = libc::gettid();
        let _ = libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, RUNTIME_NICE);
    }
}
