//! Printing plans and statuses: readable text (colored on a terminal, unless `NO_COLOR`) and
//! stable JSON for machines.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use serde_json::{Value, json};

use super::policies::PolicyReport;
use sessionops_core::session_policy::plan::{FieldChange, PolicyPlan};
use sessionops_core::session_policy::sync::show;
use sessionops_core::status::{self, ConditionType};

/// Counts for the summary line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Policies to create (or restore).
    pub create: usize,
    /// Policies to update.
    pub update: usize,
    /// Policies to delete.
    pub delete: usize,
    /// Policies in sync.
    pub unchanged: usize,
    /// Objects that could not be planned.
    pub errors: usize,
}

impl Summary {
    /// Tallies reports.
    pub fn of(reports: &[PolicyReport]) -> Summary {
        let mut summary = Summary::default();
        for report in reports {
            match &report.plan {
                Ok(PolicyPlan::Create { .. } | PolicyPlan::Restore { .. }) => summary.create += 1,
                Ok(PolicyPlan::Update { .. }) => summary.update += 1,
                Ok(PolicyPlan::NoOp { .. }) => summary.unchanged += 1,
                Err(_) => summary.errors += 1,
            }
        }
        summary
    }

    /// Whether applying would write.
    pub fn has_changes(&self) -> bool {
        self.create + self.update + self.delete > 0
    }

    /// `N to create, N to update, N to delete, N unchanged`.
    pub fn line(&self) -> String {
        let mut line = format!(
            "{} to create, {} to update, {} to delete, {} unchanged",
            self.create, self.update, self.delete, self.unchanged
        );
        if self.errors > 0 {
            line.push_str(&format!(", {} with errors", self.errors));
        }
        line
    }
}

struct Style {
    color: bool,
}

