//! Fuzzes `PrekeyBundle::decode` (`spec/protocol-link.md` §3.5): any input must decode or fail
//! with an error, never panic; a decoded bundle must re-encode to exactly the input bytes.
#![no_main]

use liaison_proto::prekey::PrekeyBundle;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(bundle) = PrekeyBundle::decode(data) {
        assert_eq!(bundle.encode(), data);
    }
});
