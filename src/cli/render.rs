//! Printing plans and statuses: readable text (colored on a terminal, unless `NO_COLOR`) and
//! stable JSON for machines.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::IsTerminal;

use serde_json::{Value, json};

use super::objects::{Report, Reports, Visitor};
use sessionops_core::session_policy::sync::show;
use sessionops_core::status::{self, ConditionType, Reason};
use sessionops_core::tenant_object::kind::{SeamKind, SeamStatus};
use sessionops_core::tenant_object::{FieldChange, Plan};

/// Text from the tenant or a manifest made safe for a terminal: control characters (ANSI
/// escapes that would recolor or rewrite the screen, newlines and carriage returns that would
/// fake a line) and the bidirectional overrides that reorder what is shown are printed
/// escaped (`\u{1b}`), so that a display name can never pass for sessionops' own output.
pub fn printable(text: &str) -> Cow<'_, str> {
    let hostile = |c: char| {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(hostile) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if hostile(c) {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// Counts for the summary line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Objects to create (or restore).
    pub create: usize,
    /// Objects to update.
    pub update: usize,
    /// Objects to delete.
    pub delete: usize,
    /// Objects in sync.
    pub unchanged: usize,
    /// Objects that wait for another object of the plan to be created (applied right after).
    pub waiting: usize,
    /// Objects that could not be planned.
    pub errors: usize,
}

impl Summary {
    /// Tallies the reports of one kind.
    pub fn of<K: SeamKind>(reports: &[Report<K>]) -> Summary {
        let mut summary = Summary::default();
        summary.add(reports);
        summary
    }

    /// Tallies the reports of every kind.
    pub fn of_all(reports: &Reports) -> Summary {
        let mut summary = Summary::default();
        reports.visit(&mut summary);
        summary
    }

    /// Adds the reports of one kind.
    pub fn add<K: SeamKind>(&mut self, reports: &[Report<K>]) {
        for report in reports {
            match &report.plan {
                Ok(Plan::Create { .. } | Plan::Restore { .. }) => self.create += 1,
                Ok(Plan::Update { .. }) => self.update += 1,
                Ok(Plan::NoOp { .. }) => self.unchanged += 1,
                Err(failure) if failure.reason() == Reason::WaitingForDependency => {
                    self.waiting += 1;
                }
                Err(_) => self.errors += 1,
            }
        }
    }

    /// Whether applying would write.
    pub fn has_changes(&self) -> bool {
        self.create + self.update + self.delete + self.waiting > 0
    }

    /// `N to create, N to update, N to delete, N unchanged`.
    pub fn line(&self) -> String {
        let mut line = format!(
            "{} to create, {} to update, {} to delete, {} unchanged",
            self.create, self.update, self.delete, self.unchanged
        );
        if self.waiting > 0 {
            line.push_str(&format!(
                ", {} to apply after what they name is created",
                self.waiting
            ));
        }
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

impl Visitor for Summary {
    fn visit<K: SeamKind>(&mut self, reports: &[Report<K>]) {
        self.add(reports);
    }
}

/// The plan of every kind as text, dependencies first.
pub fn plan_text_all(reports: &Reports) -> String {
    struct Plans(String);
    impl Visitor for Plans {
        fn visit<K: SeamKind>(&mut self, reports: &[Report<K>]) {
            self.0 += &plan_text(reports);
        }
    }
    let mut text = Plans(String::new());
    reports.visit(&mut text);
    text.0
}

/// The plan of one kind as text.
pub fn plan_text<K: SeamKind>(reports: &[Report<K>]) -> String {
    let style = Style::detect();
    let noun = K::NOUN;
    let mut out = String::new();
    for report in reports {
        let header = format!(
            "{} {}  \"{}\"",
            K::KIND,
            report.key,
            printable(&report.display_name)
        );
        match &report.plan {
            Ok(Plan::Create { body, version }) => {
                out.push_str(&format!("{} {header}\n", style.paint("32", "+")));
                out.push_str(&format!(
                    "    create a {noun} (Graph {})\n",
                    version.as_str()
                ));
                // What the policy sets: the body sent also names every unset property
                // (`null`, `[]`) so that nothing is left to Graph's defaults.
                for line in serde_json::to_string_pretty(&set_properties(body))
                    .unwrap_or_default()
                    .lines()
                {
                    out.push_str(&format!("      {}\n", style.paint("32", &printable(line))));
                }
            }
            Ok(Plan::Update {
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
                    "    update {noun} {id} (Graph {}{adopted}): {} field(s)\n",
                    version.as_str(),
                    changes.len()
                ));
                push_changes(&mut out, &style, changes, &report.names);
            }
            Ok(Plan::Restore {
                id,
                changes,
                version,
                ..
            }) => {
                out.push_str(&format!("{} {header}\n", style.paint("32", "+")));
                out.push_str(&format!(
                    "    restore {noun} {id} from deleted items (Graph {})\n",
                    version.as_str()
                ));
                push_changes(&mut out, &style, changes, &report.names);
            }
            Ok(Plan::NoOp { id, .. }) => {
                out.push_str(&format!(
                    "{} {header}\n    in sync: {noun} {id}\n",
                    style.paint("2", "=")
                ));
            }
            Err(failure) if failure.reason() == Reason::WaitingForDependency => {
                out.push_str(&format!(
                    "{} {header}\n    {}; applied right after\n",
                    style.paint("32", "+"),
                    printable(&failure.to_string()),
                ));
            }
            Err(failure) => {
                out.push_str(&format!(
                    "{} {header}\n    {}: {}\n",
                    style.paint("31", "!"),
                    style.paint("31", failure.reason().as_str()),
                    printable(&failure.to_string())
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
            style.paint("31", &printable(&named(&change.tenant, names))),
            "->",
            style.paint("32", &printable(&named(&change.desired, names)))
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

/// The plan (and statuses, after apply) of every kind as JSON, dependencies first.
pub fn reports_json(reports: &Reports) -> Value {
    struct Objects(Vec<Value>);
    impl Visitor for Objects {
        fn visit<K: SeamKind>(&mut self, reports: &[Report<K>]) {
            self.0.extend(objects_json(reports));
        }
    }
    let mut objects = Objects(Vec::new());
    reports.visit(&mut objects);
    let objects = objects.0;
    let summary = Summary::of_all(reports);
    json!({
        "objects": objects,
        "summary": {"create": summary.create, "update": summary.update, "delete": summary.delete, "unchanged": summary.unchanged, "waiting": summary.waiting, "errors": summary.errors},
    })
}

fn objects_json<K: SeamKind>(reports: &[Report<K>]) -> Vec<Value> {
    reports
        .iter()
        .map(|report| {
            let mut object =
                json!({"kind": K::KIND, "name": report.key, "displayName": report.display_name});
            match &report.plan {
                Ok(plan) => {
                    let (action, id, changes, version) = match plan {
                        Plan::Create { version, .. } => ("create", None, &[][..], Some(*version)),
                        Plan::Update {
                            id,
                            changes,
                            version,
                            ..
                        } => ("update", Some(id), &changes[..], Some(*version)),
                        Plan::Restore {
                            id,
                            changes,
                            version,
                            ..
                        } => ("restore", Some(id), &changes[..], Some(*version)),
                        Plan::NoOp { id, .. } => ("none", Some(id), &[][..], None),
                    };
                    object["action"] = json!(action);
                    object["id"] = json!(id);
                    if K::KIND == sessionops_api::Kind::SessionPolicy {
                        // The name of earlier releases, kept for scripts that read it.
                        object["policyId"] = json!(id);
                    }
                    object["graphVersion"] = json!(version.map(|v| v.as_str()));
                    object["changes"] = changes
                        .iter()
                        .map(
                            |c| json!({"field": c.field, "tenant": c.tenant, "desired": c.desired}),
                        )
                        .collect();
                    if let Plan::Create { body, .. } = plan {
                        object["body"] = body.clone();
                    }
                }
                Err(failure) => {
                    object["action"] = json!(if failure.reason() == Reason::WaitingForDependency {
                        "wait"
                    } else {
                        "error"
                    });
                    object["reason"] = json!(failure.reason());
                    object["message"] = json!(failure.to_string());
                }
            }
            if let Some(status) = &report.status {
                object["status"] = serde_json::to_value(status).unwrap_or_default();
            }
            object
        })
        .collect()
}

/// Statuses after apply of every kind, dependencies first.
pub fn status_text_all(reports: &Reports) -> String {
    struct Statuses(String);
    impl Visitor for Statuses {
        fn visit<K: SeamKind>(&mut self, reports: &[Report<K>]) {
            self.0 += &status_text(reports);
        }
    }
    let mut text = Statuses(String::new());
    reports.visit(&mut text);
    text.0
}

/// Statuses after apply, as `kubectl get` would show them.
pub fn status_text<K: SeamKind>(reports: &[Report<K>]) -> String {
    let style = Style::detect();
    let mut out = String::new();
    for report in reports {
        let Some(status) = &report.status else {
            continue;
        };
        let ready = status::get(status.conditions(), ConditionType::Ready);
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
            "{} {}  {painted}  {reason}  {} {}  {message}\n",
            K::KIND,
            report.key,
            K::NOUN,
            status.tenant_id().unwrap_or("-"),
            message = printable(message),
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

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn tenant_text_cannot_recolor_or_fake_lines() {
        assert_eq!(printable("Require MFA – Zürich"), "Require MFA – Zürich");
        assert_eq!(
            printable("ok\u{1b}[32m\n= policy in sync\r"),
            "ok\\u{1b}[32m\\u{a}= policy in sync\\u{d}"
        );
        assert_eq!(printable("abc\u{202e}fed"), "abc\\u{202e}fed");
    }
}