impl Style {
    fn detect() -> Style {
        Style {
            color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// The plan as text.
pub fn plan_text(reports: &[PolicyReport]) -> String {
    let style = Style::detect();
    let mut out = String::new();
    for report in reports {
        let header = format!("SessionPolicy {}  \"{}\"", report.key, report.display_name);
        match &report.plan {
            Ok(PolicyPlan::Create { body, version }) => {
                out.push_str(&format!("{} {header}\n", style.paint("32", "+")));
                out.push_str(&format!(
                    "    create a Conditional Access policy (Graph {})\n",
                    version.as_str()
                ));
                // What the policy sets: the body sent also names every unset property
                // (`null`, `[]`) so that nothing is left to Graph's defaults.
                for line in serde_json::to_string_pretty(&set_properties(body))
                    .unwrap_or_default()
                    .lines()
                {
                    out.push_str(&format!("      {}\n", style.paint("32", line)));
                }
            }
            Ok(PolicyPlan::Update {
                id,
                changes,
                version,
                adopted,
                ..
            }) => {
                out.push_str(&format!("{} {header}\n", style.paint("33", "~")));
                let adopted = if *adopted {
                    ", adopted by displayName"
                } else {
                    ""
                };
                out.push_str(&format!(
                    "    update policy {id} (Graph {}{adopted}): {} field(s)\n",
                    version.as_str(),
                    changes.len()
                ));
                push_changes(&mut out, &style, changes, &report.names);
            }
            Ok(PolicyPlan::Restore {
                id,
                changes,
                version,
                ..
            }) => {
                out.push_str(&format!("{} {header}\n", style.paint("32", "+")));
                out.push_str(&format!(
                    "    restore policy {id} from deleted items (Graph {})\n",
                    version.as_str()
                ));
                push_changes(&mut out, &style, changes, &report.names);
            }
            Ok(PolicyPlan::NoOp { id, .. }) => {
                out.push_str(&format!(
                    "{} {header}\n    in sync: policy {id}\n",
                    style.paint("2", "=")
                ));
            }
            Err(failure) => {
                out.push_str(&format!(
                    "{} {header}\n    {}: {failure}\n",
                    style.paint("31", "!"),
                    style.paint("31", failure.reason().as_str())
                ));
            }
        }
    }
    out
}

fn push_changes(
    out: &mut String,
    style: &Style,
    changes: &[FieldChange],
    names: &BTreeMap<String, String>,
) {
    for change in changes {
        out.push_str(&format!(
            "      {}: {} {} {}\n",
            change.field,
            style.paint("31", &named(&change.tenant, names)),
            "->",
            style.paint("32", &named(&change.desired, names))
        ));
    }
}

/// A value with ids replaced by the names they were resolved from (`group:sg-kiosks`).
fn named(value: &Value, names: &BTreeMap<String, String>) -> String {
    let rename = |v: &Value| match v {
        Value::String(s) => names
            .get(&s.to_lowercase())
            .map_or_else(|| s.clone(), Clone::clone),
        other => show(other),
    };
    match value {
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(rename).collect::<Vec<_>>().join(", ")
        ),
        other => rename(other),
    }
}

/// The plan (and statuses, after apply) as JSON.
pub fn reports_json(reports: &[PolicyReport]) -> Value {
    let objects: Vec<Value> = reports
        .iter()
        .map(|report| {
            let mut object = json!({"kind": "SessionPolicy", "name": report.key, "displayName": report.display_name});
            match &report.plan {
                Ok(plan) => {
                    let (action, id, changes, version) = match plan {
                        PolicyPlan::Create { version, .. } => ("create", None, &[][..], Some(*version)),
                        PolicyPlan::Update { id, changes, version, .. } => ("update", Some(id), &changes[..], Some(*version)),
                        PolicyPlan::Restore { id, changes, version, .. } => ("restore", Some(id), &changes[..], Some(*version)),
                        PolicyPlan::NoOp { id, .. } => ("none", Some(id), &[][..], None),
                    };
                    object["action"] = json!(action);
                    object["policyId"] = json!(id);
                    object["graphVersion"] = json!(version.map(|v| v.as_str()));
                    object["changes"] = changes.iter().map(|c| json!({"field": c.field, "tenant": c.tenant, "desired": c.desired})).collect();
                    if let PolicyPlan::Create { body, .. } = plan {
                        object["body"] = body.clone();
                    }
                }
                Err(failure) => {
                    object["action"] = json!("error");
                    object["reason"] = json!(failure.reason());
                    object["message"] = json!(failure.to_string());
                }
            }
            if let Some(status) = &report.status {
                object["status"] = serde_json::to_value(status).unwrap_or_default();
            }
            object
        })
        .collect();
    let summary = Summary::of(reports);
    json!({
        "objects": objects,
        "summary": {"create": summary.create, "update": summary.update, "delete": summary.delete, "unchanged": summary.unchanged, "errors": summary.errors},
    })
}

/// Statuses after apply, as `kubectl get` would show them.
pub fn status_text(reports: &[PolicyReport]) -> String {
    let style = Style::detect();
    let mut out = String::new();
    for report in reports {
        let Some(status) = &report.status else {
            continue;
        };
        let ready = status::get(&status.conditions, ConditionType::Ready);
        let (state, reason, message) = ready.map_or(("Unknown", "", ""), |c| {
            (c.status.as_str(), c.reason.as_str(), c.message.as_str())
        });
        let painted = style.paint(
            if ready.is_some_and(status::holds) {
                "32"
            } else {
                "31"
            },
            &format!("Ready={state}"),
        );
        out.push_str(&format!(
            "SessionPolicy {}  {painted}  {reason}  policy {}  {message}\n",
            report.key,
            status.policy_id.as_deref().unwrap_or("-")
        ));
    }
    out
}

/// `body` without `null`s, empty lists and the objects left empty by removing them (an object
/// empty to begin with is a setting: `globalSecureAccess: {}`).
fn set_properties(body: &Value) -> Value {
    match body {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, value)| {
                    !(value.is_null() || value.as_array().is_some_and(Vec::is_empty))
                })
                .map(|(key, value)| (key, value, set_properties(value)))
                .filter(|(_, before, after)| {
                    before.as_object().is_some_and(serde_json::Map::is_empty)
                        || !after.as_object().is_some_and(serde_json::Map::is_empty)
                })
                .map(|(key, _, after)| (key.clone(), after))
                .collect(),
        ),
        other => other.clone(),
    }
}
