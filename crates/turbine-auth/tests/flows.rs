//! The auth battery end to end, through HTTP, on a fresh database per test: SQLite always,
//! Postgres when `TURBINE_TEST_POSTGRES_URL` is set (required in CI).

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use turbine::testing::TestClient;
use turbine_auth::models::{Group, OneTimeToken, User};
use turbine_orm::ModelExt;

#[tokio::test]
async fn mobile_flow_signup_verify_login_refresh_reuse_logout() {
    for (client, db) in clients("").await {
        signup(&client, "Ana@Example.com").await.assert_status(202);
        let mails = outbox(&client, 1).await;
        assert_eq!(mails.len(), 1, "{}: a verification mail", db.name());
        assert_eq!(mails[0].to, ["ana@example.com"]);
        assert_eq!(mails[0].subject, "Confirm your email address");
        let token = link_token(&mails[0]);

        let login = login_tokens(&client, "ana@example.com", PASSWORD)
            .await
            .assert_status(200)
            .json::<Value>();
        assert_eq!(login["token_type"], "Bearer");
        assert_eq!(login["user"]["email"], "ana@example.com");
        assert!(login["user"].get("password").is_none(), "never the hash");
        let access = s(&login, "access_token");
        let refresh1 = s(&login, "refresh_token");
        assert!(refresh1.starts_with("tbr_"));

        let me = client
            .get("/auth/me")
            .bearer(&access)
            .send()
            .await
            .assert_status(200);
        assert!(me.json::<Value>()["email_verified_at"].is_null());
        client
            .post("/auth/email/verify/confirm")
            .json(&json!({"token": token}))
            .send()
            .await
            .assert_status(200);
        let me = client
            .get("/auth/me")
            .bearer(&access)
            .send()
            .await
            .json::<Value>();
        assert!(
            me["email_verified_at"].is_string(),
            "{}: verified",
            db.name()
        );
        // Single use.
        client
            .post("/auth/email/verify/confirm")
            .json(&json!({"token": token}))
            .send()
            .await
            .assert_status(401);

        // Rotation: each refresh gives a new refresh token.
        let r2 = client
            .post("/auth/refresh")
            .json(&json!({"refresh_token": refresh1}))
            .send()
            .await
            .assert_status(200)
            .json::<Value>();
        let refresh2 = s(&r2, "refresh_token");
        assert_ne!(refresh1, refresh2);
        assert_eq!(r2["device_id"], login["device_id"]);
        client
            .get("/whoami")
            .bearer(&s(&r2, "access_token"))
            .send()
            .await
            .assert_status(200);

        // Theft: the used token again revokes the whole family, the newest token included.
        let reuse = client
            .post("/auth/refresh")
            .json(&json!({"refresh_token": refresh1}))
            .send()
            .await
            .assert_status(401);
        assert!(
            reuse
                .header("www-authenticate")
                .unwrap()
                .contains("invalid_token")
        );
        client
            .post("/auth/refresh")
            .json(&json!({"refresh_token": refresh2}))
            .send()
            .await
            .assert_status(401);

        // Logout revokes the device.
        let again = login_tokens(&client, "ana@example.com", PASSWORD)
            .await
            .assert_status(200)
            .json::<Value>();
        client
            .post("/auth/logout")
            .bearer(&s(&again, "access_token"))
            .send()
            .await
            .assert_status(204);
        client
            .post("/auth/refresh")
            .json(&json!({"refresh_token": s(&again, "refresh_token")}))
            .send()
            .await
            .assert_status(401);
        // Garbage and tampered tokens are refused with 401 problem+json.
        let bad = client
            .get("/whoami")
            .bearer("not.a.jwt")
            .send()
            .await
            .assert_status(401);
        assert_eq!(bad.header("content-type"), Some("application/problem+json"));
        let mut tampered = access.clone();
        tampered.pop();
        tampered.push(if access.ends_with('A') { 'B' } else { 'A' });
        client
            .get("/whoami")
            .bearer(&tampered)
            .send()
            .await
            .assert_status(401);
        db.close().await;
    }
}

