//! What a key can do. The names are what `[keys.<context>]` in the config
//! uses, so they are part of the user's interface: renaming one breaks
//! configs.

macro_rules! actions {
    ($($variant:ident => $name:literal),* $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action { $($variant),* }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant),*];

            /// The action's name in config files.
            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name),* }
            }
        }
    };
}

actions! {
    // Everywhere.
    Help => "help",
    // Confirmations.
    Yes => "yes",
    No => "no",
    Quit => "quit",
    Cancel => "cancel",
    Palette => "palette",
    ToggleFiles => "files",
    Shells => "shells",
    Suspend => "suspend",
    Detach => "detach",
    FocusNext => "focus_next",
    FocusPrev => "focus_prev",
    // The Hosts tab outside the command pane.
    RecipeView => "recipe_view",
    Gather => "gather",
    RerunFailed => "rerun_failed",
    // Moving, in lists and panes.
    Up => "up",
    Down => "down",
    Left => "left",
    Right => "right",
    PageUp => "page_up",
    PageDown => "page_down",
    Top => "top",
    Bottom => "bottom",
    // The host list.
    Select => "select",
    SelectAll => "select_all",
    SelectNone => "select_none",
    Filter => "filter",
    SelectGroup => "select_group",
    ClearFilter => "clear_filter",
    Toggle => "toggle",
    Fold => "fold",
    Unfold => "unfold",
    Info => "info",
    Sort => "sort",
    SortReverse => "sort_reverse",
    Facts => "facts",
    // The command pane.
    Run => "run",
    Newline => "newline",
    Options => "options",
    Leave => "leave",
    HistoryPrev => "history_prev",
    HistoryNext => "history_next",
    HistorySearch => "history_search",
    // Output panes.
    NextPage => "next_page",
    PrevPage => "prev_page",
    Zoom => "zoom",
    Unzoom => "unzoom",
    Search => "search",
    SearchNext => "search_next",
    SearchPrev => "search_prev",
    Save => "save",
    // The gathered view.
    Diff => "diff",
    SelectResult => "select_result",
    SelectOutliers => "select_outliers",
    // Recipe progress, host info.
    CancelRecipe => "cancel_recipe",
    Back => "back",
    Close => "close",
    Refresh => "refresh",
    // The files tab.
    OtherPane => "other_pane",
    Open => "open",
    Parent => "parent",
    Mark => "mark",
    MarkAll => "mark_all",
    UnmarkAll => "unmark_all",
    Copy => "copy",
    Move => "move",
    Mkdir => "mkdir",
    Delete => "delete",
    Rename => "rename",
    Chmod => "chmod",
    Edit => "edit",
    Side => "side",
    Goto => "goto",
    Recent => "recent",
    Hidden => "hidden",
    Reload => "reload",
    Transfers => "transfers",
    // The transfers panel.
    Pause => "pause",
    Retry => "retry",
    ClearDone => "clear_done",
    // Shells, after the prefix.
    InputToggle => "input_toggle",
    InputAll => "input_all",
    InputSolo => "input_solo",
    InputInvert => "input_invert",
    OpenShells => "open_shells",
    Reopen => "reopen",
    SendPrefix => "send_prefix",
    // Dialogs: text inputs, password prompts and the options form.
    Submit => "submit",
    NextField => "next_field",
    PrevField => "prev_field",
    // Pickers and the palette.
    Choose => "choose",
    // An unknown host key.
    AcceptOnce => "accept_once",
    AcceptSave => "accept_save",
    Reject => "reject",
    // A name already at a copy's destination.
    Overwrite => "overwrite",
    OverwriteAll => "overwrite_all",
    SkipSame => "skip_same",
    SkipSameAll => "skip_same_all",
    RenameAll => "rename_all",
    Skip => "skip",
    SkipAll => "skip_all",
    // Searching the command history.
    Older => "older",
    Keep => "keep",
}
