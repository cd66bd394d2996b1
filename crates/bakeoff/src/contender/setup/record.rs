//! What a finished install records: its footprint, the exact runtime and the
//! direct dependencies' versions ([`super::Stamp`]), and the disclosure line
//! that carries the runtime and key libraries into the run.

use std::path::Path;

use serde::Deserialize;

use super::installer::Installer;
use super::{version_of, SetupError, Stamp};
use crate::contender::version::{clean_version, parse_version};
use crate::contender::{footprint, Contender, SetupKind};

#[allow(clippy::too_many_arguments)]
pub(super) async fn measure(
    c: &Contender,
    install_dir: &Path,
    venv: &Path,
    lock: &[u8],
    package_json: &[u8],
    runtime_version: &str,
    key: String,
    install_secs: f64,
    run: &Installer<'_>,
) -> Result<Stamp, SetupError> {
    let m = &c.manifest;
    // A cached runtime's path is long: its file name and version say which it is.
    let runtime_name = Path::new(&m.runtime)
        .file_name()
        .map_or(m.runtime.clone(), |n| n.to_string_lossy().into_owned());
    let builtin = || format!("builtin ({runtime_name} {runtime_version})");
    let (runtime_version, framework_version, deps_direct, deps_total, install_bytes) =
        match m.setup.kind {
            SetupKind::Npm => {
                let nm = install_dir.join("node_modules");
                let (direct, total) = footprint::npm_deps(
                    &String::from_utf8_lossy(package_json),
                    &String::from_utf8_lossy(lock),
                );
                let fw = footprint::npm_version(&nm, &m.framework).unwrap_or_else(builtin);
                (
                    runtime_version.to_string(),
                    fw,
                    direct,
                    total,
                    footprint::dir_bytes(&nm),
                )
            }
            SetupKind::Pip => {
                let python = venv.join("bin/python");
                let names = footprint::requirement_names(&String::from_utf8_lossy(lock));
                let mut argv = vec![
                    python.display().to_string(),
                    "-c".into(),
                    footprint::PIP_PROBE.into(),
                    m.framework.clone(),
                ];
                argv.extend(names.iter().cloned());
                let out = run.output(&argv, &c.dir).await?;
                let probe: PipProbe = serde_json::from_slice(&out).unwrap_or_default();
                let direct = footprint::roots(&names, &probe.requires).len() as u32;
                let version = version_of(&python.display().to_string())
                    .await
                    .ok()
                    .and_then(|v| parse_version(&v).map(|_| clean_version(&v)))
                    .unwrap_or_else(|| runtime_version.to_string());
                let fw = probe.framework_version.unwrap_or_else(builtin);
                (
                    version,
                    fw,
                    direct,
                    names.len() as u32,
                    footprint::dir_bytes(venv),
                )
            }
            SetupKind::None => (runtime_version.to_string(), builtin(), 0, 0, 0),
        };
    Ok(Stamp {
        key,
        runtime_version,
        framework_version,
        deps_direct,
        deps_total,
        install_bytes,
        install_secs,
        runtime_detail: None,
        libraries: None,
    })
}

#[derive(Debug, Default, Deserialize)]
struct PipProbe {
    framework_version: Option<String>,
    #[serde(default)]
    requires: std::collections::BTreeMap<String, Vec<String>>,
    /// Installed version per requirement name.
    #[serde(default)]
    versions: std::collections::BTreeMap<String, String>,
    /// "CPython 3.11.7 (main, …) [GCC 12.2.0]".
    runtime: Option<String>,
}

/// The exact runtime (None: its `--version` says it all) and the direct
/// dependencies with their installed versions, for the run's record.
pub(super) async fn runtime_and_libraries(
    c: &Contender,
    install_dir: &Path,
    venv: &Path,
    lock: &[u8],
    package_json: &[u8],
    run: &Installer<'_>,
) -> (Option<String>, Vec<(String, String)>) {
    let m = &c.manifest;
    match m.setup.kind {
        SetupKind::Npm => {
            let pkg: serde_json::Value = serde_json::from_slice(package_json).unwrap_or_default();
            let nm = install_dir.join("node_modules");
            let libs = pkg["dependencies"]
                .as_object()
                .into_iter()
                .flat_map(|d| d.keys())
                .filter_map(|name| Some((name.clone(), footprint::npm_version(&nm, name)?)))
                .collect();
            (None, libs)
        }
        SetupKind::Pip => {
            let names = footprint::requirement_names(&String::from_utf8_lossy(lock));
            let mut argv = vec![
                venv.join("bin/python").display().to_string(),
                "-c".into(),
                footprint::PIP_PROBE.into(),
                m.framework.clone(),
            ];
            argv.extend(names.iter().cloned());
            let probe: PipProbe = match run.output(&argv, &c.dir).await {
                Ok(out) => serde_json::from_slice(&out).unwrap_or_default(),
                Err(_) => PipProbe::default(),
            };
            let libs = footprint::roots(&names, &probe.requires)
                .into_iter()
                .filter_map(|n| Some((n.clone(), probe.versions.get(&n)?.clone())))
                .collect();
            (probe.runtime, libs)
        }
        SetupKind::None => (None, Vec::new()),
    }
}

/// "runtime Node.js v22.23.5 (…/bin/node); key libraries: fastify 5.2.1, …".
pub(super) fn runtime_note(m: &crate::contender::Manifest, stamp: &Stamp) -> Option<String> {
    let detail = stamp.runtime_detail.as_deref()?;
    let shown = match m.language.as_str() {
        "node" => format!("Node.js {detail}"),
        _ => detail.to_string(),
    };
    let libs: Vec<String> = stamp
        .libraries
        .iter()
        .flatten()
        .map(|(n, v)| format!("{n} {v}"))
        .collect();
    Some(match libs.is_empty() {
        true => format!("runtime {shown} ({})", m.runtime),
        false => format!(
            "runtime {shown} ({}); key libraries: {}",
            m.runtime,
            libs.join(", ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runtime_note_names_the_runtime_and_key_libraries() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contenders/node-fastify");
        let c = Contender::load(&dir).unwrap();
        let mut stamp = Stamp {
            key: "k".into(),
            runtime_version: "v22.11.0".into(),
            framework_version: "5.2.1".into(),
            deps_direct: 2,
            deps_total: 40,
            install_bytes: 1,
            install_secs: 1.0,
            runtime_detail: None,
            libraries: None,
        };
        assert_eq!(
            runtime_note(&c.manifest, &stamp),
            None,
            "an older stamp says nothing"
        );
        stamp.runtime_detail = Some("v22.11.0".into());
        stamp.libraries = Some(vec![
            ("fastify".into(), "5.2.1".into()),
            ("better-sqlite3".into(), "11.8.1".into()),
        ]);
        assert_eq!(
            runtime_note(&c.manifest, &stamp).unwrap(),
            "runtime Node.js v22.11.0 (node); key libraries: fastify 5.2.1, better-sqlite3 11.8.1"
        );
    }
}
