//! The ATTN schema. This crate is the only place where tables and indexes are defined.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_tables;
mod m20261122_000002_create_audit_events;
mod m20261122_000003_add_face_distance;
mod m20261202_000004_create_sweep_fences;
mod m20261202_000005_statuses_and_courses;
mod m20261202_000006_create_appeals;
mod m20261202_000007_create_class_lists;
mod m20261202_000008_add_class_hours;
mod m20261202_000009_receipts;
mod m20261202_000010_rechecks;
mod m20261203_000011_passkeys;

/// Every migration, in the order they are applied.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_tables::Migration),
            Box::new(m20261122_000002_create_audit_events::Migration),
            Box::new(m20261122_000003_add_face_distance::Migration),
            Box::new(m20261202_000004_create_sweep_fences::Migration),
            Box::new(m20261202_000005_statuses_and_courses::Migration),
            Box::new(m20261202_000006_create_appeals::Migration),
            Box::new(m20261202_000007_create_class_lists::Migration),
            Box::new(m20261202_000008_add_class_hours::Migration),
            Box::new(m20261202_000009_receipts::Migration),
            Box::new(m20261202_000010_rechecks::Migration),
            Box::new(m20261203_000011_passkeys::Migration),
        ]
    }
}
