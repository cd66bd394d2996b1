//! Runtime version lines (`node --version`, `python --version`) read as numbers
//! and as the text bakeoff records.

/// The first `major.minor` in a version line: "v20.20.2" -> (20, 20), "Python 3.11.7" -> (3, 11).
pub fn parse_version(s: &str) -> Option<(u32, u32)> {
    s.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .find_map(|tok| {
            let mut parts = tok.split('.');
            let major = parts.next()?.parse().ok()?;
            let minor = parts.next()?.parse().ok()?;
            Some((major, minor))
        })
}

/// "Python 3.11.7" -> "3.11.7"; "v20.20.2" stays (node's own spelling).
pub fn clean_version(s: &str) -> String {
    s.trim()
        .strip_prefix("Python ")
        .unwrap_or(s.trim())
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("v20.20.2"), Some((20, 20)));
        assert_eq!(parse_version("Python 3.11.7"), Some((3, 11)));
        assert_eq!(parse_version("v18.1.0"), Some((18, 1)));
        assert_eq!(parse_version("nothing"), None);
        assert_eq!(clean_version("Python 3.11.7\n"), "3.11.7");
        assert_eq!(clean_version("v20.20.2"), "v20.20.2");
    }
}
