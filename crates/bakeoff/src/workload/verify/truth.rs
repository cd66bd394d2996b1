//! Where the verifier reads and changes the truth: the contender's SQLite
//! working copy, or, when the contender was started on PostgreSQL, the server
//! itself (through psql, as the `bakeoff` user). Same checks, either database.

use super::db::{self, World};
use super::VerifyContext;
use crate::database::Postgres;

/// Change every row's randomNumber (see [`db::rotate_world`]).
pub(super) async fn rotate_world(ctx: &VerifyContext<'_>) -> Result<(), String> {
    match ctx.postgres {
        Some(pg) => exec(
            pg,
            "UPDATE world SET randomnumber = randomnumber % 10000 + 1;",
            "change `world`",
        )
        .await
        .map(drop),
        None => db::rotate_world(&ctx.sqlite).await,
    }
}

/// All of `world`, id → randomNumber.
pub(super) async fn world(ctx: &VerifyContext<'_>) -> Result<World, String> {
    let Some(pg) = ctx.postgres else {
        return db::world(&ctx.sqlite).await;
    };
    let rows = pg
        .server
        .query("SELECT id, randomnumber FROM world;")
        .await
        .map_err(|e| format!("cannot read `world` from PostgreSQL: {e}"))?;
    rows.iter()
        .map(|r| match r.as_slice() {
            [id, n] => match (id.parse(), n.parse()) {
                (Ok(id), Ok(n)) => Ok((id, n)),
                _ => Err(format!("PostgreSQL returned a bad `world` row: {r:?}")),
            },
            _ => Err(format!("PostgreSQL returned a bad `world` row: {r:?}")),
        })
        .collect()
}

/// Set the message of fortune `id`.
pub(super) async fn set_fortune(
    ctx: &VerifyContext<'_>,
    id: i64,
    message: String,
) -> Result<(), String> {
    match ctx.postgres {
        Some(pg) => exec(
            pg,
            &format!(
                "UPDATE fortune SET message = {} WHERE id = {id};",
                quote(&message)
            ),
            "change `fortune`",
        )
        .await
        .map(drop),
        None => db::set_fortune(&ctx.sqlite, id, message).await,
    }
}

/// All of `fortune`.
pub(super) async fn fortunes(ctx: &VerifyContext<'_>) -> Result<Vec<(i64, String)>, String> {
    let Some(pg) = ctx.postgres else {
        return db::fortunes(&ctx.sqlite).await;
    };
    let rows = pg
        .server
        .query("SELECT id, message FROM fortune;")
        .await
        .map_err(|e| format!("cannot read `fortune` from PostgreSQL: {e}"))?;
    rows.into_iter()
        .map(|mut r| {
            let bad = || format!("PostgreSQL returned a bad `fortune` row: {r:?}");
            if r.len() != 2 {
                return Err(bad());
            }
            let id = r[0].parse().map_err(|_| bad())?;
            Ok((id, r.remove(1)))
        })
        .collect()
}

async fn exec(pg: &Postgres, sql: &str, what: &str) -> Result<String, String> {
    pg.server
        .psql(crate::database::DB_NAME, sql)
        .await
        .map_err(|e| format!("cannot {what} in PostgreSQL: {e}"))
}

/// A SQL string literal (standard_conforming_strings: only `'` is special).
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn quotes_are_doubled() {
        assert_eq!(super::quote("it's <&>"), "'it''s <&>'");
    }
}
