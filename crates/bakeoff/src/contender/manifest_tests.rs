//! Unit tests of manifest validation: each rule, the messages, and a proptest that
//! no input panics and every rejection of well-formed TOML names a field.

use super::*;
use proptest::prelude::*;

const VALID: &str = r#"
name = "node-fastify"
language = "node"
runtime = "node"
framework = "fastify"
server = "node:cluster"
description = "Fastify 5 on node:cluster"

[setup]
kind = "npm"
lockfile = "package-lock.json"
commands = []

[start]
command = ["node", "server.js", "--port", "{port}"]
health_path = "/health"
start_timeout = "30s"
stop_grace = "5s"

[workers]
default = 1
max = 64

[endpoints]
supported = ["plaintext", "json", "db", "queries", "fortunes", "updates", "io", "cpu", "data"]

[endpoints.unsupported]
ws = "no broker"

[[disclosures]]
text = "something to disclose"
"#;

fn check(text: &str) -> Result<Manifest, ManifestError> {
    parse(Path::new("contenders/x/bakeoff.toml"), text)
}

fn err_of(text: &str) -> (String, String) {
    let e = check(text).expect_err("should be rejected");
    let field = e.field().unwrap_or("").to_string();
    (field, e.to_string())
}

#[test]
fn valid_manifest_parses() {
    let m = check(VALID).unwrap();
    assert_eq!(m.name, "node-fastify");
    assert_eq!(m.setup.kind, SetupKind::Npm);
    assert_eq!(m.start.start_timeout, Duration::from_secs(30));
    assert_eq!(
        m.workers,
        Workers {
            default: 1,
            max: 64
        }
    );
    assert_eq!(m.supported.len(), 9);
    assert_eq!(m.unsupported[&Endpoint::Ws], "no broker");
    assert_eq!(m.disclosures, vec!["something to disclose".to_string()]);
    assert!(m.keep_alive, "keep-alive is the default");
}

#[test]
fn keep_alive_is_an_optional_boolean() {
    let with = |line: &str| VALID.replacen("[setup]", &format!("{line}\n\n[setup]"), 1);
    assert!(!check(&with("keep_alive = false")).unwrap().keep_alive);
    assert!(check(&with("keep_alive = true")).unwrap().keep_alive);
    let (field, msg) = err_of(&with("keep_alive = \"no\""));
    assert_eq!(field, "keep_alive");
    assert!(
        msg.contains("true or false") && msg.contains("string"),
        "{msg}"
    );
    let (field, _) = err_of(&with("keepalive = false"));
    assert_eq!(field, "keepalive");
}

#[test]
fn error_names_file_field_and_fix() {
    let (field, msg) = err_of(&VALID.replace(
        r#"command = ["node", "server.js", "--port", "{port}"]"#,
        r#"command = "node server.js""#,
    ));
    assert_eq!(field, "start.command");
    assert!(
        msg.starts_with("contenders/x/bakeoff.toml: start.command: must be a list of non-empty strings, e.g. [\"node\", \"server.js\"]"),
        "{msg}"
    );
    let (field, msg) = err_of(&VALID.replace(
        r#"command = ["node", "server.js", "--port", "{port}"]"#,
        "command = []",
    ));
    assert_eq!(field, "start.command");
    assert!(msg.contains("non-empty list"), "{msg}");
}

#[test]
fn unknown_keys_are_rejected_with_their_path() {
    let (field, msg) = err_of(&VALID.replace(
        "stop_grace = \"5s\"",
        "stop_grace = \"5s\"\nhealthpath = \"/h\"",
    ));
    assert_eq!(field, "start.healthpath");
    assert!(msg.contains("allowed here: command, health_path"), "{msg}");
    let (field, _) = err_of(&format!("colour = \"red\"\n{VALID}"));
    assert_eq!(field, "colour");
}

