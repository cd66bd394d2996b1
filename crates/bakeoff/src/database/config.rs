//! The server's `postgresql.conf`, written whole by bakeoff at every start and
//! disclosed in docs/methodology.md. The tuning follows TechEmpower's
//! (toolset/databases/postgres/postgresql.conf): `synchronous_commit = off`,
//! generous memory, SSD costs; `max_connections` is sized to the run's pools
//! ([`super::max_connections`]) instead of TechEmpower's fixed 2000.

use std::path::Path;

/// The settings, in file order: (name, value, why). Values are PostgreSQL syntax.
pub fn settings(
    port: u16,
    max_connections: u32,
    socket_dir: Option<&Path>,
) -> Vec<(&'static str, String, &'static str)> {
    let quoted = |s: &str| format!("'{}'", s.replace('\'', "''"));
    vec![
        (
            "listen_addresses",
            quoted("127.0.0.1"),
            "loopback only, as every bakeoff server",
        ),
        ("port", port.to_string(), "a free port picked at start"),
        (
            "unix_socket_directories",
            quoted(
                &socket_dir
                    .map(|d| d.display().to_string())
                    .unwrap_or_default(),
            ),
            "the cluster directory (empty: its path is too long for a socket)",
        ),
        (
            "max_connections",
            max_connections.to_string(),
            "the run's largest workers × pool, plus bakeoff's own",
        ),
        ("ssl", "off".into(), "loopback; TechEmpower: off"),
        (
            "password_encryption",
            quoted("scram-sha-256"),
            "TCP logins check the password, as in production",
        ),
        ("shared_buffers", quoted("256MB"), "TechEmpower: 256MB"),
        ("work_mem", quoted("64MB"), "TechEmpower: 64MB"),
        (
            "maintenance_work_mem",
            quoted("512MB"),
            "TechEmpower: 512MB",
        ),
        (
            "effective_cache_size",
            quoted("8GB"),
            "TechEmpower: 8GB (a planner hint, allocates nothing)",
        ),
        ("random_page_cost", "2".into(), "TechEmpower: 2 (SSD)"),
        (
            "checkpoint_completion_target",
            "0.9".into(),
            "TechEmpower: 0.9",
        ),
        (
            "synchronous_commit",
            "off".into(),
            "TechEmpower: off (a commit does not wait for its WAL flush)",
        ),
        (
            "logging_collector",
            "off".into(),
            "the log goes to <cluster>/server.log",
        ),
        ("log_line_prefix", quoted("%m [%p] "), "time and pid"),
        (
            "log_min_messages",
            quoted("warning"),
            "errors such as too many clients are kept",
        ),
        (
            "timezone",
            quoted("UTC"),
            "no dependence on the host's zone",
        ),
    ]
}

/// The file's text.
pub fn render(port: u16, max_connections: u32, socket_dir: Option<&Path>) -> String {
    let mut out = String::from(
        "# Written by bakeoff at every start; edits are overwritten.\n\
         # Tuned as TechEmpower's toolset/databases/postgres/postgresql.conf.\n",
    );
    for (name, value, why) in settings(port, max_connections, socket_dir) {
        out.push_str(&format!("{name} = {value}\t# {why}\n"));
    }
    out
}

/// A one-line summary for the run's environment record.
pub fn summary(max_connections: u32) -> String {
    format!(
        "max_connections={max_connections}, synchronous_commit=off, shared_buffers=256MB, work_mem=64MB, effective_cache_size=8GB, random_page_cost=2 (TechEmpower's tuning)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_disclosed_tuning() {
        let text = render(5544, 120, Some(Path::new("/tmp/it's")));
        assert!(text.contains("port = 5544\t"), "{text}");
        assert!(text.contains("max_connections = 120\t"), "{text}");
        assert!(text.contains("synchronous_commit = off\t"), "{text}");
        assert!(text.contains("listen_addresses = '127.0.0.1'"), "{text}");
        // A quote in a path is doubled, not left to end the string.
        assert!(
            text.contains("unix_socket_directories = '/tmp/it''s'"),
            "{text}"
        );
        let no_socket = render(1, 100, None);
        assert!(no_socket.contains("unix_socket_directories = ''"));
    }
}
