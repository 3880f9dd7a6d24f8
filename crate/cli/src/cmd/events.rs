//! `valise events report`: shows originators what happened to their
//! packages, from a collector's database.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use clap::{Args, Subcommand, ValueEnum};

use crate::cmd::CliError;
use crate::collector::store::{Database, EventFilter, Store, StoredEvent, MAX_QUERY_ROWS};
use crate::terminal::{out, outln};

/// Arguments of `valise events`.
#[derive(Args)]
pub(crate) struct EventsArgs {
    #[command(subcommand)]
    command: EventsCommand,
}

#[derive(Subcommand)]
enum EventsCommand {
    /// List who opened, was refused, printed or tried to, and when.
    Report(ReportArgs),
    /// Send the access events this reader queued while collectors were unreachable.
    Send,
}

#[derive(Args)]
struct ReportArgs {
    /// Collector database: sqlite:PATH or a postgres:// URL.
    #[arg(long, value_name = "DATABASE", env = "VALISE_COLLECTOR_DB")]
    db: String,

    /// Only events about this package (its policy uuid).
    #[arg(long, value_name = "ID")]
    package: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    format: ReportFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    /// Tables for people.
    Table,
    /// One JSON object per event, one per line.
    Json,
}

/// Runs `valise events`.
pub(crate) fn run(args: EventsArgs) -> Result<(), CliError> {
    match args.command {
        EventsCommand::Report(args) => report(args),
        EventsCommand::Send => send(),
    }
}

/// Sends the outbox of `$VALISE_HOME` and prints how many events remain queued.
///
/// # Errors
///
/// When a collector rejected events (they are in `outbox/rejected/`), or
/// events remain queued after a failure; the exit status is then 1.
fn send() -> Result<(), CliError> {
    let home = crate::outbox::valise_home()?;
    let delivery = crate::outbox::deliver(&home);
    outln!("sent {} access events, {} rejected by the collector, {} still queued", delivery.sent, delivery.rejected, delivery.queued);
    let outbox = home.join("outbox");
    if delivery.rejected > 0 {
        let rejected = outbox.join("rejected");
        let mut error = CliError::refused(format!(
            "the collector rejected {} access events, which were moved to {} and are not sent again",
            delivery.rejected,
            rejected.display()
        ))
        .hint("the warnings above give the collector's reason for each batch")
        .hint(format!(
            "once the cause is fixed (for example the collector's trust list), move the files back to {} and run `valise events send` again",
            outbox.display()
        ));
        if delivery.queued > 0 {
            error = error.hint(format!("{} other access events are still queued in {}", delivery.queued, outbox.display()));
        }
        return Err(error);
    }
    match delivery.last_error {
        Some(error) if delivery.queued > 0 => Err(CliError::refused(format!("{} access events could not be sent: {error}", delivery.queued))
            .hint("run `valise events send` again when the collector is reachable")),
        _ => Ok(()),
    }
}

fn report(args: ReportArgs) -> Result<(), CliError> {
    let database = Database::parse(&args.db)?;
    if let Database::Sqlite(path) = &database {
        if !path.exists() {
            return Err(CliError::usage(format!("no database at {database}")).hint("pass the --db the collector was started with"));
        }
    }
    let filter = EventFilter { package: args.package.clone(), source: None, limit: None };
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| CliError::refused(format!("cannot start the async runtime: {e}")))?;
    let events = runtime
        .block_on(async {
            let store = Store::open(&database).await?;
            store.query(&filter).await
        })
        .map_err(|e| CliError::refused(format!("cannot read the database {database}: {e}")))?;

    match args.format {
        ReportFormat::Json => {
            for event in &events {
                let line = serde_json::to_string(event).map_err(|e| CliError::refused(format!("cannot write JSON: {e}")))?;
                crate::terminal::write_stdout(&format!("{}\n", crate::terminal::escape_json(&line)));
            }
        }
        ReportFormat::Table => out!("{}", render_report(&events, args.package.as_deref())),
    }
    Ok(())
}

/// Per-reader tallies for the summary table.
#[derive(Default)]
struct ReaderSummary {
    opened: usize,
    denied: usize,
    printed: usize,
    print_blocked: usize,
    other: usize,
    reasons: BTreeMap<String, usize>,
    last: String,
}

