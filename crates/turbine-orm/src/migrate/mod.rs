//! Migrations: operations, the autodetector, files, and applying them.
