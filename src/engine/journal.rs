//! Notes in a run's journal: what someone saw or decided, in their words.
//! One home for the console's `n` and `rerun --note`, so a note reads the
//! same in the journal and on the timeline whoever wrote it.

use anyhow::{Result, bail};

use super::store::{self, Store};

pub async fn add_note(store: &Store, run_id: i64, who: &str, text: &str) -> Result<()> {
    // A note is typed by a person: a pasted secret is masked like any other.
    let text = crate::config::redact::redact(text.trim());
    if text.is_empty() {
        bail!("an empty note says nothing: write what was seen or decided");
    }
    let mut tx = store.begin().await?;
    store::add_journal(&mut tx, who, "note", Some(run_id), &[], Some(&text)).await?;
    tx.commit().await?;
    Ok(())
}
