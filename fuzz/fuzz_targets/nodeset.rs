//! Node-set expressions: any text gives a set or an error, never a panic,
//! and a set folds back into an expression that expands to the same names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sshdeck::inventory::nodeset::{NoGroups, expand, fold};

fuzz_target!(|data: &[u8]| {
    let Ok(expr) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(set) = expand(expr, &NoGroups) {
        let names = set.into_vec();
        // An empty set (`!a`) is a fine result, but "" is not an
        // expression: nothing to round-trip.
        if !names.is_empty() && names.len() <= 10_000 {
            let folded = fold(&names);
            let again = expand(&folded, &NoGroups)
                .unwrap_or_else(|e| panic!("fold gave {folded:?}, which fails: {e}"));
            let mut a = names.clone();
            let mut b = again.into_vec();
            a.sort();
            b.sort();
            assert_eq!(a, b, "fold({expr:?}) = {folded:?}");
        }
    }
});
