//! Errors: problems in what the user gave us (file, line, field, what is wrong) and
//! failures of everything else. Only the CLI turns them into exit codes.

use std::fmt;
use std::path::{Path, PathBuf};

/// One thing wrong with one field of one input file.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// 1-based line in the file, where the format gives one.
    pub line: Option<usize>,
    /// Dotted path of the field (`actions.cap.factors.uptake.min`) or a column name.
    pub field: String,
    pub message: String,
}

impl Problem {
    pub fn new(line: Option<usize>, field: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            line,
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every problem found in one input file, reported together so a user fixes them in one pass.
#[derive(Debug, Clone, PartialEq)]
pub struct FileProblems {
    /// The file as the user named it (or `embedded:data/icbs.csv`).
    pub file: String,
    pub problems: Vec<Problem>,
}

impl FileProblems {
    /// Adds `file`'s problems to `all`, unless it has none.
    pub fn add(all: &mut Vec<FileProblems>, file: &Path, problems: Vec<Problem>) {
        if !problems.is_empty() {
            all.push(FileProblems {
                file: file.display().to_string(),
                problems,
            });
        }
    }
}

impl fmt::Display for FileProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, p) in self.problems.iter().enumerate() {
            if k > 0 {
                writeln!(f)?;
            }
            match p.line {
                Some(line) => write!(f, "{}:{}: {}: {}", self.file, line, p.field, p.message)?,
                None => write!(f, "{}: {}: {}", self.file, p.field, p.message)?,
            }
        }
        Ok(())
    }
}

/// Everything that can stop a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario, the data or the command line is wrong: the user can fix it (exit 2).
    #[error("{}", display_input(.0))]
    Input(Vec<FileProblems>),
    /// A file could not be read or written (exit 1).
    #[error("{context} {}: {source}", path.display())]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A table or chart library failed (exit 1).
    #[error("{0}")]
    Output(String),
    /// Ctrl-C or SIGTERM stopped the run; nothing was written (exit 130).
    #[error("interrupted: nothing was written and any previous results are as they were")]
    Interrupted,
}

fn display_input(files: &[FileProblems]) -> String {
    let count: usize = files.iter().map(|f| f.problems.len()).sum();
    let mut text = files
        .iter()
        .map(|f| f.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    if count > 1 {
        text.push_str(&format!("\n{count} problems found"));
    }
    text
}

impl Error {
    /// A single problem with one file.
    pub fn input(file: impl Into<String>, problem: Problem) -> Self {
        Error::Input(vec![FileProblems {
            file: file.into(),
            problems: vec![problem],
        }])
    }

    pub fn io(context: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            context,
            path: path.into(),
            source,
        }
    }

    /// 2 for bad input, 130 when interrupted (as a shell reports Ctrl-C), 1 for any other
    /// failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Input(_) => 2,
            Error::Interrupted => 130,
            Error::Io { .. } | Error::Output(_) => 1,
        }
    }
}

/// The problems of one input file.
impl From<FileProblems> for Error {
    fn from(problems: FileProblems) -> Self {
        Error::Input(vec![problems])
    }
}

impl From<polars::error::PolarsError> for Error {
    fn from(e: polars::error::PolarsError) -> Self {
        Error::Output(format!("table: {e}"))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_print_file_line_field_and_message() {
        let e = Error::Input(vec![FileProblems {
            file: "s.toml".into(),
            problems: vec![
                Problem::new(Some(12), "actions.cap.factors.uptake", "min 0.7 > max 0.4"),
                Problem::new(None, "scenario", "missing"),
            ],
        }]);
        assert_eq!(
            e.to_string(),
            "s.toml:12: actions.cap.factors.uptake: min 0.7 > max 0.4\ns.toml: scenario: missing\n2 problems found"
        );
        assert_eq!(e.exit_code(), 2);
    }
}
