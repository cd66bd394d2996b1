//! The results store and the commands that read it (`runs`, `show`, `compare`).

mod cli;
mod db;
pub(crate) mod fixtures;