#[tokio::test]
async fn logins_do_not_reveal_which_emails_exist() {
    for (client, db) in clients("").await {
        user_with_tokens(&client, "ana@example.com").await;
        let unknown = login_tokens(&client, "nobody@example.com", PASSWORD)
            .await
            .assert_status(401);
        let wrong = login_tokens(&client, "ana@example.com", "not the password")
            .await
            .assert_status(401);
        assert_eq!(problem(&unknown), problem(&wrong), "{}", db.name());
        assert_eq!(
            unknown.header("www-authenticate"),
            wrong.header("www-authenticate")
        );

        // Sign-up with a taken address answers like a new one and mails the owner.
        let first = signup(&client, "bob@example.com").await.assert_status(202);
        let taken = signup(&client, "BOB@example.com").await.assert_status(202);
        assert_eq!(first.bytes(), taken.bytes(), "202s carry no request id");
        let mails = outbox(&client, 3).await;
        assert_eq!(mails.last().unwrap().subject, "You already have an account");

        // Reset: the same answer for known and unknown addresses; mail only to the known one.
        let before = outbox(&client, 3).await.len();
        let known = client
            .post("/auth/password/reset")
            .json(&json!({"email": "ana@example.com"}))
            .send()
            .await
            .assert_status(202);
        let unknown = client
            .post("/auth/password/reset")
            .json(&json!({"email": "nobody@example.com"}))
            .send()
            .await
            .assert_status(202);
        assert_eq!(known.bytes(), unknown.bytes());
        let mails = outbox(&client, before + 1).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mails_after = outbox(&client, before + 1).await;
        assert_eq!(mails.len(), before + 1);
        assert_eq!(
            mails_after.len(),
            before + 1,
            "no mail for the unknown address"
        );
        assert_eq!(mails_after.last().unwrap().to, ["ana@example.com"]);
        db.close().await;
    }
}

#[tokio::test]
async fn password_reset_is_single_use_and_expires() {
    for (client, db) in clients("").await {
        let tokens = user_with_tokens(&client, "ana@example.com").await;
        client
            .post("/auth/password/reset")
            .json(&json!({"email": "ana@example.com"}))
            .send()
            .await
            .assert_status(202);
        let mails = outbox(&client, 2).await;
        let reset = mails
            .iter()
            .find(|m| m.subject == "Reset your password")
            .unwrap();
        let token = link_token(reset);

        // A weak password is refused without using the link up.
        let weak = client
            .post("/auth/password/reset/confirm")
            .json(&json!({"token": token, "password": "12345678"}))
            .send()
            .await
            .assert_status(422);
        let problem = weak.json::<Value>();
        assert_eq!(problem["errors"][0]["field"], "password", "{problem}");
        client
            .post("/auth/password/reset/confirm")
            .json(&json!({"token": token, "password": "a brand new passphrase"}))
            .send()
            .await
            .assert_status(204);
        client
            .post("/auth/password/reset/confirm")
            .json(&json!({"token": token, "password": "another new passphrase"}))
            .send()
            .await
            .assert_status(401);
        // Old password out, new one in; the old device is signed out.
        login_tokens(&client, "ana@example.com", PASSWORD)
            .await
            .assert_status(401);
        login_tokens(&client, "ana@example.com", "a brand new passphrase")
            .await
            .assert_status(200);
        client
            .post("/auth/refresh")
            .json(&json!({"refresh_token": s(&tokens, "refresh_token")}))
            .send()
            .await
            .assert_status(401);

        // An expired link is refused.
        let service = auth(&client);
        let ana = service
            .find_by_email("ana@example.com")
            .await
            .unwrap()
            .unwrap();
        let token = service
            .issue_one_time(ana.id, "reset_password", Duration::from_secs(3600))
            .await
            .unwrap();
        OneTimeToken::objects()
            .filter(OneTimeToken::USER.eq(ana.id))
            .update()
            .set(
                OneTimeToken::EXPIRES_AT,
                chrono::Utc::now() - chrono::Duration::seconds(1),
            )
            .execute(service.db())
            .await
            .unwrap();
        client
            .post("/auth/password/reset/confirm")
            .json(&json!({"token": token, "password": "yet another passphrase"}))
            .send()
            .await
            .assert_status(401);
        db.close().await;
    }
}

