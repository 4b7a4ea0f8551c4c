//! The database port: one SeaORM connection to PostgreSQL (production) or SQLite (the embedded
//! default). The same queries run on both. Queries live in one file per capability (users,
//! sessions, records, courses, appeals, the audit log, the admin's review); soft-deleted rows are
//! hidden from every normal read by [`SoftDelete`] and listed only by the review queries.

mod appeals;
mod audit;
mod bulk;
mod courses;
pub mod entity;
mod keys;
mod passkeys;
mod records;
mod review;
mod sessions;
mod users;

use std::time::Duration;

use chrono::{DateTime, Utc};
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, EntityTrait,
    QueryFilter, Select, UpdateMany,
};

use crate::domain::Reason;
use crate::error::{Error, Result};
use entity::{attendance, attendance_record};

pub use appeals::{Appeal, Decision};
pub use courses::{CourseRow, CourseSettingsRow};
pub use records::RecordCounts;
pub use review::{AuditFilter, DeletedFilter};
pub use sessions::Finished;

/// A persisted attendance session.
pub type Attendance = attendance::Model;
/// A persisted record of one student in one session.
pub type AttendanceRecord = attendance_record::Model;
/// A row of the audit log.
pub type AuditEvent = entity::audit_event::Model;

/// Rows per INSERT statement. Far below the bind-parameter limits, and small on purpose: on
/// PostgreSQL a 300-row statement took 45 ms where three of 100 rows took 5 (docs/PERFORMANCE.md).
const INSERT_CHUNK: usize = 100;

/// One page of a longer list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// How many items all pages hold together.
    pub total: u64,
}

/// Handle to the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    conn: DatabaseConnection,
    /// The class lists of open live pages, kept a short while.
    class_lists: std::sync::Arc<records::ClassLists>,
}

impl Db {
    /// Connects to `url` (creating the SQLite file and its folder when needed).
    pub async fn connect(url: &str) -> Result<Self> {
        let sqlite = url.starts_with("sqlite:");
        if sqlite {
            ensure_sqlite_folder(url)?;
        }
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(if sqlite { 4 } else { 16 })
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(10))
            .sqlx_logging(false);
        let conn = Database::connect(options).await?;
        if sqlite {
            // WAL lets readers go on while the sweep writes; the setting stays with the file.
            conn.execute_unprepared("PRAGMA journal_mode=WAL").await?;
        }
        Ok(Self {
            conn,
            class_lists: Default::default(),
        })
    }

    /// Creates database `name` on the PostgreSQL server at `server_url` and returns its URL
    /// (for test and benchmark runs that each want a fresh database).
    pub async fn create_postgres_database(server_url: &str, name: &str) -> Result<String> {
        let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(Error::invalid(
                "database name",
                crate::error::Problem::Malformed,
            ));
        }
        let (base, _) = server_url.rsplit_once('/').ok_or(Error::Config {
            variable: "ATTN_DATABASE_URL",
            problem: "a PostgreSQL URL ends with /<database>".into(),
        })?;
        let admin = Database::connect(server_url).await?;
        let created = admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await;
        admin.close().await?;
        created?;
        Ok(format!("{base}/{name}"))
    }

    /// The underlying connection, for migrations and tests.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Applies every pending migration.
    #[tracing::instrument(skip(self))]
    pub async fn migrate(&self) -> Result<()> {
        Migrator::up(&self.conn, None).await?;
        Ok(())
    }

    /// How many write transactions are worth running at once: several on PostgreSQL, one on
    /// SQLite (it takes one writer at a time; more would only wait for the lock).
    pub fn writers_at_once(&self) -> usize {
        match self.conn.get_database_backend() {
            sea_orm::DbBackend::Postgres => 4,
            _ => 1,
        }
    }

    /// Closes every connection of this handle and its clones; later queries fail.
    pub async fn close(&self) {
        if let Err(error) = self.conn.clone().close().await {
            tracing::warn!(%error, "closing the database connections");
        }
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        self.conn.ping().await?;
        Ok(())
    }
}

/// A table whose rows are deleted softly: flagged, with who, when and why, and kept for the
/// admins. Every query of such a table goes through these, so no read forgets the flag.
trait SoftDelete: EntityTrait {
    /// The flag.
    fn is_deleted() -> Self::Column;
    /// The reason given.
    fn deletion_reason() -> Self::Column;
    /// When.
    fn deletion_time() -> Self::Column;
    /// By whom.
    fn deleted_by() -> Self::Column;

    /// Rows that are not deleted.
    fn find_kept() -> Select<Self> {
        Self::find().filter(Self::is_deleted().eq(false))
    }

    /// Rows that are deleted.
    fn find_deleted() -> Select<Self> {
        Self::find().filter(Self::is_deleted().eq(true))
    }

    /// Deletes the rows still kept among those the caller filters on, with the reason.
    fn mark_deleted(reason: &Reason, by: &str, at: DateTime<Utc>) -> UpdateMany<Self> {
        Self::update_many()
            .col_expr(Self::is_deleted(), true.into())
            .col_expr(Self::deletion_reason(), reason.as_str().into())
            .col_expr(Self::deletion_time(), at.into())
            .col_expr(Self::deleted_by(), by.into())
            .filter(Self::is_deleted().eq(false))
    }

    /// Brings back the deleted rows among those the caller filters on.
    fn mark_restored() -> UpdateMany<Self> {
        Self::update_many()
            .col_expr(Self::is_deleted(), false.into())
            .col_expr(Self::deletion_reason(), Option::<String>::None.into())
            .col_expr(Self::deletion_time(), Option::<DateTime<Utc>>::None.into())
            .col_expr(Self::deleted_by(), Option::<String>::None.into())
            .filter(Self::is_deleted().eq(true))
    }
}

impl SoftDelete for attendance::Entity {
    fn is_deleted() -> Self::Column {
        attendance::Column::IsDeleted
    }
    fn deletion_reason() -> Self::Column {
        attendance::Column::DeletionReason
    }
    fn deletion_time() -> Self::Column {
        attendance::Column::DeletionTime
    }
    fn deleted_by() -> Self::Column {
        attendance::Column::DeletedBy
    }
}

impl SoftDelete for attendance_record::Entity {
    fn is_deleted() -> Self::Column {
        attendance_record::Column::IsDeleted
    }
    fn deletion_reason() -> Self::Column {
        attendance_record::Column::DeletionReason
    }
    fn deletion_time() -> Self::Column {
        attendance_record::Column::DeletionTime
    }
    fn deleted_by() -> Self::Column {
        attendance_record::Column::DeletedBy
    }
}

fn ensure_sqlite_folder(url: &str) -> Result<()> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(dir) = std::path::Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|e| Error::Config {
            variable: "ATTN_DATABASE_URL",
            problem: format!("cannot create {}: {e}", dir.display()),
        })?;
    }
    Ok(())
}
