//! `bgpmon module types|list|status|run|close|install|remove|test|logs`.

use std::collections::HashMap;
use std::path::PathBuf;

use bgpmon_proto::v1;
use clap::Subcommand;

use crate::Failed;
use crate::client::{Client, status_error};
use crate::time::format_micros;

/// An option `NAME=VALUE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionArg(pub String, pub String);

impl std::str::FromStr for OptionArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (name, value) = s
            .split_once('=')
            .ok_or_else(|| format!("option {s:?} has no '='; write NAME=VALUE"))?;
        if name.is_empty() {
            return Err(format!("option {s:?} has an empty name; write NAME=VALUE"));
        }
        Ok(Self(name.to_owned(), value.to_owned()))
    }
}

/// Module commands.
#[derive(Debug, Subcommand)]
pub enum ModuleCommand {
    /// List the module types the daemon has loaded, with their options.
    Types,
    /// List running and recently ended modules.
    List,
    /// Show one module's status, result and counters.
    Status {
        /// The module's id.
        id: String,
    },
    /// Run a module of TYPE as ID.
    Run {
        /// The module type.
        module_type: String,
        /// The run's id.
        id: String,
        /// An option, NAME=VALUE; repeat for more.
        #[arg(long = "opt", value_name = "NAME=VALUE")]
        options: Vec<OptionArg>,
        /// Grant the module this session to read and write; repeat for
        /// more, `*` for all.
        #[arg(long = "grant", value_name = "SESSION")]
        grants: Vec<String>,
        /// Grant the module this session to read only; repeat for more,
        /// `*` for all.
        #[arg(long = "grant-read", value_name = "SESSION")]
        read_grants: Vec<String>,
        /// Let the module run other modules, and list and close those it ran.
        #[arg(long)]
        may_run_modules: bool,
        /// Let the modules it runs be daemons (with --may-run-modules).
        #[arg(long, requires = "may_run_modules")]
        may_run_daemons: bool,
        /// A task's fuel budget.
        #[arg(long)]
        fuel: Option<u64>,
        /// A daemon's fuel per second.
        #[arg(long)]
        fuel_per_second: Option<u64>,
        /// The memory cap, in MiB.
        #[arg(long)]
        memory_mb: Option<u64>,
        /// A task's wall-clock deadline, in seconds.
        #[arg(long)]
        deadline_secs: Option<u64>,
        /// Wait until the module ends and print its final status; exit 1 if
        /// it failed.
        #[arg(long)]
        wait: bool,
    },
    /// Stop a module: ask it to stop, then end it after its grace period.
    Close {
        /// The module's id.
        id: String,
    },
    /// Check a module and install it into the daemon's module directory.
    Install {
        /// The component file.
        file: PathBuf,
        /// Replace a loaded type of the same name. Runs already started
        /// keep the build they started with; new runs get this one.
        #[arg(long)]
        replace: bool,
    },
    /// Unload a module type and delete its file from the module directory.
    /// Runs already started keep going until they end.
    Remove {
        /// The type's name.
        module_type: String,
    },
    /// Run a module in this process, with no daemon: on a temporary store
    /// loaded from the files given, under the daemon's default (production)
    /// limits or those given. Prints the loads, the module's status (result,
    /// findings, fuel used, peak memory, records read and written, host
    /// calls) and its log, and exits 1 if the module failed.
    Test(crate::commands::module_test::TestArgs),
    /// Print a module's log lines.
    Logs {
        /// The module's id.
        id: String,
        /// Keep printing new lines until the module ends.
        #[arg(long)]
        follow: bool,
    },
}

fn kind_name(kind: i32) -> &'static str {
    match v1::ModuleKind::try_from(kind) {
        Ok(v1::ModuleKind::Task) => "task",
        Ok(v1::ModuleKind::Daemon) => "daemon",
        _ => "?",
    }
}

fn state_name(state: i32) -> &'static str {
    match v1::ModuleState::try_from(state) {
        Ok(v1::ModuleState::Starting) => "starting",
        Ok(v1::ModuleState::Running) => "running",
        Ok(v1::ModuleState::Finished) => "finished",
        Ok(v1::ModuleState::Failed) => "failed",
        Ok(v1::ModuleState::Stopped) => "stopped",
        _ => "?",
    }
}