#[test]
fn endpoint_rules() {
    let (field, msg) = err_of(&VALID.replace("\"plaintext\", \"json\"", "\"plaintext\", \"jsn\""));
    assert_eq!(field, "endpoints.supported");
    assert!(msg.contains("`jsn` is not a contract endpoint"), "{msg}");
    let (field, msg) = err_of(&VALID.replace("\"data\"]", "\"data\", \"ws\"]"));
    assert_eq!(field, "endpoints.unsupported.ws");
    assert!(msg.contains("either supported or not"), "{msg}");
    let (field, _) = err_of(&VALID.replace("ws = \"no broker\"", "ws = \"\""));
    assert_eq!(field, "endpoints.unsupported.ws");
    let (field, msg) = err_of(&VALID.replace("ws = \"no broker\"", ""));
    assert_eq!(field, "endpoints");
    assert!(
        msg.contains("`ws` is neither supported nor unsupported"),
        "{msg}"
    );
    let (field, msg) = err_of(&VALID.replace("\"plaintext\", \"json\"", "\"json\", \"json\""));
    assert_eq!(field, "endpoints.supported");
    assert!(msg.contains("twice"), "{msg}");
}

#[test]
fn durations_use_humantime_and_are_bounded() {
    let m = check(&VALID.replace("\"30s\"", "\"1m 30s\"")).unwrap();
    assert_eq!(m.start.start_timeout, Duration::from_secs(90));
    let (field, msg) = err_of(&VALID.replace("\"30s\"", "\"thirty\""));
    assert_eq!(field, "start.start_timeout");
    assert!(msg.contains("\"30s\""), "{msg}");
    let (field, _) = err_of(&VALID.replace("\"30s\"", "\"0s\""));
    assert_eq!(field, "start.start_timeout");
    let (field, _) = err_of(&VALID.replace("stop_grace = \"5s\"", "stop_grace = 5"));
    assert_eq!(field, "start.stop_grace");
}

#[test]
fn other_field_rules() {
    let cases = [
        ("name = \"node-fastify\"", "name = \"Node Fastify\"", "name"),
        ("name = \"node-fastify\"", "", "name"),
        ("runtime = \"node\"", "runtime = \"node 20\"", "runtime"),
        ("kind = \"npm\"", "kind = \"yarn\"", "setup.kind"),
        ("lockfile = \"package-lock.json\"", "", "setup.lockfile"),
        (
            "lockfile = \"package-lock.json\"",
            "lockfile = \"../x.json\"",
            "setup.lockfile",
        ),
        ("commands = []", "commands = [[]]", "setup.commands[0]"),
        (
            "commands = []",
            "commands = \"npm run build\"",
            "setup.commands",
        ),
        ("\"{port}\"]", "\"{host}\"]", "start.command"),
        (
            "health_path = \"/health\"",
            "health_path = \"health\"",
            "start.health_path",
        ),
        ("default = 1", "default = 0", "workers.default"),
        ("default = 1", "default = 65", "workers.default"),
        ("max = 64", "max = 1.5", "workers.max"),
        (
            "text = \"something to disclose\"",
            "txt = \"x\"",
            "disclosures[0].txt",
        ),
        ("[setup]", "[setupp]", "setupp"),
    ];
    for (from, to, field) in cases {
        let text = VALID.replacen(from, to, 1);
        assert_ne!(text, VALID, "case {from} did not apply");
        let (got, msg) = err_of(&text);
        assert_eq!(got, field, "{from} -> {to}: {msg}");
    }
    let (_, msg) = err_of("name = ");
    assert!(msg.contains("not valid TOML"), "{msg}");
}

#[test]
fn none_setup_needs_no_lockfile_and_python_placeholder_is_allowed() {
    let text = VALID
        .replace("kind = \"npm\"", "kind = \"none\"")
        .replace("lockfile = \"package-lock.json\"\n", "")
        .replace("\"node\", \"server.js\"", "\"{python}\", \"app.py\"");
    let m = check(&text).unwrap();
    assert_eq!(m.setup.kind, SetupKind::None);
    assert_eq!(m.setup.lockfile, None);
    assert_eq!(
        substitute("--bind=127.0.0.1:{port}", 8080, 2, "py"),
        "--bind=127.0.0.1:8080"
    );
    assert_eq!(
        substitute("{python}", 1, 2, "/v/bin/python"),
        "/v/bin/python"
    );
}

#[test]
fn load_checks_the_lockfile_exists() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bakeoff.toml");
    std::fs::write(&file, VALID).unwrap();
    let e = load(&file).unwrap_err();
    assert_eq!(e.field(), Some("setup.lockfile"));
    std::fs::write(dir.path().join("package-lock.json"), "{}").unwrap();
    load(&file).unwrap();
    let e = load(&dir.path().join("missing.toml")).unwrap_err();
    assert!(e.to_string().contains("cannot read"), "{e}");
}

