//! `catalog sync` and `catalog pull`: the lake's catalog and AWS Glue's, one way or the other.

use std::path::PathBuf;

use anyhow::Context;
use b3lake::catalog::cloudformation;
use b3lake::catalog::sync::{self, Scope, SyncOptions};
use b3lake::catalog::{GlueCatalog, LocalCatalog};
use clap::Subcommand;

use super::{GlueArgs, LakeArg};

#[derive(Subcommand, Debug)]
pub enum CatalogAction {
    /// Make the Glue Data Catalog match the lake's catalog: tables and partitions.
    Sync {
        #[command(flatten)]
        lake: LakeArg,
        #[command(flatten)]
        glue: GlueArgs,
        /// Print the changes without making them.
        #[arg(long)]
        dry_run: bool,
        /// Compare every partition with Glue, not only the days changed since the last sync.
        #[arg(long)]
        full: bool,
        /// Give Glue the tables partitioned by day (raw, compact refined, summary) with
        /// partition projection, so Athena needs no partition sync for them again.
        #[arg(long)]
        projection: bool,
    },
    /// Read the table definitions of a Glue database into the lake's catalog (or --out).
    Pull {
        #[command(flatten)]
        lake: LakeArg,
        #[command(flatten)]
        glue: GlueArgs,
        /// Write one DDL file per table into this folder instead (e.g. catalog/).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the built-in tables (catalog/) as the Glue table resources of a CloudFormation
    /// template, or replace that block of a template (examples/aws/template.yaml).
    Cloudformation {
        /// The template whose generated block to replace.
        #[arg(long)]
        update: Option<PathBuf>,
    },
}

impl CatalogAction {
    pub async fn run(self) -> anyhow::Result<()> {
        match self {
            CatalogAction::Sync { lake, glue, dry_run, full, projection } => {
                let lake = lake.open().await?;
                let started = std::time::Instant::now();
                let local = LocalCatalog::new(&lake);
                let remote = GlueCatalog::for_lake(&local, &glue.database).await;
                let plan =
                    sync::sync_glue(&local, &remote, &Scope::All, SyncOptions { dry_run, full, projection }).await?;
                print!("{plan}");
                // Views go with their columns as a session plans them (the built-in ones have
                // none stored), after the tables they read.
                let session = b3lake::sql::session_in(&lake, Default::default(), &glue.database).await?;
                let mut views = Vec::new();
                for view in local.views().await?.into_values() {
                    views.push(session.resolve_view(&view.name, &view.original_sql).await?);
                }
                let view_changes = sync::sync_views(&views, &remote, dry_run).await?;
                print!("{view_changes}");
                let (added, updated, dropped) = plan.partition_counts();
                if dry_run {
                    println!("dry run: nothing changed");
                } else {
                    println!(
                        "synced in {:.1} s: {added} partitions added, {updated} updated, {dropped} dropped; {} Glue API calls",
                        started.elapsed().as_secs_f64(),
                        remote.calls()
                    );
                }
            }
            CatalogAction::Pull { lake, glue, out } => {
                let lake = lake.open().await?;
                let local = LocalCatalog::new(&lake);
                let remote = GlueCatalog::for_lake(&local, &glue.database).await;
                // Into the lake, definitions change under every writer: the whole lake's business.
                let pull = async |_: &b3lake::lake::Writer| {
                    let tables = sync::pull(&remote, &local, out.as_deref()).await?;
                    let views = sync::pull_views(&remote, &local, out.as_deref()).await?;
                    Ok::<_, b3lake::catalog::Error>((tables, views))
                };
                let (tables, views) = match out {
                    Some(_) => pull(&b3lake::catalog::writes::writer(&lake, "catalog pull").await?).await?,
                    None => {
                        let scope = b3lake::lake::Scope::Lake;
                        b3lake::catalog::writes::with_scope(&lake, "catalog pull", &scope, pull).await?
                    }
                };
                let to = out.map_or_else(|| format!("the catalog of {lake}"), |d| d.display().to_string());
                println!(
                    "pulled {} tables and {} views from the Glue database {} into {to}: {}",
                    tables.len(),
                    views.len(),
                    glue.database,
                    tables.iter().chain(&views).cloned().collect::<Vec<_>>().join(", ")
                );
            }
            CatalogAction::Cloudformation { update } => {
                let block = cloudformation::glue_tables(&b3lake::catalog::ddl::builtin())?;
                let Some(path) = update else {
                    print!("{block}");
                    return Ok(());
                };
                let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
                let (Some(begin), Some(end)) = (text.find(cloudformation::BEGIN), text.find(cloudformation::END))
                else {
                    anyhow::bail!("{}: no generated block (its BEGIN and END lines) to replace", path.display());
                };
                let end = end + cloudformation::END.len() + 1;
                let updated = format!("{}{block}{}", &text[..begin], &text[end.min(text.len())..]);
                std::fs::write(&path, updated).with_context(|| format!("writing {}", path.display()))?;
                println!("{}: Glue tables regenerated from catalog/", path.display());
            }
        }
        Ok(())
    }
}
