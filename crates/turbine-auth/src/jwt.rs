//! Short-lived access tokens: signed JWTs on `jsonwebtoken`.
//!
//! Verification accepts exactly the configured algorithm (never `none`, never an HMAC token
//! against a public key), requires `exp`, `iss`, `aud` and `sub`, checks issuer, audience,
//! expiry and not-before with a small leeway, and says why a token was refused as a
//! [`TokenError`].
//!
//! ```
//! use turbine_auth::jwt::{AccessSettings, AccessTokens};
//!
//! # fn main() -> turbine_auth::Result<()> {
//! let tokens = AccessTokens::hs256(b"a long random app secret", AccessSettings::default());
//! let (jwt, claims) = tokens.issue("user-42", Some("device-7"), false, false, None)?;
//!
//! let verified = tokens.verify(&jwt)?;
//! assert_eq!(verified, claims);
//! assert_eq!(verified.sub, "user-42");
//! assert!(tokens.verify("not.a.jwt").is_err());
//! # Ok(())
//! # }
//! ```

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{AlgorithmFamily, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub use jsonwebtoken::Algorithm;

use crate::error::{Error, Result, TokenError};

/// The claims of an access token.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct AccessClaims {
    /// The user's id.
    pub sub: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: i64,
    /// Issued at, seconds since the Unix epoch.
    pub iat: i64,
    /// Not valid before, seconds since the Unix epoch.
    pub nbf: i64,
    /// Who issued it.
    pub iss: String,
    /// Who it is for.
    pub aud: String,
    /// This token's unique id.
    pub jti: String,
    /// The device / session family it belongs to (the refresh-token family), if any.
    pub sid: Option<String>,
    /// The user is staff.
    #[serde(default)]
    pub staff: bool,
    /// The user is a superuser.
    #[serde(default)]
    pub su: bool,
    /// Space-separated scopes, when the token is narrower than the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// How access tokens are issued and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessSettings {
    /// The `iss` claim written and required.
    pub issuer: String,
    /// The `aud` claim written and required.
    pub audience: String,
    /// How long a token lives (default 15 minutes).
    pub ttl: Duration,
    /// Clock skew tolerated on `exp` and `nbf` (default 30 seconds; whole seconds count).
    pub leeway: Duration,
    /// The one signing algorithm (default HS256). The constructors of [`AccessTokens`] set it
    /// to the algorithm of their key.
    pub algorithm: Algorithm,
}

impl AccessSettings {
    /// The defaults with this issuer and audience.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            ..Self::default()
        }
    }
}

impl Default for AccessSettings {
    /// Issuer `turbine`, audience `turbine-app`, 15 minutes, 30 seconds of leeway, HS256.
    fn default() -> Self {
        Self {
            issuer: "turbine".to_string(),
            audience: "turbine-app".to_string(),
            ttl: Duration::from_secs(15 * 60),
            leeway: Duration::from_secs(30),
            algorithm: Algorithm::HS256,
        }
    }
}

/// Issues and verifies access tokens with one key. Cheap to clone.
#[derive(Clone)]
pub struct AccessTokens {
    inner: Arc<Inner>,
}

struct Inner {
    settings: AccessSettings,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokens")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

impl AccessTokens {
    /// HS256 with a shared `secret` (`settings.algorithm` is set to HS256).
    ///
    /// # Panics
    /// On an empty secret: configuration validation is expected to refuse it earlier.
    pub fn hs256(secret: &[u8], mut settings: AccessSettings) -> Self {
        assert!(
            !secret.is_empty(),
            "turbine-auth: the JWT signing secret is empty; configure a long random secret"
        );
        settings.algorithm = Algorithm::HS256;
        let encoding = EncodingKey::from_secret(secret).expect("an HMAC key from any bytes");
        let decoding = DecodingKey::from_secret(secret).expect("an HMAC key from any bytes");
        Self::with_keys(encoding, decoding, settings)
    }

