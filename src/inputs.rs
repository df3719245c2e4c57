//! What the command line names: log paths, `-` for stdin, and globs.
//!
//! A LOG_FILE holding `*`, `?` or `[` that names no file is a glob, which
//! logmon expands itself (it was quoted, so the shell did not): at start,
//! and again every few seconds while following, so that a new virtual
//! host's log is picked up. Matches are files (not directories), in the
//! glob's order (sorted by name).
//!
//! Each file is read once however many times it is named (by two globs,
//! a path and a glob, a symlink and its target): files are told apart by
//! identity (device and inode), never by name.

use std::collections::HashSet;
use std::fs;
use std::io::Read as _;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::follow::rotated_name;
use crate::reader::Compression;

/// One LOG_FILE as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Named {
    /// `-`: standard input.
    Stdin,
    /// A path, existing or not.
    Path(PathBuf),
    /// A pattern to expand, as given.
    Glob(String),
}

impl Named {
    /// What `arg` names: a glob if it holds a glob character, is valid
    /// UTF-8 and names no file itself (`access[1].log` may be a real name).
    pub fn of(arg: &Path) -> Named {
        if arg == Path::new("-") {
            return Named::Stdin;
        }
        match arg.to_str() {
            Some(s) if s.contains(['*', '?', '[']) && !arg.exists() => Named::Glob(s.to_owned()),
            _ => Named::Path(arg.to_path_buf()),
        }
    }
}

/// The files `pattern` matches now, in order. A bad pattern matches
/// nothing (it was checked at start: see [`check`]); unreadable
/// directories are passed over.
pub fn expand(pattern: &str) -> Vec<PathBuf> {
    let Ok(paths) = glob::glob(pattern) else {
        return Vec::new();
    };
    paths
        .filter_map(Result::ok)
        .filter(|p| p.metadata().is_ok_and(|m| !m.is_dir()))
        .collect()
}

/// Fails on a pattern that is not a valid glob, saying why.
pub fn check(pattern: &str) -> Result<()> {
    if let Err(e) = glob::Pattern::new(pattern) {
        bail!("{pattern} is not a valid glob: {}", e.msg);
    }
    Ok(())
}

/// A file's identity (device, inode), if it can be seen.
pub fn identity(path: &Path) -> Option<(u64, u64)> {
    fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// What a run reads, from its LOG_FILEs.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Paths named and files the globs matched, each file once, in the
    /// order given (a glob's matches in its order).
    pub paths: Vec<PathBuf>,
    /// For each of `paths`, whether it was named (rather than matched by a
    /// glob).
    pub explicit: Vec<bool>,
    /// The globs, as given.
    pub globs: Vec<String>,
    /// Whether `-` was given.
    pub stdin: bool,
}

impl Inputs {
    /// Resolve `args`: expand the globs, drop files named twice.
    pub fn resolve(args: &[PathBuf]) -> Result<Inputs> {
        let mut inputs = Inputs::default();
        let mut seen = HashSet::new();
        let mut add = |inputs: &mut Inputs, path: PathBuf, explicit: bool| {
            // A path that does not exist yet has no identity: it is kept
            // (to be waited for, or to fail to open).
            if identity(&path).is_none_or(|id| seen.insert(id)) && !inputs.paths.contains(&path) {
                inputs.paths.push(path);
                inputs.explicit.push(explicit);
            }
        };
        for arg in args {
            match Named::of(arg) {
                Named::Stdin => inputs.stdin = true,
                Named::Path(path) => add(&mut inputs, path, true),
                Named::Glob(pattern) => {
                    check(&pattern)?;
                    for path in expand(&pattern) {
                        add(&mut inputs, path, false);
                    }
                    inputs.globs.push(pattern);
                }
            }
        }
        if inputs.stdin && (args.len() > 1) {
            bail!("- (standard input) cannot be read with other files");
        }
        Ok(inputs)
    }

