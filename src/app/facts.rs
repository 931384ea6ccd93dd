//! Facts in the TUI: reports from the collectors land on host rows, hosts
//! start being watched when they connect, the list sorts by a fact column,
//! and `i` shows all of a host's facts.

use crate::keymap::Action;

use super::msg::Effect;
use super::state::{AppState, HostState, Overlay, Sort};
use crate::engine::facts::{FactError, FactsReport};
use crate::text::sanitize::clean;

/// A collector's report: its facts replace the ones it gave before.
pub fn on_report(s: &mut AppState, r: FactsReport) {
    // The fact the list is sorted by, if any: only a change of its value
    // makes the cached host list stale (see `AppState::rows`).
    let sorted_fact = match s.deck.sort {
        Sort::Column { index, .. } => s.deck.columns.get(index).map(|c| c.fact.clone()),
        Sort::Inventory => None,
    };
    let Some(host) = s.hosts.get_mut(r.host.0) else {
        return;
    };
    let before = sorted_fact
        .as_ref()
        .and_then(|f| host.facts.get(f).cloned());
    let prefix = format!("{}.", r.collector);
    match r.result {
        Ok(facts) => {
            host.facts.retain(|k, _| !k.starts_with(&prefix));
            for (k, v) in facts {
                // Remote text: nothing in it may reach the terminal raw.
                host.facts
                    .insert(format!("{prefix}{}", clean(&k)), clean(&v));
            }
            host.fact_errors.remove(&r.collector);
        }
        Err(e) => {
            // The pool's connect attempt reports no job of its own: a host
            // that cannot be reached would otherwise stay "connecting".
            if let FactError::Host(cause) = &e
                && matches!(host.state, HostState::Connecting | HostState::Idle)
            {
                host.state = HostState::Failed(cause.clone());
            }
            host.fact_errors.insert(r.collector, e.to_string());
        }
    }
    if let Some(f) = &sorted_fact
        && s.hosts[r.host.0].facts.get(f) != before.as_ref()
    {
        s.facts_rev = s.facts_rev.wrapping_add(1);
    }
}

/// A host just connected: start its collectors (once per session).
pub fn on_connected(s: &mut AppState, h: usize) -> Vec<Effect> {
    match s.hosts.get_mut(h) {
        Some(host) if s.facts_enabled && !host.facts_watched => {
            host.facts_watched = true;
            vec![Effect::WatchFacts { hosts: vec![h] }]
        }
        _ => Vec::new(),
    }
}

/// Collect now on `hosts` (connecting them if needed), and keep watching.
pub fn refresh(s: &mut AppState, hosts: Vec<usize>) -> Vec<Effect> {
    if !s.facts_enabled {
        s.status = Some("no facts collectors are configured ([defaults] facts)".into());
        return Vec::new();
    }
    if hosts.is_empty() {
        s.status = Some("no hosts selected to collect facts from".into());
        return Vec::new();
    }
    for &h in &hosts {
        if let Some(host) = s.hosts.get_mut(h) {
            host.facts_watched = true;
        }
    }
    s.status = Some(format!(
        "collecting facts on {}",
        crate::text::count(hosts.len(), "host", "hosts")
    ));
    vec![Effect::WatchFacts { hosts }]
}

/// `o`: inventory order → each column (largest first) → inventory order.
pub fn cycle_sort(s: &mut AppState) {
    s.deck.sort = match s.deck.sort {
        Sort::Inventory if !s.deck.columns.is_empty() => Sort::Column {
            index: 0,
            reversed: false,
        },
        Sort::Column { index, .. } if index + 1 < s.deck.columns.len() => Sort::Column {
            index: index + 1,
            reversed: false,
        },
        _ => Sort::Inventory,
    };
    announce_sort(s);
}

/// `O`: the same column, the other way round.
pub fn reverse_sort(s: &mut AppState) {
    if let Sort::Column { index, reversed } = s.deck.sort {
        s.deck.sort = Sort::Column {
            index,
            reversed: !reversed,
        };
    }
    announce_sort(s);
}

pub fn sort_by(s: &mut AppState, index: usize) {
    if index < s.deck.columns.len() {
        s.deck.sort = Sort::Column {
            index,
            reversed: false,
        };
    }
    announce_sort(s);
}

fn announce_sort(s: &mut AppState) {
    s.status = Some(match s.deck.sort {
        Sort::Inventory => "hosts in inventory order".into(),
        Sort::Column { index, reversed } => format!(
            "hosts sorted by {} ({} first)",
            s.deck.columns[index].title,
            if reversed { "smallest" } else { "largest" }
        ),
    });
}

/// Lines of the host info overlay: where the inventory names the host,
/// then facts, then failed collectors.
pub fn info_lines(s: &AppState, h: usize) -> Vec<(String, String, bool)> {
    let Some(host) = s.hosts.get(h) else {
        return Vec::new();
    };
    let mut lines: Vec<(String, String, bool)> = host
        .origin
        .iter()
        .map(|(k, v)| (k.clone(), v.clone(), false))
        .collect();
    lines.extend(
        host.facts
            .iter()
            .map(|(k, v)| (k.clone(), v.clone(), false)),
    );
    lines.extend(
        host.fact_errors
            .iter()
            .map(|(c, e)| (c.clone(), format!("FAILED: {e}"), true)),
    );
    lines
}

pub fn on_info_action(s: &mut AppState, a: Action) -> Option<Vec<Effect>> {
    let Overlay::HostInfo { host, scroll } = s.overlay else {
        return None;
    };
    let n = info_lines(s, host).len();
    let page = usize::from(s.size.1.saturating_sub(8)).max(1);
    let max = n.saturating_sub(page);
    let scroll = match a {
        Action::Close => {
            s.overlay = Overlay::None;
            return Some(Vec::new());
        }
        Action::Refresh => return Some(refresh(s, vec![host])),
        Action::Help => {
            super::help::open(s);
            return Some(Vec::new());
        }
        Action::Up => scroll.saturating_sub(1),
        Action::Down => (scroll + 1).min(max),
        Action::PageUp => scroll.saturating_sub(page),
        Action::PageDown => (scroll + page).min(max),
        Action::Top => 0,
        Action::Bottom => max,
        _ => return None,
    };
    s.overlay = Overlay::HostInfo { host, scroll };
    Some(Vec::new())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;
    use crate::app::state::HostListRow;
    use crate::engine::HostId;

    fn load(host: usize, value: &str) -> FactsReport {
        FactsReport {
            host: HostId(host),
            collector: "uptime".into(),
            result: Ok(BTreeMap::from([("load1".to_string(), value.to_string())])),
            elapsed: Duration::ZERO,
        }
    }

    /// The host list is cached between frames; a new fact must still
    /// re-sort a list sorted by that fact.
    #[test]
    fn a_new_fact_resorts_the_cached_rows() {
        let hosts = vec![("a".into(), vec![]), ("b".into(), vec![])];
        let mut s = AppState::new(hosts, BTreeMap::new(), 10);
        s.deck.sort = Sort::Column {
            index: 0,
            reversed: false,
        };
        on_report(&mut s, load(0, "2.0"));
        on_report(&mut s, load(1, "1.0"));
        assert_eq!(&s.rows()[..], &[HostListRow::Host(0), HostListRow::Host(1)]);
        on_report(&mut s, load(1, "9.0"));
        assert_eq!(&s.rows()[..], &[HostListRow::Host(1), HostListRow::Host(0)]);
        // The same value again leaves the cached list as it is.
        let rev = s.facts_rev;
        on_report(&mut s, load(1, "9.0"));
        assert_eq!(s.facts_rev, rev);
    }
}
