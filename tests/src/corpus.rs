//! The fixture corpus: JSON files of cases (an input and the expected answer), run natively
//! and in wasm by the same code.
//!
//! A file holds one case or several sharing a base input:
//!
//! ```json
//! { "description": "...", "kind": "route", "input": {...}, "expect": {...} }
//! { "description": "...", "kind": "route", "base": {...},
//!   "cases": [ { "name": "...", "patch": {...}, "expect": {...} } ] }
//! ```
//!
//! A case's input is the base with its `patch` merged in (JSON merge patch, RFC 7386: objects
//! merge, anything else replaces, `null` removes). `expect` is matched as a subset: every key
//! it names must be in the answer with a matching value; arrays must have the same length and
//! match element by element.

use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Case {
    pub file: String,
    pub name: String,
    pub kind: String,
    pub input: Value,
    pub expect: Value,
}

/// JSON merge patch (RFC 7386).
pub fn merge(base: &Value, patch: &Value) -> Value {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            let mut out = b.clone();
            for (k, v) in p {
                if v.is_null() {
                    out.remove(k);
                } else {
                    let merged = merge(b.get(k).unwrap_or(&Value::Null), v);
                    out.insert(k.clone(), merged);
                }
            }
            Value::Object(out)
        }
        (_, Value::Object(p)) => {
            merge(&Value::Object(serde_json::Map::new()), &Value::Object(p.clone()))
        }
        (_, p) => p.clone(),
    }
}

/// Whether `actual` contains `expected` (see the module documentation); the error names the
/// first difference by its path.
pub fn subset(expected: &Value, actual: &Value, path: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let at = format!("{path}.{k}");
                match a.get(k) {
                    Some(av) => subset(ev, av, &at)?,
                    None if ev.is_null() => {}
                    None => return Err(format!("{at}: missing; expected {ev}")),
                }
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return Err(format!(
                    "{path}: expected {} items, got {}: {actual}",
                    e.len(),
                    a.len()
                ));
            }
            e.iter()
                .zip(a)
                .enumerate()
                .try_for_each(|(i, (ev, av))| subset(ev, av, &format!("{path}[{i}]")))
        }
        (e, a) if e == a => Ok(()),
        (e, a) => Err(format!("{path}: expected {e}, got {a}")),
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// The cases of one file.
pub fn load(file: &str, source: &str) -> Result<Vec<Case>, String> {
    let doc: Value = serde_json::from_str(source).map_err(|e| format!("{file}: {e}"))?;
    let kind = text(&doc, "kind");
    text(&doc, "description").ok_or_else(|| format!("{file}: a fixture needs a description"))?;
    if let Some(cases) = doc.get("cases").and_then(Value::as_array) {
        let base = doc.get("base").cloned().unwrap_or(Value::Object(serde_json::Map::new()));
        cases
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let name = text(c, "name").unwrap_or_else(|| format!("case {i}"));
                let input = match (c.get("input"), c.get("patch")) {
                    (Some(input), _) => input.clone(),
                    (None, Some(patch)) => merge(&base, patch),
                    (None, None) => base.clone(),
                };
                Ok(Case {
                    file: file.to_owned(),
                    name,
                    kind: text(c, "kind")
                        .or_else(|| kind.clone())
                        .ok_or_else(|| format!("{file}: case {i} has no kind"))?,
                    input,
                    expect: c
                        .get("expect")
                        .cloned()
                        .ok_or_else(|| format!("{file}: case {i} has no expect"))?,
                })
            })
            .collect()
    } else {
        Ok(vec![Case {
            file: file.to_owned(),
            name: "case".to_owned(),
            kind: kind.ok_or_else(|| format!("{file}: no kind"))?,
            input: doc.get("input").cloned().ok_or_else(|| format!("{file}: no input"))?,
            expect: doc.get("expect").cloned().ok_or_else(|| format!("{file}: no expect"))?,
        }])
    }
}

/// Runs every case of every file; returns how many ran and the failures.
pub fn check(files: &[(&str, &str)]) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut count = 0;
    for (file, source) in files {
        match load(file, source) {
            Err(e) => failures.push(e),
            Ok(cases) => {
                for case in cases {
                    count += 1;
                    let answer = crate::runner::run(&case.kind, &case.input);
                    if let Err(e) = subset(&case.expect, &answer, "answer") {
                        failures.push(format!(
                            "{} / {}: {e}\n  full answer: {answer}",
                            case.file, case.name
                        ));
                    }
                }
            }
        }
    }
    (count, failures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let base = json!({ "a": { "b": 1, "c": [1, 2] }, "d": 4 });
        let patch = json!({ "a": { "b": 2, "c": [3] }, "d": null, "e": { "f": 5 } });
        assert_eq!(merge(&base, &patch), json!({ "a": { "b": 2, "c": [3] }, "e": { "f": 5 } }));
    }

    #[test]
    fn subset_reports_the_first_difference() {
        let actual = json!({ "a": [{ "x": 1, "y": 2 }], "b": "z" });
        assert!(subset(&json!({ "a": [{ "x": 1 }] }), &actual, "r").is_ok());
        assert_eq!(
            subset(&json!({ "a": [{ "x": 2 }] }), &actual, "r").unwrap_err(),
            "r.a[0].x: expected 2, got 1"
        );
        assert!(
            subset(&json!({ "a": [] }), &actual, "r")
                .unwrap_err()
                .starts_with("r.a: expected 0 items")
        );
        assert!(subset(&json!({ "c": 1 }), &actual, "r").is_err());
        assert!(subset(&json!({ "c": null }), &actual, "r").is_ok());
    }
}
