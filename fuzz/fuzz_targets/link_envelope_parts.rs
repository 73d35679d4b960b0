//! Fuzzes `EnvelopePart` decoding and reassembly (`spec/protocol-link.md` §3.3): the input is
//! a stream of frames whose `EnvelopePart`s feed an `EnvelopeAssembler` with a small limit.
//! Nothing may panic; every completed envelope is exactly the bytes of the parts that made it,
//! in order; a violation ends the sequence as it ends the link; the payload hasher never
//! claims a digest the envelope decode would not use.
#![no_main]

use liaison_proto::envelope::Envelope;
use liaison_proto::envelope_parts::{Assembled, EnvelopeAssembler};
use liaison_proto::frame::{FrameDecoder, LinkFrame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limit = usize::from(data.first().copied().unwrap_or(0)) * 64;
    let mut decoder = FrameDecoder::new();
    decoder.push(data.get(1..).unwrap_or_default());
    let mut asm = EnvelopeAssembler::new(limit);
    let mut expected = Vec::new();
    while let Ok(Some(frame)) = decoder.poll_frame() {
        let Ok(LinkFrame::EnvelopePart(part)) = LinkFrame::from_owned_frame(frame) else {
            continue;
        };
        let bytes = part.bytes.clone();
        match asm.push(part) {
            Ok(Assembled::Pending) => expected.extend_from_slice(&bytes),
            Ok(Assembled::Complete(env)) => {
                expected.extend_from_slice(&bytes);
                assert!(env.raw.len() <= limit);
                assert_eq!(env.raw, expected);
                expected.clear();
                // The decode (and the digest it may take) must not panic either.
                let _ = Envelope::decode_owned(env.raw, env.digest.as_ref());
            }
            Ok(Assembled::TooLarge { total, .. }) => {
                assert!(total > limit);
                expected.clear();
            }
            Err(_) => return, // the link would close here
        }
    }
});
