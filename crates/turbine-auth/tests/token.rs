//! Opaque tokens and keyed hashes.

use std::collections::HashSet;

use turbine_auth::token::{self, constant_time_eq, derive_key, generate, keyed_hash};

fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[test]
fn tokens_are_unique() {
    let tokens: HashSet<String> = (0..1000).map(|_| generate("").token).collect();
    assert_eq!(tokens.len(), 1000);
}

#[test]
fn shape_and_prefix() {
    let plain = generate("");
    assert_eq!(plain.token.len(), 43); // 32 bytes, base64url, no padding
    assert!(
        plain
            .token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    let key = generate("tbk_");
    assert!(key.token.starts_with("tbk_"));
    assert_eq!(key.token.len(), 4 + 43);
    assert_eq!(key.hash, token::hash(&key.token));
}

#[test]
fn debug_hides_the_token() {
    let new = generate("tbk_");
    let debug = format!("{new:?}");
    assert!(!debug.contains(&new.token));
    assert!(debug.contains(&new.hash));
}

#[test]
fn hash_is_stable_sha256_hex() {
    let h = token::hash("abc");
    assert!(is_hex64(&h));
    assert_eq!(h, token::hash("abc"));
    // FIPS 180-2 test vector.
    assert_eq!(
        h,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_ne!(token::hash("abd"), h);
}

#[test]
fn constant_time_comparison() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"abcd"));
    assert!(constant_time_eq(b"", b""));
}

#[test]
fn keyed_hash_is_hmac_sha256() {
    // RFC 4231 test case 2.
    assert_eq!(
        keyed_hash(b"Jefe", "what do ya want for nothing?"),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    assert!(is_hex64(&keyed_hash(b"k", "")));
    assert_ne!(keyed_hash(b"k1", "data"), keyed_hash(b"k2", "data"));
}

#[test]
fn derived_keys_differ_per_purpose_and_secret() {
    let csrf = derive_key(b"secret", "csrf");
    assert_eq!(csrf.len(), 32);
    assert_eq!(csrf, derive_key(b"secret", "csrf"));
    assert_ne!(csrf, derive_key(b"secret", "email-links"));
    assert_ne!(csrf, derive_key(b"other secret", "csrf"));
    assert_ne!(csrf.as_slice(), b"secret".as_slice());
}
