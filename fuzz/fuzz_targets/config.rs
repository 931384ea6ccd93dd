//! config.toml: any text loads or gives an error naming file:line, never a
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sshdeck::inventory::config::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = std::path::Path::new("/fuzz/config.toml");
    if let Err(e) = Config::parse(path, text) {
        let msg = e.to_string();
        assert!(msg.contains("/fuzz/config.toml"), "error without its file: {msg}");
    }
});