    /// An asymmetric algorithm (RS256/384/512, PS256/384/512, ES256/384 or EdDSA) with a PEM
    /// private key to sign and a PEM public key to verify (`settings.algorithm` is set to
    /// `algorithm`). Fails on an HMAC algorithm or keys that do not parse for it.
    pub fn from_pem(
        algorithm: Algorithm,
        private_pem: &[u8],
        public_pem: &[u8],
        mut settings: AccessSettings,
    ) -> Result<Self> {
        let bad_key = |e: jsonwebtoken::errors::Error| {
            Error::Internal(format!("JWT {algorithm:?} key does not parse: {e}"))
        };
        let (encoding, decoding) = match algorithm.family() {
            AlgorithmFamily::Rsa => (
                EncodingKey::from_rsa_pem(private_pem).map_err(bad_key)?,
                DecodingKey::from_rsa_pem(public_pem).map_err(bad_key)?,
            ),
            AlgorithmFamily::Ec => (
                EncodingKey::from_ec_pem(private_pem).map_err(bad_key)?,
                DecodingKey::from_ec_pem(public_pem).map_err(bad_key)?,
            ),
            AlgorithmFamily::Ed => (
                EncodingKey::from_ed_pem(private_pem).map_err(bad_key)?,
                DecodingKey::from_ed_pem(public_pem).map_err(bad_key)?,
            ),
            AlgorithmFamily::Hmac => {
                return Err(Error::Internal(format!(
                    "JWT algorithm {algorithm:?} takes a shared secret, not PEM keys; use AccessTokens::hs256"
                )));
            }
        };
        settings.algorithm = algorithm;
        let tokens = Self::with_keys(encoding, decoding, settings);
        // Catch a private key that does not belong to the public key now, not at first login.
        let (probe, _) = tokens.issue("key-check", None, false, false, None)?;
        tokens.verify(&probe).map_err(|e| {
            Error::Internal(format!(
                "JWT {algorithm:?} keys do not match each other ({e})"
            ))
        })?;
        Ok(tokens)
    }

    fn with_keys(encoding: EncodingKey, decoding: DecodingKey, settings: AccessSettings) -> Self {
        let mut validation = Validation::new(settings.algorithm);
        validation.algorithms = vec![settings.algorithm];
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.leeway = settings.leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        Self {
            inner: Arc::new(Inner {
                settings,
                encoding,
                decoding,
                validation,
            }),
        }
    }

    /// The settings tokens are issued and checked with.
    pub fn settings(&self) -> &AccessSettings {
        &self.inner.settings
    }

    /// Signs a new token for `user_id`, valid from now for the configured ttl, with a fresh
    /// `jti` (UUID v7). Returns the compact JWT and its claims.
    pub fn issue(
        &self,
        user_id: &str,
        sid: Option<&str>,
        staff: bool,
        su: bool,
        scope: Option<&str>,
    ) -> Result<(String, AccessClaims)> {
        let settings = &self.inner.settings;
        let now = chrono::Utc::now().timestamp();
        let ttl = i64::try_from(settings.ttl.as_secs()).unwrap_or(i64::MAX);
        let claims = AccessClaims {
            sub: user_id.to_string(),
            exp: now.saturating_add(ttl),
            iat: now,
            nbf: now,
            iss: settings.issuer.clone(),
            aud: settings.audience.clone(),
            jti: uuid::Uuid::now_v7().to_string(),
            sid: sid.map(str::to_string),
            staff,
            su,
            scope: scope.map(str::to_string),
        };
        let header = Header::new(settings.algorithm);
        let jwt = jsonwebtoken::encode(&header, &claims, &self.inner.encoding)
            .map_err(|e| Error::Internal(format!("signing an access token failed: {e}")))?;
        Ok((jwt, claims))
    }

    /// Checks signature, algorithm, issuer, audience, expiry and not-before, and returns the
    /// claims.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let inner = &self.inner;
        match jsonwebtoken::decode::<AccessClaims>(token, &inner.decoding, &inner.validation) {
            Ok(data) => Ok(data.claims),
            Err(e) => Err(self.reason(&e, token)),
        }
    }

    fn reason(&self, error: &jsonwebtoken::errors::Error, token: &str) -> TokenError {
        match error.kind() {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::InvalidSignature => TokenError::BadSignature,
            ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => TokenError::Algorithm,
            ErrorKind::InvalidAudience => TokenError::Audience,
            ErrorKind::InvalidIssuer => TokenError::Issuer,
            ErrorKind::ImmatureSignature => TokenError::NotYetValid,
            // jsonwebtoken cannot even parse a header naming an algorithm it does not know
            // (`none` among them): say "algorithm" when that is why.
            _ if self.names_other_algorithm(token) => TokenError::Algorithm,
            _ => TokenError::Malformed,
        }
    }

    /// Whether the token's header parses as JSON with an `alg` other than ours.
    fn names_other_algorithm(&self, token: &str) -> bool {
        let Some(header) = token.split('.').next() else {
            return false;
        };
        let Ok(json) = URL_SAFE_NO_PAD.decode(header.trim_end_matches('=')) else {
            return false;
        };
        let Ok(header) = serde_json::from_slice::<serde_json::Value>(&json) else {
            return false;
        };
        let ours = serde_json::to_value(self.inner.settings.algorithm).ok();
        match header.get("alg") {
            Some(alg) => Some(alg) != ours.as_ref(),
            None => true,
        }
    }
}
