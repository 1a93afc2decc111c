//! Password hashing: roundtrip, wrong password, rehash detection, the unusable marker, burn
//! timing, and the password policy.

use std::time::{Duration, Instant};

use turbine_auth::Error;
use turbine_auth::password::{PasswordHasher, Verified};
use turbine_auth::policy::PasswordPolicy;

#[tokio::test]
async fn roundtrip() {
    let hasher = PasswordHasher::for_tests();
    let phc = hasher.hash("correct horse battery staple").await.unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{phc}");
    let verified = hasher
        .verify("correct horse battery staple", &phc)
        .await
        .unwrap();
    assert_eq!(
        verified,
        Verified {
            ok: true,
            needs_rehash: false
        }
    );
}

#[tokio::test]
async fn salts_are_random() {
    let hasher = PasswordHasher::for_tests();
    let a = hasher.hash("same").await.unwrap();
    let b = hasher.hash("same").await.unwrap();
    assert_ne!(a, b);
}

#[tokio::test]
async fn wrong_password() {
    let hasher = PasswordHasher::for_tests();
    let phc = hasher.hash("right").await.unwrap();
    let verified = hasher.verify("wrong", &phc).await.unwrap();
    assert!(!verified.ok);
    assert!(!verified.needs_rehash);
}

#[tokio::test]
async fn rehash_when_params_change() {
    let old = PasswordHasher::for_tests();
    let phc = old.hash("pw").await.unwrap();
    let new = PasswordHasher::new(16, 2, 1).unwrap();
    let verified = new.verify("pw", &phc).await.unwrap();
    assert!(verified.ok);
    assert!(verified.needs_rehash);
    // A wrong password never asks for a rehash.
    assert!(!new.verify("nope", &phc).await.unwrap().needs_rehash);
    // After rehashing with the new parameters, no further rehash is due.
    let fresh = new.hash("pw").await.unwrap();
    assert!(!new.verify("pw", &fresh).await.unwrap().needs_rehash);
}

#[tokio::test]
async fn rehash_when_algorithm_differs() {
    // An argon2i hash of "password" (from the argon2 reference test vectors' shape), m=8,t=1,p=1.
    let hasher = PasswordHasher::for_tests();
    let argon2id = hasher.hash("password").await.unwrap();
    let argon2i = {
        use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, Version};
        let a = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            Params::new(8, 1, 1, None).unwrap(),
        );
        a.hash_password(b"password").unwrap().to_string()
    };
    assert!(argon2i.starts_with("$argon2i$"));
    assert!(
        !hasher
            .verify("password", &argon2id)
            .await
            .unwrap()
            .needs_rehash
    );
    let verified = hasher.verify("password", &argon2i).await.unwrap();
    assert!(verified.ok && verified.needs_rehash);
}

#[tokio::test]
async fn unusable_never_verifies() {
    let hasher = PasswordHasher::for_tests();
    let marker = PasswordHasher::unusable();
    assert!(marker.starts_with('!'));
    for attempt in ["", "!unusable", "password"] {
        let verified = hasher.verify(attempt, &marker).await.unwrap();
        assert!(!verified.ok && !verified.needs_rehash);
    }
}

#[tokio::test]
async fn garbage_hash_is_an_internal_error() {
    let hasher = PasswordHasher::for_tests();
    for stored in ["", "plaintext", "$argon2id$v=19$m=8", "$argon2id$$$"] {
        match hasher.verify("pw", stored).await {
            Err(Error::Internal(message)) => assert!(!message.contains("pw")),
            other => panic!("{stored:?}: expected Error::Internal, got {other:?}"),
        }
    }
}

#[test]
fn bad_params_are_refused() {
    assert!(matches!(
        PasswordHasher::new(1, 1, 1),
        Err(Error::Internal(_))
    ));
    assert!(PasswordHasher::new(4096, 0, 1).is_err());
}

#[test]
fn debug_shows_params_only() {
    let debug = format!("{:?}", PasswordHasher::owasp());
    assert!(debug.contains("19456"), "{debug}");
    assert!(format!("{:?}", PasswordHasher::default()) == debug);
}

#[tokio::test]
async fn owasp_params_in_phc() {
    let started = Instant::now();
    let phc = PasswordHasher::owasp().hash("pw").await.unwrap();
    println!(
        "OWASP argon2id hash: {:?} (this build profile)",
        started.elapsed()
    );
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
}

/// Mean time of `n` runs of `f`.
async fn mean<F, Fut>(n: u32, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let started = Instant::now();
    for _ in 0..n {
        f().await;
    }
    started.elapsed() / n
}

#[tokio::test]
async fn burn_takes_about_as_long_as_verify() {
    // Parameters heavy enough that hashing, not task overhead, dominates.
    let hasher = PasswordHasher::new(2048, 2, 1).unwrap();
    let phc = hasher.hash("secret").await.unwrap();
    hasher.burn("warm up the dummy hash").await;

    let verify = mean(5, || async {
        assert!(!hasher.verify("guess", &phc).await.unwrap().ok);
    })
    .await;
    let burn = mean(5, || hasher.burn("guess")).await;
    let unusable = mean(5, || async {
        let marker = PasswordHasher::unusable();
        assert!(!hasher.verify("guess", &marker).await.unwrap().ok);
    })
    .await;
    println!("verify {verify:?}, burn {burn:?}, unusable {unusable:?}");
    assert!(burn.as_secs_f64() >= 0.3 * verify.as_secs_f64());
    assert!(unusable.as_secs_f64() >= 0.3 * verify.as_secs_f64());
    // And not wildly more either.
    assert!(burn.as_secs_f64() <= 3.0 * verify.as_secs_f64());
}

