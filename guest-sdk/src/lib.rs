//! Write bgpmon analysis modules in Rust.
//!
//! A module is one crate of type `cdylib` that implements [`Module`] and
//! calls [`export_module!`]. It builds with `cargo build --target
//! wasm32-wasip2`, and the resulting `.wasm` file is a component that the
//! bgpmon daemon loads from its module directory.
//!
//! The SDK wraps the WIT world `bgpmon:module/analysis@0.2.0`: typed
//! captures, prefixes and filters, sessions and batch streams, findings
//! reported as the module goes, typed options, logging, and the module's
//! view of its sandbox.
//!
//! # Example
//!
//! ```no_run
//! use bgpmon_guest::{Filter, Module, ModuleInfo, Options, RunResult, Session};
//!
//! struct CountCaptures;
//!
//! impl Module for CountCaptures {
//!     fn info() -> ModuleInfo {
//!         ModuleInfo::task("count-captures", "Counts the captures of a session")
//!             .required_option("session", "the session to read")
//!     }
//!
//!     fn run(options: Options) -> Result<RunResult, String> {
//!         let session = Session::open(options.require("session")?)?;
//!         let mut reader = session.captures(&Filter::new())?;
//!         let mut count = 0;
//!         while let Some(batch) = reader.next_batch()? {
//!             count += batch.len();
//!         }
//!         Ok(RunResult::message(format!("{count} captures")))
//!     }
//! }
//!
//! bgpmon_guest::export_module!(CountCaptures);
//! ```

extern crate self as bgpmon_guest;

mod columns;
mod filter;
mod finding;
mod info;
pub mod log;
pub mod modules;
mod prefix;
pub mod runtime;
mod session;

#[doc(hidden)]
pub mod wit {
    wit_bindgen::generate!({
        path: "../wit",
        world: "bgpmon:module/analysis@0.2.0",
        pub_export_macro: true,
        export_macro_name: "__export_analysis",
        default_bindings_module: "bgpmon_guest::wit",
        runtime_path: "bgpmon_guest::wit_bindgen::rt",
        generate_all,
    });
}

#[doc(hidden)]
pub use wit_bindgen;

pub use columns::{CaptureRef, Captures, SegmentType};
pub use filter::Filter;
pub use info::{Module, ModuleInfo, Options, RunResult};
pub use session::{
    CaptureReader, CaptureWriter, EntityReader, EntityWriter, PrefixReader, Session,
};
pub use wit::bgpmon::module0_1_0::types::{
    Aggregator, Capture, CaptureKind, Community, Entity, Error, Finding, IpAddress, ModuleKind,
    OriginAttribute, OwnedPrefix, PathSegment, Prefix, PrefixEvent, PrefixMatch, PrefixScope,
    TimeRange,
};
pub use wit::bgpmon::module0_2_0::schema::OptionType;

/// Exports a type that implements [`Module`] as the component's `info`
/// and `run`.
///
/// Call it once, at the crate root of a `cdylib`.
#[macro_export]
macro_rules! export_module {
    ($module:ty) => {
        #[doc(hidden)]
        struct __BgpmonGuestExport;

        impl $crate::wit::Guest for __BgpmonGuestExport {
            fn info() -> $crate::wit::bgpmon::module0_2_0::schema::ModuleInfo {
                <$module as $crate::Module>::info().into_wit()
            }

            fn run(
                options: ::std::vec::Vec<$crate::wit::bgpmon::module0_1_0::types::OptionValue>,
            ) -> ::std::result::Result<$crate::wit::bgpmon::module0_1_0::types::RunResult, ::std::string::String>
            {
                <$module as $crate::Module>::run($crate::Options::from_wit(options))
                    .map($crate::RunResult::into_wit)
            }
        }

        $crate::wit::__export_analysis!(__BgpmonGuestExport with_types_in $crate::wit);
    };
}
