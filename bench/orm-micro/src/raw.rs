//! The raw driver: tokio-postgres, the way a hand-written handler would use it.

use bench_tfb::World;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::{Client, NoTls, Row, Statement};

use crate::{MANY_FIRST, MANY_LAST, SELECT_MANY, SELECT_ONE};

fn world(row: &Row) -> World {
    World {
        id: row.get(0),
        randomnumber: row.get(1),
    }
}

/// One connection, both statements prepared once up front: the floor.
pub(crate) struct Raw {
    client: Client,
    one: Statement,
    many: Statement,
}

impl Raw {
    pub(crate) async fn connect(url: &str) -> Result<Self, tokio_postgres::Error> {
        let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                eprintln!("postgres connection: {e}");
            }
        });
        let one = client.prepare(SELECT_ONE).await?;
        let many = client.prepare(SELECT_MANY).await?;
        Ok(Self { client, one, many })
    }

    pub(crate) async fn one(&self, id: i32) -> Result<World, tokio_postgres::Error> {
        Ok(world(&self.client.query_one(&self.one, &[&id]).await?))
    }

    pub(crate) async fn many(&self) -> Result<Vec<World>, tokio_postgres::Error> {
        let rows = self
            .client
            .query(&self.many, &[&MANY_FIRST, &MANY_LAST])
            .await?;
        Ok(rows.iter().map(world).collect())
    }
}

/// A deadpool-postgres pool: a checkout and a `prepare_cached` lookup per query, as a web handler
/// (and an ORM backend) pays them.
pub(crate) struct RawPool {
    pool: Pool,
}

impl RawPool {
    pub(crate) async fn connect(url: &str) -> Result<Self, Box<dyn std::error::Error>> {
        let manager = Manager::from_config(
            url.parse()?,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager).max_size(1).build()?;
        drop(pool.get().await?); // connect now, not inside the first timed run
        Ok(Self { pool })
    }

    pub(crate) async fn one(&self, id: i32) -> Result<World, Box<dyn std::error::Error>> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(SELECT_ONE).await?;
        Ok(world(&client.query_one(&stmt, &[&id]).await?))
    }

    pub(crate) async fn many(&self) -> Result<Vec<World>, Box<dyn std::error::Error>> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(SELECT_MANY).await?;
        let rows = client.query(&stmt, &[&MANY_FIRST, &MANY_LAST]).await?;
        Ok(rows.iter().map(world).collect())
    }
}
