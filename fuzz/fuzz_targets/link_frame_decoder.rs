//! Fuzzes the link frame decoder (`spec/protocol-link.md` §3): arbitrary stream bytes, split at
//! an arbitrary point, must yield frames or an error, never a panic; every decoded frame
//! re-encodes to the bytes it came from, and every inner frame that parses round-trips.
#![no_main]

use liaison_proto::frame::{Frame, FrameDecoder, LinkFrame};
use liaison_proto::handshake::messages::{InitiatorFinish, InitiatorHello, ResponderHello};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let (a, b) = data.split_at(split);
    let mut decoder = FrameDecoder::new();
    let mut consumed = 0;
    for chunk in [a, b] {
        decoder.push(chunk);
        while let Ok(Some(frame)) = decoder.poll_frame() {
            let wire = frame.encode();
            assert_eq!(&data[consumed..consumed + wire.len()], &wire[..]);
            consumed += wire.len();
            if let Ok(inner) = LinkFrame::from_frame(&frame) {
                assert_eq!(inner.to_frame().expect("re-encodes"), frame);
                let owned = LinkFrame::from_owned_frame(frame.clone()).expect("owned parse");
                assert_eq!(owned, inner);
            }
            let _ = InitiatorHello::decode(&frame.body);
            let _ = ResponderHello::decode(&frame.body);
            let _ = InitiatorFinish::decode(&frame.body);
        }
    }
    let exact = Frame::decode_exact(data);
    assert_eq!(exact, Frame::decode_exact_owned(data.to_vec()));
});
