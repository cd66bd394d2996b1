//! The `/data` check and bakeoff's own reference aggregation of the sales
//! dataset (csv crate, parsed once per file and cached): per region and
//! product, count, units, revenue and mean unit price, sorted by revenue
//! descending then product ascending.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde_json::Value;

use super::{Probe, VerifyContext};
use crate::workload::REGIONS;

/// Relative tolerance on floating-point results (docs/contract.md).
pub(super) const REL_TOLERANCE: f64 = 1e-6;

/// One product's aggregate within a region.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductAggregate {
    pub product: String,
    pub count: u64,
    pub units: u64,
    pub revenue: f64,
    pub mean_unit_price: f64,
}

/// region → products sorted by revenue descending (ties: product ascending).
pub type RegionAggregates = BTreeMap<String, Vec<ProductAggregate>>;

#[derive(Debug, serde::Deserialize)]
struct SaleRow {
    region: String,
    product: String,
    units: u64,
    unit_price: f64,
}

/// Aggregate a dataset CSV (`region,product,units,unit_price,day`).
fn aggregate(path: &Path) -> Result<RegionAggregates, String> {
    let mut reader = csv::Reader::from_path(path)
        .map_err(|e| format!("cannot read the dataset {}: {e}", path.display()))?;
    #[derive(Default)]
    struct Acc {
        count: u64,
        units: u64,
        revenue: f64,
        price_sum: f64,
    }
    let mut acc: HashMap<(String, String), Acc> = HashMap::new();
    for (i, row) in reader.deserialize::<SaleRow>().enumerate() {
        let row = row.map_err(|e| {
            format!(
                "dataset {} line {}: {e}; regenerate it with `bakeoff setup`",
                path.display(),
                i + 2
            )
        })?;
        let a = acc.entry((row.region, row.product)).or_default();
        a.count += 1;
        a.units += row.units;
        a.revenue += row.units as f64 * row.unit_price;
        a.price_sum += row.unit_price;
    }
    let mut out = RegionAggregates::new();
    for ((region, product), a) in acc {
        out.entry(region).or_default().push(ProductAggregate {
            product,
            count: a.count,
            units: a.units,
            revenue: a.revenue,
            mean_unit_price: a.price_sum / a.count as f64,
        });
    }
    for products in out.values_mut() {
        products.sort_by(|a, b| {
            b.revenue
                .total_cmp(&a.revenue)
                .then_with(|| a.product.cmp(&b.product))
        });
    }
    Ok(out)
}

type CacheKey = (PathBuf, Option<SystemTime>, u64);

/// The reference aggregation of `path`, parsed once and cached per file
/// (keyed by path, modification time and size, so a regenerated file is re-read).
pub fn reference_aggregation(path: &Path) -> Result<Arc<RegionAggregates>, String> {
    static CACHE: Mutex<Vec<(CacheKey, Arc<RegionAggregates>)>> = Mutex::new(Vec::new());
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("cannot read the dataset {}: {e}", path.display()))?;
    let key = (path.to_path_buf(), meta.modified().ok(), meta.len());
    let cache = |g: &mut Vec<(CacheKey, Arc<RegionAggregates>)>| {
        g.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone())
    };
    if let Some(hit) = cache(&mut CACHE.lock().unwrap_or_else(|e| e.into_inner())) {
        return Ok(hit);
    }
    let agg = Arc::new(aggregate(path)?);
    let mut g = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    g.retain(|(k, _)| k.0 != key.0);
    g.push((key, agg.clone()));
    Ok(agg)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= REL_TOLERANCE * a.abs().max(b.abs()).max(f64::MIN_POSITIVE)
}

