//! The inside of a bracket, read as ClusterShell's RangeSet reads it:
//! `01-20,30,1-9/2,-5,-8--4`, blanks around items and bounds ignored,
//! zero padding kept per value. Also the digits written just outside a
//! bracket, which ClusterShell folds into the range (`n1[0-2]` is
//! `n10..n12`, `n[1-2]0` is `n10,n20`), so the same text gives the same
//! names in both tools.

/// Why a bracket's inside is refused, and where (bytes into the text).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct RangeError {
    pub offset: usize,
    pub msg: String,
}

fn fail<T>(offset: usize, msg: impl Into<String>) -> Result<T, RangeError> {
    Err(RangeError {
        offset,
        msg: msg.into(),
    })
}

/// One comma-separated item: `start..=stop` by `step`, each value printed
/// `pad` digits wide.
struct RangeSpan {
    start: i64,
    stop: i64,
    step: u64,
    pad: usize,
}

/// The values a bracket's inside stands for, as written (padding kept),
/// in the order written. More than `limit` values is an error, so a typo
/// cannot ask for billions of names.
pub(super) fn values(body: &str, limit: usize) -> Result<Vec<String>, RangeError> {
    if body.trim().is_empty() {
        return fail(0, "empty brackets");
    }
    let mut out = Vec::new();
    let mut pos = 0;
    for item in body.split(',') {
        let span = span(item).map_err(|e| RangeError {
            offset: pos + e.offset,
            msg: e.msg,
        })?;
        let count = span.stop.abs_diff(span.start) / span.step + 1;
        if count.saturating_add(out.len() as u64) > limit as u64 {
            return fail(
                pos,
                format!("{:?} has more than {limit} values", item.trim()),
            );
        }
        let pad = span.pad;
        let mut v = span.start;
        while v <= span.stop {
            out.push(format!("{v:0pad$}"));
            // step ≤ stop - start here, or the loop ends: no overflow past stop.
            match i64::try_from(span.step).ok().and_then(|s| v.checked_add(s)) {
                Some(next) => v = next,
                None => break,
            }
        }
        pos += item.len() + 1;
    }
    Ok(out)
}

fn span(item: &str) -> Result<RangeSpan, RangeError> {
    let lead = item.len() - item.trim_start().len();
    let text = item.trim();
    if text.is_empty() {
        return fail(0, "empty range");
    }
    let (base, step) = match text.split_once('/') {
        Some((base, st)) => match st.trim().parse::<u64>() {
            Ok(n) if n > 0 && st.trim().bytes().all(|b| b.is_ascii_digit()) => (base, n),
            _ => {
                return fail(
                    lead + base.len() + 1,
                    format!("bad step {st:?}: expected a positive number"),
                );
            }
        },
        None => (text, 1),
    };
    // A '-' splits the bounds; a '-' with nothing before it is a sign:
    // `-5`, `-5-3`, `-8--4`.
    let pieces: Vec<&str> = base.split('-').collect();
    let blank = |s: &str| s.trim().is_empty();
    let (lo, hi, lo_neg, hi_neg) = match pieces.as_slice() {
        [one] => {
            // `n[3/1]` is 3, as in ClusterShell; any other step needs a range.
            if step != 1 {
                return fail(lead, format!("a step needs a range: {text:?}"));
            }
            (*one, *one, false, false)
        }
        [a, b] if blank(a) => (*b, *b, true, true),
        [a, b] => (*a, *b, false, false),
        [a, b, c] if blank(a) => (*b, *c, true, false),
        [a, b, c, d] if blank(a) && blank(c) => (*b, *d, true, true),
        // ClusterShell ignores what comes before the sign in `5-1-3`
        // (reads it as -1..3); we refuse it rather than guess.
        _ => return fail(lead, format!("{text:?} is not a range")),
    };
    let hi_at = lead + base.len() - pieces.last().map_or(0, |p| p.len());
    let (lo, hi) = (lo.trim(), hi.trim());
    let a = number(lo, lead)?;
    let b = number(hi, hi_at)?;
    // ClusterShell's widths: a start written with leading zeros sets the
    // padding; an end with leading zeros must then have the same width.
    let pad = if lo.len() > 1 && lo.starts_with('0') {
        lo.len()
    } else {
        0
    };
    let end_padded = hi.len() > 1 && hi.starts_with('0') && b != 0;
    if (pad > 0 || end_padded) && lo.len() != hi.len() {
        return fail(
            lead,
            format!("padding length mismatch: {text:?} (both bounds need the same width)"),
        );
    }
    if pad > 0 && lo_neg {
        return fail(
            lead,
            format!("padding is not allowed on negative numbers: {text:?}"),
        );
    }
    let start = if lo_neg { -a } else { a };
    let stop = if hi_neg { -b } else { b };
    if stop < start {
        return fail(lead, format!("range {text:?} goes backwards"));
    }
    Ok(RangeSpan {
        start,
        stop,
        step,
        pad,
    })
}

