//! Admin list view at 1,000,000 rows: server time per page on Postgres and SQLite.
//!
//! For each backend: a fresh database (Postgres `turbine_bench_<random>` on the server
//! `--pg-admin-url` names, dropped at the end; SQLite a temporary file), the app built
//! in-process (ORM + auth with the test password hasher + admin, `bench.Event` registered with
//! search, filters and the default 50 rows a page), `--rows` events and 1,000 owners seeded in
//! one `INSERT … SELECT`, `ANALYZE`, a superuser logged in through `/admin/login` with the
//! CSRF token. Then each case of [`cases::all`]: `--warmup` unmeasured requests, `--iters`
//! measured ones, through `turbine::testing::TestClient` — no socket, so the time is the
//! server's: routing, session and user lookup, permission checks, queries (Postgres' own time
//! included), template rendering. Every response is checked (200, the expected rows).
//!
//! ```text
//! bench-admin [--backend postgres,sqlite] [--rows 1000000] [--iters 30] [--warmup 5]
//!             [--pg-admin-url postgres://postgres@127.0.0.1:5432/postgres] [--json FILE]
//!             [--keep]
//! ```
//! `--keep` leaves the seeded databases in place (their names on stderr) to look at query plans;
//! drop them by hand afterwards.
//! Prints a markdown table on stdout, progress on stderr. `bench/admin/run` wraps it.

mod cases;
mod model;
mod seed;

use serde_json::{Value as J, json};
use turbine::App;
use turbine::admin::{Admin, ModelAdmin};
use turbine::auth::password::PasswordHasher;
use turbine::auth::{Auth, AuthService};
use turbine::orm::battery::{Migrations, Orm};
use turbine::orm::{Db, Model};
use turbine::testing::{self, TestClient};

use model::{Event, Owner};

/// Errors end the run with a message.
pub(crate) type AnyError = Box<dyn std::error::Error + Send + Sync>;

/// The superuser's password.
const PASSWORD: &str = "correct horse battery staple";
/// The superuser's email.
const EMAIL: &str = "bench@example.com";

/// Command-line options.
struct Options {
    backends: Vec<String>,
    rows: i64,
    iters: usize,
    warmup: usize,
    pg_admin_url: String,
    json: Option<String>,
    keep: bool,
}

fn options() -> Result<Options, AnyError> {
    let mut o = Options {
        backends: vec!["postgres".into(), "sqlite".into()],
        rows: 1_000_000,
        iters: 30,
        warmup: 5,
        pg_admin_url: std::env::var("BENCH_PG_ADMIN_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
        json: None,
        keep: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--backend" => o.backends = value()?.split(',').map(str::to_string).collect(),
            "--rows" => o.rows = value()?.parse()?,
            "--iters" => o.iters = value()?.parse()?,
            "--warmup" => o.warmup = value()?.parse()?,
            "--pg-admin-url" => o.pg_admin_url = value()?,
            "--json" => o.json = Some(value()?),
            "--keep" => o.keep = true,
            "-h" | "--help" => {
                println!(
                    "bench-admin [--backend postgres,sqlite] [--rows N] [--iters N] [--warmup N] [--pg-admin-url URL] [--json FILE] [--keep]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (see --help)").into()),
        }
    }
    if o.rows < 1_000 || o.iters == 0 {
        return Err("--rows must be at least 1000 and --iters at least 1".into());
    }
    Ok(o)
}

/// The app: ORM (both models, migrated at start-up), auth, and the admin.
fn app(db_url: &str) -> App {
    let models = [Owner::meta().clone(), Event::meta().clone()];
    App::new()
        .battery(
            Orm::new()
                .model::<Owner>()
                .model::<Event>()
                .migrations(Migrations::generated(models))
                .auto_migrate(true),
        )
        .battery(Auth::new().password_hasher(PasswordHasher::for_tests()))
        .battery(
            Admin::new()
                .model(ModelAdmin::of::<Owner>().search(["name"]))
                .model(
                    ModelAdmin::of::<Event>()
                        .list_display([
                            "title",
                            "category",
                            "flag",
                            "amount",
                            "owner",
                            "created_at",
                        ])
                        .search(["title"])
                        .filters(["category", "flag", "owner", "created_at"]),
                ),
        )
        .config(testing::config(&format!("[database]\nurl = '{db_url}'")))
}

/// The value of `name="csrf_token"` in a page.
fn csrf(html: &str) -> Result<String, AnyError> {
    const MARK: &str = "name=\"csrf_token\" value=\"";
    let at = html.find(MARK).ok_or("the page has no CSRF field")?;
    let rest = &html[at + MARK.len()..];
    Ok(rest[..rest.find('"').ok_or("unterminated CSRF field")?].to_string())
}

