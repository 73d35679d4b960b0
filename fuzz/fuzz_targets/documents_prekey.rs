//! Fuzzes `SignedPrekey::decode` (`spec/protocol.md`): any input must decode or fail with an
//! error, never panic; a decoded value must keep exactly the input bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use liaison_proto::prekey::SignedPrekey;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = SignedPrekey::decode(data) {
        assert_eq!(doc.raw(), data);
    }
});
