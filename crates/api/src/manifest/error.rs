//! Manifest errors: file, document, object, field path and reason, for people and machines.

use std::fmt;
use std::path::Path;

use serde::Serialize;

use super::Source;

/// One reason a manifest was rejected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "camelCase")]
pub struct ManifestError {
    /// The file (or directory) concerned.
    pub file: String,
    /// 1-based document index in the file, when the error concerns one document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<usize>,
    /// `Kind namespace/name`, when the document got far enough to have one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// Dotted field path such as `spec.session.signInFrequency` (empty: the whole document).
    pub field: String,
    /// Why it was rejected.
    pub reason: String,
}

impl ManifestError {
    /// Stable reason for conditions, events and metrics: the spec cannot be accepted as written.
    pub const REASON: &'static str = "InvalidSpec";

    pub(super) fn file(file: &Path, reason: String) -> Self {
        ManifestError {
            file: file.display().to_string(),
            document: None,
            object: None,
            field: String::new(),
            reason,
        }
    }

    pub(super) fn field(
        source: &Source,
        object: Option<String>,
        field: &str,
        reason: String,
    ) -> Self {
        ManifestError {
            file: source.file.display().to_string(),
            document: Some(source.document),
            object,
            field: field.to_owned(),
            reason,
        }
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(document) = self.document {
            write!(f, ": document {document}")?;
        }
        if let Some(object) = &self.object {
            write!(f, " ({object})")?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Every error found in one load, in file order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(transparent)]
pub struct ManifestErrors(pub Vec<ManifestError>);

impl fmt::Display for ManifestErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        writeln!(
            f,
            "{count} invalid manifest{}:",
            if count == 1 { "" } else { "s" }
        )?;
        for error in &self.0 {
            writeln!(f, "  {error}")?;
        }
        Ok(())
    }
}
