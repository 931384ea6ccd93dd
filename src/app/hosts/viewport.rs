//! Which lines of an output pane are on screen, as pure arithmetic.
//!
//! A pane's view is named by its offset: how many lines its bottom line
//! sits above the newest one (0 = following the output). Lines wrap, so a
//! line may take several rows; every step here counts rows, not lines, so
//! a page never skips a line and the oldest line can always be reached.

/// The lines of one pane: how many there are, how many rows each takes
/// once wrapped, and how many rows the pane shows.
pub struct Lines<'a> {
    pub len: usize,
    pub rows: &'a dyn Fn(usize) -> usize,
    pub height: usize,
}

/// Rows a line of `chars` characters takes in a pane `width` wide: an
/// empty line still takes one.
pub fn wrapped_rows(chars: usize, width: usize) -> usize {
    chars.div_ceil(width.max(1)).max(1)
}

impl Lines<'_> {
    fn rows_of(&self, i: usize) -> usize {
        (self.rows)(i).max(1)
    }

    /// The bottom line's index for `offset`, or None when there are no
    /// lines.
    pub fn bottom(&self, offset: usize) -> Option<usize> {
        let last = self.len.checked_sub(1)?;
        Some(last - offset.min(last))
    }

    /// The first line on screen (maybe only its last rows) when `bottom`
    /// is the last one.
    pub fn top(&self, bottom: usize) -> usize {
        let mut used = 0;
        let mut i = bottom;
        loop {
            used += self.rows_of(i);
            if used >= self.height || i == 0 {
                return i;
            }
            i -= 1;
        }
    }

    /// The largest useful offset: the oldest line on the top row, every
    /// line under it that fits shown whole.
    pub fn max_offset(&self) -> usize {
        let Some(last) = self.len.checked_sub(1) else {
            return 0;
        };
        let mut used = 0;
        let mut bottom = 0;
        for i in 0..=last {
            used += self.rows_of(i);
            if used > self.height {
                break;
            }
            bottom = i;
        }
        last - bottom
    }

    pub fn clamp(&self, offset: usize) -> usize {
        offset.min(self.max_offset())
    }

    /// A page back: the line on the top row becomes the bottom one, so
    /// the two views share it.
    pub fn page_up(&self, offset: usize) -> usize {
        let Some(b) = self.bottom(offset) else {
            return 0;
        };
        let t = self.top(b);
        // A line taller than the pane fills it alone: step past it.
        let nb = if t == b { b.saturating_sub(1) } else { t };
        self.clamp(self.len - 1 - nb)
    }

    /// A page forward: the bottom line becomes the top one.
    pub fn page_down(&self, offset: usize) -> usize {
        let Some(b) = self.bottom(self.clamp(offset)) else {
            return 0;
        };
        let last = self.len - 1;
        if b == last {
            return 0;
        }
        // Lines after `b` as long as a row of `b` itself still shows.
        let mut nb = b + 1;
        let mut used = self.rows_of(nb);
        while nb < last && used + self.rows_of(nb + 1) < self.height {
            nb += 1;
            used += self.rows_of(nb);
        }
        last - nb
    }

    /// The offset that shows line `i`: it at the bottom, unless that
    /// would scroll past the oldest line.
    pub fn reveal(&self, i: usize) -> usize {
        let Some(last) = self.len.checked_sub(1) else {
            return 0;
        };
        self.clamp(last - i.min(last))
    }

    /// Whether line `i` is on screen at `offset`.
    pub fn shows(&self, offset: usize, i: usize) -> bool {
        self.bottom(offset)
            .is_some_and(|b| i <= b && i >= self.top(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_row(_: usize) -> usize {
        1
    }

    /// Every line seen when paging down from the oldest: none is skipped
    /// and each page shares exactly one line with the one before.
    #[test]
    fn paging_down_overlaps_by_one_and_skips_nothing() {
        let v = Lines {
            len: 301,
            rows: &one_row,
            height: 20,
        };
        let mut off = v.max_offset();
        assert_eq!(v.bottom(off), Some(19), "top view ends at line 20");
        assert_eq!(v.top(19), 0);
        let mut seen = vec![false; 301];
        let mut prev: Option<(usize, usize)> = None;
        for _ in 0..100 {
            let b = v.bottom(off).unwrap();
            let t = v.top(b);
            for s in &mut seen[t..=b] {
                *s = true;
            }
            if let Some((_, pb)) = prev {
                // The last page ends at the newest line, so it may share more.
                if off > 0 {
                    assert_eq!(t, pb, "page shares one line with the last");
                } else {
                    assert!(t <= pb, "no line skipped before the last page");
                }
            }
            prev = Some((t, b));
            if off == 0 {
                break;
            }
            off = v.page_down(off);
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(off, 0);
    }

    #[test]
    fn paging_up_overlaps_and_stops_at_the_oldest_line() {
        let v = Lines {
            len: 100,
            rows: &one_row,
            height: 10,
        };
        let off = v.page_up(0);
        // Bottom was 99, top 90: 90 is now the bottom.
        assert_eq!(v.bottom(off), Some(90));
        let mut off = off;
        for _ in 0..50 {
            off = v.page_up(off);
        }
        assert_eq!(off, v.max_offset());
        assert_eq!(v.top(v.bottom(off).unwrap()), 0);
        assert_eq!(v.bottom(off), Some(9));
    }

    /// Wrapped lines count their rows: a long line takes three rows, so a
    /// page holds fewer lines, and the oldest line stays reachable.
    #[test]
    fn wrapped_rows_are_counted() {
        let rows = |i: usize| if i.is_multiple_of(5) { 3 } else { 1 };
        let v = Lines {
            len: 40,
            rows: &rows,
            height: 10,
        };
        // Lines 0..=5 take 3+1+1+1+1+3 = 10 rows: they fill the top view.
        assert_eq!(v.bottom(v.max_offset()), Some(5));
        let mut off = v.max_offset();
        let mut seen = [false; 40];
        loop {
            let b = v.bottom(off).unwrap();
            for s in &mut seen[v.top(b)..=b] {
                *s = true;
            }
            if off == 0 {
                break;
            }
            let next = v.page_down(off);
            assert!(next < off, "paging moves forward");
            let nb = v.bottom(next).unwrap();
            assert!(v.top(nb) <= b, "no line between two pages");
            off = next;
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(wrapped_rows(0, 10), 1);
        assert_eq!(wrapped_rows(10, 10), 1);
        assert_eq!(wrapped_rows(11, 10), 2);
    }

    #[test]
    fn reveal_puts_the_line_on_screen() {
        let v = Lines {
            len: 301,
            rows: &one_row,
            height: 20,
        };
        for i in [0, 5, 19, 20, 200, 300] {
            let off = v.reveal(i);
            assert!(v.shows(off, i), "line {i} at offset {off}");
        }
        assert_eq!(v.reveal(200), 100);
        assert_eq!(v.reveal(3), v.max_offset());
        let empty = Lines {
            len: 0,
            rows: &one_row,
            height: 5,
        };
        assert_eq!(empty.max_offset(), 0);
        assert_eq!(empty.page_up(3), 0);
        assert_eq!(empty.page_down(3), 0);
    }
}
