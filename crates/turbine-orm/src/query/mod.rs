//! Typed queries over models (filters, ordering, eager loading, aggregates, bulk writes).
