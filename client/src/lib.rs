//! # liaison-client
//!
//! The officer-side library and the `liaison` command-line tool (officer guide:
//! `docs/CLIENT.md`).
//!
//! * [`session`]: [`Session`] — connect to the home relay over QUIC with the link
//!   handshake, send reports to one or many officers ([`Session::send`]), take in incoming
//!   messages and receipts ([`Session::next_event`], [`Session::fetch_pending`]), prekey upkeep.
//! * [`profile`]: the officer's home directory (profile, certificates, trust anchors).
//! * [`keystore`] and [`passphrase`]: identity and prekey secrets encrypted at rest.
//! * [`store`]: the local encrypted message store (received messages, sent messages and
//!   their receipts, contacts).
//! * [`content`]: STIX 2.1 / MISP validation and content-type detection.
//! * [`authority`]: the federation authority's tool (`liaison authority ...`).
//! * [`demo`]: the cryptographic self-demonstration (`liaison demo`).
//!
//! ## Example: send a STIX report and wait for its receipt
//!
//! The same steps as `client/examples/send_report.rs` (run it against a real federation with
//! `cargo run -p liaison-client --example send_report -- HOME RECIPIENT FILE`):
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use liaison_client::passphrase::Passphrase;
//! use liaison_client::profile::Profile;
//! use liaison_client::session::{Event, RecipientRef, Report, Session, SessionConfig};
//! use liaison_proto::envelope::ContentType;
//! use liaison_proto::{Classification, Tlp};
//!
//! # async fn example() -> Result<(), liaison_client::session::ClientError> {
//! let profile = Profile::open(std::path::Path::new("/home/ana/.liaison"))?;
//! let passphrase = Passphrase::new(std::env::var("LIAISON_PASSPHRASE").unwrap_or_default());
//! let mut session = Session::connect(SessionConfig::from_profile(&profile, passphrase)?).await?;
//!
//! let report = Report {
//!     content_type: ContentType::Stix21Bundle,
//!     content: std::fs::read("incident.json").map_err(|e| {
//!         liaison_client::session::ClientError::io(std::path::Path::new("incident.json"), e)
//!     })?,
//! };
//! let outcome = session
//!     .send(
//!         &report,
//!         &[RecipientRef::parse("Bohdan Kovalenko")],
//!         Classification::RestreintUe,
//!         Tlp::Amber,
//!     )
//!     .await?;
//! println!("relay took custody of {}", outcome.message_id);
//!
//! while let Some(event) = session.next_event(Duration::from_secs(60)).await? {
//!     match event {
//!         Event::Receipt(r) if r.message_id == outcome.message_id => {
//!             println!("{} confirmed receipt", r.recipient_name);
//!             break;
//!         }
//!         Event::Message(m) => println!("new message {}", m.message_id()),
//!         _ => {}
//!     }
//! }
//! session.close().await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod authority;
pub mod content;
pub mod demo;
pub mod devnet;
pub mod keystore;
pub mod passphrase;
pub mod profile;
pub mod session;
pub mod store;
pub mod supplied;

pub use session::{ClientError, Event, Session, SessionConfig};