/// Creates the superuser and logs in through the login page.
async fn login(client: &TestClient) -> Result<(), AnyError> {
    let auth = client
        .context()
        .get::<AuthService>()
        .ok_or("no auth service")?
        .clone();
    auth.create_user(EMAIL, Some(PASSWORD), |u| {
        u.is_staff = true;
        u.is_superuser = true;
    })
    .await?;
    let page = client.get("/admin/login").send().await;
    let token = csrf(&page.text())?;
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("csrf_token", &token)
        .append_pair("email", EMAIL)
        .append_pair("password", PASSWORD)
        .append_pair("next", "/admin")
        .finish();
    let res = client
        .post("/admin/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await;
    if res.status() != 303 {
        return Err(format!("login answered {}: {}", res.status(), res.text()).into());
    }
    let dash = client.get("/admin").send().await;
    if dash.status() != 200 || !dash.text().replace("&#x2f;", "/").contains(cases::LIST) {
        return Err(format!("the dashboard after login answered {}", dash.status()).into());
    }
    Ok(())
}

/// Seeds a fresh database of one backend and measures every case on it.
async fn run_backend(backend: &str, url: &str, o: &Options) -> Result<Vec<J>, AnyError> {
    let client = TestClient::new(app(url)).await?;
    let db = client.context().get::<Db>().ok_or("no database")?.clone();
    eprintln!("==> {backend}: seeding {} events and 1,000 owners", o.rows);
    let seconds = seed::seed(&db, o.rows).await?;
    eprintln!("==> {backend}: seeded and analyzed in {seconds:.1} s");
    login(&client).await?;
    let mut out = Vec::new();
    let outcome = async {
        for case in cases::all(o.rows) {
            eprintln!("==> {backend}: {} ({})", case.name, case.path);
            let mut r = cases::measure(&client, &db, &case, o.rows, o.warmup, o.iters).await?;
            r["backend"] = json!(backend);
            r["seed_seconds"] = json!(seconds);
            eprintln!(
                "    median {:.2} ms, p95 {:.2} ms, {} queries, count: {}",
                r["median_ms"].as_f64().unwrap_or(f64::NAN),
                r["p95_ms"].as_f64().unwrap_or(f64::NAN),
                r["queries"],
                r["count_text"]
            );
            out.push(r);
        }
        Ok::<(), AnyError>(())
    }
    .await;
    db.close().await;
    drop(client);
    outcome.map(|()| out)
}

/// The markdown table of all results.
fn table(results: &[J]) -> String {
    let mut lines = vec![
        "| backend | case | median ms | p95 ms | app CPU ms (median) | queries | rows shown / matching | count line | ≤ 50 ms median |".to_string(),
        "|---|---|---:|---:|---:|---:|---:|---|---|".to_string(),
    ];
    for r in results {
        let median = r["median_ms"].as_f64().unwrap_or(f64::NAN);
        let bar = if r["backend"] == "postgres" {
            if median <= 50.0 { "met" } else { "**missed**" }
        } else {
            "(bar is for Postgres)"
        };
        lines.push(format!(
            "| {} | {} | {:.2} | {:.2} | {:.2} | {} | {} / {} | {} | {} |",
            r["backend"].as_str().unwrap_or(""),
            r["case"].as_str().unwrap_or(""),
            median,
            r["p95_ms"].as_f64().unwrap_or(f64::NAN),
            r["app_cpu_median_ms"].as_f64().unwrap_or(f64::NAN),
            r["queries"],
            r["rows_shown"],
            r["rows_matching"],
            r["count_text"].as_str().unwrap_or(""),
            bar,
        ));
    }
    lines.join("\n")
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), AnyError> {
    let o = options()?;
    let mut results = Vec::new();
    let mut databases = Vec::new();
    for backend in &o.backends {
        let fresh = seed::Fresh::create(backend, &o.pg_admin_url).await?;
        eprintln!("==> {backend}: {}", fresh.describe());
        let outcome = run_backend(backend, fresh.url(), &o).await;
        databases.push(fresh.describe());
        if o.keep {
            eprintln!("==> {backend}: kept {} ({})", fresh.describe(), fresh.url());
            results.extend(outcome?);
            continue;
        }
        let dropped = fresh.drop_it().await;
        results.extend(outcome?);
        dropped?;
    }
    let text = table(&results);
    println!("{text}");
    if let Some(path) = &o.json {
        let doc = json!({
            "rows": o.rows,
            "iters": o.iters,
            "warmup": o.warmup,
            "databases": databases,
            "results": results,
            "table_markdown": text,
        });
        std::fs::write(path, serde_json::to_string_pretty(&doc)? + "\n")?;
    }
    Ok(())
}
