//! The default bindings, in the order the help overlay lists them.

use super::{Action, Binding, Context, Key, Note};

use Action as A;
use Context as C;

/// (context, action, keys, help, status-bar hint)
type BindingRow = (
    Context,
    Action,
    &'static [&'static str],
    &'static str,
    Option<&'static str>,
);

// One row per binding: the table reads best as a table.
#[rustfmt::skip]
const TABLE: &[BindingRow] = &[
    (C::Global, A::Help, &["F1"], "this help (type to filter it)", None),
    (C::Global, A::ToggleFiles, &["F2"], "switch between the Hosts and Files tabs", None),
    (C::Global, A::Shells, &["F3"], "shells on the selected hosts (typing goes to all)", None),
    (C::Global, A::Palette, &["Ctrl-P"], "palette: recipes, saved commands, actions", None),
    (C::Global, A::Cancel, &["Ctrl-X"], "cancel the running command", None),
    (C::Global, A::Quit, &["Ctrl-C"], "quit (asks while work is running)", None),
    (C::Global, A::Suspend, &["Ctrl-Z"], "suspend to the shell (fg brings it back)", None),
    (C::Global, A::Detach, &["F12"], "detach from the session (tui -s NAME), which runs on", None),
    (C::Main, A::Help, &["?"], "this help", None),
    (C::Main, A::FocusNext, &["Tab"], "next pane: hosts, output, command", Some("focus")),
    (C::Main, A::FocusPrev, &["Shift-Tab"], "previous pane", None),
    (C::Main, A::Gather, &["b"], "gathered view: hosts grouped by identical output", Some("gather")),
    (C::Main, A::RerunFailed, &["R"], "run the last command again on the hosts where it failed", Some("rerun failed")),
    (C::Main, A::Cancel, &["x"], "cancel the running command", None),
    (C::Main, A::Palette, &[":"], "palette", None),
    (C::Main, A::RecipeView, &["r"], "show / hide the last recipe's progress", None),
    (C::Main, A::Quit, &["q"], "quit", Some("quit")),
    (C::Hosts, A::Select, &["Space"], "select / unselect (a whole group on its header)", Some("select")),
    (C::Hosts, A::SelectAll, &["a"], "select every host shown", Some("all")),
    (C::Hosts, A::SelectNone, &["n"], "select none", None),
    (C::Hosts, A::Filter, &["/"], "filter by name, fuzzy (Enter keeps it)", Some("filter")),
    (C::Hosts, A::ClearFilter, &["Esc"], "clear the filter", None),
    (C::Hosts, A::SelectGroup, &["g"], "select a group or node set: @web, web[01-05]", Some("group")),
    (C::Hosts, A::Up, &["Up", "k"], "move up", None),
    (C::Hosts, A::Down, &["Down", "j"], "move down", None),
    (C::Hosts, A::PageUp, &["PgUp"], "a page up", None),
    (C::Hosts, A::PageDown, &["PgDn"], "a page down", None),
    (C::Hosts, A::Top, &["Home"], "first row", None),
    (C::Hosts, A::Bottom, &["End"], "last row", None),
    (C::Hosts, A::Toggle, &["Enter"], "fold / unfold a folder; on a host, select it", None),
    (C::Hosts, A::Fold, &["Left"], "fold a folder (group or tag)", None),
    (C::Hosts, A::Unfold, &["Right"], "unfold a folder (group or tag)", None),
    (C::Hosts, A::Info, &["i"], "host info: every fact of the host", None),
    (C::Hosts, A::Sort, &["o"], "sort by the next fact column", None),
    (C::Hosts, A::SortReverse, &["O"], "reverse the sort", None),
    (C::Hosts, A::Facts, &["f"], "collect facts on the selected hosts now", None),
    (C::Command, A::Run, &["Enter"], "run on the selected hosts", Some("run")),
    (C::Command, A::Newline, &["Alt-Enter", "Shift-Enter"], "new line", Some("newline")),
    (C::Command, A::Options, &["Ctrl-O"], "options: timeout, login shell, PTY, sudo, env, directory", Some("options")),
    (C::Command, A::HistoryPrev, &["Up"], "older command from the history (on the first line)", Some("history")),
    (C::Command, A::HistoryNext, &["Down"], "newer command (on the last line)", None),
    (C::Command, A::HistorySearch, &["Ctrl-R"], "search the history", Some("search")),
    (C::Command, A::Leave, &["Esc"], "back to the host list", None),
    (C::Command, A::FocusNext, &["Tab"], "next pane", None),
    (C::Command, A::FocusPrev, &["Shift-Tab"], "previous pane", None),
    (C::Output, A::Zoom, &["Enter", "z"], "zoom the pane to full size, or back", Some("zoom")),
    (C::Output, A::Unzoom, &["Esc"], "back from zoom", None),
    (C::Output, A::Left, &["Left", "h"], "the pane to the left", None),
    (C::Output, A::Right, &["Right", "l"], "the pane to the right", None),
    (C::Output, A::Up, &["Up", "k"], "the pane above", None),
    (C::Output, A::Down, &["Down", "j"], "the pane below", None),
    (C::Output, A::PrevPage, &["["], "previous page of panes", None),
    (C::Output, A::NextPage, &["]"], "next page of panes", None),
    (C::Output, A::PageUp, &["PgUp"], "scroll back a page", Some("scroll")),
    (C::Output, A::PageDown, &["PgDn"], "scroll forward a page", None),
    (C::Output, A::Top, &["Home"], "scroll to the oldest line", None),
    (C::Output, A::Bottom, &["End"], "scroll to the end and follow", None),
    (C::Output, A::Search, &["/"], "search the pane", Some("search")),
    (C::Output, A::SearchNext, &["n"], "next match", None),
    (C::Output, A::SearchPrev, &["N"], "previous match", None),
    (C::Output, A::Save, &["s"], "save the pane to a file", None),
    (C::Gathered, A::SelectResult, &["Enter"], "select exactly this group's hosts, for the next command", Some("select")),
    (C::Gathered, A::SelectOutliers, &["o"], "select every host outside the largest group", Some("others")),
    (C::Gathered, A::Diff, &["d"], "diff this group against the largest", Some("diff")),
    (C::Gathered, A::Up, &["Up", "k"], "previous group", None),
    (C::Gathered, A::Down, &["Down", "j"], "next group", None),
    (C::Recipe, A::Up, &["Up", "k"], "previous host (its step and error show below)", None),
    (C::Recipe, A::Down, &["Down", "j"], "next host", None),
    (C::Recipe, A::Top, &["Home"], "first host", None),
    (C::Recipe, A::Bottom, &["End"], "last host", None),
    (C::Recipe, A::CancelRecipe, &["x"], "cancel the recipe", Some("cancel recipe")),
    (C::Recipe, A::Back, &["Esc", "r"], "back to the output panes", Some("back")),
    (C::Info, A::Help, &["?"], "this help", None),
    (C::Info, A::Close, &["Esc", "q", "i", "Enter"], "close", Some("close")),
    (C::Info, A::Refresh, &["r"], "collect this host's facts again", Some("refresh")),
    (C::Info, A::Up, &["Up", "k"], "scroll up", None),
    (C::Info, A::Down, &["Down", "j"], "scroll down", None),
    (C::Info, A::PageUp, &["PgUp"], "a page up", None),
    (C::Info, A::PageDown, &["PgDn"], "a page down", None),
    (C::Info, A::Top, &["Home"], "top", None),
    (C::Info, A::Bottom, &["End"], "bottom", None),
    (C::Files, A::Help, &["?"], "this help", None),
    (C::Files, A::OtherPane, &["Tab", "Shift-Tab"], "the other pane", Some("pane")),
    (C::Files, A::Copy, &["F5", "c"], "copy marked (or current) to the other pane", Some("copy")),
    (C::Files, A::Move, &["F6", "m"], "move to the other pane", Some("move")),
    (C::Files, A::Mkdir, &["F7", "N"], "new directory", Some("mkdir")),
    (C::Files, A::Delete, &["F8", "Delete"], "delete, recursively, after confirming", Some("delete")),
    (C::Files, A::Side, &["o"], "what this pane shows: local, a host, the selected hosts", Some("side")),
    (C::Files, A::Transfers, &["t"], "transfers panel", Some("transfers")),
    (C::Files, A::Open, &["Enter", "Right", "l"], "open the directory", None),
    (C::Files, A::Parent, &["Backspace", "Left", "h"], "up to the parent directory", None),
    (C::Files, A::Up, &["Up", "k"], "move up", None),
    (C::Files, A::Down, &["Down", "j"], "move down", None),
    (C::Files, A::PageUp, &["PgUp"], "a page up", None),
    (C::Files, A::PageDown, &["PgDn"], "a page down", None),
    (C::Files, A::Top, &["Home"], "first entry", None),
    (C::Files, A::Bottom, &["End"], "last entry", None),
    (C::Files, A::Mark, &["Space", "Insert"], "mark / unmark, and move down", None),
    (C::Files, A::MarkAll, &["a"], "mark all", None),
    (C::Files, A::UnmarkAll, &["u"], "unmark all", None),
    (C::Files, A::Rename, &["r"], "rename", None),
    (C::Files, A::Chmod, &["p"], "permissions (octal)", None),
    (C::Files, A::Edit, &["F4", "e"], "edit in $EDITOR (remote: uploaded back atomically)", None),
    (C::Files, A::Goto, &["g"], "go to a path (Tab completes)", None),
    (C::Files, A::Recent, &["'"], "recent directories", None),
    (C::Files, A::Sort, &["s"], "sort by name, size, mtime", None),
    (C::Files, A::SortReverse, &["S"], "reverse the sort", None),
    (C::Files, A::Hidden, &["."], "show / hide dot files", None),
    (C::Files, A::Filter, &["/"], "filter", None),
    (C::Files, A::ClearFilter, &["Esc"], "clear the filter, or back to the Hosts tab", None),
    (C::Files, A::Reload, &["Ctrl-R"], "list again", None),
    (C::Files, A::Quit, &["q"], "quit", None),
    (C::Transfers, A::Pause, &["p", "Space"], "pause / resume", Some("pause")),
    (C::Transfers, A::Cancel, &["x", "Delete"], "cancel", Some("cancel")),
    (C::Transfers, A::Retry, &["R"], "retry a failed or resume a cancelled transfer", Some("retry")),
    (C::Transfers, A::ClearDone, &["D"], "clear finished transfers from the list", Some("clear done")),
    (C::Transfers, A::Close, &["Esc", "t", "Tab"], "back to the file panes", Some("back")),
    (C::Transfers, A::Up, &["Up", "k"], "previous transfer", None),
    (C::Transfers, A::Down, &["Down", "j"], "next transfer", None),
    (C::Shells, A::InputToggle, &["Space"], "input on / off for the focused shell", None),
    (C::Shells, A::InputAll, &["a"], "input on for every shell", None),
    (C::Shells, A::InputSolo, &["s"], "input on for the focused shell only", None),
    (C::Shells, A::InputInvert, &["i"], "invert which shells get input", None),
    (C::Shells, A::Left, &["Left", "h", "Shift-Tab"], "focus the previous shell", None),
    (C::Shells, A::Right, &["Right", "l", "Tab"], "focus the next shell", None),
    (C::Shells, A::Up, &["Up", "k"], "focus the shell above", None),
    (C::Shells, A::Down, &["Down", "j"], "focus the shell below", None),
    (C::Shells, A::Zoom, &["z"], "zoom one shell (only it gets input)", None),
    (C::Shells, A::PageUp, &["PgUp"], "scroll the focused shell back", None),
    (C::Shells, A::PageDown, &["PgDn"], "scroll it forward", None),
    (C::Shells, A::OpenShells, &["o"], "open shells for newly selected hosts", None),
    (C::Shells, A::Reopen, &["r"], "reopen the focused shell", None),
    (C::Shells, A::Close, &["x"], "close the focused shell", None),
    (C::Shells, A::SendPrefix, &["]"], "send Ctrl-] itself", None),
    (C::Shells, A::Suspend, &["Ctrl-Z"], "suspend sshdeck", None),
    (C::Shells, A::Detach, &["d"], "detach from the session", None),
    (C::Shells, A::Help, &["?"], "this help", None),
    (C::Shells, A::Back, &["q", "F3"], "back to the Hosts tab (shells stay open)", None),
    (C::Confirm, A::Yes, &["y", "Enter"], "yes: quit (what runs is stopped first), or delete", None),
    (C::Confirm, A::No, &["n", "Esc"], "no: back to work (any other key too)", None),
    (C::Help, A::Close, &["F1", "?", "Ctrl-C"], "close (a plain key only while no filter is typed)", None),
    (C::Help, A::ClearFilter, &["Esc"], "clear the filter, or close", None),
    (C::Help, A::Up, &["Up"], "scroll up", None),
    (C::Help, A::Down, &["Down"], "scroll down", None),
    (C::Help, A::PageUp, &["PgUp"], "a page up", None),
    (C::Help, A::PageDown, &["PgDn"], "a page down", None),
    (C::Help, A::Top, &["Home"], "top", None),
    (C::Help, A::Bottom, &["End"], "bottom", None),
    (C::Input, A::Submit, &["Enter"], "confirm (on a prompt's last field: answer)", None),
    (C::Input, A::Cancel, &["Esc"], "cancel", None),
    (C::Input, A::NextField, &["Tab", "Down"], "next field; in go to, complete the path", None),
    (C::Input, A::PrevField, &["Shift-Tab", "Up"], "previous field (options)", None),
    (C::HostKey, A::AcceptOnce, &["o"], "accept the key for this session only", None),
    (C::HostKey, A::AcceptSave, &["s"], "accept and save it to known_hosts", None),
    (C::HostKey, A::Reject, &["r", "Esc"], "reject: do not connect", None),
    (C::Conflict, A::Overwrite, &["o"], "overwrite it", None),
    (C::Conflict, A::SkipSame, &["s"], "skip files whose size and mtime match", None),
    (C::Conflict, A::Rename, &["r"], "copy under a new name", None),
    (C::Conflict, A::Skip, &["n", "Enter"], "leave this one out", None),
    (C::Conflict, A::OverwriteAll, &["O"], "overwrite every remaining conflict", None),
    (C::Conflict, A::SkipSameAll, &["S"], "skip same size and mtime, for every remaining conflict", None),
    (C::Conflict, A::RenameAll, &["R"], "a new name for every remaining conflict", None),
    (C::Conflict, A::SkipAll, &["N"], "leave out every remaining conflict", None),
    (C::Conflict, A::Cancel, &["Esc", "c"], "cancel the whole copy", None),
    (C::Picker, A::Up, &["Up", "k"], "previous entry", None),
    (C::Picker, A::Down, &["Down", "j"], "next entry", None),
    (C::Picker, A::Choose, &["Enter"], "choose it", None),
    (C::Picker, A::Close, &["Esc"], "close", None),
    (C::Palette, A::Up, &["Up"], "previous entry", None),
    (C::Palette, A::Down, &["Down", "Tab"], "next entry", None),
    (C::Palette, A::Choose, &["Enter"], "do it", None),
    (C::Palette, A::Close, &["Esc"], "close", None),
    (C::HistorySearch, A::Older, &["Ctrl-R"], "an older command with what is typed", None),
    (C::HistorySearch, A::Run, &["Enter"], "run the command found", None),
    (C::HistorySearch, A::Keep, &["Esc", "Left", "Right", "Up", "Down"], "keep the command found, to edit it", None),
    (C::HistorySearch, A::Cancel, &["Ctrl-G", "Ctrl-C"], "back to the command as it was", None),
];

