//! What the TechEmpower database benchmark servers share, so they differ only in how they reach
//! the database: the `queries` parameter, the row types and their JSON, random ids, the
//! hand-written fortunes page, and the command-line / environment settings.
//!
//! ```
//! use bench_tfb::{Fortune, queries_param, render_fortunes};
//!
//! assert_eq!(queries_param(Some("queries=20")), 20);
//! assert_eq!(queries_param(Some("queries=foo")), 1);
//! assert_eq!(queries_param(Some("queries=501")), 500);
//! assert_eq!(queries_param(None), 1);
//!
//! let html = render_fortunes(&[Fortune::new(1, "<b>&")]);
//! assert!(html.contains("<tr><td>1</td><td>&lt;b&gt;&amp;</td></tr>"));
//! ```

use std::fmt::Write as _;

use serde::Serialize;

/// Rows in `world`: ids 1..=10,000.
pub const WORLD_ROWS: i32 = 10_000;
/// The fortune every `/fortunes` response adds before sorting (id 0).
pub const ADDED_FORTUNE: &str = "Additional fortune added at request time.";
/// One World row by primary key (the single and multiple query tests, and the update reads).
pub const SELECT_WORLD: &str = "SELECT id, randomnumber FROM world WHERE id = $1";
/// All fortunes.
pub const SELECT_FORTUNES: &str = "SELECT id, message FROM fortune";
/// The one bulk UPDATE per `/updates` request TechEmpower allows: `$1` ids, `$2` new numbers.
pub const UPDATE_WORLDS: &str = "UPDATE world SET randomnumber = v.r \
     FROM (SELECT unnest($1::int[]) AS id, unnest($2::int[]) AS r) AS v WHERE world.id = v.id";

/// A `world` row, serialized as TechEmpower expects: `{"id":1,"randomNumber":2}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct World {
    /// Primary key, 1..=10,000.
    pub id: i32,
    /// 1..=10,000.
    #[serde(rename = "randomNumber")]
    pub randomnumber: i32,
}

/// A `fortune` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fortune {
    /// Primary key (0 for the one added at request time).
    pub id: i32,
    /// The text, HTML-escaped only when rendered.
    pub message: String,
}

impl Fortune {
    /// A fortune from its parts.
    pub fn new(id: i32, message: impl Into<String>) -> Self {
        Self {
            id,
            message: message.into(),
        }
    }
}

/// The `queries` parameter from a raw query string, clamped as TechEmpower requires: missing,
/// empty, not a number or below 1 gives 1; above 500 gives 500.
pub fn queries_param(raw_query: Option<&str>) -> usize {
    let value = raw_query
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("queries="))
        .and_then(|v| {
            // A number too large for i64 is still a number above 500.
            let huge = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
            v.parse::<i64>().ok().or(huge.then_some(500))
        })
        .unwrap_or(1);
    value.clamp(1, 500) as usize
}

/// A random World id, 1..=10,000.
pub fn random_id() -> i32 {
    rand::random_range(1..=WORLD_ROWS)
}

/// A new random number for an update, 1..=10,000 and never `old`, so every updated row really
/// changes (TechEmpower's verifier wants at least 90 % of them changed).
pub fn new_random_number(old: i32) -> i32 {
    loop {
        let n = rand::random_range(1..=WORLD_ROWS);
        if n != old {
            return n;
        }
    }
}

/// Adds the request-time fortune, sorts by message and renders the TechEmpower page, escaping
/// every message (hand-written, as in TechEmpower's own axum entry; no template engine).
pub fn render_fortunes(from_db: &[Fortune]) -> String {
    let mut fortunes: Vec<(i32, &str)> = Vec::with_capacity(from_db.len() + 1);
    fortunes.extend(from_db.iter().map(|f| (f.id, f.message.as_str())));
    fortunes.push((0, ADDED_FORTUNE));
    fortunes.sort_unstable_by(|a, b| a.1.cmp(b.1));

    let mut html = String::with_capacity(1200);
    html.push_str(
        "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>\
         <tr><th>id</th><th>message</th></tr>",
    );
    for (id, message) in fortunes {
        // Writing into a String cannot fail.
        let _ = write!(html, "<tr><td>{id}</td><td>");
        escape_html(message, &mut html);
        html.push_str("</td></tr>");
    }
    html.push_str("</table></body></html>");
    html
}

