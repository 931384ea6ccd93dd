//! Fuzz target `session_protocol`: the property is in fuzz/props.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../props.rs"]
mod props;

fuzz_target!(|data: &[u8]| {
    props::session_protocol(data);
});
