//! Removal of temporary output files when SIGINT, SIGTERM or SIGHUP ends
//! the process.
//!
//! A temporary output file of `valise open` contains plaintext that is not
//! verified yet. `Drop` removes it on every normal return, but a signal ends
//! the process without running destructors. So each temporary file is
//! listed here while it exists, and the first [`Registered`] starts a thread
//! that waits for those signals. On one, the thread removes every listed
//! file and ends the process by the same signal, so a shell reports status
//! 130, 143 or 129 as for any interrupted program.
//!
//! SIGKILL cannot be caught, so it still leaves the files (see
//! `PendingOutput` in `cmd.rs`).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once, PoisonError};

/// Temporary files to remove if a signal ends the process.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Starts the signal thread once.
static START: Once = Once::new();

/// A temporary file listed for removal on SIGINT, SIGTERM or SIGHUP until
/// this guard is dropped. Dropping it leaves the file itself alone.
pub(crate) struct Registered(PathBuf);

impl Registered {
    /// Lists `path` for removal, starting the signal thread on first use.
    pub(crate) fn new(path: &Path) -> Registered {
        START.call_once(start);
        PENDING.lock().unwrap_or_else(PoisonError::into_inner).push(path.to_owned());
        Registered(path.to_owned())
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut pending = PENDING.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(index) = pending.iter().position(|path| *path == self.0) {
            pending.swap_remove(index);
        }
    }
}

#[cfg(unix)]
fn start() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    use signal_hook::iterator::Signals;

    let mut signals = match Signals::new([SIGINT, SIGTERM, SIGHUP]) {
        Ok(signals) => signals,
        Err(error) => {
            tracing::warn!(%error, "cannot handle SIGINT, SIGTERM and SIGHUP: an interrupted command may leave a temporary file");
            return;
        }
    };
    let spawned = std::thread::Builder::new().name("valise-signals".into()).spawn(move || {
        if let Some(signal) = signals.forever().next() {
            // The lock is held until the process ends, so no new file is
            // listed while the listed ones are removed.
            let pending = PENDING.lock().unwrap_or_else(PoisonError::into_inner);
            for path in pending.iter() {
                let _ = std::fs::remove_file(path);
            }
            let _ = signal_hook::low_level::emulate_default_handler(signal);
            std::process::exit(128 + signal);
        }
    });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot start the signal thread: an interrupted command may leave a temporary file");
    }
}

#[cfg(not(unix))]
fn start() {}
