//! Bulk writes on PostgreSQL: all rows of a write travel as one JSON array, unpacked by
//! `json_to_recordset` into one `INSERT ... SELECT` (`json`, not `jsonb`: the rows are read once,
//! and parsing them as `json` takes a third less time). A key left out of a row is NULL. One statement with one parameter, whatever
//! the number of rows: nothing for the server to parse and plan per row, and NULLs need no
//! special care (PostgreSQL's typed arrays, the other bulk path, cannot carry them through the
//! query builder). SQLite keeps the multi-row `VALUES` statements of the query builder.

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde::Serialize;

use crate::error::Result;

/// A table written in bulk: its name, its columns with their PostgreSQL types, the key of its
/// rows (the conflict target) and what an existing row takes from the new one.
pub(super) struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, &'static str)],
    pub key: &'static [&'static str],
    pub update: &'static [&'static str],
}

/// The rows of a bulk statement, typed: `json_to_recordset($1::json) AS r(name type, ...)`.
fn recordset(columns: &[(&str, &str)]) -> String {
    let typed: Vec<String> = columns
        .iter()
        .map(|(name, ty)| format!("{name} {ty}"))
        .collect();
    format!("json_to_recordset($1::json) AS r({})", typed.join(", "))
}

impl Table {
    /// The statement: `$1` is the JSON array of rows, each an object keyed by column name.
    fn upsert_sql(&self) -> String {
        let names: Vec<&str> = self.columns.iter().map(|(name, _)| *name).collect();
        let on_conflict = if self.update.is_empty() {
            "DO NOTHING".to_owned()
        } else {
            let set: Vec<String> = self
                .update
                .iter()
                .map(|c| format!("{c} = EXCLUDED.{c}"))
                .collect();
            format!("DO UPDATE SET {}", set.join(", "))
        };
        format!(
            "INSERT INTO {table} ({names}) SELECT {names} FROM {rows} \
             ON CONFLICT ({key}) {on_conflict}",
            table = self.name,
            names = names.join(", "),
            rows = recordset(self.columns),
            key = self.key.join(", "),
        )
    }

    /// The statement that gives existing rows the new values of `update` where one of `compared`
    /// differs: rows that would not change are neither written nor locked.
    fn update_changed_sql(&self, compared: &[&str]) -> String {
        let set: Vec<String> = self.update.iter().map(|c| format!("{c} = r.{c}")).collect();
        let key: Vec<String> = self.key.iter().map(|k| format!("t.{k} = r.{k}")).collect();
        let before: Vec<String> = compared.iter().map(|c| format!("t.{c}")).collect();
        let after: Vec<String> = compared.iter().map(|c| format!("r.{c}")).collect();
        format!(
            "UPDATE {table} AS t SET {set} FROM {rows} WHERE {key} \
             AND ({before}) IS DISTINCT FROM ({after})",
            table = self.name,
            set = set.join(", "),
            rows = recordset(self.columns),
            key = key.join(" AND "),
            before = before.join(", "),
            after = after.join(", "),
        )
    }

    /// Adds `rows` or updates the existing ones, in one statement. PostgreSQL only.
    pub async fn upsert<T: Serialize>(
        &self,
        conn: &impl ConnectionTrait,
        rows: &[T],
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        run(conn, self.upsert_sql(), &json_of(rows)?).await
    }

    /// Adds the `rows` that are not there yet, and gives those that are the new values of
    /// `update` where one of `compared` differs, in two statements. Unlike [`Table::upsert`],
    /// rows that would not change are left alone, unlocked: transactions writing the same rows
    /// at once (sweeps of two lectures of one class) do not wait for each other. PostgreSQL
    /// only.
    pub async fn add_or_change<T: Serialize>(
        &self,
        conn: &impl ConnectionTrait,
        rows: &[T],
        compared: &[&str],
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let json = json_of(rows)?;
        let insert = Table {
            update: &[],
            ..*self
        };
        run(conn, insert.upsert_sql(), &json).await?;
        run(conn, self.update_changed_sql(compared), &json).await
    }
}

fn json_of<T: Serialize>(rows: &[T]) -> Result<String> {
    Ok(serde_json::to_string(rows)
        .map_err(|e| sea_orm::DbErr::Custom(format!("bulk rows as JSON: {e}")))?)
}

async fn run(conn: &impl ConnectionTrait, sql: String, json: &str) -> Result<()> {
    conn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        [json.to_owned().into()],
    ))
    .await?;
    Ok(())
}

/// Whether `conn` takes the bulk statements.
pub(super) fn available(conn: &impl ConnectionTrait) -> bool {
    conn.get_database_backend() == DbBackend::Postgres
}

/// A time as the database keeps it: to the microsecond, cut as the driver cuts a bound value,
/// so a bulk write stores what a row-by-row write would.
pub(super) fn micros(at: DateTime<Utc>) -> String {
    let cut = at.timestamp_micros();
    DateTime::from_timestamp_micros(cut)
        .unwrap_or(at)
        .to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statement_names_every_column_once_with_its_type() {
        let t = Table {
            name: "users",
            columns: &[("school_number", "text"), ("full_name", "text")],
            key: &["school_number"],
            update: &["full_name"],
        };
        assert_eq!(
            t.upsert_sql(),
            "INSERT INTO users (school_number, full_name) SELECT school_number, full_name \
             FROM json_to_recordset($1::json) AS r(school_number text, full_name text) \
             ON CONFLICT (school_number) DO UPDATE SET full_name = EXCLUDED.full_name"
        );
    }

    #[test]
    fn only_rows_that_change_are_updated() {
        let t = Table {
            name: "users",
            columns: &[
                ("school_number", "text"),
                ("full_name", "text"),
                ("updated_at", "timestamptz"),
            ],
            key: &["school_number"],
            update: &["full_name", "updated_at"],
        };
        assert_eq!(
            t.update_changed_sql(&["full_name"]),
            "UPDATE users AS t SET full_name = r.full_name, updated_at = r.updated_at \
             FROM json_to_recordset($1::json) AS r(school_number text, full_name text, \
             updated_at timestamptz) WHERE t.school_number = r.school_number \
             AND (t.full_name) IS DISTINCT FROM (r.full_name)"
        );
    }

    #[test]
    fn times_are_cut_to_the_microsecond_as_the_driver_binds_them() {
        let at = DateTime::from_timestamp(1_764_000_000, 123_456_789).unwrap();
        assert_eq!(micros(at), "2025-11-24T16:00:00.123456Z");
        let before_epoch = DateTime::from_timestamp(-1, 999_999_999).unwrap();
        assert_eq!(micros(before_epoch), "1969-12-31T23:59:59.999999Z");
    }
}
