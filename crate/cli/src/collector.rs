//! The access-event collector: an HTTP service that verifies signed access
//! events and stores each one once, in SQLite or PostgreSQL.

pub(crate) mod directory;
pub(crate) mod postgres;
pub(crate) mod server;
pub(crate) mod sqlite;
pub(crate) mod store;

use std::fmt;
use std::process::ExitCode;

/// A failed collector or events command: the message, hints for the person
/// and the exit code (1 verification failed or refused, 2 usage error or
/// malformed input, as for every command).
pub(crate) struct CommandError {
    message: String,
    hints: Vec<String>,
    exit_code: u8,
}

impl CommandError {
    /// Makes an error for bad arguments or malformed input (exit code 2).
    pub(crate) fn usage(message: impl Into<String>) -> CommandError {
        CommandError {
            message: message.into(),
            hints: Vec::new(),
            exit_code: 2,
        }
    }

    /// Makes an error for a failure at run time (exit code 1).
    pub(crate) fn failed(message: impl Into<String>) -> CommandError {
        CommandError {
            message: message.into(),
            hints: Vec::new(),
            exit_code: 1,
        }
    }

    /// Adds a `hint:` line.
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> CommandError {
        self.hints.push(hint.into());
        self
    }

    /// Prints the error and hints on stderr and returns the exit code.
    pub(crate) fn report(&self) -> ExitCode {
        eprintln!("error: {}", self.message);
        for hint in &self.hints {
            eprintln!("hint: {hint}");
        }
        ExitCode::from(self.exit_code)
    }
}

impl fmt::Debug for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