const VARIANTS: &str = r#"
[[variants]]
name = "sync"
description = "gunicorn sync workers"
env = { WORKER_CLASS = "sync", THREADS = "1" }
command = ["{python}", "-m", "gunicorn", "--bind", "127.0.0.1:{port}", "app:app"]
keep_alive = false
disclosures = ["no keep-alive", "2N+1 workers"]

[[variants]]
name = "defaults"
description = "no trims"
"#;

#[test]
fn variants_parse_in_order_with_their_overrides() {
    let m = check(&format!("{VALID}{VARIANTS}")).unwrap();
    assert_eq!(m.variants.len(), 2);
    let sync = &m.variants[0];
    assert_eq!(sync.name, "sync");
    assert_eq!(sync.description, "gunicorn sync workers");
    assert_eq!(sync.env["WORKER_CLASS"], "sync");
    assert_eq!(sync.env["THREADS"], "1");
    assert_eq!(sync.command.as_ref().unwrap()[0], "{python}");
    assert_eq!(sync.keep_alive, Some(false));
    assert_eq!(sync.disclosures, vec!["no keep-alive", "2N+1 workers"]);
    let defaults = &m.variants[1];
    assert!(defaults.env.is_empty() && defaults.disclosures.is_empty());
    assert_eq!(
        (defaults.command.clone(), defaults.keep_alive),
        (None, None)
    );
    assert!(check(VALID).unwrap().variants.is_empty());
}

#[test]
fn variant_errors_name_the_field_and_the_fix() {
    let with = |from: &str, to: &str| {
        let v = VARIANTS.replacen(from, to, 1);
        assert_ne!(v, VARIANTS, "case {from} did not apply");
        err_of(&format!("{VALID}{v}"))
    };
    let cases = [
        (
            "keep_alive = false",
            "keepalive = false",
            "variants[0].keepalive",
            "allowed here: name, description, env",
        ),
        (
            "name = \"defaults\"",
            "name = \"sync\"",
            "variants[1].name",
            "already the name of another variant",
        ),
        (
            "name = \"sync\"",
            "name = \"Sync Workers\"",
            "variants[0].name",
            "a-z, 0-9 and '-'",
        ),
        (
            "name = \"sync\"",
            "name = \"a@b\"",
            "variants[0].name",
            "<contender>@<name>",
        ),
        (
            "description = \"no trims\"\n",
            "",
            "variants[1].description",
            "is required",
        ),
        (
            "WORKER_CLASS = \"sync\"",
            "WORKER-CLASS = \"sync\"",
            "variants[0].env.WORKER-CLASS",
            "not an environment variable name",
        ),
        (
            "WORKER_CLASS = \"sync\"",
            "WORKER_CLASS = 1",
            "variants[0].env.WORKER_CLASS",
            "must be a string",
        ),
        (
            "WORKER_CLASS = \"sync\"",
            "PORT = \"1\"",
            "variants[0].env.PORT",
            "set by bakeoff",
        ),
        (
            "WORKER_CLASS = \"sync\"",
            "BAKEOFF_DATA = \"x\"",
            "variants[0].env.BAKEOFF_DATA",
            "set by bakeoff",
        ),
        (
            "env = {",
            "env = [] #",
            "variants[0].env",
            "table of NAME = \"value\"",
        ),
        (
            "\"app:app\"]",
            "\"{host}\"]",
            "variants[0].command",
            "unknown placeholder `{host}`",
        ),
        (
            "keep_alive = false",
            "keep_alive = \"no\"",
            "variants[0].keep_alive",
            "true or false",
        ),
        (
            "\"2N+1 workers\"]",
            "\"\"]",
            "variants[0].disclosures",
            "non-empty strings",
        ),
    ];
    for (from, to, field, fix) in cases {
        let (got, msg) = with(from, to);
        assert_eq!(got, field, "{from} -> {to}: {msg}");
        assert!(msg.contains(fix), "{from} -> {to}: {msg}");
        assert!(msg.starts_with("contenders/x/bakeoff.toml: "), "{msg}");
    }
    let (field, _) = err_of(&format!("variants = \"sync\"\n{VALID}"));
    assert_eq!(field, "variants");
}

#[test]
fn an_at_sign_in_the_name_is_rejected_with_the_reason() {
    let (field, msg) = err_of(&VALID.replace("name = \"node-fastify\"", "name = \"node@fastify\""));
    assert_eq!(field, "name");
    assert!(
        msg.contains("must not contain '@'") && msg.contains("[[variants]]"),
        "{msg}"
    );
}

