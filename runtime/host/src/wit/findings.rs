//! `bgpmon:module/findings@0.2.0`: findings stored in a session as the
//! module reports them, within the run's size, count and rate caps.

use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use bgpmon_store::NewFinding;
use wasmtime::component::Resource;

use super::HostCallError;
use super::sessions::SessionHandle;
use crate::bindings::findings::Host;
use crate::bindings::types::Finding;
use crate::limits::{MAX_FINDING_BYTES, MAX_FINDING_FIELDS, MAX_FINDING_KIND_BYTES, RECORD_FUEL};
use crate::state::ModuleState;

/// Checks one finding against the size caps.
fn check(index: usize, finding: &Finding) -> Result<(), HostCallError> {
    let what = || format!("finding {index} (kind {:?})", finding.kind);
    if finding.kind.is_empty() {
        return Err(HostCallError::invalid(format!(
            "finding {index} has an empty kind; name what it found, such as \"moas\""
        )));
    }
    if finding.kind.len() > MAX_FINDING_KIND_BYTES {
        return Err(HostCallError::invalid(format!(
            "{} has a kind of {} bytes, over the cap of {MAX_FINDING_KIND_BYTES} (MAX_FINDING_KIND_BYTES)",
            what(),
            finding.kind.len()
        )));
    }
    if finding.fields.len() > MAX_FINDING_FIELDS {
        return Err(HostCallError::invalid(format!(
            "{} has {} fields, over the cap of {MAX_FINDING_FIELDS} (MAX_FINDING_FIELDS); report several findings",
            what(),
            finding.fields.len()
        )));
    }
    let bytes = finding.kind.len()
        + finding.summary.len()
        + finding
            .fields
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>();
    if bytes > MAX_FINDING_BYTES {
        return Err(HostCallError::invalid(format!(
            "{} takes {bytes} bytes, over the cap of {MAX_FINDING_BYTES} (MAX_FINDING_BYTES); store large results in a session",
            what()
        )));
    }
    Ok(())
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

impl Host for ModuleState {
    #[tracing::instrument(name = "bgpmon_host.findings.report", skip_all)]
    async fn report(
        &mut self,
        session: Resource<SessionHandle>,
        findings: Vec<Finding>,
    ) -> Result<(), HostCallError> {
        let count = findings.len() as u64;
        self.ctx.host_call(RECORD_FUEL.saturating_mul(count))?;
        let limit = self.ctx.limits.max_batch as usize;
        if findings.len() > limit {
            return Err(HostCallError::limit(format!(
                "{} findings in one report, over the run's max_batch of {limit}; report fewer at a time",
                findings.len()
            )));
        }
        let session = self.session(&session)?.session().clone();
        for (index, finding) in findings.iter().enumerate() {
            check(index, finding)?;
        }
        let cap = self.ctx.limits.max_findings;
        let reported = self.ctx.findings.load(Ordering::Relaxed);
        if reported.saturating_add(count) > cap {
            return Err(HostCallError::limit(format!(
                "the run has reported {reported} findings and may report {cap} in all (max_findings); report fewer, or have the operator raise max_findings"
            )));
        }
        if count == 0 {
            return Ok(());
        }
        let wait = self.ctx.findings_wait(count);
        if !wait.is_zero() {
            // Paused like a daemon over its fuel rate: the time shows in
            // the run's paused counter, and a stop still ends the run.
            tokio::time::sleep(wait).await;
            self.ctx.add_paused(wait);
        }
        let time_us = now_us();
        let stored: Vec<NewFinding> = findings
            .into_iter()
            .map(|f| NewFinding {
                time_us,
                module_id: self.ctx.id.clone(),
                module_type: self.ctx.type_name.clone(),
                kind: f.kind,
                summary: f.summary,
                fields: f.fields,
            })
            .collect();
        session.report_findings(stored).await?;
        self.ctx.findings.fetch_add(count, Ordering::Relaxed);
        Ok(())
    }
}
