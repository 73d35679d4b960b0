//! Fuzzes the responder's handshake states (`spec/protocol-link.md` §4.5): an arbitrary
//! `InitiatorHello` and then an arbitrary `InitiatorFinish` must be refused with an error or
//! (for the hello) accepted, never panic; an arbitrary finish never establishes a session.
#![no_main]

use libfuzzer_sys::fuzz_target;
use liaison_proto::frame::{Frame, FrameType};
use liaison_proto::handshake::{ChannelBinding, ResponderStart, SuppliedKeyAnswer};

include!("link_handshake_fixture.rs");

fuzz_target!(|data: &[u8]| {
    let (_, responder) = fixture();
    // Input: be16(len(hello)) || hello body || finish body.
    let (Some(len), Some(rest)) = (data.get(..2), data.get(2..)) else {
        return;
    };
    let split = usize::from(u16::from_be_bytes([len[0], len[1]])).min(rest.len());
    let (hello, finish) = rest.split_at(split);
    let Ok(hello) = Frame::new(FrameType::InitiatorHello, hello.to_vec()) else {
        return;
    };
    let Ok(await_key) = ResponderStart::new(responder.clone(), ChannelBinding([0; 32]))
        .handle(&hello, NOW)
    else {
        return;
    };
    let mut rng = ChaCha20Rng::from_seed([9; 32]);
    let Ok((expect, _)) = await_key.resume(SuppliedKeyAnswer::None, NOW, &mut rng) else {
        return;
    };
    let Ok(finish) = Frame::new(FrameType::InitiatorFinish, finish.to_vec()) else {
        return;
    };
    assert!(expect.handle(&finish, NOW).is_err(), "forged finish accepted");
});
