//! Line-by-line output as it arrives: `label: line`, or NDJSON for scripts.

use std::io::{BufWriter, Stderr, Stdout, Write};

use super::json_out::{RunLine, to_line};

use super::outcome::Ended;
use crate::engine::{ExitStatus, HostOutcome};
use crate::text::lines::LineSplitter;
use crate::text::sanitize::sanitize_line;

/// Longest line we hold before cutting it; bounds memory per host.
const MAX_LINE: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamFormat {
    /// `label: line` on stdout; stderr lines on stderr with the same prefix.
    Lines,
    /// NDJSON events on stdout.
    Json,
    /// Nothing while running (the gathered view prints at the end).
    Quiet,
}

pub struct StreamPrinter {
    format: StreamFormat,
    labels: Vec<String>,
    /// [stdout, stderr] splitter per host.
    splitters: Vec<[LineSplitter; 2]>,
    out: BufWriter<Stdout>,
    err: BufWriter<Stderr>,
    color: bool,
    job: u64,
}

impl StreamPrinter {
    pub fn new(format: StreamFormat, labels: Vec<String>, color: bool) -> Self {
        let splitters = labels
            .iter()
            .map(|_| [LineSplitter::new(MAX_LINE), LineSplitter::new(MAX_LINE)])
            .collect();
        StreamPrinter {
            format,
            labels,
            splitters,
            out: BufWriter::with_capacity(64 * 1024, std::io::stdout()),
            err: BufWriter::new(std::io::stderr()),
            color,
            job: 0,
        }
    }

    pub fn set_job(&mut self, job: u64) {
        self.job = job;
    }

    pub fn state(&mut self, host: usize, state: &str) {
        if self.format == StreamFormat::Json {
            let v = RunLine::new(state, self.job, Some(&self.labels[host]));
            let _ = writeln!(self.out, "{}", to_line(&v));
        }
    }

    pub fn output(&mut self, host: usize, stderr: bool, data: &[u8]) {
        if self.format == StreamFormat::Quiet {
            return;
        }
        let Self {
            splitters,
            labels,
            out,
            err,
            format,
            color,
            job,
        } = self;
        let label = &labels[host];
        let write = |line: &[u8]| write_line(*format, *color, *job, label, stderr, line, out, err);
        let mut write = write;
        splitters[host][usize::from(stderr)].push(data, &mut write);
    }

    pub fn end(&mut self, host: usize, ended: &Ended) {
        if self.format == StreamFormat::Quiet {
            return;
        }
        let Self {
            splitters,
            labels,
            out,
            err,
            format,
            color,
            job,
        } = self;
        let label = &labels[host];
        for (i, s) in splitters[host].iter_mut().enumerate() {
            s.finish(|line| write_line(*format, *color, *job, label, i == 1, line, out, err));
        }
        if *format == StreamFormat::Json {
            let mut v = match &ended.outcome {
                HostOutcome::Exit(status) => {
                    let mut v = RunLine::new("exit", *job, Some(label));
                    match status {
                        ExitStatus::Code(c) => v.code = Some(i64::from(*c)),
                        ExitStatus::Signal { name, core_dumped } => {
                            v.signal = Some(name.as_str());
                            v.core_dumped = Some(*core_dumped);
                        }
                    }
                    v
                }
                HostOutcome::Failed { kind, cause } => {
                    let mut v = RunLine::new("failed", *job, Some(label));
                    v.kind = Some(kind.as_str());
                    v.error = Some(cause.clone());
                    v
                }
            };
            v.elapsed_ms = Some(u64::try_from(ended.elapsed.as_millis()).unwrap_or(u64::MAX));
            let _ = writeln!(out, "{}", to_line(&v));
        }
    }

    pub fn summary(&mut self, hosts: usize, failed: usize) {
        let mut v = RunLine::new("summary", self.job, None);
        v.hosts = Some(hosts);
        v.ok = Some(hosts.saturating_sub(failed));
        v.failed = Some(failed);
        let _ = writeln!(self.out, "{}", to_line(&v));
    }

    pub fn flush(&mut self) {
        let _ = self.out.flush();
        let _ = self.err.flush();
    }
}

#[allow(clippy::too_many_arguments)]
fn write_line(
    format: StreamFormat,
    color: bool,
    job: u64,
    label: &str,
    stderr: bool,
    line: &[u8],
    out: &mut BufWriter<Stdout>,
    err: &mut BufWriter<Stderr>,
) {
    match format {
        StreamFormat::Quiet => {}
        StreamFormat::Json => {
            // JSON escapes every control character, so raw text is safe here
            // and scripts see exactly what the host printed.
            let event = if stderr { "stderr" } else { "stdout" };
            let mut v = RunLine::new(event, job, Some(label));
            v.line = Some(String::from_utf8_lossy(line).into_owned());
            let _ = writeln!(out, "{}", to_line(&v));
        }
        StreamFormat::Lines => {
            let text = sanitize_line(line);
            let w: &mut dyn Write = if stderr { err } else { out };
            let _ = match (color, stderr) {
                (true, false) => writeln!(w, "\x1b[36m{label}:\x1b[0m {text}"),
                (true, true) => writeln!(w, "\x1b[31m{label}:\x1b[0m {text}"),
                (false, _) => writeln!(w, "{label}: {text}"),
            };
        }
    }
}
