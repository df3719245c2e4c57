//! logmon: follow an HTTP access log, report its traffic every period and
//! alert when the average rate over a window exceeds a threshold.
//!
//! The pure core (`parse`, `text`, `window`, `stats`, `monitor`, `render`)
//! never touches a clock, a file or stdout. The edges (`lines`, `follow`,
//! `reader`, `app`) do the I/O and feed the core.

pub mod backfill;
pub mod follow;
pub mod lines;
pub mod parse;
pub mod text;