#[tokio::test]
async fn clones_share_the_dummy_hash() {
    let hasher = PasswordHasher::for_tests();
    let clone = hasher.clone();
    hasher.burn("x").await;
    clone.burn("y").await;
}

// ---- policy ----

fn messages(password: &str, attrs: &[(&str, &str)]) -> Vec<String> {
    let errors = PasswordPolicy::default().validate(password, attrs);
    assert!(errors.iter().all(|e| e.field == "password"));
    errors.into_iter().map(|e| e.message).collect()
}

#[test]
fn good_password_passes() {
    let attrs = [("email", "jane.doe@example.com"), ("username", "janedoe")];
    assert!(messages("violet-harbour-91-kettle", &attrs).is_empty());
    assert!(messages("Tr0ub4dor&3xyz", &attrs).is_empty());
}

#[test]
fn too_short() {
    assert_eq!(
        messages("x7#kq", &[]),
        ["This password is too short. It must contain at least 8 characters."]
    );
    let policy = PasswordPolicy {
        min_length: 1,
        ..PasswordPolicy::default()
    };
    let errors = policy.validate("", &[]);
    assert_eq!(
        errors[0].message,
        "This password is too short. It must contain at least 1 character."
    );
    // Characters, not bytes.
    assert!(
        messages("ééééééé", &[])
            .iter()
            .any(|m| m.contains("too short"))
    );
}

#[test]
fn too_long() {
    let long = "ab1!".repeat(1025);
    assert_eq!(
        messages(&long, &[("email", "ab1@example.com")]),
        ["This password is too long. It must contain at most 4096 characters."]
    );
}

#[test]
fn too_common() {
    for common in ["password", "PASSWORD", " qwertyuiop ", "iloveyou"] {
        assert!(
            messages(common, &[]).contains(&"This password is too common.".to_string()),
            "{common:?}"
        );
    }
    let policy = PasswordPolicy {
        reject_common: false,
        ..PasswordPolicy::default()
    };
    assert!(policy.validate("password", &[]).is_empty());
}

#[test]
fn entirely_numeric() {
    let errors = messages("90417263518", &[]);
    assert!(errors.contains(&"This password is entirely numeric.".to_string()));
    assert!(
        !messages("9041726351a", &[]).contains(&"This password is entirely numeric.".to_string())
    );
    // All rules report together, like Django.
    assert_eq!(
        messages("123456", &[]),
        [
            "This password is too short. It must contain at least 8 characters.",
            "This password is too common.",
            "This password is entirely numeric.",
        ]
    );
}

#[test]
fn too_similar_to_email() {
    let attrs = [("email", "jane.doe@example.com")];
    let similar = "The password is too similar to the email.";
    // The whole address, its local part, and its parts.
    assert_eq!(messages("jane.doe@example.com", &attrs), [similar]);
    assert_eq!(messages("JaneDoe99", &attrs), [similar]);
    assert_eq!(messages("janedoe!", &attrs), [similar]);
    assert_eq!(messages("examples1", &attrs), [similar]);
    // Unrelated passwords are fine.
    assert!(messages("violet-harbour-91-kettle", &attrs).is_empty());
    // Attribute names read naturally.
    assert_eq!(
        messages("janedoe1!", &[("first_name", "Janedoe")]),
        ["The password is too similar to the first name."]
    );
    // The threshold is configurable; above 1.0 disables the check.
    let lax = PasswordPolicy {
        max_similarity: 1.1,
        ..PasswordPolicy::default()
    };
    assert!(lax.validate("jane.doe@example.com", &attrs).is_empty());
}

#[tokio::test]
async fn hashes_from_other_implementations_verify_and_ours_verify_there() {
    use argon2::password_hash::phc::PasswordHash;
    use argon2::{Argon2, PasswordVerifier as _};
    let hasher = PasswordHasher::for_tests();
    // From the reference implementation's README (phc-winner-argon2):
    // `echo -n "password" | ./argon2 somesalt -t 2 -m 16 -p 4 -l 24`.
    let reference = "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
    let verified = hasher.verify("password", reference).await.unwrap();
    assert!(verified.ok && verified.needs_rehash);
    assert!(!hasher.verify("passwore", reference).await.unwrap().ok);

    // Ours, checked by the argon2 crate's own verifier.
    let ours = PasswordHasher::owasp().hash("correct horse").await.unwrap();
    let parsed = PasswordHash::new(&ours).unwrap();
    Argon2::default()
        .verify_password(b"correct horse", &parsed)
        .unwrap();
    assert!(
        Argon2::default()
            .verify_password(b"correct horsf", &parsed)
            .is_err()
    );
}

#[tokio::test]
async fn concurrent_hashes_share_a_bounded_pool() {
    // More jobs than cores: they queue for a permit and all finish with right answers.
    let hasher = PasswordHasher::new(1024, 1, 1).unwrap();
    let phc = hasher.hash("pw").await.unwrap();
    let jobs = (0..16).map(|i| {
        let hasher = hasher.clone();
        let phc = phc.clone();
        tokio::spawn(async move {
            let pw = if i % 2 == 0 { "pw" } else { "nope" };
            hasher.verify(pw, &phc).await.unwrap().ok == (i % 2 == 0)
        })
    });
    for job in jobs {
        assert!(job.await.unwrap());
    }
}
