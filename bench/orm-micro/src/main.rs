//! ORM micro-benchmark: the cost of fetching rows through Turbine's ORM against the raw driver,
//! on the TechEmpower `world` table (`bench/db/setup`).
//!
//! Cases: `one` fetches one row by primary key (`SELECT id, randomnumber FROM world WHERE id = $1`,
//! the ids cycling through 1..=10,000) and decodes it; `many` fetches and decodes 1,000 rows
//! (`... WHERE id BETWEEN 1 AND 1000`). Implementations: `raw` (one tokio-postgres connection,
//! statements prepared once: the floor), `raw-pool` (deadpool-postgres checkout and
//! `prepare_cached` per query, as a handler pays them), `orm` (Turbine's ORM as an app uses it: a
//! `#[derive(Model)]` model, `World::get(&db, id)` and `World::objects().filter(...).all(&db)`),
//! `orm-raw` (the ORM's data path without the query builder and the model: `Db::raw`, rows as
//! values, decoded field by field) and `orm-qs` (`orm`, but one row through a query set,
//! `World::objects().filter(World::ID.eq(id)).first(&db)`, whose SQL is rendered per query).
//!
//! Each (implementation, case) runs `--warmup` unmeasured runs, then `--runs` measured runs of
//! `--iters-one` / `--iters-many` operations, one at a time on a current-thread runtime, and
//! reports per operation the wall time and this thread's CPU time (all client work: the driver's
//! connection task runs on the same thread), median of the runs. Postgres' own time is in the wall
//! time, not in the CPU time. `bench/orm-micro/run` adds instructions per operation (callgrind).
//!
//! ```text
//! bench-orm-micro [--impl raw,raw-pool,orm-raw,orm,orm-qs] [--case one,many] [--runs 5] [--warmup 1]
//!                 [--iters-one 20000] [--iters-many 300] [--json FILE]
//! ```
//! Database: `BENCH_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/turbine_bench`.

mod orm;
mod raw;

use std::{hint::black_box, time::Instant};

use bench_tfb::{WORLD_ROWS, World};
use serde_json::json;

/// One row by primary key (the same text as the TechEmpower servers).
pub(crate) const SELECT_ONE: &str = bench_tfb::SELECT_WORLD;
/// 1,000 rows.
pub(crate) const SELECT_MANY: &str =
    "SELECT id, randomnumber FROM world WHERE id BETWEEN $1 AND $2";
pub(crate) const MANY_FIRST: i32 = 1;
pub(crate) const MANY_LAST: i32 = 1_000;

type AnyError = Box<dyn std::error::Error>;

/// One implementation under test.
enum Impl {
    Raw(raw::Raw),
    RawPool(raw::RawPool),
    OrmRaw(orm::OrmRaw),
    Orm(orm::Orm),
    /// `orm` with one row read through a query set.
    OrmQs(orm::Orm),
}

impl Impl {
    async fn connect(name: &str, url: &str) -> Result<Self, AnyError> {
        Ok(match name {
            "raw" => Self::Raw(raw::Raw::connect(url).await?),
            "raw-pool" => Self::RawPool(raw::RawPool::connect(url).await?),
            "orm-raw" => Self::OrmRaw(orm::OrmRaw::connect(url).await?),
            "orm" => Self::Orm(orm::Orm::connect(url).await?),
            "orm-qs" => Self::OrmQs(orm::Orm::connect(url).await?),
            other => {
                return Err(format!(
                    "unknown implementation {other:?} (raw, raw-pool, orm-raw, orm, orm-qs)"
                )
                .into());
            }
        })
    }

    async fn one(&self, id: i32) -> Result<World, AnyError> {
        Ok(match self {
            Self::Raw(r) => r.one(id).await?,
            Self::RawPool(r) => r.one(id).await?,
            Self::OrmRaw(r) => r.one(id).await?,
            Self::Orm(r) => r.one(id).await?,
            Self::OrmQs(r) => r.one_queryset(id).await?,
        })
    }

    async fn many(&self) -> Result<Vec<World>, AnyError> {
        Ok(match self {
            Self::Raw(r) => r.many().await?,
            Self::RawPool(r) => r.many().await?,
            Self::OrmRaw(r) => r.many().await?,
            Self::Orm(r) | Self::OrmQs(r) => r.many().await?,
        })
    }
}

