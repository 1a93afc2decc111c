//! The measured pages, what each must show, and the timing loop.
//!
//! Every response is checked against the seed formulas of [`crate::model`]: status 200, the
//! right number of rows, each row matching the page's filter or search, in the page's order,
//! and an exact count where the list counts exactly. A page that shows nothing, or the wrong
//! rows, fails the run instead of being timed.

use std::time::Instant;

use chrono::DateTime;
use serde_json::{Value as J, json};
use turbine::orm::Db;
use turbine::orm::Value;
use turbine::orm::query::Cursor;
use turbine::testing::{TestClient, TestResponse};

use crate::AnyError;
use crate::model::{
    RARE_WORD, WORDS, amount_of, category_of, created_of, flag_of, owner_of, title_of,
};

/// Where the list lives.
pub(crate) const LIST: &str = "/admin/bench/event";
/// Rows per page (the admin's default).
pub(crate) const PER_PAGE: usize = 50;
/// The list counts exactly up to here (the admin's `COUNT_LIMIT`).
const COUNT_LIMIT: usize = 10_000;

/// How a page's rows are ordered.
#[derive(Clone, Copy)]
enum Order {
    /// Newest key first (the default, `-id`).
    IdDesc,
    /// `?o=amount`: amount, then key, ascending.
    AmountAsc,
}

/// One measured page.
pub(crate) struct Case {
    /// Short name for the table.
    pub(crate) name: String,
    /// Path and query.
    pub(crate) path: String,
    /// Which rows of the table the page's filter keeps.
    keep: Box<dyn Fn(i64) -> bool + Send + Sync>,
    /// Only rows with a key at most this (the deep page's cursor).
    below: Option<i64>,
    order: Order,
}

