//! `$filter`: the subset of OData the directory supports by default (`eq`, `startsWith`, `in`,
//! combined with `and`/`or` and parentheses), plus `ne`, `not` and `endsWith`, which Graph only
//! accepts as advanced queries (`ConsistencyLevel: eventual` and `$count=true`; `group-list-transitivemembers.md`, `concepts/aad-advanced-queries.md`).

use serde_json::Value;

use crate::error::GraphError;

/// A literal on the right-hand side of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Literal {
    Str(String),
    Bool(bool),
    Null,
}

/// A parsed filter expression.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Eq(String, Literal),
    Ne(String, Literal),
    In(String, Vec<Literal>),
    StartsWith(String, String),
    EndsWith(String, String),
}

impl Filter {
    /// Parses a `$filter` value.
    pub(crate) fn parse(text: &str) -> Result<Filter, GraphError> {
        let tokens = tokenize(text)?;
        let mut parser = Parser { tokens, pos: 0 };
        let filter = parser.or_expr()?;
        if parser.pos != parser.tokens.len() {
            return Err(invalid(&format!(
                "unexpected '{}'",
                parser.tokens[parser.pos].text()
            )));
        }
        Ok(filter)
    }

    /// True when the expression uses an operator that needs advanced query capabilities.
    pub(crate) fn needs_advanced_query(&self) -> bool {
        match self {
            Self::And(a, b) | Self::Or(a, b) => {
                a.needs_advanced_query() || b.needs_advanced_query()
            }
            Self::Not(_) | Self::Ne(..) | Self::EndsWith(..) => true,
            Self::Eq(..) | Self::In(..) | Self::StartsWith(..) => false,
        }
    }

    /// Every property the expression reads.
    pub(crate) fn properties(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Self::And(a, b) | Self::Or(a, b) => {
                a.collect(out);
                b.collect(out);
            }
            Self::Not(a) => a.collect(out),
            Self::Eq(p, _)
            | Self::Ne(p, _)
            | Self::In(p, _)
            | Self::StartsWith(p, _)
            | Self::EndsWith(p, _) => out.push(p),
        }
    }

    /// Checks the expression against the properties a resource supports; `resource` names it
    /// in Graph's error message ("User", "Group").
    pub(crate) fn check(
        &self,
        supported: &[&str],
        resource: &str,
        advanced: bool,
    ) -> Result<(), GraphError> {
        for property in self.properties() {
            if !supported.contains(&property) {
                return Err(GraphError::unsupported_query(format!(
                    "Unsupported or invalid query filter clause specified for property '{property}' of resource '{resource}'."
                )));
            }
        }
        if self.needs_advanced_query() && !advanced {
            return Err(GraphError::unsupported_query(
                "Unsupported Query. The operators 'ne', 'not' and 'endsWith' need advanced query capabilities: send 'ConsistencyLevel: eventual' and '$count=true'.",
            ));
        }
        Ok(())
    }

    /// Evaluates against an object whose properties `get` reads. Strings compare
    /// case-insensitively, as the directory does.
    pub(crate) fn matches(&self, get: &dyn Fn(&str) -> Value) -> bool {
        match self {
            Self::And(a, b) => a.matches(get) && b.matches(get),
            Self::Or(a, b) => a.matches(get) || b.matches(get),
            Self::Not(a) => !a.matches(get),
            Self::Eq(p, lit) => equals(&get(p), lit),
            Self::Ne(p, lit) => !equals(&get(p), lit),
            Self::In(p, lits) => {
                let value = get(p);
                lits.iter().any(|lit| equals(&value, lit))
            }
            Self::StartsWith(p, prefix) => get(p)
                .as_str()
                .is_some_and(|v| v.to_lowercase().starts_with(&prefix.to_lowercase())),
            Self::EndsWith(p, suffix) => get(p)
                .as_str()
                .is_some_and(|v| v.to_lowercase().ends_with(&suffix.to_lowercase())),
        }
    }
}

