//! Turbine's ORM. `orm-raw`: the ORM's data path without its query builder — `Db::raw` with bound
//! values, the backend's typed statement cache, rows as `Value`s, decoded field by field as a
//! model's `from_row` does. (`orm`, through the query API and `Model`, is added once the query
//! API lands.)

use bench_tfb::World;
use turbine_orm::{Db, Row};

use crate::{MANY_FIRST, MANY_LAST, SELECT_MANY, SELECT_ONE};

fn world(row: Row) -> turbine_orm::Result<World> {
    let mut fields = row.into_fields();
    Ok(World {
        id: fields.next()?,
        randomnumber: fields.next()?,
    })
}

/// `Db::raw` on a pool of one connection (the same size as `raw-pool`'s).
pub(crate) struct OrmRaw {
    db: Db,
}

impl OrmRaw {
    pub(crate) async fn connect(url: &str) -> turbine_orm::Result<Self> {
        let sep = if url.contains('?') { '&' } else { '?' };
        Ok(Self {
            db: Db::connect(&format!("{url}{sep}pool_size=1")).await?,
        })
    }

    pub(crate) async fn one(&self, id: i32) -> turbine_orm::Result<World> {
        let row = self
            .db
            .raw(SELECT_ONE, [id.into()])
            .fetch_optional()
            .await?
            .ok_or_else(|| turbine_orm::Error::NotFound {
                model: "bench.World".into(),
            })?;
        world(row)
    }

    pub(crate) async fn many(&self) -> turbine_orm::Result<Vec<World>> {
        let rows = self
            .db
            .raw(SELECT_MANY, [MANY_FIRST.into(), MANY_LAST.into()])
            .fetch_all()
            .await?;
        rows.into_iter().map(world).collect()
    }
}
