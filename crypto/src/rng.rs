//! The operating system's random number generator, as the `CryptoRng` every API here takes.
//!
//! Everything that needs randomness takes `&mut impl CryptoRng`, so tests and the test-vector
//! generator can inject a seeded generator; production passes [`os_rng`].

use getrandom::SysRng;
use rand_core::UnwrapErr;

/// The operating system's CSPRNG (`getrandom(2)`).
///
/// It panics if the kernel cannot supply randomness, which on Linux happens only before the
/// entropy pool is initialised at boot; continuing without randomness would be worse.
pub fn os_rng() -> UnwrapErr<SysRng> {
    UnwrapErr(SysRng)
}
