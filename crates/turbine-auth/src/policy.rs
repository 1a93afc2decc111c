//! Password policy: length, common passwords, all-digit passwords, similarity to the account's
//! own attributes — the rules of Django's default validators, with the same messages.
//!
//! ```
//! use turbine_auth::policy::PasswordPolicy;
//!
//! let policy = PasswordPolicy::default();
//! let attrs = [("email", "jane.doe@example.com")];
//!
//! assert!(policy.validate("violet-harbour-91-kettle", &attrs).is_empty());
//!
//! let errors = policy.validate("password", &attrs);
//! assert_eq!(errors[0].field, "password");
//! assert_eq!(errors[0].message, "This password is too common.");
//! ```

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::error::FieldError;

/// Django's list of 20,000 common passwords (lowercase), one per line; `##` lines are comments.
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    COMMON_PASSWORDS
        .lines()
        .filter(|line| !line.starts_with("##"))
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect()
});

/// Attribute values are compared on at most this many characters, so a huge value cannot make
/// the (quadratic) similarity check expensive.
const MAX_COMPARED_CHARS: usize = 256;

/// The field every policy message is about.
const FIELD: &str = "password";

/// Which passwords are acceptable for new accounts and password changes.
#[derive(Debug, Clone, PartialEq)]
pub struct PasswordPolicy {
    /// Fewest characters allowed (default 8).
    pub min_length: usize,
    /// Most characters allowed (default 4096), which also bounds hashing and checking work.
    pub max_length: usize,
    /// Refuse passwords on the common-passwords list (default `true`).
    pub reject_common: bool,
    /// Refuse passwords made only of digits (default `true`).
    pub reject_numeric: bool,
    /// Refuse passwords at least this similar (0.0–1.0) to a user attribute (default 0.7); a
    /// value above 1.0 disables the check.
    pub max_similarity: f64,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 8,
            max_length: 4096,
            reject_common: true,
            reject_numeric: true,
            max_similarity: 0.7,
        }
    }
}

impl PasswordPolicy {
    /// Every rule `password` breaks, as messages about the field `password`; empty when it is
    /// acceptable. `user_attrs` are the account's own values to compare against, named for the
    /// message, e.g. `[("email", "jane@example.com"), ("username", "jane")]` (an underscore in
    /// a name reads as a space).
    ///
    /// A password over [`max_length`](Self::max_length) gets only the length message.
    pub fn validate(&self, password: &str, user_attrs: &[(&str, &str)]) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let length = password.chars().count();
        if length > self.max_length {
            errors.push(FieldError::new(
                FIELD,
                format!(
                    "This password is too long. It must contain at most {} {}.",
                    self.max_length,
                    characters(self.max_length)
                ),
            ));
            return errors;
        }
        if length < self.min_length {
            errors.push(FieldError::new(
                FIELD,
                format!(
                    "This password is too short. It must contain at least {} {}.",
                    self.min_length,
                    characters(self.min_length)
                ),
            ));
        }
        if let Some(name) = self.too_similar(password, user_attrs) {
            errors.push(FieldError::new(
                FIELD,
                format!(
                    "The password is too similar to the {}.",
                    name.replace('_', " ")
                ),
            ));
        }
        if self.reject_common && is_common(password) {
            errors.push(FieldError::new(FIELD, "This password is too common."));
        }
        if self.reject_numeric && !password.is_empty() && password.chars().all(char::is_numeric) {
            errors.push(FieldError::new(FIELD, "This password is entirely numeric."));
        }
        errors
    }

    /// The name of the first attribute the password is too similar to, if any. Like Django's
    /// `UserAttributeSimilarityValidator`: case-insensitive, against the whole value, an
    /// email's local part, and the value's parts split on non-alphanumeric characters.
    fn too_similar<'a>(&self, password: &str, user_attrs: &[(&'a str, &str)]) -> Option<&'a str> {
        if self.max_similarity > 1.0 {
            return None;
        }
        let password: Vec<char> = password.to_lowercase().chars().collect();
        for &(name, value) in user_attrs {
            let value = value.to_lowercase();
            if value.is_empty() {
                continue;
            }
            let mut parts: Vec<&str> = vec![value.as_str()];
            if let Some((local, _domain)) = value.rsplit_once('@') {
                parts.push(local);
            }
            parts.extend(
                value
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|p| !p.is_empty()),
            );
            for part in parts {
                let part: Vec<char> = part.chars().take(MAX_COMPARED_CHARS).collect();
                if exceeds_length_ratio(password.len(), part.len(), self.max_similarity) {
                    continue;
                }
                if similarity(&password, &part) >= self.max_similarity {
                    return Some(name);
                }
            }
        }
        None
    }
}

/// Whether `password` is on the common-passwords list (compared lowercase and trimmed).
fn is_common(password: &str) -> bool {
    COMMON.contains(password.trim().to_lowercase().as_str())
}

fn characters(n: usize) -> &'static str {
    if n == 1 { "character" } else { "characters" }
}

/// Django's shortcut: a password ten times longer than a short value cannot be too similar to
/// it.
fn exceeds_length_ratio(password_len: usize, value_len: usize, max_similarity: f64) -> bool {
    let bound = max_similarity / 2.0 * password_len as f64;
    password_len >= 10 * value_len && (value_len as f64) < bound
}

/// The Ratcliff–Obershelp similarity of two strings (Python's `SequenceMatcher.ratio()` without
/// its junk heuristics): twice the characters matched by recursively taking the longest common
/// substring, over the total length. 1.0 for identical strings, 0.0 for nothing in common.
fn similarity(a: &[char], b: &[char]) -> f64 {
    let total = a.len() + b.len();
    if total == 0 {
        return 1.0;
    }
    2.0 * matching_chars(a, b) as f64 / total as f64
}

fn matching_chars(a: &[char], b: &[char]) -> usize {
    let (start_a, start_b, len) = longest_common_substring(a, b);
    if len == 0 {
        return 0;
    }
    len + matching_chars(&a[..start_a], &b[..start_b])
        + matching_chars(&a[start_a + len..], &b[start_b + len..])
}

/// The leftmost longest common substring: (start in `a`, start in `b`, length).
fn longest_common_substring(a: &[char], b: &[char]) -> (usize, usize, usize) {
    let mut best = (0, 0, 0);
    // lengths[j + 1] = length of the common suffix of a[..=i] and b[..=j].
    let mut previous = vec![0usize; b.len() + 1];
    let mut current = vec![0usize; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        for (j, cb) in b.iter().enumerate() {
            current[j + 1] = if ca == cb { previous[j] + 1 } else { 0 };
            let len = current[j + 1];
            if len > best.2 {
                best = (i + 1 - len, j + 1 - len, len);
            }
        }
        std::mem::swap(&mut previous, &mut current);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ratio(a: &str, b: &str) -> f64 {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        similarity(&a, &b)
    }

    #[test]
    fn ratio_matches_python_sequence_matcher() {
        // difflib.SequenceMatcher(None, a, b).ratio()
        assert!((ratio("abcd", "bcde") - 0.75).abs() < 1e-9);
        assert!((ratio("jane", "jane") - 1.0).abs() < 1e-9);
        assert_eq!(ratio("abc", "xyz"), 0.0);
        assert!((ratio("janedoe99", "jane.doe") - 14.0 / 17.0).abs() < 1e-9);
    }

    #[test]
    fn list_is_loaded() {
        assert!(COMMON.len() > 19_000, "{}", COMMON.len());
        assert!(!COMMON.iter().any(|p| p.starts_with("##")));
    }
}