/// CPU time of the calling thread in ns (`/proc/thread-self/schedstat`, first field).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Runs `iters` operations; returns (wall ns/op, CPU ns/op).
async fn run_once(imp: &Impl, case: &str, iters: usize) -> Result<(f64, f64), AnyError> {
    let (t0, c0) = (Instant::now(), thread_cpu_ns());
    for i in 0..iters {
        if case == "one" {
            let id = (i as i32 % WORLD_ROWS) + 1;
            let w = imp.one(id).await?;
            if w.id != id {
                return Err(format!("asked for id {id}, got {}", w.id).into());
            }
            black_box(w);
        } else {
            let rows = imp.many().await?;
            if rows.len() != (MANY_LAST - MANY_FIRST + 1) as usize {
                return Err(format!("expected 1000 rows, got {}", rows.len()).into());
            }
            black_box(rows);
        }
    }
    let wall = t0.elapsed().as_nanos() as f64 / iters as f64;
    let cpu = (thread_cpu_ns() - c0) as f64 / iters as f64;
    Ok((wall, cpu))
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

struct Args {
    impls: Vec<String>,
    cases: Vec<String>,
    runs: usize,
    warmup: usize,
    iters_one: usize,
    iters_many: usize,
    json: Option<String>,
}

fn parse_args() -> Result<Args, AnyError> {
    let mut a = Args {
        impls: vec![
            "raw".into(),
            "raw-pool".into(),
            "orm-raw".into(),
            "orm".into(),
            "orm-qs".into(),
        ],
        cases: vec!["one".into(), "many".into()],
        runs: 5,
        warmup: 1,
        iters_one: 20_000,
        iters_many: 300,
        json: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let list = |v: String| v.split(',').map(str::to_owned).collect::<Vec<_>>();
        match flag.as_str() {
            "--impl" => a.impls = list(value()?),
            "--case" => a.cases = list(value()?),
            "--runs" => a.runs = value()?.parse()?,
            "--warmup" => a.warmup = value()?.parse()?,
            "--iters-one" => a.iters_one = value()?.parse()?,
            "--iters-many" => a.iters_many = value()?.parse()?,
            "--json" => a.json = Some(value()?),
            "-h" | "--help" => {
                println!("see the crate documentation (bench/orm-micro/src/main.rs)");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    if let Some(c) = a.cases.iter().find(|c| *c != "one" && *c != "many") {
        return Err(format!("unknown case {c:?} (one, many)").into());
    }
    if a.runs == 0 {
        return Err("--runs must be > 0".into());
    }
    Ok(a)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), AnyError> {
    let a = parse_args()?;
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/turbine_bench".into());
    let mut results = Vec::new();
    println!(
        "| impl | case | ops/run | wall µs/op (median) | client CPU µs/op (median) | runs (CPU µs/op) |"
    );
    println!("|---|---|---:|---:|---:|---|");
    for name in &a.impls {
        let imp = Impl::connect(name, &url).await?;
        for case in &a.cases {
            let iters = if case == "one" {
                a.iters_one
            } else {
                a.iters_many
            };
            for _ in 0..a.warmup {
                run_once(&imp, case, iters).await?;
            }
            let mut runs = Vec::new();
            for _ in 0..a.runs {
                runs.push(run_once(&imp, case, iters).await?);
            }
            let wall = median(runs.iter().map(|r| r.0).collect());
            let cpu = median(runs.iter().map(|r| r.1).collect());
            let each: Vec<String> = runs.iter().map(|r| format!("{:.2}", r.1 / 1e3)).collect();
            println!(
                "| {name} | {case} | {iters} | {:.2} | {:.2} | {} |",
                wall / 1e3,
                cpu / 1e3,
                each.join(" ")
            );
            results.push(json!({
                "impl": name, "case": case, "iters": iters,
                "wall_ns_per_op": wall, "cpu_ns_per_op": cpu,
                "runs": runs.iter().map(|r| json!({"wall_ns_per_op": r.0, "cpu_ns_per_op": r.1})).collect::<Vec<_>>(),
            }));
        }
    }
    if let Some(path) = a.json {
        std::fs::write(path, serde_json::to_string_pretty(&results)? + "\n")?;
    }
    Ok(())
}
