//! Checks of the Helm chart without helm: a scanner of the Go-template actions in the chart's
//! templates (which `.Values` paths they read, under which conditions, and each template as
//! YAML with placeholders for its actions), and a validator for the subset of JSON Schema the
//! chart's `values.schema.json` uses.

use serde_json::Value;

/// Parses YAML text; `what` names it in the panic message.
pub fn yaml(text: &str, what: &str) -> Value {
    serde_saphyr::from_str::<Value>(text).unwrap_or_else(|e| panic!("{what}: not YAML: {e}"))
}

/// What a `.` means at some point of a template.
#[derive(Clone, Debug, PartialEq)]
enum Scope {
    /// The root context (`.Values`, `.Release`, ...).
    Root,
    /// A value under `.Values` (inside `{{ with .Values.x }}`).
    Values(Vec<String>),
    /// Something this scanner does not follow (a `range` element, a computed value).
    Unknown,
}

/// How a template refers to a `.Values` path.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RefKind {
    /// The value is read (printed, tested, ranged over, passed to toYaml ...).
    Use,
    /// The argument of a `with`: it only opens a scope; what is inside decides whether it is used.
    ScopeArg,
}

/// One reference to a `.Values` path.
#[derive(Clone, Debug)]
pub struct ValuesRef {
    /// The template file.
    pub file: String,
    /// Its 1-based line.
    pub line: usize,
    /// The path below `.Values`.
    pub path: Vec<String>,
    /// Read, or only opening a scope.
    pub kind: RefKind,
}

/// One action that shares its line with text: it becomes a placeholder in the YAML.
#[derive(Clone, Debug)]
pub struct Inline {
    /// The action's code (without delimiters and trim markers).
    pub code: String,
    /// The `.Values` path the action prints, when it is nothing but one reference
    /// (optionally piped to `quote`).
    pub value: Option<Vec<String>>,
}

/// One line of the template as YAML: actions replaced by `__tpl_<n>__`.
#[derive(Clone, Debug)]
pub struct Line {
    /// 1-based line number in the template.
    pub number: usize,
    /// The line as YAML.
    pub text: String,
    /// The enclosing control actions (`if ...`, `with ...`, `range ...`), outermost first.
    pub conditions: Vec<String>,
}

/// A template as this scanner sees it.
#[derive(Debug, Default)]
pub struct Scan {
    /// Every `.Values` reference.
    pub refs: Vec<ValuesRef>,
    /// The template as YAML lines.
    pub lines: Vec<Line>,
    /// The inline actions behind the placeholders.
    pub inlines: Vec<Inline>,
}

impl Scan {
    /// The template as YAML text, lines with only actions dropped.
    pub fn yaml_text(&self) -> String {
        self.lines
            .iter()
            .map(|line| format!("{}\n", line.text))
            .collect()
    }

    /// The template parsed as YAML (placeholders for actions); `what` names it in errors.
    pub fn yaml(&self, what: &str) -> Value {
        yaml(&self.yaml_text(), what)
    }

