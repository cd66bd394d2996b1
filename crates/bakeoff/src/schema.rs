//! The JSON Schemas bakeoff checks in under `docs/schema/`, generated from the
//! serde structs that write (or read) each document; a test keeps the files
//! current. `BAKEOFF_UPDATE_SCHEMAS=1 cargo test -p bakeoff --lib schema`
//! rewrites them.

/// Each checked-in schema: its file under `docs/schema/`, and its content.
pub fn all() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        ("load.json", crate::load_doc::schema()),
        ("capacity.json", crate::load_doc::capacity_schema()),
        ("scenario.json", crate::scenario::schema()),
        ("run.json", crate::report::run_schema()),
        ("machine.json", crate::report::survey::survey_schema()),
        ("compare.json", crate::report::compare::compare_schema()),
    ]
}

/// The text a schema file holds.
pub fn render(schema: &serde_json::Value) -> String {
    serde_json::to_string_pretty(schema).expect("a schema is plain JSON") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checked_in_schemas_are_current() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/schema");
        let update = std::env::var_os("BAKEOFF_UPDATE_SCHEMAS").is_some();
        let mut stale = Vec::new();
        for (file, schema) in all() {
            let path = format!("{dir}/{file}");
            let generated = render(&schema);
            if update {
                std::fs::write(&path, &generated).unwrap();
            } else if std::fs::read_to_string(&path).unwrap_or_default() != generated {
                stale.push(file);
            }
        }
        assert!(
            stale.is_empty(),
            "docs/schema/{stale:?} are stale: run `BAKEOFF_UPDATE_SCHEMAS=1 cargo test -p bakeoff --lib schema` and commit them"
        );
    }

    #[test]
    fn the_documented_scenario_example_fits_the_scenario_schema() {
        let doc = include_str!("../../../docs/scenarios.md");
        let start = doc
            .find("```toml\n")
            .expect("docs/scenarios.md has a TOML example")
            + 8;
        let end = start + doc[start..].find("```").unwrap();
        let example: toml::Value = toml::from_str(&doc[start..end]).unwrap();
        let example = serde_json::to_value(example).unwrap();
        let schema = crate::scenario::schema();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&example)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
        // Not a rubber stamp: a misspelt key fails it.
        let mut bad = example.clone();
        bad["request"][0]["wieght"] = 2.into();
        assert!(!validator.is_valid(&bad));
    }
}