pub(crate) fn print_status(s: &v1::ModuleStatus) {
    println!("id: {}", s.id);
    println!("type: {} ({})", s.type_name, kind_name(s.kind));
    println!("build: {}", short_digest(&s.type_digest));
    println!("state: {}", state_name(s.state));
    if let Some(failure) = &s.failure {
        println!("reason: {}", failure.message);
    }
    if let Some(result) = &s.result {
        println!("result: {}", result.message);
        for f in &result.findings {
            let mut fields: Vec<_> = f.fields.iter().collect();
            fields.sort();
            let fields: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
            println!("finding: [{}] {} ({})", f.kind, f.summary, fields.join(" "));
        }
    }
    if let Some(c) = &s.counters {
        println!(
            "counters: fuel_used={} memory_bytes={} host_calls={} records_read={} records_written={} logs_dropped={} paused_ms={} uptime_ms={} findings={}",
            c.fuel_used,
            c.memory_bytes,
            c.host_calls,
            c.records_read,
            c.records_written,
            c.logs_dropped,
            c.paused_ms,
            c.uptime_ms,
            c.findings
        );
    }
    println!("started: {}", format_micros(s.started_at_us));
    if let Some(ended) = s.ended_at_us {
        println!("ended: {}", format_micros(ended));
    }
}

/// The first 12 hex digits of a sha256 digest: enough to tell builds apart.
pub(crate) fn short_digest(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

pub(crate) fn no_status() -> anyhow::Error {
    anyhow::anyhow!("the daemon returned no module status; is it a bgpmond of this version?")
}

/// How `module types` shows an option's value: its type, or `TEXT` for a
/// 0.1.0 type's untyped option.
fn option_type_name(value_type: i32) -> &'static str {
    match v1::OptionType::try_from(value_type) {
        Ok(v1::OptionType::String) => "STRING",
        Ok(v1::OptionType::Integer) => "INTEGER",
        Ok(v1::OptionType::Boolean) => "BOOLEAN",
        Ok(v1::OptionType::Asn) => "ASN",
        Ok(v1::OptionType::Prefix) => "PREFIX",
        Ok(v1::OptionType::Time) => "TIME",
        Ok(v1::OptionType::Duration) => "DURATION",
        Ok(v1::OptionType::Unspecified) | Err(_) => "TEXT",
    }
}

