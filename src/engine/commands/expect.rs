//! Prompt answering, pexpect-style: rules match the text a host prints
//! (exec or shell output, stdout or stderr) and each match is answered with
//! a named secret. The secret itself lives in [`crate::engine::commands::secrets`]; this
//! module only finds the prompts.
//!
//! Prompts end without a newline, so rules are matched against the current
//! line as it grows, chunk by chunk, with escape sequences removed (a shell
//! may colour its prompt). Each part of a line is matched at most once, so
//! one prompt gets one answer however the bytes were split.

use regex::Regex;

/// Longest line kept for matching; a host printing one endless line must
/// not make us hold (or rescan) all of it.
const MAX_LINE: usize = 4096;

#[derive(Debug, Clone)]
pub struct ExpectRule {
    /// Name of the secret that answers it (e.g. "sudo").
    pub secret: String,
    pub pattern: Regex,
    /// Text meaning the answer was wrong (sudo's "Sorry, try again."):
    /// the secret is forgotten and asked again at the next prompt.
    pub failure: Option<Regex>,
}

impl ExpectRule {
    /// The rule `--sudo` adds: sudo's own prompt, which `--sudo` sets with
    /// `-p` so it matches whatever the host's locale or sudoers say.
    pub fn sudo() -> ExpectRule {
        ExpectRule {
            secret: "sudo".into(),
            pattern: Regex::new(r"\[sudo\] password for [^:\n]*: ?$").expect("constant pattern"),
            failure: Regex::new(r"Sorry, try again\.").ok(),
        }
    }
}

/// What [`Watcher::feed`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectMatch {
    /// Rule `rule` matched; `text` is the matched prompt (escapes removed).
    Prompt { rule: usize, text: String },
    /// The failure text of rule `rule` appeared after it was answered.
    Rejected { rule: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Text,
    Esc,
    Csi,
    /// OSC, DCS and friends: until BEL or ESC \.
    Str,
    StrEsc,
}

/// Watches one output stream.
#[derive(Debug)]
pub struct Watcher {
    rules: std::sync::Arc<[ExpectRule]>,
    line: String,
    /// Per rule: how much of `line` was already matched.
    done: Vec<usize>,
    /// Rules answered on this stream, whose failure text is now watched.
    answered: Vec<bool>,
    esc: Mode,
}