#[test]
fn lockfiles_per_python_minor_are_parsed_and_checked() {
    let pip = VALID
        .replace("kind = \"npm\"", "kind = \"pip\"")
        .replace("package-lock.json", "requirements.txt");
    let text = pip.replace(
        "commands = []",
        "commands = []\nlockfiles = { \"3.10\" = \"requirements-py310.txt\", \"3.13\" = \"req/py313.txt\" }",
    );
    let m = check(&text).unwrap();
    assert_eq!(
        m.setup.lockfiles["3.10"],
        PathBuf::from("requirements-py310.txt")
    );
    assert_eq!(m.setup.lockfiles["3.13"], PathBuf::from("req/py313.txt"));
    let bad = [
        (
            "\"3.10\" = \"requirements-py310.txt\"",
            "\"3\" = \"r.txt\"",
            "setup.lockfiles.\"3\"",
        ),
        (
            "\"3.10\" = \"requirements-py310.txt\"",
            "\"3.10\" = \"../r.txt\"",
            "setup.lockfiles.\"3.10\"",
        ),
        (
            "\"3.10\" = \"requirements-py310.txt\"",
            "\"3.10\" = 310",
            "setup.lockfiles.\"3.10\"",
        ),
    ];
    for (from, to, field) in bad {
        let (got, msg) = err_of(&text.replace(from, to));
        assert_eq!(got, field, "{to}: {msg}");
    }
    let npm = VALID.replace(
        "commands = []",
        "commands = []\nlockfiles = { \"3.10\" = \"r.txt\" }",
    );
    let (field, msg) = err_of(&npm);
    assert_eq!(field, "setup.lockfiles");
    assert!(msg.contains("only used with kind = \"pip\""), "{msg}");

    // load() checks that every listed file exists, naming the entry.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bakeoff.toml");
    std::fs::write(&file, &text).unwrap();
    std::fs::write(dir.path().join("requirements.txt"), "").unwrap();
    std::fs::write(dir.path().join("requirements-py310.txt"), "").unwrap();
    let e = load(&file).unwrap_err();
    assert_eq!(e.field(), Some("setup.lockfiles.\"3.13\""));
    assert!(
        e.to_string().contains("`req/py313.txt` does not exist"),
        "{e}"
    );
    std::fs::create_dir(dir.path().join("req")).unwrap();
    std::fs::write(dir.path().join("req/py313.txt"), "").unwrap();
    load(&file).unwrap();
}

#[test]
fn an_unknown_key_is_named_with_the_keys_allowed_in_its_table() {
    let cases = [
        (
            "[workers]\n",
            "[workers]\nmin = 1\n",
            "workers.min",
            "allowed here: default, max (check the spelling",
        ),
        (
            "kind = \"npm\"",
            "kind = \"npm\"\nlockfil = \"x\"",
            "setup.lockfil",
            "allowed here: kind, lockfile, lockfiles, commands",
        ),
        (
            "[endpoints.unsupported]",
            "[endpoints.unsuported]",
            "endpoints.unsuported",
            "allowed here: supported, unsupported",
        ),
    ];
    for (from, to, field, fix) in cases {
        let (got, msg) = err_of(&VALID.replacen(from, to, 1));
        assert_eq!(got, field, "{msg}");
        assert!(
            msg.starts_with(&format!("contenders/x/bakeoff.toml: {field}: unknown key;"))
                && msg.contains(fix),
            "{msg}"
        );
    }
}