impl ModuleCommand {
    pub(crate) async fn run(self, client: &mut Client) -> anyhow::Result<()> {
        match self {
            Self::Types => {
                let types = client
                    .list_module_types(v1::ListModuleTypesRequest {})
                    .await
                    .map_err(status_error)?
                    .into_inner()
                    .module_types;
                for t in types {
                    println!("{} ({}): {}", t.type_name, kind_name(t.kind), t.description);
                    println!(
                        "    build {} from {}, WIT {}",
                        short_digest(&t.digest),
                        t.origin,
                        t.wit_version
                    );
                    for o in t.options {
                        let note = match (&o.default_value, o.required) {
                            (Some(d), _) => format!("default {d:?}"),
                            (None, true) => "required".to_owned(),
                            (None, false) => "optional".to_owned(),
                        };
                        let value = option_type_name(o.value_type);
                        println!("    --opt {}={value}  {} [{note}]", o.name, o.description);
                    }
                }
            }
            Self::List => {
                let modules = client
                    .list_modules(v1::ListModulesRequest {})
                    .await
                    .map_err(status_error)?
                    .into_inner()
                    .modules;
                println!(
                    "{:<24} {:<16} {:<7} {:<9} {:>10} {:>14} {:>10} {:>10}",
                    "ID", "TYPE", "KIND", "STATE", "UPTIME_MS", "FUEL", "READ", "WRITTEN"
                );
                for m in modules {
                    let c = m.counters.unwrap_or_default();
                    println!(
                        "{:<24} {:<16} {:<7} {:<9} {:>10} {:>14} {:>10} {:>10}",
                        m.id,
                        m.type_name,
                        kind_name(m.kind),
                        state_name(m.state),
                        c.uptime_ms,
                        c.fuel_used,
                        c.records_read,
                        c.records_written
                    );
                }
            }
            Self::Status { id } => {
                let status = client
                    .get_module_status(v1::GetModuleStatusRequest { id })
                    .await
                    .map_err(status_error)?
                    .into_inner()
                    .status
                    .ok_or_else(no_status)?;
                print_status(&status);
            }
            Self::Run {
                module_type,
                id,
                options,
                grants,
                read_grants,
                may_run_modules,
                may_run_daemons,
                fuel,
                fuel_per_second,
                memory_mb,
                deadline_secs,
                wait,
            } => {
                let options: HashMap<String, String> =
                    options.into_iter().map(|OptionArg(k, v)| (k, v)).collect();
                let request = v1::RunModuleRequest {
                    type_name: module_type,
                    id,
                    options,
                    limits: Some(v1::ModuleLimits {
                        fuel,
                        fuel_per_second,
                        memory_bytes: memory_mb.map(|mb| mb.saturating_mul(1 << 20)),
                        deadline_secs,
                        ..Default::default()
                    }),
                    grants: Some(v1::Grants {
                        sessions: grants,
                        read_sessions: read_grants,
                        may_run_modules,
                        may_run_daemons,
                    }),
                    wait,
                };
                let status = client
                    .run_module(request)
                    .await
                    .map_err(status_error)?
                    .into_inner()
                    .status
                    .ok_or_else(no_status)?;
                print_status(&status);
                if wait && status.state == i32::from(v1::ModuleState::Failed) {
                    let reason = status.failure.map(|f| f.message).unwrap_or_default();
                    eprintln!("error: module {} failed: {reason}", status.id);
                    return Err(Failed.into());
                }
            }
            Self::Close { id } => {
                let status = client
                    .close_module(v1::CloseModuleRequest { id })
                    .await
                    .map_err(status_error)?
                    .into_inner()
                    .status
                    .ok_or_else(no_status)?;
                print_status(&status);
            }
            Self::Install { file, replace } => {
                let wasm = std::fs::read(&file).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot read {}: {e}; give the path of a .wasm component",
                        file.display()
                    )
                })?;
                let installed = client
                    .install_module(v1::InstallModuleRequest { wasm, replace })
                    .await
                    .map_err(status_error)?
                    .into_inner();
                let info = installed
                    .module_type
                    .ok_or_else(|| anyhow::anyhow!("the daemon returned no module type"))?;
                println!(
                    "installed {} ({}), build {}: {}",
                    info.type_name,
                    kind_name(info.kind),
                    short_digest(&info.digest),
                    info.description
                );
                if let Some(old) = installed.replaced {
                    println!(
                        "replaced build {} from {}; runs already started keep it until they end",
                        short_digest(&old.digest),
                        old.origin
                    );
                }
            }
            Self::Remove { module_type } => {
                let removed = client
                    .remove_module(v1::RemoveModuleRequest {
                        type_name: module_type,
                    })
                    .await
                    .map_err(status_error)?
                    .into_inner();
                let info = removed
                    .removed
                    .ok_or_else(|| anyhow::anyhow!("the daemon returned no module type"))?;
                if removed.file_deleted {
                    println!(
                        "removed {} (build {}) and deleted {}",
                        info.type_name,
                        short_digest(&info.digest),
                        info.origin
                    );
                } else {
                    println!(
                        "removed {} (build {}); {} is outside the module directory and was left in place",
                        info.type_name,
                        short_digest(&info.digest),
                        info.origin
                    );
                }
                if removed.still_running > 0 {
                    println!(
                        "{} running module(s) of this type keep going until they end",
                        removed.still_running
                    );
                }
            }
            Self::Logs { id, follow } => print_logs(client, id, follow).await?,
            Self::Test(args) => args.run().await?,
        }
        Ok(())
    }
}

/// Prints module `id`'s log lines; with `follow`, until the module ends.
async fn print_logs(client: &mut Client, id: String, follow: bool) -> anyhow::Result<()> {
    let mut stream = client
        .get_module_logs(v1::GetModuleLogsRequest { id, follow })
        .await
        .map_err(status_error)?
        .into_inner();
    while let Some(batch) = stream.message().await.map_err(status_error)? {
        print_log_lines(&batch.lines);
    }
    Ok(())
}

/// Prints log lines, one per line: time, level, message.
pub(crate) fn print_log_lines(lines: &[v1::LogLine]) {
    for line in lines {
        let level = match v1::LogLevel::try_from(line.level) {
            Ok(v1::LogLevel::Trace) => "TRACE",
            Ok(v1::LogLevel::Debug) => "DEBUG",
            Ok(v1::LogLevel::Warn) => "WARN",
            Ok(v1::LogLevel::Error) => "ERROR",
            _ => "INFO",
        };
        println!(
            "{} {level:<5} {}",
            format_micros(line.time_us),
            line.message
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_need_a_name_and_an_equals_sign() {
        assert_eq!("a=b=c".parse(), Ok(OptionArg("a".into(), "b=c".into())));
        assert!("novalue".parse::<OptionArg>().is_err());
        assert!("=x".parse::<OptionArg>().is_err());
    }
}