/// Appends `text` to `out` with `& < > " '` replaced by entities (enough for element content and
/// quoted attribute values).
pub fn escape_html(text: &str, out: &mut String) {
    let mut last = 0;
    for (i, b) in text.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#x27;",
            _ => continue,
        };
        out.push_str(&text[last..i]);
        out.push_str(entity);
        last = i + 1;
    }
    out.push_str(&text[last..]);
}

/// Settings every DB benchmark server reads the same way.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Listening port on 127.0.0.1: `--port N` / `--port=N`, else `PORT`, else the default given.
    pub port: u16,
    /// `BENCH_DATABASE_URL` (required).
    pub database_url: String,
    /// `BENCH_DB_POOL_SIZE`, default [`DEFAULT_POOL_SIZE`]: connections in the pool.
    pub pool_size: usize,
}

/// Connections per server unless `BENCH_DB_POOL_SIZE` says otherwise (the same for every server).
pub const DEFAULT_POOL_SIZE: usize = 16;

impl Settings {
    /// Reads the command line and the environment; exits with a message when
    /// `BENCH_DATABASE_URL` is missing or a number does not parse.
    pub fn from_env(default_port: u16) -> Self {
        let mut args = std::env::args().skip(1);
        let mut port = None;
        while let Some(arg) = args.next() {
            if arg == "--port" {
                port = args.next();
            } else if let Some(v) = arg.strip_prefix("--port=") {
                port = Some(v.to_owned());
            }
        }
        let port = port
            .or_else(|| std::env::var("PORT").ok())
            .map(|p| {
                p.parse()
                    .unwrap_or_else(|_| fail("port must be a number 0..=65535"))
            })
            .unwrap_or(default_port);
        let database_url = std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| {
            fail("BENCH_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/turbine_bench; bench/db/setup creates it)")
        });
        let pool_size = std::env::var("BENCH_DB_POOL_SIZE")
            .ok()
            .map(|v| {
                v.parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .unwrap_or_else(|| fail("BENCH_DB_POOL_SIZE must be a whole number > 0"))
            })
            .unwrap_or(DEFAULT_POOL_SIZE);
        Self {
            port,
            database_url,
            pool_size,
        }
    }
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_clamp_like_techempower() {
        for (raw, expected) in [
            (Some("queries=1"), 1),
            (Some("queries=20"), 20),
            (Some("queries=500"), 500),
            (Some("queries=501"), 500),
            (Some("queries=100000000000"), 500),
            (Some("queries=99999999999999999999999"), 500),
            (Some("queries=0"), 1),
            (Some("queries=-3"), 1),
            (Some("queries=foo"), 1),
            (Some("queries="), 1),
            (Some("other=7&queries=7"), 7),
            (Some(""), 1),
            (None, 1),
        ] {
            assert_eq!(queries_param(raw), expected, "{raw:?}");
        }
    }

    #[test]
    fn escapes_every_special_character() {
        let mut out = String::new();
        escape_html(r#"<a href="x">Tom & 'Jerry'</a>"#, &mut out);
        assert_eq!(
            out,
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#x27;Jerry&#x27;&lt;/a&gt;"
        );
    }

    #[test]
    fn fortunes_are_sorted_with_the_added_one() {
        let html = render_fortunes(&[Fortune::new(2, "b"), Fortune::new(1, "B <")]);
        assert_eq!(
            html,
            "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>\
             <tr><th>id</th><th>message</th></tr>\
             <tr><td>0</td><td>Additional fortune added at request time.</td></tr>\
             <tr><td>1</td><td>B &lt;</td></tr><tr><td>2</td><td>b</td></tr>\
             </table></body></html>"
        );
    }

    #[test]
    fn new_numbers_differ_and_stay_in_range() {
        for old in [1, 5_000, WORLD_ROWS] {
            for _ in 0..1_000 {
                let n = new_random_number(old);
                assert!(n != old && (1..=WORLD_ROWS).contains(&n), "{old} -> {n}");
            }
        }
        for _ in 0..1_000 {
            assert!((1..=WORLD_ROWS).contains(&random_id()));
        }
    }
}
