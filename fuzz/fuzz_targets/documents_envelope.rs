//! Fuzzes `Envelope::decode` and the relay checks (`spec/protocol.md` §11): any input must
//! decode or fail with an error, never panic; a decoded envelope keeps exactly the input bytes
//! and its sections tile them; the relay checks against an empty trust store must refuse it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use liaison_proto::UnixTime;
use liaison_proto::certificate::MemberCertificate;
use liaison_proto::envelope::Envelope;
use liaison_proto::trust::TrustStore;

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = Envelope::decode(data) {
        assert_eq!(env.raw(), data);
        let sections = env.header_bytes().len()
            + env.recipient_section().len()
            + env.payload_section().len();
        assert!(sections < data.len());
        let _ = MemberCertificate::decode(env.header().sender_certificate.raw());
        let store = TrustStore::new(vec![]);
        assert!(env.verify_header(&store, &[], UnixTime(0)).is_err());
    }
});
