//! The one wire codec: big-endian integers and length-prefixed byte strings read from a bounded
//! [`Reader`] that returns an error, never panics, on short or oversized input
//! (modelled on rustls `msgs/codec.rs`). `spec/protocol.md` §2 ("Encoding") is its contract.
//!
//! Every variable-length field is read with an explicit maximum (a named constant in the module
//! that owns the type) *before* anything is allocated.

use crate::error::DecodeError;

/// A cursor over received bytes. Reads past the end fail with [`DecodeError::Truncated`].
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading `buf` from its first byte.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Bytes consumed so far (useful to slice out the exact signed bytes).
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Takes exactly `n` bytes.
    pub fn take(&mut self, what: &'static str, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::Truncated {
                what,
                needed: n,
                available: self.remaining(),
            });
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// Takes a fixed-size array.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let bytes = self.take(what, N)?;
        Ok(core::array::from_fn(|i| bytes[i]))
    }

    /// Reads one byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }

    /// Reads a big-endian `u16`.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    /// Reads a big-endian `u32`.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    /// Reads a big-endian `u64`.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    /// Reads `be16(len) || bytes`, refusing `len > max` before touching the bytes.
    pub fn bytes_u16(&mut self, what: &'static str, max: usize) -> Result<&'a [u8], DecodeError> {
        let len = usize::from(self.u16(what)?);
        self.bounded(what, len, max)
    }

    /// Reads `be32(len) || bytes`, refusing `len > max` before touching the bytes.
    pub fn bytes_u32(&mut self, what: &'static str, max: usize) -> Result<&'a [u8], DecodeError> {
        let len = usize::try_from(self.u32(what)?).unwrap_or(usize::MAX);
        self.bounded(what, len, max)
    }

    /// Reads a `be16`-length-prefixed UTF-8 string of at most `max` bytes.
    pub fn string_u16(&mut self, what: &'static str, max: usize) -> Result<&'a str, DecodeError> {
        let bytes = self.bytes_u16(what, max)?;
        core::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8 { what })
    }

    fn bounded(
        &mut self,
        what: &'static str,
        len: usize,
        max: usize,
    ) -> Result<&'a [u8], DecodeError> {
        if len > max {
            return Err(DecodeError::TooLong { what, len, max });
        }
        self.take(what, len)
    }

    /// All bytes not yet read.
    pub fn rest(&mut self) -> &'a [u8] {
        let out = &self.buf[self.pos..];
        self.pos = self.buf.len();
        out
    }

    /// Fails with [`DecodeError::TrailingBytes`] unless every byte was consumed.
    pub fn expect_end(&self, what: &'static str) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(DecodeError::TrailingBytes { what, count }),
        }
    }
}

/// Appends wire encodings to a buffer. Lengths are checked against the same limits the reader
/// enforces, so we never emit what a conforming peer must refuse.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty writer with room for `n` bytes.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            buf: Vec::with_capacity(n),
        }
    }

    /// Appends one byte.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// Appends a big-endian `u16`.
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Appends a big-endian `u32`.
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Appends a big-endian `u64`.
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Appends raw bytes (fixed-size fields).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Appends `be16(len) || bytes`; fails if `len > max`.
    pub fn bytes_u16(
        &mut self,
        what: &'static str,
        bytes: &[u8],
        max: usize,
    ) -> Result<(), DecodeError> {
        let len = check_len(what, bytes.len(), max.min(usize::from(u16::MAX)))?;
        self.u16(len as u16);
        self.raw(bytes);
        Ok(())
    }

    /// Appends `be32(len) || bytes`; fails if `len > max`.
    pub fn bytes_u32(
        &mut self,
        what: &'static str,
        bytes: &[u8],
        max: usize,
    ) -> Result<(), DecodeError> {
        let len = check_len(what, bytes.len(), max.min(u32::MAX as usize))?;
        self.u32(len as u32);
        self.raw(bytes);
        Ok(())
    }

    /// Bytes written so far.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf
    }

    /// Number of bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The finished encoding.
    pub fn into_vec(self) -> Vec<u8> {
        self.buf
    }
}

fn check_len(what: &'static str, len: usize, max: usize) -> Result<usize, DecodeError> {
    if len > max {
        Err(DecodeError::TooLong { what, len, max })
    } else {
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_input_is_truncated_not_a_panic() {
        let mut r = Reader::new(&[0, 5, 1, 2]);
        assert_eq!(
            r.bytes_u16("field", 100),
            Err(DecodeError::Truncated {
                what: "field",
                needed: 5,
                available: 2
            })
        );
    }

    #[test]
    fn oversized_length_is_refused_before_reading() {
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(
            r.bytes_u32("blob", 16),
            Err(DecodeError::TooLong {
                what: "blob",
                len: u32::MAX as usize,
                max: 16
            })
        );
    }

    #[test]
    fn writer_and_reader_round_trip() {
        let mut w = Writer::new();
        w.u8(1);
        w.u64(u64::MAX);
        w.bytes_u16("s", b"abc", 10).unwrap();
        let bytes = w.into_vec();
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u8("a").unwrap(), 1);
        assert_eq!(r.u64("b").unwrap(), u64::MAX);
        assert_eq!(r.string_u16("s", 10).unwrap(), "abc");
        r.expect_end("t").unwrap();
    }

    #[test]
    fn trailing_bytes_are_reported() {
        let r = Reader::new(&[1]);
        assert_eq!(
            r.expect_end("x"),
            Err(DecodeError::TrailingBytes {
                what: "x",
                count: 1
            })
        );
    }
}