    /// Whether reports count each file's hits: more than one LOG_FILE, or
    /// any glob.
    pub fn per_file(&self, args: &[PathBuf]) -> bool {
        args.len() > 1 || !self.globs.is_empty()
    }
}

/// The compression of the file at `path`, from its first bytes (`None`
/// when it cannot be read: opening it reports that).
pub fn compression(path: &Path) -> Option<Compression> {
    let mut head = [0; 4];
    let n = fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .ok()?;
    Compression::of(&head[..n])
}

/// Whether the file at `path` is an archive (gzip or zstd).
pub fn is_archive(path: &Path) -> bool {
    compression(path).is_some()
}

/// Whether `path` is a rotated name (`access.log.1`, `access.log.2.gz`) of
/// one of `followed` in the same directory: that one's follower reads what
/// it needs of it when it rotates, so following it too would count lines
/// twice.
pub fn covered<'a>(path: &Path, mut followed: impl Iterator<Item = &'a Path>) -> bool {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return false;
    };
    followed.any(|f| {
        f != path
            && f.parent() == Some(dir)
            && f.file_name()
                .is_some_and(|base| rotated_name(base, name).is_some())
    })
}

/// A path as reports and messages print it: sanitized, as a file name
/// may hold anything.
pub fn display(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt as _;
    crate::text::sanitize(path.as_os_str().as_bytes()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_glob_character_makes_a_glob_only_when_no_file_has_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join("access[1].log");
        fs::write(&odd, "").unwrap();
        assert_eq!(Named::of(&odd), Named::Path(odd.clone()));
        let pattern = dir.path().join("*.log");
        assert_eq!(
            Named::of(&pattern),
            Named::Glob(pattern.to_str().unwrap().to_owned())
        );
        assert_eq!(Named::of(Path::new("-")), Named::Stdin);
        assert_eq!(
            Named::of(Path::new("no/such.log")),
            Named::Path("no/such.log".into())
        );
    }

    #[test]
    fn globs_expand_to_files_each_read_once() {
        // touch a.log b.log; ln -s a.log link.log; mkdir d.log
        let dir = tempfile::tempdir().unwrap();
        let at = |name: &str| dir.path().join(name);
        fs::write(at("a.log"), "").unwrap();
        fs::write(at("b.log"), "").unwrap();
        std::os::unix::fs::symlink(at("a.log"), at("link.log")).unwrap();
        fs::create_dir(at("d.log")).unwrap();
        let glob = at("*.log");
        let args = [at("b.log"), glob.clone(), at("missing.log")];
        let inputs = Inputs::resolve(&args).unwrap();
        assert_eq!(
            inputs.paths,
            [at("b.log"), at("a.log"), at("missing.log")],
            "b.log named twice, link.log is a.log, d.log a directory"
        );
        assert_eq!(inputs.globs, [glob.to_str().unwrap()]);
        assert!(inputs.per_file(&args));
        assert!(!Inputs::resolve(&[at("a.log")])
            .unwrap()
            .per_file(&[at("a.log")]));
    }

    #[test]
    fn rotated_names_of_a_followed_path_are_covered_by_it() {
        let followed = [Path::new("logs/access.log"), Path::new("logs/b.log")];
        let covered = |p: &str| covered(Path::new(p), followed.iter().copied());
        assert!(covered("logs/access.log.1"));
        assert!(covered("logs/access.log-20260301.gz"));
        assert!(!covered("logs/access.log"), "itself");
        assert!(!covered("other/access.log.1"), "another directory");
        assert!(!covered("logs/c.log"));
    }

    #[test]
    fn stdin_goes_alone_and_a_bad_glob_says_why() {
        let e = Inputs::resolve(&["-".into(), "a.log".into()]).unwrap_err();
        assert!(e.to_string().contains("standard input"), "{e}");
        let e = Inputs::resolve(&["logs/[a.log".into()]).unwrap_err();
        assert!(e.to_string().contains("not a valid glob"), "{e}");
    }
}
