//! Atomic replacement: a run's files are written into a temporary directory beside the
//! target and renamed into place, so a failed or interrupted run never leaves half a result
//! and never loses the previous one.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Problem, Result};
use crate::provenance::MANIFEST;

/// Prefixes of the temporary directories beside an output directory, followed by the pid of
/// the process that made them.
const NEW: &str = ".icb-impact-new-";
const OLD: &str = ".icb-impact-old-";

/// Removes temporary directories left in `parent` by a process that no longer runs (one that
/// was killed outright, so it could not clean up).
fn remove_abandoned(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(NEW).or_else(|| name.strip_prefix(OLD)) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
        if pid.is_some() && !alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Runs `write` on a fresh temporary directory beside `out`, then moves it to `out`. A
/// directory already at `out` is replaced only if it holds a previous run (a manifest) or
/// nothing at all.
pub fn replace_dir(out: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if out.exists() {
        let ours = out.join(MANIFEST).is_file();
        let empty = out.is_dir()
            && std::fs::read_dir(out)
                .map(|mut d| d.next().is_none())
                .unwrap_or(false);
        if !(ours || empty) {
            return Err(Error::input(
                out.display().to_string(),
                Problem::new(
                    None,
                    "--out",
                    "exists and does not hold a previous run (no manifest.json); choose another directory or remove it",
                ),
            ));
        }
    }
    std::fs::create_dir_all(&parent).map_err(|e| Error::io("cannot create", &parent, e))?;
    remove_abandoned(&parent);
    let tmp = tempfile::Builder::new()
        .prefix(&format!("{NEW}{}-", std::process::id()))
        .tempdir_in(&parent)
        .map_err(|e| Error::io("cannot create a temporary directory in", &parent, e))?;
    write(tmp.path())?;
    pause_before_rename();
    if crate::cancel::requested() {
        return Err(Error::Interrupted);
    }
    if out.exists() {
        // Move the previous run aside first: if the next rename fails it is still there.
        let old = tempfile::Builder::new()
            .prefix(&format!("{OLD}{}-", std::process::id()))
            .tempdir_in(&parent)
            .map_err(|e| Error::io("cannot create a temporary directory in", &parent, e))?;
        let aside = old.path().join("previous");
        std::fs::rename(out, &aside).map_err(|e| Error::io("cannot move aside", out, e))?;
        if let Err(e) = std::fs::rename(tmp.path(), out) {
            let _ = std::fs::rename(&aside, out);
            return Err(Error::io("cannot move the new results to", out, e));
        }
        // `old` is removed with the previous run when it drops.
    } else {
        std::fs::rename(tmp.path(), out)
            .map_err(|e| Error::io("cannot move the new results to", out, e))?;
    }
    // The temporary directory has been renamed away; forget it without deleting `out`.
    let _ = tmp.keep();
    Ok(())
}

/// A pause for the interruption tests (tests/it/robustness.rs), which need to signal a run
/// while it is writing: when `ICB_IMPACT_PAUSE_BEFORE_RENAME` names a file, [`replace_dir`]
/// creates that file once the new directory is fully written, then waits (at most a minute)
/// until cancellation is requested, before the new directory is moved into place.
fn pause_before_rename() {
    let Some(flag) = std::env::var_os("ICB_IMPACT_PAUSE_BEFORE_RENAME") else {
        return;
    };
    let _ = std::fs::write(flag, b"");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !crate::cancel::requested() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Writes one file (creating its directory) through a temporary file beside it and a rename,
/// so a reader never sees half of it.
pub fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| Error::io("cannot create a temporary file in", dir, e))?;
    tmp.write_all(bytes)
        .map_err(|e| Error::io("cannot write", path, e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("cannot write", path, e))?;
    tmp.persist(path)
        .map_err(|e| Error::io("cannot write", path, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_dir_refuses_a_directory_that_is_not_a_run() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("mine");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("thesis.docx"), b"precious").unwrap();
        let e = replace_dir(&out, |_| Ok(())).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(std::fs::read(out.join("thesis.docx")).unwrap(), b"precious");
    }

    #[test]
    fn a_failed_write_keeps_the_previous_run_and_leaves_no_temporary_directory() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("run");
        replace_dir(&out, |d| {
            std::fs::write(d.join(MANIFEST), b"first").map_err(|e| Error::io("w", d, e))
        })
        .unwrap();
        let e = replace_dir(&out, |d| {
            std::fs::write(d.join("half.csv"), b"half").unwrap();
            Err(Error::Output("disk full".into()))
        });
        assert!(e.is_err());
        assert_eq!(std::fs::read(out.join(MANIFEST)).unwrap(), b"first");
        assert!(!out.join("half.csv").exists());
        let leftovers: Vec<_> = std::fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("run")]);
    }

    #[test]
    fn a_successful_write_replaces_the_previous_run_whole() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("run");
        let write = |files: &'static [&'static str]| {
            replace_dir(&out, move |d| {
                for f in files {
                    std::fs::write(d.join(f), f.as_bytes()).map_err(|e| Error::io("w", d, e))?;
                }
                Ok(())
            })
        };
        write(&[MANIFEST, "old.csv"]).unwrap();
        write(&[MANIFEST, "new.csv"]).unwrap();
        assert!(out.join("new.csv").exists());
        assert!(!out.join("old.csv").exists());
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1);
    }
}