fn cookie_header(client: &TestClient) -> String {
    client
        .cookies()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

#[tokio::test]
async fn browser_sessions_with_csrf() {
    for (client, db) in clients("").await {
        signup(&client, "ana@example.com").await.assert_status(202);
        // An anonymous session first (a login form would get its CSRF token like this).
        let anon = client.get("/auth/csrf").send().await.assert_status(200);
        let anon_cookie = cookie_header(&client);
        assert!(anon.json::<Value>()["csrf_token"].is_string());

        let login = client
            .post("/auth/login")
            .header("sec-fetch-site", "same-origin")
            .json(&json!({"email": "ana@example.com", "password": PASSWORD, "mode": "session"}))
            .send()
            .await
            .assert_status(200);
        let set_cookie = login.header("set-cookie").unwrap().to_string();
        assert!(set_cookie.starts_with("turbine_session="), "{set_cookie}");
        assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
        assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
        assert!(!set_cookie.contains("Secure"), "not Secure outside prod");
        let csrf = s(&login.json::<Value>(), "csrf_token");
        // A new session id at login: the one from before is gone (no fixation).
        assert_ne!(cookie_header(&client), anon_cookie);
        client
            .get("/whoami")
            .header("cookie", &anon_cookie)
            .send()
            .await
            .assert_status(200)
            .text()
            .eq("anonymous")
            .then_some(())
            .expect("the old session id is worthless");
        let who = client.get("/whoami").send().await.assert_status(200).text();
        assert!(who.starts_with("user "), "{}: {who}", db.name());

        // Unsafe requests with the cookie: cross-site refused, same-origin JSON allowed.
        let evil = client
            .post("/write")
            .header("origin", "https://evil.example")
            .json(&json!({}))
            .send()
            .await
            .assert_status(403);
        assert_eq!(evil.json::<Value>()["title"], "CSRF check failed");
        client
            .post("/write")
            .header("sec-fetch-site", "cross-site")
            .json(&json!({}))
            .send()
            .await
            .assert_status(403);
        client
            .post("/write")
            .header("origin", "http://localhost")
            .json(&json!({}))
            .send()
            .await
            .assert_status(200);
        client
            .post("/write")
            .header("sec-fetch-site", "same-origin")
            .json(&json!({}))
            .send()
            .await
            .assert_status(200);
        // Nothing said about the origin: the token is required.
        client
            .post("/write")
            .json(&json!({}))
            .send()
            .await
            .assert_status(403);
        client
            .post("/write")
            .header("x-csrf-token", "wrong")
            .json(&json!({}))
            .send()
            .await
            .assert_status(403);
        client
            .post("/write")
            .header("x-csrf-token", &csrf)
            .json(&json!({}))
            .send()
            .await
            .assert_status(200);
        // HTML forms need the token even from the same origin.
        client
            .post("/write")
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("title=hi")
            .send()
            .await
            .assert_status(403);
        client
            .post("/write")
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("title=hi&csrf_token={csrf}"))
            .send()
            .await
            .assert_status(200);
        // Bearer requests are exempt (no ambient authority).
        // (A token login from a browser that has the cookie is itself a CSRF-checked request.)
        let tokens = client
            .post("/auth/login")
            .header("cookie", "")
            .json(&json!({"email": "ana@example.com", "password": PASSWORD}))
            .send()
            .await
            .assert_status(200)
            .json::<Value>();
        assert!(client.cookies().iter().any(|(k, _)| k == "turbine_session"));
        client
            .post("/write")
            .header("origin", "https://evil.example")
            .bearer(&s(&tokens, "access_token"))
            .json(&json!({}))
            .send()
            .await
            .assert_status(200);

        // Sessions are listed and can be ended; logout clears the cookie.
        let list = client
            .get("/auth/sessions")
            .send()
            .await
            .assert_status(200)
            .json::<Value>();
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(list[0]["current"], true);
        client
            .post("/auth/logout")
            .header("x-csrf-token", &csrf)
            .send()
            .await
            .assert_status(204);
        assert!(client.cookies().iter().all(|(k, _)| k != "turbine_session"));
        client.get("/auth/me").send().await.assert_status(401);
        db.close().await;
    }
}

