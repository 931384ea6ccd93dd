//! `[keys.<context>]` in config.toml: rebind any action of the keymap,
//! e.g. `[keys.hosts] select = ["x", "Insert"]`. Checked when the config
//! is read, so a mistake names its file:line before the TUI starts.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::keymap::{Keymap, Override, OverrideError};

/// One key or a list of them; an empty list unbinds the action.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum KeyList {
    One(String),
    Many(Vec<String>),
}

/// Context name → action name → keys.
pub type KeysSection = BTreeMap<String, BTreeMap<Spanned<String>, Spanned<KeyList>>>;

/// What reading `[keys]` gives: the keymap, or the entry at fault (its
/// byte offset). Named here so config.rs need not know where the keymap
/// lives.
pub type KeymapResult = Result<Keymap, OverrideError>;

/// The keymap with these rebindings; an error carries the byte offset of
/// the entry at fault.
pub fn keymap(keys: &KeysSection) -> KeymapResult {
    let mut overrides = Vec::new();
    for (ctx, actions) in keys {
        for (action, keys) in actions {
            let keys = match keys.get_ref() {
                KeyList::One(k) => vec![k.clone()],
                KeyList::Many(v) => v.clone(),
            };
            overrides.push(Override {
                ctx: ctx.clone(),
                action: action.get_ref().clone(),
                keys,
                at: action.span().start,
            });
        }
    }
    Keymap::with_overrides(&overrides)
}
