//! Fuzz target `clustershell_groups`: the property is in fuzz/props.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../props.rs"]
mod props;

fuzz_target!(|data: &[u8]| {
    props::clustershell_groups(data);
});
