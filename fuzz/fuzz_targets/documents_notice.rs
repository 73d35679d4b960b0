//! Fuzzes `NonDelivery::decode` (`spec/protocol.md` §13.1): any input must decode or fail with
//! an error, never panic; a decoded value must keep exactly the input bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use liaison_proto::notice::NonDelivery;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = NonDelivery::decode(data) {
        assert_eq!(doc.raw(), data);
    }
});