#[tokio::test]
async fn sessions_expire_when_idle() {
    for (client, db) in clients("[auth]\nsession_idle = '1s'\n").await {
        signup(&client, "ana@example.com").await.assert_status(202);
        client
            .post("/auth/login")
            .json(&json!({"email": "ana@example.com", "password": PASSWORD, "mode": "session"}))
            .send()
            .await
            .assert_status(200);
        client.get("/auth/me").send().await.assert_status(200);
        tokio::time::sleep(Duration::from_millis(1200)).await;
        client.get("/auth/me").send().await.assert_status(401);
        db.close().await;
    }
}

#[tokio::test]
async fn failed_logins_are_throttled_per_account_and_per_ip() {
    let extra = "[auth]\nlogin_attempts_per_account = 3\nlogin_attempts_per_ip = 5\n";
    for (client, db) in clients(extra).await {
        signup(&client, "ana@example.com").await.assert_status(202);
        for _ in 0..3 {
            login_tokens(&client, "ana@example.com", "wrong password")
                .await
                .assert_status(401);
        }
        // Locked, even with the right password, from any address.
        let locked = client
            .post("/auth/login")
            .peer("10.9.9.9:1000")
            .json(&json!({"email": "ana@example.com", "password": PASSWORD}))
            .send()
            .await
            .assert_status(429);
        assert!(
            locked
                .header("retry-after")
                .unwrap()
                .parse::<u64>()
                .unwrap()
                > 0
        );
        assert_eq!(
            locked.header("content-type"),
            Some("application/problem+json")
        );

        // Per IP: many accounts from one address.
        for i in 0..2 {
            login_tokens(&client, &format!("x{i}@example.com"), "nope")
                .await
                .assert_status(401);
        }
        login_tokens(&client, "y@example.com", "nope")
            .await
            .assert_status(429);
        // Another address is not affected.
        client
            .post("/auth/login")
            .peer("10.1.1.1:1000")
            .json(&json!({"email": "y@example.com", "password": "nope"}))
            .send()
            .await
            .assert_status(401);
        db.close().await;
    }
}