/// Reasons why a `/data` body differs from the reference for `region`.
pub(super) fn compare(region: &str, want: &[ProductAggregate], got: &Value) -> Vec<String> {
    let mut reasons = Vec::new();
    let Some(obj) = got.as_object() else {
        return vec!["expected a JSON object {\"region\":…,\"products\":[…]}".into()];
    };
    if obj.get("region").and_then(Value::as_str) != Some(region) {
        reasons.push(format!(
            "expected \"region\":\"{region}\", got {}",
            obj.get("region")
                .map_or("nothing".into(), |v| v.to_string())
        ));
    }
    let Some(items) = obj.get("products").and_then(Value::as_array) else {
        reasons.push("expected a \"products\" array".into());
        return reasons;
    };
    let mut got_products = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match parse_product(item) {
            Ok(p) => got_products.push(p),
            Err(e) => reasons.push(format!(
                "products[{i}]: {e}, got {}",
                super::snippet(&item.to_string())
            )),
        }
    }
    if !reasons.is_empty() {
        return reasons;
    }
    if got_products.len() != want.len() {
        reasons.push(format!(
            "expected {} products, got {}",
            want.len(),
            got_products.len()
        ));
    }
    // Order by the contender's own numbers: revenue descending, ties by product.
    for (i, pair) in got_products.windows(2).enumerate() {
        let (a, b) = (&pair[0], &pair[1]);
        let tie = close(a.revenue, b.revenue);
        if (!tie && a.revenue < b.revenue) || (tie && a.product > b.product) {
            reasons.push(format!(
                "expected products sorted by revenue descending (ties by product), products[{i}] {} ({}) comes before products[{}] {} ({})",
                a.product, a.revenue, i + 1, b.product, b.revenue
            ));
            break;
        }
    }
    for w in want {
        let Some(g) = got_products.iter().find(|g| g.product == w.product) else {
            reasons.push(format!("expected product {}, it is missing", w.product));
            continue;
        };
        let mut field = |name: &str, ok: bool, want: String, got: String| {
            if !ok {
                reasons.push(format!("{}: expected {name} {want}, got {got}", w.product));
            }
        };
        field(
            "count",
            g.count == w.count,
            w.count.to_string(),
            g.count.to_string(),
        );
        field(
            "units",
            g.units == w.units,
            w.units.to_string(),
            g.units.to_string(),
        );
        field(
            "revenue",
            close(g.revenue, w.revenue),
            format!("{} (±1e-6 relative)", w.revenue),
            g.revenue.to_string(),
        );
        field(
            "mean_unit_price",
            close(g.mean_unit_price, w.mean_unit_price),
            format!("{} (±1e-6 relative)", w.mean_unit_price),
            g.mean_unit_price.to_string(),
        );
    }
    for g in &got_products {
        if !want.iter().any(|w| w.product == g.product) {
            reasons.push(format!("unexpected product {}", g.product));
        }
    }
    reasons
}

fn parse_product(v: &Value) -> Result<ProductAggregate, String> {
    const KEYS: [&str; 5] = ["product", "count", "units", "revenue", "mean_unit_price"];
    let obj = v.as_object().ok_or("expected an object")?;
    if let Some(extra) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!(
            "unexpected key `{extra}` (allowed: {})",
            KEYS.join(", ")
        ));
    }
    let int = |k: &str| {
        obj.get(k)
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("expected `{k}` as a non-negative JSON integer"))
    };
    let num = |k: &str| {
        obj.get(k)
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("expected `{k}` as a JSON number"))
    };
    Ok(ProductAggregate {
        product: obj
            .get("product")
            .and_then(Value::as_str)
            .ok_or("expected `product` as a string")?
            .to_string(),
        count: int("count")?,
        units: int("units")?,
        revenue: num("revenue")?,
        mean_unit_price: num("mean_unit_price")?,
    })
}

/// Differences quoted per region; the rest are counted.
const SHOWN_PER_REGION: usize = 4;

/// A region no dataset has, for the 404 check.
const UNKNOWN_REGION: &str = "atlantis";

pub(super) async fn check(p: &mut Probe<'_>, ctx: &VerifyContext<'_>) {
    let path = ctx.data.clone();
    let reference = match tokio::task::spawn_blocking(move || reference_aggregation(&path)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return p.reasons.push(format!("data: {e}")),
        Err(e) => {
            return p
                .reasons
                .push(format!("data: the reference aggregation failed: {e}"))
        }
    };
    let mut regions: Vec<&str> = REGIONS.to_vec();
    regions.extend(
        reference
            .keys()
            .map(String::as_str)
            .filter(|r| !REGIONS.contains(r)),
    );
    for region in regions {
        let encoded: String = url::form_urlencoded::byte_serialize(region.as_bytes()).collect();
        let url = format!("/data?region={encoded}");
        let Some(want) = reference.get(region) else {
            // A contract region the dataset lacks: the contender must say 404.
            not_found(p, &url).await;
            continue;
        };
        let Some((_, v)) = p.get_json(&url, 200).await else {
            continue;
        };
        let reasons = compare(region, want, &v);
        let more = reasons.len().saturating_sub(SHOWN_PER_REGION);
        for reason in reasons.into_iter().take(SHOWN_PER_REGION) {
            p.reasons.push(format!("GET {url}: {reason}"));
        }
        if more > 0 {
            p.reasons
                .push(format!("GET {url}: ... and {more} more differences"));
        }
    }
    not_found(p, &format!("/data?region={UNKNOWN_REGION}")).await;
    not_found(p, "/data").await;
}

