//! logmon: follow an HTTP access log, report its traffic every period and
//! alert when the average rate over a window exceeds a threshold.
//!
//! The pure core (`parse` and its formats, `text`, `batch`, `merge`,
//! `window`, `stats`, `topk`, `drill`, `drivers`, `monitor`, `render`)
//! never touches a clock, a file or stdout. The edges (`inputs`, `lines`,
//! `follow`, `backfill`, `reader`, `geo`, `app`, `serve`, `notice`,
//! `stdio`, `clock`) do the I/O and feed the core; `notice`'s limiter and
//! `clock`'s step detector are pure too, with time as an argument. `cli`
//! and `shell` describe the command line; `gen` makes traffic for the
//! demo, the tests and the benchmarks.

pub mod app;
pub mod backfill;
pub mod batch;
pub mod cli;
pub mod clock;
pub mod drill;
pub mod drivers;
pub mod follow;
pub mod gen;
pub mod geo;
pub mod inputs;
pub mod lines;
pub mod merge;
pub mod monitor;
pub mod notice;
pub mod parse;
pub mod reader;
pub mod render;
pub mod serve;
pub mod shell;
pub mod stats;
pub mod stdio;
pub mod text;
pub mod topk;
pub mod window;