#[tokio::test]
async fn permissions_direct_through_groups_and_superuser() {
    for (client, db) in clients("").await {
        let tokens = user_with_tokens(&client, "ana@example.com").await;
        let access = s(&tokens, "access_token");
        client.post("/purge").send().await.assert_status(401);
        client
            .post("/purge")
            .bearer(&access)
            .send()
            .await
            .assert_status(403);
        client
            .get("/staff")
            .bearer(&access)
            .send()
            .await
            .assert_status(403);

        // Model permissions exist for every registered model.
        let service = auth(&client);
        let perm = service.permission("notes.note.delete").await.unwrap();
        assert_eq!(perm.name, "Can delete note");
        assert!(
            service.permission("auth.user.change").await.unwrap().id > 0,
            "created at start-up"
        );

        let ana: User = service
            .find_by_email("ana@example.com")
            .await
            .unwrap()
            .unwrap();
        service.grant(&ana, "notes.note.delete").await.unwrap();
        client
            .post("/purge")
            .bearer(&access)
            .send()
            .await
            .assert_status(200);
        service.revoke(&ana, "notes.note.delete").await.unwrap();
        client
            .post("/purge")
            .bearer(&access)
            .send()
            .await
            .assert_status(403);

        let mut editors = Group {
            id: 0,
            name: "editors".into(),
            permissions: Default::default(),
        };
        editors.insert(service.db()).await.unwrap();
        editors
            .m2m(Group::PERMISSIONS)
            .add(service.db(), &[&perm])
            .await
            .unwrap();
        ana.m2m(User::GROUPS)
            .add(service.db(), &[&editors])
            .await
            .unwrap();
        // Permissions are remembered for `auth.permission_cache` (5 s): a change made around
        // the service shows after that, or at once when the app says so.
        client
            .post("/purge")
            .bearer(&access)
            .send()
            .await
            .assert_status(403);
        service.forget_permissions(Some(ana.id));
        client
            .post("/purge")
            .bearer(&access)
            .send()
            .await
            .assert_status(200);
        ana.m2m(User::GROUPS)
            .remove(service.db(), &[&editors])
            .await
            .unwrap();
        service.forget_permissions(None);
        client
            .post("/purge")
            .bearer(&access)
            .send()
            .await
            .assert_status(403);

        // Superusers have every permission (and staff access).
        service
            .create_user("root@example.com", Some(PASSWORD), |u| {
                u.is_staff = true;
                u.is_superuser = true;
            })
            .await
            .unwrap();
        let root = login_tokens(&client, "root@example.com", PASSWORD)
            .await
            .json::<Value>();
        client
            .post("/purge")
            .bearer(&s(&root, "access_token"))
            .send()
            .await
            .assert_status(200);
        client
            .get("/staff")
            .bearer(&s(&root, "access_token"))
            .send()
            .await
            .assert_status(200);
        db.close().await;
    }
}

#[tokio::test]
async fn object_policies_decide_per_object() {
    for (client, db) in clients("").await {
        let tokens = user_with_tokens(&client, "ana@example.com").await;
        let access = s(&tokens, "access_token");
        let me = client
            .get("/auth/me")
            .bearer(&access)
            .send()
            .await
            .json::<Value>();
        let id = me["id"].as_i64().unwrap();
        client
            .post(&format!("/notes/{id}"))
            .bearer(&access)
            .send()
            .await
            .assert_status(200);
        let denied = client
            .post(&format!("/notes/{}", id + 1000))
            .bearer(&access)
            .send()
            .await
            .assert_status(403);
        assert!(
            denied.json::<Value>()["detail"]
                .as_str()
                .unwrap()
                .contains("may not change")
        );
        db.close().await;
    }
}

#[tokio::test]
async fn api_tokens_with_scopes() {
    for (client, db) in clients("").await {
        let tokens = user_with_tokens(&client, "ana@example.com").await;
        let access = s(&tokens, "access_token");
        let created = client
            .post("/auth/tokens")
            .bearer(&access)
            .json(&json!({"name": "ci", "scopes": ["notes:read"]}))
            .send()
            .await
            .assert_status(201)
            .json::<Value>();
        let pat = s(&created, "token");
        assert!(pat.starts_with("tbp_"));
        assert!(created["record"].get("token_hash").is_none());
        client
            .get("/whoami")
            .bearer(&pat)
            .send()
            .await
            .assert_status(200);
        client
            .get("/scoped")
            .bearer(&pat)
            .send()
            .await
            .assert_status(403);
        // A PAT cannot mint PATs.
        client
            .post("/auth/tokens")
            .bearer(&pat)
            .json(&json!({"name": "escalate"}))
            .send()
            .await
            .assert_status(403);
        let all = client
            .post("/auth/tokens")
            .bearer(&access)
            .json(&json!({"name": "all"}))
            .send()
            .await
            .assert_status(201)
            .json::<Value>();
        client
            .get("/scoped")
            .bearer(&s(&all, "token"))
            .send()
            .await
            .assert_status(200);
        let list = client
            .get("/auth/tokens")
            .bearer(&access)
            .send()
            .await
            .json::<Value>();
        assert_eq!(list.as_array().unwrap().len(), 2);
        let id = created["record"]["id"].as_i64().unwrap();
        client
            .delete(&format!("/auth/tokens/{id}"))
            .bearer(&access)
            .send()
            .await
            .assert_status(204);
        client
            .get("/whoami")
            .bearer(&pat)
            .send()
            .await
            .assert_status(401);
        client
            .post("/auth/tokens")
            .bearer(&access)
            .json(&json!({"name": "", "scopes": []}))
            .send()
            .await
            .assert_status(422);
        db.close().await;
    }
}

