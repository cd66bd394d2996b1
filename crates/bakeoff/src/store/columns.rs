//! The model's open kinds in SQLite: a workload or a language is a TEXT column
//! holding its name, read back leniently so a name this bakeoff does not know
//! (a custom workload, a store from another version) survives the trip.

use rusqlite::types::{FromSql, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

use crate::model::Language;
use crate::workload::Workload;

impl ToSql for Workload {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.name()))
    }
}

impl FromSql for Workload {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Workload> {
        value.as_str().map(Workload::from_name)
    }
}

impl ToSql for Language {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.name()))
    }
}

impl FromSql for Language {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Language> {
        value.as_str().map(Language::from_name)
    }
}