/// Renders the event table, the per-reader summary and the chain warnings.
fn render_report(events: &[StoredEvent], package: Option<&str>) -> String {
    let mut out = String::new();
    let scope = package.map_or_else(|| "all packages".to_owned(), |id| format!("package {}", crate::terminal::escape(id)));
    if events.is_empty() {
        let _ = writeln!(out, "No access events for {scope}.");
        return out;
    }
    let _ = writeln!(out, "Access events for {scope}: {} events", events.len());
    if events.len() >= MAX_QUERY_ROWS {
        let _ = writeln!(out, "(only the first {MAX_QUERY_ROWS} are shown; pass --package to narrow)");
    }
    out.push('\n');

    let mut rows = vec![[
        "TIME (UTC)".to_owned(),
        "PACKAGE".to_owned(),
        "READER".to_owned(),
        "EVENT".to_owned(),
        "DECISION".to_owned(),
        "REASONS".to_owned(),
        "CHAIN".to_owned(),
    ]];
    let mut readers: BTreeMap<String, ReaderSummary> = BTreeMap::new();
    let mut flagged = Vec::new();
    for event in events {
        let reader = format!("{}/{}", event.reader_org, event.reader_person);
        rows.push([
            event.time.get(..19).unwrap_or(&event.time).replace('T', " "),
            event.subject.clone(),
            reader.clone(),
            event.kind.clone(),
            event.decision.clone(),
            event.reasons.join(", "),
            event.chain.clone(),
        ]);
        if matches!(event.chain.as_str(), "gap" | "broken" | "fork") {
            flagged.push(event);
        }
        let summary = readers.entry(reader).or_default();
        match event.kind.as_str() {
            "opened" => summary.opened += 1,
            "denied" | "expired" => summary.denied += 1,
            "printed" => summary.printed += 1,
            "print_blocked" => summary.print_blocked += 1,
            _ => summary.other += 1,
        }
        for reason in &event.reasons {
            *summary.reasons.entry(reason.clone()).or_default() += 1;
        }
        summary.last.clone_from(&event.time);
    }
    write_table(&mut out, &rows);

    out.push_str("\nBy reader\n\n");
    let mut summary_rows = vec![[
        "READER".to_owned(),
        "OPENED".to_owned(),
        "REFUSED".to_owned(),
        "PRINTED".to_owned(),
        "PRINT BLOCKED".to_owned(),
        "OTHER".to_owned(),
        "REFUSAL REASONS".to_owned(),
        "LAST EVENT (UTC)".to_owned(),
    ]];
    for (reader, summary) in &readers {
        let reasons: Vec<String> = summary.reasons.iter().map(|(code, count)| format!("{code} x{count}")).collect();
        summary_rows.push([
            reader.clone(),
            summary.opened.to_string(),
            summary.denied.to_string(),
            summary.printed.to_string(),
            summary.print_blocked.to_string(),
            summary.other.to_string(),
            reasons.join(", "),
            summary.last.get(..19).unwrap_or(&summary.last).replace('T', " "),
        ]);
    }
    write_table(&mut out, &summary_rows);

    if !flagged.is_empty() {
        let _ = writeln!(
            out,
            "\nWarning: {} events have a broken chain (gap: an earlier event of that reader is missing; \
             broken: it does not follow the stored one; fork: two events share a sequence number):",
            flagged.len()
        );
        for event in flagged {
            let (source, id) = (crate::terminal::escape(&event.source), crate::terminal::escape(&event.id));
            let _ = writeln!(out, "  {source} seq {} {id} ({})", event.seq, event.chain);
        }
    }
    out
}

/// Writes rows as left-aligned columns separated by two spaces. Cells are
/// escaped for the terminal before the widths are measured, so a cell with
/// a control character keeps its columns aligned.
fn write_table<const N: usize>(out: &mut String, rows: &[[String; N]]) {
    let rows: Vec<[String; N]> = rows.iter().map(|row| row.clone().map(|cell| crate::terminal::escape(&cell).into_owned())).collect();
    let mut widths = [0usize; N];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in &rows {
        let mut line = String::new();
        for (index, (cell, width)) in row.iter().zip(widths).enumerate() {
            if index + 1 == N {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<width$}  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, person: &str, reasons: &[&str], chain: &str) -> StoredEvent {
        StoredEvent {
            id: format!("id-{kind}-{person}"),
            source: format!("valise://fincert/acme/{person}/cli-1"),
            seq: 1,
            kind: kind.into(),
            time: "2026-12-04T20:15:00.000000Z".into(),
            subject: "pkg-1".into(),
            reader_org: "acme".into(),
            reader_person: person.into(),
            decision: if reasons.is_empty() { "permit" } else { "deny" }.into(),
            reasons: reasons.iter().map(|r| (*r).to_owned()).collect(),
            chain: chain.into(),
            received: "2026-12-04T20:15:01.000000Z".into(),
            event: serde_json::Value::Null,
        }
    }

    #[test]
    fn report_escapes_bidi_reader_names() {
        let events = vec![event("opened", "alice", &[], "first"), event("denied", "eve\u{202e}ecila", &["not_recipient"], "first")];
        let text = render_report(&events, None);
        assert!(text.contains("acme/eve\\u{202e}ecila"), "{text}");
        assert!(!text.contains('\u{202e}'), "{text}");

        // The escape is measured with its cell, so the next column stays aligned.
        let lines: Vec<&str> = text.lines().filter(|line| line.contains("acme/")).take(2).collect();
        let event_column = |line: &str| line.find("opened").or_else(|| line.find("denied")).expect("an event kind");
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(event_column(lines[0]), event_column(lines[1]), "{text}");
    }

    #[test]
    fn report_lists_events_and_readers() {
        let events = vec![
            event("opened", "alice", &[], "first"),
            event("print_blocked", "alice", &["print_not_allowed"], "linked"),
            event("denied", "bob", &["not_recipient"], "gap"),
        ];
        let text = render_report(&events, Some("pkg-1"));
        assert!(text.contains("Access events for package pkg-1: 3 events"), "{text}");
        assert!(text.contains("2026-12-04 20:15:00  pkg-1"), "{text}");
        assert!(text.contains("acme/bob"), "{text}");
        assert!(text.contains("not_recipient x1"), "{text}");
        assert!(text.contains("1 events have a broken chain"), "{text}");
        let alice = text.lines().find(|l| l.starts_with("acme/alice")).expect("a summary row for alice");
        let columns: Vec<&str> = alice.split_whitespace().collect();
        assert_eq!(&columns[1..6], ["1", "0", "0", "1", "0"], "{alice}");
    }

    #[test]
    fn report_of_nothing() {
        assert_eq!(render_report(&[], None), "No access events for all packages.\n");
    }
}
