//! Password hashing with argon2id, off the async runtime.
//!
//! Hashes are PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) with a random salt.
//! Verification says whether the stored hash should be upgraded to the current parameters, and
//! logins for unknown accounts can [`burn`](PasswordHasher::burn) the same time as real ones so
//! response times do not reveal which emails exist. Passwords are never logged.
//!
//! At most one hash per CPU core runs at a time (more would only queue on the cores), and each
//! reuses one of a few pooled memory areas: a burst of logins costs a bounded amount of memory
//! (cores × 19 MiB with the OWASP parameters) instead of 19 MiB per request in flight.
//!
//! ```
//! use turbine_auth::password::PasswordHasher;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> turbine_auth::Result<()> {
//! let hasher = PasswordHasher::for_tests(); // `PasswordHasher::owasp()` in production
//! let phc = hasher.hash("correct horse battery staple").await?;
//! assert!(phc.starts_with("$argon2id$"));
//!
//! let verified = hasher.verify("correct horse battery staple", &phc).await?;
//! assert!(verified.ok && !verified.needs_rehash);
//! assert!(!hasher.verify("wrong", &phc).await?.ok);
//!
//! // Accounts without a password store a marker that never verifies.
//! assert!(!hasher.verify("anything", &PasswordHasher::unusable()).await?.ok);
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

use crate::error::{Error, Result};

/// The marker stored for accounts that have no usable password. It is not a PHC string, so no
/// password can ever match it.
const UNUSABLE: &str = "!unusable";

/// The password the dummy hash of [`PasswordHasher::burn`] is computed from.
const DUMMY_PASSWORD: &[u8] = b"turbine-auth: dummy password for timing equalisation";

/// The fixed salt of the dummy hash (not secret; the dummy hash protects nothing).
const DUMMY_SALT: &[u8] = b"turbine-auth-dummy-salt";

/// The outcome of [`PasswordHasher::verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The password matches the stored hash.
    pub ok: bool,
    /// The password matched, but the stored hash uses another algorithm, version or parameters
    /// than this hasher: store a fresh [`PasswordHasher::hash`] of the password.
    pub needs_rehash: bool,
}

/// Hashes and verifies passwords with argon2id.
///
/// Cheap to clone (the parameters and the cached dummy hash are shared). Its `Debug` shows the
/// parameters only.
#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    /// The PHC string of [`DUMMY_PASSWORD`] under `params`, computed on the first `burn`.
    dummy: OnceLock<std::result::Result<String, String>>,
    /// One permit per core: hashes beyond that wait their turn.
    permits: Semaphore,
    /// Memory areas of `params.block_count()` blocks, kept for the next hash.
    memory: Mutex<Vec<Vec<Block>>>,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.inner.params;
        f.debug_struct("PasswordHasher")
            .field("algorithm", &"argon2id")
            .field("m_cost", &p.m_cost())
            .field("t_cost", &p.t_cost())
            .field("p_cost", &p.p_cost())
            .finish()
    }
}

impl Default for PasswordHasher {
    /// [`PasswordHasher::owasp`].
    fn default() -> Self {
        Self::owasp()
    }
}

impl PasswordHasher {
    /// The OWASP-recommended argon2id parameters: 19 MiB of memory (`m=19456` KiB), two passes,
    /// one lane.
    pub fn owasp() -> Self {
        Self::new(19_456, 2, 1).expect("valid argon2 parameters")
    }

    /// Argon2id with these parameters: memory in KiB, passes, lanes. Fails on parameters argon2
    /// refuses (for example less than 8 KiB per lane).
    pub fn new(m_cost: u32, t_cost: u32, p_cost: u32) -> Result<Self> {
        let params = Params::new(m_cost, t_cost, p_cost, None)
            .map_err(|e| Error::Internal(format!("argon2 parameters: {e}")))?;
        Ok(Self::from_params(params))
    }

    /// Deliberately weak parameters (`m=8,t=1,p=1`) so test suites run fast. Never use them in
    /// production.
    pub fn for_tests() -> Self {
        Self::new(8, 1, 1).expect("valid argon2 parameters")
    }

