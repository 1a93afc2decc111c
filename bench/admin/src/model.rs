//! The benchmark's models and the formulas that give every seeded row its values. The seed SQL
//! ([`crate::seed`]) and the checks on each page ([`crate::cases`]) use the same formulas, so a
//! page can be verified row by row without reading the database.

use chrono::{DateTime, Utc};
use turbine::orm::ForeignKey;

/// Who an event belongs to (`bench.Owner`, [`OWNERS`] rows).
#[derive(turbine::Model, Debug, Clone)]
#[model(app = "bench")]
pub(crate) struct Owner {
    /// Key.
    pub(crate) id: i64,
    /// `owner N`.
    #[field(max_length = 40)]
    pub(crate) name: String,
}

/// What an event is about.
#[derive(turbine::Choices, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Category {
    /// `music`.
    Music,
    /// `sports`.
    Sports,
    /// `tech`.
    Tech,
    /// `food`.
    Food,
    /// `travel`.
    Travel,
}

/// The stored values of [`Category`], in the order the seed formula indexes them.
pub(crate) const CATEGORIES: [&str; 5] = ["music", "sports", "tech", "food", "travel"];

/// The listed model (`bench.Event`, `--rows` rows). `created_at` carries an index, as a
/// date-filtered column would in an app; `amount`, `category` and `flag` do not.
#[derive(turbine::Model, Debug, Clone)]
#[model(app = "bench")]
pub(crate) struct Event {
    /// Key.
    pub(crate) id: i64,
    /// Three words from [`WORDS`], `zephyr` on one row in [`RARE_EVERY`], then `#id`.
    #[field(max_length = 80)]
    pub(crate) title: String,
    /// [`category_of`].
    pub(crate) category: Category,
    /// [`flag_of`].
    pub(crate) flag: bool,
    /// [`amount_of`].
    pub(crate) amount: i64,
    /// [`owner_of`] (foreign keys are indexed).
    #[field(on_delete = "cascade", related_name = "events")]
    pub(crate) owner: ForeignKey<Owner>,
    /// [`created_of`]: 30 s apart from 2024-01-01, rising with the id.
    #[field(index)]
    pub(crate) created_at: DateTime<Utc>,
}

/// Rows of `bench.Owner`.
pub(crate) const OWNERS: i64 = 1_000;

/// The title vocabulary: no word contains another, each at most [`WORD_WIDTH`] bytes.
pub(crate) const WORDS: [&str; 64] = [
    "amber", "basil", "cedar", "delta", "ember", "fjord", "garnet", "harbor", "indigo", "jasper",
    "kelp", "lumen", "maple", "nectar", "onyx", "pepper", "quartz", "raven", "sable", "tundra",
    "umber", "velvet", "willow", "xenon", "yarrow", "zinc", "acorn", "birch", "cobalt", "dune",
    "flint", "glacier", "hazel", "iris", "juniper", "krill", "lotus", "marble", "nutmeg", "orchid",
    "pebble", "quill", "rust", "saffron", "thistle", "urchin", "vortex", "walnut", "yucca",
    "zircon", "anvil", "bramble", "canyon", "dusk", "eagle", "falcon", "grove", "heron", "ivory",
    "jade", "kiwi", "larch", "meadow", "nova",
];

/// Each word padded to this width in the seed SQL's word string.
pub(crate) const WORD_WIDTH: usize = 8;

/// The word only a few titles carry (id % [`RARE_EVERY`] == [`RARE_AT`]).
pub(crate) const RARE_WORD: &str = "zephyr";
/// One row in this many has [`RARE_WORD`].
pub(crate) const RARE_EVERY: i64 = 20_000;
/// … the one with this remainder.
pub(crate) const RARE_AT: i64 = 7;

/// The three word slots of a title: (multiplier, offset, modulus) → index `(id × m + o) % n`.
pub(crate) const SLOTS: [(i64, i64, i64); 3] =
    [(7919, 0, 61), (104_729, 13, 59), (15_485_863, 7, 53)];

/// 2024-01-01T00:00:00Z, the first row's time minus 30 s.
pub(crate) const EPOCH: i64 = 1_704_067_200;
/// Seconds between consecutive rows.
pub(crate) const STEP: i64 = 30;

/// The title of row `id`.
pub(crate) fn title_of(id: i64) -> String {
    let mut words: Vec<&str> = SLOTS
        .iter()
        .map(|&(m, o, n)| WORDS[usize::try_from((id * m + o) % n).unwrap_or(0)])
        .collect();
    if id % RARE_EVERY == RARE_AT {
        words.push(RARE_WORD);
    }
    format!("{} #{id}", words.join(" "))
}

/// The stored category of row `id`.
pub(crate) fn category_of(id: i64) -> &'static str {
    CATEGORIES[usize::try_from(id % 5).unwrap_or(0)]
}

/// The flag of row `id`.
pub(crate) fn flag_of(id: i64) -> bool {
    id % 3 == 0
}

/// The amount of row `id` (scattered, not rising with the id).
pub(crate) fn amount_of(id: i64) -> i64 {
    (id * 7919) % 100_000
}

/// The owner of row `id` (every owner has the same number of rows, spread over the table).
pub(crate) fn owner_of(id: i64) -> i64 {
    1 + (id * 37) % OWNERS
}

/// `created_at` of row `id`, in Unix seconds.
pub(crate) fn created_of(id: i64) -> i64 {
    EPOCH + id * STEP
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_word_contains_another_and_all_fit() {
        for (i, a) in WORDS.iter().enumerate() {
            assert!(a.len() <= WORD_WIDTH, "{a}");
            assert!(!RARE_WORD.contains(a) && !a.contains(RARE_WORD), "{a}");
            for (j, b) in WORDS.iter().enumerate() {
                assert!(i == j || !a.contains(b), "{a} contains {b}");
            }
        }
        assert!(title_of(1_000_000).len() <= 80);
        assert!(title_of(RARE_AT).contains(RARE_WORD));
    }
}