impl Watcher {
    pub fn new(rules: std::sync::Arc<[ExpectRule]>) -> Watcher {
        let n = rules.len();
        Watcher {
            rules,
            line: String::new(),
            done: vec![0; n],
            answered: vec![false; n],
            esc: Mode::Text,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn rule(&self, i: usize) -> Option<&ExpectRule> {
        self.rules.get(i)
    }

    /// Note that rule `i` was answered, so its failure text counts.
    pub fn answered(&mut self, i: usize) {
        if let Some(a) = self.answered.get_mut(i) {
            *a = true;
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) -> Vec<ExpectMatch> {
        let mut found = Vec::new();
        if self.rules.is_empty() {
            return found;
        }
        for c in String::from_utf8_lossy(chunk).chars() {
            match (self.esc, c) {
                (Mode::Text, '\x1b') => self.esc = Mode::Esc,
                (Mode::Text, '\n' | '\r') => {
                    self.scan(&mut found);
                    self.new_line();
                }
                (Mode::Text, c) if c.is_control() => {}
                (Mode::Text, c) => {
                    if self.line.len() >= MAX_LINE {
                        self.scan(&mut found);
                        self.new_line();
                    }
                    self.line.push(c);
                }
                (Mode::Esc, '[') => self.esc = Mode::Csi,
                (Mode::Esc, ']' | 'P' | '_' | '^' | 'X') => self.esc = Mode::Str,
                (Mode::Esc, _) => self.esc = Mode::Text,
                (Mode::Csi, '\x40'..='\x7e') => self.esc = Mode::Text,
                (Mode::Csi, _) => {}
                (Mode::Str, '\x07') => self.esc = Mode::Text,
                (Mode::Str, '\x1b') => self.esc = Mode::StrEsc,
                (Mode::Str, _) => {}
                (Mode::StrEsc, '\\') => self.esc = Mode::Text,
                (Mode::StrEsc, _) => self.esc = Mode::Str,
            }
        }
        self.scan(&mut found);
        found
    }

    fn new_line(&mut self) {
        self.line.clear();
        self.done.iter_mut().for_each(|d| *d = 0);
    }

    /// Match every rule against the part of the line it has not seen.
    fn scan(&mut self, found: &mut Vec<ExpectMatch>) {
        for (i, rule) in self.rules.iter().enumerate() {
            let from = self.done[i].min(self.line.len());
            let rest = &self.line[from..];
            if self.answered[i]
                && let Some(f) = &rule.failure
                && f.is_match(rest)
            {
                self.answered[i] = false;
                found.push(ExpectMatch::Rejected { rule: i });
            }
            let mut end = from;
            for m in rule.pattern.find_iter(rest) {
                found.push(ExpectMatch::Prompt {
                    rule: i,
                    text: m.as_str().to_string(),
                });
                end = from + m.end();
            }
            self.done[i] = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn rules(p: &str) -> Arc<[ExpectRule]> {
        Arc::from(vec![ExpectRule {
            secret: "s".into(),
            pattern: Regex::new(p).unwrap(),
            failure: Regex::new("try again").ok(),
        }])
    }

    fn prompts(f: &[ExpectMatch]) -> usize {
        f.iter()
            .filter(|x| matches!(x, ExpectMatch::Prompt { .. }))
            .count()
    }

    #[test]
    fn a_prompt_split_over_chunks_matches_once() {
        let mut w = Watcher::new(rules(r"password for \w+: $"));
        assert!(w.feed(b"[sudo] pass").is_empty());
        let f = w.feed(b"word for bob: ");
        assert_eq!(
            f,
            vec![ExpectMatch::Prompt {
                rule: 0,
                text: "password for bob: ".into()
            }]
        );
        // More bytes on the same line do not answer it again.
        assert_eq!(prompts(&w.feed(b"")), 0);
        assert_eq!(prompts(&w.feed(b"\r\n")), 0);
        // A second prompt on a new line does.
        assert_eq!(prompts(&w.feed(b"password for bob: ")), 1);
    }

    #[test]
    fn escapes_are_ignored_and_two_prompts_in_one_chunk_match_twice() {
        let mut w = Watcher::new(rules(r"Password: "));
        let f = w.feed(b"\x1b[1mPass\x1b]0;title\x07word: \x1b[0m\nPassword: ");
        assert_eq!(prompts(&f), 2);
    }

    #[test]
    fn failure_text_counts_only_after_an_answer() {
        let mut w = Watcher::new(rules(r"Password: "));
        assert!(w.feed(b"please try again\n").is_empty());
        assert_eq!(prompts(&w.feed(b"Password: ")), 1);
        w.answered(0);
        let f = w.feed(b"\nSorry, try again.\nPassword: ");
        assert_eq!(f[0], ExpectMatch::Rejected { rule: 0 });
        assert_eq!(prompts(&f), 1);
    }

    #[test]
    fn endless_lines_stay_bounded() {
        let mut w = Watcher::new(rules(r"Password: $"));
        for _ in 0..100 {
            w.feed(&[b'x'; 1000]);
        }
        assert!(w.line.len() <= MAX_LINE);
        assert_eq!(prompts(&w.feed(b"\nPassword: ")), 1);
    }

    #[test]
    fn the_sudo_rule_matches_sudo_prompts() {
        let mut w = Watcher::new(Arc::from(vec![ExpectRule::sudo()]));
        assert_eq!(prompts(&w.feed(b"[sudo] password for root: ")), 1);
        assert_eq!(prompts(&w.feed(b"\n[sudo] password for a.b-c: ")), 1);
        assert_eq!(prompts(&w.feed(b"\necho [sudo] password for x: done\n")), 0);
    }
}
