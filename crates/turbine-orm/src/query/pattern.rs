//! Text patterns for the text lookups: LIKE patterns with the wildcards escaped, and GLOB
//! patterns (literal, or case-insensitive by spelling each letter as a class of its cases).

/// The escape character of LIKE patterns (needs no escaping in SQL text on any backend).
pub(crate) const LIKE_ESCAPE: char = '!';

/// Where the text must appear.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextOp {
    /// Anywhere.
    Contains,
    /// At the start.
    Starts,
    /// At the end.
    Ends,
    /// The whole value.
    Exact,
}

/// `s` with the LIKE wildcards and the escape character escaped.
fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | LIKE_ESCAPE) {
            out.push(LIKE_ESCAPE);
        }
        out.push(c);
    }
    out
}

pub(crate) fn like_pattern(op: TextOp, s: &str) -> String {
    let s = escape_like(s);
    match op {
        TextOp::Contains => format!("%{s}%"),
        TextOp::Starts => format!("{s}%"),
        TextOp::Ends => format!("%{s}"),
        TextOp::Exact => s,
    }
}

/// A GLOB pattern matching `s` literally (`*`, `?` and `[` written as one-character classes);
/// with `ci`, every letter that has another case becomes a class of its cases (`[rR]`).
pub(crate) fn glob_pattern(op: TextOp, s: &str, ci: bool) -> String {
    let mut out = String::with_capacity(s.len() * if ci { 4 } else { 1 } + 2);
    if matches!(op, TextOp::Contains | TextOp::Ends) {
        out.push('*');
    }
    for c in s.chars() {
        let mut variants: Vec<char> = vec![c];
        if ci {
            for v in [single(c.to_lowercase()), single(c.to_uppercase())]
                .into_iter()
                .flatten()
            {
                if !variants.contains(&v) {
                    variants.push(v);
                }
            }
        }
        if variants.len() > 1 {
            out.push('[');
            out.extend(variants);
            out.push(']');
        } else if matches!(c, '*' | '?' | '[') {
            out.push('[');
            out.push(c);
            out.push(']');
        } else {
            out.push(c);
        }
    }
    if matches!(op, TextOp::Contains | TextOp::Starts) {
        out.push('*');
    }
    out
}

fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
    let c = it.next()?;
    it.next().is_none().then_some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards_and_the_escape_char() {
        assert_eq!(like_pattern(TextOp::Contains, "50%_off!"), "%50!%!_off!!%");
        assert_eq!(like_pattern(TextOp::Starts, "a"), "a%");
        assert_eq!(like_pattern(TextOp::Ends, "a"), "%a");
    }

    #[test]
    fn glob_patterns_are_literal_and_fold_case_per_letter() {
        assert_eq!(
            glob_pattern(TextOp::Contains, "a*?[b]", false),
            "*a[*][?][[]b]*"
        );
        assert_eq!(glob_pattern(TextOp::Exact, "Ré1", true), "[Rr][éÉ]1");
        // No single-character upper case: the letter stands alone.
        assert_eq!(glob_pattern(TextOp::Starts, "ß", true), "ß*");
    }
}
