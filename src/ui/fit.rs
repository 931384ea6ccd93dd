//! Fitting text to narrow panes: what gives way first.
//!
//! A host row keeps its name, state and result; fact columns are dropped
//! before those shrink. A pane title keeps its state (done count, page,
//! keys) and shortens the command text instead.

use crate::text::shorten;

/// How many fact columns fit in a host-list row `width` columns wide
/// when the host's own part (glyph, mark, name, exit code and time) needs
/// `host`. `cols` are the columns' widths, most important first: the
/// rightmost give way first, and all of them before the host's part.
pub fn columns_that_fit(width: usize, host: usize, cols: &[usize]) -> usize {
    let mut left = width.saturating_sub(host);
    cols.iter()
        .take_while(|&&w| {
            let fits = w <= left;
            if fits {
                left -= w;
            }
            fits
        })
        .count()
}

/// A title for a border `width` columns wide: ` text · state `. The state
/// is kept whole and `text` is shortened with an ellipsis (down to the
/// ellipsis alone, then left out); only when the state alone is too wide
/// is it cut too.
pub fn fit_title(text: &str, state: &str, width: usize) -> String {
    let full = format!(" {text} · {state} ");
    if full.chars().count() <= width {
        return full;
    }
    // " " + text + " · " + state + " "
    let fixed = state.chars().count() + 5;
    if width > fixed {
        return format!(" {} · {state} ", shorten(text, width - fixed));
    }
    if width < 3 {
        return String::new();
    }
    format!(" {} ", shorten(state, width - 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_fits_in_a_wide_list() {
        assert_eq!(columns_that_fit(60, 20, &[7, 7, 7]), 3);
        assert_eq!(columns_that_fit(41, 20, &[7, 7, 7]), 3);
    }

    #[test]
    fn the_rightmost_columns_go_first() {
        assert_eq!(columns_that_fit(40, 20, &[7, 7, 7]), 2);
        assert_eq!(columns_that_fit(34, 20, &[7, 7, 7]), 2);
        assert_eq!(columns_that_fit(33, 20, &[7, 7, 7]), 1);
        // A wide first column does not let a later, narrower one in.
        assert_eq!(columns_that_fit(30, 20, &[12, 5]), 0);
    }

    #[test]
    fn only_name_and_state_fit() {
        assert_eq!(columns_that_fit(20, 20, &[7, 7, 7]), 0);
        assert_eq!(columns_that_fit(12, 20, &[7]), 0);
        assert_eq!(columns_that_fit(0, 0, &[]), 0);
    }

    #[test]
    fn a_title_that_fits_is_whole() {
        assert_eq!(fit_title("uptime", "3/5 done", 40), " uptime · 3/5 done ");
    }

    #[test]
    fn the_command_shortens_before_the_state() {
        let t = fit_title("tail -n 50 /var/log/syslog", "3/5 done · page 2/5", 40);
        assert_eq!(t, " tail -n 50 /var… · 3/5 done · page 2/5 ");
        assert_eq!(t.chars().count(), 40);
        // Down to the ellipsis alone.
        assert_eq!(
            fit_title("uptime", "3/5 done · page 2/5", 26),
            " u… · 3/5 done · page 2/5 "
        );
        assert_eq!(
            fit_title("uptime", "3/5 done · page 2/5", 25),
            " … · 3/5 done · page 2/5 "
        );
    }

    #[test]
    fn the_state_is_cut_only_when_it_alone_is_too_wide() {
        assert_eq!(
            fit_title("uptime", "3/5 done · page 2/5", 24),
            " 3/5 done · page 2/5 "
        );
        assert_eq!(
            fit_title("uptime", "3/5 done · page 2/5", 11),
            " 3/5 done… "
        );
        assert_eq!(fit_title("uptime", "3/5 done", 0), "");
    }
}
