//! Remote output: whatever a host sends, what we draw holds no terminal
//! control (but tab), whether cleaned line by line or parsed in chunks
//! for the output panes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sshdeck::text::ansi::AnsiParser;
use sshdeck::text::sanitize::{sanitize_line, visible_name};

fn no_controls(s: &str) -> bool {
    s.chars().all(|c| c == '\t' || !c.is_control())
}

fuzz_target!(|data: &[u8]| {
    let line = sanitize_line(data);
    assert!(no_controls(&line), "{line:?}");
    let name = visible_name(&String::from_utf8_lossy(data));
    assert!(name.chars().all(|c| !c.is_control()), "{name:?}");
    // Split where the first byte says, so sequences cross chunk borders.
    let cut = data.first().map_or(0, |&b| b as usize % (data.len() + 1));
    let mut p = AnsiParser::new(256);
    let mut lines = Vec::new();
    p.feed(&data[..cut], &mut |l| lines.push(l));
    p.feed(&data[cut..], &mut |l| lines.push(l));
    p.finish(&mut |l| lines.push(l));
    for l in lines {
        for span in &l.spans {
            assert!(no_controls(&span.text), "{:?}", span.text);
            assert!(span.text.chars().count() <= 256, "line cap broken");
        }
    }
});