#[tokio::test]
async fn devices_are_listed_and_revoked() {
    for (client, db) in clients("").await {
        let phone = user_with_tokens(&client, "ana@example.com").await;
        let tablet = login_tokens(&client, "ana@example.com", PASSWORD)
            .await
            .json::<Value>();
        let list = client
            .get("/auth/devices")
            .bearer(&s(&phone, "access_token"))
            .send()
            .await
            .assert_status(200)
            .json::<Value>();
        assert_eq!(list.as_array().unwrap().len(), 2);
        assert_eq!(
            list.as_array()
                .unwrap()
                .iter()
                .filter(|d| d["current"] == true)
                .count(),
            1
        );
        client
            .delete(&format!("/auth/devices/{}", s(&tablet, "device_id")))
            .bearer(&s(&phone, "access_token"))
            .send()
            .await
            .assert_status(204);
        client
            .post("/auth/refresh")
            .json(&json!({"refresh_token": s(&tablet, "refresh_token")}))
            .send()
            .await
            .assert_status(401);
        client
            .delete("/auth/devices/nope")
            .bearer(&s(&phone, "access_token"))
            .send()
            .await
            .assert_status(404);
        // Everywhere at once.
        client
            .post("/auth/logout-all")
            .bearer(&s(&phone, "access_token"))
            .send()
            .await
            .assert_status(204);
        client
            .post("/auth/refresh")
            .json(&json!({"refresh_token": s(&phone, "refresh_token")}))
            .send()
            .await
            .assert_status(401);
        db.close().await;
    }
}

#[tokio::test]
async fn change_password_checks_and_signs_out_other_devices() {
    for (client, db) in clients("").await {
        let phone = user_with_tokens(&client, "ana@example.com").await;
        let tablet = login_tokens(&client, "ana@example.com", PASSWORD)
            .await
            .json::<Value>();
        let access = s(&phone, "access_token");
        let wrong = client
            .post("/auth/password/change")
            .bearer(&access)
            .json(&json!({"current_password": "nope", "new_password": "a brand new passphrase"}))
            .send()
            .await
            .assert_status(422);
        assert_eq!(
            wrong.json::<Value>()["errors"][0]["field"],
            "current_password"
        );
        let weak = client
            .post("/auth/password/change")
            .bearer(&access)
            .json(&json!({"current_password": PASSWORD, "new_password": "password"}))
            .send()
            .await
            .assert_status(422);
        assert_eq!(weak.json::<Value>()["errors"][0]["field"], "new_password");
        client
            .post("/auth/password/change")
            .bearer(&access)
            .json(&json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}))
            .send()
            .await
            .assert_status(204);
        client
            .post("/auth/refresh")
            .json(&json!({"refresh_token": s(&tablet, "refresh_token")}))
            .send()
            .await
            .assert_status(401);
        client
            .post("/auth/refresh")
            .json(&json!({"refresh_token": s(&phone, "refresh_token")}))
            .send()
            .await
            .assert_status(200);
        db.close().await;
    }
}

