//! `bcss audit start-witness`: give an existing journal a witness, explicitly.

use std::path::PathBuf;
use std::process::ExitCode;

use bcss::audit::{FileJournal, Head};

use super::{DbArgs, Failure, JournalKeys, journal_config, runtime, usage};

/// `bcss audit start-witness`
#[derive(Debug, clap::Args)]
pub struct StartWitnessArgs {
    /// The journal directory, or its postgres:// URL.
    pub dir: PathBuf,
    /// The witness to start: a file (on another volume than the journal), or a
    /// postgres:// URL naming its schema. It must hold no head of this journal yet.
    #[arg(long, value_name = "FILE|URL")]
    pub witness: PathBuf,
    /// The journal's Ed25519 PKCS#8 PEM signing key, which signs the checkpoint and the
    /// witnessed head (give it whenever the journal has one).
    #[arg(long, value_name = "FILE")]
    pub signing_key: Option<PathBuf>,
    #[command(flatten)]
    pub db: DbArgs,
}

/// Open the journal with the witness started: its head goes to the witness and a
/// `witness_started` checkpoint into the chain.
pub(super) fn run(args: StartWitnessArgs) -> Result<ExitCode, Failure> {
    let keys = JournalKeys {
        signing_key: args.signing_key.clone(),
        witness: Some(args.witness.clone()),
        config: None,
        db: args.db.clone(),
    };
    if let Some(location) = super::pg::location(&args.dir, &args.db)? {
        let (started, head) = super::pg::start_witness(location, &keys)?;
        return Ok(report(&args.witness, started, head));
    }
    if !args.dir.is_dir() {
        return Err(usage(format!(
            "{} is not a journal directory",
            args.dir.display()
        )));
    }
    let mut config = journal_config(&args.dir, &keys)?;
    config.start_witness = true;
    let (started, head, reads) = runtime()?.block_on(async {
        let journal = FileJournal::open(config.clone()).await?;
        let started = journal.witness_started();
        let head = journal.head();
        journal.close().await?;
        // The reads chain beside it is anchored by the same witness: started with it.
        let reads = bcss::audit::start_reads_witness(&config).await?;
        Ok::<_, bcss::audit::AuditError>((started, head, reads))
    })?;
    let code = report(&args.witness, started, head);
    if reads {
        outln!(
            "and on its reads chain ({}/reads), by its own witness_started checkpoint",
            args.dir.display()
        );
    }
    Ok(code)
}

/// What starting the witness did, on standard output.
fn report(witness: &std::path::Path, started: bool, head: Option<Head>) -> ExitCode {
    let witness = witness.display();
    match (started, head) {
        // The witness holds the head the checkpoint covers: the record before it.
        (true, Some(head)) => outln!(
            "witness {witness} started: it holds the head at sequence {}, and the witness_started checkpoint at sequence {} records that in the chain; records up to sequence {} are anchored by the chain alone",
            head.sequence.saturating_sub(1),
            head.sequence,
            head.sequence.saturating_sub(1)
        ),
        _ => outln!("witness {witness} already holds heads of this journal: nothing to start"),
    }
    ExitCode::SUCCESS
}