/// A date as the list's date filter takes it.
fn day(unix: i64) -> String {
    DateTime::from_timestamp(unix, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The cases for a table of `rows` events.
pub(crate) fn all(rows: i64) -> Vec<Case> {
    let deep_after = 101.min(rows);
    let cursor = Cursor::new(vec![Value::BigInt(Some(deep_after))]).encode();
    // A week in the middle of the table (whole days, as the filter reads them).
    let from_unix = created_of(rows / 2);
    let (from, to) = (day(from_unix), day(from_unix + 6 * 86_400));
    let (lo, hi) = {
        let parse = |d: &str| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map(|d| {
                    d.and_hms_opt(0, 0, 0)
                        .unwrap_or_default()
                        .and_utc()
                        .timestamp()
                })
                .unwrap_or(0)
        };
        (parse(&from), parse(&to) + 86_400)
    };
    let common = WORDS[5];
    let owner = 500;
    let case = |name: &str, query: &str, keep: Box<dyn Fn(i64) -> bool + Send + Sync>| Case {
        name: name.to_string(),
        path: if query.is_empty() {
            LIST.to_string()
        } else {
            format!("{LIST}?{query}")
        },
        keep,
        below: None,
        order: Order::IdDesc,
    };
    vec![
        case("first page", "", Box::new(|_| true)),
        Case {
            below: Some(deep_after - 1),
            ..case(
                &format!("deep page (after id {deep_after})"),
                &format!("after={cursor}"),
                Box::new(|_| true),
            )
        },
        case(
            "filter category=tech & flag=yes",
            "category=tech&flag=1",
            Box::new(|id| category_of(id) == "tech" && flag_of(id)),
        ),
        case(
            &format!("filter owner={owner} (FK)"),
            &format!("owner={owner}"),
            Box::new(move |id| owner_of(id) == owner),
        ),
        case(
            &format!("filter created_at {from}…{to}"),
            &format!("created_at__gte={from}&created_at__lte={to}"),
            Box::new(move |id| (lo..hi).contains(&created_of(id))),
        ),
        case(
            &format!("filter created_at {from}…{to}, newest first by date"),
            &format!("created_at__gte={from}&created_at__lte={to}&o=-created_at"),
            Box::new(move |id| (lo..hi).contains(&created_of(id))),
        ),
        case(
            &format!("search \"{common}\" (common)"),
            &format!("q={common}"),
            Box::new(move |id| title_of(id).contains(common)),
        ),
        case(
            &format!("search \"{RARE_WORD}\" (rare)"),
            &format!("q={RARE_WORD}"),
            Box::new(|id| title_of(id).contains(RARE_WORD)),
        ),
        Case {
            order: Order::AmountAsc,
            ..case(
                "sorted by amount (o=amount)",
                "o=amount",
                Box::new(|_| true),
            )
        },
    ]
}

/// The keys of the rows a list page shows (its row checkboxes).
fn page_ids(html: &str) -> Result<Vec<i64>, AnyError> {
    const MARK: &str = "name=\"ids\" value=\"";
    html.match_indices(MARK)
        .map(|(at, _)| {
            let rest = &html[at + MARK.len()..];
            let end = rest.find('"').ok_or("unterminated ids value")?;
            Ok(rest[..end].parse::<i64>()?)
        })
        .collect()
}

/// The text of the count line (`about 1,000,000 events`).
pub(crate) fn count_text(html: &str) -> Option<String> {
    let at = html.find("data-testid=\"count\">")?;
    let rest = &html[at + "data-testid=\"count\">".len()..];
    Some(rest[..rest.find("</span>")?].trim().to_string())
}

/// `1234567` → `1,234,567`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What a case's page must show, computed from the formulas.
pub(crate) struct Expected {
    /// The keys, in page order.
    ids: Vec<i64>,
    /// How many rows match the filter in the whole table.
    total: usize,
}

impl Case {
    /// The rows the page must show.
    pub(crate) fn expected(&self, rows: i64) -> Expected {
        let top = self.below.unwrap_or(rows);
        let matching: Vec<i64> = (1..=rows).filter(|&id| (self.keep)(id)).collect();
        let total = matching.len();
        let mut page: Vec<i64> = matching.into_iter().filter(|&id| id <= top).collect();
        match self.order {
            Order::IdDesc => page.sort_unstable_by(|a, b| b.cmp(a)),
            Order::AmountAsc => page.sort_unstable_by_key(|&id| (amount_of(id), id)),
        }
        page.truncate(PER_PAGE);
        Expected { ids: page, total }
    }

    /// Checks one response; answers its count line.
    fn check(&self, res: &TestResponse, want: &Expected) -> Result<String, AnyError> {
        let html = res.text();
        if res.status() != 200 {
            return Err(format!(
                "{}: status {} for {}: {}",
                self.name,
                res.status(),
                self.path,
                html.chars().take(400).collect::<String>()
            )
            .into());
        }
        let ids = page_ids(&html)?;
        if ids.is_empty() {
            return Err(format!("{}: the page shows no rows", self.name).into());
        }
        if ids != want.ids {
            return Err(format!(
                "{}: the page shows rows {:?}…, expected {:?}…",
                self.name,
                &ids[..ids.len().min(5)],
                &want.ids[..want.ids.len().min(5)]
            )
            .into());
        }
        let count = count_text(&html).ok_or_else(|| format!("{}: no count line", self.name))?;
        if want.total <= COUNT_LIMIT && !count.starts_with(&format!("{} ", thousands(want.total))) {
            return Err(format!(
                "{}: the count says {count:?}, {} rows match",
                self.name, want.total
            )
            .into());
        }
        Ok(count)
    }
}

/// CPU time of this process (all threads) in ns, from `/proc/self/task/*/schedstat`.
fn process_cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Times `iters` requests of a case after `warmup` unmeasured ones, checking every response.
pub(crate) async fn measure(
    client: &TestClient,
    db: &Db,
    case: &Case,
    rows: i64,
    warmup: usize,
    iters: usize,
) -> Result<J, AnyError> {
    let want = case.expected(rows);
    let mut count = String::new();
    for _ in 0..warmup {
        let res = client.get(&case.path).send().await;
        count = case.check(&res, &want)?;
    }
    let mut ms = Vec::with_capacity(iters);
    let mut cpu_ms = Vec::with_capacity(iters);
    let mut queries = 0;
    let mut bytes = 0;
    for _ in 0..iters {
        let (q0, c0) = (db.query_count(), process_cpu_ns());
        let started = Instant::now();
        let res = client.get(&case.path).send().await;
        let wall = started.elapsed();
        let (q1, c1) = (db.query_count(), process_cpu_ns());
        ms.push(wall.as_secs_f64() * 1e3);
        cpu_ms.push(c1.saturating_sub(c0) as f64 / 1e6);
        queries = q1 - q0;
        bytes = res.bytes().len();
        count = case.check(&res, &want)?;
    }
    ms.sort_by(f64::total_cmp);
    cpu_ms.sort_by(f64::total_cmp);
    Ok(json!({
        "case": case.name,
        "path": case.path,
        "requests": iters,
        "warmup": warmup,
        "median_ms": percentile(&ms, 50.0),
        "p95_ms": percentile(&ms, 95.0),
        "min_ms": ms.first(),
        "max_ms": ms.last(),
        "app_cpu_median_ms": percentile(&cpu_ms, 50.0),
        "queries": queries,
        "bytes": bytes,
        "rows_shown": want.ids.len(),
        "rows_matching": want.total,
        "count_text": count,
    }))
}
