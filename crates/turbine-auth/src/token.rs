//! Opaque tokens (refresh tokens, API keys, one-time links) and the keyed hashes around them.
//!
//! A token is 32 random bytes from the thread CSPRNG, base64url without padding, behind an
//! optional prefix that says what it is (`"tbk_"` for an API key, say). Only its SHA-256 is
//! stored: tokens are high-entropy, so a plain hash is enough and needs no salt.
//!
//! ```
//! use turbine_auth::token;
//!
//! let new = token::generate("tbk_");
//! assert!(new.token.starts_with("tbk_"));
//! assert_eq!(new.hash, token::hash(&new.token)); // store `hash`, hand out `token`
//!
//! let presented = new.token.clone();
//! assert!(token::constant_time_eq(token::hash(&presented).as_bytes(), new.hash.as_bytes()));
//!
//! // One app secret, separate keys per use.
//! let csrf_key = token::derive_key(b"app secret", "csrf");
//! assert_ne!(csrf_key, token::derive_key(b"app secret", "email-links"));
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit as _, Mac as _};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// Random bytes in a generated token.
const TOKEN_BYTES: usize = 32;

/// A freshly generated token: give `token` to the client once, store only `hash`.
#[derive(Clone, PartialEq, Eq)]
pub struct NewToken {
    /// The token itself: the prefix, then 43 base64url characters.
    pub token: String,
    /// [`hash`] of the token, for storage and lookup.
    pub hash: String,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("token", &"<redacted>")
            .field("hash", &self.hash)
            .finish()
    }
}

/// A new token: `prefix` (may be empty) followed by 32 random bytes from the thread-local
/// CSPRNG (seeded from the OS), base64url without padding.
pub fn generate(prefix: &str) -> NewToken {
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash(&token);
    NewToken { token, hash }
}

/// The SHA-256 of a token, as 64 lowercase hex characters.
pub fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Whether two byte strings are equal, in time that does not depend on where they differ.
/// (Their lengths are not secret: unequal lengths return early.)
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// HMAC-SHA256 of `data` under `key`, as 64 lowercase hex characters.
pub fn keyed_hash(key: &[u8], data: &str) -> String {
    hex(&hmac_sha256(key, data.as_bytes()))
}

/// A 32-byte key for one `purpose`, derived from the app `secret` as
/// HMAC-SHA256(secret, `"turbine-auth:" + purpose`), so one secret yields unrelated keys for
/// unrelated uses.
pub fn derive_key(secret: &[u8], purpose: &str) -> Vec<u8> {
    let label = format!("turbine-auth:{purpose}");
    hmac_sha256(secret, label.as_bytes()).to_vec()
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}