/// An unknown or missing region: 404 with `{"error": "..."}`.
async fn not_found(p: &mut Probe<'_>, url: &str) {
    let Some((_, v)) = p.get_json(url, 404).await else {
        return;
    };
    if !v.get("error").is_some_and(Value::is_string) {
        p.fail(url, "a JSON object with an \"error\" string", v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::Write;

    fn write_csv(dir: &Path, body: &str) -> PathBuf {
        let path = dir.join("sales.csv");
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(b"region,product,units,unit_price,day\n")
            .unwrap();
        f.write_all(body.as_bytes()).unwrap();
        path
    }

    const SALES: &str = "europe,product-01,2,10.00,2025-01-01\n\
europe,product-02,1,50.00,2025-01-02\n\
europe,product-01,4,20.50,2025-02-01\n\
asia,product-01,1,1.00,2025-03-01\n\
europe,product-03,10,5.00,2025-03-02\n";

    #[test]
    fn aggregation_matches_hand_computed_values() {
        let dir = tempfile::tempdir().unwrap();
        let agg = reference_aggregation(&write_csv(dir.path(), SALES)).unwrap();
        let europe = &agg["europe"];
        // product-01: 2*10 + 4*20.5 = 102; product-02: 50; product-03: 50 (tie: by name).
        let names: Vec<_> = europe.iter().map(|p| p.product.as_str()).collect();
        assert_eq!(names, ["product-01", "product-02", "product-03"]);
        assert_eq!(
            europe[0],
            ProductAggregate {
                product: "product-01".into(),
                count: 2,
                units: 6,
                revenue: 102.0,
                mean_unit_price: 15.25,
            }
        );
        assert_eq!(agg["asia"].len(), 1);
        assert!(!agg.contains_key("oceania"));
    }

    #[test]
    fn bad_datasets_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let err = reference_aggregation(&write_csv(dir.path(), "europe,p,x,1.0,d\n")).unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        assert!(reference_aggregation(&dir.path().join("none.csv")).is_err());
    }

    #[test]
    fn comparison_tolerates_float_noise_but_not_errors() {
        let dir = tempfile::tempdir().unwrap();
        let agg = reference_aggregation(&write_csv(dir.path(), SALES)).unwrap();
        let want = &agg["europe"];
        let body = |rev1: f64, units1: u64| {
            json!({"region":"europe","products":[
                {"product":"product-01","count":2,"units":units1,"revenue":rev1,"mean_unit_price":15.25},
                {"product":"product-02","count":1,"units":1,"revenue":50.0,"mean_unit_price":50.0},
                {"product":"product-03","count":1,"units":10,"revenue":50.00000000001,"mean_unit_price":5.0},
            ]})
        };
        assert_eq!(
            compare("europe", want, &body(102.0000000001, 6)),
            Vec::<String>::new()
        );
        let r = compare("europe", want, &body(103.0, 6));
        assert!(r.iter().any(|m| m.contains("revenue")), "{r:?}");
        let r = compare("europe", want, &body(102.0, 7));
        assert!(r.iter().any(|m| m.contains("units")), "{r:?}");
        let r = compare("europe", want, &body(10.0, 6));
        assert!(r.iter().any(|m| m.contains("sorted")), "{r:?}");
        let r = compare("asia", want, &body(102.0, 6));
        assert!(r[0].contains("region"), "{r:?}");
        let r = compare(
            "europe",
            want,
            &json!({"region":"europe","products":[{"product":"product-01","count":2.0}]}),
        );
        assert!(r[0].contains("count"), "{r:?}");
    }
}
