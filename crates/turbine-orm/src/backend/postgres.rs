//! Postgres backend (placeholder while the backend lands).
use crate::error::{Error, Result};
/// The Postgres backend.
#[derive(Debug)]
pub struct PgBackend;
impl PgBackend {
    /// Connects.
    pub async fn connect(_url: &str) -> Result<Self> {
        Err(Error::Config(
            "the Postgres backend is not built yet".into(),
        ))
    }
}
impl super::Backend for PgBackend {
    fn dialect(&self) -> super::Dialect {
        super::Dialect::Postgres
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
