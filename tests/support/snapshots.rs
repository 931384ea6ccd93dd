//! insta snapshots under the names they had when each test file was its own
//! test binary: `tests/snapshots/<file>__<name>.snap`.
//!
//! In the one integration binary a test file's module path is
//! `integration::<file>`, so insta would look for
//! `integration__<file>__<name>.snap` and write every snapshot anew. The
//! macro turns insta's module prefix off and spells the old one itself, so
//! the reviewed snapshots stay exactly as they are.

/// `insta::assert_snapshot!(name, value)` against
/// `tests/snapshots/<calling file>__<name>.snap`; `name` is the test's own
/// name unless the test takes more than one snapshot.
// Unused by the test binaries that take no snapshots (fleet, hostile).
#[allow(unused_macros)]
macro_rules! assert_snapshot {
    ($name:expr, $value:expr $(,)?) => {{
        // The calling module's last path segment: the test file's name.
        let file = module_path!().rsplit("::").next().unwrap_or_default();
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| insta::assert_snapshot!(format!("{file}__{}", $name), $value));
    }};
}
pub(crate) use assert_snapshot;
