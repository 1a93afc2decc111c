//! A per-process memo of access tokens already verified, so a mobile client's every request
//! does not pay for the signature check and JSON parsing again.
//!
//! Keys are the whole token text (compared in full, so a forged token never matches); an entry
//! lives until the token's `exp`. Access tokens cannot be revoked before they expire (see
//! docs/auth.md), so remembering the answer changes nothing a client can observe. The memo is
//! bounded: when full, expired entries are dropped, and if that is not enough it starts over.
//!
//! The map hashes with foldhash (seeded per process) rather than SipHash, which cost ~1,100
//! instructions per 365-byte token; only tokens this server signed get in, so nobody chooses
//! the keys.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// What a verified access token says, as a request needs it.
#[derive(Debug, Clone)]
pub(crate) struct Verified {
    /// The user's id (`sub`).
    pub(crate) id: i64,
    /// `staff`.
    pub(crate) staff: bool,
    /// `su`.
    pub(crate) superuser: bool,
    /// `sid`: the device.
    pub(crate) device: Option<String>,
    /// `exp`, seconds since the Unix epoch.
    pub(crate) exp: i64,
}

/// Verified tokens, up to a bound.
#[derive(Debug)]
pub(crate) struct VerifiedTokens {
    map: RwLock<HashMap<Box<[u8]>, Verified, foldhash::fast::RandomState>>,
    capacity: usize,
}

impl VerifiedTokens {
    /// A memo of at most `capacity` tokens.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            map: RwLock::new(HashMap::default()),
            capacity,
        }
    }

    /// The remembered answer for this exact token, while it has not expired.
    pub(crate) fn get(&self, token: &[u8], now: i64) -> Option<Verified> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        map.get(token).filter(|v| v.exp > now).cloned()
    }

    /// Remembers a token's answer.
    pub(crate) fn insert(&self, token: &[u8], verified: Verified, now: i64) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.capacity {
            map.retain(|_, v| v.exp > now);
            if map.len() >= self.capacity {
                map.clear();
            }
        }
        map.insert(token.into(), verified);
    }

    /// How many tokens are remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.read().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(id: i64, exp: i64) -> Verified {
        Verified {
            id,
            staff: false,
            superuser: false,
            device: None,
            exp,
        }
    }

    #[test]
    fn exact_tokens_until_they_expire() {
        let memo = VerifiedTokens::new(4);
        memo.insert(b"a.b.c", v(1, 100), 10);
        assert_eq!(memo.get(b"a.b.c", 99).map(|v| v.id), Some(1));
        assert!(memo.get(b"a.b.c", 100).is_none(), "expired at exp");
        assert!(memo.get(b"a.b.d", 10).is_none(), "another token");
        assert!(memo.get(b"a.b.", 10).is_none(), "a prefix");
    }

    #[test]
    fn bounded() {
        let memo = VerifiedTokens::new(3);
        memo.insert(b"old", v(1, 5), 0);
        memo.insert(b"b", v(2, 100), 0);
        memo.insert(b"c", v(3, 100), 0);
        // Full: the expired one goes.
        memo.insert(b"d", v(4, 100), 10);
        assert_eq!(memo.len(), 3);
        assert!(memo.get(b"b", 10).is_some());
        // Full of live tokens: start over.
        memo.insert(b"e", v(5, 100), 10);
        assert_eq!(memo.len(), 1);
        assert!(memo.get(b"e", 10).is_some());
    }
}
