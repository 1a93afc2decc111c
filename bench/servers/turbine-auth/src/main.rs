//! Turbine with the auth battery, for `bench/auth`: what bearer-token authentication adds to a
//! trivial JSON endpoint, and what an argon2id login costs.
//!
//! - `GET /json`: `{"message":"Hello, World!","user":null}`, no authentication;
//! - `GET /me-json`: the same struct with the user's id, `{"message":"Hello, World!","user":1}`,
//!   behind the [`CurrentUser`] extractor (a bearer access JWT, verified without the database;
//!   401 otherwise). The two differ only by the extractor and a few bytes of body;
//! - `POST /bench-token` (this bench server only): creates the bench user if it does not exist
//!   and returns `{"access_token", "email", "password"}` for the load generator;
//! - `POST /auth/login`, and the rest of the battery's endpoints, as shipped.
//!
//! Everything else is Turbine's default (CLI, config, full production middleware stack), plus the
//! ORM on SQLite (`TURBINE_DATABASE__URL`) and the auth battery with its default argon2id
//! parameters (OWASP: m=19456 KiB, t=2, p=1). `bench/auth` starts it as `TURBINE_ENV=prod
//! TURBINE_SECRET_KEY=… TURBINE_SERVER__ALLOWED_HOSTS='["*"]'
//! TURBINE_DATABASE__URL=sqlite://…/auth.db TURBINE_AUTH__ACCESS_TTL=24h bench-turbine-auth serve
//! --host 127.0.0.1 --port 8088`.
//!
//! `bench-turbine-auth argon2-verify [N]` instead times N (default 20) calls of
//! `PasswordHasher::owasp().verify` one after another and prints one JSON line (milliseconds);
//! `bench-turbine-auth jwt-verify [N]` times N (default 200,000) `AccessTokens::verify` of an
//! HS256 token shaped like the battery's (with `sid`), the JWT check alone.

use std::time::Instant;

use serde::Serialize;
use turbine::auth::jwt::{AccessSettings, AccessTokens};
use turbine::auth::password::PasswordHasher;
use turbine::auth::{Auth, AuthService, ClientInfo, CurrentUser};
use turbine::orm::battery::Migrations;
use turbine::prelude::*;

const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "Turbine bench passphrase 7f3k";

/// The body of both endpoints: the same struct, so the work differs only by authentication.
#[derive(Serialize)]
struct Message {
    message: &'static str,
    user: Option<i64>,
}

async fn json() -> Json<Message> {
    Json(Message {
        message: "Hello, World!",
        user: None,
    })
}

async fn me_json(user: CurrentUser) -> Json<Message> {
    Json(Message {
        message: "Hello, World!",
        user: Some(user.id),
    })
}

#[derive(Serialize)]
struct BenchToken {
    access_token: String,
    email: &'static str,
    password: &'static str,
}

/// Creates the bench user once, then signs it in on a new device.
async fn bench_token(auth: AuthService) -> turbine::auth::Result<Json<BenchToken>> {
    let user = match auth.find_by_email(EMAIL).await? {
        Some(u) => u,
        None => auth.create_user(EMAIL, Some(PASSWORD), |_| {}).await?,
    };
    let tokens = auth
        .issue_tokens(&user, "bench", &ClientInfo::default())
        .await?;
    Ok(Json(BenchToken {
        access_token: tokens.access_token,
        email: EMAIL,
        password: PASSWORD,
    }))
}

/// `argon2-verify [N]`: N sequential argon2id verifications with the OWASP parameters.
async fn argon2_verify(n: usize) -> turbine::Result<()> {
    let hasher = PasswordHasher::owasp();
    let phc = hasher
        .hash(PASSWORD)
        .await
        .map_err(|e| Error::other("hashing", e))?;
    let mut ms = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let v = hasher
            .verify(PASSWORD, &phc)
            .await
            .map_err(|e| Error::other("verifying", e))?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(v.ok, "the password verifies");
    }
    let mut sorted = ms.clone();
    sorted.sort_by(f64::total_cmp);
    let list = ms
        .iter()
        .map(|m| format!("{m:.3}"))
        .collect::<Vec<_>>()
        .join(",");
    println!(
        "{{\"n\":{n},\"median_ms\":{:.3},\"min_ms\":{:.3},\"max_ms\":{:.3},\"ms\":[{list}]}}",
        sorted[n / 2],
        sorted[0],
        sorted[n - 1]
    );
    Ok(())
}

/// `jwt-verify [N]`: N verifications of one access token, best of 5 rounds.
fn jwt_verify(n: u32) -> turbine::Result<()> {
    let mut settings = AccessSettings::new("turbine", "turbine-app");
    settings.ttl = std::time::Duration::from_secs(24 * 3600);
    let tokens = AccessTokens::hs256(&[b'k'; 64], settings);
    let (jwt, _) = tokens
        .issue(
            "1",
            Some("0193a2f7-5aaf-4414-bbd4-a175d3914be7"),
            false,
            false,
            None,
        )
        .map_err(|e| Error::other("issuing", e))?;
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..n {
            let claims = tokens
                .verify(std::hint::black_box(&jwt))
                .map_err(|e| Error::other("verifying", e))?;
            std::hint::black_box(claims);
        }
        best = best.min(t.elapsed().as_secs_f64() * 1e6 / f64::from(n));
    }
    println!(
        "{{\"n\":{n},\"token_bytes\":{},\"best_us_per_verify\":{best:.3}}}",
        jwt.len()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> turbine::Result<()> {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("argon2-verify") => {
            let n = args
                .next()
                .and_then(|a| a.parse().ok())
                .unwrap_or(20)
                .max(1);
            return argon2_verify(n).await;
        }
        Some("jwt-verify") => {
            let n = args
                .next()
                .and_then(|a| a.parse().ok())
                .unwrap_or(200_000)
                .max(1);
            return jwt_verify(n);
        }
        _ => {}
    }
    App::new()
        .battery(Orm::new().migrations(Migrations::none()).auto_migrate(true))
        .battery(Auth::new())
        .route("/json", get(json))
        .route("/me-json", get(me_json))
        .route("/bench-token", post(bench_token))
        .run()
        .await
}
