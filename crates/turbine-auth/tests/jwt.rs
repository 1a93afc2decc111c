//! Access tokens: roundtrip and every way a token must be refused.
//!
//! `fixtures/*-test-*.pem` are throwaway keys generated for these tests only.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};
use turbine_auth::TokenError;
use turbine_auth::jwt::{AccessClaims, AccessSettings, AccessTokens, Algorithm};

const SECRET: &[u8] = b"test secret: thirty-two bytes or more, honestly";
const RSA_PRIVATE: &[u8] = include_bytes!("fixtures/rsa-test-private.pem");
const RSA_PUBLIC: &[u8] = include_bytes!("fixtures/rsa-test-public.pem");
const EC_PRIVATE: &[u8] = include_bytes!("fixtures/ec-test-private.pem");
const EC_PUBLIC: &[u8] = include_bytes!("fixtures/ec-test-public.pem");
const ED_PRIVATE: &[u8] = include_bytes!("fixtures/ed25519-test-private.pem");
const ED_PUBLIC: &[u8] = include_bytes!("fixtures/ed25519-test-public.pem");

fn tokens() -> AccessTokens {
    AccessTokens::hs256(SECRET, AccessSettings::default())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Valid claims for the default settings, to be bent by each test.
fn claims() -> AccessClaims {
    let now = now();
    AccessClaims {
        sub: "user-1".into(),
        exp: now + 600,
        iat: now,
        nbf: now,
        iss: "turbine".into(),
        aud: "turbine-app".into(),
        jti: "jti-1".into(),
        sid: None,
        staff: false,
        su: false,
        scope: None,
    }
}

fn sign(alg: Algorithm, claims: &AccessClaims, key: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(key).unwrap(),
    )
    .unwrap()
}

#[test]
fn roundtrip() {
    let tokens = tokens();
    let (jwt, claims) = tokens
        .issue("user-42", Some("device-7"), true, false, Some("read write"))
        .unwrap();
    assert_eq!(jwt.split('.').count(), 3);
    let verified = tokens.verify(&jwt).unwrap();
    assert_eq!(verified, claims);
    assert_eq!(verified.sub, "user-42");
    assert_eq!(verified.sid.as_deref(), Some("device-7"));
    assert!(verified.staff && !verified.su);
    assert_eq!(verified.scope.as_deref(), Some("read write"));
    assert_eq!(verified.iss, "turbine");
    assert_eq!(verified.aud, "turbine-app");
    assert_eq!(verified.iat, verified.nbf);
    assert_eq!(verified.exp - verified.iat, 15 * 60);
    assert!(uuid::Uuid::parse_str(&verified.jti).is_ok());
    // A second token has another jti.
    let (_, other) = tokens.issue("user-42", None, false, false, None).unwrap();
    assert_ne!(other.jti, claims.jti);
    assert_eq!(tokens.settings().algorithm, Algorithm::HS256);
}

#[test]
fn scope_is_omitted_when_absent() {
    let (jwt, _) = tokens().issue("u", None, false, false, None).unwrap();
    let payload = URL_SAFE_NO_PAD
        .decode(jwt.split('.').nth(1).unwrap())
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert!(json.get("scope").is_none());
    assert_eq!(json["staff"], false);
}

#[test]
fn asymmetric_roundtrips() {
    for (alg, private, public) in [
        (Algorithm::RS256, RSA_PRIVATE, RSA_PUBLIC),
        (Algorithm::ES256, EC_PRIVATE, EC_PUBLIC),
        (Algorithm::EdDSA, ED_PRIVATE, ED_PUBLIC),
    ] {
        let tokens = AccessTokens::from_pem(alg, private, public, AccessSettings::default())
            .unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        assert_eq!(tokens.settings().algorithm, alg);
        let (jwt, claims) = tokens.issue("user-1", None, false, true, None).unwrap();
        assert_eq!(tokens.verify(&jwt).unwrap(), claims);
    }
}

#[test]
fn from_pem_refuses_bad_input() {
    let settings = AccessSettings::default;
    assert!(AccessTokens::from_pem(Algorithm::HS256, SECRET, SECRET, settings()).is_err());
    assert!(AccessTokens::from_pem(Algorithm::RS256, b"nope", RSA_PUBLIC, settings()).is_err());
    // Mismatched pair: EC private key with the RSA public key.
    assert!(AccessTokens::from_pem(Algorithm::RS256, RSA_PRIVATE, EC_PUBLIC, settings()).is_err());
}

#[test]
#[should_panic(expected = "secret is empty")]
fn empty_secret_panics() {
    let _ = AccessTokens::hs256(b"", AccessSettings::default());
}

