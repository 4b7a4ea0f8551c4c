//! Users: everyone who ever logged in or appeared in a session.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

use super::entity::user;
use super::{Db, INSERT_CHUNK, bulk};
use crate::domain::{Role, User};
use crate::error::Result;

impl Db {
    /// Adds users or updates their name and role (at login).
    #[tracing::instrument(skip_all, fields(count = users.len()))]
    pub async fn upsert_users(&self, users: &[User], now: DateTime<Utc>) -> Result<()> {
        upsert_users(&self.conn, users, now, true).await
    }

    /// The users among `numbers` that exist.
    pub async fn users_by_numbers(&self, numbers: &[String]) -> Result<Vec<User>> {
        if numbers.is_empty() {
            return Ok(Vec::new());
        }
        let rows = user::Entity::find()
            .filter(user::Column::SchoolNumber.is_in(numbers.iter().cloned()))
            .order_by_asc(user::Column::SchoolNumber)
            .all(&self.conn)
            .await?;
        Ok(rows.into_iter().map(user_of).collect())
    }

    /// Every user with the teacher role.
    pub async fn teachers(&self) -> Result<Vec<User>> {
        let rows = user::Entity::find()
            .filter(user::Column::Role.eq(Role::Teacher))
            .order_by_asc(user::Column::FullName)
            .all(&self.conn)
            .await?;
        Ok(rows.into_iter().map(user_of).collect())
    }
}

fn user_of(u: user::Model) -> User {
    User {
        role: u.role,
        school_number: u.school_number,
        full_name: u.full_name,
    }
}

fn user_row(u: &User, now: DateTime<Utc>) -> user::ActiveModel {
    user::ActiveModel {
        school_number: Set(u.school_number.clone()),
        full_name: Set(u.full_name.clone()),
        role: Set(u.role),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Adds the users among `users` that are not there yet; those that are keep their name.
pub(super) async fn insert_missing_users(
    conn: &impl ConnectionTrait,
    users: &[User],
    now: DateTime<Utc>,
) -> Result<()> {
    for chunk in users.chunks(INSERT_CHUNK) {
        user::Entity::insert_many(chunk.iter().map(|u| user_row(u, now)))
            .on_conflict(
                OnConflict::column(user::Column::SchoolNumber)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

pub(super) async fn insert_missing_user(
    conn: &impl ConnectionTrait,
    u: &User,
    now: DateTime<Utc>,
) -> Result<()> {
    user::Entity::insert(user_row(u, now))
        .on_conflict(
            OnConflict::column(user::Column::SchoolNumber)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// `users` for [`bulk::Table::upsert`]; `update` differs by caller.
const fn users_table(update: &'static [&'static str]) -> bulk::Table {
    bulk::Table {
        name: "users",
        columns: &[
            ("school_number", "text"),
            ("full_name", "text"),
            ("role", "text"),
            ("created_at", "timestamptz"),
            ("updated_at", "timestamptz"),
        ],
        key: &["school_number"],
        update,
    }
}

/// A user as one row of a bulk write.
#[derive(serde::Serialize)]
struct UserRow<'a> {
    school_number: &'a str,
    full_name: &'a str,
    role: String,
    created_at: &'a str,
    updated_at: &'a str,
}

/// Adds users or updates their name (and their role when `update_role`).
pub(super) async fn upsert_users(
    conn: &impl ConnectionTrait,
    users: &[User],
    now: DateTime<Utc>,
    update_role: bool,
) -> Result<()> {
    if bulk::available(conn) {
        use sea_orm::ActiveEnum;
        let at = bulk::micros(now);
        let rows: Vec<UserRow<'_>> = users
            .iter()
            .map(|u| UserRow {
                school_number: &u.school_number,
                full_name: &u.full_name,
                role: u.role.to_value(),
                created_at: &at,
                updated_at: &at,
            })
            .collect();
        // Most people are there already, unchanged: they are neither written nor locked, so two
        // sweeps naming the same class never wait for each other.
        return if update_role {
            let table = users_table(&["full_name", "updated_at", "role"]);
            table
                .add_or_change(conn, &rows, &["full_name", "role"])
                .await
        } else {
            let table = users_table(&["full_name", "updated_at"]);
            table.add_or_change(conn, &rows, &["full_name"]).await
        };
    }
    let mut update = vec![user::Column::FullName, user::Column::UpdatedAt];
    if update_role {
        update.push(user::Column::Role);
    }
    for chunk in users.chunks(INSERT_CHUNK) {
        user::Entity::insert_many(chunk.iter().map(|u| user_row(u, now)))
            .on_conflict(
                OnConflict::column(user::Column::SchoolNumber)
                    .update_columns(update.clone())
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}
