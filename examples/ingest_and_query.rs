//! Library use: ingest a COTAHIST file into a lake and query it with DataFusion.
//!
//! ```sh
//! cargo run --example ingest_and_query -- tests/data/COTAHIST_D04022022.TXT /tmp/lake
//! ```

use b3lake::ingest::{IngestOptions, ingest};
use b3lake::lake::Lake;
use b3lake::source;

#[tokio::main]
async fn main() -> b3lake::Result<()> {
    let mut args = std::env::args().skip(1);
    let file = args.next().unwrap_or_else(|| "tests/data/COTAHIST_D04022022.TXT".into());
    let location = args.next().unwrap_or_else(|| "./lake".into());

    let lake = Lake::open(&location).await?;
    let inputs = source::resolve(&[file.into()])?;
    let report = ingest(&lake, &inputs, &IngestOptions::default()).await?;
    println!("{report}");

    let session = b3lake::sql::session(&lake).await?;
    session
        .plan(
            "SELECT codigo_negociacao, preco_ultimo_negocio, volume_total_negociado FROM cotacoes_b3_raw \
         WHERE tipo_mercado = 10 ORDER BY volume_total_negociado DESC LIMIT 10",
        )
        .await?
        .show()
        .await?;
    Ok(())
}