    fn from_params(params: Params) -> Self {
        Self {
            inner: Arc::new(Inner {
                params,
                dummy: OnceLock::new(),
                permits: Semaphore::new(cores()),
                memory: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The marker to store for an account without a usable password (`"!unusable"`). It never
    /// verifies, and verifying against it takes as long as a real verification.
    pub fn unusable() -> String {
        UNUSABLE.to_string()
    }

    /// Hashes `password` with a fresh random salt into a PHC string. The work runs on tokio's
    /// blocking pool, not on the async runtime.
    pub async fn hash(&self, password: &str) -> Result<String> {
        let password = password.to_owned();
        let salt = argon2::password_hash::generate_salt();
        self.run(move |inner| {
            inner
                .hash_with_salt(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
        })
        .await
    }

    /// Runs argon2 work on tokio's blocking pool, at most one job per core at a time.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Inner) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|e| Error::Internal(format!("password hashing: {e}")))?;
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || work(&inner))
            .await
            .map_err(|e| Error::Internal(format!("password hashing task failed: {e}")))?
    }

    /// Checks `password` against the stored PHC string `phc`, on tokio's blocking pool.
    ///
    /// The [`unusable`](Self::unusable) marker gives `ok: false` after the same work as a real
    /// check. A stored hash that does not parse (or names an algorithm other than argon2) is an
    /// [`Error::Internal`]: the database holds something this code did not write.
    pub async fn verify(&self, password: &str, phc: &str) -> Result<Verified> {
        if phc == UNUSABLE {
            self.burn(password).await;
            return Ok(Verified {
                ok: false,
                needs_rehash: false,
            });
        }
        let stored = PasswordHash::new(phc)
            .map_err(|e| Error::Internal(format!("stored password hash does not parse: {e}")))?;
        if stored.salt.is_none() || stored.hash.is_none() {
            return Err(Error::Internal(
                "stored password hash has no salt or no output".to_string(),
            ));
        }
        let password = password.to_owned();
        self.run(move |inner| {
            let ok = inner.matches(password.as_bytes(), &stored)?;
            Ok(Verified {
                ok,
                needs_rehash: ok && inner.needs_rehash(&stored),
            })
        })
        .await
    }

    /// Does the work of one verification against a fixed dummy hash with this hasher's
    /// parameters, and forgets the result. Call it when a login names an unknown account so it
    /// takes as long as a login with a wrong password.
    ///
    /// The dummy hash is computed on the first call and cached in the hasher (and its clones).
    pub async fn burn(&self, password: &str) {
        let password = password.to_owned();
        let outcome = self
            .run(move |inner| {
                let dummy = inner
                    .dummy
                    .get_or_init(|| {
                        inner
                            .hash_with_salt(DUMMY_PASSWORD, DUMMY_SALT)
                            .map(|hash| hash.to_string())
                            .map_err(|e| e.to_string())
                    })
                    .as_ref()
                    .map_err(|e| Error::Internal(format!("argon2 dummy hash failed: {e}")))?;
                let dummy = PasswordHash::new(dummy)
                    .map_err(|e| Error::Internal(format!("argon2 dummy hash: {e}")))?;
                // The outcome is meaningless (almost certainly a mismatch); only the work counts.
                let _ = inner.matches(password.as_bytes(), &dummy);
                Ok(())
            })
            .await;
        if let Err(e) = outcome {
            tracing::error!(error = %e, "auth: burning password-check time failed");
        }
    }
}

impl Inner {
    /// Argon2id with our parameters and this salt, as a PHC string.
    fn hash_with_salt(&self, password: &[u8], salt: &[u8]) -> Result<PasswordHash> {
        let fail = |e: &dyn fmt::Display| Error::Internal(format!("argon2 hashing failed: {e}"));
        let len = self
            .params
            .output_len()
            .unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let output = self.compute(
            Algorithm::Argon2id,
            Version::V0x13,
            &self.params,
            password,
            salt,
            len,
        )?;
        Ok(PasswordHash {
            algorithm: ARGON2ID_IDENT,
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params).map_err(|e| fail(&e))?,
            salt: Some(Salt::new(salt).map_err(|e| fail(&e))?),
            hash: Some(output),
        })
    }

    /// Whether `password` gives the stored hash (compared in constant time).
    fn matches(&self, password: &[u8], stored: &PasswordHash) -> Result<bool> {
        let fail = |e: &dyn fmt::Display| Error::Internal(format!("stored password hash: {e}"));
        let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else {
            return Err(fail(&"no salt or no output"));
        };
        let algorithm = Algorithm::try_from(stored.algorithm.as_str()).map_err(|e| fail(&e))?;
        let version = match stored.version {
            Some(v) => Version::try_from(v).map_err(|e| fail(&e))?,
            None => Version::default(),
        };
        let params = Params::try_from(stored).map_err(|e| fail(&e))?;
        let computed = self.compute(
            algorithm,
            version,
            &params,
            password,
            salt.as_ref(),
            expected.len(),
        )?;
        // `Output`'s equality is constant-time.
        Ok(computed == *expected)
    }

    /// Runs argon2 in a pooled memory area.
    fn compute(
        &self,
        algorithm: Algorithm,
        version: Version,
        params: &Params,
        password: &[u8],
        salt: &[u8],
        len: usize,
    ) -> Result<Output> {
        let blocks = params.block_count();
        let mut memory = self
            .memory
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .filter(|m| m.len() == blocks)
            .unwrap_or_else(|| vec![Block::default(); blocks]);
        let mut out = [0u8; Output::MAX_LENGTH];
        let out = out
            .get_mut(..len)
            .ok_or_else(|| Error::Internal(format!("argon2 output of {len} bytes")))?;
        let done = Argon2::new(algorithm, version, params.clone()).hash_password_into_with_memory(
            password,
            salt,
            out,
            &mut memory[..],
        );
        // Keep the area for the next hash when it has our size (stored hashes with other
        // parameters get a fresh one), one per core at most.
        if blocks == self.params.block_count() {
            let mut pool = self.memory.lock().unwrap_or_else(|e| e.into_inner());
            if pool.len() < cores() {
                pool.push(memory);
            }
        }
        done.map_err(|e| Error::Internal(format!("argon2 failed: {e}")))?;
        Output::new(out).map_err(|e| Error::Internal(format!("argon2 output: {e}")))
    }

    /// Whether a hash that verified was made with other settings than ours.
    fn needs_rehash(&self, stored: &PasswordHash) -> bool {
        if stored.algorithm != ARGON2ID_IDENT || stored.version != Some(Version::V0x13.into()) {
            return true;
        }
        let Ok(theirs) = Params::try_from(stored) else {
            return true;
        };
        let ours = &self.params;
        theirs.m_cost() != ours.m_cost()
            || theirs.t_cost() != ours.t_cost()
            || theirs.p_cost() != ours.p_cost()
            || theirs.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)
                != ours.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)
    }
}

/// The CPU cores this process may use: how many hashes run at once.
fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