#[test]
fn a_wrong_type_names_the_field_the_expected_type_and_what_was_found() {
    let cases = [
        (
            "name = \"node-fastify\"",
            "name = 7",
            "name",
            "must be a string, not an integer `7`",
        ),
        (
            "[workers]\ndefault = 1",
            "[workers]\ndefault = \"1\"",
            "workers.default",
            "must be an integer from 1 to 1024, not a string \"1\"",
        ),
        (
            "stop_grace = \"5s\"",
            "stop_grace = true",
            "start.stop_grace",
            "must be a duration string such as \"30s\" or \"500ms\", not a boolean `true`",
        ),
        (
            "\"server.js\", \"--port\"",
            "\"server.js\", 8080, \"--port\"",
            "start.command",
            "; item 3 is an integer",
        ),
        (
            "ws = \"no broker\"",
            "ws = false",
            "endpoints.unsupported.ws",
            "must be a non-empty string giving the reason",
        ),
    ];
    for (from, to, field, needle) in cases {
        let text = VALID.replacen(from, to, 1);
        assert_ne!(text, VALID, "case {from} did not apply");
        let (got, msg) = err_of(&text);
        assert_eq!(got, field, "{to}: {msg}");
        assert!(msg.contains(needle), "{to}: {msg}");
    }
    // Top-level keys in place of tables.
    let (got, msg) = err_of(&format!(
        "start = 3\n{}",
        VALID.replace("[start]", "[startt]")
    ));
    assert_eq!(got, "start", "{msg}");
    assert!(
        msg.ends_with("start: must be a table ([start]), not an integer `3`"),
        "{msg}"
    );
    let without = VALID.replace("[[disclosures]]\ntext = \"something to disclose\"", "");
    let (got, msg) = err_of(&format!("disclosures = \"x\"\n{without}"));
    assert_eq!(got, "disclosures", "{msg}");
    assert!(
        msg.contains("must be [[disclosures]] tables with text = \"...\", not a string \"x\""),
        "{msg}"
    );
}

#[test]
fn serde_messages_are_rephrased_in_the_manifests_words() {
    use super::raw::rephrase;
    assert_eq!(
        rephrase("unknown field `nme`, expected `name` or `env`", None),
        "unknown key; allowed here: name, env (check the spelling against docs/contract.md)"
    );
    assert_eq!(
        rephrase("unknown field `x`, there are no fields", None),
        "unknown key; allowed here: nothing (check the spelling against docs/contract.md)"
    );
    assert_eq!(
        rephrase(
            "invalid type: sequence, expected struct RawSetup",
            Some("setup")
        ),
        "must be a table ([setup]), not a list"
    );
    assert_eq!(
        rephrase("invalid type: map, expected a sequence", Some("databases")),
        "must be a list, not a table"
    );
    // Anything else is kept as serde or the field's own visitor said it.
    assert_eq!(
        rephrase("must be x; item 1 is y", None),
        "must be x; item 1 is y"
    );
}

/// Lines of VALID, each optionally replaced by a random fragment.
fn mutated() -> impl Strategy<Value = String> {
    let lines: Vec<String> = VALID.lines().map(str::to_string).collect();
    let n = lines.len();
    let fragment = prop_oneof![
        Just(String::new()),
        "[a-z_\\.]{1,12} = [0-9]{1,3}",
        "[a-z_]{1,10} = \"[ -~]{0,12}\"",
        "[a-z_]{1,10} = \\[\"[a-z{}]{0,6}\"\\]",
        "\\[[a-z\\.]{1,10}\\]",
        "[ -~]{0,30}",
        Just("workers = 3".to_string()),
        Just("start = \"x\"".to_string()),
        Just("[[disclosures]]".to_string()),
        Just("[[variants]]".to_string()),
        Just("env = { A = 1 }".to_string()),
    ];
    proptest::collection::vec((0..n, fragment), 0..4).prop_map(move |edits| {
        let mut out = lines.clone();
        for (i, frag) in edits {
            out[i] = frag;
        }
        out.join("\n")
    })
}

#[test]
fn databases_default_to_sqlite_and_are_validated() {
    use crate::database::Database;
    assert_eq!(check(VALID).unwrap().databases, [Database::Sqlite]);
    let with = |line: &str| format!("{line}\n{VALID}");
    let m = check(&with(r#"databases = ["sqlite", "postgres"]"#)).unwrap();
    assert_eq!(m.databases, [Database::Sqlite, Database::Postgres]);
    for (line, needle) in [
        (r#"databases = ["mysql"]"#, "`mysql` is not a database"),
        (r#"databases = []"#, "at least one"),
        (r#"databases = ["postgres", "postgres"]"#, "listed twice"),
        (r#"databases = "postgres""#, "list of non-empty strings"),
    ] {
        let (field, msg) = err_of(&with(line));
        assert_eq!(field, "databases", "{msg}");
        assert!(msg.contains(needle), "{line}: {msg}");
    }
}

proptest! {
    #[test]
    fn validation_never_panics_and_names_a_field(text in mutated()) {
        match check(&text) {
            Ok(_) | Err(ManifestError::Syntax { .. }) => {}
            Err(ManifestError::Invalid { field, message, .. }) => {
                prop_assert!(!field.is_empty());
                prop_assert!(!message.is_empty());
            }
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = check(&text);
    }
}