#[tokio::test]
async fn bad_input_is_a_clear_problem() {
    for (client, db) in clients("").await {
        let bad_email = client
            .post("/auth/signup")
            .json(&json!({"email": "not-an-email", "password": PASSWORD}))
            .send()
            .await
            .assert_status(422);
        assert_eq!(bad_email.json::<Value>()["errors"][0]["field"], "email");
        let weak = client
            .post("/auth/signup")
            .json(&json!({"email": "ana@example.com", "password": "123"}))
            .send()
            .await
            .assert_status(422);
        let body = weak.json::<Value>();
        let messages: Vec<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["message"].as_str().unwrap())
            .collect();
        assert!(
            messages.iter().any(|m| m.contains("too short")),
            "{messages:?}"
        );
        client
            .post("/auth/login")
            .json(&json!({"email": "a@b.co", "password": "x", "extra": 1}))
            .send()
            .await
            .assert_status(422);
        client
            .post("/auth/login")
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .assert_status(400);
        // Nothing was created.
        assert_eq!(User::objects().count(auth(&client).db()).await.unwrap(), 0);
        db.close().await;
    }
}

#[tokio::test]
async fn concurrent_wrong_passwords_cannot_slip_under_the_limit() {
    let extra = "[auth]\nlogin_attempts_per_account = 3\n";
    for (client, db) in clients(extra).await {
        signup(&client, "ana@example.com").await.assert_status(202);
        // Ten guesses at once, each from its own address: the account's count is taken
        // before any password is checked, so exactly three are checked.
        let guesses = (0..10).map(|i| {
            client
                .post("/auth/login")
                .peer(&format!("10.0.0.{i}:1000"))
                .json(&json!({"email": "ana@example.com", "password": format!("guess {i}")}))
                .send()
        });
        let statuses: Vec<u16> = futures_util::future::join_all(guesses)
            .await
            .iter()
            .map(|r| r.status().as_u16())
            .collect();
        let checked = statuses.iter().filter(|s| **s == 401).count();
        let refused = statuses.iter().filter(|s| **s == 429).count();
        assert_eq!((checked, refused), (3, 7), "{}: {statuses:?}", db.name());
        db.close().await;
    }
}

