//! A cell's value across trials ([`Estimate`]) and the kind of interval it
//! carries ([`Interval`]): the one place that says what a range or a
//! t-interval claims.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::text::text_enum;

/// A cell's value across trials, with an interval whose kind says what it is.
/// Serialized with one derived field more, `indicative` (a single trial), so a
/// JSON reader need not know the rule.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields, transform = with_indicative)]
pub struct Estimate {
    pub median: f64,
    pub mean: f64,
    /// Sample standard deviation (n − 1); 0 for one sample.
    pub sd: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Coefficient of variation of the samples.
    pub cv: f64,
    /// Number of samples (every trial that counts, a failed one as 0).
    pub n: u32,
    /// cv > 10%
    pub noisy: bool,
    /// What `ci_low..ci_high` is.
    pub interval: Interval,
}

impl Serialize for Estimate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Estimate", 10)?;
        st.serialize_field("median", &self.median)?;
        st.serialize_field("mean", &self.mean)?;
        st.serialize_field("sd", &self.sd)?;
        st.serialize_field("ci_low", &self.ci_low)?;
        st.serialize_field("ci_high", &self.ci_high)?;
        st.serialize_field("cv", &self.cv)?;
        st.serialize_field("n", &self.n)?;
        st.serialize_field("noisy", &self.noisy)?;
        st.serialize_field("interval", &self.interval)?;
        st.serialize_field("indicative", &self.is_single())?;
        st.end()
    }
}

/// The schema of [`Estimate`]'s one serialized field more.
fn with_indicative(schema: &mut schemars::Schema) {
    let indicative = schemars::json_schema!({
        "type": "boolean",
        "description": "A single trial (n < 2): any verdict on it is indicative only. Derived; ignored when read."
    });
    if let Some(p) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
        p.insert("indicative".into(), indicative.into());
    }
    if let Some(r) = schema.get_mut("required").and_then(|r| r.as_array_mut()) {
        r.push("indicative".into());
    }
}

impl Estimate {
    /// The headline value: the mean under a t-interval, the median otherwise.
    pub fn center(&self) -> f64 {
        match self.interval {
            Interval::TInterval95 => self.mean,
            Interval::Single | Interval::Range => self.median,
        }
    }

    /// One sample: the value is indicative, with no interval at all.
    pub fn is_single(&self) -> bool {
        self.n < 2
    }
}

/// The kind of interval an [`Estimate`] carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    /// One sample: `ci_low = ci_high = ` the value; indicative only.
    Single,
    /// 2 to 4 samples: `[min, max]` of the samples; no coverage is claimed.
    Range,
    /// 5 samples or more: mean ± t(0.975, n − 1) · sd / √n.
    TInterval95,
}

impl Interval {
    pub const ALL: [Interval; 3] = [Interval::Single, Interval::Range, Interval::TInterval95];

    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Single => "single",
            Interval::Range => "range",
            Interval::TInterval95 => "t_interval_95",
        }
    }
}
text_enum!(Interval, "interval");
