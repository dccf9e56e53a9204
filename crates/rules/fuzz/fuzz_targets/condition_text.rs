//! The guard parser: any text gives a condition or an error, never a panic; and a condition
//! that parses prints to a text that parses back to it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rules::condition::text;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else { return };
    if let Ok(condition) = text::parse(source) {
        let printed = text::print(&condition);
        assert_eq!(text::parse(&printed).as_ref(), Ok(&condition), "{source:?} printed as {printed:?}");
    }
});
