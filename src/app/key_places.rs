//! The help's "Keys that differ by place": plain character keys the
//! keymap binds to different actions in different contexts (`o` sorts
//! the host list but selects outliers in the gathered view), generated
//! from the keymap so a rebinding shows here too.

use std::collections::BTreeMap;

use crate::keymap::{Action, Context, Keymap};

/// The section's heading in the help overlay.
pub const HEADING: &str = "Keys that differ by place";

/// A context's name without its parenthesised note, for a short list.
fn place(ctx: Context) -> &'static str {
    let t = ctx.title();
    t.split_once(" (").map_or(t, |(head, _)| head)
}

/// A binding's help up to its first aside (":", ",", " (" or ";"), so the
/// list stays short; the full text is in the place's own section.
fn gist(help: &str) -> &str {
    let end = [": ", ", ", " (", "; "]
        .iter()
        .filter_map(|p| help.find(p))
        .min()
        .unwrap_or(help.len());
    &help[..end]
}

/// (key, "place: what it does; place: ...") for every text key bound to
/// more than one action, in key order.
pub fn differing(map: &Keymap) -> Vec<(String, String)> {
    let mut by_key: BTreeMap<String, Vec<(Context, Action, &'static str)>> = BTreeMap::new();
    // A dialog says its keys where it asks, so it is not listed here.
    for b in map.bindings().iter().filter(|b| !b.ctx.shows_its_keys()) {
        for k in b.keys.iter().filter(|k| k.is_text()) {
            by_key
                .entry(k.to_string())
                .or_default()
                .push((b.ctx, b.action, b.help));
        }
    }
    by_key
        .into_iter()
        .filter(|(_, uses)| {
            let first = uses[0].1;
            uses.iter().any(|u| u.1 != first)
        })
        .map(|(key, uses)| {
            let text = uses
                .iter()
                .map(|(ctx, _, help)| format!("{}: {}", place(*ctx), gist(help)))
                .collect::<Vec<_>>()
                .join("; ");
            (key, text)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn o_is_listed_with_every_place_and_k_is_not() {
        let rows = differing(&Keymap::default());
        let o = rows.iter().find(|(k, _)| k == "o").map(|(_, t)| t.as_str());
        let o = o.unwrap_or_else(|| panic!("o is missing: {rows:?}"));
        for want in [
            "Host list: sort",
            "Gathered view: select every host outside",
            "Files tab:",
            "Shells tab",
        ] {
            assert!(o.contains(want), "{want} in {o}");
        }
        // `k` moves up everywhere: one meaning, not listed.
        assert!(!rows.iter().any(|(k, _)| k == "k"));
        // Ctrl keys are not text keys.
        assert!(!rows.iter().any(|(k, _)| k.starts_with("Ctrl-")));
    }
}