#[test]
fn expired() {
    let mut c = claims();
    c.iat -= 3600;
    c.nbf -= 3600;
    c.exp = now() - 120; // past the 30 s leeway
    let jwt = sign(Algorithm::HS256, &c, SECRET);
    assert_eq!(tokens().verify(&jwt), Err(TokenError::Expired));
}

#[test]
fn leeway_applies() {
    let mut c = claims();
    c.exp = now() - 5; // expired, but within the 30 s leeway
    c.nbf = now() + 5; // not yet valid, but within the leeway
    let jwt = sign(Algorithm::HS256, &c, SECRET);
    assert!(tokens().verify(&jwt).is_ok());
}

#[test]
fn wrong_key() {
    let jwt = sign(Algorithm::HS256, &claims(), b"another secret entirely");
    assert_eq!(tokens().verify(&jwt), Err(TokenError::BadSignature));
}

#[test]
fn alg_none_is_refused() {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims()).unwrap());
    for jwt in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        let refused = tokens().verify(&jwt).unwrap_err();
        assert!(
            matches!(refused, TokenError::Algorithm | TokenError::Malformed),
            "{refused:?}"
        );
    }
    assert_eq!(
        tokens().verify(&format!("{header}.{payload}.")),
        Err(TokenError::Algorithm)
    );
}

#[test]
fn algorithm_confusion_is_refused() {
    // The classic attack: an HS256 token whose HMAC key is the verifier's RSA public key.
    let rs256 = AccessTokens::from_pem(
        Algorithm::RS256,
        RSA_PRIVATE,
        RSA_PUBLIC,
        AccessSettings::default(),
    )
    .unwrap();
    let forged = sign(Algorithm::HS256, &claims(), RSA_PUBLIC);
    assert_eq!(rs256.verify(&forged), Err(TokenError::Algorithm));
}

#[test]
fn other_hmac_algorithm_is_refused() {
    let jwt = sign(Algorithm::HS384, &claims(), SECRET);
    assert_eq!(tokens().verify(&jwt), Err(TokenError::Algorithm));
}

#[test]
fn wrong_audience() {
    let mut c = claims();
    c.aud = "someone-else".into();
    let jwt = sign(Algorithm::HS256, &c, SECRET);
    assert_eq!(tokens().verify(&jwt), Err(TokenError::Audience));

    let other = AccessTokens::hs256(SECRET, AccessSettings::new("turbine", "admin-app"));
    let (jwt, _) = tokens().issue("u", None, false, false, None).unwrap();
    assert_eq!(other.verify(&jwt), Err(TokenError::Audience));
}

#[test]
fn wrong_issuer() {
    let mut c = claims();
    c.iss = "evil".into();
    let jwt = sign(Algorithm::HS256, &c, SECRET);
    assert_eq!(tokens().verify(&jwt), Err(TokenError::Issuer));
}

#[test]
fn tampered_payload() {
    let (jwt, _) = tokens().issue("user-1", None, false, false, None).unwrap();
    let mut parts: Vec<String> = jwt.split('.').map(str::to_string).collect();
    let mut c = claims();
    c.sub = "user-1".into();
    c.su = true; // privilege escalation attempt
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).unwrap());
    assert_eq!(
        tokens().verify(&parts.join(".")),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn not_yet_valid() {
    let mut c = claims();
    c.nbf = now() + 3600;
    let jwt = sign(Algorithm::HS256, &c, SECRET);
    assert_eq!(tokens().verify(&jwt), Err(TokenError::NotYetValid));
}

#[test]
fn missing_required_claims_are_malformed() {
    // No `sub`: refuse.
    let mut json = serde_json::to_value(claims()).unwrap();
    json.as_object_mut().unwrap().remove("sub");
    let jwt = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json,
        &EncodingKey::from_secret(SECRET).unwrap(),
    )
    .unwrap();
    assert_eq!(tokens().verify(&jwt), Err(TokenError::Malformed));
}

#[test]
fn garbage_is_malformed() {
    for garbage in ["", "a", "a.b", "a.b.c", "....", "eyJ.eyJ.sig"] {
        assert_eq!(
            tokens().verify(garbage),
            Err(TokenError::Malformed),
            "{garbage:?}"
        );
    }
}

#[test]
#[ignore = "timing: cargo test -p turbine-auth --release --test jwt -- --ignored --nocapture"]
fn verify_timing() {
    let tokens = tokens();
    let (jwt, _) = tokens
        .issue("user-1", Some("sid"), false, false, None)
        .unwrap();
    let n = 10_000u32;
    let started = Instant::now();
    for _ in 0..n {
        std::hint::black_box(tokens.verify(std::hint::black_box(&jwt)).unwrap());
    }
    let per: Duration = started.elapsed() / n;
    println!(
        "HS256 verify: {:.2} µs per token over {n} verifies",
        per.as_secs_f64() * 1e6
    );
}