    /// The inline action behind a placeholder found in the YAML.
    pub fn inline(&self, placeholder: &str) -> &Inline {
        let index: usize = placeholder
            .strip_prefix("__tpl_")
            .and_then(|rest| rest.strip_suffix("__"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{placeholder:?} is not a template placeholder"));
        &self.inlines[index]
    }

    /// The line holding `needle`; exactly one must.
    pub fn line_with(&self, needle: &str) -> &Line {
        let lines: Vec<&Line> = self
            .lines
            .iter()
            .filter(|line| line.text.contains(needle))
            .collect();
        assert_eq!(lines.len(), 1, "lines holding {needle:?}: {lines:#?}");
        lines[0]
    }
}

/// An open `if`/`with`/`range`/`define`: its text (for conditions) and the scope around it.
struct Frame {
    text: String,
    outer: Scope,
}

/// A character of a Go-template identifier (and of a values.yaml key).
pub fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The code with string literals blanked (so `include "sessionops.labels"` holds no field).
fn without_strings(code: &str) -> String {
    let mut out = String::new();
    let mut chars = code.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push_str("\"\"");
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '`' => {
                out.push_str("\"\"");
                for c in chars.by_ref() {
                    if c == '`' {
                        break;
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// A field chain in code: `.a.b` (relative), `$.a.b` (absolute), or `.` alone.
#[derive(Debug, PartialEq)]
struct Chain {
    absolute: bool,
    fields: Vec<String>,
    /// Byte range in the code.
    span: (usize, usize),
}

fn chains(code: &str) -> Vec<Chain> {
    let chars: Vec<(usize, char)> = code.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        let previous = if i == 0 { ' ' } else { chars[i - 1].1 };
        if c == '$' {
            // `$.x` is absolute; `$var.x` is a variable, which this scanner does not follow.
            let mut j = i + 1;
            while j < chars.len() && is_ident(chars[j].1) {
                j += 1;
            }
            let variable = j > i + 1;
            let (fields, end) = fields_at(&chars, j);
            if !variable && j < chars.len() && chars[j].1 == '.' {
                out.push(Chain {
                    absolute: true,
                    fields,
                    span: (start, end_offset(code, &chars, end)),
                });
            }
            i = end.max(j).max(i + 1);
        } else if c == '.' && !is_ident(previous) && previous != ')' {
            let (fields, end) = fields_at(&chars, i);
            out.push(Chain {
                absolute: false,
                fields,
                span: (start, end_offset(code, &chars, end)),
            });
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

fn end_offset(code: &str, chars: &[(usize, char)], index: usize) -> usize {
    chars.get(index).map_or(code.len(), |(offset, _)| *offset)
}

/// Reads `.a.b.c` starting at a `.`; returns the fields and the index after them.
fn fields_at(chars: &[(usize, char)], mut i: usize) -> (Vec<String>, usize) {
    let mut fields = Vec::new();
    while i < chars.len() && chars[i].1 == '.' {
        let mut j = i + 1;
        let mut field = String::new();
        while j < chars.len() && is_ident(chars[j].1) {
            field.push(chars[j].1);
            j += 1;
        }
        if field.is_empty() {
            // A bare `.`.
            return (fields, j);
        }
        fields.push(field);
        i = j;
    }
    (fields, i)
}

/// What a chain refers to, seen from `scope`: a path under `.Values`, or None.
fn resolve(chain: &Chain, scope: &Scope) -> Option<Vec<String>> {
    let base = if chain.absolute { &Scope::Root } else { scope };
    match base {
        Scope::Root => match chain.fields.split_first() {
            Some((first, rest)) if first == "Values" => Some(rest.to_vec()),
            _ => None,
        },
        Scope::Values(path) => Some([path.clone(), chain.fields.clone()].concat()),
        Scope::Unknown => None,
    }
}

/// The scope a `with`/`range` argument opens: a `.Values` path when the argument is exactly one
/// field chain.
fn scope_of(argument: &str, scope: &Scope) -> Scope {
    let found = chains(argument);
    match found.as_slice() {
        [chain] if chain.span == (0, argument.len()) => match resolve(chain, scope) {
            Some(path) => Scope::Values(path),
            None => Scope::Unknown,
        },
        _ => Scope::Unknown,
    }
}

/// Splits a template into text and actions: (is_action, content, line of its start).
fn segments(source: &str) -> Vec<(bool, String, usize)> {
    let mut out = Vec::new();
    let mut rest = source;
    let mut line = 1;
    while let Some(start) = rest.find("{{") {
        out.push((false, rest[..start].to_owned(), line));
        line += rest[..start].matches('\n').count();
        let body = &rest[start + 2..];
        let mut end = None;
        let mut quote: Option<char> = None;
        let mut chars = body.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match quote {
                Some(q) => {
                    if c == '\\' && q == '"' {
                        chars.next();
                    } else if c == q {
                        quote = None;
                    }
                }
                None if body[i..].starts_with("/*") => {
                    let close = body[i + 2..]
                        .find("*/")
                        .unwrap_or_else(|| panic!("unterminated comment at line {line}"));
                    while chars.peek().is_some_and(|(j, _)| *j < i + 2 + close + 2) {
                        chars.next();
                    }
                }
                None if c == '"' || c == '`' => quote = Some(c),
                None if body[i..].starts_with("}}") => {
                    end = Some(i);
                    break;
                }
                None => {}
            }
        }
        let end = end.unwrap_or_else(|| panic!("unterminated action at line {line}"));
        let inner = &body[..end];
        out.push((true, inner.to_owned(), line));
        line += inner.matches('\n').count();
        rest = &body[end + 2..];
    }
    out.push((false, rest.to_owned(), line));
    out
}

/// The code of an action: trim markers and surrounding space removed; None for a comment.
fn action_code(inner: &str) -> Option<String> {
    let mut code = inner;
    if let Some(stripped) = code.strip_prefix('-')
        && stripped.starts_with(char::is_whitespace)
    {
        code = stripped;
    }
    if let Some(stripped) = code.strip_suffix('-')
        && stripped.ends_with(char::is_whitespace)
    {
        code = stripped;
    }
    let code = code.trim();
    (!code.starts_with("/*")).then(|| code.to_owned())
}

/// Records the `.Values` paths `code` references, seen from `scope`.
fn record(refs: &mut Vec<ValuesRef>, file: &str, line: usize, code: &str, scope: &Scope) {
    for chain in chains(code) {
        if let Some(path) = resolve(&chain, scope) {
            push_ref(refs, file, line, path, RefKind::Use);
        }
    }
}

fn push_ref(refs: &mut Vec<ValuesRef>, file: &str, line: usize, path: Vec<String>, kind: RefKind) {
    assert!(
        !path.is_empty(),
        "{file}:{line}: `.Values` as a whole is referenced"
    );
    refs.push(ValuesRef {
        file: file.to_owned(),
        line,
        path,
        kind,
    });
}

/// Opens the scope of a `with` argument, recording the argument.
fn open_with(
    refs: &mut Vec<ValuesRef>,
    file: &str,
    line: usize,
    argument: &str,
    scope: &Scope,
) -> Scope {
    let inner = scope_of(argument, scope);
    match &inner {
        Scope::Values(path) => push_ref(refs, file, line, path.clone(), RefKind::ScopeArg),
        _ => record(refs, file, line, argument, scope),
    }
    inner
}

/// The line being assembled.
#[derive(Default)]
struct PendingLine {
    number: usize,
    text: String,
    has_text: bool,
    has_action: bool,
    controls: Vec<String>,
    inlines: Vec<Inline>,
    conditions: Vec<String>,
}

/// A marker for the n-th inline action of the pending line (never found in a template).
fn marker(n: usize) -> String {
    format!("\u{1}{n}\u{1}")
}

/// Scans one template: its `.Values` references (with the scope `with` opens), its lines as
/// YAML with each inline action replaced by a placeholder, and the conditions around each line.
pub fn scan(file: &str, source: &str) -> Scan {
    let mut result = Scan::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut scope = Scope::Root;
    let mut pending = PendingLine {
        number: 1,
        ..PendingLine::default()
    };

    let conditions = |stack: &[Frame]| stack.iter().map(|f| f.text.clone()).collect::<Vec<_>>();

    // Ends the pending line: kept (inline actions become placeholders) when it holds text,
    // dropped when it holds only actions.
    let finish = |pending: &mut PendingLine, result: &mut Scan| {
        if pending.has_text {
            assert!(
                pending.controls.is_empty(),
                "{file}:{}: control actions {:?} share their line with text",
                pending.number,
                pending.controls
            );
            let mut text = pending.text.clone();
            for (n, inline) in pending.inlines.drain(..).enumerate() {
                text = text.replace(&marker(n), &format!("__tpl_{}__", result.inlines.len()));
                result.inlines.push(inline);
            }
            result.lines.push(Line {
                number: pending.number,
                text,
                conditions: pending.conditions.clone(),
            });
        } else if !pending.has_action {
            result.lines.push(Line {
                number: pending.number,
                text: pending.text.clone(),
                conditions: pending.conditions.clone(),
            });
        }
    };

    for (is_action, content, line) in segments(source) {
        if !is_action {
            let mut parts = content.split('\n');
            let first = parts.next().unwrap_or_default();
            pending.text.push_str(first);
            pending.has_text |= !first.trim().is_empty();
            for part in parts {
                finish(&mut pending, &mut result);
                pending = PendingLine {
                    number: pending.number + 1,
                    text: part.to_owned(),
                    has_text: !part.trim().is_empty(),
                    conditions: conditions(&stack),
                    ..PendingLine::default()
                };
            }
            continue;
        }
        pending.has_action = true;
        // An action spanning lines (a long comment) keeps the line numbers right.
        let spanned = content.matches('\n').count();
        let Some(code) = action_code(&content) else {
            if spanned > 0 {
                finish(&mut pending, &mut result);
                pending = PendingLine {
                    number: pending.number + spanned,
                    has_action: true,
                    conditions: conditions(&stack),
                    ..PendingLine::default()
                };
            }
            continue;
        };
        assert_eq!(spanned, 0, "{file}:{line}: an action spanning lines");
        let bare = without_strings(&code);
        let keyword = bare
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        let argument = bare[keyword.len()..].trim().to_owned();
        let refs = &mut result.refs;
        match keyword.as_str() {
            "if" | "range" => {
                record(refs, file, line, &argument, &scope);
                let inner = if keyword == "range" {
                    Scope::Unknown
                } else {
                    scope.clone()
                };
                stack.push(Frame {
                    text: format!("{keyword} {argument}"),
                    outer: scope.clone(),
                });
                scope = inner;
            }
            "with" => {
                let inner = open_with(refs, file, line, &argument, &scope);
                stack.push(Frame {
                    text: format!("with {argument}"),
                    outer: scope.clone(),
                });
                scope = inner;
            }
            "define" | "block" => {
                stack.push(Frame {
                    text: format!("{keyword} {}", code[keyword.len()..].trim()),
                    outer: scope.clone(),
                });
                scope = Scope::Root;
            }
            "else" => {
                let frame = stack
                    .last_mut()
                    .unwrap_or_else(|| panic!("{file}:{line}: else without if/with/range"));
                let outer = frame.outer.clone();
                let (inner, text) = match argument.split_once(' ') {
                    Some(("with", rest)) => (
                        open_with(refs, file, line, rest.trim(), &outer),
                        format!("with {}", rest.trim()),
                    ),
                    Some(("if", rest)) => {
                        record(refs, file, line, rest, &outer);
                        (outer.clone(), format!("if {}", rest.trim()))
                    }
                    _ => (outer.clone(), String::new()),
                };
                frame.text = format!("{} / else {text}", frame.text);
                scope = inner;
            }
            "end" => {
                let frame = stack
                    .pop()
                    .unwrap_or_else(|| panic!("{file}:{line}: end without a block"));
                scope = frame.outer;
            }
            _ => {
                // An expression: printed in place, or a call on a line of its own.
                record(refs, file, line, &bare, &scope);
                let simple = bare.trim_end_matches("| quote").trim();
                let value = match chains(simple).as_slice() {
                    [chain] if chain.span == (0, simple.len()) => resolve(chain, &scope),
                    _ => None,
                };
                pending.text.push_str(&marker(pending.inlines.len()));
                pending.inlines.push(Inline { code, value });
                continue;
            }
        }
        pending.controls.push(code);
    }
    finish(&mut pending, &mut result);
    assert!(
        stack.is_empty(),
        "{file}: unclosed blocks {:?}",
        conditions(&stack)
    );
    result
}

/// Checks `value` against the subset of JSON Schema the chart's values.schema.json uses,
/// appending what fails to `errors`. Any other keyword panics, so the schema cannot rely on
/// something this check ignores.
pub fn validate(schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = schema.as_object().expect("a schema is an object");
    for keyword in schema.keys() {
        assert!(
            [
                "$schema",
                "title",
                "description",
                "type",
                "enum",
                "minLength",
                "minimum",
                "maximum",
                "properties",
                "additionalProperties",
                "items",
            ]
            .contains(&keyword.as_str()),
            "values.schema.json at {at}: keyword {keyword} is not checked by this test"
        );
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().map(|t| t.as_str().unwrap()).collect(),
            other => panic!("type {other}"),
        };
        let matches = |t: &str| match t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            "number" => value.is_number(),
            "integer" => value.is_i64() || value.is_u64(),
            other => panic!("type {other}"),
        };
        if !types.iter().any(|t| matches(t)) {
            errors.push(format!("{at}: {value} is not of type {types:?}"));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let (Some(min), Some(s)) = (
        schema.get("minLength").and_then(Value::as_u64),
        value.as_str(),
    ) && (s.chars().count() as u64) < min
    {
        errors.push(format!("{at}: shorter than {min}"));
    }
    if let Some(n) = value.as_f64() {
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
            && n < min
        {
            errors.push(format!("{at}: {n} < {min}"));
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
            && n > max
        {
            errors.push(format!("{at}: {n} > {max}"));
        }
    }
    if let Some(map) = value.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        for (key, child) in map {
            let path = format!("{at}.{key}");
            match (
                properties.and_then(|p| p.get(key)),
                schema.get("additionalProperties"),
            ) {
                (Some(sub), _) => validate(sub, child, &path, errors),
                (None, Some(Value::Bool(false))) => {
                    errors.push(format!("{path}: unknown key"));
                }
                (None, Some(sub @ Value::Object(_))) => validate(sub, child, &path, errors),
                (None, _) => {}
            }
        }
    }
    if let (Some(items), Some(list)) = (schema.get("items"), value.as_array()) {
        for (i, item) in list.iter().enumerate() {
            validate(items, item, &format!("{at}[{i}]"), errors);
        }
    }
}

#[cfg(test)]
fn dotted(path: &[String]) -> String {
    path.join(".")
}

#[cfg(test)]
#[test]
fn the_scanner_follows_scopes_and_placeholders() {
    // The scanner itself, on a template written to exercise it, so that the chart tests
    // below cannot pass because the scanner saw nothing.
    let source = r#"{{/* a comment with .Values.ignored and }} inside */}}
{{- define "x.image" -}}
{{ .Values.image.repository }}
{{- end }}
kind: Thing
{{- with .Values.serviceAccount }}
name: {{ .name | quote }}
{{- else }}
other: {{ .Values.a.b }}
{{- end }}
{{- range .Values.list }}
- {{ . }} {{ $.Values.c }} {{ $x.y }}
{{- end }}
label: {{ include "sessionops.labels" . }}
text: "{{ "}}" }}"
"#;
    let scanned = scan("test", source);
    let refs: Vec<(String, RefKind)> = scanned
        .refs
        .iter()
        .map(|r| (dotted(&r.path), r.kind))
        .collect();
    assert_eq!(
        refs,
        vec![
            ("image.repository".to_owned(), RefKind::Use),
            ("serviceAccount".to_owned(), RefKind::ScopeArg),
            ("serviceAccount.name".to_owned(), RefKind::Use),
            ("a.b".to_owned(), RefKind::Use),
            ("list".to_owned(), RefKind::Use),
            ("c".to_owned(), RefKind::Use),
        ]
    );
    let yaml = scanned.yaml_text();
    assert!(
        yaml.contains("kind: Thing\nname: __tpl_0__\nother: __tpl_1__\n"),
        "{yaml}"
    );
    assert_eq!(
        scanned.inline("__tpl_0__").value,
        Some(vec!["serviceAccount".to_owned(), "name".to_owned()])
    );
    assert_eq!(
        scanned.line_with("other:").conditions,
        vec!["with .Values.serviceAccount / else ".to_owned()]
    );
    assert!(scanned.line_with("kind: Thing").conditions.is_empty());
    let range_line = scanned
        .lines
        .iter()
        .find(|l| l.text.starts_with("- "))
        .unwrap();
    assert_eq!(range_line.conditions, vec!["range .Values.list".to_owned()]);
    // `.Values` inside a `with` is relative to its scope, as in Go templates: a bug the
    // scanner reports as a path that does not exist.
    let nested = scan(
        "t",
        "{{- with .Values.image }}\n{{ .Values.tag }}\n{{- end }}\n",
    );
    assert_eq!(dotted(&nested.refs[1].path), "image.Values.tag");
}
