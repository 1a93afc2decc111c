//! Installing batteries: routes, config sections, start-up hooks, context values, errors.

use serde::{Deserialize, Serialize};
use turbine::battery::{Battery, Command, Setup};
use turbine::prelude::*;
use turbine::testing::{self, TestClient};

#[derive(Clone)]
struct Greeter {
    greeting: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GreeterConfig {
    greeting: Option<String>,
    prefix: Option<String>,
}

struct GreeterBattery;

impl Battery for GreeterBattery {
    fn name(&self) -> &'static str {
        "greeter"
    }

    fn install(self, setup: &mut Setup) -> turbine::Result<()> {
        let cfg: GreeterConfig = setup.section("greeter")?;
        let greeting = cfg.greeting.unwrap_or_else(|| "hello".into());
        let prefix = cfg.prefix.unwrap_or_else(|| "/greet".into());
        setup.on_startup(move |cx| async move {
            cx.insert(Greeter { greeting });
            Ok(())
        });
        setup.nest(
            &prefix,
            Routes::new().route(
                "/{name}",
                get(
                    |State(ctx): State<Context>, Path(name): Path<String>| async move {
                        let g = ctx.require::<Greeter>()?;
                        Ok::<_, turbine::Error>(format!("{}, {name}", g.greeting))
                    },
                ),
            ),
        );
        setup.command(Command::new(
            clap::Command::new("greet"),
            |_ctx, _args| async { Ok(()) },
        ));
        Ok(())
    }
}

#[tokio::test]
async fn a_battery_adds_routes_state_and_reads_its_section() {
    let app = App::new()
        .config(testing::config(
            "[greeter]\ngreeting = 'ahoy'\nprefix = '/hi'\n",
        ))
        .battery(GreeterBattery);
    let client = TestClient::new(app).await.unwrap();
    assert_eq!(
        client.get("/hi/ana").send().await.assert_status(200).text(),
        "ahoy, ana"
    );
    assert!(client.context().get::<Greeter>().is_some());
}

#[tokio::test]
async fn a_battery_config_error_names_key_and_source() {
    let app = App::new()
        .config(testing::config("[greeter]\ngreting = 'typo'\n"))
        .battery(GreeterBattery);
    let err = app.build().await.unwrap_err().to_string();
    assert!(
        err.contains("`greeter.greting`") && err.contains("inline TOML"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unclaimed_section_is_an_error() {
    let err = App::new()
        .config(testing::config("[greeter]\ngreeting = 'ahoy'\n"))
        .build()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`greeter`") && err.contains("unknown key"),
        "{err}"
    );
}

#[tokio::test]
async fn installing_a_battery_twice_is_an_error() {
    let err = App::new()
        .config(testing::config(""))
        .battery(GreeterBattery)
        .battery(GreeterBattery)
        .build()
        .await
        .unwrap_err();
    assert!(
        matches!(err, turbine::Error::DuplicateBattery(ref n) if n == "greeter"),
        "{err}"
    );
}

#[tokio::test]
async fn a_failing_startup_hook_stops_the_app_naming_the_battery() {
    struct Broken;
    impl Battery for Broken {
        fn name(&self) -> &'static str {
            "broken"
        }
        fn install(self, setup: &mut Setup) -> turbine::Result<()> {
            setup.on_startup(|_cx| async {
                Err(turbine::Error::other(
                    "connecting",
                    std::io::Error::other("refused"),
                ))
            });
            Ok(())
        }
    }
    let err = App::new()
        .config(testing::config(""))
        .battery(Broken)
        .build()
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("`broken`") && msg.contains("refused"), "{msg}");
}

#[tokio::test]
async fn missing_context_values_are_500_problems_not_panics() {
    let app = App::new().config(testing::config("")).route(
        "/",
        get(|State(ctx): State<Context>| async move {
            ctx.require::<Greeter>().map(|g| g.greeting.clone())
        }),
    );
    let client = TestClient::new(app).await.unwrap();
    client.get("/").send().await.assert_status(500).problem();
}

#[tokio::test]
async fn routes_table_lists_handlers_from_app_and_batteries() {
    async fn index() -> &'static str {
        "i"
    }
    let built = App::new()
        .config(testing::config(""))
        .route("/", get(index))
        .battery(GreeterBattery)
        .build()
        .await
        .unwrap();
    let rows: Vec<(String, String, String)> = built
        .routes()
        .iter()
        .map(|r| (r.method.clone(), r.path.clone(), r.handler.clone()))
        .collect();
    assert!(
        rows.iter()
            .any(|(m, p, h)| m == "GET" && p == "/" && h.ends_with("index")),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|(m, p, _)| m == "GET" && p == "/greet/{name}"),
        "{rows:?}"
    );
    assert!(
        rows.iter().any(|(_, p, _)| p == "/health/ready"),
        "{rows:?}"
    );
}

#[tokio::test]
async fn battery_middleware_wraps_unmatched_requests_too() {
    struct Stamp;
    impl Battery for Stamp {
        fn name(&self) -> &'static str {
            "stamp"
        }
        fn install(self, setup: &mut Setup) -> turbine::Result<()> {
            setup.layer_all(|router| {
                router.layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
                    http::HeaderName::from_static("x-stamp"),
                    http::HeaderValue::from_static("1"),
                ))
            });
            Ok(())
        }
    }
    let app = App::new()
        .config(testing::config(""))
        .route("/", get(|| async { "hi" }))
        .battery(Stamp);
    let client = TestClient::new(app).await.unwrap();
    assert_eq!(client.get("/").send().await.header("x-stamp"), Some("1"));
    assert_eq!(
        client.get("/missing").send().await.header("x-stamp"),
        Some("1")
    );
}
