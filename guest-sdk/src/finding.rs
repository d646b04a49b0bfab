//! Findings: built with [`Finding::new`], reported to a session with
//! [`Session::report`](crate::Session::report) as the module goes, or
//! returned in a task's [`RunResult`](crate::RunResult).

use crate::Finding;

impl Finding {
    /// A finding of `kind` with a summary and named fields, kept in order.
    ///
    /// ```
    /// # use bgpmon_guest::Finding;
    /// let moas = Finding::new(
    ///     "moas",
    ///     "192.0.2.0/24 has two origins",
    ///     [("prefix", "192.0.2.0/24"), ("origins", "64500 64501")],
    /// );
    /// assert_eq!(moas.field("origins"), Some("64500 64501"));
    /// ```
    pub fn new<K: Into<String>, V: Into<String>>(
        kind: impl Into<String>,
        summary: impl Into<String>,
        fields: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            kind: kind.into(),
            summary: summary.into(),
            fields: fields
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The value of the first field named `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}
