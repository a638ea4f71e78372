//! `switchyard state …`: the state store itself (moving it to another backend).

use anyhow::Result;

use super::{Cli, exit};
use crate::config::StateLocation;
use crate::engine::lease::lease_is_live;
use crate::engine::store::Store;

/// `state copy --to URL|PATH`: copies the workspace's store (as
/// `SWITCHYARD_STATE` or `[workspace] state` names it) into an empty one.
pub async fn copy(cli: &Cli, to: &str) -> Result<u8> {
    let file = crate::config::find_workspace(cli.config.as_deref())?;
    let ws = crate::config::load(&file).map_err(|e| exit(2, e.to_string()))?;
    let from = ws.state_location();
    let cwd = std::env::current_dir()?;
    let to = StateLocation::parse(to, |p| cwd.join(p));
    if from == to {
        return Err(exit(
            2,
            format!("state copy: {} is the store being copied", to.describe()),
        ));
    }
    let src = Store::open_readonly(&from).await?;
    // A run executing now would go on writing into the old store only.
    let now = src.clock().await?;
    let live: Vec<String> = src
        .owned_runs()
        .await?
        .into_iter()
        .filter(|r| r.owner.as_ref().is_some_and(|l| lease_is_live(l, now)))
        .map(|r| format!("run {} ({})", r.id, r.pipeline))
        .collect();
    if !live.is_empty() {
        return Err(exit(
            2,
            format!(
                "state copy: {} is executed by a live process now: let it finish or cancel it, \
                 and stop `serve`, before copying",
                live.join(", ")
            ),
        ));
    }
    let dst = Store::open(&to).await?;
    let copied = src.copy_into(&dst).await?;
    let total: u64 = copied.iter().map(|(_, n)| n).sum();
    println!(
        "copied {total} rows from {} to {}:",
        from.describe(),
        to.describe()
    );
    for (table, n) in &copied {
        println!("  {table:<15} {n:>9}");
    }
    println!(
        "now point every host at it: `[workspace] state = \"…\"` or SWITCHYARD_STATE; \
         the old store is left as it was"
    );
    Ok(0)
}
