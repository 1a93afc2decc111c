//! Turbine's ORM. `orm`: a model (`#[derive(Model)]`) read through the query API —
//! `World::get(&db, id)` and `World::objects().filter(World::ID.between(1, 1000)).all(&db)`.
//! `orm-qs`: one row through a query set instead of `get` —
//! `World::objects().filter(World::ID.eq(id)).first(&db)`, its SQL rendered per query (1,000
//! rows: as `orm`).
//! `orm-raw`: the ORM's data path without the query builder and the model — `Db::raw` with bound
//! values, the backend's typed statement cache, rows as `Value`s, decoded field by field as a
//! model's `from_row` does.

use bench_tfb::World;
use turbine::orm::ModelExt as _;
use turbine_orm::{Db, Row};

use crate::{MANY_FIRST, MANY_LAST, SELECT_MANY, SELECT_ONE};

fn world(row: Row) -> turbine_orm::Result<World> {
    let mut fields = row.into_fields();
    Ok(World {
        id: fields.next()?,
        randomnumber: fields.next()?,
    })
}

/// The `world` table as a Turbine model.
#[derive(turbine::Model, Debug, Clone)]
#[model(app = "bench", table = "world")]
pub(crate) struct WorldModel {
    id: i32,
    randomnumber: i32,
}

impl From<WorldModel> for World {
    fn from(w: WorldModel) -> Self {
        World {
            id: w.id,
            randomnumber: w.randomnumber,
        }
    }
}

async fn connect(url: &str) -> turbine_orm::Result<Db> {
    let sep = if url.contains('?') { '&' } else { '?' };
    Db::connect(&format!("{url}{sep}pool_size=1")).await
}

/// The query API and a model, on a pool of one connection (the same size as `raw-pool`'s).
pub(crate) struct Orm {
    db: Db,
}

impl Orm {
    pub(crate) async fn connect(url: &str) -> turbine_orm::Result<Self> {
        Ok(Self {
            db: connect(url).await?,
        })
    }

    pub(crate) async fn one(&self, id: i32) -> turbine_orm::Result<World> {
        Ok(WorldModel::get(&self.db, id).await?.into())
    }

    /// One row through a query set (the SQL rendered by sea-query on every call).
    pub(crate) async fn one_queryset(&self, id: i32) -> turbine_orm::Result<World> {
        WorldModel::objects()
            .filter(WorldModel::ID.eq(id))
            .first(&self.db)
            .await?
            .map(World::from)
            .ok_or_else(|| turbine_orm::Error::NotFound {
                model: "bench.World".into(),
            })
    }

    pub(crate) async fn many(&self) -> turbine_orm::Result<Vec<World>> {
        let rows = WorldModel::objects()
            .filter(WorldModel::ID.between(MANY_FIRST, MANY_LAST))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(World::from).collect())
    }
}

/// `Db::raw` on a pool of one connection (the same size as `raw-pool`'s).
pub(crate) struct OrmRaw {
    db: Db,
}

impl OrmRaw {
    pub(crate) async fn connect(url: &str) -> turbine_orm::Result<Self> {
        Ok(Self {
            db: connect(url).await?,
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
