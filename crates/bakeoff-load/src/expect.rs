//! What a request class expects of its responses: a status among a list, and
//! optionally a body that contains a string or whose JSON has a value at a
//! pointer. A response that misses is an error of kind `expectation`, and the
//! first few are quoted in the report.
//!
//! Only a class with a body check keeps its bodies (up to [`MAX_BODY`]); every
//! other response's body is skipped as before.

/// The most body bytes kept for a check; a longer body is checked on its start.
pub const MAX_BODY: usize = 1 << 20;
/// Examples of missed expectations kept per run.
pub const EXAMPLES: usize = 3;
/// Body bytes quoted per example.
const QUOTE: usize = 160;

/// A class's expectation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expect {
    /// Accepted statuses; empty: any 2xx.
    pub status: Vec<u16>,
    /// The body contains this text.
    pub body_contains: Option<String>,
    /// The body is JSON with this value at this pointer (RFC 6901).
    pub json: Option<(String, serde_json::Value)>,
}

impl Expect {
    /// Whether `status` is a success for this class.
    pub fn accepts(&self, status: u16) -> bool {
        if self.status.is_empty() {
            (200..300).contains(&status)
        } else {
            self.status.contains(&status)
        }
    }

    /// Whether the check needs the body.
    pub fn reads_body(&self) -> bool {
        self.body_contains.is_some() || self.json.is_some()
    }

    /// Why the response misses, if it does.
    pub fn check(&self, status: u16, body: &[u8]) -> Result<(), String> {
        if !self.accepts(status) {
            return Err(if self.status.is_empty() {
                format!("status {status}, expected a 2xx")
            } else {
                format!("status {status}, expected one of {:?}", self.status)
            });
        }
        if let Some(needle) = &self.body_contains {
            if !contains(body, needle.as_bytes()) {
                return Err(format!("the body does not contain {needle:?}"));
            }
        }
        if let Some((pointer, want)) = &self.json {
            let doc: serde_json::Value =
                serde_json::from_slice(body).map_err(|e| format!("the body is not JSON ({e})"))?;
            match doc.pointer(pointer) {
                Some(got) if got == want => {}
                Some(got) => return Err(format!("JSON {pointer} is {got}, expected {want}")),
                None => return Err(format!("JSON {pointer} is missing, expected {want}")),
            }
        }
        Ok(())
    }
}

/// One quoted miss: `class`, why, and the start of the body.
pub(crate) fn example(class: &str, why: &str, body: &[u8]) -> String {
    let end = body.len().min(QUOTE);
    let mut quoted = String::from_utf8_lossy(&body[..end]).into_owned();
    if body.len() > QUOTE {
        quoted.push('…');
    }
    if quoted.is_empty() {
        format!("{class}: {why}")
    } else {
        format!("{class}: {why}; body: {quoted:?}")
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_bodies_and_pointers_are_checked() {
        let any_2xx = Expect::default();
        assert!(any_2xx.check(204, b"").is_ok());
        assert!(any_2xx
            .check(404, b"")
            .unwrap_err()
            .contains("expected a 2xx"));
        assert!(!any_2xx.reads_body());

        let created = Expect {
            status: vec![201, 409],
            ..Expect::default()
        };
        assert!(created.check(409, b"").is_ok());
        assert!(created.check(200, b"").unwrap_err().contains("[201, 409]"));

        let token = Expect {
            body_contains: Some("token".into()),
            json: Some(("/user/id".into(), serde_json::json!(7))),
            ..Expect::default()
        };
        assert!(token.reads_body());
        assert!(token
            .check(200, br#"{"token":"x","user":{"id":7}}"#)
            .is_ok());
        assert!(token
            .check(200, br#"{"user":{"id":7}}"#)
            .unwrap_err()
            .contains("does not contain \"token\""));
        assert!(token
            .check(200, br#"{"token":1,"user":{"id":8}}"#)
            .unwrap_err()
            .contains("/user/id is 8, expected 7"));
        assert!(token
            .check(200, br#"{"token":1}"#)
            .unwrap_err()
            .contains("missing"));
        assert!(token
            .check(200, b"token, but not JSON")
            .unwrap_err()
            .contains("not JSON"));
    }

    #[test]
    fn examples_quote_the_start_of_the_body() {
        let long = vec![b'a'; 500];
        let e = example("login", "status 500", &long);
        assert!(e.starts_with("login: status 500; body: \"aaa"), "{e}");
        assert!(e.ends_with("…\""), "{e}");
        assert_eq!(example("x", "why", b""), "x: why");
    }
}
