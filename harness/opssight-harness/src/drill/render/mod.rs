//! The drill report as Markdown, JUnit XML and a self-contained HTML page
//! whose timelines are inline SVG. Every text comes from the report, which
//! holds hashes and key names, never values.

pub mod html;
pub mod junit;
pub mod markdown;
pub mod svg;
pub mod text;

pub use self::html::html;
pub use self::junit::junit;
pub use self::markdown::markdown;
pub use self::svg::{Axis, JUMP_BAND, OUTAGE_BAR, phase_colour, timeline_svg};
pub use self::text::{duration, interrupted_note, verdict_label};
