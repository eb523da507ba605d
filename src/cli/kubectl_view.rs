//! What `kubectl get` would print for objects with their status: the columns come from the
//! CRDs' `additionalPrinterColumns` (so this view and the cluster's cannot disagree), then each
//! object's conditions as `kubectl describe` lists them. Used by the demo to show the operator's
//! view of the objects it just reconciled.

use super::render::printable;
use serde_json::Value;
use sessionops_api::Kind;

/// A `kubectl get -A <plural>` table for `objects` (JSON of one kind), then their conditions.
pub fn table(kind: Kind, objects: &[Value]) -> String {
    let crd = (kind.info().crd)();
    let columns = crd.spec.versions[0]
        .additional_printer_columns
        .clone()
        .unwrap_or_default();
    let mut rows = vec![{
        let mut header = vec!["NAMESPACE".to_owned(), "NAME".to_owned()];
        header.extend(columns.iter().map(|c| c.name.to_uppercase()));
        header
    }];
    for object in objects {
        let mut row = vec![
            object["metadata"]["namespace"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
            object["metadata"]["name"].as_str().unwrap_or("").to_owned(),
        ];
        row.extend(columns.iter().map(|c| {
            let value = json_path(object, &c.json_path);
            match (value, c.type_.as_str()) {
                (None, "date") => "<unknown>".to_owned(),
                (None, _) => "".to_owned(),
                (Some(Value::String(s)), _) => printable(s).into_owned(),
                (Some(other), _) => other.to_string(),
            }
        }));
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut text = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        text.push_str(cells.join("   ").trim_end());
        text.push('\n');
    }
    for object in objects {
        text.push_str(&format!(
            "\n{}/{}:\n",
            object["metadata"]["namespace"].as_str().unwrap_or(""),
            object["metadata"]["name"].as_str().unwrap_or("")
        ));
        for condition in object["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
        {
            text.push_str(&format!(
                "  {}={}  {}: {}\n",
                condition["type"].as_str().unwrap_or(""),
                condition["status"].as_str().unwrap_or(""),
                condition["reason"].as_str().unwrap_or(""),
                printable(condition["message"].as_str().unwrap_or(""))
            ));
        }
    }
    text
}

/// The subset of JSONPath printer columns use: `.a.b` and `.a[?(@.k=="v")].b`.
fn json_path<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = object;
    let mut rest = path.strip_prefix('.')?;
    while !rest.is_empty() {
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        let (field, after) = rest.split_at(end);
        if !field.is_empty() {
            current = current.get(field)?;
        }
        rest = after;
        if let Some(filter) = rest.strip_prefix("[?(@.") {
            let close = filter.find(")]")?;
            let (key, wanted) = filter[..close].split_once("==")?;
            let wanted = wanted.trim_matches('"');
            current = current
                .as_array()?
                .iter()
                .find(|item| item[key].as_str() == Some(wanted))?;
            rest = &filter[close + 2..];
        }
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    (!current.is_null()).then_some(current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn columns_come_from_the_crd_printer_columns() {
        let policy = json!({
            "metadata": {"namespace": "identity", "name": "sign-in-every-12h"},
            "spec": {"state": "enabled"},
            "status": {"policyId": "7d1e", "conditions": [
                {"type": "Ready", "status": "True", "reason": "Synced", "message": "applied: created the policy"}
            ]}
        });
        let text = table(Kind::SessionPolicy, &[policy]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0].split_whitespace().collect::<Vec<_>>(),
            [
                "NAMESPACE",
                "NAME",
                "READY",
                "REASON",
                "STATE",
                "POLICY",
                "ID",
                "AGE"
            ]
        );
        assert_eq!(
            lines[1].split_whitespace().collect::<Vec<_>>(),
            [
                "identity",
                "sign-in-every-12h",
                "True",
                "Synced",
                "enabled",
                "7d1e",
                "<unknown>"
            ]
        );
        assert!(text.contains("  Ready=True  Synced: applied: created the policy"));
    }
}
