//! Answering the engine's questions on the controlling terminal, one at a
//! time. Secrets are read with echo off and never printed or logged.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc;
use zeroize::Zeroizing;

use crate::engine::{Answer, HostKeyDecision, Prompt, Question};

/// True when there is a terminal to ask on (not under cron, CI, pipes).
pub fn tty_available() -> bool {
    open_tty().is_ok()
}

fn open_tty() -> std::io::Result<File> {
    OpenOptions::new().read(true).write(true).open("/dev/tty")
}

/// Answer prompts until the engine goes away. `busy` is set while a question
/// is on screen so the progress line does not draw over it.
pub fn spawn_answerer(mut rx: mpsc::Receiver<Prompt>, busy: Arc<AtomicBool>) {
    tokio::spawn(async move {
        while let Some(p) = rx.recv().await {
            busy.store(true, Ordering::SeqCst);
            let q = p.question;
            let mut reply = p.reply;
            let asking = tokio::task::spawn_blocking(move || ask(&q).unwrap_or(Answer::Cancel));
            tokio::select! {
                answer = asking => {
                    let _ = reply.send(answer.unwrap_or(Answer::Cancel));
                }
                // Nobody waits for the answer any more (the host was
                // stopped): the question leaves, and the terminal is
                // given back as it was.
                _ = reply.closed() => {
                    restore_terminal();
                    if let Ok(mut tty) = open_tty() {
                        let _ = writeln!(tty, "(question withdrawn: nothing waits for the answer any more)");
                    }
                }
            }
            busy.store(false, Ordering::SeqCst);
        }
    });
}

fn ask(q: &Question) -> std::io::Result<Answer> {
    let mut tty = open_tty()?;
    // Clear a progress line that may be on screen.
    write!(tty, "\r\x1b[K")?;
    match q {
        Question::HostKey {
            host,
            key_type,
            fingerprint,
            save_to,
        } => ask_host_key(&mut tty, host, key_type, fingerprint, save_to),
        Question::Passphrase { key, retry } => {
            let again = if *retry { "Wrong passphrase. " } else { "" };
            secret(&format!("{again}Passphrase for {}: ", key.display())).map(Answer::Secret)
        }
        Question::Password { user, host, retry } => {
            let again = if *retry {
                "Permission denied, try again. "
            } else {
                ""
            };
            secret(&format!(
                "{again}Password for {user}@{host} (reused for other hosts as {user}): "
            ))
            .map(Answer::Secret)
        }
        Question::KeyboardInteractive {
            user,
            host,
            name,
            instructions,
            prompts,
        } => {
            let intro = [name.as_str(), instructions.as_str()].join(" ");
            writeln!(tty, "{user}@{host}: {}", intro.trim())?;
            ask_each(&mut tty, prompts).map(Answer::Secrets)
        }
        Question::Secret {
            name,
            host,
            prompt,
            retry,
        } => {
            let again = if *retry {
                "A host refused the last answer. "
            } else {
                ""
            };
            writeln!(tty, "{host} asks: {prompt}")?;
            secret(&format!(
                "{again}Secret \"{name}\" (sent to every host that asks): "
            ))
            .map(Answer::Secret)
        }
    }
}

/// An unknown host key: asks until the answer is once, save or reject.
fn ask_host_key(
    tty: &mut File,
    host: &str,
    key_type: &str,
    fingerprint: &str,
    save_to: &Path,
) -> std::io::Result<Answer> {
    writeln!(tty, "The authenticity of host {host} can't be established.")?;
    writeln!(tty, "{key_type} key fingerprint is {fingerprint}.")?;
    loop {
        let line = read_line(
            tty,
            &format!(
                "Trust it? [o]nce for this run, [s]ave to {}, [r]eject: ",
                save_to.display()
            ),
        )?;
        let d = match line.trim().to_ascii_lowercase().as_str() {
            "o" | "once" => HostKeyDecision::AcceptOnce,
            "s" | "save" | "yes" => HostKeyDecision::AcceptAndSave,
            "r" | "reject" | "n" | "no" | "" => HostKeyDecision::Reject,
            _ => continue,
        };
        return Ok(Answer::HostKey(d));
    }
}

/// The server's keyboard-interactive prompts, one after another; echoed
/// or hidden as each asks.
fn ask_each(tty: &mut File, prompts: &[(String, bool)]) -> std::io::Result<Vec<Zeroizing<String>>> {
    let mut answers = Vec::with_capacity(prompts.len());
    for (text, echo) in prompts {
        let text = crate::text::sanitize::sanitize_line(text.as_bytes());
        answers.push(if *echo {
            Zeroizing::new(read_line(tty, &text)?)
        } else {
            secret(&text)?
        });
    }
    Ok(answers)
}

fn read_line(tty: &mut File, prompt: &str) -> std::io::Result<String> {
    write!(tty, "{prompt}")?;
    tty.flush()?;
    let mut line = String::new();
    BufReader::new(tty.try_clone()?).read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// The terminal's settings from before a secret was asked, while echo is
/// off: put back by [`restore_terminal`] if sshdeck ends (a Ctrl-C, the
/// last host finishing) before the answer came. Without that, the shell
/// would get a terminal without echo, and the user's next keystrokes (the
/// passphrase itself) would go to it unseen.
static ECHO_OFF: std::sync::Mutex<Option<libc::termios>> = std::sync::Mutex::new(None);

/// Put the terminal back as it was before a secret was asked, if one is
/// being asked. Called on every way out of sshdeck.
pub fn restore_terminal() {
    let saved = ECHO_OFF.lock().ok().and_then(|mut s| s.take());
    if let (Some(t), Ok(tty)) = (saved, open_tty()) {
        use std::os::fd::AsRawFd;
        // SAFETY: tcsetattr on an open descriptor with settings read by
        // tcgetattr from the same terminal.
        unsafe {
            libc::tcsetattr(tty.as_raw_fd(), libc::TCSANOW, &t);
        }
        // The prompt's line stays unfinished: end it.
        let mut tty = tty;
        let _ = writeln!(tty);
    }
}

/// Read a line with echo off (the newline still shows), on the terminal.
fn secret(prompt: &str) -> std::io::Result<Zeroizing<String>> {
    use std::os::fd::AsRawFd;
    let mut tty = open_tty()?;
    let fd = tty.as_raw_fd();
    // SAFETY: termios is plain data; tcgetattr fills it or fails.
    let mut before: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(fd, &mut before) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut quiet = before;
    quiet.c_lflag &= !libc::ECHO;
    quiet.c_lflag |= libc::ECHONL;
    if let Ok(mut s) = ECHO_OFF.lock() {
        *s = Some(before);
    }
    write!(tty, "{prompt}")?;
    tty.flush()?;
    // SAFETY: as above; `quiet` is `before` with echo cleared.
    unsafe {
        libc::tcsetattr(fd, libc::TCSAFLUSH, &quiet);
    }
    let mut line = Zeroizing::new(String::new());
    let read = BufReader::new(tty.try_clone()?).read_line(&mut line);
    // Back as it was, unless sshdeck's exit already did it.
    if ECHO_OFF.lock().ok().and_then(|mut s| s.take()).is_some() {
        // SAFETY: as above.
        unsafe {
            libc::tcsetattr(fd, libc::TCSANOW, &before);
        }
    }
    read?;
    while line.ends_with(['\n', '\r']) {
        line.pop();
    }
    Ok(line)
}
