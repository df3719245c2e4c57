//! A temp directory with shell-like helpers, for the follower's tests:
//! what logrotate, a web server and a shell do to a log, one call each.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use tempfile::TempDir;

use super::Seen;

/// A temp dir where the log is `access.log`.
pub struct Dir {
    dir: TempDir,
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn log(&self) -> PathBuf {
        self.path("access.log")
    }

    /// `printf "$text" >> name`
    pub fn append(&self, name: &str, text: &str) {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path(name))
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    /// `printf "$text" > name` (same inode if it exists)
    pub fn overwrite(&self, name: &str, text: &str) {
        fs::write(self.path(name), text).unwrap();
    }

    /// `printf "$text" > name; touch -d "$at" name`, and what it is now.
    pub fn file(&self, name: &str, text: &str, at: SystemTime) -> Seen {
        self.overwrite(name, text);
        self.touch(name, at);
        Seen::of(&fs::metadata(self.path(name)).unwrap())
    }

    /// `mv from to`
    pub fn mv(&self, from: &str, to: &str) {
        fs::rename(self.path(from), self.path(to)).unwrap();
    }

    /// `rm name`
    pub fn rm(&self, name: &str) {
        fs::remove_file(self.path(name)).unwrap();
    }

    /// `cp from to`
    pub fn cp(&self, from: &str, to: &str) {
        fs::copy(self.path(from), self.path(to)).unwrap();
    }

    /// `touch -d "$at" name`
    pub fn touch(&self, name: &str, at: SystemTime) {
        let f = File::options().append(true).open(self.path(name)).unwrap();
        f.set_modified(at).unwrap();
    }
}