pub fn bindings() -> Vec<Binding> {
    TABLE
        .iter()
        .map(|&(ctx, action, keys, help, hint)| Binding {
            ctx,
            action,
            // The table is ours and a unit test parses every entry.
            keys: keys.iter().filter_map(|k| Key::parse(k).ok()).collect(),
            help,
            hint,
        })
        .collect()
}

/// Help lines for what is not a rebindable key.
pub fn notes() -> &'static [Note] {
    const NOTES: &[Note] = &[
        Note {
            ctx: C::Main,
            keys: "mouse",
            help: "click to focus and select, wheel to scroll",
        },
        Note {
            ctx: C::Files,
            keys: "mouse drag",
            help: "drop entries on the other pane to copy (Shift: move)",
        },
        Note {
            ctx: C::Shells,
            keys: "Ctrl-]",
            help: "the prefix: the next key is for sshdeck (Ctrl-5 on some terminals)",
        },
        Note {
            ctx: C::Shells,
            keys: "any other key",
            help: "typed into every shell whose input is on",
        },
        Note {
            ctx: C::Shells,
            keys: "F3",
            help: "back to the Hosts tab, without the prefix",
        },
        Note {
            ctx: C::Shells,
            keys: "1-9",
            help: "focus shell N",
        },
        Note {
            ctx: C::Shells,
            keys: "mouse",
            help: "click a title: input on/off; wheel: scroll back",
        },
    ];
    NOTES
}

/// The actions the command palette offers, in its order. Each entry is
/// named by its action's name, described by its binding's help, shows the
/// binding's key (a rebinding shows too), and does what the key does:
/// the palette is generated from the keymap, never kept beside it.
#[rustfmt::skip]
pub const PALETTE: &[(Context, Action)] = &[
    (C::Main, A::RerunFailed),
    (C::Hosts, A::Facts),
    (C::Hosts, A::Info),
    (C::Hosts, A::Sort),
    (C::Hosts, A::SortReverse),
    (C::Main, A::RecipeView),
    (C::Global, A::ToggleFiles),
    (C::Global, A::Shells),
    (C::Hosts, A::SelectAll),
    (C::Hosts, A::SelectNone),
    (C::Main, A::Gather),
    (C::Global, A::Cancel),
    (C::Global, A::Suspend),
    (C::Global, A::Help),
    (C::Global, A::Quit),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_key_parses() {
        for (ctx, action, keys, _, _) in TABLE {
            for k in *keys {
                assert!(
                    Key::parse(k).is_ok(),
                    "{}.{}: {k}",
                    ctx.name(),
                    action.name()
                );
            }
        }
    }
}
