//! Host patterns as Ansible's file inventories read them: an optional
//! `:port` after a host name or address (`[v6]:port` for IPv6), then
//! ranges `[01:20]`, `[a:f]` and `[1:10:2]` expanded left to right.
//!
//! The port is split off only when what precedes it is a valid host
//! name, IPv4 or IPv6 address (ranges allowed), as Ansible decides it;
//! otherwise the whole text is the name.

/// The expanded names and the port the pattern gives them.
pub(crate) fn expand_pattern(pattern: &str) -> Result<(Vec<String>, Option<i64>), String> {
    let (name, port) = split_port(pattern);
    let names = if name.contains('[') {
        expand_ranges(&name)?
    } else {
        vec![name]
    };
    Ok((names, port))
}

fn split_port(pattern: &str) -> (String, Option<i64>) {
    let mut address = pattern.to_string();
    let mut port = None;
    // `[host]:port` first; then `host:port` is tried on what is left,
    // as Ansible tries both forms in turn.
    if let Some(rest) = address.strip_prefix('[')
        && let Some((inner, p)) = rest.rsplit_once("]:")
        && !inner.is_empty()
        && is_digits(p)
    {
        port = p.parse().ok();
        address = inner.to_string();
    }
    if let Some((host, p)) = address.rsplit_once(':')
        && is_digits(p)
        && host_without_bare_colons(host)
    {
        port = p.parse().ok();
        address = host.to_string();
    }
    if is_ipv4(&address) || is_ipv6(&address) || is_hostname(&address) {
        (address, port)
    } else {
        (pattern.to_string(), None)
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `(?:[^:\[\]]|\[[^\]]*\])*`: colons only inside complete brackets.
fn host_without_bare_colons(s: &str) -> bool {
    let mut in_bracket = false;
    for c in s.chars() {
        match (in_bracket, c) {
            (false, '[') => in_bracket = true,
            (false, ':' | ']') => return false,
            (true, ']') => in_bracket = false,
            _ => {}
        }
    }
    !in_bracket
}

/// A range Ansible's address patterns allow: `[0:9]`, `[a:z]`, with
/// an optional `:step`. Returns the length it spans.
fn range_at(s: &str, alpha: bool, hex: bool) -> Option<usize> {
    let end = s.find(']')?;
    let inner = &s[1..end];
    let parts: Vec<&str> = inner.split(':').collect();
    if parts.len() != 2 && parts.len() != 3 {
        return None;
    }
    if parts.len() == 3 && !is_digits(parts[2]) {
        return None;
    }
    let bounds_ok = (is_digits(parts[0]) && is_digits(parts[1]))
        || (hex
            && [parts[0], parts[1]]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_hexdigit())))
        || (alpha
            && [parts[0], parts[1]]
                .iter()
                .all(|p| p.len() == 1 && p.bytes().all(|b| b.is_ascii_alphabetic())));
    bounds_ok.then_some(end + 1)
}

fn is_hostname(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(is_label)
}

fn is_label(label: &str) -> bool {
    let mut rest = label;
    let mut first = true;
    let mut last_char = None;
    while let Some(c) = rest.chars().next() {
        if c == '[' {
            let Some(n) = range_at(rest, true, false) else {
                return false;
            };
            rest = &rest[n..];
            last_char = Some(']');
        } else {
            let word = c.is_alphanumeric() || c == '_';
            if !(word || (!first && c == '-')) {
                return false;
            }
            rest = &rest[c.len_utf8()..];
            last_char = Some(c);
        }
        first = false;
    }
    !matches!(last_char, None | Some('_' | '-'))
}

fn is_ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            if p.starts_with('[') {
                return range_at(p, false, false) == Some(p.len());
            }
            // `[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]`
            is_digits(p)
                && p.len() <= 3
                && (p.len() < 3
                    || p.starts_with(['0', '1'])
                    || p.parse::<u16>().is_ok_and(|n| n <= 255))
        })
}

fn is_ipv6(s: &str) -> bool {
    if s.contains('[') {
        // Ranges in IPv6 addresses: check the shape with each range
        // standing for one hexadecimal group.
        let mut flat = String::new();
        let mut rest = s;
        while let Some(i) = rest.find('[') {
            flat.push_str(&rest[..i]);
            let Some(n) = range_at(&rest[i..], false, true) else {
                return false;
            };
            flat.push('0');
            rest = &rest[i + n..];
        }
        flat.push_str(rest);
        return flat.parse::<std::net::Ipv6Addr>().is_ok();
    }
    s.contains(':') && s.parse::<std::net::Ipv6Addr>().is_ok()
}

