//! The reader's state file: per community, the pinned root key fingerprint,
//! the highest trust list version seen and the latest time seen.
//!
//! The file is `$VALISE_HOME/state.json`, or `~/.valise/state.json` when
//! `VALISE_HOME` is unset. It is JSON:
//!
//! ```json
//! { "communities": { "https://cert.example/community": {
//!     "rootFingerprint": "…", "highestVersion": 3, "lastSeen": "2026-12-04T20:00:00Z" } } }
//! ```
//!
//! The highest version lets the decision point refuse a rolled-back trust
//! list, and the latest time lets it notice a clock set back to reopen an
//! expired package. The file is a local record, not a security boundary: a
//! user who edits it defeats both checks on their own machine.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::cmd::CliError;

/// Maximum size of the state file, checked before parsing.
const MAX_STATE_BYTES: u64 = 1024 * 1024;

/// What the CLI remembers about one community.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct CommunityState {
    /// Pinned RFC 7638 thumbprint of the community root key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) root_fingerprint: Option<String>,
    /// Highest trust list version seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) highest_version: Option<u64>,
    /// Latest time seen.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    pub(crate) last_seen: Option<OffsetDateTime>,
}

/// The whole state file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct State {
    /// Per community id.
    #[serde(default)]
    pub(crate) communities: BTreeMap<String, CommunityState>,
}

/// Returns the state file path.
pub(crate) fn state_path() -> Result<PathBuf, CliError> {
    if let Some(home) = std::env::var_os("VALISE_HOME") {
        return Ok(PathBuf::from(home).join("state.json"));
    }
    let home = std::env::var_os("HOME").ok_or_else(|| {
        CliError::usage("cannot find the state file: neither VALISE_HOME nor HOME is set")
            .hint("set VALISE_HOME to a folder where valise may keep its state")
    })?;
    Ok(PathBuf::from(home).join(".valise").join("state.json"))
}

impl State {
    /// Loads the state file, or an empty state when it does not exist.
    pub(crate) fn load() -> Result<State, CliError> {
        let path = state_path()?;
        let metadata = match std::fs::metadata(&path) {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(State::default()),
            Err(error) => return Err(CliError::usage(format!("cannot read {}: {error}", path.display()))),
        };
        if metadata.len() > MAX_STATE_BYTES {
            return Err(CliError::usage(format!(
                "state file {} is {} bytes, more than the maximum of {MAX_STATE_BYTES}",
                path.display(),
                metadata.len()
            )));
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|error| CliError::usage(format!("cannot read {}: {error}", path.display())))?;
        serde_json::from_str(&text).map_err(|error| {
            CliError::usage(format!("state file {} is invalid: {error}", path.display()))
                .hint("fix or delete the file; deleting it forgets the pinned root keys and versions seen")
        })
    }

    /// Writes the state file through a temporary file renamed into place.
    pub(crate) fn save(&self) -> Result<(), CliError> {
        let path = state_path()?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|error| CliError::usage(format!("cannot create {}: {error}", parent.display())))?;
        }
        let text = serde_json::to_string_pretty(self)
            .map_err(|error| CliError::usage(format!("cannot encode the state: {error}")))?;
        crate::key_files::write_atomically(&path, text.as_bytes())
    }

    /// Returns the state of a community, creating an empty one.
    pub(crate) fn community(&mut self, id: &str) -> &mut CommunityState {
        self.communities.entry(id.to_owned()).or_default()
    }

    /// Records a verified trust list version and the current time.
    pub(crate) fn record(&mut self, community: &str, version: u64, now: OffsetDateTime) {
        let entry = self.community(community);
        entry.highest_version = Some(entry.highest_version.map_or(version, |seen| seen.max(version)));
        entry.last_seen = Some(entry.last_seen.map_or(now, |seen| seen.max(now)));
    }
}