fn equals(value: &Value, literal: &Literal) -> bool {
    match (value, literal) {
        (Value::String(v), Literal::Str(l)) => v.eq_ignore_ascii_case(l),
        (Value::Bool(v), Literal::Bool(l)) => v == l,
        (Value::Null, Literal::Null) => true,
        _ => false,
    }
}

fn invalid(detail: &str) -> GraphError {
    GraphError::request_bad_request(format!("Invalid filter clause: {detail}"))
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Open,
    Close,
    Comma,
}

impl Token {
    fn text(&self) -> String {
        match self {
            Self::Ident(s) => s.clone(),
            Self::Str(s) => format!("'{s}'"),
            Self::Open => "(".into(),
            Self::Close => ")".into(),
            Self::Comma => ",".into(),
        }
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self, Self::Ident(s) if s.eq_ignore_ascii_case(keyword))
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, GraphError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            ',' => {
                chars.next();
                tokens.push(Token::Comma);
            }
            '\'' => {
                chars.next();
                let mut literal = String::new();
                loop {
                    match chars.next() {
                        // '' inside a literal is an escaped quote.
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            literal.push('\'');
                        }
                        Some('\'') => break,
                        Some(c) => literal.push(c),
                        None => return Err(invalid("unterminated string literal")),
                    }
                }
                tokens.push(Token::Str(literal));
            }
            _ => {
                let mut ident = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_alphanumeric() || matches!(c, '_' | '.' | '/' | '-' | '@' | ':') {
                        ident.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if ident.is_empty() {
                    return Err(invalid(&format!("unexpected character '{c}'")));
                }
                tokens.push(Token::Ident(ident));
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Result<Token, GraphError> {
        let token = self
            .tokens
            .get(self.pos)
            .cloned()
            .ok_or_else(|| invalid("unexpected end of expression"))?;
        self.pos += 1;
        Ok(token)
    }

    fn expect(&mut self, want: Token) -> Result<(), GraphError> {
        let got = self.next()?;
        if got == want {
            Ok(())
        } else {
            Err(invalid(&format!(
                "expected '{}', found '{}'",
                want.text(),
                got.text()
            )))
        }
    }

    fn or_expr(&mut self) -> Result<Filter, GraphError> {
        let mut left = self.and_expr()?;
        while self.peek().is_some_and(|t| t.is_keyword("or")) {
            self.pos += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and_expr()?));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Filter, GraphError> {
        let mut left = self.unary()?;
        while self.peek().is_some_and(|t| t.is_keyword("and")) {
            self.pos += 1;
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, GraphError> {
        if self.peek().is_some_and(|t| t.is_keyword("not")) {
            self.pos += 1;
            return Ok(Filter::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Filter, GraphError> {
        match self.next()? {
            Token::Open => {
                let inner = self.or_expr()?;
                self.expect(Token::Close)?;
                Ok(inner)
            }
            Token::Ident(name) if self.peek() == Some(&Token::Open) => {
                let function = name.to_ascii_lowercase();
                if function != "startswith" && function != "endswith" {
                    return Err(GraphError::unsupported_query(format!(
                        "Unsupported Query. The function '{name}' is not supported."
                    )));
                }
                self.expect(Token::Open)?;
                let property = self.property()?;
                self.expect(Token::Comma)?;
                let Literal::Str(text) = self.literal()? else {
                    return Err(invalid(&format!("{name} needs a string literal")));
                };
                self.expect(Token::Close)?;
                Ok(if function == "startswith" {
                    Filter::StartsWith(property, text)
                } else {
                    Filter::EndsWith(property, text)
                })
            }
            Token::Ident(property) => {
                let operator = match self.next()? {
                    Token::Ident(op) => op.to_ascii_lowercase(),
                    other => {
                        return Err(invalid(&format!(
                            "expected an operator after '{property}', found '{}'",
                            other.text()
                        )));
                    }
                };
                match operator.as_str() {
                    "eq" => Ok(Filter::Eq(property, self.literal()?)),
                    "ne" => Ok(Filter::Ne(property, self.literal()?)),
                    "in" => {
                        self.expect(Token::Open)?;
                        let mut values = vec![self.literal()?];
                        while self.peek() == Some(&Token::Comma) {
                            self.pos += 1;
                            values.push(self.literal()?);
                        }
                        self.expect(Token::Close)?;
                        Ok(Filter::In(property, values))
                    }
                    "gt" | "ge" | "lt" | "le" => Err(GraphError::unsupported_query(format!(
                        "Unsupported Query. The operator '{operator}' is not supported on property '{property}'."
                    ))),
                    other => Err(invalid(&format!("unknown operator '{other}'"))),
                }
            }
            other => Err(invalid(&format!("unexpected '{}'", other.text()))),
        }
    }

    fn property(&mut self) -> Result<String, GraphError> {
        match self.next()? {
            Token::Ident(name) => Ok(name),
            other => Err(invalid(&format!(
                "expected a property, found '{}'",
                other.text()
            ))),
        }
    }

    fn literal(&mut self) -> Result<Literal, GraphError> {
        match self.next()? {
            Token::Str(s) => Ok(Literal::Str(s)),
            Token::Ident(word) if word == "true" => Ok(Literal::Bool(true)),
            Token::Ident(word) if word == "false" => Ok(Literal::Bool(false)),
            Token::Ident(word) if word == "null" => Ok(Literal::Null),
            other => Err(invalid(&format!(
                "expected a literal, found '{}'",
                other.text()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(property: &str) -> Value {
        let user = json!({"userPrincipalName": "Ann@Contoso.com", "displayName": "Ann O'Neil", "accountEnabled": true, "mail": null});
        user.get(property).cloned().unwrap_or(Value::Null)
    }

    #[test]
    fn parses_and_evaluates_the_default_operators() {
        for (text, expected) in [
            ("userPrincipalName eq 'ann@contoso.com'", true),
            ("startsWith(displayName,'ann')", true),
            ("startswith(displayName, 'Bob')", false),
            ("displayName eq 'Ann O''Neil'", true),
            ("userPrincipalName in ('x@y', 'ann@contoso.com')", true),
            (
                "accountEnabled eq false or (mail eq null and accountEnabled eq true)",
                true,
            ),
            ("accountEnabled eq true and displayName eq 'x'", false),
        ] {
            let filter = Filter::parse(text).unwrap();
            assert!(!filter.needs_advanced_query(), "{text}");
            assert_eq!(filter.matches(&user), expected, "{text}");
        }
    }

    #[test]
    fn advanced_operators_are_flagged() {
        for text in [
            "displayName ne 'x'",
            "not(displayName eq 'x')",
            "endsWith(mail,'@contoso.com')",
        ] {
            let filter = Filter::parse(text).unwrap();
            assert!(filter.needs_advanced_query(), "{text}");
            let err = filter
                .check(&["displayName", "mail"], "User", false)
                .unwrap_err();
            assert_eq!(err.code.as_str(), "Request_UnsupportedQuery");
            assert!(filter.check(&["displayName", "mail"], "User", true).is_ok());
        }
    }

    #[test]
    fn rejects_bad_syntax_and_unknown_properties() {
        for text in [
            "displayName eq",
            "displayName eq 'x' and",
            "(displayName eq 'x'",
            "displayName foo 'x'",
            "'x'",
        ] {
            assert!(Filter::parse(text).is_err(), "{text}");
        }
        let err = Filter::parse("jobTitle eq 'x'")
            .unwrap()
            .check(&["displayName"], "User", false)
            .unwrap_err();
        assert_eq!(
            err.message,
            "Unsupported or invalid query filter clause specified for property 'jobTitle' of resource 'User'."
        );
    }
}