const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Expands the first `[begin:end(:step)]`, then what remains, as
/// Ansible's `expand_hostname_range` does (letters by their place in
/// a-zA-Z, numbers zero-padded to the width of a zero-led begin).
fn expand_ranges(name: &str) -> Result<Vec<String>, String> {
    let (Some(open), Some(close)) = (name.find('['), name.find(']')) else {
        return Err(format!("unbalanced '[' in host pattern {name:?}"));
    };
    let (first, second) = (open.min(close), open.max(close));
    let head = &name[..first];
    let range = &name[first + 1..second];
    let tail = &name[second + 1..];
    if name.contains('|') {
        return Err(format!("'|' in host pattern {name:?}"));
    }
    let bounds: Vec<&str> = range.split(':').collect();
    if bounds.len() != 2 && bounds.len() != 3 {
        return Err(format!(
            "host range [{range}] must be begin:end or begin:end:step"
        ));
    }
    let beg = if bounds[0].is_empty() { "0" } else { bounds[0] };
    let end = bounds[1];
    if end.is_empty() {
        return Err(format!("host range [{range}] must specify an end value"));
    }
    let step = match bounds.get(2) {
        Some(s) => super::value::py_int(s)
            .ok_or_else(|| format!("host range [{range}]: step {s:?} is not a number"))?,
        None => 1,
    };
    let width = (beg.len() > 1 && beg.starts_with('0')).then_some(beg.len());
    if width.is_some_and(|w| w != end.len()) {
        return Err(format!(
            "host range [{range}] must have begin and end of equal width"
        ));
    }
    let fill = |s: String| match width {
        Some(w) if s.len() < w => format!("{}{s}", "0".repeat(w - s.len())),
        _ => s,
    };
    let items: Vec<String> = match (LETTERS.find(beg), LETTERS.find(end)) {
        (Some(b), Some(e)) if step > 0 => {
            if b > e {
                return Err(format!("host range [{range}] must have begin <= end"));
            }
            LETTERS[b..=e]
                .chars()
                .step_by(step as usize)
                .map(String::from)
                .collect()
        }
        (Some(_), Some(_)) if step < 0 => Vec::new(),
        _ => {
            let not_number = || format!("host range [{range}] is neither numbers nor letters");
            let b = super::value::py_int(beg).ok_or_else(not_number)?;
            let e = super::value::py_int(end).ok_or_else(not_number)?;
            if step == 0 {
                return Err(format!("host range [{range}]: the step cannot be zero"));
            }
            let count = if step > 0 {
                (e + 1 - b).max(0) / step
            } else {
                (b - e - 1).max(0) / -step
            };
            if count > 1_000_000 {
                return Err(format!(
                    "host range [{range}] names more than a million hosts"
                ));
            }
            let mut v = Vec::new();
            let mut i = b;
            while (step > 0 && i <= e) || (step < 0 && i > e + 1) {
                v.push(i.to_string());
                i += step;
            }
            v
        }
    };
    let mut out = Vec::new();
    for item in items {
        let host = format!("{head}{}{tail}", fill(item));
        if host.contains('[') {
            out.extend(expand_ranges(&host)?);
        } else {
            out.push(host);
        }
        if out.len() > 1_000_000 {
            return Err(format!(
                "host pattern {name:?} names more than a million hosts"
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(p: &str) -> Vec<String> {
        expand_pattern(p).unwrap().0
    }

    #[test]
    fn ranges_expand_with_padding_steps_and_letters() {
        assert_eq!(names("web[01:03]"), ["web01", "web02", "web03"]);
        assert_eq!(names("n[1:10:4]"), ["n1", "n5", "n9"]);
        assert_eq!(names("db-[a:c]"), ["db-a", "db-b", "db-c"]);
        assert_eq!(names("x[a:e:2]y"), ["xay", "xcy", "xey"]);
        assert_eq!(names("r[1:2]n[1:2]"), ["r1n1", "r1n2", "r2n1", "r2n2"]);
        assert_eq!(names("n[:2]"), ["n0", "n1", "n2"]);
        assert!(names("n[5:1]").is_empty());
    }

    #[test]
    fn bad_ranges_are_errors() {
        assert!(expand_pattern("n[01:100]").is_err());
        assert!(expand_pattern("n[1:]").is_err());
        assert!(expand_pattern("n[1:2:0]").is_err());
        assert!(expand_pattern("n[1]").is_err());
        assert!(expand_pattern("n[a:3]").is_err());
        assert!(expand_pattern("n[1:999999999]").is_err());
    }

    #[test]
    fn a_port_is_split_off_valid_names_only() {
        assert_eq!(
            expand_pattern("web1:2222").unwrap(),
            (vec!["web1".into()], Some(2222))
        );
        assert_eq!(
            expand_pattern("10.0.0.1:22").unwrap(),
            (vec!["10.0.0.1".into()], Some(22))
        );
        assert_eq!(
            expand_pattern("[::1]:22").unwrap(),
            (vec!["::1".into()], Some(22))
        );
        assert_eq!(
            expand_pattern("fe80::1").unwrap(),
            (vec!["fe80::1".into()], None)
        );
        assert_eq!(
            expand_pattern("w[1:2]:22").unwrap(),
            (vec!["w1".into(), "w2".into()], Some(22))
        );
        // Not a valid host name before the colon: the whole is the name.
        assert_eq!(
            expand_pattern("web-:22").unwrap(),
            (vec!["web-:22".into()], None)
        );
    }
}
