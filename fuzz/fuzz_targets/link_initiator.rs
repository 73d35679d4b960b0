//! Fuzzes the initiator's `ExpectResponderHello` state (`spec/protocol-link.md` §4.5): an
//! arbitrary `ResponderHello` is refused with an error, never a panic and never a session.
#![no_main]

use libfuzzer_sys::fuzz_target;
use liaison_proto::frame::{Frame, FrameType};
use liaison_proto::handshake::{ChannelBinding, InitiatorStart};

include!("link_handshake_fixture.rs");

fuzz_target!(|data: &[u8]| {
    let (initiator, _) = fixture();
    let mut rng = ChaCha20Rng::from_seed([8; 32]);
    let Ok(start) = InitiatorStart::new(initiator.clone(), ChannelBinding([0; 32]), None) else {
        return;
    };
    let Ok((expect, _hello)) = start.start(NOW, &mut rng) else {
        return;
    };
    let Ok(frame) = Frame::new(FrameType::ResponderHello, data.to_vec()) else {
        return;
    };
    assert!(
        expect.handle(&frame, NOW, &mut rng).is_err(),
        "forged responder hello accepted"
    );
});