fn number(s: &str, at: usize) -> Result<i64, RangeError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return fail(at, format!("{s:?} is not a number"));
    }
    s.parse()
        .or_else(|_| fail(at, format!("{s:?} is too large")))
}

/// Digits written right after `]` belong to every bound, and multiply the
/// step: `[1-3]0` is `10-30/10`, as in ClusterShell. With a step already
/// there the meaning is unclear, so it is refused (as ClusterShell does).
pub(super) fn append_digits(body: &str, digits: &str) -> Result<String, String> {
    if body.contains('/') {
        return Err(format!(
            "digits {digits:?} after a bracket with a step are ambiguous (as in ClusterShell): put them inside the bracket"
        ));
    }
    let step = format!("/1{}", "0".repeat(digits.len()));
    let items: Vec<String> = body
        .split(',')
        .map(|item| {
            let bounds: Vec<String> = item.split('-').map(|b| format!("{b}{digits}")).collect();
            let mut out = bounds.join("-");
            if item.contains('-') {
                out.push_str(&step);
            }
            out
        })
        .collect();
    Ok(items.join(","))
}

/// Digits written right before `[` start every value: `n1[0-2]` is
/// `10-12`. As in ClusterShell, the values are first joined into runs of
/// consecutive numbers of one width, and the digits go in front of each
/// run's bounds: `0[7-10]` becomes `07-010`, refused for its widths.
pub(super) fn prepend_digits(body: &str, digits: &str, limit: usize) -> Result<String, RangeError> {
    let mut seen = std::collections::HashSet::new();
    let mut vals: Vec<(i64, String)> = Vec::new();
    for v in values(body, limit)? {
        if seen.insert(v.clone()) {
            let n = v
                .parse()
                .or_else(|_| fail(0, format!("{v:?} is not a number")))?;
            vals.push((n, v));
        }
    }
    if vals.iter().any(|(n, _)| *n < 0) {
        // The digits would land between a sign and its number.
        return fail(
            0,
            format!("digits {digits:?} before '[' cannot start negative numbers"),
        );
    }
    // Shorter first, then by value: ClusterShell's order for mixed widths.
    vals.sort_by_key(|(n, text)| (text.len(), *n));
    let padded = |s: &str| s.len() > 1 && s.starts_with('0');
    let mut runs: Vec<(String, String)> = Vec::new();
    let mut last: Option<(i64, bool, usize)> = None;
    for (n, text) in vals {
        let joins = last.is_some_and(|(prev, run_padded, width)| {
            prev.checked_add(1) == Some(n)
                && if run_padded {
                    text.len() == width
                } else {
                    !padded(&text)
                }
        });
        match (joins, runs.last_mut(), last.as_mut()) {
            (true, Some(run), Some(l)) => {
                run.1 = text;
                l.0 = n;
            }
            _ => {
                last = Some((n, padded(&text), text.len()));
                runs.push((text.clone(), text));
            }
        }
    }
    let items: Vec<String> = runs
        .into_iter()
        .map(|(a, b)| {
            if a == b {
                format!("{digits}{a}")
            } else {
                format!("{digits}{a}-{digits}{b}")
            }
        })
        .collect();
    Ok(items.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(body: &str) -> Vec<String> {
        values(body, 1000).unwrap_or_else(|e| panic!("{body}: {e:?}"))
    }

    fn refused(body: &str) -> String {
        values(body, 1000).expect_err(body).msg
    }

    #[test]
    fn items_bounds_and_steps() {
        assert_eq!(v("1-3,7"), ["1", "2", "3", "7"]);
        assert_eq!(v("0-8/4"), ["0", "4", "8"]);
        assert_eq!(v("3/1"), ["3"]);
        assert!(refused("3/2").contains("a step needs a range"));
    }

    #[test]
    fn blanks_go_around_items_and_bounds_but_not_inside_numbers() {
        assert_eq!(v(" 1 - 2 , 5 "), ["1", "2", "5"]);
        assert_eq!(v("0-8 / 4"), ["0", "4", "8"]);
        assert!(refused("1 2").contains("not a number"));
        assert!(refused("1,10 0").contains("not a number"));
    }

    #[test]
    fn negative_numbers_and_their_padding() {
        assert_eq!(v("-2"), ["-2"]);
        assert_eq!(v("-2-1"), ["-2", "-1", "0", "1"]);
        assert_eq!(v("-3--2"), ["-3", "-2"]);
        // A lone negative number takes a step, as in ClusterShell.
        assert_eq!(v("-3/2"), ["-3"]);
        assert!(refused("-001").contains("negative"));
        assert!(refused("-003--001").contains("negative"));
        assert!(refused("5-1-3").contains("not a range"));
    }

    #[test]
    fn widths_follow_the_start_bound() {
        assert_eq!(v("08-10"), ["08", "09", "10"]);
        assert_eq!(v("0-00"), ["0"]);
        assert!(refused("1-044").contains("padding length mismatch"));
        assert!(refused("00-5").contains("padding length mismatch"));
        assert!(refused("01-100").contains("padding length mismatch"));
    }

    #[test]
    fn errors_say_where() {
        assert_eq!(values("1,,2", 9).unwrap_err().offset, 2);
        assert_eq!(values("1-x", 9).unwrap_err().offset, 2);
        assert_eq!(values("1-9/0", 9).unwrap_err().offset, 4);
        assert!(refused("").contains("empty brackets"));
        assert!(
            values("1-100", 50)
                .unwrap_err()
                .msg
                .contains("more than 50")
        );
        assert!(refused("99999999999999999999").contains("too large"));
    }

    #[test]
    fn digits_after_the_bracket_scale_the_range() {
        assert_eq!(append_digits("1-3,5", "0").unwrap(), "10-30/10,50");
        assert_eq!(
            v(&append_digits("1-3,5", "0").unwrap()),
            ["10", "20", "30", "50"]
        );
        assert!(append_digits("1-5/2", "0").unwrap_err().contains("step"));
        // Blanks stay where they were, so `[1 ]0` is refused, as ClusterShell does.
        assert!(refused(&append_digits("1 ", "0").unwrap()).contains("not a number"));
    }

    #[test]
    fn digits_before_the_bracket_start_each_run() {
        assert_eq!(prepend_digits("10-320", "2", 1000).unwrap(), "210-2320");
        assert_eq!(
            prepend_digits("0-20/5", "1", 1000).unwrap(),
            "10,15,110,115,120"
        );
        assert_eq!(prepend_digits("1-2", "0", 1000).unwrap(), "01-02");
        // 7..10 is one run, so its bounds get different widths.
        assert_eq!(prepend_digits("7-9,10", "0", 1000).unwrap(), "07-010");
        assert!(refused("07-010").contains("padding length mismatch"));
        // Runs break where the width changes.
        assert_eq!(prepend_digits("09,10,1", "3", 1000).unwrap(), "31,309-310");
        assert!(
            prepend_digits("-1", "3", 1000)
                .unwrap_err()
                .msg
                .contains("negative")
        );
    }
}
