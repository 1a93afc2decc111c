//! Signed cursors: the ORM's keyset cursor plus an HMAC over the resource and ordering it was
//! made for, so a client can neither forge a position nor reuse a cursor under another
//! ordering.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

/// Signs and checks cursors with a key derived from the app's secret key.
#[derive(Clone)]
pub(crate) struct CursorKey(Vec<u8>);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

const TAG_LEN: usize = 16;

impl CursorKey {
    /// A key for cursors, derived from the app's secret (never the secret itself).
    pub(crate) fn derive(secret: &[u8]) -> Self {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
        mac.update(b"turbine-api cursor v1");
        Self(mac.finalize().into_bytes().to_vec())
    }

    fn mac(&self, scope: &str, cursor: &str) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(scope.as_bytes());
        mac.update(b"\n");
        mac.update(cursor.as_bytes());
        mac
    }

    /// `cursor.tag`, where the tag binds the cursor to `scope` (resource and ordering).
    pub(crate) fn sign(&self, scope: &str, cursor: &str) -> String {
        let tag = self.mac(scope, cursor).finalize().into_bytes();
        format!("{cursor}.{}", URL_SAFE_NO_PAD.encode(&tag[..TAG_LEN]))
    }

    /// The cursor inside a signed one, if its tag is right for `scope`.
    pub(crate) fn verify<'a>(&self, scope: &str, signed: &'a str) -> Option<&'a str> {
        let (cursor, tag) = signed.rsplit_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        if tag.len() != TAG_LEN {
            return None;
        }
        self.mac(scope, cursor)
            .verify_truncated_left(&tag)
            .ok()
            .map(|()| cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::CursorKey;

    #[test]
    fn a_signed_cursor_verifies_only_unchanged_and_in_its_scope() {
        let key = CursorKey::derive(b"secret");
        let signed = key.sign("/posts?ordering=-id", "WzFd");
        assert_eq!(key.verify("/posts?ordering=-id", &signed), Some("WzFd"));
        assert_eq!(key.verify("/posts?ordering=id", &signed), None);
        let forged = signed.replacen("WzFd", "WzJd", 1);
        assert_eq!(key.verify("/posts?ordering=-id", &forged), None);
        assert_eq!(key.verify("/posts?ordering=-id", "WzFd"), None);
        assert_eq!(key.verify("/posts?ordering=-id", "WzFd.!!"), None);
        let other = CursorKey::derive(b"other secret");
        assert_eq!(other.verify("/posts?ordering=-id", &signed), None);
    }
}
