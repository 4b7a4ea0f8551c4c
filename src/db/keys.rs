//! The server's own signing keys, for when the configuration gives none: made by the first
//! instance that needs one, read by every other from then on.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, EntityTrait};

use super::Db;
use super::entity::signing_key;
use crate::error::{Error, Result};

impl Db {
    /// The secret of the key `name`: the one stored, or `fresh` stored now when there is none.
    /// Two instances asking at once both get the one that was stored first.
    pub async fn signing_secret(
        &self,
        name: &str,
        fresh: &str,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let row = signing_key::ActiveModel {
            name: Set(name.to_owned()),
            secret: Set(fresh.to_owned()),
            created_at: Set(now),
        };
        signing_key::Entity::insert(row)
            .on_conflict(
                OnConflict::column(signing_key::Column::Name)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&self.conn)
            .await?;
        signing_key::Entity::find_by_id(name.to_owned())
            .one(&self.conn)
            .await?
            .map(|k| k.secret)
            .ok_or(Error::Database(sea_orm::DbErr::RecordNotFound(
                "signing key".into(),
            )))
    }
}
