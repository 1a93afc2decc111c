//! SQLite backend (placeholder while the backend lands).
use crate::error::{Error, Result};
/// The SQLite backend.
#[derive(Debug)]
pub struct SqliteBackend;
impl SqliteBackend {
    /// Connects.
    pub async fn connect(_url: &str) -> Result<Self> {
        Err(Error::Config("the SQLite backend is not built yet".into()))
    }
}
impl super::Backend for SqliteBackend {
    fn dialect(&self) -> super::Dialect {
        super::Dialect::Sqlite
    }
    fn fetch<'a>(
        &'a self,
        _s: &'a super::Statement,
    ) -> futures_util::future::BoxFuture<'a, Result<Vec<crate::Row>>> {
        Box::pin(async { Err(Error::Config("no".into())) })
    }
    fn execute<'a>(
        &'a self,
        _s: &'a super::Statement,
    ) -> futures_util::future::BoxFuture<'a, Result<u64>> {
        Box::pin(async { Err(Error::Config("no".into())) })
    }
    fn batch<'a>(&'a self, _s: &'a str) -> futures_util::future::BoxFuture<'a, Result<()>> {
        Box::pin(async { Err(Error::Config("no".into())) })
    }
    fn begin(
        &self,
        _o: super::TxOptions,
    ) -> futures_util::future::BoxFuture<'_, Result<Box<dyn super::Connection>>> {
        Box::pin(async { Err(Error::Config("no".into())) })
    }
    fn close(&self) -> futures_util::future::BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}