#[tokio::test]
async fn account_emails_and_signups_are_rate_limited() {
    let extra = "[auth]\nlogin_attempts_per_ip = 6\n";
    for (client, db) in clients(extra).await {
        // The verification mail, then "already registered" mails: three per window in all.
        for _ in 0..5 {
            signup(&client, "ana@example.com").await.assert_status(202);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mails = outbox(&client, 3).await;
        assert_eq!(mails.len(), 3, "{}", db.name());
        assert_eq!(mails[0].subject, "Confirm your email address");
        assert!(mails[1..].iter().all(|m| m.subject == mails[1].subject));
        assert_ne!(mails[1].subject, mails[0].subject);

        // Asking for another link is refused openly (the user is signed in).
        let tokens = login_tokens(&client, "ana@example.com", PASSWORD)
            .await
            .assert_status(200)
            .json::<Value>();
        let again = client
            .post("/auth/email/verify")
            .bearer(&s(&tokens, "access_token"))
            .send()
            .await
            .assert_status(429);
        assert!(again.header("retry-after").is_some());

        // Sign-ups per address: the sixth passed, the seventh is refused.
        signup(&client, "bob@example.com").await.assert_status(202);
        let refused = signup(&client, "cy@example.com").await.assert_status(429);
        assert_eq!(
            refused.header("content-type"),
            Some("application/problem+json")
        );
        db.close().await;
    }
}

#[tokio::test]
async fn signup_says_to_verify_first_when_logins_require_it() {
    for (client, db) in clients("[auth]\nrequire_verified_email = true\n").await {
        let res = signup(&client, "ana@example.com").await.assert_status(202);
        let detail = s(&res.json::<Value>(), "detail");
        assert!(detail.contains("Confirm it, then log in"), "{detail}");
        login_tokens(&client, "ana@example.com", PASSWORD)
            .await
            .assert_status(403);
        db.close().await;
    }
}

#[tokio::test]
async fn api_tokens_end_with_logout_logout_all_and_a_new_password() {
    for (client, db) in clients("").await {
        let tokens = user_with_tokens(&client, "ana@example.com").await;
        let access = s(&tokens, "access_token");
        let new_pat = || async {
            let created = client
                .post("/auth/tokens")
                .bearer(&access)
                .json(&json!({"name": "ci"}))
                .send()
                .await
                .assert_status(201)
                .json::<Value>();
            s(&created, "token")
        };
        let works = |pat: String| {
            let client = &client;
            async move { client.post("/write").bearer(&pat).send().await.status() }
        };

        // Logging out with an API token revokes that token.
        let pat = new_pat().await;
        client
            .post("/auth/logout")
            .bearer(&pat)
            .send()
            .await
            .assert_status(204);
        assert_eq!(works(pat).await, 401, "{}", db.name());

        // Expired tokens are not listed.
        let service = auth(&client);
        let user = service
            .find_by_email("ana@example.com")
            .await
            .unwrap()
            .unwrap();
        let past = chrono::Utc::now() - chrono::Duration::minutes(1);
        service
            .create_api_token(user.id, "old", &["*".into()], Some(past))
            .await
            .unwrap();
        let live = new_pat().await;
        let list = client
            .get("/auth/tokens")
            .bearer(&access)
            .send()
            .await
            .json::<Value>();
        let names: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["ci"], "{}", db.name());

        // A new password ends API tokens too...
        let mut row = service.user(user.id).await.unwrap();
        service
            .set_password(&mut row, "another long passphrase", None, None)
            .await
            .unwrap();
        assert_eq!(works(live).await, 401);

        // ...and so does signing out everywhere.
        let tokens = login_tokens(&client, "ana@example.com", "another long passphrase")
            .await
            .assert_status(200)
            .json::<Value>();
        let access = s(&tokens, "access_token");
        let created = client
            .post("/auth/tokens")
            .bearer(&access)
            .json(&json!({"name": "ci2"}))
            .send()
            .await
            .assert_status(201)
            .json::<Value>();
        let pat = s(&created, "token");
        assert_eq!(works(pat.clone()).await, 200);
        client
            .post("/auth/logout-all")
            .bearer(&access)
            .send()
            .await
            .assert_status(204);
        assert_eq!(works(pat).await, 401);
        db.close().await;
    }
}

#[tokio::test]
async fn a_remembered_access_token_matches_only_itself() {
    for (client, db) in clients("").await {
        let tokens = user_with_tokens(&client, "ana@example.com").await;
        let access = s(&tokens, "access_token");
        let send = |value: String| {
            let client = &client;
            async move {
                client
                    .post("/write")
                    .header("authorization", &value)
                    .send()
                    .await
                    .status()
            }
        };
        // Twice: verified, then remembered.
        for _ in 0..2 {
            assert_eq!(send(format!("Bearer {access}")).await, 200, "{}", db.name());
        }
        assert_eq!(
            send(format!("bearer   {access} ")).await,
            200,
            "scheme any case, spaces"
        );
        // One character changed anywhere, or cut short: refused, remembered or not.
        let mut tampered = access.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(send(format!("Bearer {tampered}")).await, 401);
        assert_eq!(
            send(format!("Bearer {}", &access[..access.len() - 1])).await,
            401
        );
        assert_eq!(send(format!("Bearer {access}x")).await, 401);
        assert_eq!(send("Bearer".into()).await, 401);
        assert_eq!(send("Basic YTpi".into()).await, 401);
        db.close().await;
    }
}
